//! The private DNS namespace (Cloud Map) in which the stack's internal services are found by
//! name: `<service>.<stack>.internal`, resolvable inside the stack's VPC only. Made when the
//! stack has an internal service.

use crate::aws::cloudmap;
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The DNS domain: `<stack>.internal`.
    pub name: String,
    /// The VPC (logical id) whose DNS answers for it.
    pub vpc: ResourceId,
}

pub use crate::aws::cloudmap::domain;

impl Resource for Namespace {
    type State = ();
    type Field = NoField;
    const LABEL: &'static str = "DNS namespace";

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    /// Cloud Map cannot move a namespace to another VPC.
    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        Ok(cloudmap::namespaces(scope.ctx)
            .await?
            .into_iter()
            .map(|ns| Found {
                id: ns.logical,
                aws_id: ns.id,
                arn: Some(ns.arn),
                state: "available".into(),
                tags: ns.tags,
                detail: (),
            })
            .collect())
    }

    fn diff(&self, _: &(), _: &Outputs) -> Diff<NoField> {
        Diff::default()
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        // The request id makes a retry after a lost answer the same request.
        let out = crate::aws::once!(
            aws_sdk_servicediscovery,
            ctx.discovery
                .create_private_dns_namespace()
                .name(&self.name)
                .vpc(vpc)
                .creator_request_id(new.token)
                .description("stackctl: internal services of the stack, by name")
                .set_tags(Some(cloudmap::to_tags(new.tags)?))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreatePrivateDnsNamespace", e))?;
        let operation = out
            .operation_id()
            .ok_or_else(|| Error::incomplete(new.id, "CreatePrivateDnsNamespace", "operation"))?;
        let id = cloudmap::finished(ctx, new.id, operation, new.wait)
            .await?
            .ok_or_else(|| Error::incomplete(new.id, "GetOperation", "namespace"))?;
        let got = ctx
            .discovery
            .get_namespace()
            .id(&id)
            .send()
            .await
            .map_err(|e| Error::aws(new.id, "GetNamespace", e))?;
        let arn = got.namespace().and_then(|n| n.arn()).map(str::to_owned);
        Ok(Output {
            aws_id: id,
            arn,
            url: None,
        })
    }

    async fn retag(ctx: &Context, found: &Found<()>, tags: &Tags) -> Result<()> {
        let arn = found.arn.as_deref().unwrap_or(&found.aws_id);
        cloudmap::retag(ctx, &found.id, arn, tags).await
    }

    /// Deletes it once its services are gone (they go first: they use it).
    async fn delete(ctx: &Context, found: &Found<()>, wait: Wait<'_>) -> Result<()> {
        let deleted = crate::retry::while_codes(
            &ctx.settings,
            &["ResourceInUse"],
            |err| wait(format!("waiting for its services to go: {err}")),
            || async {
                ctx.discovery
                    .delete_namespace()
                    .id(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DeleteNamespace", e))
            },
        )
        .await;
        let out = match deleted {
            Ok(out) => out,
            Err(e) if e.code() == Some("NamespaceNotFound") => return Ok(()),
            Err(e) => return Err(e),
        };
        if let Some(operation) = out.operation_id() {
            cloudmap::finished(ctx, &found.id, operation, wait).await?;
        }
        Ok(())
    }

    fn uses(_: &Found<()>) -> Vec<String> {
        Vec::new()
    }
}
