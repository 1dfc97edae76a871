//! The target group the service's tasks register in: `ip` targets on the container port, a
//! health check on the service's path (matcher 200), and a short deregistration delay.

use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup as AwsTargetGroup, TargetGroupAttribute, TargetTypeEnum,
};

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{self, elb, named};
use crate::change::{Describe, Diff, FieldChange, Setting, changed_settings};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

mod calls;

use calls::{DEREGISTRATION_DELAY, adopt, set_delay};

const MATCHER: &str = "200";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub name: String,
    pub vpc: ResourceId,
    pub port: u16,
    pub health_check_path: String,
    pub interval_secs: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub deregistration_delay_secs: u32,
}

/// The health check as the stack file says, on a create or a modify call (their builders
/// share no trait, hence a macro).
macro_rules! health {
    ($call:expr, $tg:expr) => {
        $call
            .health_check_path(&$tg.health_check_path)
            .health_check_interval_seconds(int($tg.interval_secs))
            .health_check_timeout_seconds(int($tg.timeout_secs()))
            .healthy_threshold_count(int($tg.healthy_threshold))
            .unhealthy_threshold_count(int($tg.unhealthy_threshold))
            .matcher(Matcher::builder().http_code(MATCHER).build())
    };
}

/// Target group names are unique in an account and region and hold 32 characters.
const MAX_NAME: usize = 32;

impl TargetGroup {
    /// The AWS name of the target group for `vpc_id`: the stack's base name and a short hash
    /// of what a target group cannot change (VPC and port). A replacement so gets a name of its
    /// own and is created while the old group still serves; the same settings give the same
    /// name, so a create repeated after a lost answer names the group AWS already made.
    pub fn aws_name(&self, vpc_id: &str) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{vpc_id}:{}", self.port).as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        // Validation keeps the stack's name short enough for at least 3 characters of hash.
        let stack = self.name.strip_suffix("-tg").unwrap_or(&self.name);
        let (base, room) = match MAX_NAME.saturating_sub(self.name.len() + 1) {
            room if room >= 4 => (self.name.as_str(), room),
            _ => (stack, MAX_NAME.saturating_sub(stack.len() + 1)),
        };
        format!("{base}-{}", &hex[..room.clamp(1, 8)])
    }

    /// True when `name` is one [`TargetGroup::aws_name`] gives (or the plain base name older
    /// versions gave): such a name held by another stack is a conflict, not a neighbour.
    pub fn may_be_named(&self, name: &str) -> bool {
        let stack = self.name.strip_suffix("-tg").unwrap_or(&self.name);
        let hashed = |base: &str| {
            name.strip_prefix(base)
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|h| {
                    (1..=8).contains(&h.len()) && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
        };
        name == self.name || hashed(&self.name) || hashed(stack)
    }

    /// Sets every setting a target group can change to what the stack file says (for one
    /// adopted from a run that did not finish, whatever it was made with).
    async fn sync(&self, ctx: &Context, id: &ResourceId, arn: &str) -> Result<()> {
        let modify = ctx.elb.modify_target_group().target_group_arn(arn);
        health!(modify, self)
            .send()
            .await
            .map_err(|e| Error::aws(id, "ModifyTargetGroup", e))?;
        set_delay(ctx, id, arn, self.deregistration_delay_secs).await
    }

    /// Half the interval, at least 2 s: AWS wants the timeout shorter than the interval.
    pub fn timeout_secs(&self) -> u32 {
        (self.interval_secs / 2).max(2)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroupState {
    pub vpc_id: String,
    pub port: i32,
    pub protocol: String,
    pub target_type: String,
    pub health_check_path: String,
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
    pub deregistration_delay_secs: Option<String>,
}

/// One health-check or attribute setting to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Path { from: String, to: String },
    Interval { from: i32, to: i32 },
    Timeout { from: i32, to: i32 },
    HealthyThreshold { from: i32, to: i32 },
    UnhealthyThreshold { from: i32, to: i32 },
    Matcher { from: String },
    DeregistrationDelay { from: Option<String>, to: u32 },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Path { from, to } => FieldChange::new("health_check_path", from, to),
            Self::Interval { from, to } => FieldChange::new("health_check_interval", from, to),
            Self::Timeout { from, to } => FieldChange::new("health_check_timeout", from, to),
            Self::HealthyThreshold { from, to } => FieldChange::new("healthy_threshold", from, to),
            Self::UnhealthyThreshold { from, to } => {
                FieldChange::new("unhealthy_threshold", from, to)
            }
            Self::Matcher { from } => FieldChange::new("matcher", from, MATCHER),
            Self::DeregistrationDelay { from, to } => FieldChange::new(
                "deregistration_delay",
                from.as_deref().unwrap_or("(unset)"),
                to,
            ),
        }
    }
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn state_of(tg: &AwsTargetGroup, attributes: &[TargetGroupAttribute]) -> TargetGroupState {
    TargetGroupState {
        vpc_id: tg.vpc_id().unwrap_or_default().to_owned(),
        port: tg.port().unwrap_or_default(),
        protocol: tg
            .protocol()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        target_type: tg
            .target_type()
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default(),
        health_check_path: tg.health_check_path().unwrap_or_default().to_owned(),
        interval_secs: tg.health_check_interval_seconds().unwrap_or_default(),
        timeout_secs: tg.health_check_timeout_seconds().unwrap_or_default(),
        healthy_threshold: tg.healthy_threshold_count().unwrap_or_default(),
        unhealthy_threshold: tg.unhealthy_threshold_count().unwrap_or_default(),
        matcher: tg
            .matcher()
            .and_then(|m| m.http_code())
            .unwrap_or_default()
            .to_owned(),
        deregistration_delay_secs: attributes
            .iter()
            .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
            .and_then(|a| a.value().map(str::to_owned)),
    }
}

