//! The NAT gateway (when `network.nat_gateway = true`). One NAT gateway, in the first public
//! subnet: the private subnets of every zone route through it (a cost choice: each NAT
//! gateway is billed by the hour).

use aws_sdk_ec2::types::{NatGatewayState as AwsNatState, ResourceType};

use crate::aws::ec2;
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::retry::{self, Progress};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatGateway {
    /// Logical id of the public subnet it lives in.
    pub subnet: ResourceId,
    /// Logical id of its Elastic IP.
    pub eip: ResourceId,
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
    const WAITS: bool = true;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.subnet, &self.eip]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.subnet, &self.eip]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let what = ("NAT gateways", "DescribeNatGateways");
        let items = ec2::describe_stack!(ctx, describe_nat_gateways, filter, what)?;
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
            let seen = ec2::Seen::new(n.tags(), n.nat_gateway_id()).state(n.state());
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
            crate::aws::once!(
                aws_sdk_ec2,
                ctx.ec2
                    .create_nat_gateway()
                    .client_token(new.token)
                    .subnet_id(&subnet)
                    .allocation_id(&eip)
                    .tag_specifications(ec2::tag_spec(ResourceType::Natgateway, new.tags))
            )
            .await
            .map_err(|e| Error::aws(new.id, "CreateNatGateway", e))
        })
        .await?;
        let nat_id = out
            .nat_gateway()
            .and_then(|n| n.nat_gateway_id())
            .ok_or_else(|| Error::incomplete(new.id, "CreateNatGateway", "id"))?
            .to_owned();
        Ok(Output::id(nat_id))
    }

    /// Routes may only point at an available NAT gateway; this takes a minute or two on AWS.
    async fn ready(
        &self,
        ctx: &Context,
        id: &ResourceId,
        output: &Output,
        _: &Outputs,
        wait: Wait<'_>,
    ) -> Result<()> {
        let what = (id.as_str(), "NAT gateway", "become available");
        retry::until_ready(&ctx.settings, what, wait, || async {
            let out = ctx
                .ec2
                .describe_nat_gateways()
                .nat_gateway_ids(&output.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(id, "DescribeNatGateways", e))?;
            let nat = out.nat_gateways().first();
            Ok(match nat.and_then(|n| n.state()) {
                Some(AwsNatState::Available) => Progress::Ready,
                Some(AwsNatState::Failed) => {
                    Progress::Failed(nat.and_then(|n| n.failure_message()).map(str::to_owned))
                }
                state => Progress::Pending(state.map(|s| s.as_str().to_owned())),
            })
        })
        .await
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
        retry::until_gone(
            &ctx.settings,
            (found.id.as_str(), "NAT gateway"),
            wait,
            || async {
                let out = ctx
                    .ec2
                    .describe_nat_gateways()
                    .nat_gateway_ids(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DescribeNatGateways", e));
                let state = match out {
                    Ok(out) => out.nat_gateways().first().and_then(|n| n.state().cloned()),
                    Err(err) if err.code().is_some_and(ec2::is_not_found) => None,
                    Err(err) => return Err(err),
                };
                Ok(state
                    .filter(|s| *s != AwsNatState::Deleted)
                    .map(|s| s.as_str().to_owned()))
            },
        )
        .await
    }

    fn unready(found: &Found<NatGatewayState>) -> Option<String> {
        (found.state != AwsNatState::Available.as_str())
            .then(|| format!("{} (not available yet)", found.state))
    }

    fn uses(found: &Found<NatGatewayState>) -> Vec<String> {
        vec![
            found.detail.subnet_id.clone(),
            found.detail.allocation_id.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::create_nat_gateway::CreateNatGatewayOutput;
    use aws_sdk_ec2::operation::delete_nat_gateway::{
        DeleteNatGatewayError, DeleteNatGatewayOutput,
    };
    use aws_sdk_ec2::operation::describe_nat_gateways::DescribeNatGatewaysOutput;
    use aws_sdk_ec2::types::{NatGatewayAddress, Tag};
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::resources::testing::{self, fails};

    fn desired() -> NatGateway {
        NatGateway {
            subnet: ResourceId::public_subnet(0),
            eip: ResourceId::NAT_EIP,
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[("public-subnet-1", "subnet-1"), ("nat-eip", "eipalloc-1")])
    }

    fn state() -> NatGatewayState {
        NatGatewayState {
            subnet_id: "subnet-1".into(),
            allocation_id: "eipalloc-1".into(),
        }
    }

    fn found() -> Found<NatGatewayState> {
        testing::found("nat-gateway", "nat-1", state())
    }

    fn gateway(id: &str, state: AwsNatState, tagged: bool) -> aws_sdk_ec2::types::NatGateway {
        let tags = if tagged {
            testing::stack_tags("nat-gateway")
        } else {
            Vec::new()
        };
        aws_sdk_ec2::types::NatGateway::builder()
            .nat_gateway_id(id)
            .subnet_id("subnet-1")
            .state(state)
            .failure_message("Elastic IP address is already associated")
            .nat_gateway_addresses(
                NatGatewayAddress::builder()
                    .allocation_id("eipalloc-1")
                    .build(),
            )
            .set_tags(Some(
                tags.into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect(),
            ))
            .build()
    }

    /// DescribeNatGateways of `nat-1` answering each state in turn.
    fn states(states: &[AwsNatState]) -> Rule {
        let mut rule = mock!(aws_sdk_ec2::Client::describe_nat_gateways)
            .match_requests(|r| r.nat_gateway_ids() == ["nat-1"])
            .sequence();
        for state in states {
            let state = state.clone();
            rule = rule.output(move || {
                DescribeNatGatewaysOutput::builder()
                    .nat_gateways(gateway("nat-1", state.clone(), true))
                    .build()
            });
        }
        rule.build()
    }

    #[tokio::test]
    async fn create_puts_it_in_the_subnet_with_the_address_and_a_token() {
        let create = mock!(aws_sdk_ec2::Client::create_nat_gateway)
            .match_requests(|r| {
                r.subnet_id() == Some("subnet-1")
                    && r.allocation_id() == Some("eipalloc-1")
                    && r.client_token() == Some("token-1")
                    && r.tag_specifications().len() == 1
            })
            .then_output(|| {
                CreateNatGatewayOutput::builder()
                    .nat_gateway(
                        aws_sdk_ec2::types::NatGateway::builder()
                            .nat_gateway_id("nat-1")
                            .build(),
                    )
                    .build()
            });
        let ctx = testing::ec2(&[&create]);
        let creating = testing::Creating::new(ResourceId::NAT_GATEWAY, refs());
        let output = desired().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "nat-1");
    }

    #[tokio::test]
    async fn ready_waits_until_available_and_a_failed_one_says_why() {
        let describe = states(&[AwsNatState::Pending, AwsNatState::Available]);
        let ctx = testing::ec2(&[&describe]);
        let output = Output::id("nat-1");
        let id = ResourceId::NAT_GATEWAY;
        desired()
            .ready(&ctx, &id, &output, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(describe.num_calls(), 2);

        let describe = states(&[AwsNatState::Failed]);
        let ctx = testing::ec2(&[&describe]);
        let err = desired()
            .ready(&ctx, &id, &output, &refs(), &|_| {})
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already associated"), "{err}");
    }

    #[tokio::test]
    async fn observe_skips_deleted_and_untagged_gateways() {
        let describe = mock!(aws_sdk_ec2::Client::describe_nat_gateways).then_output(|| {
            DescribeNatGatewaysOutput::builder()
                .nat_gateways(gateway("nat-1", AwsNatState::Pending, true))
                .nat_gateways(gateway("nat-old", AwsNatState::Deleted, true))
                .nat_gateways(gateway("nat-other", AwsNatState::Available, false))
                .build()
        });
        let ctx = testing::ec2(&[&describe]);
        let found = NatGateway::observe(&Scope::new(&ctx), &[]).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].aws_id, "nat-1");
        assert_eq!(found[0].detail, state());
        assert_eq!(
            NatGateway::unready(&found[0]).as_deref(),
            Some("pending (not available yet)")
        );
        assert!(desired().diff(&found[0].detail, &refs()).is_empty());
    }

    #[test]
    fn another_subnet_or_address_is_a_replace() {
        let moved = testing::refs(&[("public-subnet-1", "subnet-2"), ("nat-eip", "eipalloc-1")]);
        assert!(desired().diff(&state(), &moved).replace.is_some());
        let readdressed =
            testing::refs(&[("public-subnet-1", "subnet-1"), ("nat-eip", "eipalloc-2")]);
        assert!(desired().diff(&state(), &readdressed).replace.is_some());
    }

    #[tokio::test]
    async fn delete_waits_until_the_gateway_is_deleted() {
        let delete = mock!(aws_sdk_ec2::Client::delete_nat_gateway)
            .match_requests(|r| r.nat_gateway_id() == Some("nat-1"))
            .then_output(|| DeleteNatGatewayOutput::builder().build());
        let describe = states(&[AwsNatState::Deleting, AwsNatState::Deleted]);
        let ctx = testing::ec2(&[&delete, &describe]);
        NatGateway::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!((delete.num_calls(), describe.num_calls()), (1, 2));
        assert_eq!(NatGateway::uses(&found()), ["subnet-1", "eipalloc-1"]);
    }

    #[tokio::test]
    async fn a_gateway_already_gone_is_success() {
        let gone = fails!(
            aws_sdk_ec2,
            delete_nat_gateway,
            DeleteNatGatewayError,
            "NatGatewayNotFound"
        );
        let ctx = testing::ec2(&[&gone]);
        NatGateway::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
