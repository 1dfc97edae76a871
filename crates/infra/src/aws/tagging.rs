//! The Resource Groups Tagging API: the tags of every resource of the given types that carries
//! the stack's tag, a hundred to a page, read once per observation for all the kinds that use
//! it. It is for kinds whose own API answers tags one resource at a time (CloudWatch alarms,
//! SQS queues: a call each), so that reading a stack costs a number of calls that grows with
//! its kinds, not its resources.
//!
//! The answer is a shortcut, never the truth: the API is eventually consistent (a resource
//! made seconds ago may be missing) and an endpoint or a policy may not serve it. A resource the
//! answer leaves out is read on its own, and an answer that fails is no answer.

use std::collections::HashMap;

use aws_sdk_resourcegroupstagging::types::TagFilter;

use crate::context::Context;
use crate::contract::Scope;
use crate::tags::{self, Tags};

/// The resource types whose tags come from this API: every kind that reads them here.
const TYPES: &[&str] = &[
    "acm:certificate",
    "cloudwatch:alarm",
    "s3:bucket",
    "sqs:queue",
];

/// The tags of the stack's alarms, buckets, queues and certificates, by ARN: one read (a page
/// per hundred) for the whole observation, shared by the kinds that use it; empty when the
/// API cannot answer.
pub async fn of_scope<'s>(scope: &'s Scope<'_>) -> &'s HashMap<String, Tags> {
    static NONE: std::sync::LazyLock<HashMap<String, Tags>> =
        std::sync::LazyLock::new(HashMap::new);
    answer_of_scope(scope).await.unwrap_or(&NONE)
}

/// The same, or `None` when the API cannot answer.
pub async fn answer_of_scope<'s>(scope: &'s Scope<'_>) -> Option<&'s HashMap<String, Tags>> {
    scope
        .tagged
        .get_or_init(|| answer(scope.ctx, TYPES))
        .await
        .as_ref()
}

/// The tags of the stack's resources of `resource_types` (`cloudwatch:alarm`), by ARN; empty
/// when the API cannot answer.
pub async fn of_stack(ctx: &Context, resource_types: &[&str]) -> HashMap<String, Tags> {
    answer(ctx, resource_types).await.unwrap_or_default()
}

/// The same, or `None` when the API cannot answer (not served, denied, failed).
pub async fn answer(ctx: &Context, resource_types: &[&str]) -> Option<HashMap<String, Tags>> {
    let pages = ctx
        .tagging
        .get_resources()
        .tag_filters(
            TagFilter::builder()
                .key(tags::STACK_TAG)
                .values(&ctx.stack)
                .build(),
        )
        .set_resource_type_filters(Some(
            resource_types.iter().map(|t| (*t).to_owned()).collect(),
        ))
        .resources_per_page(100)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await;
    let pages = pages.ok()?;
    let found = pages
        .iter()
        .flat_map(|page| page.resource_tag_mapping_list())
        .filter_map(|mapping| {
            let found = tags::collect(
                mapping
                    .tags()
                    .iter()
                    .map(|t| (Some(t.key()), Some(t.value()))),
            );
            Some((mapping.resource_arn()?.to_owned(), found))
        })
        .collect();
    Some(found)
}

#[cfg(test)]
mod tests {
    use aws_sdk_resourcegroupstagging::operation::get_resources::{
        GetResourcesError, GetResourcesOutput,
    };
    use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::resources::testing;

    fn tag(key: &str, value: &str) -> Tag {
        Tag::builder().key(key).value(value).build().unwrap()
    }

    #[tokio::test]
    async fn every_page_is_read_and_each_resource_keeps_its_own_tags() {
        let first = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
            .match_requests(|r| {
                r.pagination_token().is_none()
                    && r.resource_type_filters() == ["cloudwatch:alarm"]
                    && r.tag_filters()[0].values() == ["s"]
            })
            .then_output(|| {
                GetResourcesOutput::builder()
                    .resource_tag_mapping_list(
                        ResourceTagMapping::builder()
                            .resource_arn("arn:a")
                            .tags(tag(tags::STACK_TAG, "s"))
                            .tags(tag("team", "a"))
                            .build(),
                    )
                    .pagination_token("next")
                    .build()
            });
        let second = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
            .match_requests(|r| r.pagination_token() == Some("next"))
            .then_output(|| {
                GetResourcesOutput::builder()
                    .resource_tag_mapping_list(
                        ResourceTagMapping::builder()
                            .resource_arn("arn:b")
                            .tags(tag(tags::STACK_TAG, "s"))
                            .build(),
                    )
                    .pagination_token("")
                    .build()
            });
        let mut ctx = testing::context();
        ctx.tagging = mock_client!(
            aws_sdk_resourcegroupstagging,
            RuleMode::MatchAny,
            [&first, &second]
        );
        let found = of_stack(&ctx, &["cloudwatch:alarm"]).await;
        assert_eq!(found.len(), 2);
        assert_eq!(found["arn:a"].get("team").map(String::as_str), Some("a"));
        assert!(!found["arn:b"].contains_key("team"));
    }

    #[tokio::test]
    async fn an_api_that_cannot_answer_is_no_answer() {
        let denied = mock!(aws_sdk_resourcegroupstagging::Client::get_resources).then_error(|| {
            GetResourcesError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .build(),
            )
        });
        let mut ctx = testing::context();
        ctx.tagging = mock_client!(aws_sdk_resourcegroupstagging, RuleMode::MatchAny, [&denied]);
        assert!(of_stack(&ctx, &["cloudwatch:alarm"]).await.is_empty());
    }
}
