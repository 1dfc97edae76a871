//! The CloudWatch log group the service's containers write to, with its retention.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupState {
    pub retention_days: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Retention { from: Option<i32>, to: i32 },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Retention { from, to } = self;
        let from = from.map_or("never expire".into(), |d| d.to_string());
        FieldChange::new("retention_days", from, to)
    }
}

/// Log groups are named `/stackctl/<stack>`, with room for more under it.
pub fn prefix(stack: &str) -> String {
    format!("/stackctl/{stack}")
}

/// The ARN tagging calls take: the described ARN without its trailing `:*`.
fn tagging_arn(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

impl Resource for LogGroup {
    type State = LogGroupState;
    type Field = Field;
    const LABEL: &'static str = "log group";

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let prefix = prefix(&ctx.stack);
        let groups = aws::all(
            ctx.logs
                .describe_log_groups()
                .log_group_name_prefix(&prefix)
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws("log groups", "DescribeLogGroups", e),
        )
        .await?;
        let mut found = Vec::new();
        for group in &groups {
            let Some(name) = group
                .log_group_name()
                .filter(|n| named::belongs(&prefix, n))
            else {
                continue;
            };
            let wanted = wanted.iter().any(|w| w.spec.name == name);
            found.extend(observe_one(ctx, group, name, wanted).await?);
        }
        Ok(found)
    }

    fn diff(&self, found: &LogGroupState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.push_if(found.retention_days != Some(self.retention_days), || {
            Field::Retention {
                from: found.retention_days,
                to: self.retention_days,
            }
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        crate::aws::once!(
            aws_sdk_cloudwatchlogs,
            ctx.logs
                .create_log_group()
                .log_group_name(&self.name)
                .set_tags(Some(new.tags.clone().into_iter().collect()))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateLogGroup", e))?;
        put_retention(ctx, new.id, &self.name, self.retention_days).await?;
        Ok(Output::id(self.name.clone()))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<LogGroupState>,
        fields: &[Field],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        for Field::Retention { to, .. } in fields {
            put_retention(ctx, &found.id, &found.aws_id, *to).await?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<LogGroupState>, tags: &Tags) -> Result<()> {
        let Some(arn) = &found.arn else {
            return Ok(());
        };
        ctx.logs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagResource", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<LogGroupState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .logs
            .delete_log_group()
            .log_group_name(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteLogGroup", e));
        aws::gone_is_ok(result, |c| c == "ResourceNotFoundException")
    }

    fn uses(_: &Found<LogGroupState>) -> Vec<String> {
        Vec::new()
    }

    fn output(found: &Found<LogGroupState>) -> Output {
        Output::id(found.aws_id.clone())
    }
}

async fn observe_one(
    ctx: &Context,
    group: &aws_sdk_cloudwatchlogs::types::LogGroup,
    name: &str,
    wanted: bool,
) -> Result<Option<Found<LogGroupState>>> {
    let arn = tagging_arn(group.arn().unwrap_or_default()).to_owned();
    let tags: Tags = match ctx
        .logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
    {
        Ok(out) => out
            .tags()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => {
            let resource = format!("log group {name}");
            return Err(Error::aws(resource, "ListTagsForResource", e));
        }
    };
    let Some(id) = named::claim(&ctx.stack, LogGroup::LABEL, name, &tags, wanted)? else {
        return Ok(None);
    };
    Ok(Some(Found {
        id,
        aws_id: name.to_owned(),
        arn: Some(arn),
        state: "available".into(),
        tags,
        detail: LogGroupState {
            retention_days: group.retention_in_days(),
        },
    }))
}

async fn put_retention(ctx: &Context, id: &ResourceId, name: &str, days: i32) -> Result<()> {
    ctx.logs
        .put_retention_policy()
        .log_group_name(name)
        .retention_in_days(days)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutRetentionPolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudwatchlogs::operation::put_retention_policy::PutRetentionPolicyOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> LogGroup {
        LogGroup {
            name: "/stackctl/s".into(),
            retention_days: 14,
        }
    }

    #[test]
    fn retention_changes_and_never_expire_are_updates() {
        let same = LogGroupState {
            retention_days: Some(14),
        };
        assert!(desired().diff(&same, &Outputs::new()).is_empty());
        let never = LogGroupState {
            retention_days: None,
        };
        let d = desired().diff(&never, &Outputs::new());
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("retention_days", "never expire", "14")
        );
    }

    #[tokio::test]
    async fn the_retention_field_is_one_call() {
        let put = rule!(
            aws_sdk_cloudwatchlogs,
            put_retention_policy,
            PutRetentionPolicyOutput
        );
        let ctx = testing::logs(&[&put]);
        let found = testing::found(
            "log-group",
            "/stackctl/s",
            LogGroupState {
                retention_days: None,
            },
        );
        let fields = desired().diff(&found.detail, &Outputs::new()).fields;
        desired()
            .update(&ctx, &found, &fields, &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
    }

    mod calls {
        use aws_sdk_cloudwatchlogs::operation::create_log_group::CreateLogGroupOutput;
        use aws_sdk_cloudwatchlogs::operation::delete_log_group::{
            DeleteLogGroupError, DeleteLogGroupOutput,
        };
        use aws_sdk_cloudwatchlogs::operation::describe_log_groups::DescribeLogGroupsOutput;
        use aws_sdk_cloudwatchlogs::operation::list_tags_for_resource::{
            ListTagsForResourceError, ListTagsForResourceOutput,
        };
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        #[tokio::test]
        async fn create_makes_the_tagged_group_and_sets_its_retention() {
            let create = mock!(aws_sdk_cloudwatchlogs::Client::create_log_group)
                .match_requests(|r| {
                    r.log_group_name() == Some("/stackctl/s")
                        && r.tags().is_some_and(|t| t.contains_key("stackctl:id"))
                })
                .then_output(|| CreateLogGroupOutput::builder().build());
            let retention = mock!(aws_sdk_cloudwatchlogs::Client::put_retention_policy)
                .match_requests(|r| r.retention_in_days() == Some(14))
                .then_output(|| PutRetentionPolicyOutput::builder().build());
            let ctx = testing::logs(&[&create, &retention]);
            let creating = testing::Creating::new(ResourceId::LOG_GROUP, Outputs::new());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "/stackctl/s");
            assert_eq!(retention.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_the_stack_s_groups_and_skips_one_deleted_meanwhile() {
            let describe = mock!(aws_sdk_cloudwatchlogs::Client::describe_log_groups)
                .match_requests(|r| r.log_group_name_prefix() == Some("/stackctl/s"))
                .then_output(|| {
                    let group = |name: &str| {
                        aws_sdk_cloudwatchlogs::types::LogGroup::builder()
                            .log_group_name(name)
                            .arn(format!("arn:aws:logs:us-east-1:1:log-group:{name}:*"))
                            .retention_in_days(14)
                            .build()
                    };
                    DescribeLogGroupsOutput::builder()
                        .log_groups(group("/stackctl/s"))
                        .log_groups(group("/stackctl/s/gone"))
                        .log_groups(group("/stackctl/shop"))
                        .build()
                });
            let tags = mock!(aws_sdk_cloudwatchlogs::Client::list_tags_for_resource)
                .match_requests(|r| {
                    r.resource_arn() == Some("arn:aws:logs:us-east-1:1:log-group:/stackctl/s")
                })
                .then_output(|| {
                    ListTagsForResourceOutput::builder()
                        .set_tags(Some(testing::stack_tags("log-group").into_iter().collect()))
                        .build()
                });
            let gone = fails!(
                aws_sdk_cloudwatchlogs,
                list_tags_for_resource,
                ListTagsForResourceError,
                "ResourceNotFoundException"
            );
            let ctx = testing::logs(&[&describe, &tags, &gone]);
            let found = LogGroup::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::LOG_GROUP);
            assert!(desired().diff(&found[0].detail, &Outputs::new()).is_empty());
            assert_eq!(gone.num_calls(), 1, "/stackctl/shop is another stack's");
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_group_already_gone_is_success() {
            let found = testing::found(
                "log-group",
                "/stackctl/s",
                LogGroupState {
                    retention_days: Some(14),
                },
            );
            let delete = mock!(aws_sdk_cloudwatchlogs::Client::delete_log_group)
                .match_requests(|r| r.log_group_name() == Some("/stackctl/s"))
                .then_output(|| DeleteLogGroupOutput::builder().build());
            let ctx = testing::logs(&[&delete]);
            LogGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);

            let gone = fails!(
                aws_sdk_cloudwatchlogs,
                delete_log_group,
                DeleteLogGroupError,
                "ResourceNotFoundException"
            );
            let ctx = testing::logs(&[&gone]);
            LogGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
