//! The resource kinds a stack is made of, one file each, and the single `match` that
//! dispatches over them (an enum, not trait objects, so every kind is visible here).
//!
//! Each kind knows how to **observe** itself (found by the stack's tags, or by its
//! stack-derived name and then checked against the tags), how to **diff** desired against
//! observed (pure), and how to **create**, **update** and **delete** itself. Deletes treat
//! "not found" as success, so they are safe to repeat and cope with a create that never ran.

pub mod cluster;
pub mod ec2;
pub mod ecr;
pub mod elb;
pub mod iam;
pub mod image;
pub mod internet_gateway;
pub mod listener;
pub mod load_balancer;
pub mod logs;
pub mod nat;
pub mod rollout;
pub mod route_table;
pub mod security_group;
pub mod service;
pub mod sqs;
pub mod subnet;
pub mod target_group;
pub mod task_definition;
pub mod vpc;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::plan::FieldChange;
use crate::tags::Tags;

/// The closed set of resource kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Vpc,
    InternetGateway,
    Subnet,
    RouteTable,
    ElasticIp,
    NatGateway,
    SecurityGroup,
    Queue,
    Repository,
    Role,
    LogGroup,
    LoadBalancer,
    TargetGroup,
    Listener,
    Cluster,
    TaskDefinition,
    Service,
    Image,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Self::Vpc => "VPC",
            Self::InternetGateway => "internet gateway",
            Self::Subnet => "subnet",
            Self::RouteTable => "route table",
            Self::ElasticIp => "Elastic IP",
            Self::NatGateway => "NAT gateway",
            Self::SecurityGroup => "security group",
            Self::Queue => "SQS queue",
            Self::Repository => "ECR repository",
            Self::Role => "IAM role",
            Self::LogGroup => "log group",
            Self::LoadBalancer => "load balancer",
            Self::TargetGroup => "target group",
            Self::Listener => "listener",
            Self::Cluster => "ECS cluster",
            Self::TaskDefinition => "task definition",
            Self::Service => "ECS service",
            Self::Image => "image",
        }
    }

    /// Deletion order for resources that are no longer declared (and so are not in the
    /// graph): higher ranks go first. Mirrors the dependency order of the graph.
    pub fn delete_rank(self) -> u8 {
        match self {
            Self::Service => 16,
            Self::Listener => 15,
            Self::LoadBalancer => 14,
            Self::TargetGroup => 13,
            Self::TaskDefinition => 12,
            Self::Cluster => 11,
            Self::Role => 9,
            Self::RouteTable => 8,
            Self::NatGateway => 7,
            Self::ElasticIp => 6,
            Self::SecurityGroup => 5,
            Self::Subnet => 4,
            Self::InternetGateway => 3,
            Self::Vpc => 2,
            Self::Queue | Self::Repository | Self::LogGroup => 1,
            Self::Image => 0,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A resource as `stack.toml` wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Logical id, stable across runs: the value of the `stackctl:id` tag.
    pub id: String,
    pub deps: Vec<String>,
    pub tags: Tags,
    pub spec: Spec,
}

/// The desired attributes of each kind. References to other resources are logical ids.
#[derive(Debug, Clone, PartialEq)]
pub enum Spec {
    Vpc(vpc::Vpc),
    InternetGateway(internet_gateway::InternetGateway),
    Subnet(subnet::Subnet),
    RouteTable(route_table::RouteTable),
    ElasticIp(nat::ElasticIp),
    NatGateway(nat::NatGateway),
    SecurityGroup(security_group::SecurityGroup),
    Queue(sqs::Queue),
    Repository(ecr::Repository),
    Role(iam::Role),
    LogGroup(logs::LogGroup),
    LoadBalancer(load_balancer::LoadBalancer),
    TargetGroup(target_group::TargetGroup),
    Listener(listener::Listener),
    Cluster(cluster::Cluster),
    TaskDefinition(task_definition::TaskDefinition),
    Service(service::Service),
    Image(image::Image),
}

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Self::Vpc(_) => Kind::Vpc,
            Self::InternetGateway(_) => Kind::InternetGateway,
            Self::Subnet(_) => Kind::Subnet,
            Self::RouteTable(_) => Kind::RouteTable,
            Self::ElasticIp(_) => Kind::ElasticIp,
            Self::NatGateway(_) => Kind::NatGateway,
            Self::SecurityGroup(_) => Kind::SecurityGroup,
            Self::Queue(_) => Kind::Queue,
            Self::Repository(_) => Kind::Repository,
            Self::Role(_) => Kind::Role,
            Self::LogGroup(_) => Kind::LogGroup,
            Self::LoadBalancer(_) => Kind::LoadBalancer,
            Self::TargetGroup(_) => Kind::TargetGroup,
            Self::Listener(_) => Kind::Listener,
            Self::Cluster(_) => Kind::Cluster,
            Self::TaskDefinition(_) => Kind::TaskDefinition,
            Self::Service(_) => Kind::Service,
            Self::Image(_) => Kind::Image,
        }
    }

    /// Dependencies whose replacement forces this resource to be replaced too (a subnet
    /// cannot move to another VPC).
    pub fn binding_deps(&self) -> Vec<&str> {
        match self {
            Self::InternetGateway(r) => vec![r.vpc.as_str()],
            Self::Subnet(r) => vec![r.vpc.as_str()],
            Self::RouteTable(r) => vec![r.vpc.as_str()],
            Self::SecurityGroup(r) => vec![r.vpc.as_str()],
            Self::NatGateway(r) => vec![r.subnet.as_str(), r.eip.as_str()],
            Self::TargetGroup(r) => vec![r.vpc.as_str()],
            Self::Listener(r) => vec![r.load_balancer.as_str()],
            Self::Service(r) => vec![r.cluster.as_str()],
            _ => Vec::new(),
        }
    }

    /// Dependencies whose change must be rolled out by this resource too (a new task
    /// definition revision is deployed by updating the service).
    pub fn rollout_deps(&self) -> Vec<&str> {
        match self {
            Self::Service(r) => vec![r.task_definition.as_str()],
            _ => Vec::new(),
        }
    }
}

