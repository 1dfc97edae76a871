//! The CloudWatch log group the service's containers write to, with its retention.

use super::{Detail, Diff, Kind, Observed, Output, check_owner};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::spec::Names;
use crate::tags::{self, ID_TAG, Tags};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupState {
    pub retention_days: Option<i32>,
}

pub fn diff(desired: &LogGroup, observed: &LogGroupState) -> Diff {
    let mut diff = Diff::default();
    if observed.retention_days != Some(desired.retention_days) {
        let from = observed
            .retention_days
            .map_or("never expire".into(), |d| d.to_string());
        diff.field("retention_days", from, desired.retention_days);
    }
    diff
}

/// The ARN tagging calls take: the described ARN without its trailing `:*`.
fn tagging_arn(arn: &str) -> &str {
    arn.strip_suffix(":*").unwrap_or(arn)
}

pub async fn observe(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    let name = &names.log_group;
    let out = ctx
        .logs
        .describe_log_groups()
        .log_group_name_prefix(name)
        .send()
        .await
        .map_err(|e| Error::aws(format!("log group {name}"), "DescribeLogGroups", e))?;
    let Some(group) = out
        .log_groups()
        .iter()
        .find(|g| g.log_group_name() == Some(name.as_str()))
    else {
        return Ok(Vec::new());
    };
    let arn = tagging_arn(group.arn().unwrap_or_default()).to_owned();
    let tags: Tags = ctx
        .logs
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| Error::aws(format!("log group {name}"), "ListTagsForResource", e))?
        .tags()
        .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    check_owner(ctx, Kind::LogGroup, name, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(Vec::new());
    };
    Ok(vec![Observed {
        id,
        kind: Kind::LogGroup,
        aws_id: name.clone(),
        arn: Some(arn),
        state: "available".into(),
        tags,
        detail: Detail::LogGroup(LogGroupState {
            retention_days: group.retention_in_days(),
        }),
    }])
}

async fn put_retention(ctx: &Context, id: &str, desired: &LogGroup) -> Result<()> {
    ctx.logs
        .put_retention_policy()
        .log_group_name(&desired.name)
        .retention_in_days(desired.retention_days)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutRetentionPolicy", e))?;
    Ok(())
}

pub async fn create(ctx: &Context, id: &str, desired: &LogGroup, tags: &Tags) -> Result<Output> {
    ctx.logs
        .create_log_group()
        .log_group_name(&desired.name)
        .set_tags(Some(tags.clone().into_iter().collect()))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateLogGroup", e))?;
    put_retention(ctx, id, desired).await?;
    Ok(Output {
        aws_id: desired.name.clone(),
        ..Output::default()
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &LogGroup,
    state: &LogGroupState,
    tags: &Tags,
) -> Result<Output> {
    if state.retention_days != Some(desired.retention_days) {
        put_retention(ctx, &observed.id, desired).await?;
    }
    let missing = tags::missing(tags, &observed.tags);
    if let (false, Some(arn)) = (missing.is_empty(), &observed.arn) {
        ctx.logs
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(missing.into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "TagResource", e))?;
    }
    Ok(Output::of(observed))
}

pub async fn delete(ctx: &Context, observed: &Observed) -> Result<()> {
    match ctx
        .logs
        .delete_log_group()
        .log_group_name(&observed.aws_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(()),
        Err(e) => Err(Error::aws(&observed.id, "DeleteLogGroup", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_changes_and_never_expire_are_updates() {
        let desired = LogGroup {
            name: "/stackctl/s".into(),
            retention_days: 14,
        };
        assert_eq!(
            diff(
                &desired,
                &LogGroupState {
                    retention_days: Some(14)
                }
            ),
            Diff::default()
        );
        let d = diff(
            &desired,
            &LogGroupState {
                retention_days: None,
            },
        );
        assert_eq!(
            (d.fields[0].from.as_str(), d.fields[0].to.as_str()),
            ("never expire", "14")
        );
    }
}
