//! The NAT gateway (when `network.nat_gateway = true`) and its Elastic IP. One NAT gateway,
//! in the first public subnet: the private subnets of every zone route through it (a cost
//! choice: each NAT gateway is billed by the hour).

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{DomainType, NatGatewayState as AwsNatState, ResourceType};

use super::{Detail, Diff, Kind, Observed, Output, Outputs, ec2, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElasticIp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    /// Logical id of the public subnet it lives in.
    pub subnet: String,
    /// Logical id of its Elastic IP.
    pub eip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGatewayState {
    pub subnet_id: String,
    pub allocation_id: String,
}

pub fn diff(desired: &NatGateway, observed: &NatGatewayState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if let Some(subnet) = refs.get(&desired.subnet)
        && subnet.aws_id != observed.subnet_id
    {
        diff.replace(format!(
            "it moves from {} to {}",
            observed.subnet_id, subnet.aws_id
        ));
    }
    if let Some(eip) = refs.get(&desired.eip)
        && eip.aws_id != observed.allocation_id
    {
        diff.replace(format!(
            "its address changes from {} to {}",
            observed.allocation_id, eip.aws_id
        ));
    }
    diff
}

pub async fn observe_eips(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_addresses()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("Elastic IPs", "DescribeAddresses", e))?;
    Ok(out
        .addresses()
        .iter()
        .filter_map(|a| {
            let tags = ec2::to_map(a.tags());
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::ElasticIp,
                aws_id: a.allocation_id()?.to_owned(),
                arn: None,
                state: a.public_ip().unwrap_or_default().to_owned(),
                tags,
                detail: Detail::ElasticIp,
            })
        })
        .collect())
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_nat_gateways()
        .filter(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("NAT gateways", "DescribeNatGateways", e))?;
    Ok(out
        .nat_gateways()
        .iter()
        .filter(|n| n.state() != Some(&AwsNatState::Deleted))
        .filter_map(|n| {
            let tags = ec2::to_map(n.tags());
            let allocation_id = n
                .nat_gateway_addresses()
                .first()
                .and_then(|a| a.allocation_id())
                .unwrap_or_default()
                .to_owned();
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::NatGateway,
                aws_id: n.nat_gateway_id()?.to_owned(),
                arn: None,
                state: n.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
                tags,
                detail: Detail::NatGateway(NatGatewayState {
                    subnet_id: n.subnet_id().unwrap_or_default().to_owned(),
                    allocation_id,
                }),
            })
        })
        .collect())
}

pub async fn create_eip(ctx: &Context, id: &str, tags: &Tags) -> Result<Output> {
    let out = ctx
        .ec2
        .allocate_address()
        .domain(DomainType::Vpc)
        .tag_specifications(ec2::tag_spec(ResourceType::ElasticIp, tags))
        .send()
        .await
        .map_err(|e| Error::aws(id, "AllocateAddress", e))?;
    Ok(Output {
        aws_id: out
            .allocation_id()
            .ok_or_else(|| Error::unexpected(id, "AllocateAddress returned no allocation id"))?
            .to_owned(),
        ..Output::default()
    })
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &NatGateway,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let subnet = resolve(refs, id, &desired.subnet)?;
    let eip = resolve(refs, id, &desired.eip)?;
    let out = retry::until_visible(&ctx.settings, || async {
        ctx.ec2
            .create_nat_gateway()
            .subnet_id(&subnet.aws_id)
            .allocation_id(&eip.aws_id)
            .tag_specifications(ec2::tag_spec(ResourceType::Natgateway, tags))
            .send()
            .await
            .map_err(|e| Error::aws(id, "CreateNatGateway", e))
    })
    .await?;
    let nat_id = out
        .nat_gateway()
        .and_then(|n| n.nat_gateway_id())
        .ok_or_else(|| Error::unexpected(id, "CreateNatGateway returned no id"))?
        .to_owned();
    // Routes may only point at an available NAT gateway; this takes a minute or two on AWS.
    ctx.ec2
        .wait_until_nat_gateway_available()
        .nat_gateway_ids(&nat_id)
        .wait(ctx.settings.wait_timeout)
        .await
        .map_err(|e| Error::waiter(id, "DescribeNatGateways (waiting for available)", e))?;
    Ok(Output {
        aws_id: nat_id,
        ..Output::default()
    })
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let result = ctx
        .ec2
        .delete_nat_gateway()
        .nat_gateway_id(&observed.aws_id)
        .send()
        .await
        .map_err(|e| Error::aws(&observed.id, "DeleteNatGateway", e));
    match result {
        Err(err) if ec2::is_not_found(&err) => return Ok(()),
        Err(err) => return Err(err),
        Ok(_) => {}
    }
    // Its address and subnet stay busy until the gateway is really gone.
    on_wait("waiting for the NAT gateway to be deleted".into());
    ctx.ec2
        .wait_until_nat_gateway_deleted()
        .nat_gateway_ids(&observed.aws_id)
        .wait(ctx.settings.wait_timeout.max(Duration::from_secs(1)))
        .await
        .map_err(|e| Error::waiter(&observed.id, "DescribeNatGateways (waiting for deleted)", e))?;
    Ok(())
}

pub async fn delete_eip(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    ec2::delete_retrying(
        ctx,
        on_wait,
        "the NAT gateway to release the address",
        || async {
            ctx.ec2
                .release_address()
                .allocation_id(&observed.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&observed.id, "ReleaseAddress", e))
        },
    )
    .await
}
