//! The Elastic IP of the NAT gateway (when `network.nat_gateway = true`).

use aws_sdk_ec2::types::{DomainType, ResourceType};

use crate::aws::ec2;
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::outputs::{Output, Outputs};
use crate::resource::{Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElasticIp;

impl Resource for ElasticIp {
    type State = ();
    type Field = NoField;
    const LABEL: &'static str = "Elastic IP";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&str> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Result<Vec<Found<()>>> {
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
            let seen = ec2::Seen {
                tags: a.tags(),
                aws_id: a.allocation_id(),
                arn: None,
                state: a.public_ip().unwrap_or_default().to_owned(),
            };
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
        let allocation = out.allocation_id().ok_or_else(|| {
            Error::unexpected(new.id, "AllocateAddress returned no allocation id")
        })?;
        Ok(Output::id(allocation))
    }

    async fn update(
        &self,
        _: &Context,
        found: &Found<()>,
        _: &[NoField],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<()>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<()>, wait: Wait<'_>) -> Result<()> {
        ec2::delete_retrying(
            ctx,
            wait,
            "the NAT gateway to release the address",
            || async {
                ctx.ec2
                    .release_address()
                    .allocation_id(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "ReleaseAddress", e))
            },
        )
        .await
    }

    fn uses(_: &Found<()>) -> Vec<String> {
        Vec::new()
    }
}
