//! SQS queues (the message queue and its dead-letter queue, with a redrive policy), found by
//! the stack's name prefix and checked against the stack's tags.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName as Attribute;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

mod read;

/// 14 days, the longest SQS keeps a message: dead letters are for people to look at.
pub const DEAD_LETTER_RETENTION_SECS: u32 = 1_209_600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// Logical id of the dead-letter queue.
    pub dead_letter_queue: ResourceId,
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

/// An attribute to set: a number, or the redrive policy (with the dead-letter queue's ARN,
/// which may be made in this run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Number {
        attribute: Attribute,
        from: Option<String>,
        to: u32,
    },
    Redrive {
        from: Option<(String, u64)>,
        to: (Ref, u32),
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Number {
                attribute,
                from,
                to,
            } => FieldChange::new(
                &snake(attribute.as_str()),
                from.as_deref().unwrap_or("(unset)"),
                to,
            ),
            Self::Redrive { from, to } => {
                let show = |arn: &str, n: &dyn std::fmt::Display| {
                    format!(
                        "{} after {n} receives",
                        arn.rsplit(':').next().unwrap_or(arn)
                    )
                };
                FieldChange::new(
                    "redrive_policy",
                    from.as_ref()
                        .map_or_else(|| "(none)".into(), |(arn, n)| show(arn, n)),
                    show(&to.0.to_string(), &to.1),
                )
            }
        }
    }
}

impl Field {
    /// The attribute and its value, with references resolved now.
    fn resolve(&self, refs: &Outputs, id: &ResourceId) -> Result<(Attribute, String)> {
        Ok(match self {
            Self::Number { attribute, to, .. } => (attribute.clone(), to.to_string()),
            Self::Redrive { to: (dlq, max), .. } => (
                Attribute::RedrivePolicy,
                redrive_policy(&dlq.resolve(refs, id)?, *max),
            ),
        })
    }
}

fn redrive_policy(arn: &str, max_receives: u32) -> String {
    serde_json::json!({ "deadLetterTargetArn": arn, "maxReceiveCount": max_receives }).to_string()
}

/// (target ARN, max receives) of a RedrivePolicy, whichever way the number is written.
fn parse_redrive(text: &str) -> Option<(String, u64)> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let count = value.get("maxReceiveCount")?;
    let count = count.as_u64().or_else(|| count.as_str()?.parse().ok())?;
    Some((arn, count))
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

impl Queue {
    /// Every attribute this queue sets, as field changes from nothing.
    fn wanted(&self, refs: &Outputs) -> Vec<Field> {
        let numbers = [
            (Attribute::VisibilityTimeout, self.visibility_timeout_secs),
            (
                Attribute::MessageRetentionPeriod,
                self.message_retention_secs,
            ),
            (
                Attribute::ReceiveMessageWaitTimeSeconds,
                self.receive_wait_secs,
            ),
        ];
        let mut fields: Vec<Field> = numbers
            .into_iter()
            .map(|(attribute, to)| Field::Number {
                attribute,
                from: None,
                to,
            })
            .collect();
        if let Some(r) = &self.redrive {
            fields.push(Field::Redrive {
                from: None,
                to: (
                    Ref::new(refs, &r.dead_letter_queue, Attr::Arn),
                    r.max_receives,
                ),
            });
        }
        fields
    }
}

impl Resource for Queue {
    type State = QueueState;
    type Field = Field;
    const LABEL: &'static str = "SQS queue";

