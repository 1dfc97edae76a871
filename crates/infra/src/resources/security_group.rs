//! Security groups: the load balancer's (HTTP and HTTPS from anywhere) and the service's
//! (the container port from the load balancer's group only). Every rule is compared, so a
//! rule added or removed by hand is drift that `up` undoes.

use std::collections::BTreeSet;
use std::fmt;

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, UserIdGroupPair};

use super::{Detail, Diff, Kind, Observed, Output, Outputs, ec2, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

pub const ANYWHERE: &str = "0.0.0.0/0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Any IPv4 address.
    Anywhere,
    /// Members of another security group of the stack (logical id).
    Group(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingress {
    pub port: u16,
    pub source: Source,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroup {
    pub vpc: String,
    pub name: String,
    pub description: String,
    pub ingress: Vec<Ingress>,
}

/// One flattened rule: protocol, port range, and a CIDR or group id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub protocol: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
    pub source: String,
}

impl Rule {
    fn tcp(port: u16, source: String) -> Self {
        Self {
            protocol: "tcp".into(),
            from: Some(i32::from(port)),
            to: Some(i32::from(port)),
            source,
        }
    }

    /// All traffic to anywhere: AWS's default egress rule.
    fn all_out() -> Self {
        Self {
            protocol: "-1".into(),
            from: None,
            to: None,
            source: ANYWHERE.into(),
        }
    }

    fn permission(&self) -> IpPermission {
        let builder = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from)
            .set_to_port(self.to);
        if self.source.starts_with("sg-") || self.source.starts_with("(new") {
            builder
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&self.source).build())
                .build()
        } else {
            builder
                .ip_ranges(IpRange::builder().cidr_ip(&self.source).build())
                .build()
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.protocol.as_str(), self.from, self.to) {
            ("-1", _, _) => write!(f, "all from {}", self.source),
            (p, Some(a), Some(b)) if a == b => write!(f, "{p}/{a} from {}", self.source),
            (p, Some(a), Some(b)) => write!(f, "{p}/{a}-{b} from {}", self.source),
            (p, _, _) => write!(f, "{p} from {}", self.source),
        }
    }
}

