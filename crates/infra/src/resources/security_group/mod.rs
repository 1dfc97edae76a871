//! Security groups: the load balancer's (HTTP and HTTPS from anywhere) and the service's
//! (the container port from the load balancer's group only). Every rule is compared, so a
//! rule added or removed by hand is drift that `up` undoes.

mod rules;

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, ResourceType};

use rules::flatten;
pub use rules::{ANYWHERE, Grant, Peer, Rule};

use crate::aws::{ec2, interfaces};
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Any IPv4 address.
    Anywhere,
    /// Members of another security group of the stack (logical id).
    Group(ResourceId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub port: u16,
    pub source: Source,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub vpc: ResourceId,
    pub name: String,
    pub description: String,
    pub ingress: Vec<Ingress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupState {
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub ingress: BTreeSet<Rule>,
    pub egress: BTreeSet<Rule>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// The rules of one direction to put right: the rules as they are, those to revoke, and the
/// grants to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub direction: Direction,
    pub have: BTreeSet<Rule>,
    pub revoke: Vec<Rule>,
    pub authorize: Vec<Grant>,
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let name = match self.direction {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        };
        let mut after: Vec<String> = self
            .have
            .iter()
            .filter(|r| !self.revoke.contains(r))
            .map(Rule::to_string)
            .collect();
        after.extend(self.authorize.iter().map(Grant::to_string));
        after.sort();
        FieldChange::new(name, show_list(&self.have), show_list(after))
    }
}

impl SecurityGroup {
    fn grants(&self, refs: &Outputs) -> Vec<Grant> {
        self.ingress
            .iter()
            .map(|i| match &i.source {
                Source::Anywhere => Grant::tcp(i.port, Peer::Cidr(ANYWHERE.into())),
                Source::Group(g) => Grant::tcp(i.port, Peer::Group(Ref::new(refs, g, Attr::Id))),
            })
            .collect()
    }
}

/// The change that makes `have` exactly `want`, if any.
fn compare(direction: Direction, have: &BTreeSet<Rule>, want: Vec<Grant>) -> Option<Field> {
    let revoke: Vec<Rule> = have
        .iter()
        .filter(|r| !want.iter().any(|g| g.matches(r)))
        .cloned()
        .collect();
    let authorize: Vec<Grant> = want
        .into_iter()
        .filter(|g| !have.iter().any(|r| g.matches(r)))
        .collect();
    (!revoke.is_empty() || !authorize.is_empty()).then(|| Field {
        direction,
        have: have.clone(),
        revoke,
        authorize,
    })
}

