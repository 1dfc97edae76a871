//! Reading one queue: its attributes, then its tags (from the tagging API's answer when it
//! has them) to tell whether it is the stack's.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sqs::types::QueueAttributeName as Attribute;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::Tags;

/// A queue's name, URL and attributes; `None` when it went between the list and this call.
pub(super) async fn attributes_of(
    ctx: &Context,
    name: String,
    url: String,
) -> Result<Option<(String, String, BTreeMap<String, String>)>> {
    let out = ctx
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(Attribute::All)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.code().is_some_and(is_gone) => return Ok(None),
        Err(e) => {
            return Err(Error::aws(
                format!("SQS queue {name}"),
                "GetQueueAttributes",
                e,
            ));
        }
    };
    let attributes = out
        .attributes()
        .map(|a| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Some((name, url, attributes)))
}

/// The queue's tags: from the tagging API's answer (`tagged`, by ARN) when it has them, else
/// read now; `None` when the queue went meanwhile.
pub(super) async fn tags_of(
    ctx: &Context,
    name: &str,
    url: &str,
    arn: Option<&String>,
    tagged: &HashMap<String, Tags>,
) -> Result<Option<Tags>> {
    if let Some(tags) = arn.and_then(|arn| tagged.get(arn)) {
        return Ok(Some(tags.clone()));
    }
    match ctx.sqs.list_queue_tags().queue_url(url).send().await {
        Ok(out) => Ok(Some(
            out.tags()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .collect(),
        )),
        Err(e) if e.code().is_some_and(is_gone) => Ok(None),
        Err(e) => Err(Error::aws(format!("SQS queue {name}"), "ListQueueTags", e)),
    }
}

/// True for SQS's answers about a queue that is not there.
pub(super) fn is_gone(code: &str) -> bool {
    matches!(
        code,
        "AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" | "NonExistentQueue"
    )
}
