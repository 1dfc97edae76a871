//! The ECS cluster the service runs in (Fargate needs no instances: the cluster is only a name),
//! with Container Insights on when a service scales on its queue's backlog per task (the
//! running-task count comes from it).

use aws_sdk_ecs::types::{ClusterSetting, ClusterSettingName};

use crate::aws::{self, ecs, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub name: String,
    /// Container Insights wanted on. When not wanted it is left as the account has it.
    pub insights: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterState {
    pub insights: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Insights { from: bool, to: bool },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let show = |on: bool| if on { "enabled" } else { "disabled" };
        let Self::Insights { from, to } = *self;
        FieldChange::new("container_insights", show(from), show(to))
    }
}

fn insights_setting(on: bool) -> ClusterSetting {
    ClusterSetting::builder()
        .name(ClusterSettingName::ContainerInsights)
        .value(if on { "enabled" } else { "disabled" })
        .build()
}

impl Resource for Cluster {
    type State = ClusterState;
    type Field = Field;
    const LABEL: &'static str = "ECS cluster";

    fn refs(&self) -> Vec<&ResourceId> {
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
                detail: ClusterState {
                    insights: cluster.settings().iter().any(|s| {
                        s.name() == Some(&ClusterSettingName::ContainerInsights)
                            && s.value().is_some_and(|v| v != "disabled")
                    }),
                },
            });
        }
        Ok(found)
    }

    fn diff(&self, found: &ClusterState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.push_if(self.insights && !found.insights, || Field::Insights {
            from: found.insights,
            to: true,
        });
        diff
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<ClusterState>,
        field: &Field,
        _: &Outputs,
    ) -> Result<()> {
        let Field::Insights { to, .. } = *field;
        ctx.ecs
            .update_cluster()
            .cluster(&found.aws_id)
            .settings(insights_setting(to))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "UpdateCluster", e))?;
        Ok(())
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_ecs,
            ctx.ecs
                .create_cluster()
                .cluster_name(&self.name)
                .set_settings(self.insights.then(|| vec![insights_setting(true)]))
                .set_tags(Some(ecs::to_tags(new.tags)))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateCluster", e))?;
        let arn = out
            .cluster()
            .and_then(|c| c.cluster_arn())
            .ok_or_else(|| Error::incomplete(new.id, "CreateCluster", "ARN"))?;
        Ok(Output::arn(arn))
    }

    async fn retag(ctx: &Context, found: &Found<ClusterState>, tags: &Tags) -> Result<()> {
        ecs::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<ClusterState>, wait: Wait<'_>) -> Result<()> {
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

    fn uses(_: &Found<ClusterState>) -> Vec<String> {
        Vec::new()
    }
}
