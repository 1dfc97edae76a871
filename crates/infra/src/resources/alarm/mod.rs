//! A CloudWatch metric alarm of the stack (5xx rate, unhealthy targets, tasks below desired,
//! a queue's oldest message, a dead-letter queue not empty): named `<stack>-…`, tagged, its
//! definition put back when edited by hand, its actions the stack's topic or a given one.

mod definition;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Tag};

pub use definition::{Definition, Value, Watched, cloudwatch_name};

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

/// Where an alarm notifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A topic outside the stack.
    Arn(String),
    /// The stack's own topic (logical id).
    Topic(ResourceId),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub name: String,
    pub description: String,
    pub watched: Vec<Watched>,
    /// Compared instead of the one metric, when given (metric math over `watched`).
    pub expression: Option<String>,
    pub period_secs: u32,
    pub periods: u32,
    pub threshold: f64,
    pub below: bool,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlarmState {
    pub definition: Definition,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Definition { from: String, to: String },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Definition { from, to } = self;
        FieldChange::new("alarm", from, to)
    }
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Alarm {
    /// The definition wanted, once every resource it names exists.
    pub(crate) fn wanted(&self, refs: &Outputs) -> Option<Definition> {
        let actions = self
            .actions
            .iter()
            .map(|a| match a {
                Action::Arn(arn) => Some(arn.clone()),
                Action::Topic(id) => Ref::new(refs, id, Attr::Arn).known,
            })
            .collect::<Option<Vec<_>>>()?;
        Some(
            Definition {
                description: self.description.clone(),
                metrics: definition::resolve(&self.watched, refs)?,
                expression: self.expression.clone(),
                period: int(self.period_secs),
                periods: int(self.periods),
                threshold: self.threshold,
                below: self.below,
                actions,
            }
            .normalized(),
        )
    }
}

impl Resource for Alarm {
    type State = AlarmState;
    type Field = Field;
    const LABEL: &'static str = "alarm";

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs: Vec<&ResourceId> = self
            .watched
            .iter()
            .flat_map(|w| w.dimensions.iter().filter_map(|(_, v)| v.refs()))
            .collect();
        refs.extend(self.actions.iter().filter_map(|a| match a {
            Action::Topic(id) => Some(id),
            Action::Arn(_) => None,
        }));
        refs.dedup();
        refs
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let pages = aws::all(
            ctx.cloudwatch
                .describe_alarms()
                .alarm_name_prefix(format!("{}-", ctx.stack))
                .into_paginator()
                .send(),
            |e| Error::aws("alarms", "DescribeAlarms", e),
        )
        .await?;
        // Tags of all the stack's alarms in a page or two; one call per alarm only for those
        // the answer leaves out (made a moment ago, not tagged as the stack's, or no answer).
        let tagged = aws::tagging::of_scope(scope).await;
        let mut found = Vec::new();
        for alarm in pages.iter().flat_map(|p| p.metric_alarms()) {
            let (Some(name), Some(arn)) = (alarm.alarm_name(), alarm.alarm_arn()) else {
                continue;
            };
            if !named::belongs(&ctx.stack, name) {
                continue;
            }
            let tags = match tagged.get(arn) {
                Some(tags) => tags.clone(),
                None => tags_of(ctx, name, arn).await?,
            };
            let is_wanted = wanted.iter().any(|w| w.spec.name == name);
            let Some(id) = named::claim(&ctx.stack, Self::LABEL, name, &tags, is_wanted)? else {
                continue;
            };
            found.push(Found {
                id,
                aws_id: name.to_owned(),
                arn: Some(arn.to_owned()),
                state: alarm
                    .state_value()
                    .map_or("unknown", |s| s.as_str())
                    .to_owned(),
                tags,
                detail: AlarmState {
                    definition: definition::read(alarm),
                },
            });
        }
        Ok(found)
    }

    fn diff(&self, found: &AlarmState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let from = found.definition.to_string();
        match self.wanted(refs) {
            Some(wanted) if wanted == found.definition => {}
            Some(wanted) => diff.push(Field::Definition {
                from,
                to: wanted.to_string(),
            }),
            // A resource it names is made (or made anew) in this run: the alarm follows it.
            None => diff.push(Field::Definition {
                from,
                to: format!("(on the new {})", crate::id::joined(&self.refs())),
            }),
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        put(ctx, new.id, self, new.refs, Some(new.tags)).await?;
        Ok(Output::id(self.name.clone()))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<AlarmState>,
        _: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        put(ctx, &found.id, self, refs, None).await?;
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<AlarmState>, tags: &Tags) -> Result<()> {
        let Some(arn) = &found.arn else {
            return Ok(());
        };
        ctx.cloudwatch
            .tag_resource()
            .resource_arn(arn)
            .set_tags(Some(to_tags(tags)))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagResource", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<AlarmState>, _: Wait<'_>) -> Result<()> {
        // CloudWatch deletes the names it knows and may answer ResourceNotFound for the rest.
        let result = ctx
            .cloudwatch
            .delete_alarms()
            .alarm_names(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteAlarms", e));
        aws::gone_is_ok(result, |c| c == "ResourceNotFound")
    }

    fn uses(found: &Found<AlarmState>) -> Vec<String> {
        found.detail.definition.actions.clone()
    }
}

/// One alarm's tags, asked on its own.
async fn tags_of(ctx: &Context, name: &str, arn: &str) -> Result<Tags> {
    let out = ctx
        .cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(format!("alarm {name}"), "ListTagsForResource", e))?;
    Ok(crate::tags::collect(
        out.tags().iter().map(|t| (t.key(), t.value())),
    ))
}

fn to_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// Makes or replaces the alarm (the call is an upsert by name); tags on the first.
async fn put(
    ctx: &Context,
    id: &ResourceId,
    alarm: &Alarm,
    refs: &Outputs,
    tags: Option<&Tags>,
) -> Result<()> {
    let d = alarm.wanted(refs).ok_or_else(|| Error::Unresolved {
        resource: id.clone(),
        message: "a resource the alarm watches has no ARN yet".into(),
    })?;
    let comparison = if d.below {
        ComparisonOperator::LessThanThreshold
    } else {
        ComparisonOperator::GreaterThanThreshold
    };
    ctx.rates.take("monitoring", "PutMetricAlarm").await;
    let call = ctx
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&alarm.name)
        .alarm_description(&d.description);
    d.watch(call)
        .evaluation_periods(d.periods)
        .threshold(d.threshold)
        .comparison_operator(comparison)
        // No data (no traffic, no queue activity) is no trouble.
        .treat_missing_data("notBreaching")
        .set_alarm_actions(Some(d.actions.clone()))
        .set_ok_actions(Some(d.actions.clone()))
        .set_tags(tags.map(to_tags))
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutMetricAlarm", e))?;
    Ok(())
}

#[cfg(test)]
mod tests;
