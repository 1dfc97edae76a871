//! The internet-facing Application Load Balancer, in the public subnets of every zone, with
//! the load balancer's security group.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::client::Waiters;
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancer as AwsLoadBalancer, LoadBalancerSchemeEnum, LoadBalancerTypeEnum,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Detail, Diff, Kind, Observed, Output, Outputs, elb, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancer {
    pub name: String,
    /// Logical ids of the public subnets.
    pub subnets: Vec<String>,
    pub security_group: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadBalancerState {
    pub dns_name: String,
    pub scheme: String,
    pub subnets: BTreeSet<String>,
    pub security_groups: BTreeSet<String>,
}

pub fn observed(id: String, lb: &AwsLoadBalancer, tags: Tags) -> Observed {
    Observed {
        id,
        kind: Kind::LoadBalancer,
        aws_id: lb.load_balancer_arn().unwrap_or_default().to_owned(),
        arn: lb.load_balancer_arn().map(str::to_owned),
        state: lb
            .state()
            .and_then(|s| s.code())
            .map(|c| c.as_str().to_owned())
            .unwrap_or_default(),
        tags,
        detail: Detail::LoadBalancer(LoadBalancerState {
            dns_name: lb.dns_name().unwrap_or_default().to_owned(),
            scheme: lb
                .scheme()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            subnets: lb
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_owned))
                .collect(),
            security_groups: lb.security_groups().iter().cloned().collect(),
        }),
    }
}

fn wanted(desired: &LoadBalancer, refs: &Outputs) -> (BTreeSet<String>, BTreeSet<String>) {
    let id_of = |l: &str| {
        refs.get(l)
            .map_or_else(|| format!("(new {l})"), |o| o.aws_id.clone())
    };
    (
        desired.subnets.iter().map(|s| id_of(s)).collect(),
        [id_of(&desired.security_group)].into(),
    )
}

fn show(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

pub fn diff(desired: &LoadBalancer, observed: &LoadBalancerState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if observed.scheme != "internet-facing" {
        diff.replace(format!(
            "it is {}, and a load balancer's scheme cannot change",
            observed.scheme
        ));
    }
    let (subnets, groups) = wanted(desired, refs);
    if observed.subnets != subnets {
        diff.field("subnets", show(&observed.subnets), show(&subnets));
    }
    if observed.security_groups != groups {
        diff.field(
            "security_groups",
            show(&observed.security_groups),
            show(&groups),
        );
    }
    diff
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &LoadBalancer,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let mut subnets = Vec::new();
    for s in &desired.subnets {
        subnets.push(resolve(refs, id, s)?.aws_id.clone());
    }
    let group = resolve(refs, id, &desired.security_group)?.aws_id.clone();
    let out = ctx
        .elb
        .create_load_balancer()
        .name(&desired.name)
        .r#type(LoadBalancerTypeEnum::Application)
        .scheme(LoadBalancerSchemeEnum::InternetFacing)
        .set_subnets(Some(subnets))
        .security_groups(group)
        .set_tags(Some(elb::to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateLoadBalancer", e))?;
    let lb = out
        .load_balancers()
        .first()
        .ok_or_else(|| Error::unexpected(id, "CreateLoadBalancer returned no load balancer"))?;
    let arn = lb.load_balancer_arn().unwrap_or_default().to_owned();
    // Listeners can be added at once, but the DNS name only answers once it is active.
    ctx.elb
        .wait_until_load_balancer_available()
        .load_balancer_arns(&arn)
        .wait(ctx.settings.wait_timeout)
        .await
        .map_err(|e| Error::waiter(id, "DescribeLoadBalancers (waiting for active)", e))?;
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: lb.dns_name().map(|d| format!("http://{d}")),
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &LoadBalancer,
    state: &LoadBalancerState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let (subnets, groups) = wanted(desired, refs);
    if state.subnets != subnets {
        ctx.elb
            .set_subnets()
            .load_balancer_arn(&observed.aws_id)
            .set_subnets(Some(subnets.into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "SetSubnets", e))?;
    }
    if state.security_groups != groups {
        ctx.elb
            .set_security_groups()
            .load_balancer_arn(&observed.aws_id)
            .set_security_groups(Some(groups.into_iter().collect()))
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "SetSecurityGroups", e))?;
    }
    elb::retag(ctx, observed, tags).await?;
    Ok(Output::of(observed))
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    match ctx
        .elb
        .delete_load_balancer()
        .load_balancer_arn(&observed.aws_id)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if e.code() == Some("LoadBalancerNotFound") => return Ok(()),
        Err(e) => return Err(Error::aws(&observed.id, "DeleteLoadBalancer", e)),
    }
    // Its network interfaces keep the subnets and the security group busy until it is gone.
    on_wait("waiting for the load balancer to be deleted".into());
    ctx.elb
        .wait_until_load_balancers_deleted()
        .load_balancer_arns(&observed.aws_id)
        .wait(ctx.settings.wait_timeout.max(Duration::from_secs(1)))
        .await
        .map_err(|e| {
            Error::waiter(
                &observed.id,
                "DescribeLoadBalancers (waiting for deleted)",
                e,
            )
        })?;
    Ok(())
}