/// A resource as found in AWS.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub id: String,
    pub kind: Kind,
    /// The AWS identifier: `vpc-…`, a queue URL, a role name, …
    pub aws_id: String,
    pub arn: Option<String>,
    /// AWS's own state word where it has one (`available`, `pending`, …).
    pub state: String,
    pub tags: Tags,
    #[serde(skip)]
    pub detail: Detail,
}

/// What was observed of each kind, for diffing.
#[derive(Debug, Clone, PartialEq)]
pub enum Detail {
    Vpc(vpc::VpcState),
    InternetGateway(internet_gateway::InternetGatewayState),
    Subnet(subnet::SubnetState),
    RouteTable(route_table::RouteTableState),
    ElasticIp,
    NatGateway(nat::NatGatewayState),
    SecurityGroup(security_group::SecurityGroupState),
    Queue(sqs::QueueState),
    Repository(ecr::RepositoryState),
    Role(iam::RoleState),
    LogGroup(logs::LogGroupState),
    LoadBalancer(load_balancer::LoadBalancerState),
    TargetGroup(target_group::TargetGroupState),
    Listener(listener::ListenerState),
    Cluster,
    TaskDefinition(task_definition::TaskDefinitionState),
    Service(service::ServiceState),
    Image,
}

/// What dependents and users need of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Output {
    pub aws_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Output {
    pub fn of(observed: &Observed) -> Self {
        let url = match &observed.detail {
            Detail::Queue(_) => Some(observed.aws_id.clone()),
            Detail::Repository(r) => Some(r.uri.clone()),
            Detail::LoadBalancer(l) => Some(format!("http://{}", l.dns_name)),
            Detail::Image => Some(observed.aws_id.clone()),
            _ => None,
        };
        Self {
            aws_id: observed.aws_id.clone(),
            arn: observed.arn.clone(),
            url,
        }
    }
}

/// Outputs of resources by logical id: how references are resolved.
pub type Outputs = BTreeMap<String, Output>;