impl Resource for TargetGroup {
    type State = TargetGroupState;
    type Field = Field;
    const LABEL: &'static str = "target group";
    const CREATE_FIRST: bool = true;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let all = aws::all(
            ctx.elb
                .describe_target_groups()
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws("target groups", "DescribeTargetGroups", e),
        )
        .await?;
        let ours: Vec<&AwsTargetGroup> = all
            .iter()
            .filter(|tg| {
                tg.target_group_name()
                    .is_some_and(|n| named::belongs(&ctx.stack, n))
            })
            .collect();
        let arns: Vec<String> = ours
            .iter()
            .filter_map(|tg| tg.target_group_arn().map(str::to_owned))
            .collect();
        let tags = elb::tags_by_arn(ctx, &arns).await?;
        let mut claimed = Vec::new();
        for tg in ours {
            let (Some(arn), Some(name)) = (tg.target_group_arn(), tg.target_group_name()) else {
                continue;
            };
            let tags = tags.get(arn).cloned().unwrap_or_default();
            let wanted = wanted.iter().any(|w| w.spec.may_be_named(name));
            if let Some(id) = named::claim(&ctx.stack, Self::LABEL, name, &tags, wanted)? {
                claimed.push((tg, arn, id, tags));
            }
        }
        // Attributes come one group to a call: read side by side.
        aws::each(claimed, |(tg, arn, id, tags)| async move {
            let attributes = ctx
                .elb
                .describe_target_group_attributes()
                .target_group_arn(arn)
                .send()
                .await
                .map_err(|e| Error::aws(&id, "DescribeTargetGroupAttributes", e))?;
            Ok(Found {
                id,
                aws_id: arn.to_owned(),
                arn: Some(arn.to_owned()),
                state: "available".into(),
                tags,
                detail: state_of(tg, attributes.attributes()),
            })
        })
        .await
    }

    fn diff(&self, found: &TargetGroupState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.replace_if(Ref::new(refs, &self.vpc, Attr::Id).moved_from(&found.vpc_id));
        if found.port != i32::from(self.port) {
            diff.replace(format!(
                "the port changes from {} to {}, which a target group cannot do",
                found.port, self.port
            ));
        }
        if found.protocol != "HTTP" || found.target_type != "ip" {
            diff.replace("it must be an HTTP target group of ip targets");
        }
        let path = (&found.health_check_path, &self.health_check_path);
        diff.push_if(path.0 != path.1, || Field::Path {
            from: path.0.clone(),
            to: path.1.clone(),
        });
        let settings: [Setting<Field>; 4] = [
            (found.interval_secs, self.interval_secs, |from, to| {
                Field::Interval { from, to }
            }),
            (found.timeout_secs, self.timeout_secs(), |from, to| {
                Field::Timeout { from, to }
            }),
            (
                found.healthy_threshold,
                self.healthy_threshold,
                |from, to| Field::HealthyThreshold { from, to },
            ),
            (
                found.unhealthy_threshold,
                self.unhealthy_threshold,
                |from, to| Field::UnhealthyThreshold { from, to },
            ),
        ];
        diff.fields.extend(changed_settings(settings));
        diff.push_if(found.matcher != MATCHER, || Field::Matcher {
            from: found.matcher.clone(),
        });
        let delay = self.deregistration_delay_secs;
        diff.push_if(
            found.deregistration_delay_secs.as_deref() != Some(delay.to_string().as_str()),
            || Field::DeregistrationDelay {
                from: found.deregistration_delay_secs.clone(),
                to: delay,
            },
        );
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        let name = self.aws_name(&vpc);
        let create = ctx
            .elb
            .create_target_group()
            .name(&name)
            .protocol(ProtocolEnum::Http)
            .port(i32::from(self.port))
            .vpc_id(&vpc)
            .target_type(TargetTypeEnum::Ip);
        let out = crate::aws::once!(
            aws_sdk_elasticloadbalancingv2,
            health!(create, self).set_tags(Some(elb::to_tags(new.tags)))
        )
        .await;
        let out = match out {
            Ok(out) => out,
            // A run killed after making this replacement left it: AWS answers so when the
            // settings differ in any way (moto always does).
            Err(e) if e.code() == Some("DuplicateTargetGroupName") => {
                let arn = adopt(ctx, new.id, &name).await?;
                self.sync(ctx, new.id, &arn).await?;
                return Ok(Output::arn(arn));
            }
            Err(e) => return Err(Error::aws(new.id, "CreateTargetGroup", e)),
        };
        let arn = out
            .target_groups()
            .first()
            .and_then(|t| t.target_group_arn())
            .ok_or_else(|| Error::incomplete(new.id, "CreateTargetGroup", "ARN"))?
            .to_owned();
        set_delay(ctx, new.id, &arn, self.deregistration_delay_secs).await?;
        Ok(Output::arn(arn))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<TargetGroupState>,
        fields: &[Field],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        // The health-check settings that changed go in one call; the delay is an attribute.
        let mut modify = ctx
            .elb
            .modify_target_group()
            .target_group_arn(&found.aws_id);
        let mut health_changed = false;
        for field in fields {
            health_changed |= !matches!(field, Field::DeregistrationDelay { .. });
            modify = match field {
                Field::Path { to, .. } => modify.health_check_path(to),
                Field::Interval { to, .. } => modify.health_check_interval_seconds(*to),
                Field::Timeout { to, .. } => modify.health_check_timeout_seconds(*to),
                Field::HealthyThreshold { to, .. } => modify.healthy_threshold_count(*to),
                Field::UnhealthyThreshold { to, .. } => modify.unhealthy_threshold_count(*to),
                Field::Matcher { .. } => {
                    modify.matcher(Matcher::builder().http_code(MATCHER).build())
                }
                Field::DeregistrationDelay { to, .. } => {
                    set_delay(ctx, &found.id, &found.aws_id, *to).await?;
                    modify
                }
            };
        }
        if health_changed {
            modify
                .send()
                .await
                .map_err(|e| Error::aws(&found.id, "ModifyTargetGroup", e))?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<TargetGroupState>, tags: &Tags) -> Result<()> {
        elb::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<TargetGroupState>, wait: Wait<'_>) -> Result<()> {
        // A target group stays in use until its listener and load balancer are gone.
        let result = crate::retry::while_codes(
            &ctx.settings,
            &["ResourceInUse"],
            |err| wait(format!("waiting for the listener to let go: {err}")),
            || async {
                ctx.elb
                    .delete_target_group()
                    .target_group_arn(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DeleteTargetGroup", e))
            },
        )
        .await;
        aws::gone_is_ok(result, |c| c == "TargetGroupNotFound")
    }

    fn uses(found: &Found<TargetGroupState>) -> Vec<String> {
        vec![found.detail.vpc_id.clone()]
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_elasticloadbalancingv2::operation::modify_target_group::ModifyTargetGroupOutput;
    use aws_sdk_elasticloadbalancingv2::operation::modify_target_group_attributes::ModifyTargetGroupAttributesOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> TargetGroup {
        TargetGroup {
            name: "s-tg".into(),
            vpc: "vpc".into(),
            port: 5000,
            health_check_path: "/healthcheck".into(),
            interval_secs: 10,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            deregistration_delay_secs: 30,
        }
    }

    #[test]
    fn a_new_port_or_vpc_gives_a_new_name_that_fits_and_is_recognised() {
        let tg = desired();
        let name = tg.aws_name("vpc-1");
        assert_eq!(name, tg.aws_name("vpc-1"), "stable");
        assert!(
            name.starts_with("s-tg-") && name.len() <= MAX_NAME,
            "{name}"
        );
        assert_ne!(name, tg.aws_name("vpc-2"));
        let moved = TargetGroup {
            port: 8080,
            ..desired()
        };
        assert_ne!(name, moved.aws_name("vpc-1"));
        assert!(tg.may_be_named(&name) && tg.may_be_named("s-tg"));
        assert!(!tg.may_be_named("s-tg-tg") && !tg.may_be_named("s-eu-tg"));
        // The longest stack name validation allows (28) still gets a hash of its own.
        let long = TargetGroup {
            name: format!("{}-tg", "a".repeat(28)),
            ..desired()
        };
        let name = long.aws_name("vpc-1");
        assert_eq!(name.len(), MAX_NAME, "{name}");
        assert!(long.may_be_named(&name) && named::belongs(&"a".repeat(28), &name));
    }

    fn state() -> TargetGroupState {
        TargetGroupState {
            vpc_id: "vpc-1".into(),
            port: 5000,
            protocol: "HTTP".into(),
            target_type: "ip".into(),
            health_check_path: "/healthcheck".into(),
            interval_secs: 10,
            timeout_secs: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            matcher: "200".into(),
            deregistration_delay_secs: Some("30".into()),
        }
    }

    #[test]
    fn matching_is_unchanged_and_aws_s_300_s_default_is_drift() {
        let refs = testing::refs(&[("vpc", "vpc-1")]);
        assert!(desired().diff(&state(), &refs).is_empty());
        let mut s = state();
        s.deregistration_delay_secs = Some("300".into());
        let d = desired().diff(&s, &refs);
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("deregistration_delay", "300", "30")
        );
        let mut s = state();
        s.port = 8080;
        assert!(desired().diff(&s, &refs).replace.is_some());
    }

    #[tokio::test]
    async fn health_settings_share_one_call_and_the_delay_has_its_own() {
        let modify = rule!(
            aws_sdk_elasticloadbalancingv2,
            modify_target_group,
            ModifyTargetGroupOutput
        );
        let attributes = rule!(
            aws_sdk_elasticloadbalancingv2,
            modify_target_group_attributes,
            ModifyTargetGroupAttributesOutput
        );
        let ctx = testing::elb(&[&modify, &attributes]);
        let refs = testing::refs(&[("vpc", "vpc-1")]);
        let mut s = state();
        s.health_check_path = "/".into();
        s.interval_secs = 30;
        let found = testing::found("target-group", "arn:tg", s);
        let fields = desired().diff(&found.detail, &refs).fields;
        assert_eq!(fields.len(), 2);
        desired()
            .update(&ctx, &found, &fields, &refs, &|_| {})
            .await
            .unwrap();
        assert_eq!((modify.num_calls(), attributes.num_calls()), (1, 0));
        let delay = [Field::DeregistrationDelay { from: None, to: 30 }];
        desired()
            .update(&ctx, &found, &delay, &refs, &|_| {})
            .await
            .unwrap();
        assert_eq!((modify.num_calls(), attributes.num_calls()), (1, 1));
    }

    mod calls {
        use aws_sdk_elasticloadbalancingv2::operation::create_target_group::{
            CreateTargetGroupError, CreateTargetGroupOutput,
        };
        use aws_sdk_elasticloadbalancingv2::operation::delete_target_group::{
            DeleteTargetGroupError, DeleteTargetGroupOutput,
        };
        use aws_sdk_elasticloadbalancingv2::operation::describe_target_group_attributes::DescribeTargetGroupAttributesOutput;
        use aws_sdk_elasticloadbalancingv2::operation::describe_target_groups::DescribeTargetGroupsOutput;
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::fails;

        fn name() -> String {
            desired().aws_name("vpc-1")
        }

        fn arn() -> String {
            format!(
                "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{}/73e2",
                name()
            )
        }

        fn refs() -> Outputs {
            testing::refs(&[("vpc", "vpc-1")])
        }

        fn aws_group(name: &str) -> AwsTargetGroup {
            AwsTargetGroup::builder()
                .target_group_arn(format!(
                    "arn:aws:elasticloadbalancing:us-east-1:1:targetgroup/{name}/73e2"
                ))
                .target_group_name(name)
                .vpc_id("vpc-1")
                .port(5000)
                .protocol(ProtocolEnum::Http)
                .target_type(TargetTypeEnum::Ip)
                .health_check_path("/healthcheck")
                .health_check_interval_seconds(10)
                .health_check_timeout_seconds(5)
                .healthy_threshold_count(2)
                .unhealthy_threshold_count(2)
                .matcher(Matcher::builder().http_code(MATCHER).build())
                .build()
        }

        fn delay_rule() -> Rule {
            mock!(aws_sdk_elasticloadbalancingv2::Client::modify_target_group_attributes)
                .match_requests(|r| {
                    r.attributes()[0].key() == Some(DEREGISTRATION_DELAY)
                        && r.attributes()[0].value() == Some("30")
                })
                .then_output(|| ModifyTargetGroupAttributesOutput::builder().build())
        }

        #[tokio::test]
        async fn create_names_it_after_its_vpc_and_port_and_sets_the_delay() {
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_target_group)
                .match_requests(|r| {
                    r.name() == Some(name().as_str())
                        && r.port() == Some(5000)
                        && r.target_type() == Some(&TargetTypeEnum::Ip)
                        && r.health_check_path() == Some("/healthcheck")
                        && r.health_check_timeout_seconds() == Some(5)
                })
                .then_output(|| {
                    CreateTargetGroupOutput::builder()
                        .target_groups(aws_group(&name()))
                        .build()
                });
            let delay = delay_rule();
            let ctx = testing::elb(&[&create, &delay]);
            let creating = testing::Creating::new(ResourceId::TARGET_GROUP, refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, arn());
            assert_eq!(delay.num_calls(), 1);
        }

        fn duplicate() -> Rule {
            fails!(
                aws_sdk_elasticloadbalancingv2,
                create_target_group,
                CreateTargetGroupError,
                "DuplicateTargetGroupName"
            )
        }

        fn by_name() -> Rule {
            mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
                .match_requests(|r| r.names() == [name()])
                .then_output(|| {
                    DescribeTargetGroupsOutput::builder()
                        .target_groups(aws_group(&name()))
                        .build()
                })
        }

        #[tokio::test]
        async fn a_group_an_unfinished_run_made_is_taken_back_and_set_as_the_file_says() {
            let (duplicate, by_name, delay) = (duplicate(), by_name(), delay_rule());
            let tags = testing::elb_tags(&[(&arn(), "target-group")]);
            let modify = mock!(aws_sdk_elasticloadbalancingv2::Client::modify_target_group)
                .match_requests(|r| r.health_check_path() == Some("/healthcheck"))
                .then_output(|| ModifyTargetGroupOutput::builder().build());
            let ctx = testing::elb(&[&duplicate, &by_name, &tags, &modify, &delay]);
            let creating = testing::Creating::new(ResourceId::TARGET_GROUP, refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, arn());
            assert_eq!((modify.num_calls(), delay.num_calls()), (1, 1));
        }

        #[tokio::test]
        async fn a_name_held_by_another_stack_s_group_is_refused() {
            let (duplicate, by_name) = (duplicate(), by_name());
            let tags = testing::elb_tags(&[(&arn(), "target-group-other")]);
            let ctx = testing::elb(&[&duplicate, &by_name, &tags]);
            let creating = testing::Creating::new(ResourceId::TARGET_GROUP, refs());
            let err = desired().create(&ctx, creating.get()).await.unwrap_err();
            assert!(err.to_string().contains("will not take over"), "{err}");
        }

        #[tokio::test]
        async fn observe_reads_health_settings_and_the_delay_attribute() {
            let list = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_groups)
                .then_output(|| {
                    DescribeTargetGroupsOutput::builder()
                        .target_groups(aws_group(&name()))
                        .target_groups(aws_group("shop-tg"))
                        .build()
                });
            let tags = testing::elb_tags(&[(&arn(), "target-group")]);
            let attributes =
                mock!(aws_sdk_elasticloadbalancingv2::Client::describe_target_group_attributes)
                    .then_output(|| {
                        DescribeTargetGroupAttributesOutput::builder()
                            .attributes(
                                TargetGroupAttribute::builder()
                                    .key(DEREGISTRATION_DELAY)
                                    .value("30")
                                    .build(),
                            )
                            .build()
                    });
            let ctx = testing::elb(&[&list, &tags, &attributes]);
            let found = TargetGroup::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::TARGET_GROUP);
            assert!(desired().diff(&found[0].detail, &refs()).is_empty());
            assert_eq!(attributes.num_calls(), 1);
        }

        #[tokio::test]
        async fn delete_waits_for_the_listener_to_let_go_and_gone_is_success() {
            let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_target_group)
                .sequence()
                .error(|| {
                    DeleteTargetGroupError::generic(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("ResourceInUse")
                            .build(),
                    )
                })
                .output(|| DeleteTargetGroupOutput::builder().build())
                .build();
            let ctx = testing::elb(&[&delete]);
            let found = testing::found("target-group", &arn(), state());
            TargetGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 2);

            let gone = fails!(
                aws_sdk_elasticloadbalancingv2,
                delete_target_group,
                DeleteTargetGroupError,
                "TargetGroupNotFound"
            );
            let ctx = testing::elb(&[&gone]);
            TargetGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
