//! What the EC2 kinds share: the stack's tag filter (one describe per kind finds every
//! resource of that kind in the stack), the observe skeleton, tag shapes, re-tagging, and
//! deletes that wait out `DependencyViolation`.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};

use crate::context::Context;
use crate::contract::{Found, Wait};
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::{self, STACK_TAG, Tags};

/// `tag:stackctl:stack = <stack>`: the filter every EC2 describe uses.
pub fn stack_filter(ctx: &Context) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(&ctx.stack)
        .build()
}

pub fn tags_of(tags: &[Tag]) -> Tags {
    tags::collect(tags.iter().map(|t| (t.key(), t.value())))
}

pub fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags::to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
}

/// Tags applied atomically with the create call, so a resource is never untagged (and so
/// never invisible to the next run).
pub fn tag_spec(resource_type: ResourceType, tags: &Tags) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(to_tags(tags)))
        .build()
}

/// What identifies an EC2 resource in a describe answer.
pub struct Seen<'a> {
    pub tags: &'a [Tag],
    pub aws_id: Option<&'a str>,
    pub arn: Option<&'a str>,
    pub state: String,
}

impl<'a> Seen<'a> {
    /// A resource EC2 reports no state for ("available" while it exists) and no ARN.
    pub fn new(tags: &'a [Tag], aws_id: Option<&'a str>) -> Self {
        Self {
            tags,
            aws_id,
            arn: None,
            state: "available".into(),
        }
    }

    pub fn arn(self, arn: Option<&'a str>) -> Self {
        Self { arn, ..self }
    }

    /// The state EC2 reports (empty when it reports none).
    pub fn state(self, state: Option<impl AsRef<str>>) -> Self {
        let state = state.map(|s| s.as_ref().to_owned()).unwrap_or_default();
        Self { state, ..self }
    }
}

/// Every item of one EC2 describe call filtered by the stack's tag, all pages, or the first
/// error. The describe builders share no trait, hence a macro; `$filter` is the builder's
/// name for adding a filter (`filters`, or `filter` on DescribeNatGateways). Items are
/// checked for the tag again by [`found`].
macro_rules! describe_stack {
    ($ctx:expr, $describe:ident, $filter:ident, $what:expr) => {
        $crate::aws::all(
            $ctx.ec2
                .$describe()
                .$filter($crate::aws::ec2::stack_filter($ctx))
                .into_paginator()
                .items()
                .send(),
            |e| {
                let (what, op) = $what;
                $crate::error::Error::aws(what, op, e)
            },
        )
        .await
    };
}
pub(crate) use describe_stack;

/// The stack's resources among the items of a describe answer, each read by `seen`. The
/// stack's tag is checked on every item, not only in the filter: an endpoint may ignore it.
pub fn found<T, S>(
    ctx: &Context,
    items: &[T],
    seen: impl Fn(&T) -> (Seen<'_>, S),
) -> Vec<Found<S>> {
    items
        .iter()
        .filter_map(|item| {
            let (seen, detail) = seen(item);
            let tags = tags_of(seen.tags);
            Some(Found {
                id: tags::logical_id(&ctx.stack, &tags)?,
                detail,
                aws_id: seen.aws_id?.to_owned(),
                arn: seen.arn.map(str::to_owned),
                state: seen.state,
                tags,
            })
        })
        .collect()
}

/// Deletes `$found` with one EC2 delete call (`$call`, its id given by `$id_setter`),
/// retrying while `DependencyViolation` says `$waiting_for` has not happened yet; "not found"
/// is success. A macro for the same reason as [`describe_stack`].
macro_rules! delete_found {
    ($ctx:expr, $wait:expr, $found:expr, $waiting_for:expr, $call:ident . $id_setter:ident, $op:expr) => {
        $crate::aws::ec2::delete_retrying($ctx, $wait, $waiting_for, || async {
            $ctx.ec2
                .$call()
                .$id_setter(&$found.aws_id)
                .send()
                .await
                .map_err(|e| $crate::error::Error::aws(&$found.id, $op, e))
        })
        .await
    };
}
pub(crate) use delete_found;

/// Puts back managed tags on any EC2 resource.
pub async fn retag<S>(ctx: &Context, found: &Found<S>, tags: &Tags) -> Result<()> {
    ctx.ec2
        .create_tags()
        .resources(&found.aws_id)
        .set_tags(Some(to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(&found.id, "CreateTags", e))?;
    Ok(())
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
/// (telling `wait` why it waits), and taking "not found" as success.
pub async fn delete_retrying<T, F, Fut>(
    ctx: &Context,
    wait: Wait<'_>,
    waiting_for: &str,
    call: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let result = retry::while_codes(
        &ctx.settings,
        retry::DEPENDENCY_CODES,
        |err| wait(format!("waiting for {waiting_for}: {err}")),
        call,
    )
    .await;
    super::gone_is_ok(result, is_not_found)
}

/// True when an EC2 error code means the thing is already gone.
pub fn is_not_found(code: &str) -> bool {
    code.ends_with("NotFound")
}
