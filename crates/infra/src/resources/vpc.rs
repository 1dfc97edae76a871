//! The VPC: its CIDR block and DNS support and hostnames (both on, so tasks can resolve AWS
//! endpoints and get DNS names).

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, VpcAttributeName};
use ipnet::Ipv4Net;

use crate::aws::ec2;
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
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

/// A DNS attribute that is off and must be on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    DnsSupport,
    DnsHostnames,
}

impl Field {
    fn attribute(self) -> VpcAttributeName {
        match self {
            Self::DnsSupport => VpcAttributeName::EnableDnsSupport,
            Self::DnsHostnames => VpcAttributeName::EnableDnsHostnames,
        }
    }
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let name = match self {
            Self::DnsSupport => "dns_support",
            Self::DnsHostnames => "dns_hostnames",
        };
        FieldChange::new(name, false, true)
    }
}

impl Resource for Vpc {
    type State = VpcState;
    type Field = Field;
    const LABEL: &'static str = "VPC";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let items = ec2::describe_stack!(ctx, describe_vpcs, filters, ("VPCs", "DescribeVpcs"))?;
        let mut found = ec2::found(ctx, &items, |vpc| {
            let seen = ec2::Seen::new(vpc.tags(), vpc.vpc_id()).state(vpc.state());
            let state = VpcState {
                cidr: vpc.cidr_block().unwrap_or_default().to_owned(),
                dns_support: false,
                dns_hostnames: false,
            };
            (seen, state)
        });
        // DescribeVpcs does not say how DNS is set: one call per attribute.
        for vpc in &mut found {
            let (support, hostnames) = tokio::try_join!(
                attribute(ctx, vpc, VpcAttributeName::EnableDnsSupport),
                attribute(ctx, vpc, VpcAttributeName::EnableDnsHostnames),
            )?;
            vpc.detail.dns_support = support;
            vpc.detail.dns_hostnames = hostnames;
        }
        Ok(found)
    }

    fn diff(&self, found: &VpcState, _: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        if found.cidr != self.cidr.to_string() {
            diff.replace(format!(
                "the CIDR block changes from {} to {}, and a VPC's primary block cannot be changed in place",
                found.cidr, self.cidr
            ));
        }
        diff.push_if(!found.dns_support, || Field::DnsSupport);
        diff.push_if(!found.dns_hostnames, || Field::DnsHostnames);
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_ec2,
            ctx.ec2
                .create_vpc()
                .cidr_block(self.cidr.to_string())
                .tag_specifications(ec2::tag_spec(ResourceType::Vpc, new.tags))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateVpc", e))?;
        let vpc_id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| Error::incomplete(new.id, "CreateVpc", "VPC id"))?
            .to_owned();
        // A new VPC has DNS support on and hostnames off.
        retry::until_visible(&ctx.settings, || {
            set_on(ctx, new.id, &vpc_id, Field::DnsHostnames)
        })
        .await?;
        Ok(Output::id(vpc_id))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<VpcState>,
        fields: &[Field],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        for field in fields {
            set_on(ctx, &found.id, &found.aws_id, *field).await?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<VpcState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<VpcState>, wait: Wait<'_>) -> Result<()> {
        let waiting_for = "the VPC's dependencies to go";
        ec2::delete_found!(
            ctx,
            wait,
            found,
            waiting_for,
            delete_vpc.vpc_id,
            "DeleteVpc"
        )
    }

    fn uses(_: &Found<VpcState>) -> Vec<String> {
        Vec::new()
    }
}

async fn attribute<S>(ctx: &Context, vpc: &Found<S>, name: VpcAttributeName) -> Result<bool> {
    let out = ctx
        .ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc.aws_id)
        .attribute(name.clone())
        .send()
        .await
        .map_err(|e| Error::aws(&vpc.id, "DescribeVpcAttribute", e))?;
    let value = match name {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(value
        .and_then(AttributeBooleanValue::value)
        .unwrap_or(false))
}