/// Resolves a reference; the engine guarantees dependencies are done before dependents.
pub fn resolve<'a>(outputs: &'a Outputs, from: &str, id: &str) -> Result<&'a Output> {
    outputs.get(id).ok_or_else(|| {
        crate::error::Error::unexpected(from, format!("needs {id}, which has no output yet"))
    })
}

/// The result of comparing one resource: changed fields, or the reason it must be replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub fields: Vec<FieldChange>,
    pub replace: Option<String>,
}

impl Diff {
    pub fn field(&mut self, name: &str, from: impl fmt::Display, to: impl fmt::Display) {
        self.fields
            .push(FieldChange::new(name, from.to_string(), to.to_string()));
    }

    /// Records a field change when `from != to`.
    pub fn compare<T: PartialEq + fmt::Display>(&mut self, name: &str, from: T, to: T) {
        if from != to {
            self.field(name, from, to);
        }
    }

    pub fn replace(&mut self, reason: impl Into<String>) {
        if self.replace.is_none() {
            self.replace = Some(reason.into());
        }
    }
}

/// Desired vs observed for one resource (pure). `refs` holds the outputs of dependencies
/// that already exist.
pub fn diff(desired: &Desired, observed: &Observed, refs: &Outputs) -> Diff {
    let mut diff = match (&desired.spec, &observed.detail) {
        (Spec::Vpc(d), Detail::Vpc(o)) => vpc::diff(d, o),
        (Spec::InternetGateway(d), Detail::InternetGateway(o)) => {
            internet_gateway::diff(d, o, refs)
        }
        (Spec::Subnet(d), Detail::Subnet(o)) => subnet::diff(d, o, refs),
        (Spec::RouteTable(d), Detail::RouteTable(o)) => route_table::diff(d, o, refs),
        (Spec::ElasticIp(_), Detail::ElasticIp) => Diff::default(),
        (Spec::NatGateway(d), Detail::NatGateway(o)) => nat::diff(d, o, refs),
        (Spec::SecurityGroup(d), Detail::SecurityGroup(o)) => security_group::diff(d, o, refs),
        (Spec::Queue(d), Detail::Queue(o)) => sqs::diff(d, o, refs),
        (Spec::Repository(d), Detail::Repository(o)) => ecr::diff(d, o),
        (Spec::Role(d), Detail::Role(o)) => iam::diff(d, o, refs),
        (Spec::LogGroup(d), Detail::LogGroup(o)) => logs::diff(d, o),
        (Spec::LoadBalancer(d), Detail::LoadBalancer(o)) => load_balancer::diff(d, o, refs),
        (Spec::TargetGroup(d), Detail::TargetGroup(o)) => target_group::diff(d, o, refs),
        (Spec::Listener(d), Detail::Listener(o)) => listener::diff(d, o, refs),
        (Spec::Cluster(_), Detail::Cluster) => Diff::default(),
        (Spec::TaskDefinition(d), Detail::TaskDefinition(o)) => task_definition::diff(d, o, refs),
        (Spec::Service(d), Detail::Service(o)) => service::diff(d, o, refs),
        // Its tag is a hash of its content: found means up to date.
        (Spec::Image(_), Detail::Image) => Diff::default(),
        _ => {
            let mut diff = Diff::default();
            diff.replace(format!(
                "the resource tagged {} is a {}, not a {}",
                desired.id,
                observed.kind,
                desired.spec.kind()
            ));
            diff
        }
    };
    if let Some(tags) = crate::tags::diff(&desired.tags, &observed.tags) {
        diff.fields.push(tags);
    }
    diff
}

/// Finds every resource of the stack, all kinds at once.
pub async fn observe_all(ctx: &Context, names: &crate::spec::Names) -> Result<Vec<Observed>> {
    let (ec2, queues, repository, roles, log_group, balancing, cluster, task_definition, service) =
        tokio::try_join!(
            ec2::observe_all(ctx),
            sqs::observe(ctx, names),
            ecr::observe(ctx, names),
            iam::observe(ctx, names),
            logs::observe(ctx, names),
            elb::observe_all(ctx, names),
            cluster::observe(ctx, &names.cluster),
            task_definition::observe(ctx, &names.task_family),
            service::observe(ctx, &names.cluster, &names.service),
        )?;
    Ok([
        ec2,
        queues,
        repository,
        roles,
        log_group,
        balancing,
        cluster,
        task_definition,
        service,
    ]
    .concat())
}

