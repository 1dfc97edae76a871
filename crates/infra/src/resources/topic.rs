//! The stack's SNS topic for its alarms, when `[alarms] notify` is an email address: the topic
//! `<stack>-alarms` and the address subscribed to it (AWS mails a confirmation link first).

use aws_sdk_sns::types::Tag;

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicState {
    /// The email addresses subscribed (confirmed or not).
    pub emails: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Subscribe { email: String },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Subscribe { email } = self;
        FieldChange::new("subscription", "(none)", email)
    }
}

/// The name in a topic's ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`).
fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

impl Resource for Topic {
    type State = TopicState;
    type Field = Field;
    const LABEL: &'static str = "SNS topic";

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let pages = aws::all(ctx.sns.list_topics().into_paginator().send(), |e| {
            Error::aws("SNS topics", "ListTopics", e)
        })
        .await?;
        let mut found = Vec::new();
        for arn in pages
            .iter()
            .flat_map(|p| p.topics())
            .filter_map(|t| t.topic_arn())
        {
            let name = name_of(arn);
            if !named::belongs(&ctx.stack, name) {
                continue;
            }
            let tags: Tags = ctx
                .sns
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .map_err(|e| Error::aws(format!("SNS topic {name}"), "ListTagsForResource", e))?
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            let is_wanted = wanted.iter().any(|w| w.spec.name == name);
            let Some(id) = named::claim(&ctx.stack, Self::LABEL, name, &tags, is_wanted)? else {
                continue;
            };
            let subscriptions = ctx
                .sns
                .list_subscriptions_by_topic()
                .topic_arn(arn)
                .send()
                .await
                .map_err(|e| Error::aws(&id, "ListSubscriptionsByTopic", e))?;
            let emails = subscriptions
                .subscriptions()
                .iter()
                .filter(|s| s.protocol() == Some("email"))
                .filter_map(|s| s.endpoint().map(str::to_owned))
                .collect();
            found.push(Found {
                id,
                aws_id: arn.to_owned(),
                arn: Some(arn.to_owned()),
                state: "active".into(),
                tags,
                detail: TopicState { emails },
            });
        }
        Ok(found)
    }

    fn diff(&self, found: &TopicState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        // Other subscriptions (added by hand) are left alone: they may be someone's pager.
        diff.push_if(!found.emails.contains(&self.email), || Field::Subscribe {
            email: self.email.clone(),
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        // CreateTopic answers with the same topic when it exists: safe to repeat.
        let tags = new
            .tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::request(new.id, "invalid tag"))?;
        let out = ctx
            .sns
            .create_topic()
            .name(&self.name)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| Error::aws(new.id, "CreateTopic", e))?;
        let arn = out
            .topic_arn()
            .ok_or_else(|| Error::incomplete(new.id, "CreateTopic", "ARN"))?;
        subscribe(ctx, new.id, arn, &self.email).await?;
        Ok(Output::arn(arn))
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<TopicState>,
        field: &Field,
        _: &Outputs,
    ) -> Result<()> {
        let Field::Subscribe { email } = field;
        subscribe(ctx, &found.id, &found.aws_id, email).await
    }

    async fn retag(ctx: &Context, found: &Found<TopicState>, tags: &Tags) -> Result<()> {
        let tags = tags
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(Error::request(&found.id, "invalid tag"))?;
        ctx.sns
            .tag_resource()
            .resource_arn(&found.aws_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagResource", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<TopicState>, _: Wait<'_>) -> Result<()> {
        // Its subscriptions go with it. AWS answers success for a topic that is gone; the
        // not-found code is taken as success too, should any endpoint answer it.
        let result = ctx
            .sns
            .delete_topic()
            .topic_arn(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteTopic", e));
        aws::gone_is_ok(result, |c| c == "NotFound")
    }

    fn uses(_: &Found<TopicState>) -> Vec<String> {
        Vec::new()
    }

    fn output(found: &Found<TopicState>) -> Output {
        Output::arn(found.aws_id.clone())
    }
}

/// Subscribes an address; AWS mails it a link to confirm. Repeating it makes no second one.
async fn subscribe(ctx: &Context, id: &ResourceId, topic: &str, email: &str) -> Result<()> {
    ctx.sns
        .subscribe()
        .topic_arn(topic)
        .protocol("email")
        .endpoint(email)
        .send()
        .await
        .map_err(|e| Error::aws(id, "Subscribe", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_sns::operation::create_topic::CreateTopicOutput;
    use aws_sdk_sns::operation::delete_topic::{DeleteTopicError, DeleteTopicOutput};
    use aws_sdk_sns::operation::list_subscriptions_by_topic::ListSubscriptionsByTopicOutput;
    use aws_sdk_sns::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_sns::operation::list_topics::ListTopicsOutput;
    use aws_sdk_sns::operation::subscribe::SubscribeOutput;
    use aws_sdk_sns::types::Subscription;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::resources::testing::{self, fails};

    const ARN: &str = "arn:aws:sns:us-east-1:123456789012:s-alarms";

    fn desired() -> Topic {
        Topic {
            name: "s-alarms".into(),
            email: "ops@example.com".into(),
        }
    }

    fn found(emails: &[&str]) -> Found<TopicState> {
        testing::found(
            "alarm-topic",
            ARN,
            TopicState {
                emails: emails.iter().map(|e| (*e).to_owned()).collect(),
            },
        )
    }

    fn subscribe_rule() -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_sns::Client::subscribe)
            .match_requests(|r| {
                r.topic_arn() == Some(ARN)
                    && r.protocol() == Some("email")
                    && r.endpoint() == Some("ops@example.com")
            })
            .then_output(|| SubscribeOutput::builder().build())
    }

    #[tokio::test]
    async fn create_makes_the_tagged_topic_and_subscribes_the_address() {
        let create = mock!(aws_sdk_sns::Client::create_topic)
            .match_requests(|r| {
                r.name() == Some("s-alarms")
                    && r.tags()
                        .iter()
                        .any(|t| t.key() == "stackctl:id" && t.value() == "alarm-topic")
            })
            .then_output(|| CreateTopicOutput::builder().topic_arn(ARN).build());
        let subscribe = subscribe_rule();
        let ctx = testing::sns(&[&create, &subscribe]);
        let creating = testing::Creating::new("alarm-topic".into(), Outputs::new());
        let output = desired().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, ARN);
        assert_eq!(output.arn.as_deref(), Some(ARN));
        assert_eq!((create.num_calls(), subscribe.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn observe_reads_back_the_stack_s_topic_and_its_email_subscriptions() {
        let list = mock!(aws_sdk_sns::Client::list_topics).then_output(|| {
            let topic = |arn: &str| aws_sdk_sns::types::Topic::builder().topic_arn(arn).build();
            ListTopicsOutput::builder()
                .topics(topic(ARN))
                .topics(topic("arn:aws:sns:us-east-1:123456789012:other-alarms"))
                .build()
        });
        let tags = mock!(aws_sdk_sns::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some(ARN))
            .then_output(|| {
                let tags = testing::stack_tags("alarm-topic")
                    .into_iter()
                    .map(|(k, v)| {
                        aws_sdk_sns::types::Tag::builder()
                            .key(k)
                            .value(v)
                            .build()
                            .unwrap()
                    });
                ListTagsForResourceOutput::builder()
                    .set_tags(Some(tags.collect()))
                    .build()
            });
        let subscriptions =
            mock!(aws_sdk_sns::Client::list_subscriptions_by_topic).then_output(|| {
                let sub = |protocol: &str, endpoint: &str| {
                    Subscription::builder()
                        .protocol(protocol)
                        .endpoint(endpoint)
                        .build()
                };
                ListSubscriptionsByTopicOutput::builder()
                    .subscriptions(sub("email", "ops@example.com"))
                    .subscriptions(sub("https", "https://pager.example.com"))
                    .build()
            });
        let ctx = testing::sns(&[&list, &tags, &subscriptions]);
        let scope = Scope::new(&ctx);
        let spec = desired();
        let id = ResourceId::from("alarm-topic");
        let found = Topic::observe(
            &scope,
            &[Wanted {
                id: &id,
                spec: &spec,
            }],
        )
        .await
        .unwrap();
        assert_eq!(
            found.len(),
            1,
            "another stack's topic is not read: {found:?}"
        );
        assert_eq!(found[0].id, id);
        assert_eq!(found[0].aws_id, ARN);
        assert_eq!(found[0].detail.emails, ["ops@example.com"]);
        assert!(spec.diff(&found[0].detail, &Outputs::new()).is_empty());
    }

    #[tokio::test]
    async fn a_missing_subscription_is_one_subscribe_call() {
        let subscribe = subscribe_rule();
        let ctx = testing::sns(&[&subscribe]);
        let found = found(&["someone-else@example.com"]);
        let fields = desired().diff(&found.detail, &Outputs::new()).fields;
        assert_eq!(
            fields,
            [Field::Subscribe {
                email: "ops@example.com".into()
            }]
        );
        desired()
            .update(&ctx, &found, &fields, &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(subscribe.num_calls(), 1);
    }

    #[tokio::test]
    async fn delete_is_one_call_and_a_topic_already_gone_is_success() {
        let delete = mock!(aws_sdk_sns::Client::delete_topic)
            .match_requests(|r| r.topic_arn() == Some(ARN))
            .then_output(|| DeleteTopicOutput::builder().build());
        let ctx = testing::sns(&[&delete]);
        Topic::delete(&ctx, &found(&[]), &|_| {}).await.unwrap();
        assert_eq!(delete.num_calls(), 1);

        let gone = fails!(aws_sdk_sns, delete_topic, DeleteTopicError, "NotFound");
        let ctx = testing::sns(&[&gone]);
        Topic::delete(&ctx, &found(&[]), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_refused_delete_is_an_error_naming_the_topic() {
        let denied = fails!(
            aws_sdk_sns,
            delete_topic,
            DeleteTopicError,
            "AuthorizationError"
        );
        let ctx = testing::sns(&[&denied]);
        let err = Topic::delete(&ctx, &found(&[]), &|_| {}).await.unwrap_err();
        assert_eq!(err.code(), Some("AuthorizationError"));
        assert!(err.to_string().contains("alarm-topic"), "{err}");
    }

    #[test]
    fn the_name_is_the_last_part_of_the_arn() {
        assert_eq!(name_of(ARN), "s-alarms");
    }
}
