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

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::allocate_address::AllocateAddressOutput;
    use aws_sdk_ec2::operation::describe_addresses::DescribeAddressesOutput;
    use aws_sdk_ec2::operation::release_address::{ReleaseAddressError, ReleaseAddressOutput};
    use aws_sdk_ec2::types::{Address, Tag};
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::resources::testing::{self, fails};

    fn found() -> Found<()> {
        testing::found("nat-eip", "eipalloc-1", ())
    }

    #[tokio::test]
    async fn create_allocates_a_tagged_vpc_address() {
        let allocate = mock!(aws_sdk_ec2::Client::allocate_address)
            .match_requests(|r| {
                r.domain() == Some(&DomainType::Vpc)
                    && r.tag_specifications().first().is_some_and(|s| {
                        s.resource_type() == Some(&ResourceType::ElasticIp)
                            && s.tags().iter().any(|t| t.key() == Some("stackctl:id"))
                    })
            })
            .then_output(|| {
                AllocateAddressOutput::builder()
                    .allocation_id("eipalloc-1")
                    .build()
            });
        let ctx = testing::ec2(&[&allocate]);
        let creating = testing::Creating::new(ResourceId::NAT_EIP, Outputs::new());
        let output = ElasticIp.create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "eipalloc-1");
    }

    #[tokio::test]
    async fn observe_reads_the_stack_s_address_with_its_public_ip() {
        let describe = mock!(aws_sdk_ec2::Client::describe_addresses).then_output(|| {
            let address = |id: &str, tags: Vec<(String, String)>| {
                Address::builder()
                    .allocation_id(id)
                    .public_ip("203.0.113.7")
                    .set_tags(Some(
                        tags.into_iter()
                            .map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect(),
                    ))
                    .build()
            };
            DescribeAddressesOutput::builder()
                .addresses(address("eipalloc-1", testing::stack_tags("nat-eip")))
                .addresses(address("eipalloc-9", Vec::new()))
                .build()
        });
        let ctx = testing::ec2(&[&describe]);
        let found = ElasticIp::observe(&Scope::new(&ctx), &[]).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, ResourceId::NAT_EIP);
        assert_eq!(found[0].state, "203.0.113.7");
        assert!(ElasticIp.diff(&(), &Outputs::new()).is_empty());
    }

    #[tokio::test]
    async fn release_waits_for_the_gateway_to_let_go() {
        let release = mock!(aws_sdk_ec2::Client::release_address)
            .match_requests(|r| r.allocation_id() == Some("eipalloc-1"))
            .sequence()
            .error(|| {
                ReleaseAddressError::generic(
                    aws_smithy_types::error::ErrorMetadata::builder()
                        .code("InvalidIPAddress.InUse")
                        .build(),
                )
            })
            .output(|| ReleaseAddressOutput::builder().build())
            .build();
        let ctx = testing::ec2(&[&release]);
        let waits = std::sync::Mutex::new(Vec::new());
        ElasticIp::delete(&ctx, &found(), &|m| waits.lock().unwrap().push(m))
            .await
            .unwrap();
        assert_eq!(release.num_calls(), 2);
        assert!(waits.into_inner().unwrap()[0].contains("NAT gateway to release"));
    }

    #[tokio::test]
    async fn an_address_already_released_is_success() {
        let gone = fails!(
            aws_sdk_ec2,
            release_address,
            ReleaseAddressError,
            "InvalidAllocationID.NotFound"
        );
        let ctx = testing::ec2(&[&gone]);
        ElasticIp::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
