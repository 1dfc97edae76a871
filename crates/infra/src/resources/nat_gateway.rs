//! The NAT gateway (when `network.nat_gateway = true`). One NAT gateway, in the first public
//! subnet: the private subnets of every zone route through it (a cost choice: each NAT
//! gateway is billed by the hour).

use std::time::Duration;

use aws_sdk_ec2::client::Waiters;
use aws_sdk_ec2::types::{NatGatewayState as AwsNatState, ResourceType};

use crate::aws::{self, ec2};
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::resource::{Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::retry;
use crate::tags::Tags;

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

impl Resource for NatGateway {
    type State = NatGatewayState;
    type Field = NoField;
    const LABEL: &'static str = "NAT gateway";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&str> {
        vec![&self.subnet, &self.eip]
    }

    fn binding(&self) -> Vec<&str> {
        vec![&self.subnet, &self.eip]
    }

    async fn observe(
        scope: &Scope<'_>,
        _: &[Wanted<'_, Self>],
    ) -> Result<Vec<Found<NatGatewayState>>> {
        let ctx = scope.ctx;
        let items = aws::all(
            ctx.ec2
                .describe_nat_gateways()
                .filter(ec2::stack_filter(ctx))
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws("NAT gateways", "DescribeNatGateways", e),
        )
        .await?;
        // A deleted NAT gateway stays listed for an hour.
        let live: Vec<_> = items
            .into_iter()
            .filter(|n| n.state() != Some(&AwsNatState::Deleted))
            .collect();
        Ok(ec2::found(ctx, &live, |n| {
            let allocation_id = n
                .nat_gateway_addresses()
                .first()
                .and_then(|a| a.allocation_id())
                .unwrap_or_default()
                .to_owned();
            let seen = ec2::Seen {
                tags: n.tags(),
                aws_id: n.nat_gateway_id(),
                arn: None,
                state: n.state().map(|s| s.as_str().to_owned()).unwrap_or_default(),
            };
            let state = NatGatewayState {
                subnet_id: n.subnet_id().unwrap_or_default().to_owned(),
                allocation_id,
            };
            (seen, state)
        }))
    }

    fn diff(&self, found: &NatGatewayState, refs: &Outputs) -> Diff<NoField> {
        let mut diff = Diff::default();
        let subnet = Ref::new(refs, &self.subnet, Attr::Id);
        if subnet.known.is_some() && !subnet.is(&found.subnet_id) {
            diff.replace(format!("it moves from {} to {subnet}", found.subnet_id));
        }
        let eip = Ref::new(refs, &self.eip, Attr::Id);
        if eip.known.is_some() && !eip.is(&found.allocation_id) {
            diff.replace(format!(
                "its address changes from {} to {eip}",
                found.allocation_id
            ));
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let subnet = Ref::new(new.refs, &self.subnet, Attr::Id).resolve(new.refs, new.id)?;
        let eip = Ref::new(new.refs, &self.eip, Attr::Id).resolve(new.refs, new.id)?;
        let out = retry::until_visible(&ctx.settings, || async {
            ctx.ec2
                .create_nat_gateway()
                .subnet_id(&subnet)
                .allocation_id(&eip)
                .tag_specifications(ec2::tag_spec(ResourceType::Natgateway, new.tags))
                .send()
                .await
                .map_err(|e| Error::aws(new.id, "CreateNatGateway", e))
        })
        .await?;
        let nat_id = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .ok_or_else(|| Error::unexpected(new.id, "CreateNatGateway returned no id"))?
            .to_owned();
        // Routes may only point at an available NAT gateway; this takes a minute or two on AWS.
        ctx.ec2
            .wait_until_nat_gateway_available()
            .nat_gateway_ids(&nat_id)
            .wait(ctx.settings.wait_timeout)
            .await
            .map_err(|e| Error::waiter(new.id, "DescribeNatGateways (waiting for available)", e))?;
        Ok(Output::id(nat_id))
    }

    async fn update(
        &self,
        _: &Context,
        found: &Found<NatGatewayState>,
        _: &[NoField],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<NatGatewayState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<NatGatewayState>, wait: Wait<'_>) -> Result<()> {
        let result = ctx
            .ec2
            .delete_nat_gateway()
            .nat_gateway_id(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteNatGateway", e));
        match result {
            Err(err) if err.code().is_some_and(ec2::is_not_found) => return Ok(()),
            Err(err) => return Err(err),
            Ok(_) => {}
        }
        // Its address and subnet stay busy until the gateway is really gone.
        wait("waiting for the NAT gateway to be deleted".into());
        ctx.ec2
            .wait_until_nat_gateway_deleted()
            .nat_gateway_ids(&found.aws_id)
            .wait(ctx.settings.wait_timeout.max(Duration::from_secs(1)))
            .await
            .map_err(|e| {
                Error::waiter(&found.id, "DescribeNatGateways (waiting for deleted)", e)
            })?;
        Ok(())
    }

    fn uses(found: &Found<NatGatewayState>) -> Vec<String> {
        vec![
            found.detail.subnet_id.clone(),
            found.detail.allocation_id.clone(),
        ]
    }
}
