//! The target group's calls beyond create: its one attribute, and taking back a replacement
//! that a run which did not finish made.

use aws_sdk_elasticloadbalancingv2::types::TargetGroupAttribute;

use crate::aws::elb;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::id::ResourceId;

pub(super) const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

/// The target group named `name` when it is this stack's `id` (made by a run that did not
/// finish); any other holder is a conflict.
pub(super) async fn adopt(ctx: &Context, id: &ResourceId, name: &str) -> Result<String> {
    let out = ctx
        .elb
        .describe_target_groups()
        .names(name)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DescribeTargetGroups", e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or_else(|| Error::Vanished {
            subject: id.into(),
            message: format!("target group {name} vanished"),
        })?;
    let tags = elb::tags_by_arn(ctx, &[arn.to_owned()]).await?;
    let ours = tags
        .get(arn)
        .and_then(|t| crate::tags::logical_id(&ctx.stack, t));
    match ours {
        Some(owner) if owner == *id => Ok(arn.to_owned()),
        _ => Err(Error::Conflict {
            resource: format!("target group {name}"),
            message: "exists but is not this stack's target group; stackctl will not take \
                      over a resource it did not create"
                .into(),
        }),
    }
}

pub(super) async fn set_delay(ctx: &Context, id: &ResourceId, arn: &str, secs: u32) -> Result<()> {
    ctx.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(DEREGISTRATION_DELAY)
                .value(secs.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| Error::aws(id, "ModifyTargetGroupAttributes", e))?;
    Ok(())
}