async fn set_on(ctx: &Context, id: &ResourceId, vpc_id: &str, field: Field) -> Result<()> {
    let on = AttributeBooleanValue::builder().value(true).build();
    let call = ctx.ec2.modify_vpc_attribute().vpc_id(vpc_id);
    let call = match field.attribute() {
        VpcAttributeName::EnableDnsSupport => call.enable_dns_support(on),
        _ => call.enable_dns_hostnames(on),
    };
    call.send()
        .await
        .map_err(|e| Error::aws(id, "ModifyVpcAttribute", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing::{self, ec2_rule};

    fn state(cidr: &str, dns: bool) -> VpcState {
        VpcState {
            cidr: cidr.into(),
            dns_support: dns,
            dns_hostnames: dns,
        }
    }

    fn desired() -> Vpc {
        Vpc {
            cidr: "10.0.0.0/16".parse().unwrap(),
        }
    }

    #[test]
    fn unchanged_when_cidr_and_dns_match() {
        assert!(
            desired()
                .diff(&state("10.0.0.0/16", true), &Outputs::new())
                .is_empty()
        );
    }

    #[test]
    fn dns_drift_is_an_update_and_a_new_cidr_a_replace() {
        let d = desired().diff(&state("10.0.0.0/16", false), &Outputs::new());
        assert_eq!(d.fields, [Field::DnsSupport, Field::DnsHostnames]);
        assert!(d.replace.is_none());
        assert_eq!(
            d.fields[1].describe(),
            FieldChange::new("dns_hostnames", "false", "true")
        );
        let d = desired().diff(&state("10.1.0.0/16", true), &Outputs::new());
        assert!(d.replace.unwrap().contains("cannot be changed in place"));
    }

    #[tokio::test]
    async fn each_field_turns_its_attribute_on_and_nothing_else() {
        use aws_sdk_ec2::operation::modify_vpc_attribute::ModifyVpcAttributeOutput;
        let modify = ec2_rule!(modify_vpc_attribute, ModifyVpcAttributeOutput);
        let ctx = testing::ec2(&[&modify]);
        let found = testing::found("vpc", "vpc-1", state("10.0.0.0/16", false));
        desired()
            .update(
                &ctx,
                &found,
                &[Field::DnsHostnames],
                &Outputs::new(),
                &|_| {},
            )
            .await
            .unwrap();
        assert_eq!(modify.num_calls(), 1);
        desired()
            .update(&ctx, &found, &[], &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(modify.num_calls(), 1, "no field, no call");
    }

    mod calls {
        use aws_sdk_ec2::operation::create_vpc::CreateVpcOutput;
        use aws_sdk_ec2::operation::delete_vpc::{DeleteVpcError, DeleteVpcOutput};
        use aws_sdk_ec2::operation::describe_vpc_attribute::DescribeVpcAttributeOutput;
        use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput;
        use aws_sdk_ec2::operation::modify_vpc_attribute::ModifyVpcAttributeOutput;
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        #[tokio::test]
        async fn create_makes_the_tagged_vpc_and_turns_dns_hostnames_on() {
            let create = mock!(aws_sdk_ec2::Client::create_vpc)
                .match_requests(|r| {
                    r.cidr_block() == Some("10.0.0.0/16")
                        && r.tag_specifications()[0].resource_type() == Some(&ResourceType::Vpc)
                })
                .then_output(|| {
                    CreateVpcOutput::builder()
                        .vpc(aws_sdk_ec2::types::Vpc::builder().vpc_id("vpc-1").build())
                        .build()
                });
            let hostnames = mock!(aws_sdk_ec2::Client::modify_vpc_attribute)
                .match_requests(|r| {
                    r.vpc_id() == Some("vpc-1")
                        && r.enable_dns_hostnames().and_then(|v| v.value()) == Some(true)
                })
                .then_output(|| ModifyVpcAttributeOutput::builder().build());
            let ctx = testing::ec2(&[&create, &hostnames]);
            let creating = testing::Creating::new(ResourceId::VPC, Outputs::new());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "vpc-1");
            assert_eq!(hostnames.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_the_cidr_and_both_dns_attributes() {
            let describe = mock!(aws_sdk_ec2::Client::describe_vpcs).then_output(|| {
                let vpc = |id: &str, tags| {
                    aws_sdk_ec2::types::Vpc::builder()
                        .vpc_id(id)
                        .cidr_block("10.0.0.0/16")
                        .state(aws_sdk_ec2::types::VpcState::Available)
                        .set_tags(Some(tags))
                        .build()
                };
                DescribeVpcsOutput::builder()
                    .vpcs(vpc("vpc-1", testing::ec2_tags("vpc")))
                    .vpcs(vpc("vpc-default", Vec::new()))
                    .build()
            });
            let attribute = mock!(aws_sdk_ec2::Client::describe_vpc_attribute)
                .match_requests(|r| r.vpc_id() == Some("vpc-1"))
                .then_output(|| {
                    let on = AttributeBooleanValue::builder().value(true).build();
                    DescribeVpcAttributeOutput::builder()
                        .enable_dns_support(on.clone())
                        .enable_dns_hostnames(on)
                        .build()
                });
            let ctx = testing::ec2(&[&describe, &attribute]);
            let found = Vpc::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].detail, state("10.0.0.0/16", true));
            assert_eq!(found[0].state, "available");
            assert_eq!(attribute.num_calls(), 2);
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_vpc_already_gone_is_success() {
            let found = testing::found("vpc", "vpc-1", state("10.0.0.0/16", true));
            let delete = mock!(aws_sdk_ec2::Client::delete_vpc)
                .match_requests(|r| r.vpc_id() == Some("vpc-1"))
                .then_output(|| DeleteVpcOutput::builder().build());
            let ctx = testing::ec2(&[&delete]);
            Vpc::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);
            let gone = fails!(
                aws_sdk_ec2,
                delete_vpc,
                DeleteVpcError,
                "InvalidVpcID.NotFound"
            );
            let ctx = testing::ec2(&[&gone]);
            Vpc::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