/// Creates a resource that does not exist (and, for a service, waits for its deployment).
pub async fn create(
    ctx: &Context,
    desired: &Desired,
    refs: &Outputs,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Output> {
    let (id, tags) = (desired.id.as_str(), &desired.tags);
    match &desired.spec {
        Spec::LoadBalancer(d) => load_balancer::create(ctx, id, d, tags, refs).await,
        Spec::TargetGroup(d) => target_group::create(ctx, id, d, tags, refs).await,
        Spec::Listener(d) => listener::create(ctx, id, d, tags, refs).await,
        Spec::Cluster(d) => cluster::create(ctx, id, d, tags).await,
        Spec::TaskDefinition(d) => task_definition::register(ctx, id, d, tags, refs).await,
        Spec::Image(d) => image::create(ctx, id, d, refs, on_wait).await,
        Spec::Service(d) => {
            let output = service::create(ctx, id, d, tags, refs).await?;
            let cluster = resolve(refs, id, &d.cluster)?;
            rollout::wait_deployed(ctx, &cluster.aws_id, &output.aws_id, id, on_wait).await?;
            Ok(output)
        }
        Spec::Vpc(d) => vpc::create(ctx, id, d, tags).await,
        Spec::InternetGateway(d) => internet_gateway::create(ctx, id, d, tags, refs).await,
        Spec::Subnet(d) => subnet::create(ctx, id, d, tags, refs).await,
        Spec::RouteTable(d) => route_table::create(ctx, id, d, tags, refs).await,
        Spec::ElasticIp(_) => nat::create_eip(ctx, id, tags).await,
        Spec::NatGateway(d) => nat::create(ctx, id, d, tags, refs).await,
        Spec::SecurityGroup(d) => security_group::create(ctx, id, d, tags, refs).await,
        Spec::Queue(d) => sqs::create(ctx, id, d, tags, refs).await,
        Spec::Repository(d) => ecr::create(ctx, id, d, tags).await,
        Spec::Role(d) => iam::create(ctx, id, d, tags, refs).await,
        Spec::LogGroup(d) => logs::create(ctx, id, d, tags).await,
    }
}

/// Brings an existing resource in line with `desired` (the same comparison as [`diff`]
/// decides which calls to make, so only what differs is changed).
pub async fn update(
    ctx: &Context,
    desired: &Desired,
    observed: &Observed,
    refs: &Outputs,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Output> {
    let tags = &desired.tags;
    match (&desired.spec, &observed.detail) {
        (Spec::LoadBalancer(d), Detail::LoadBalancer(o)) => {
            load_balancer::update(ctx, observed, d, o, tags, refs).await
        }
        (Spec::TargetGroup(d), Detail::TargetGroup(o)) => {
            target_group::update(ctx, observed, d, o, tags).await
        }
        (Spec::Listener(d), Detail::Listener(_)) => {
            listener::update(ctx, observed, d, tags, refs).await
        }
        (Spec::Cluster(_), Detail::Cluster) => cluster::retag(ctx, observed, tags).await,
        // A task definition is never changed in place: a new revision is registered.
        (Spec::TaskDefinition(d), Detail::TaskDefinition(_)) => {
            task_definition::register(ctx, &desired.id, d, tags, refs).await
        }
        (Spec::Service(d), Detail::Service(o)) => {
            let output = service::update(ctx, observed, d, o, tags, refs).await?;
            rollout::wait_deployed(ctx, &o.cluster_arn, &observed.aws_id, &desired.id, on_wait)
                .await?;
            Ok(output)
        }
        (Spec::Vpc(d), Detail::Vpc(o)) => vpc::update(ctx, observed, d, o, tags).await,
        (Spec::InternetGateway(d), Detail::InternetGateway(o)) => {
            internet_gateway::update(ctx, observed, d, o, tags, refs).await
        }
        (Spec::Subnet(d), Detail::Subnet(o)) => subnet::update(ctx, observed, d, o, tags).await,
        (Spec::RouteTable(d), Detail::RouteTable(o)) => {
            route_table::update(ctx, observed, d, o, tags, refs).await
        }
        (Spec::ElasticIp(_), Detail::ElasticIp) | (Spec::NatGateway(_), Detail::NatGateway(_)) => {
            ec2::retag(ctx, observed, tags).await
        }
        (Spec::SecurityGroup(d), Detail::SecurityGroup(o)) => {
            security_group::update(ctx, observed, d, o, tags, refs).await
        }
        (Spec::Queue(d), Detail::Queue(o)) => sqs::update(ctx, observed, d, o, tags, refs).await,
        (Spec::Repository(d), Detail::Repository(o)) => {
            ecr::update(ctx, observed, d, o, tags).await
        }
        (Spec::Role(d), Detail::Role(o)) => iam::update(ctx, observed, d, o, tags, refs).await,
        (Spec::LogGroup(d), Detail::LogGroup(o)) => logs::update(ctx, observed, d, o, tags).await,
        _ => Err(crate::error::Error::unexpected(
            &desired.id,
            format!(
                "cannot update a {} into a {}",
                observed.kind,
                desired.spec.kind()
            ),
        )),
    }
}

/// Deletes an observed resource; "already gone" is success.
pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    match &observed.detail {
        Detail::Vpc(_) => vpc::delete(ctx, observed, on_wait).await,
        Detail::InternetGateway(o) => internet_gateway::delete(ctx, observed, o, on_wait).await,
        Detail::Subnet(_) => subnet::delete(ctx, observed, on_wait).await,
        Detail::RouteTable(o) => route_table::delete(ctx, observed, o, on_wait).await,
        Detail::ElasticIp => nat::delete_eip(ctx, observed, on_wait).await,
        Detail::NatGateway(_) => nat::delete(ctx, observed, on_wait).await,
        Detail::SecurityGroup(o) => security_group::delete(ctx, observed, o, on_wait).await,
        Detail::Queue(_) => sqs::delete(ctx, observed).await,
        Detail::Repository(_) => ecr::delete(ctx, observed).await,
        Detail::Role(o) => iam::delete(ctx, observed, o).await,
        Detail::LogGroup(_) => logs::delete(ctx, observed).await,
        Detail::LoadBalancer(_) => load_balancer::delete(ctx, observed, on_wait).await,
        Detail::TargetGroup(_) => target_group::delete(ctx, observed, on_wait).await,
        Detail::Listener(_) => listener::delete(ctx, observed).await,
        Detail::Cluster => cluster::delete(ctx, observed, on_wait).await,
        Detail::TaskDefinition(_) => {
            // The family is the ARN's last part without the revision.
            let family = observed
                .aws_id
                .rsplit('/')
                .next()
                .and_then(|r| r.rsplit_once(':'))
                .map_or("", |(f, _)| f);
            task_definition::delete(ctx, observed, family).await
        }
        Detail::Service(o) => service::delete(ctx, observed, o, on_wait).await,
        // Images go with their repository, and its lifecycle policy expires old ones.
        Detail::Image => Ok(()),
    }
}

/// Checks that a resource found by its name belongs to this stack; anything else is not
/// ours to change.
pub fn check_owner(ctx: &Context, kind: Kind, name: &str, tags: &Tags) -> Result<()> {
    match tags.get(crate::tags::STACK_TAG) {
        Some(stack) if stack == &ctx.stack => Ok(()),
        other => Err(crate::error::Error::Conflict {
            resource: format!("{kind} {name}"),
            message: format!(
                "exists but is {}; stackctl will not take over a resource it did not create. \
                 Delete or rename it, or choose another stack.name",
                match other {
                    Some(stack) => format!("tagged for the stack {stack:?}"),
                    None => "not tagged stackctl:stack".into(),
                }
            ),
        }),
    }
}
