//! The ECS cluster the service runs in (Fargate needs no instances: the cluster is only a name).

use aws_sdk_ecs::types::{ClusterField, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Detail, Kind, Observed, Output, check_owner};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::{ID_TAG, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
}

pub fn ecs_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn tags_of(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub async fn observe(ctx: &Context, name: &str) -> Result<Vec<Observed>> {
    let out = ctx
        .ecs
        .describe_clusters()
        .clusters(name)
        .include(ClusterField::Tags)
        .send()
        .await
        .map_err(|e| Error::aws(format!("ECS cluster {name}"), "DescribeClusters", e))?;
    let Some(cluster) = out.clusters().iter().find(|c| c.status() == Some("ACTIVE")) else {
        return Ok(Vec::new());
    };
    let tags = tags_of(cluster.tags());
    check_owner(ctx, Kind::Cluster, name, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(Vec::new());
    };
    Ok(vec![Observed {
        id,
        kind: Kind::Cluster,
        aws_id: cluster.cluster_arn().unwrap_or_default().to_owned(),
        arn: cluster.cluster_arn().map(str::to_owned),
        state: format!("{} running tasks", cluster.running_tasks_count()),
        tags,
        detail: Detail::Cluster,
    }])
}

pub async fn create(ctx: &Context, id: &str, desired: &Cluster, tags: &Tags) -> Result<Output> {
    let out = ctx
        .ecs
        .create_cluster()
        .cluster_name(&desired.name)
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateCluster", e))?;
    let arn = out
        .cluster()
        .and_then(|c| c.cluster_arn())
        .unwrap_or_default()
        .to_owned();
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: None,
    })
}

/// Puts back missing managed tags on any ECS resource.
pub async fn retag(ctx: &Context, observed: &Observed, desired: &Tags) -> Result<Output> {
    let missing = crate::tags::missing(desired, &observed.tags);
    if !missing.is_empty() {
        ctx.ecs
            .tag_resource()
            .resource_arn(&observed.aws_id)
            .set_tags(Some(ecs_tags(&missing)))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "TagResource", e))?;
    }
    Ok(Output::of(observed))
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let result = crate::retry::while_codes(
        &ctx.settings,
        &[
            "ClusterContainsServicesException",
            "ClusterContainsTasksException",
        ],
        |err| on_wait(format!("waiting for the service's tasks to stop: {err}")),
        || async {
            ctx.ecs
                .delete_cluster()
                .cluster(&observed.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&observed.id, "DeleteCluster", e))
        },
    )
    .await;
    match result {
        Err(err) if err.code() != Some("ClusterNotFoundException") => Err(err),
        _ => Ok(()),
    }
}

/// True when an ECS error means the thing is not there.
pub fn is_gone<E: ProvideErrorMetadata>(err: &E) -> bool {
    matches!(
        err.code(),
        Some("ClusterNotFoundException" | "ServiceNotFoundException" | "ServiceNotActiveException")
    )
}
