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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use aws_sdk_ecs::operation::create_cluster::CreateClusterOutput;
    use aws_sdk_ecs::operation::delete_cluster::{DeleteClusterError, DeleteClusterOutput};
    use aws_sdk_ecs::operation::describe_clusters::DescribeClustersOutput;
    use aws_sdk_ecs::operation::list_clusters::ListClustersOutput;
    use aws_sdk_ecs::operation::update_cluster::UpdateClusterOutput;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::resources::testing::{self, fails};

    const ARN: &str = "arn:aws:ecs:us-east-1:1:cluster/s";

    fn desired(insights: bool) -> Cluster {
        Cluster {
            name: "s".into(),
            insights,
        }
    }

    fn found(insights: bool) -> Found<ClusterState> {
        testing::found("cluster", ARN, ClusterState { insights })
    }

    fn insights_on(settings: &[ClusterSetting]) -> bool {
        settings.iter().any(|s| {
            s.name() == Some(&ClusterSettingName::ContainerInsights) && s.value() == Some("enabled")
        })
    }

    #[tokio::test]
    async fn create_names_tags_and_turns_insights_on_only_when_wanted() {
        for insights in [true, false] {
            let create = mock!(aws_sdk_ecs::Client::create_cluster)
                .match_requests(move |r| {
                    r.cluster_name() == Some("s")
                        && insights_on(r.settings()) == insights
                        && r.tags().iter().any(|t| t.key() == Some("stackctl:id"))
                })
                .then_output(|| {
                    CreateClusterOutput::builder()
                        .cluster(
                            aws_sdk_ecs::types::Cluster::builder()
                                .cluster_arn(ARN)
                                .build(),
                        )
                        .build()
                });
            let ctx = testing::ecs(&[&create]);
            let creating = testing::Creating::new(ResourceId::CLUSTER, Outputs::new());
            let output = desired(insights)
                .create(&ctx, creating.get())
                .await
                .unwrap();
            assert_eq!(output.aws_id, ARN);
        }
    }

    #[tokio::test]
    async fn observe_reads_the_stack_s_active_clusters_with_their_settings() {
        let list = mock!(aws_sdk_ecs::Client::list_clusters).then_output(|| {
            ListClustersOutput::builder()
                .cluster_arns(ARN)
                .cluster_arns("arn:aws:ecs:us-east-1:1:cluster/other")
                .build()
        });
        let describe = mock!(aws_sdk_ecs::Client::describe_clusters)
            .match_requests(|r| r.clusters() == [ARN])
            .then_output(|| {
                let tags = testing::stack_tags("cluster")
                    .into_iter()
                    .map(|(k, v)| aws_sdk_ecs::types::Tag::builder().key(k).value(v).build());
                DescribeClustersOutput::builder()
                    .clusters(
                        aws_sdk_ecs::types::Cluster::builder()
                            .cluster_arn(ARN)
                            .cluster_name("s")
                            .status("ACTIVE")
                            .running_tasks_count(2)
                            .settings(insights_setting(true))
                            .set_tags(Some(tags.collect()))
                            .build(),
                    )
                    .build()
            });
        let ctx = testing::ecs(&[&list, &describe]);
        let spec = desired(true);
        let id = ResourceId::CLUSTER;
        let found = Cluster::observe(
            &Scope::new(&ctx),
            &[Wanted {
                id: &id,
                spec: &spec,
            }],
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, id);
        assert_eq!(found[0].state, "2 running tasks");
        assert_eq!(found[0].detail, ClusterState { insights: true });
        assert!(spec.diff(&found[0].detail, &Outputs::new()).is_empty());
    }

    #[tokio::test]
    async fn insights_turned_off_by_hand_are_turned_back_on_in_one_call() {
        assert!(
            desired(false)
                .diff(&ClusterState { insights: true }, &Outputs::new())
                .is_empty()
        );
        let update = mock!(aws_sdk_ecs::Client::update_cluster)
            .match_requests(|r| r.cluster() == Some(ARN) && insights_on(r.settings()))
            .then_output(|| UpdateClusterOutput::builder().build());
        let ctx = testing::ecs(&[&update]);
        let found = found(false);
        let fields = desired(true).diff(&found.detail, &Outputs::new()).fields;
        assert_eq!(
            fields,
            [Field::Insights {
                from: false,
                to: true
            }]
        );
        desired(true)
            .update(&ctx, &found, &fields, &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(update.num_calls(), 1);
    }

    #[tokio::test]
    async fn delete_waits_for_the_tasks_to_stop() {
        let delete = mock!(aws_sdk_ecs::Client::delete_cluster)
            .sequence()
            .error(|| {
                DeleteClusterError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("ClusterContainsTasksException")
                        .build(),
                )
            })
            .output(|| DeleteClusterOutput::builder().build())
            .build();
        let ctx = testing::ecs(&[&delete]);
        let waits = Mutex::new(Vec::new());
        Cluster::delete(&ctx, &found(false), &|m| waits.lock().unwrap().push(m))
            .await
            .unwrap();
        assert_eq!(delete.num_calls(), 2);
        assert!(waits.into_inner().unwrap()[0].contains("tasks to stop"));
    }

    #[tokio::test]
    async fn a_cluster_already_gone_is_success() {
        let gone = fails!(
            aws_sdk_ecs,
            delete_cluster,
            DeleteClusterError,
            "ClusterNotFoundException"
        );
        let ctx = testing::ecs(&[&gone]);
        Cluster::delete(&ctx, &found(false), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