impl Resource for SecurityGroup {
    type State = SecurityGroupState;
    type Field = Field;
    const LABEL: &'static str = "security group";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs = vec![&self.vpc];
        refs.extend(self.ingress.iter().filter_map(|i| match &i.source {
            Source::Group(g) => Some(g),
            Source::Anywhere => None,
        }));
        refs
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let what = ("security groups", "DescribeSecurityGroups");
        let items = ec2::describe_stack!(ctx, describe_security_groups, filters, what)?;
        Ok(ec2::found(ctx, &items, |g| {
            let seen = ec2::Seen::new(g.tags(), g.group_id()).arn(g.security_group_arn());
            let state = SecurityGroupState {
                vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
                name: g.group_name().unwrap_or_default().to_owned(),
                description: g.description().unwrap_or_default().to_owned(),
                ingress: flatten(g.ip_permissions()),
                egress: flatten(g.ip_permissions_egress()),
            };
            (seen, state)
        }))
    }

    fn diff(&self, found: &SecurityGroupState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.replace_if(Ref::new(refs, &self.vpc, Attr::Id).moved_from(&found.vpc_id));
        if found.name != self.name {
            diff.replace(format!(
                "its name changes from {} to {}, which AWS cannot rename",
                found.name, self.name
            ));
        }
        if found.description != self.description {
            diff.replace("its description changes, which AWS cannot update in place");
        }
        diff.fields.extend(compare(
            Direction::Ingress,
            &found.ingress,
            self.grants(refs),
        ));
        diff.fields.extend(compare(
            Direction::Egress,
            &found.egress,
            vec![Grant::all_out()],
        ));
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        let out = retry::until_visible(&ctx.settings, || async {
            crate::aws::once!(
                aws_sdk_ec2,
                ctx.ec2
                    .create_security_group()
                    .group_name(&self.name)
                    .description(&self.description)
                    .vpc_id(&vpc)
                    .tag_specifications(ec2::tag_spec(ResourceType::SecurityGroup, new.tags))
            )
            .await
            .map_err(|e| Error::aws(new.id, "CreateSecurityGroup", e))
        })
        .await?;
        let group_id = out
            .group_id()
            .ok_or_else(|| Error::incomplete(new.id, "CreateSecurityGroup", "id"))?
            .to_owned();
        let grants = self.grants(new.refs);
        let rules: Vec<Rule> = grants
            .iter()
            .map(|g| g.resolve(new.refs, new.id))
            .collect::<Result<_>>()?;
        authorize(ctx, new.id, &group_id, Direction::Ingress, &rules).await?;
        Ok(Output {
            aws_id: group_id,
            arn: out.security_group_arn().map(str::to_owned),
            url: None,
        })
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<SecurityGroupState>,
        field: &Field,
        refs: &Outputs,
    ) -> Result<()> {
        let (id, group) = (&found.id, &found.aws_id);
        revoke(ctx, id, group, field.direction, &field.revoke).await?;
        let rules: Vec<Rule> = field
            .authorize
            .iter()
            .map(|g| g.resolve(refs, &found.id))
            .collect::<Result<_>>()?;
        authorize(ctx, id, group, field.direction, &rules).await
    }

    async fn retag(ctx: &Context, found: &Found<SecurityGroupState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(
        ctx: &Context,
        found: &Found<SecurityGroupState>,
        wait: Wait<'_>,
    ) -> Result<()> {
        // Rules that point at other groups keep those groups alive; drop them first.
        let references: Vec<Rule> = found
            .detail
            .ingress
            .iter()
            .filter(|r| r.source.starts_with("sg-"))
            .cloned()
            .collect();
        let revoked = revoke(
            ctx,
            &found.id,
            &found.aws_id,
            Direction::Ingress,
            &references,
        )
        .await;
        crate::aws::gone_is_ok(revoked, ec2::is_not_found)?;
        let group = found.aws_id.as_str();
        let deleted = interfaces::delete_watching(ctx, wait, group, || async {
            ctx.ec2
                .delete_security_group()
                .group_id(group)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| Error::aws(&found.id, "DeleteSecurityGroup", e))
        })
        .await;
        crate::aws::gone_is_ok(deleted, ec2::is_not_found)
    }

    fn uses(found: &Found<SecurityGroupState>) -> Vec<String> {
        let state = &found.detail;
        let mut uses = vec![state.vpc_id.clone()];
        uses.extend(
            state
                .ingress
                .iter()
                .filter(|r| r.source.starts_with("sg-") && r.source != found.aws_id)
                .map(|r| r.source.clone()),
        );
        uses
    }
}

/// One of the four rule calls (authorize or revoke, ingress or egress): their builders share
/// no trait, so the shape is written once here.
macro_rules! rule_call {
    ($ctx:expr, $call:ident, $op:literal, $id:expr, $group:expr, $permissions:expr) => {
        $ctx.ec2
            .$call()
            .group_id($group)
            .set_ip_permissions(Some($permissions))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| Error::aws($id, $op, e))
    };
}

async fn authorize(
    ctx: &Context,
    id: &ResourceId,
    group: &str,
    direction: Direction,
    rules: &[Rule],
) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let permissions: Vec<IpPermission> = rules.iter().map(Rule::permission).collect();
    // This group, and a group a rule points at, may be seconds old. A rule already there was
    // granted by an attempt whose answer was lost.
    let granted = retry::until_visible(&ctx.settings, || async {
        let permissions = permissions.clone();
        match direction {
            Direction::Ingress => rule_call!(
                ctx,
                authorize_security_group_ingress,
                "AuthorizeSecurityGroupIngress",
                id,
                group,
                permissions
            ),
            Direction::Egress => rule_call!(
                ctx,
                authorize_security_group_egress,
                "AuthorizeSecurityGroupEgress",
                id,
                group,
                permissions
            ),
        }
    })
    .await;
    crate::aws::done_is_ok(granted, &["InvalidPermission.Duplicate"])
}

