//! What the ECS kinds share: the stack's clusters (read once per observation, for the cluster
//! and service kinds), tag shapes, re-tagging, and the codes that mean "not there".

use aws_sdk_ecs::types::{Cluster, ClusterField, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::named;
use crate::context::Context;
use crate::contract::{Found, Scope};
use crate::error::{Error, Result};
use crate::tags::{self, Tags};

/// DescribeClusters takes at most 100 clusters a call.
const CLUSTERS_PER_CALL: usize = 100;

pub fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags::to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
}

pub fn tags_of(tags: &[Tag]) -> Tags {
    tags::collect(tags.iter().map(|t| (t.key(), t.value())))
}

/// The active clusters whose name is one of the stack's, with their tags.
pub async fn clusters<'s>(scope: &'s Scope<'_>) -> Result<&'s [Cluster]> {
    let ctx = scope.ctx;
    let found = scope
        .clusters
        .get_or_try_init(|| async {
            let arns = super::all(
                ctx.ecs.list_clusters().into_paginator().items().send(),
                |e| Error::aws("ECS clusters", "ListClusters", e),
            )
            .await?;
            let ours: Vec<String> = arns
                .into_iter()
                .filter(|arn| named::belongs(&ctx.stack, name_of(arn)))
                .collect();
            let mut clusters = Vec::new();
            for chunk in ours.chunks(CLUSTERS_PER_CALL) {
                let out = ctx
                    .ecs
                    .describe_clusters()
                    .set_clusters(Some(chunk.to_vec()))
                    .include(ClusterField::Tags)
                    .include(ClusterField::Settings)
                    .send()
                    .await
                    .map_err(|e| Error::aws("ECS clusters", "DescribeClusters", e))?;
                clusters.extend(
                    out.clusters()
                        .iter()
                        .filter(|c| c.status() == Some("ACTIVE"))
                        .cloned(),
                );
            }
            Ok::<_, Error>(clusters)
        })
        .await?;
    Ok(found.as_slice())
}

/// The name at the end of an ECS ARN (`…:cluster/NAME`, `…:service/CLUSTER/NAME`).
pub fn name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// Puts back managed tags on any ECS resource.
pub async fn retag<S>(ctx: &Context, found: &Found<S>, tags: &Tags) -> Result<()> {
    ctx.ecs
        .tag_resource()
        .resource_arn(&found.aws_id)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(&found.id, "TagResource", e))?;
    Ok(())
}

/// True when an ECS error means the thing is not there.
pub fn is_gone<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code().is_some_and(is_gone_code)
}

pub fn is_gone_code(code: &str) -> bool {
    matches!(
        code,
        "ClusterNotFoundException" | "ServiceNotFoundException" | "ServiceNotActiveException"
    )
}
