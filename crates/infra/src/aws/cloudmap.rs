//! What the service discovery kinds (Cloud Map) share: the stack's namespaces, tag shapes,
//! reading a resource's tags, and waiting for an operation (namespaces are made and deleted
//! asynchronously).

use aws_sdk_servicediscovery::types::{
    FilterCondition, NamespaceFilter, NamespaceFilterName, OperationStatus, OperationTargetType,
    Tag,
};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::retry::{self, Look};
use crate::tags::{self, Tags};

pub fn to_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags::try_to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
        .map_err(Error::request("service discovery", "invalid tag"))
}

/// The tags of a namespace or service, by ARN.
pub async fn tags_of(ctx: &Context, arn: &str) -> Result<Tags> {
    let out = ctx
        .discovery
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(arn, "ListTagsForResource", e))?;
    Ok(tags::collect(
        out.tags().iter().map(|t| (Some(t.key()), Some(t.value()))),
    ))
}

/// Puts back managed tags on a namespace or service.
pub async fn retag(ctx: &Context, id: &ResourceId, arn: &str, tags: &Tags) -> Result<()> {
    ctx.discovery
        .tag_resource()
        .resource_arn(arn)
        .set_tags(Some(to_tags(tags)?))
        .send()
        .await
        .map_err(|e| Error::aws(id, "TagResource", e))?;
    Ok(())
}

/// Waits for an operation to succeed; answers the namespace it made or deleted, if it says.
pub async fn finished(
    ctx: &Context,
    id: &ResourceId,
    operation: &str,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<Option<String>> {
    let settings = &ctx.settings;
    retry::poll(
        settings,
        settings.wait_timeout,
        (id.as_str(), "finish"),
        wait,
        || async {
            let out = ctx
                .discovery
                .get_operation()
                .operation_id(operation)
                .send()
                .await
                .map_err(|e| Error::aws(id, "GetOperation", e))?;
            let Some(op) = out.operation() else {
                return Ok(Look::NotYet("operation not visible yet".into()));
            };
            match op.status() {
                Some(OperationStatus::Success) => Ok(Look::Done(
                    op.targets()
                        .and_then(|t| t.get(&OperationTargetType::Namespace))
                        .cloned(),
                )),
                Some(OperationStatus::Fail) => Err(Error::Failed {
                    subject: id.into(),
                    message: format!(
                        "Cloud Map operation {operation} failed: {}",
                        op.error_message().unwrap_or("no reason given")
                    ),
                }),
                other => Ok(Look::NotYet(format!(
                    "Cloud Map operation {}",
                    other.map_or("pending", |s| s.as_str())
                ))),
            }
        },
    )
    .await
}

/// A namespace of the stack: its id, ARN, logical id and tags.
pub struct OurNamespace {
    pub id: String,
    pub arn: String,
    pub logical: ResourceId,
    pub tags: Tags,
}

/// The domain of a stack's namespace.
pub fn domain(stack: &str) -> String {
    format!("{stack}.internal")
}

/// The stack's private DNS namespaces: those with its domain that carry its tags.
pub async fn namespaces(ctx: &Context) -> Result<Vec<OurNamespace>> {
    let filter = NamespaceFilter::builder()
        .name(NamespaceFilterName::Type)
        .values("DNS_PRIVATE")
        .condition(FilterCondition::Eq)
        .build()
        .map_err(Error::request("DNS namespaces", "the namespace filter"))?;
    let all = super::all(
        ctx.discovery
            .list_namespaces()
            .filters(filter)
            .into_paginator()
            .send(),
        |e| Error::aws("DNS namespaces", "ListNamespaces", e),
    )
    .await?;
    let all = all.iter().flat_map(|page| page.namespaces());
    let domain = domain(&ctx.stack);
    let mut ours = Vec::new();
    // Other stacks' namespaces have other domains: only ours are read for tags.
    for ns in all.filter(|n| n.name() == Some(domain.as_str())) {
        let (Some(id), Some(arn)) = (ns.id(), ns.arn()) else {
            continue;
        };
        let tags = tags_of(ctx, arn).await?;
        if let Some(logical) = tags::logical_id(&ctx.stack, &tags) {
            ours.push(OurNamespace {
                id: id.to_owned(),
                arn: arn.to_owned(),
                logical,
                tags,
            });
        }
    }
    Ok(ours)
}
