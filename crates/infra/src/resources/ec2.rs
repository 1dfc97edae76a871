//! What the EC2 kinds share: the stack's tag filter (one describe per kind finds every
//! resource of that kind in the stack), tag conversion, and re-tagging.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use super::{Observed, Output};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::{self, ID_TAG, STACK_TAG, Tags};

/// `tag:stackctl:stack = <stack>`: the filter every EC2 describe uses.
pub fn stack_filter(ctx: &Context) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(&ctx.stack)
        .build()
}

pub fn to_map(tags: &[Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

pub fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Tags applied atomically with the create call, so a resource is never untagged (and so
/// never invisible to the next run).
pub fn tag_spec(resource_type: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_tags(tags)))
        .build()
}

/// The logical id of an EC2 resource of this stack. The tag is checked here too, not only in
/// the describe filter: a filter the endpoint ignores (moto does, for NAT gateways) must not
/// make another stack's resource look like ours.
pub fn logical_id(ctx: &Context, tags: &Tags) -> Option<String> {
    if tags.get(STACK_TAG) != Some(&ctx.stack) {
        return None;
    }
    tags.get(ID_TAG).cloned()
}

/// Puts back managed tags that are missing or wrong.
pub async fn retag(ctx: &Context, observed: &Observed, desired: &Tags) -> Result<Output> {
    let missing = tags::missing(desired, &observed.tags);
    if !missing.is_empty() {
        ctx.ec2
            .create_tags()
            .resources(&observed.aws_id)
            .set_tags(Some(to_tags(&missing)))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "CreateTags", e))?;
    }
    Ok(Output::of(observed))
}

/// Every EC2 resource of the stack, one describe call per kind, all kinds at once.
pub async fn observe_all(ctx: &Context) -> Result<Vec<Observed>> {
    let (vpcs, gateways, subnets, tables, addresses, nats, groups) = tokio::try_join!(
        super::vpc::observe(ctx),
        super::internet_gateway::observe(ctx),
        super::subnet::observe(ctx),
        super::route_table::observe(ctx),
        super::nat::observe_eips(ctx),
        super::nat::observe(ctx),
        super::security_group::observe(ctx),
    )?;
    Ok([vpcs, gateways, subnets, tables, addresses, nats, groups].concat())
}

/// Availability zones of the region that can take subnets, in name order.
pub async fn zones(ctx: &Context) -> Result<Vec<String>> {
    let out = ctx
        .ec2
        .describe_availability_zones()
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .map_err(|e| Error::aws("availability zones", "DescribeAvailabilityZones", e))?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_owned))
        .collect();
    zones.sort();
    Ok(zones)
}

/// Deletes with `call`, retrying while AWS says something still depends on the resource
/// (telling `on_wait` why it waits), and taking "not found" as success.
pub async fn delete_retrying<T, F, Fut>(
    ctx: &Context,
    on_wait: &(dyn Fn(String) + Send + Sync),
    waiting_for: &str,
    call: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let result = crate::retry::while_codes(
        &ctx.settings,
        crate::retry::DEPENDENCY_CODES,
        |err| on_wait(format!("waiting for {waiting_for}: {err}")),
        call,
    )
    .await;
    match result {
        Err(err) if !is_not_found(&err) => Err(err),
        _ => Ok(()),
    }
}

/// True when an SDK error code means the thing is already gone.
pub fn is_not_found(err: &Error) -> bool {
    err.code()
        .is_some_and(|c| c.ends_with(".NotFound") || c.ends_with("NotFound"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_stack_s_resource_is_not_ours_even_if_a_filter_let_it_through() {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let ctx = Context::from_config("mine", "us-east-1", &config);
        let ours = tags::managed("mine", "nat-gateway", None);
        let theirs = tags::managed("other", "nat-gateway", None);
        assert_eq!(logical_id(&ctx, &ours).as_deref(), Some("nat-gateway"));
        assert_eq!(logical_id(&ctx, &theirs), None);
        assert_eq!(logical_id(&ctx, &Tags::new()), None);
    }
}
