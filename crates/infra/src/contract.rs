//! The contract every resource kind fulfils, in its own file under `resources/`: what it
//! refers to, how it is observed, its typed change, and how that change is applied and the
//! resource deleted. The registry (`resources/mod.rs`) lists the kinds and dispatches over
//! them; nothing else needs to know a kind exists.
//!
//! The model is kube's finalizer contract: `create`, `update` and `delete` are each safe to
//! repeat, and `delete` copes with a `create` that never finished ("not found" is success).

use std::fmt;
use std::future::Future;

use serde::Serialize;

use crate::change::{Describe, Diff};
use crate::context::Context;
use crate::error::Result;
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

/// One observation of the stack: the context, and reads that several kinds share (the
/// stack's load balancers, its ECS clusters), made once per observation by the helpers in
/// [`crate::aws`].
#[derive(Debug)]
pub struct Scope<'a> {
    pub ctx: &'a Context,
    pub(crate) load_balancers:
        tokio::sync::OnceCell<Vec<aws_sdk_elasticloadbalancingv2::types::LoadBalancer>>,
    pub(crate) clusters: tokio::sync::OnceCell<Vec<aws_sdk_ecs::types::Cluster>>,
    pub(crate) listeners:
        tokio::sync::OnceCell<Vec<aws_sdk_elasticloadbalancingv2::types::Listener>>,
    /// Tags from the Resource Groups Tagging API, by ARN ([`crate::aws::tagging`]).
    /// `None` when the API could not answer.
    pub(crate) tagged: tokio::sync::OnceCell<Option<std::collections::HashMap<String, Tags>>>,
    /// The stack's ACM certificates ([`crate::aws::acm::of_stack`]).
    pub(crate) certificates: tokio::sync::OnceCell<Vec<crate::aws::certificates::Certificate>>,
    /// Domains' hosted zones, `(id, name)` by domain ([`crate::aws::route53::zone_in`]).
    pub(crate) zones: tokio::sync::Mutex<std::collections::HashMap<String, (String, String)>>,
}

impl<'a> Scope<'a> {
    pub fn new(ctx: &'a Context) -> Self {
        Self {
            ctx,
            load_balancers: tokio::sync::OnceCell::new(),
            clusters: tokio::sync::OnceCell::new(),
            listeners: tokio::sync::OnceCell::new(),
            tagged: tokio::sync::OnceCell::new(),
            certificates: tokio::sync::OnceCell::new(),
            zones: tokio::sync::Mutex::default(),
        }
    }

    /// The stack being observed.
    pub fn stack(&self) -> &str {
        &self.ctx.stack
    }
}

/// Hears what a long step waits for (shown as progress); must be cheap and never block.
pub type Wait<'a> = &'a (dyn Fn(String) + Send + Sync);

/// A resource as found in AWS: its identifiers, tags and AWS's own state word, and what was
/// read of it (`detail`: the kind's own state type, or the registry's `Detail` enum).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Found<S> {
    /// Logical id: the value of its `stackctl:id` tag.
    pub id: ResourceId,
    /// Serialized as the resource's kind (see the registry's `Detail`).
    #[serde(rename = "kind")]
    pub detail: S,
    /// The AWS identifier: `vpc-…`, a queue URL, a role name, an ARN …
    pub aws_id: String,
    pub arn: Option<String>,
    /// AWS's own state word where it has one (`available`, `pending`, …).
    pub state: String,
    pub tags: Tags,
}

impl<S> Found<S> {
    /// True when `id` (as another resource reports using it) is this resource's AWS id or ARN.
    pub fn is_named(&self, id: &str) -> bool {
        self.aws_id == id || self.arn.as_deref() == Some(id)
    }

    /// The same resource with another view of its detail.
    pub fn with<T>(&self, detail: T) -> Found<T> {
        Found {
            id: self.id.clone(),
            detail,
            aws_id: self.aws_id.clone(),
            arn: self.arn.clone(),
            state: self.state.clone(),
            tags: self.tags.clone(),
        }
    }
}

/// A desired resource of one kind, handed to that kind's `observe`.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a, R> {
    pub id: &'a ResourceId,
    pub spec: &'a R,
}

/// What `create` gets besides the desired attributes.
#[derive(Clone, Copy)]
pub struct New<'a> {
    pub id: &'a ResourceId,
    pub tags: &'a Tags,
    /// Outputs of the resources this one depends on (all done by now).
    pub refs: &'a Outputs,
    pub wait: Wait<'a>,
    /// The same for every attempt of this run to create this resource: the idempotency
    /// token of the APIs that take one (`ClientToken`, ECS's `clientToken`).
    pub token: &'a str,
}

impl fmt::Debug for New<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("New").field("id", &self.id).finish()
    }
}

/// Which tags a kind carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagging {
    /// None: found another way (an image, by its content-derived tag).
    None,
    /// `stackctl:stack`, `stackctl:id`, and the stack's own tags.
    Stack,
    /// Those and a `Name` (`<stack>-<id>`), which the EC2 console shows.
    StackAndName,
}

