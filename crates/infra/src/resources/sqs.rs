//! The message queue and its dead-letter queue (with a redrive policy), found by their
//! stack-derived names and checked against the stack's tags.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as Attr;

use super::{Detail, Diff, Kind, Observed, Output, Outputs, check_owner, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::spec::Names;
use crate::tags::{self, ID_TAG, Tags};

/// 14 days, the longest SQS keeps a message: dead letters are for people to look at.
pub const DEAD_LETTER_RETENTION_SECS: u32 = 1_209_600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue.
    pub dead_letter_queue: String,
    pub max_receives: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub name: String,
    pub visibility_timeout_secs: u32,
    pub message_retention_secs: u32,
    pub receive_wait_secs: u32,
    pub redrive: Option<Redrive>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueState {
    pub name: String,
    pub attributes: BTreeMap<String, String>,
}

const COMPARED: [Attr; 3] = [
    Attr::VisibilityTimeout,
    Attr::MessageRetentionPeriod,
    Attr::ReceiveMessageWaitTimeSeconds,
];

fn wanted(desired: &Queue, refs: &Outputs) -> BTreeMap<Attr, String> {
    let mut attrs = BTreeMap::new();
    attrs.insert(
        Attr::VisibilityTimeout,
        desired.visibility_timeout_secs.to_string(),
    );
    attrs.insert(
        Attr::MessageRetentionPeriod,
        desired.message_retention_secs.to_string(),
    );
    attrs.insert(
        Attr::ReceiveMessageWaitTimeSeconds,
        desired.receive_wait_secs.to_string(),
    );
    if let Some(redrive) = &desired.redrive {
        let arn = refs
            .get(&redrive.dead_letter_queue)
            .and_then(|o| o.arn.clone())
            .unwrap_or_else(|| format!("(new {})", redrive.dead_letter_queue));
        attrs.insert(
            Attr::RedrivePolicy,
            serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": redrive.max_receives }).to_string(),
        );
    }
    attrs
}

/// (target ARN, max receives) of a RedrivePolicy, whichever way the number is written.
fn parse_redrive(text: &str) -> Option<(String, u64)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let count = value.get("maxReceiveCount")?;
    let count = count.as_u64().or_else(|| count.as_str()?.parse().ok())?;
    Some((arn, count))
}

fn show_redrive(text: Option<&String>) -> String {
    match text.and_then(|t| parse_redrive(t)) {
        Some((arn, count)) => format!(
            "{} after {count} receives",
            arn.rsplit(':').next().unwrap_or(&arn)
        ),
        None => "(none)".into(),
    }
}

pub fn diff(desired: &Queue, observed: &QueueState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    let want = wanted(desired, refs);
    for attr in COMPARED {
        let have = observed
            .attributes
            .get(attr.as_str())
            .map_or("(unset)", String::as_str);
        if let Some(w) = want.get(&attr) {
            diff.compare(&snake(attr.as_str()), have, w.as_str());
        }
    }
    let have = observed.attributes.get(Attr::RedrivePolicy.as_str());
    let want_redrive = want.get(&Attr::RedrivePolicy);
    if have.and_then(|h| parse_redrive(h)) != want_redrive.and_then(|w| parse_redrive(w)) {
        diff.field(
            "redrive_policy",
            show_redrive(have),
            show_redrive(want_redrive),
        );
    }
    diff
}

fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

pub async fn observe(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    // One call finds both: the dead-letter queue's name extends the queue's.
    let out = ctx
        .sqs
        .list_queues()
        .queue_name_prefix(&names.queue)
        .send()
        .await
        .map_err(|e| Error::aws("SQS queues", "ListQueues", e))?;
    let wanted = [names.queue.as_str(), names.dead_letter_queue.as_str()];
    let urls: Vec<(String, String)> = out
        .queue_urls()
        .iter()
        .filter_map(|url| {
            let name = url.rsplit('/').next()?;
            wanted
                .contains(&name)
                .then(|| (name.to_owned(), url.clone()))
        })
        .collect();
    let found = futures::future::try_join_all(
        urls.into_iter()
            .map(|(name, url)| observe_one(ctx, name, url)),
    )
    .await?;
    Ok(found.into_iter().flatten().collect())
}