fn show(rules: &BTreeSet<Rule>) -> String {
    if rules.is_empty() {
        return "(none)".into();
    }
    rules
        .iter()
        .map(Rule::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityGroupState {
    pub vpc_id: String,
    pub name: String,
    pub description: String,
    pub ingress: BTreeSet<Rule>,
    pub egress: BTreeSet<Rule>,
}

fn wanted_ingress(desired: &SecurityGroup, refs: &Outputs) -> BTreeSet<Rule> {
    desired
        .ingress
        .iter()
        .map(|i| {
            let source = match &i.source {
                Source::Anywhere => ANYWHERE.to_owned(),
                Source::Group(g) => refs
                    .get(g)
                    .map_or_else(|| format!("(new {g})"), |o| o.aws_id.clone()),
            };
            Rule::tcp(i.port, source)
        })
        .collect()
}

fn wanted_egress() -> BTreeSet<Rule> {
    [Rule::all_out()].into()
}

pub fn diff(desired: &SecurityGroup, observed: &SecurityGroupState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if let Some(vpc) = refs.get(&desired.vpc)
        && vpc.aws_id != observed.vpc_id
    {
        diff.replace(format!(
            "it is in {} instead of the stack's VPC {}",
            observed.vpc_id, vpc.aws_id
        ));
    }
    if observed.name != desired.name {
        diff.replace(format!(
            "its name changes from {} to {}, which AWS cannot rename",
            observed.name, desired.name
        ));
    }
    if observed.description != desired.description {
        diff.replace("its description changes, which AWS cannot update in place");
    }
    let ingress = wanted_ingress(desired, refs);
    if observed.ingress != ingress {
        diff.field("ingress", show(&observed.ingress), show(&ingress));
    }
    let egress = wanted_egress();
    if observed.egress != egress {
        diff.field("egress", show(&observed.egress), show(&egress));
    }
    diff
}

fn flatten(permissions: &[IpPermission]) -> BTreeSet<Rule> {
    let mut rules = BTreeSet::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1").to_owned();
        let (from, to) = if protocol == "-1" {
            (None, None)
        } else {
            (p.from_port(), p.to_port())
        };
        let rule = |source: &str| Rule {
            protocol: protocol.clone(),
            from,
            to,
            source: source.to_owned(),
        };
        for r in p.ip_ranges() {
            if let Some(cidr) = r.cidr_ip() {
                rules.insert(rule(cidr));
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(cidr) = r.cidr_ipv6() {
                rules.insert(rule(cidr));
            }
        }
        for g in p.user_id_group_pairs() {
            if let Some(id) = g.group_id() {
                rules.insert(rule(id));
            }
        }
        for l in p.prefix_list_ids() {
            if let Some(id) = l.prefix_list_id() {
                rules.insert(rule(id));
            }
        }
    }
    rules
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_security_groups()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("security groups", "DescribeSecurityGroups", e))?;
    Ok(out
        .security_groups()
        .iter()
        .filter_map(|g| {
            let tags = ec2::to_map(g.tags());
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::SecurityGroup,
                aws_id: g.group_id()?.to_owned(),
                arn: g.security_group_arn().map(str::to_owned),
                state: "available".into(),
                tags,
                detail: Detail::SecurityGroup(SecurityGroupState {
                    vpc_id: g.vpc_id().unwrap_or_default().to_owned(),
                    name: g.group_name().unwrap_or_default().to_owned(),
                    description: g.description().unwrap_or_default().to_owned(),
                    ingress: flatten(g.ip_permissions()),
                    egress: flatten(g.ip_permissions_egress()),
                }),
            })
        })
        .collect())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &SecurityGroup,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, id, &desired.vpc)?;
    let out = retry::until_visible(&ctx.settings, || async {
        ctx.ec2
            .create_security_group()
            .group_name(&desired.name)
            .description(&desired.description)
            .vpc_id(&vpc.aws_id)
            .tag_specifications(ec2::tag_spec(ResourceType::SecurityGroup, tags))
            .send()
            .await
            .map_err(|e| Error::aws(id, "CreateSecurityGroup", e))
    })
    .await?;
    let group_id = out
        .group_id()
        .ok_or_else(|| Error::unexpected(id, "CreateSecurityGroup returned no id"))?
        .to_owned();
    let ingress = wanted_ingress(desired, refs);
    authorize_ingress(ctx, id, &group_id, &ingress).await?;
    Ok(Output {
        aws_id: group_id,
        arn: out.security_group_arn().map(str::to_owned),
        url: None,
    })
}