/// What [`Resource::observe`] finds of kind `K`.
pub type Findings<K> = Result<Vec<Found<<K as Resource>::State>>>;

/// One resource kind: everything stackctl knows about it.
pub trait Resource: Sized + Clone + PartialEq + fmt::Debug + Send + Sync {
    /// What is read back from AWS and compared with `Self`.
    type State: Clone + PartialEq + fmt::Debug + Send + Sync;
    /// One attribute an update brings back in line, applied exactly as the plan showed it.
    type Field: Describe + Clone + PartialEq + fmt::Debug + Send + Sync;

    /// How people call it: "VPC", "SQS queue" …
    const LABEL: &'static str;

    const TAGGING: Tagging = Tagging::Stack;

    /// True for kinds that work some time after they exist (a load balancer becomes active,
    /// a NAT gateway available, a service's rollout completes): [`Resource::ready`] waits
    /// for it, as a step of its own that runs alongside the rest of the graph.
    const WAITS: bool = false;

    /// What `up` waits for once it is made, as the plan says it before (`None`: nothing the
    /// user would wait minutes for, or said elsewhere).
    const WAITS_FOR: Option<&'static str> = None;

    /// True for kinds of which a replacement can exist next to the old resource (a target
    /// group under a new name): the replacement is created first, what uses the old one is
    /// moved to it, and the old one is deleted last. Other kinds are deleted first.
    const CREATE_FIRST: bool = false;

    /// Logical ids this resource refers to: they exist before it does.
    fn refs(&self) -> Vec<&ResourceId>;

    /// Of those, the ones whose replacement forces this one's (a subnet cannot move VPC).
    fn binding(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    /// Every resource of this kind in the stack: the `wanted` ones and any other that carries
    /// the stack's tag (left over from an earlier file, or a duplicate).
    fn observe(
        scope: &Scope<'_>,
        wanted: &[Wanted<'_, Self>],
    ) -> impl Future<Output = Findings<Self>> + Send;

    /// The typed difference between `self` and what AWS has (pure).
    fn diff(&self, found: &Self::State, refs: &Outputs) -> Diff<Self::Field>;

    fn create(&self, ctx: &Context, new: New<'_>) -> impl Future<Output = Result<Output>> + Send;

    /// Applies exactly `fields`; nothing else is changed. By default each field is
    /// [`Resource::apply`]d in turn; kinds whose fields go out in one call (or that get a new
    /// identity, like a task definition's revision) write their own.
    fn update(
        &self,
        ctx: &Context,
        found: &Found<Self::State>,
        fields: &[Self::Field],
        refs: &Outputs,
        _wait: Wait<'_>,
    ) -> impl Future<Output = Result<Output>> + Send {
        async move {
            for field in fields {
                self.apply(ctx, found, field, refs).await?;
            }
            Ok(Self::output(found))
        }
    }

    /// Applies one field change in place. Kinds without fields ([`crate::change::NoField`])
    /// never get here; any other kind either writes this or its own `update`, and its unit
    /// tests (each field → the right calls) fail loudly on this default.
    fn apply(
        &self,
        _ctx: &Context,
        found: &Found<Self::State>,
        field: &Self::Field,
        _refs: &Outputs,
    ) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(Err(crate::error::Error::Unexpected {
            resource: found.id.clone(),
            message: format!("a {} cannot apply {field:?} in place", Self::LABEL),
        }))
    }

    /// True when applying `fields` gives the resource new identifiers (a task definition's
    /// new revision), so what refers to it is updated too.
    fn new_id_on_update(_fields: &[Self::Field]) -> bool {
        false
    }

    /// What is still under way before a resource found in AWS works (`None` once it does):
    /// one an earlier run left provisioning, or a rollout it did not see through, is a change
    /// of the plan, and `up` waits for it.
    fn unready(_found: &Found<Self::State>) -> Option<String> {
        None
    }

    /// What deleting it takes besides the delete, for the plan to say before it is done (a
    /// bucket is emptied first); `None` for most kinds.
    fn deleting(_found: &Found<Self::State>) -> Option<String> {
        None
    }

    /// Waits until the resource created or updated as `output` works. Dependents that need
    /// it working (not merely created) start after this.
    fn ready(
        &self,
        _ctx: &Context,
        _id: &ResourceId,
        _output: &Output,
        _refs: &Outputs,
        _wait: Wait<'_>,
    ) -> impl Future<Output = Result<()>> + Send {
        std::future::ready(Ok(()))
    }

    /// Puts back managed tags that are missing or wrong.
    fn retag(
        ctx: &Context,
        found: &Found<Self::State>,
        tags: &Tags,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes the resource; "already gone" is success.
    fn delete(
        ctx: &Context,
        found: &Found<Self::State>,
        wait: Wait<'_>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The AWS ids and ARNs this resource uses, as AWS reports them: it is deleted before
    /// any of them.
    fn uses(found: &Found<Self::State>) -> Vec<String>;

    /// What dependents and users get of an existing resource.
    fn output(found: &Found<Self::State>) -> Output {
        Output {
            aws_id: found.aws_id.clone(),
            arn: found.arn.clone(),
            url: None,
        }
    }
}
