//! What the load-balancing kinds share: one observation of the stack's load balancer, target
//! group, listeners and all their tags (five reads for the four resources), and tag helpers.

use aws_sdk_elasticloadbalancingv2::types::Tag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Observed, check_owner};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::spec::Names;
use crate::tags::{ID_TAG, Tags};

pub fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The stack's load balancer, target group and listeners.
pub async fn observe_all(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    let (lb, tg) = tokio::join!(
        ctx.elb
            .describe_load_balancers()
            .names(&names.load_balancer)
            .send(),
        ctx.elb
            .describe_target_groups()
            .names(&names.target_group)
            .send(),
    );
    let lb = match lb {
        Ok(out) => out.load_balancers().first().cloned(),
        Err(e) if e.code() == Some("LoadBalancerNotFound") => None,
        Err(e) => {
            return Err(Error::aws(
                format!("load balancer {}", names.load_balancer),
                "DescribeLoadBalancers",
                e,
            ));
        }
    };
    let tg = match tg {
        Ok(out) => out.target_groups().first().cloned(),
        Err(e) if e.code() == Some("TargetGroupNotFound") => None,
        Err(e) => {
            return Err(Error::aws(
                format!("target group {}", names.target_group),
                "DescribeTargetGroups",
                e,
            ));
        }
    };
    let lb_arn = lb
        .as_ref()
        .and_then(|l| l.load_balancer_arn())
        .map(str::to_owned);
    let tg_arn = tg
        .as_ref()
        .and_then(|t| t.target_group_arn())
        .map(str::to_owned);
    let listeners = async {
        match &lb_arn {
            Some(arn) => ctx
                .elb
                .describe_listeners()
                .load_balancer_arn(arn)
                .send()
                .await
                .map(|o| o.listeners().to_vec())
                .map_err(|e| {
                    Error::aws(
                        format!("load balancer {}", names.load_balancer),
                        "DescribeListeners",
                        e,
                    )
                }),
            None => Ok(Vec::new()),
        }
    };
    let attributes = async {
        match &tg_arn {
            Some(arn) => ctx
                .elb
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .map(|o| o.attributes().to_vec())
                .map_err(|e| {
                    Error::aws(
                        format!("target group {}", names.target_group),
                        "DescribeTargetGroupAttributes",
                        e,
                    )
                }),
            None => Ok(Vec::new()),
        }
    };
    let (listeners, attributes) = tokio::try_join!(listeners, attributes)?;
    let arns: Vec<String> = lb_arn
        .iter()
        .chain(tg_arn.iter())
        .cloned()
        .chain(
            listeners
                .iter()
                .filter_map(|l| l.listener_arn().map(str::to_owned)),
        )
        .collect();
    let mut tags_by_arn = std::collections::HashMap::new();
    if !arns.is_empty() {
        let out = ctx
            .elb
            .describe_tags()
            .set_resource_arns(Some(arns))
            .send()
            .await
            .map_err(|e| {
                Error::aws(
                    format!("load balancer {}", names.load_balancer),
                    "DescribeTags",
                    e,
                )
            })?;
        for d in out.tag_descriptions() {
            let tags: Tags = d
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_owned(),
                        t.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect();
            tags_by_arn.insert(d.resource_arn().unwrap_or_default().to_owned(), tags);
        }
    }
    let tags_of = |arn: &str| tags_by_arn.get(arn).cloned().unwrap_or_default();

    let mut found = Vec::new();
    if let (Some(lb), Some(arn)) = (&lb, &lb_arn) {
        let tags = tags_of(arn);
        check_owner(ctx, super::Kind::LoadBalancer, &names.load_balancer, &tags)?;
        if let Some(id) = tags.get(ID_TAG).cloned() {
            found.push(super::load_balancer::observed(id, lb, tags));
        }
    }
    if let (Some(tg), Some(arn)) = (&tg, &tg_arn) {
        let tags = tags_of(arn);
        check_owner(ctx, super::Kind::TargetGroup, &names.target_group, &tags)?;
        if let Some(id) = tags.get(ID_TAG).cloned() {
            found.push(super::target_group::observed(id, tg, &attributes, tags));
        }
    }
    for listener in &listeners {
        let arn = listener.listener_arn().unwrap_or_default();
        let tags = tags_of(arn);
        // A listener added by hand has no stackctl tags; it goes with its load balancer.
        if let Some(id) = tags.get(ID_TAG).cloned() {
            found.push(super::listener::observed(id, listener, tags));
        }
    }
    Ok(found)
}

/// Adds the managed tags that are missing to any load-balancing resource.
pub async fn retag(ctx: &Context, observed: &Observed, desired: &Tags) -> Result<()> {
    let missing = crate::tags::missing(desired, &observed.tags);
    if missing.is_empty() {
        return Ok(());
    }
    ctx.elb
        .add_tags()
        .resource_arns(&observed.aws_id)
        .set_tags(Some(to_tags(&missing)))
        .send()
        .await
        .map_err(|e| Error::aws(&observed.id, "AddTags", e))?;
    Ok(())
}
