//! The Elastic IP of the NAT gateway (when `network.nat_gateway = true`).

use aws_sdk_ec2::types::{DomainType, ResourceType};

use crate::aws::ec2;
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElasticIp;

impl Resource for ElasticIp {
    type State = ();
    type Field = NoField;
    const LABEL: &'static str = "Elastic IP";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        // DescribeAddresses answers with every address at once (no pages).
        let out = ctx
            .ec2
            .describe_addresses()
            .filters(ec2::stack_filter(ctx))
            .send()
            .await
            .map_err(|e| Error::aws("Elastic IPs", "DescribeAddresses", e))?;
        Ok(ec2::found(ctx, out.addresses(), |a| {
            let seen = ec2::Seen::new(a.tags(), a.allocation_id()).state(a.public_ip());
            (seen, ())
        }))
    }

    fn diff(&self, _: &(), _: &Outputs) -> Diff<NoField> {
        Diff::default()
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_ec2,
            ctx.ec2
                .allocate_address()
                .domain(DomainType::Vpc)
                .tag_specifications(ec2::tag_spec(ResourceType::ElasticIp, new.tags))
        )
        .await
        .map_err(|e| Error::aws(new.id, "AllocateAddress", e))?;
        let allocation = out
            .allocation_id()
            .ok_or_else(|| Error::incomplete(new.id, "AllocateAddress", "allocation id"))?;
        Ok(Output::id(allocation))
    }

    async fn retag(ctx: &Context, found: &Found<()>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<()>, wait: Wait<'_>) -> Result<()> {
        let waiting_for = "the NAT gateway to release the address";
        let op = "ReleaseAddress";
        ec2::delete_found!(
            ctx,
            wait,
            found,
            waiting_for,
            release_address.allocation_id,
            op
        )
    }

    fn uses(_: &Found<()>) -> Vec<String> {
        Vec::new()
    }
}