async fn authorize_ingress(
    ctx: &Context,
    id: &str,
    group: &str,
    rules: &BTreeSet<Rule>,
) -> Result<()> {
    if rules.is_empty() {
        return Ok(());
    }
    // This group, and a group a rule points at, may be seconds old.
    retry::until_visible(&ctx.settings, || async {
        ctx.ec2
            .authorize_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(rules.iter().map(Rule::permission).collect()))
            .send()
            .await
            .map_err(|e| Error::aws(id, "AuthorizeSecurityGroupIngress", e))
    })
    .await?;
    Ok(())
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &SecurityGroup,
    state: &SecurityGroupState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let (id, group) = (&observed.id, &observed.aws_id);
    let ingress = wanted_ingress(desired, refs);
    let extra: Vec<IpPermission> = state
        .ingress
        .difference(&ingress)
        .map(Rule::permission)
        .collect();
    if !extra.is_empty() {
        ctx.ec2
            .revoke_security_group_ingress()
            .group_id(group)
            .set_ip_permissions(Some(extra))
            .send()
            .await
            .map_err(|e| Error::aws(id, "RevokeSecurityGroupIngress", e))?;
    }
    let missing: BTreeSet<Rule> = ingress.difference(&state.ingress).cloned().collect();
    authorize_ingress(ctx, id, group, &missing).await?;

    let egress = wanted_egress();
    let extra: Vec<IpPermission> = state
        .egress
        .difference(&egress)
        .map(Rule::permission)
        .collect();
    if !extra.is_empty() {
        ctx.ec2
            .revoke_security_group_egress()
            .group_id(group)
            .set_ip_permissions(Some(extra))
            .send()
            .await
            .map_err(|e| Error::aws(id, "RevokeSecurityGroupEgress", e))?;
    }
    let missing: Vec<IpPermission> = egress
        .difference(&state.egress)
        .map(Rule::permission)
        .collect();
    if !missing.is_empty() {
        ctx.ec2
            .authorize_security_group_egress()
            .group_id(group)
            .set_ip_permissions(Some(missing))
            .send()
            .await
            .map_err(|e| Error::aws(id, "AuthorizeSecurityGroupEgress", e))?;
    }
    ec2::retag(ctx, observed, tags).await
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    state: &SecurityGroupState,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    // Rules that point at other groups keep those groups alive; drop them first.
    let references: Vec<IpPermission> = state
        .ingress
        .iter()
        .filter(|r| r.source.starts_with("sg-"))
        .map(Rule::permission)
        .collect();
    if !references.is_empty() {
        let result = ctx
            .ec2
            .revoke_security_group_ingress()
            .group_id(&observed.aws_id)
            .set_ip_permissions(Some(references))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "RevokeSecurityGroupIngress", e));
        match result {
            Err(err) if !ec2::is_not_found(&err) => return Err(err),
            _ => {}
        }
    }
    ec2::delete_retrying(
        ctx,
        on_wait,
        "network interfaces to leave the group",
        || async {
            ctx.ec2
                .delete_security_group()
                .group_id(&observed.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&observed.id, "DeleteSecurityGroup", e))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> Outputs {
        [("vpc", "vpc-1"), ("alb-security-group", "sg-alb")]
            .into_iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    Output {
                        aws_id: v.into(),
                        ..Output::default()
                    },
                )
            })
            .collect()
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

    fn state(ingress: &[Rule]) -> SecurityGroupState {
        SecurityGroupState {
            vpc_id: "vpc-1".into(),
            name: "s-service".into(),
            description: "service".into(),
            ingress: ingress.iter().cloned().collect(),
            egress: wanted_egress(),
        }
    }

    #[test]
    fn matching_rules_are_unchanged() {
        let d = diff(
            &service_group(),
            &state(&[Rule::tcp(5000, "sg-alb".into())]),
            &refs(),
        );
        assert_eq!(d, Diff::default());
    }

    #[test]
    fn an_extra_rule_added_by_hand_is_drift() {
        let d = diff(
            &service_group(),
            &state(&[
                Rule::tcp(5000, "sg-alb".into()),
                Rule::tcp(22, ANYWHERE.into()),
            ]),
            &refs(),
        );
        assert_eq!(d.fields.len(), 1);
        assert_eq!(
            d.fields[0].from,
            "tcp/22 from 0.0.0.0/0, tcp/5000 from sg-alb"
        );
        assert_eq!(d.fields[0].to, "tcp/5000 from sg-alb");
    }

    #[test]
    fn a_renamed_group_is_replaced() {
        let mut s = state(&[Rule::tcp(5000, "sg-alb".into())]);
        s.name = "other".into();
        assert!(diff(&service_group(), &s, &refs()).replace.is_some());
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
        let rules = flatten(&[p, all]);
        assert_eq!(
            show(&rules),
            "all from 0.0.0.0/0, tcp/80 from 0.0.0.0/0, tcp/80 from sg-1"
        );
    }
}
