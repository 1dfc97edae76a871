//! The VPC: its CIDR block and DNS support and hostnames (both on, so tasks can resolve AWS
//! endpoints and get DNS names).

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use ipnet::Ipv4Net;

use super::{Detail, Diff, Kind, Observed, Output, ec2};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vpc {
    pub cidr: Ipv4Net,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpcState {
    pub cidr: String,
    pub dns_support: bool,
    pub dns_hostnames: bool,
}

pub fn diff(desired: &Vpc, observed: &VpcState) -> Diff {
    let mut diff = Diff::default();
    if observed.cidr != desired.cidr.to_string() {
        diff.replace(format!(
            "the CIDR block changes from {} to {}, and a VPC's primary block cannot be changed in place",
            observed.cidr, desired.cidr
        ));
    }
    diff.compare("dns_support", observed.dns_support, true);
    diff.compare("dns_hostnames", observed.dns_hostnames, true);
    diff
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_vpcs()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("VPCs", "DescribeVpcs", e))?;
    let mut found = Vec::new();
    for vpc in out.vpcs() {
        let tags = ec2::to_map(vpc.tags());
        let (Some(id), Some(vpc_id)) = (ec2::logical_id(ctx, &tags), vpc.vpc_id()) else {
            continue;
        };
        let (dns_support, dns_hostnames) = tokio::try_join!(
            attribute(ctx, &id, vpc_id, VpcAttributeName::EnableDnsSupport),
            attribute(ctx, &id, vpc_id, VpcAttributeName::EnableDnsHostnames),
        )?;
        found.push(Observed {
            id,
            kind: Kind::Vpc,
            aws_id: vpc_id.to_owned(),
            arn: None,
            state: vpc
                .state()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            tags,
            detail: Detail::Vpc(VpcState {
                cidr: vpc.cidr_block().unwrap_or_default().to_owned(),
                dns_support,
                dns_hostnames,
            }),
        });
    }
    Ok(found)
}

async fn attribute(ctx: &Context, id: &str, vpc_id: &str, name: VpcAttributeName) -> Result<bool> {
    let out = ctx
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc_id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(|e| Error::aws(id, "DescribeVpcAttribute", e))?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value
        .and_then(AttributeBooleanValue::value)
        .unwrap_or(false))
}

async fn set_attribute(
    ctx: &Context,
    id: &str,
    vpc_id: &str,
    name: VpcAttributeName,
) -> Result<()> {
    let on = AttributeBooleanValue::builder().value(true).build();
    let call = ctx.ec2.modify_vpc_attribute().vpc_id(vpc_id);
    let call = match name {
        VpcAttributeName::EnableDnsSupport => call.enable_dns_support(on),
        _ => call.enable_dns_hostnames(on),
    };
    call.send()
        .await
        .map_err(|e| Error::aws(id, "ModifyVpcAttribute", e))?;
    Ok(())
}

pub async fn create(ctx: &Context, id: &str, desired: &Vpc, tags: &Tags) -> Result<Output> {
    let out = ctx
        .ec2
        .create_vpc()
        .cidr_block(desired.cidr.to_string())
        .tag_specifications(ec2::tag_spec(ResourceType::Vpc, tags))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateVpc", e))?;
    let vpc_id = out
        .vpc()
        .and_then(|v| v.vpc_id())
        .ok_or_else(|| Error::unexpected(id, "CreateVpc returned no VPC id"))?
        .to_owned();
    // A new VPC has DNS support on and hostnames off.
    retry::until_visible(&ctx.settings, || {
        set_attribute(ctx, id, &vpc_id, VpcAttributeName::EnableDnsHostnames)
    })
    .await?;
    Ok(Output {
        aws_id: vpc_id,
        ..Output::default()
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    _desired: &Vpc,
    state: &VpcState,
    tags: &Tags,
) -> Result<Output> {
    if !state.dns_support {
        set_attribute(
            ctx,
            &observed.id,
            &observed.aws_id,
            VpcAttributeName::EnableDnsSupport,
        )
        .await?;
    }
    if !state.dns_hostnames {
        set_attribute(
            ctx,
            &observed.id,
            &observed.aws_id,
            VpcAttributeName::EnableDnsHostnames,
        )
        .await?;
    }
    ec2::retag(ctx, observed, tags).await
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    ec2::delete_retrying(ctx, on_wait, "the VPC's dependencies to go", || async {
        ctx.ec2
            .delete_vpc()
            .vpc_id(&observed.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "DeleteVpc", e))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(cidr: &str, dns: bool) -> VpcState {
        VpcState {
            cidr: cidr.into(),
            dns_support: dns,
            dns_hostnames: dns,
        }
    }

    #[test]
    fn unchanged_when_cidr_and_dns_match() {
        let desired = Vpc {
            cidr: "10.0.0.0/16".parse().unwrap(),
        };
        assert_eq!(diff(&desired, &state("10.0.0.0/16", true)), Diff::default());
    }

    #[test]
    fn dns_drift_is_an_update_and_a_new_cidr_a_replace() {
        let desired = Vpc {
            cidr: "10.0.0.0/16".parse().unwrap(),
        };
        let d = diff(&desired, &state("10.0.0.0/16", false));
        assert_eq!(d.fields.len(), 2);
        assert!(d.replace.is_none());
        let d = diff(&desired, &state("10.1.0.0/16", true));
        assert!(d.replace.unwrap().contains("cannot be changed in place"));
    }
}
