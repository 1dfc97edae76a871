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

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Mutex;

    use aws_sdk_servicediscovery::operation::create_private_dns_namespace::CreatePrivateDnsNamespaceOutput;
    use aws_sdk_servicediscovery::operation::delete_namespace::{
        DeleteNamespaceError, DeleteNamespaceOutput,
    };
    use aws_sdk_servicediscovery::operation::get_namespace::GetNamespaceOutput;
    use aws_sdk_servicediscovery::operation::get_operation::GetOperationOutput;
    use aws_sdk_servicediscovery::operation::list_namespaces::ListNamespacesOutput;
    use aws_sdk_servicediscovery::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_servicediscovery::types::{
        NamespaceSummary, Operation, OperationStatus, OperationTargetType, Tag,
    };
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::resources::testing::{self, fails};

    pub(crate) const NS_ARN: &str = "arn:aws:servicediscovery:us-east-1:1:namespace/ns-1";

    fn desired() -> Namespace {
        Namespace {
            name: domain("s"),
            vpc: ResourceId::VPC,
        }
    }

    fn found() -> Found<()> {
        let mut found = testing::found("namespace", "ns-1", ());
        found.arn = Some(NS_ARN.into());
        found
    }

    /// Cloud Map lists the stack's namespace and another stack's; only the first is read.
    pub(crate) fn listing() -> [Rule; 2] {
        let list = mock!(aws_sdk_servicediscovery::Client::list_namespaces).then_output(|| {
            let ns = |id: &str, name: &str| {
                NamespaceSummary::builder()
                    .id(id)
                    .arn(format!(
                        "arn:aws:servicediscovery:us-east-1:1:namespace/{id}"
                    ))
                    .name(name)
                    .build()
            };
            ListNamespacesOutput::builder()
                .namespaces(ns("ns-1", "s.internal"))
                .namespaces(ns("ns-2", "other.internal"))
                .build()
        });
        let tags = mock!(aws_sdk_servicediscovery::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some(NS_ARN))
            .then_output(|| {
                let tags = testing::stack_tags("namespace")
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap());
                ListTagsForResourceOutput::builder()
                    .set_tags(Some(tags.collect()))
                    .build()
            });
        [list, tags]
    }

    fn operation(status: OperationStatus) -> GetOperationOutput {
        GetOperationOutput::builder()
            .operation(
                Operation::builder()
                    .id("op-1")
                    .status(status)
                    .targets(OperationTargetType::Namespace, "ns-1")
                    .error_message("the VPC is gone")
                    .build(),
            )
            .build()
    }

    #[tokio::test]
    async fn create_waits_for_the_operation_and_answers_the_namespace() {
        let create = mock!(aws_sdk_servicediscovery::Client::create_private_dns_namespace)
            .match_requests(|r| {
                r.name() == Some("s.internal")
                    && r.vpc() == Some("vpc-1")
                    && r.creator_request_id() == Some("token-1")
                    && r.tags().iter().any(|t| t.key() == "stackctl:stack")
            })
            .then_output(|| {
                CreatePrivateDnsNamespaceOutput::builder()
                    .operation_id("op-1")
                    .build()
            });
        let operation = mock!(aws_sdk_servicediscovery::Client::get_operation)
            .sequence()
            .output(|| operation(OperationStatus::Pending))
            .output(|| operation(OperationStatus::Success))
            .build();
        let get = mock!(aws_sdk_servicediscovery::Client::get_namespace)
            .match_requests(|r| r.id() == Some("ns-1"))
            .then_output(|| {
                GetNamespaceOutput::builder()
                    .namespace(
                        aws_sdk_servicediscovery::types::Namespace::builder()
                            .arn(NS_ARN)
                            .build(),
                    )
                    .build()
            });
        let ctx = testing::cloudmap(&[&create, &operation, &get]);
        let creating =
            testing::Creating::new(ResourceId::NAMESPACE, testing::refs(&[("vpc", "vpc-1")]));
        let output = desired().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "ns-1");
        assert_eq!(output.arn.as_deref(), Some(NS_ARN));
        assert_eq!(operation.num_calls(), 2, "polled until it succeeded");
    }

    #[tokio::test]
    async fn a_failed_operation_is_an_error_with_its_reason() {
        let create = mock!(aws_sdk_servicediscovery::Client::create_private_dns_namespace)
            .then_output(|| {
                CreatePrivateDnsNamespaceOutput::builder()
                    .operation_id("op-1")
                    .build()
            });
        let operation = mock!(aws_sdk_servicediscovery::Client::get_operation)
            .then_output(|| operation(OperationStatus::Fail));
        let ctx = testing::cloudmap(&[&create, &operation]);
        let creating =
            testing::Creating::new(ResourceId::NAMESPACE, testing::refs(&[("vpc", "vpc-1")]));
        let err = desired().create(&ctx, creating.get()).await.unwrap_err();
        assert!(err.to_string().contains("the VPC is gone"), "{err}");
    }

    #[tokio::test]
    async fn observe_reads_the_stack_s_domain_only() {
        let [list, tags] = listing();
        let ctx = testing::cloudmap(&[&list, &tags]);
        let found = Namespace::observe(&Scope::new(&ctx), &[]).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, ResourceId::NAMESPACE);
        assert_eq!(found[0].aws_id, "ns-1");
        assert_eq!(found[0].arn.as_deref(), Some(NS_ARN));
        assert_eq!(tags.num_calls(), 1, "another stack's namespace is not read");
    }

    #[tokio::test]
    async fn delete_waits_for_its_services_to_go_then_for_the_operation() {
        let delete = mock!(aws_sdk_servicediscovery::Client::delete_namespace)
            .sequence()
            .error(|| {
                DeleteNamespaceError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ResourceInUse")
                        .build(),
                )
            })
            .output(|| {
                DeleteNamespaceOutput::builder()
                    .operation_id("op-1")
                    .build()
            })
            .build();
        let operation = mock!(aws_sdk_servicediscovery::Client::get_operation)
            .then_output(|| operation(OperationStatus::Success));
        let ctx = testing::cloudmap(&[&delete, &operation]);
        let waits = Mutex::new(Vec::new());
        Namespace::delete(&ctx, &found(), &|m| waits.lock().unwrap().push(m))
            .await
            .unwrap();
        assert_eq!((delete.num_calls(), operation.num_calls()), (2, 1));
        let waits = waits.into_inner().unwrap();
        assert!(
            waits[0].contains("waiting for its services to go"),
            "{waits:?}"
        );
    }

    #[tokio::test]
    async fn a_namespace_already_gone_is_success() {
        let gone = fails!(
            aws_sdk_servicediscovery,
            delete_namespace,
            DeleteNamespaceError,
            "NamespaceNotFound"
        );
        let ctx = testing::cloudmap(&[&gone]);
        Namespace::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }

    #[test]
    fn it_is_bound_to_its_vpc_and_has_nothing_to_update() {
        assert_eq!(desired().binding(), [&ResourceId::VPC]);
        assert!(desired().diff(&(), &Outputs::new()).is_empty());
    }
}