async fn revoke(
    ctx: &Context,
    id: &ResourceId,
    group: &str,
    direction: Direction,
    rules: &[Rule],
) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    let permissions: Vec<IpPermission> = rules.iter().map(Rule::permission).collect();
    let revoked = match direction {
        Direction::Ingress => rule_call!(
            ctx,
            revoke_security_group_ingress,
            "RevokeSecurityGroupIngress",
            id,
            group,
            permissions
        ),
        Direction::Egress => rule_call!(
            ctx,
            revoke_security_group_egress,
            "RevokeSecurityGroupEgress",
            id,
            group,
            permissions
        ),
    };
    crate::aws::done_is_ok(revoked, &["InvalidPermission.NotFound"])
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::authorize_security_group_egress::AuthorizeSecurityGroupEgressOutput;
    use aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput;
    use aws_sdk_ec2::operation::revoke_security_group_egress::RevokeSecurityGroupEgressOutput;
    use aws_sdk_ec2::operation::revoke_security_group_ingress::RevokeSecurityGroupIngressOutput;
    use aws_sdk_ec2::types::{IpRange, UserIdGroupPair};

    use super::*;
    use crate::resources::testing::{self, ec2_rule};

    fn refs() -> Outputs {
        testing::refs(&[("vpc", "vpc-1"), ("alb-security-group", "sg-alb")])
    }

    fn service_group() -> SecurityGroup {
        SecurityGroup {
            vpc: "vpc".into(),
            name: "s-service".into(),
            description: "service".into(),
            ingress: vec![Ingress {
                port: 5000,
                source: Source::Group("alb-security-group".into()),
                description: "from the load balancer".into(),
            }],
        }
    }

    fn tcp(port: i32, source: &str) -> Rule {
        Rule {
            protocol: "tcp".into(),
            from: Some(port),
            to: Some(port),
            source: source.into(),
        }
    }

    fn all_out() -> Rule {
        Rule {
            protocol: "-1".into(),
            from: None,
            to: None,
            source: ANYWHERE.into(),
        }
    }

    fn state(ingress: &[Rule]) -> SecurityGroupState {
        SecurityGroupState {
            vpc_id: "vpc-1".into(),
            name: "s-service".into(),
            description: "service".into(),
            ingress: ingress.iter().cloned().collect(),
            egress: [all_out()].into(),
        }
    }

    #[test]
    fn matching_rules_are_unchanged() {
        let d = service_group().diff(&state(&[tcp(5000, "sg-alb")]), &refs());
        assert!(d.is_empty(), "{d:?}");
    }

    #[test]
    fn an_extra_rule_added_by_hand_is_drift() {
        let d = service_group().diff(&state(&[tcp(5000, "sg-alb"), tcp(22, ANYWHERE)]), &refs());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].revoke, [tcp(22, ANYWHERE)]);
        assert!(d.fields[0].authorize.is_empty());
        let shown = d.fields[0].describe();
        assert_eq!(shown.from, "tcp/22 from 0.0.0.0/0, tcp/5000 from sg-alb");
        assert_eq!(shown.to, "tcp/5000 from sg-alb");
    }

    #[test]
    fn a_rule_from_a_group_made_in_this_run_is_shown_as_new() {
        let d = service_group().diff(&state(&[]), &testing::refs(&[("vpc", "vpc-1")]));
        assert_eq!(
            d.fields[0].describe().to,
            "tcp/5000 from (new alb-security-group)"
        );
    }

    #[test]
    fn a_renamed_group_is_replaced() {
        let mut s = state(&[tcp(5000, "sg-alb")]);
        s.name = "other".into();
        assert!(service_group().diff(&s, &refs()).replace.is_some());
    }

    #[test]
    fn flattening_reads_ranges_and_groups() {
        let p = IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(80)
            .to_port(80)
            .ip_ranges(IpRange::builder().cidr_ip(ANYWHERE).build())
            .user_id_group_pairs(UserIdGroupPair::builder().group_id("sg-1").build())
            .build();
        let all = IpPermission::builder()
            .ip_protocol("-1")
            .from_port(0)
            .to_port(0)
            .ip_ranges(IpRange::builder().cidr_ip(ANYWHERE).build())
            .build();
        assert_eq!(
            show_list(flatten(&[p, all])),
            "all from 0.0.0.0/0, tcp/80 from 0.0.0.0/0, tcp/80 from sg-1"
        );
    }

    #[tokio::test]
    async fn each_direction_revokes_and_authorizes_exactly_what_differs() {
        let revoke_in = ec2_rule!(
            revoke_security_group_ingress,
            RevokeSecurityGroupIngressOutput
        );
        let grant_in = ec2_rule!(
            authorize_security_group_ingress,
            AuthorizeSecurityGroupIngressOutput
        );
        let revoke_out = ec2_rule!(
            revoke_security_group_egress,
            RevokeSecurityGroupEgressOutput
        );
        let grant_out = ec2_rule!(
            authorize_security_group_egress,
            AuthorizeSecurityGroupEgressOutput
        );
        let ctx = testing::ec2(&[&revoke_in, &grant_in, &revoke_out, &grant_out]);
        // Port 22 opened by hand, the service port missing, the default egress removed.
        let mut s = state(&[tcp(22, ANYWHERE)]);
        s.egress.clear();
        let found = testing::found("service-security-group", "sg-svc", s);
        let fields = service_group().diff(&found.detail, &refs()).fields;
        service_group()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        let calls = [
            revoke_in.num_calls(),
            grant_in.num_calls(),
            revoke_out.num_calls(),
            grant_out.num_calls(),
        ];
        assert_eq!(calls, [1, 1, 0, 1]);
    }

    mod calls {
        use aws_sdk_ec2::operation::create_security_group::CreateSecurityGroupOutput;
        use aws_sdk_ec2::operation::delete_security_group::{
            DeleteSecurityGroupError, DeleteSecurityGroupOutput,
        };
        use aws_sdk_ec2::operation::describe_security_groups::DescribeSecurityGroupsOutput;
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        #[tokio::test]
        async fn create_makes_the_group_and_grants_its_ingress_from_the_other_group() {
            let create = mock!(aws_sdk_ec2::Client::create_security_group)
                .match_requests(|r| {
                    r.group_name() == Some("s-service")
                        && r.description() == Some("service")
                        && r.vpc_id() == Some("vpc-1")
                })
                .then_output(|| {
                    CreateSecurityGroupOutput::builder()
                        .group_id("sg-service")
                        .security_group_arn("arn:sg-service")
                        .build()
                });
            let ingress = mock!(aws_sdk_ec2::Client::authorize_security_group_ingress)
                .match_requests(|r| {
                    let permission = &r.ip_permissions()[0];
                    r.group_id() == Some("sg-service")
                        && permission.from_port() == Some(5000)
                        && permission.user_id_group_pairs()[0].group_id() == Some("sg-alb")
                })
                .then_output(|| AuthorizeSecurityGroupIngressOutput::builder().build());
            let ctx = testing::ec2(&[&create, &ingress]);
            let creating = testing::Creating::new(ResourceId::SERVICE_SECURITY_GROUP, refs());
            let output = service_group().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "sg-service");
            assert_eq!(output.arn.as_deref(), Some("arn:sg-service"));
            assert_eq!(ingress.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_the_rules_of_the_stack_s_groups() {
            let describe = mock!(aws_sdk_ec2::Client::describe_security_groups).then_output(|| {
                let group = |id: &str, tags| {
                    aws_sdk_ec2::types::SecurityGroup::builder()
                        .group_id(id)
                        .group_name("s-service")
                        .description("service")
                        .vpc_id("vpc-1")
                        .set_ip_permissions(Some(vec![tcp(5000, "sg-alb").permission()]))
                        .set_ip_permissions_egress(Some(vec![all_out().permission()]))
                        .set_tags(Some(tags))
                        .build()
                };
                DescribeSecurityGroupsOutput::builder()
                    .security_groups(group(
                        "sg-service",
                        testing::ec2_tags("service-security-group"),
                    ))
                    .security_groups(group("sg-default", Vec::new()))
                    .build()
            });
            let ctx = testing::ec2(&[&describe]);
            let found = SecurityGroup::observe(&Scope::new(&ctx), &[])
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].detail, state(&[tcp(5000, "sg-alb")]));
            assert!(service_group().diff(&found[0].detail, &refs()).is_empty());
        }

        #[tokio::test]
        async fn delete_drops_rules_naming_other_groups_first_and_gone_is_success() {
            let revoke = mock!(aws_sdk_ec2::Client::revoke_security_group_ingress)
                .match_requests(|r| r.group_id() == Some("sg-service"))
                .then_output(|| RevokeSecurityGroupIngressOutput::builder().build());
            let delete = mock!(aws_sdk_ec2::Client::delete_security_group)
                .match_requests(|r| r.group_id() == Some("sg-service"))
                .then_output(|| DeleteSecurityGroupOutput::builder().build());
            let ctx = testing::ec2(&[&revoke, &delete]);
            let found = testing::found(
                "service-security-group",
                "sg-service",
                state(&[tcp(5000, "sg-alb")]),
            );
            assert_eq!(SecurityGroup::uses(&found), ["vpc-1", "sg-alb"]);
            SecurityGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!((revoke.num_calls(), delete.num_calls()), (1, 1));

            let gone = fails!(
                aws_sdk_ec2,
                delete_security_group,
                DeleteSecurityGroupError,
                "InvalidGroup.NotFound"
            );
            let ctx = testing::ec2(&[&gone]);
            let found = testing::found("service-security-group", "sg-service", state(&[]));
            SecurityGroup::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
