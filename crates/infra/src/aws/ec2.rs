//! What the EC2 kinds share: the stack's tag filter (one describe per kind finds every
//! resource of that kind in the stack), the observe skeleton, tag shapes, re-tagging, and
//! deletes that wait out `DependencyViolation`.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use aws_smithy_async::future::pagination_stream::PaginationStream;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::resource::{Found, Wait};
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

/// The stack's resources in a paginated describe call, each read by `seen`; `what` names
/// the resources and the operation in errors.
pub async fn observe<T, S, E, R>(
    ctx: &Context,
    pages: PaginationStream<std::result::Result<T, SdkError<E, R>>>,
    what: (&str, &'static str),
    seen: impl Fn(&T) -> (Seen<'_>, S),
) -> Result<Vec<Found<S>>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let items = super::all(pages, |e| Error::aws(what.0, what.1, e)).await?;
    Ok(found(ctx, &items, seen))
}

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
