//! Listener rules: one per web service with paths or hosts, forwarding the requests that
//! match to that service's target group. The service without paths or hosts is the
//! listener's default action. Rules are tried by priority, the most specific first.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, HostHeaderConditionConfig, PathPatternConditionConfig, Rule,
    RuleCondition, RulePriorityPair,
};

use crate::aws::{self, elb};
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::{self, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerRule {
    /// The listener (logical id) it belongs to.
    pub listener: ResourceId,
    pub priority: u32,
    /// Path patterns, any of which matches (none: any path).
    pub paths: Vec<String>,
    /// Host headers, any of which matches (none: any host).
    pub hosts: Vec<String>,
    /// The target group (logical id) it forwards to.
    pub target_group: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerRuleState {
    pub listener_arn: String,
    pub priority: String,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    /// The target group a forwarding action sends to; the action in words otherwise.
    pub forward_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Priority { from: String, to: u32 },
    Conditions { from: String, to: String },
    Forward { from: Option<String>, to: Ref },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Priority { from, to } => FieldChange::new("priority", from, to),
            Self::Conditions { from, to } => FieldChange::new("conditions", from, to),
            Self::Forward { from, to } => FieldChange::new(
                "forward_to",
                from.as_deref().unwrap_or("(another action)"),
                to,
            ),
        }
    }
}

/// How the plan shows a rule's conditions.
fn show_conditions(paths: &[String], hosts: &[String]) -> String {
    match (paths.is_empty(), hosts.is_empty()) {
        (false, false) => format!("path {} and host {}", show_list(paths), show_list(hosts)),
        (false, true) => format!("path {}", show_list(paths)),
        (true, false) => format!("host {}", show_list(hosts)),
        (true, true) => "(none)".into(),
    }
}

fn sorted(values: &[String]) -> Vec<String> {
    let mut values = values.to_vec();
    values.sort();
    values
}

fn state_of(rule: &Rule) -> ListenerRuleState {
    let (mut paths, mut hosts) = (Vec::new(), Vec::new());
    for condition in rule.conditions() {
        if let Some(config) = condition.path_pattern_config() {
            paths.extend(config.values().iter().cloned());
        } else if let Some(config) = condition.host_header_config() {
            hosts.extend(config.values().iter().cloned());
        } else {
            // Older rules (and some emulators) carry the values on the condition itself.
            let values = condition.values().iter().cloned();
            match condition.field() {
                Some("path-pattern") => paths.extend(values),
                Some("host-header") => hosts.extend(values),
                _ => {}
            }
        }
    }
    let action = rule.actions().first();
    ListenerRuleState {
        listener_arn: String::new(),
        priority: rule.priority().unwrap_or_default().to_owned(),
        paths: sorted(&paths),
        hosts: sorted(&hosts),
        forward_to: action
            .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
            .and_then(|a| a.target_group_arn())
            .map(str::to_owned),
    }
}

