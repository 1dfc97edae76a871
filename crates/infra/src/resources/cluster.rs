//! The ECS cluster the service runs in (Fargate needs no instances: the cluster is only a name).

use crate::aws::{self, ecs, named};
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::outputs::{Output, Outputs};
use crate::resource::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
}

impl Resource for Cluster {
    type State = ();
    type Field = NoField;
    const LABEL: &'static str = "ECS cluster";

    fn refs(&self) -> Vec<&str> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let mut found = Vec::new();
        for cluster in ecs::clusters(scope).await? {
            let (Some(arn), Some(name)) = (cluster.cluster_arn(), cluster.cluster_name()) else {
                continue;
            };
            let tags = ecs::tags_of(cluster.tags());
            let wanted = wanted.iter().any(|w| w.spec.name == name);
            let Some(id) = named::claim(scope.stack(), Self::LABEL, name, &tags, wanted)? else {
                continue;
            };
            found.push(Found {
                id,
                aws_id: arn.to_owned(),
                arn: Some(arn.to_owned()),
                state: format!("{} running tasks", cluster.running_tasks_count()),
                tags,
                detail: (),
            });
        }
        Ok(found)
    }

    fn diff(&self, _: &(), _: &Outputs) -> Diff<NoField> {
        Diff::default()
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_ecs,
            ctx.ecs
                .create_cluster()
                .cluster_name(&self.name)
                .set_tags(Some(ecs::to_tags(new.tags)))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateCluster", e))?;
        let arn = out
            .cluster()
            .and_then(|c| c.cluster_arn())
            .ok_or_else(|| Error::unexpected(new.id, "CreateCluster returned no ARN"))?;
        Ok(Output::arn(arn))
    }

    async fn retag(ctx: &Context, found: &Found<()>, tags: &Tags) -> Result<()> {
        ecs::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<()>, wait: Wait<'_>) -> Result<()> {
        let result = crate::retry::while_codes(
            &ctx.settings,
            &[
                "ClusterContainsServicesException",
                "ClusterContainsTasksException",
            ],
            |err| wait(format!("waiting for the service's tasks to stop: {err}")),
            || async {
                ctx.ecs
                    .delete_cluster()
                    .cluster(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DeleteCluster", e))
            },
        )
        .await;
        aws::gone_is_ok(result, |c| c == "ClusterNotFoundException")
    }

    fn uses(_: &Found<()>) -> Vec<String> {
        Vec::new()
    }
}
