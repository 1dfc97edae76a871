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
        // Its subscriptions go with it; a topic that is gone is no error.
        ctx.sns
            .delete_topic()
            .topic_arn(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteTopic", e))?;
        Ok(())
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