    fn refs(&self) -> Vec<&ResourceId> {
        self.redrive.iter().map(|r| &r.dead_letter_queue).collect()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let attributes = async {
            let urls = aws::all(
                ctx.sqs
                    .list_queues()
                    .queue_name_prefix(&ctx.stack)
                    .into_paginator()
                    .items()
                    .send(),
                |e| Error::aws("SQS queues", "ListQueues", e),
            )
            .await?;
            let candidates = urls.into_iter().filter_map(|url| {
                let name = url.rsplit('/').next()?.to_owned();
                named::belongs(&ctx.stack, &name).then_some((name, url))
            });
            aws::each(candidates, |(name, url)| {
                read::attributes_of(ctx, name, url)
            })
            .await
        };
        // Tags of all the stack's queues in a page or two, read beside the queues'
        // attributes; one call per queue only for those the answer leaves out.
        let (read, tagged) = tokio::join!(attributes, aws::tagging::of_scope(scope));
        let found = aws::each(read?.into_iter().flatten(), |(name, url, attributes)| {
            let wanted = wanted.iter().any(|w| w.spec.name == name);
            claim(ctx, name, url, attributes, wanted, tagged)
        })
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &QueueState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        for field in self.wanted(refs) {
            match field {
                Field::Number { attribute, to, .. } => {
                    let have = found.attributes.get(attribute.as_str()).cloned();
                    diff.push_if(have.as_deref() != Some(to.to_string().as_str()), || {
                        Field::Number {
                            attribute,
                            from: have,
                            to,
                        }
                    });
                }
                Field::Redrive { to, .. } => {
                    let have = found
                        .attributes
                        .get(Attribute::RedrivePolicy.as_str())
                        .and_then(|h| parse_redrive(h));
                    let same = have
                        .as_ref()
                        .is_some_and(|(arn, n)| to.0.is(arn) && *n == u64::from(to.1));
                    diff.push_if(!same, || Field::Redrive { from: have, to });
                }
            }
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let attributes: HashMap<Attribute, String> = self
            .wanted(new.refs)
            .iter()
            .map(|f| f.resolve(new.refs, new.id))
            .collect::<Result<_>>()?;
        let started = std::time::Instant::now();
        let url = loop {
            let result = crate::aws::once!(
                aws_sdk_sqs,
                ctx.sqs
                    .create_queue()
                    .queue_name(&self.name)
                    .set_attributes(Some(attributes.clone()))
                    .set_tags(Some(new.tags.clone().into_iter().collect()))
            )
            .await;
            match result {
                Ok(out) => break out.queue_url.unwrap_or_default(),
                // SQS refuses a name for 60 s after a queue of that name was deleted.
                Err(e)
                    if e.code() == Some("AWS.SimpleQueueService.QueueDeletedRecently")
                        && started.elapsed() < Duration::from_secs(90) =>
                {
                    (new.wait)("SQS keeps a deleted queue's name for 60 s; waiting".into());
                    crate::slots::pause(Duration::from_secs(5)).await;
                }
                Err(e) => return Err(Error::aws(new.id, "CreateQueue", e)),
            }
        };
        let out = ctx
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(Attribute::QueueArn)
            .send()
            .await
            .map_err(|e| Error::aws(new.id, "GetQueueAttributes", e))?;
        let arn = out
            .attributes()
            .and_then(|a| a.get(&Attribute::QueueArn))
            .cloned();
        Ok(Output {
            aws_id: url.clone(),
            arn,
            url: Some(url),
        })
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<QueueState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        if !fields.is_empty() {
            let attributes: HashMap<Attribute, String> = fields
                .iter()
                .map(|f| f.resolve(refs, &found.id))
                .collect::<Result<_>>()?;
            ctx.sqs
                .set_queue_attributes()
                .queue_url(&found.aws_id)
                .set_attributes(Some(attributes))
                .send()
                .await
                .map_err(|e| Error::aws(&found.id, "SetQueueAttributes", e))?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<QueueState>, tags: &Tags) -> Result<()> {
        ctx.sqs
            .tag_queue()
            .queue_url(&found.aws_id)
            .set_tags(Some(tags.clone().into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagQueue", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<QueueState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .sqs
            .delete_queue()
            .queue_url(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteQueue", e));
        aws::gone_is_ok(result, read::is_gone)
    }

    fn uses(found: &Found<QueueState>) -> Vec<String> {
        found
            .detail
            .attributes
            .get(Attribute::RedrivePolicy.as_str())
            .and_then(|p| parse_redrive(p))
            .map(|(arn, _)| arn)
            .into_iter()
            .collect()
    }

    fn output(found: &Found<QueueState>) -> Output {
        Output {
            aws_id: found.aws_id.clone(),
            arn: found.arn.clone(),
            url: Some(found.aws_id.clone()),
        }
    }
}

/// The queue as found, when its tags say it is the stack's.
async fn claim(
    ctx: &Context,
    name: String,
    url: String,
    attributes: BTreeMap<String, String>,
    wanted: bool,
    tagged: &HashMap<String, Tags>,
) -> Result<Option<Found<QueueState>>> {
    let arn = attributes.get(Attribute::QueueArn.as_str()).cloned();
    let Some(tags) = read::tags_of(ctx, &name, &url, arn.as_ref(), tagged).await? else {
        return Ok(None);
    };
    let Some(id) = named::claim(&ctx.stack, Queue::LABEL, &name, &tags, wanted)? else {
        return Ok(None);
    };
    let messages = attributes.get(Attribute::ApproximateNumberOfMessages.as_str());
    Ok(Some(Found {
        id,
        aws_id: url,
        arn,
        state: format!("{} messages", messages.map_or("?", String::as_str)),
        tags,
        detail: QueueState { name, attributes },
    }))
}

#[cfg(test)]
mod tests {
    use aws_sdk_sqs::operation::set_queue_attributes::SetQueueAttributesOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

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
        let mut refs = testing::refs(&[("dead-letter-queue", "url")]);
        refs.get_mut("dead-letter-queue").unwrap().arn =
            Some("arn:aws:sqs:us-east-1:1:s-messages-dlq".into());
        refs
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
        assert!(desired().diff(&state("30", REDRIVE), &refs()).is_empty());
    }

    #[test]
    fn a_changed_visibility_timeout_is_exactly_one_field() {
        let d = desired().diff(&state("45", REDRIVE), &refs());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("visibility_timeout", "45", "30")
        );
    }

    #[test]
    fn a_removed_redrive_policy_is_drift() {
        let mut s = state("30", REDRIVE);
        s.attributes.remove("RedrivePolicy");
        let d = desired().diff(&s, &refs());
        let shown = d.fields[0].describe();
        assert_eq!(shown.field, "redrive_policy");
        assert_eq!(shown.to, "s-messages-dlq after 5 receives");
    }

    #[tokio::test]
    async fn the_changed_attributes_go_in_one_call() {
        let set = rule!(aws_sdk_sqs, set_queue_attributes, SetQueueAttributesOutput);
        let ctx = testing::sqs(&[&set]);
        let mut s = state("45", REDRIVE);
        s.attributes.remove("RedrivePolicy");
        let found = testing::found("queue", "url", s);
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(fields.len(), 2);
        desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(set.num_calls(), 1);
    }

    mod calls {
        use aws_sdk_sqs::operation::create_queue::{CreateQueueError, CreateQueueOutput};
        use aws_sdk_sqs::operation::delete_queue::{DeleteQueueError, DeleteQueueOutput};
        use aws_sdk_sqs::operation::get_queue_attributes::{
            GetQueueAttributesError, GetQueueAttributesOutput,
        };
        use aws_sdk_sqs::operation::list_queue_tags::ListQueueTagsOutput;
        use aws_sdk_sqs::operation::list_queues::ListQueuesOutput;
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::fails;

        const URL: &str = "https://sqs.us-east-1.amazonaws.com/1/s-messages";
        const ARN: &str = "arn:aws:sqs:us-east-1:1:s-messages";

        fn arn_rule() -> Rule {
            mock!(aws_sdk_sqs::Client::get_queue_attributes)
                .match_requests(|r| r.attribute_names() == [Attribute::QueueArn])
                .then_output(|| {
                    GetQueueAttributesOutput::builder()
                        .attributes(Attribute::QueueArn, ARN)
                        .build()
                })
        }

        #[tokio::test(start_paused = true)]
        async fn create_sets_every_attribute_and_waits_out_a_name_deleted_recently() {
            let create = mock!(aws_sdk_sqs::Client::create_queue)
                .match_requests(|r| {
                    let attributes = r.attributes().cloned().unwrap_or_default();
                    r.queue_name() == Some("s-messages")
                        && attributes
                            .get(&Attribute::VisibilityTimeout)
                            .map(String::as_str)
                            == Some("30")
                        && attributes
                            .get(&Attribute::RedrivePolicy)
                            .is_some_and(|p| p.contains("s-messages-dlq"))
                        && r.tags().is_some_and(|t| t.contains_key("stackctl:id"))
                })
                .sequence()
                .error(|| {
                    CreateQueueError::generic(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("AWS.SimpleQueueService.QueueDeletedRecently")
                            .build(),
                    )
                })
                .output(|| CreateQueueOutput::builder().queue_url(URL).build())
                .build();
            let arn = arn_rule();
            let ctx = testing::sqs(&[&create, &arn]);
            let waits = std::sync::Mutex::new(Vec::new());
            let creating = testing::Creating::new(ResourceId::QUEUE, refs());
            let mut new = creating.get();
            let heard = |m: String| waits.lock().unwrap().push(m);
            new.wait = &heard;
            let output = desired().create(&ctx, new).await.unwrap();
            assert_eq!(output.aws_id, URL);
            assert_eq!(output.arn.as_deref(), Some(ARN));
            assert_eq!(create.num_calls(), 2);
            assert!(waits.into_inner().unwrap()[0].contains("60 s"));
        }

        #[tokio::test]
        async fn observe_reads_attributes_and_tags_and_skips_a_queue_deleted_meanwhile() {
            let list = mock!(aws_sdk_sqs::Client::list_queues)
                .match_requests(|r| r.queue_name_prefix() == Some("s"))
                .then_output(|| {
                    ListQueuesOutput::builder()
                        .queue_urls(URL)
                        .queue_urls("https://sqs.us-east-1.amazonaws.com/1/s-gone")
                        .queue_urls("https://sqs.us-east-1.amazonaws.com/1/shop-messages")
                        .build()
                });
            let attributes = mock!(aws_sdk_sqs::Client::get_queue_attributes)
                .match_requests(|r| r.queue_url() == Some(URL))
                .then_output(|| {
                    let mut out = GetQueueAttributesOutput::builder()
                        .attributes(Attribute::QueueArn, ARN)
                        .attributes(Attribute::ApproximateNumberOfMessages, "3");
                    for (k, v) in state("30", REDRIVE).attributes {
                        out = out.attributes(Attribute::from(k.as_str()), v);
                    }
                    out.build()
                });
            let gone = fails!(
                aws_sdk_sqs,
                get_queue_attributes,
                GetQueueAttributesError,
                "AWS.SimpleQueueService.NonExistentQueue"
            );
            let tags = mock!(aws_sdk_sqs::Client::list_queue_tags).then_output(|| {
                ListQueueTagsOutput::builder()
                    .set_tags(Some(testing::stack_tags("queue").into_iter().collect()))
                    .build()
            });
            let ctx = testing::sqs(&[&list, &attributes, &gone, &tags]);
            let found = Queue::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::QUEUE);
            assert_eq!(found[0].arn.as_deref(), Some(ARN));
            assert_eq!(found[0].state, "3 messages");
            assert!(desired().diff(&found[0].detail, &refs()).is_empty());
            // s-gone went before its tags were asked; shop-messages is another stack's name.
            assert_eq!(tags.num_calls(), 1);
        }

        #[tokio::test]
        async fn tags_the_tagging_api_answers_for_are_not_read_queue_by_queue() {
            use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
            use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};

            let list = mock!(aws_sdk_sqs::Client::list_queues)
                .then_output(|| ListQueuesOutput::builder().queue_urls(URL).build());
            let attributes = mock!(aws_sdk_sqs::Client::get_queue_attributes).then_output(|| {
                GetQueueAttributesOutput::builder()
                    .attributes(Attribute::QueueArn, ARN)
                    .build()
            });
            let tags = mock!(aws_sdk_sqs::Client::list_queue_tags)
                .then_output(|| ListQueueTagsOutput::builder().build());
            let bulk = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
                .match_requests(|r| r.resource_type_filters().contains(&"sqs:queue".to_owned()))
                .then_output(|| {
                    let mut mapping = ResourceTagMapping::builder().resource_arn(ARN);
                    for (k, v) in testing::stack_tags("queue") {
                        mapping = mapping.tags(Tag::builder().key(k).value(v).build().unwrap());
                    }
                    GetResourcesOutput::builder()
                        .resource_tag_mapping_list(mapping.build())
                        .build()
                });
            let mut ctx = testing::sqs(&[&list, &attributes, &tags]);
            ctx.tagging = aws_smithy_mocks::mock_client!(aws_sdk_resourcegroupstagging, [&bulk]);
            let found = Queue::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::QUEUE);
            assert_eq!(tags.num_calls(), 0);
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_queue_already_gone_is_success() {
            let found = testing::found("queue", URL, state("30", REDRIVE));
            let delete = mock!(aws_sdk_sqs::Client::delete_queue)
                .match_requests(|r| r.queue_url() == Some(URL))
                .then_output(|| DeleteQueueOutput::builder().build());
            let ctx = testing::sqs(&[&delete]);
            Queue::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);
            assert_eq!(
                Queue::uses(&found),
                ["arn:aws:sqs:us-east-1:1:s-messages-dlq"]
            );

            let gone = fails!(
                aws_sdk_sqs,
                delete_queue,
                DeleteQueueError,
                "AWS.SimpleQueueService.NonExistentQueue"
            );
            let ctx = testing::sqs(&[&gone]);
            Queue::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
