//! Every stackctl stack in an account and region, for `stackctl ls`: found by the
//! `stackctl:stack` tag on EC2 resources (every stack has its VPC and its subnets), then each
//! observed as `down` would see it, with what it costs a month while it stands.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;
use serde::Serialize;

use crate::context::Context;
use crate::cost::{self, Estimate};
use crate::error::{Error, Result};
use crate::plan::{Action, Plan};
use crate::tags::STACK_TAG;

/// One stack as `ls` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct StackSummary {
    pub stack: String,
    pub resources: usize,
    pub cost: Estimate,
    /// Why the stack could not be read (its resources and cost are then unknown, shown as 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The names of the stacks that have EC2 resources in `ctx`'s region, sorted.
pub async fn names(ctx: &Context) -> Result<Vec<String>> {
    let key = Filter::builder().name("key").values(STACK_TAG).build();
    let tags = crate::aws::all(
        ctx.ec2
            .describe_tags()
            .filters(key)
            .into_paginator()
            .items()
            .send(),
        |e| Error::aws("stacks", "DescribeTags", e),
    )
    .await?;
    let names: BTreeSet<String> = tags
        .iter()
        .filter(|t| t.key() == Some(STACK_TAG))
        .filter_map(|t| t.value().map(str::to_owned))
        .collect();
    Ok(names.into_iter().collect())
}

/// When `plan` makes the stack anew: the other stacks made from the stack file at `source` (a
/// stack file whose name changed leaves its old stack standing), from the source tag on
/// their VPCs.
pub async fn renamed_from(ctx: &Context, source: &str, plan: &Plan) -> Result<Vec<String>> {
    let new_stack = plan
        .get(crate::id::ResourceId::VPC.as_str())
        .is_some_and(|c| c.action() == Action::Create);
    if !new_stack {
        return Ok(Vec::new());
    }
    let filter = Filter::builder()
        .name(format!("tag:{}", crate::tags::SOURCE_TAG))
        .values(source)
        .build();
    let vpcs = ctx
        .ec2
        .describe_vpcs()
        .filters(filter)
        .send()
        .await
        .map_err(|e| Error::aws("VPCs", "DescribeVpcs", e))?;
    let names: BTreeSet<String> = vpcs
        .vpcs()
        .iter()
        .filter(|v| {
            v.tags()
                .iter()
                .any(|t| t.key() == Some(crate::tags::SOURCE_TAG) && t.value() == Some(source))
        })
        .filter_map(|v| {
            let stack = v.tags().iter().find(|t| t.key() == Some(STACK_TAG))?;
            stack.value().map(str::to_owned)
        })
        .filter(|name| name != &ctx.stack)
        .collect();
    Ok(names.into_iter().collect())
}

/// Everything of stack `name` (as `down` finds it) and its monthly estimate.
pub async fn summary(ctx: &Context, name: &str) -> Result<StackSummary> {
    let ctx = Context {
        stack: name.to_owned(),
        ..ctx.clone()
    };
    let observed = crate::resources::observe_all(&ctx, &[]).await?.found;
    Ok(StackSummary {
        stack: name.to_owned(),
        resources: observed.len(),
        cost: cost::monthly(&observed),
        error: None,
    })
}

/// Stacks read at once: each is about a dozen describe calls.
const AT_ONCE: usize = 4;

/// Every stack in `ctx`'s region with its summary, sorted by name. A stack that cannot be
/// read (being deleted as it is read, or refused) is listed with the reason; the others are
/// still shown.
pub async fn all(ctx: &Context) -> Result<Vec<StackSummary>> {
    use futures::StreamExt;
    let names = names(ctx).await?;
    let mut stacks: Vec<StackSummary> = futures::stream::iter(names)
        .map(|name| async move {
            summary(ctx, &name)
                .await
                .unwrap_or_else(|err| StackSummary {
                    stack: name,
                    resources: 0,
                    cost: Estimate::default(),
                    error: Some(crate::error::chain(&err)),
                })
        })
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    // A deleted NAT gateway keeps its tags for an hour: a stack with nothing left is gone.
    stacks.retain(|s| s.resources > 0 || s.error.is_some());
    stacks.sort_by(|a, b| a.stack.cmp(&b.stack));
    Ok(stacks)
}