impl ListenerRule {
    fn conditions(&self) -> Vec<RuleCondition> {
        let mut conditions = Vec::new();
        if !self.paths.is_empty() {
            conditions.push(
                RuleCondition::builder()
                    .field("path-pattern")
                    .path_pattern_config(
                        PathPatternConditionConfig::builder()
                            .set_values(Some(self.paths.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        if !self.hosts.is_empty() {
            conditions.push(
                RuleCondition::builder()
                    .field("host-header")
                    .host_header_config(
                        HostHeaderConditionConfig::builder()
                            .set_values(Some(self.hosts.clone()))
                            .build(),
                    )
                    .build(),
            );
        }
        conditions
    }

    fn forward(&self, refs: &Outputs, id: &ResourceId) -> Result<Action> {
        let tg = Ref::new(refs, &self.target_group, Attr::Id).resolve(refs, id)?;
        Ok(Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(tg)
            .build())
    }

    fn priority(&self) -> i32 {
        i32::try_from(self.priority).unwrap_or(i32::MAX)
    }
}

impl Resource for ListenerRule {
    type State = ListenerRuleState;
    type Field = Field;
    const LABEL: &'static str = "listener rule";

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.listener, &self.target_group]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.listener]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let mut rules: Vec<(String, Rule)> = Vec::new();
        for listener in elb::listeners(scope).await? {
            let Some(arn) = listener.listener_arn() else {
                continue;
            };
            let pages = aws::all(
                ctx.elb
                    .describe_rules()
                    .listener_arn(arn)
                    .into_paginator()
                    .send(),
                |e| Error::aws("listener rules", "DescribeRules", e),
            );
            let pages = match pages.await {
                Ok(pages) => pages,
                Err(e) if e.code() == Some("ListenerNotFound") => continue,
                Err(e) => return Err(e),
            };
            let found = pages.iter().flat_map(|p| p.rules().iter());
            rules.extend(
                found
                    .filter(|r| !r.is_default().unwrap_or(false))
                    .map(|r| (arn.to_owned(), r.clone())),
            );
        }
        let arns: Vec<String> = rules
            .iter()
            .filter_map(|(_, r)| r.rule_arn().map(str::to_owned))
            .collect();
        let tags = elb::tags_by_arn(ctx, &arns).await?;
        // A rule added by hand has no stackctl tags; it goes with its listener.
        Ok(rules
            .iter()
            .filter_map(|(listener, rule)| {
                let arn = rule.rule_arn()?;
                let tags = tags.get(arn).cloned().unwrap_or_default();
                let mut detail = state_of(rule);
                detail.listener_arn.clone_from(listener);
                Some(Found {
                    id: tags::logical_id(&ctx.stack, &tags)?,
                    aws_id: arn.to_owned(),
                    arn: Some(arn.to_owned()),
                    state: format!("priority {}", detail.priority),
                    tags,
                    detail,
                })
            })
            .collect())
    }

    fn diff(&self, found: &ListenerRuleState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let listener = Ref::new(refs, &self.listener, Attr::Id);
        if listener.known.is_some() && !listener.is(&found.listener_arn) {
            diff.replace("it belongs to another listener");
        }
        diff.push_if(found.priority != self.priority.to_string(), || {
            Field::Priority {
                from: found.priority.clone(),
                to: self.priority,
            }
        });
        let (want, have) = (
            show_conditions(&sorted(&self.paths), &sorted(&self.hosts)),
            show_conditions(&found.paths, &found.hosts),
        );
        diff.push_if(want != have, || Field::Conditions {
            from: have.clone(),
            to: want.clone(),
        });
        let tg = Ref::new(refs, &self.target_group, Attr::Id);
        let forwards = found.forward_to.as_deref().is_some_and(|arn| tg.is(arn));
        diff.push_if(!forwards, || Field::Forward {
            from: found.forward_to.clone(),
            to: tg,
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let listener = Ref::new(new.refs, &self.listener, Attr::Id).resolve(new.refs, new.id)?;
        let out = crate::aws::once!(
            aws_sdk_elasticloadbalancingv2,
            ctx.elb
                .create_rule()
                .listener_arn(listener)
                .priority(self.priority())
                .set_conditions(Some(self.conditions()))
                .actions(self.forward(new.refs, new.id)?)
                .set_tags(Some(elb::to_tags(new.tags)))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateRule", e))?;
        let arn = out
            .rules()
            .first()
            .and_then(|r| r.rule_arn())
            .ok_or_else(|| Error::incomplete(new.id, "CreateRule", "ARN"))?;
        Ok(Output::arn(arn))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<ListenerRuleState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        let id = &found.id;
        if fields.iter().any(|f| matches!(f, Field::Priority { .. })) {
            ctx.elb
                .set_rule_priorities()
                .rule_priorities(
                    RulePriorityPair::builder()
                        .rule_arn(&found.aws_id)
                        .priority(self.priority())
                        .build(),
                )
                .send()
                .await
                .map_err(|e| Error::aws(id, "SetRulePriorities", e))?;
        }
        let mut modify = ctx.elb.modify_rule().rule_arn(&found.aws_id);
        let mut changed = false;
        for field in fields {
            match field {
                Field::Priority { .. } => {}
                Field::Conditions { .. } => {
                    modify = modify.set_conditions(Some(self.conditions()));
                    changed = true;
                }
                Field::Forward { .. } => {
                    modify = modify.actions(self.forward(refs, id)?);
                    changed = true;
                }
            }
        }
        if changed {
            modify
                .send()
                .await
                .map_err(|e| Error::aws(id, "ModifyRule", e))?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<ListenerRuleState>, tags: &Tags) -> Result<()> {
        elb::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<ListenerRuleState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .elb
            .delete_rule()
            .rule_arn(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteRule", e));
        aws::gone_is_ok(result, |c| c == "RuleNotFound")
    }

    fn uses(found: &Found<ListenerRuleState>) -> Vec<String> {
        let state = &found.detail;
        let mut uses = vec![state.listener_arn.clone()];
        uses.extend(state.forward_to.clone());
        uses
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::operation::modify_rule::ModifyRuleOutput;
    use aws_sdk_elasticloadbalancingv2::operation::set_rule_priorities::SetRulePrioritiesOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> ListenerRule {
        ListenerRule {
            listener: "http-listener".into(),
            priority: 1,
            paths: vec!["/api/*".into()],
            hosts: Vec::new(),
            target_group: "target-group-api".into(),
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[("http-listener", "arn:l"), ("target-group-api", "arn:tg")])
    }

    fn state() -> ListenerRuleState {
        ListenerRuleState {
            listener_arn: "arn:l".into(),
            priority: "1".into(),
            paths: vec!["/api/*".into()],
            hosts: Vec::new(),
            forward_to: Some("arn:tg".into()),
        }
    }

    #[test]
    fn the_same_rule_is_unchanged() {
        assert!(desired().diff(&state(), &refs()).is_empty());
    }

    #[test]
    fn another_listener_is_a_replace() {
        let mut s = state();
        s.listener_arn = "arn:other".into();
        assert!(desired().diff(&s, &refs()).replace.is_some());
    }

    #[test]
    fn rules_read_from_either_condition_shape() {
        let rule = Rule::builder()
            .priority("3")
            .conditions(
                RuleCondition::builder()
                    .field("path-pattern")
                    .values("/b")
                    .values("/a")
                    .build(),
            )
            .conditions(
                RuleCondition::builder()
                    .field("host-header")
                    .host_header_config(HostHeaderConditionConfig::builder().values("x.io").build())
                    .build(),
            )
            .build();
        let s = state_of(&rule);
        assert_eq!(
            (s.paths, s.hosts, s.priority.as_str()),
            (
                vec!["/a".to_owned(), "/b".to_owned()],
                vec!["x.io".to_owned()],
                "3"
            )
        );
    }

    #[tokio::test]
    async fn conditions_edited_by_hand_and_a_new_priority_are_put_back() {
        let modify = rule!(
            aws_sdk_elasticloadbalancingv2,
            modify_rule,
            ModifyRuleOutput
        );
        let priorities = rule!(
            aws_sdk_elasticloadbalancingv2,
            set_rule_priorities,
            SetRulePrioritiesOutput
        );
        let ctx = testing::elb(&[&modify, &priorities]);
        let mut s = state();
        s.paths = vec!["/*".into()];
        s.priority = "7".into();
        let found = testing::found("listener-rule-api", "arn:r", s);
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(fields.len(), 2, "{fields:?}");
        assert_eq!(
            fields[1].describe(),
            FieldChange::new("conditions", "path /*", "path /api/*")
        );
        desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!((modify.num_calls(), priorities.num_calls()), (1, 1));
    }

    mod calls {
        use aws_sdk_elasticloadbalancingv2::operation::create_rule::CreateRuleOutput;
        use aws_sdk_elasticloadbalancingv2::operation::delete_rule::{
            DeleteRuleError, DeleteRuleOutput,
        };
        use aws_sdk_elasticloadbalancingv2::operation::describe_rules::{
            DescribeRulesError, DescribeRulesOutput,
        };
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::listener::tests::calls::listing;
        use crate::resources::testing::fails;

        fn forward(arn: &str) -> Action {
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(arn)
                .build()
        }

        #[tokio::test]
        async fn create_puts_the_conditions_and_priority_on_the_listener() {
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_rule)
                .match_requests(|r| {
                    let paths = r.conditions()[0].path_pattern_config().map(|c| c.values());
                    r.listener_arn() == Some("arn:l")
                        && r.priority() == Some(1)
                        && r.conditions().len() == 1
                        && paths == Some(&["/api/*".to_owned()][..])
                        && r.actions()[0].target_group_arn() == Some("arn:tg")
                        && !r.tags().is_empty()
                })
                .then_output(|| {
                    let rule = Rule::builder().rule_arn("arn:rule").build();
                    CreateRuleOutput::builder().rules(rule).build()
                });
            let ctx = testing::elb(&[&create]);
            let creating = testing::Creating::new("listener-rule-api".into(), refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "arn:rule");
        }

        #[tokio::test]
        async fn a_host_rule_matches_on_the_host_header_alone() {
            let by_host = ListenerRule {
                paths: Vec::new(),
                hosts: vec!["api.example.com".into()],
                ..desired()
            };
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_rule)
                .match_requests(|r| {
                    let condition = &r.conditions()[0];
                    r.conditions().len() == 1
                        && condition.field() == Some("host-header")
                        && condition.host_header_config().map(|c| c.values())
                            == Some(&["api.example.com".to_owned()][..])
                })
                .then_output(|| {
                    let rule = Rule::builder().rule_arn("arn:host").build();
                    CreateRuleOutput::builder().rules(rule).build()
                });
            let ctx = testing::elb(&[&create]);
            let creating = testing::Creating::new("listener-rule-api".into(), refs());
            let output = by_host.create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "arn:host");
        }

        #[tokio::test]
        async fn observe_reads_the_tagged_rules_of_the_stack_s_listeners() {
            let [balancers, listeners] = listing();
            let rules = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_rules)
                .match_requests(|r| r.listener_arn() == Some("arn:listener"))
                .then_output(|| {
                    let path = RuleCondition::builder()
                        .field("path-pattern")
                        .path_pattern_config(
                            PathPatternConditionConfig::builder()
                                .values("/api/*")
                                .build(),
                        )
                        .build();
                    let ours = Rule::builder()
                        .rule_arn("arn:rule")
                        .priority("1")
                        .conditions(path.clone())
                        .actions(forward("arn:tg"))
                        .build();
                    let by_hand = Rule::builder()
                        .rule_arn("arn:by-hand-rule")
                        .priority("9")
                        .conditions(path)
                        .actions(forward("arn:tg"))
                        .build();
                    let default = Rule::builder()
                        .rule_arn("arn:default")
                        .priority("default")
                        .is_default(true)
                        .actions(forward("arn:tg"))
                        .build();
                    DescribeRulesOutput::builder()
                        .rules(ours)
                        .rules(by_hand)
                        .rules(default)
                        .build()
                });
            // The other listener was deleted between the two reads.
            let gone = fails!(
                aws_sdk_elasticloadbalancingv2,
                describe_rules,
                DescribeRulesError,
                "ListenerNotFound"
            );
            let tags = testing::elb_tags(&[("arn:rule", "listener-rule-api")]);
            let ctx = testing::elb(&[&balancers, &listeners, &rules, &gone, &tags]);
            let found = ListenerRule::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "only the tagged rule is read: {found:?}");
            assert_eq!(
                (found[0].aws_id.as_str(), found[0].state.as_str()),
                ("arn:rule", "priority 1")
            );
            let refs = testing::refs(&[
                ("http-listener", "arn:listener"),
                ("target-group-api", "arn:tg"),
            ]);
            assert!(desired().diff(&found[0].detail, &refs).is_empty());
            assert_eq!(ListenerRule::uses(&found[0]), ["arn:listener", "arn:tg"]);
            assert_eq!(gone.num_calls(), 1);
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_rule_already_gone_is_success() {
            let found = testing::found("listener-rule-api", "arn:rule", state());
            let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_rule)
                .match_requests(|r| r.rule_arn() == Some("arn:rule"))
                .then_output(|| DeleteRuleOutput::builder().build());
            let ctx = testing::elb(&[&delete]);
            ListenerRule::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);

            let gone = fails!(
                aws_sdk_elasticloadbalancingv2,
                delete_rule,
                DeleteRuleError,
                "RuleNotFound"
            );
            let ctx = testing::elb(&[&gone]);
            ListenerRule::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