async fn observe_one(ctx: &Context, name: String, url: String) -> Result<Option<Observed>> {
    let (attrs, tag_out) = tokio::join!(
        ctx.sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(Attr::All)
            .send(),
        ctx.sqs.list_queue_tags().queue_url(&url).send(),
    );
    let attrs = match attrs {
        Ok(out) => out,
        // Deleted between the list and this call.
        Err(e) if is_gone(e.code()) => return Ok(None),
        Err(e) => {
            return Err(Error::aws(
                format!("SQS queue {name}"),
                "GetQueueAttributes",
                e,
            ));
        }
    };
    let tags: Tags = match tag_out {
        Ok(out) => out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        Err(e) if is_gone(e.code()) => return Ok(None),
        Err(e) => return Err(Error::aws(format!("SQS queue {name}"), "ListQueueTags", e)),
    };
    check_owner(ctx, Kind::Queue, &name, &tags)?;
    let attributes: BTreeMap<String, String> = attrs
        .attributes()
        .map(|a: &HashMap<Attr, String>| {
            a.iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(None);
    };
    Ok(Some(Observed {
        id,
        kind: Kind::Queue,
        aws_id: url,
        arn: attributes.get(Attr::QueueArn.as_str()).cloned(),
        state: format!(
            "{} messages",
            attributes
                .get(Attr::ApproximateNumberOfMessages.as_str())
                .map_or("?", String::as_str)
        ),
        tags,
        detail: Detail::Queue(QueueState { name, attributes }),
    }))
}

fn is_gone(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist" | "NonExistentQueue")
    )
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &Queue,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    if let Some(redrive) = &desired.redrive {
        resolve(refs, id, &redrive.dead_letter_queue)?;
    }
    let attrs: HashMap<Attr, String> = wanted(desired, refs).into_iter().collect();
    let started = std::time::Instant::now();
    let url = loop {
        let result = ctx
            .sqs
            .create_queue()
            .queue_name(&desired.name)
            .set_attributes(Some(attrs.clone()))
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await;
        match result {
            Ok(out) => break out.queue_url.unwrap_or_default(),
            // SQS refuses a name for 60 s after a queue of that name was deleted.
            Err(e)
                if e.code() == Some("AWS.SimpleQueueService.QueueDeletedRecently")
                    && started.elapsed() < Duration::from_secs(90) =>
            {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Err(e) => return Err(Error::aws(id, "CreateQueue", e)),
        }
    };
    let out = ctx
        .sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(Attr::QueueArn)
        .send()
        .await
        .map_err(|e| Error::aws(id, "GetQueueAttributes", e))?;
    let arn = out
        .attributes()
        .and_then(|a| a.get(&Attr::QueueArn))
        .cloned();
    Ok(Output {
        aws_id: url.clone(),
        arn,
        url: Some(url),
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Queue,
    state: &QueueState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let changed: HashMap<Attr, String> = wanted(desired, refs)
        .into_iter()
        .filter(|(attr, value)| {
            let have = state.attributes.get(attr.as_str());
            match attr {
                Attr::RedrivePolicy => have.and_then(|h| parse_redrive(h)) != parse_redrive(value),
                _ => have != Some(value),
            }
        })
        .collect();
    if !changed.is_empty() {
        ctx.sqs
            .set_queue_attributes()
            .queue_url(&observed.aws_id)
            .set_attributes(Some(changed))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "SetQueueAttributes", e))?;
    }
    let missing = tags::missing(tags, &observed.tags);
    if !missing.is_empty() {
        ctx.sqs
            .tag_queue()
            .queue_url(&observed.aws_id)
            .set_tags(Some(missing.into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "TagQueue", e))?;
    }
    Ok(Output::of(observed))
}

pub async fn delete(ctx: &Context, observed: &Observed) -> Result<()> {
    match ctx
        .sqs
        .delete_queue()
        .queue_url(&observed.aws_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if is_gone(e.code()) => Ok(()),
        Err(e) => Err(Error::aws(&observed.id, "DeleteQueue", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Queue {
        Queue {
            name: "s-messages".into(),
            visibility_timeout_secs: 30,
            message_retention_secs: 345_600,
            receive_wait_secs: 0,
            redrive: Some(Redrive {
                dead_letter_queue: "dead-letter-queue".into(),
                max_receives: 5,
            }),
        }
    }

    fn refs() -> Outputs {
        [(
            "dead-letter-queue".to_owned(),
            Output {
                aws_id: "url".into(),
                arn: Some("arn:aws:sqs:us-east-1:1:s-messages-dlq".into()),
                url: None,
            },
        )]
        .into()
    }

    fn state(visibility: &str, redrive: &str) -> QueueState {
        QueueState {
            name: "s-messages".into(),
            attributes: [
                ("VisibilityTimeout", visibility),
                ("MessageRetentionPeriod", "345600"),
                ("ReceiveMessageWaitTimeSeconds", "0"),
                ("RedrivePolicy", redrive),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    const REDRIVE: &str =
        r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:s-messages-dlq","maxReceiveCount":"5"}"#;

    #[test]
    fn equal_attributes_are_unchanged_whatever_the_number_format() {
        assert_eq!(
            diff(&desired(), &state("30", REDRIVE), &refs()),
            Diff::default()
        );
    }

    #[test]
    fn a_changed_visibility_timeout_is_exactly_one_field() {
        let d = diff(&desired(), &state("45", REDRIVE), &refs());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(
            (
                d.fields[0].field.as_str(),
                d.fields[0].from.as_str(),
                d.fields[0].to.as_str()
            ),
            ("visibility_timeout", "45", "30")
        );
    }

    #[test]
    fn a_removed_redrive_policy_is_drift() {
        let mut s = state("30", REDRIVE);
        s.attributes.remove("RedrivePolicy");
        let d = diff(&desired(), &s, &refs());
        assert_eq!(d.fields[0].field, "redrive_policy");
        assert_eq!(d.fields[0].to, "s-messages-dlq after 5 receives");
    }
}
