//! What the load-balancing kinds share: the stack's load balancers and their listeners
//! (listed once per observation, for the load balancer, listener and rule kinds), tags read in batches, tag shapes
//! and re-tagging.

use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2::types::{Listener, LoadBalancer, Tag};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::named;
use crate::context::Context;
use crate::contract::{Found, Scope};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::tags::{self, Tags};

/// DescribeTags takes at most 20 ARNs a call.
const TAGS_PER_CALL: usize = 20;

pub fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags::to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
}

/// Every load balancer whose name is one of the stack's (not yet checked against its tags).
pub async fn load_balancers<'s>(scope: &'s Scope<'_>) -> Result<&'s [LoadBalancer]> {
    let ctx = scope.ctx;
    let found = scope
        .load_balancers
        .get_or_try_init(|| async {
            let all = super::all(
                ctx.elb
                    .describe_load_balancers()
                    .into_paginator()
                    .items()
                    .send(),
                |e| Error::aws("load balancers", "DescribeLoadBalancers", e),
            )
            .await?;
            Ok::<_, Error>(
                all.into_iter()
                    .filter(|lb| {
                        lb.load_balancer_name()
                            .is_some_and(|n| named::belongs(&ctx.stack, n))
                    })
                    .collect(),
            )
        })
        .await?;
    Ok(found.as_slice())
}

/// A load balancer's DNS name and the id of the Route 53 zone that holds it (what an alias
/// record names), by its ARN.
pub async fn dns_of(ctx: &Context, id: &ResourceId, arn: &str) -> Result<(String, String)> {
    let out = ctx
        .elb
        .describe_load_balancers()
        .load_balancer_arns(arn)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DescribeLoadBalancers", e))?;
    let found = out.load_balancers().first();
    match (
        found.and_then(|l| l.dns_name()),
        found.and_then(|l| l.canonical_hosted_zone_id()),
    ) {
        (Some(dns), Some(zone)) => Ok((dns.to_owned(), zone.to_owned())),
        _ => Err(Error::incomplete(id, "DescribeLoadBalancers", "DNS name")),
    }
}

/// Every listener of the stack's load balancers (read once per observation).
pub async fn listeners<'s>(scope: &'s Scope<'_>) -> Result<&'s [Listener]> {
    let ctx = scope.ctx;
    let found = scope
        .listeners
        .get_or_try_init(|| async {
            let mut listeners = Vec::new();
            for lb in load_balancers(scope).await? {
                let Some(arn) = lb.load_balancer_arn() else {
                    continue;
                };
                let out = ctx
                    .elb
                    .describe_listeners()
                    .load_balancer_arn(arn)
                    .send()
                    .await;
                match out {
                    Ok(out) => listeners.extend(out.listeners().iter().cloned()),
                    Err(e) if e.code() == Some("LoadBalancerNotFound") => {}
                    Err(e) => return Err(Error::aws("listeners", "DescribeListeners", e)),
                }
            }
            Ok::<_, Error>(listeners)
        })
        .await?;
    Ok(found.as_slice())
}

/// The tags of load-balancing resources, by ARN.
pub async fn tags_by_arn(ctx: &Context, arns: &[String]) -> Result<HashMap<String, Tags>> {
    let mut by_arn = HashMap::new();
    for chunk in arns.chunks(TAGS_PER_CALL) {
        let out = ctx
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| Error::aws("load-balancing resources", "DescribeTags", e))?;
        for d in out.tag_descriptions() {
            let tags = tags::collect(d.tags().iter().map(|t| (t.key(), t.value())));
            by_arn.insert(d.resource_arn().unwrap_or_default().to_owned(), tags);
        }
    }
    Ok(by_arn)
}

/// Puts back managed tags on any load-balancing resource.
pub async fn retag<S>(ctx: &Context, found: &Found<S>, tags: &Tags) -> Result<()> {
    ctx.elb
        .add_tags()
        .resource_arns(&found.aws_id)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(&found.id, "AddTags", e))?;
    Ok(())
}
