//! Public and private subnets, one of each per availability zone. Public subnets give
//! instances a public IP on launch.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use ipnet::Ipv4Net;

use crate::aws::ec2;
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// Logical id of its VPC.
    pub vpc: ResourceId,
    pub cidr: Ipv4Net,
    pub zone: String,
    pub public: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetState {
    pub vpc_id: String,
    pub cidr: String,
    pub zone: String,
    pub map_public_ip: bool,
}

/// The one attribute a subnet changes in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// Give instances launched in it a public IP (or not).
    MapPublicIp(bool),
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::MapPublicIp(on) = self;
        FieldChange::new("map_public_ip_on_launch", !on, on)
    }
}

impl Resource for Subnet {
    type State = SubnetState;
    type Field = Field;
    const LABEL: &'static str = "subnet";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let items = ec2::describe_stack!(
            ctx,
            describe_subnets,
            filters,
            ("subnets", "DescribeSubnets")
        )?;
        Ok(ec2::found(ctx, &items, |s| {
            let seen = ec2::Seen::new(s.tags(), s.subnet_id())
                .arn(s.subnet_arn())
                .state(s.state());
            let state = SubnetState {
                vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                cidr: s.cidr_block().unwrap_or_default().to_owned(),
                zone: s.availability_zone().unwrap_or_default().to_owned(),
                map_public_ip: s.map_public_ip_on_launch().unwrap_or(false),
            };
            (seen, state)
        }))
    }

    fn diff(&self, found: &SubnetState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        if found.cidr != self.cidr.to_string() {
            diff.replace(format!(
                "the CIDR block changes from {} to {}, which a subnet cannot do in place",
                found.cidr, self.cidr
            ));
        }
        if found.zone != self.zone {
            diff.replace(format!(
                "the zone changes from {} to {}",
                found.zone, self.zone
            ));
        }
        diff.replace_if(Ref::new(refs, &self.vpc, Attr::Id).moved_from(&found.vpc_id));
        diff.push_if(found.map_public_ip != self.public, || {
            Field::MapPublicIp(self.public)
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        let out = retry::until_visible(&ctx.settings, || async {
            crate::aws::once!(
                aws_sdk_ec2,
                ctx.ec2
                    .create_subnet()
                    .vpc_id(&vpc)
                    .cidr_block(self.cidr.to_string())
                    .availability_zone(&self.zone)
                    .tag_specifications(ec2::tag_spec(ResourceType::Subnet, new.tags))
            )
            .await
            .map_err(|e| Error::aws(new.id, "CreateSubnet", e))
        })
        .await?;
        let subnet = out
            .subnet()
            .ok_or_else(|| Error::incomplete(new.id, "CreateSubnet", "subnet"))?;
        let subnet_id = subnet
            .subnet_id()
            .ok_or_else(|| Error::incomplete(new.id, "CreateSubnet", "id"))?
            .to_owned();
        if self.public {
            retry::until_visible(&ctx.settings, || set_public(ctx, new.id, &subnet_id, true))
                .await?;
        }
        Ok(Output {
            aws_id: subnet_id,
            arn: subnet.subnet_arn().map(str::to_owned),
            url: None,
        })
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<SubnetState>,
        Field::MapPublicIp(on): &Field,
        _: &Outputs,
    ) -> Result<()> {
        set_public(ctx, &found.id, &found.aws_id, *on).await
    }

    async fn retag(ctx: &Context, found: &Found<SubnetState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<SubnetState>, wait: Wait<'_>) -> Result<()> {
        // Network interfaces of stopped tasks and load balancers linger for a while after them.
        let waiting_for = "network interfaces to be released";
        ec2::delete_found!(
            ctx,
            wait,
            found,
            waiting_for,
            delete_subnet.subnet_id,
            "DeleteSubnet"
        )
    }

    fn uses(found: &Found<SubnetState>) -> Vec<String> {
        vec![found.detail.vpc_id.clone()]
    }
}

async fn set_public(ctx: &Context, id: &ResourceId, subnet: &str, public: bool) -> Result<()> {
    ctx.ec2
        .modify_subnet_attribute()
        .subnet_id(subnet)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
        .send()
        .await
        .map_err(|e| Error::aws(id, "ModifySubnetAttribute", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::testing::{self, ec2_rule};

    pub(super) fn desired() -> Subnet {
        Subnet {
            vpc: "vpc".into(),
            cidr: "10.0.0.0/24".parse().unwrap(),
            zone: "us-east-1a".into(),
            public: true,
        }
    }

    pub(super) fn state() -> SubnetState {
        SubnetState {
            vpc_id: "vpc-1".into(),
            cidr: "10.0.0.0/24".into(),
            zone: "us-east-1a".into(),
            map_public_ip: true,
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[("vpc", "vpc-1")])
    }

    #[test]
    fn matching_subnet_is_unchanged() {
        assert!(desired().diff(&state(), &refs()).is_empty());
    }

    #[test]
    fn public_ip_drift_is_an_update() {
        let mut s = state();
        s.map_public_ip = false;
        let d = desired().diff(&s, &refs());
        assert_eq!(d.fields, [Field::MapPublicIp(true)]);
        assert_eq!(d.fields[0].describe().field, "map_public_ip_on_launch");
        assert!(d.replace.is_none());
    }

    #[test]
    fn cidr_zone_or_vpc_changes_replace() {
        let mut s = state();
        s.cidr = "10.0.9.0/24".into();
        assert!(desired().diff(&s, &refs()).replace.is_some());
        let mut s = state();
        s.zone = "us-east-1b".into();
        assert!(desired().diff(&s, &refs()).replace.is_some());
        let mut s = state();
        s.vpc_id = "vpc-other".into();
        assert!(desired().diff(&s, &refs()).replace.is_some());
    }

    #[tokio::test]
    async fn observe_reads_the_stack_s_subnets_with_their_settings() {
        use aws_sdk_ec2::operation::describe_subnets::DescribeSubnetsOutput;
        let describe =
            aws_smithy_mocks::mock!(aws_sdk_ec2::Client::describe_subnets).then_output(|| {
                let subnet = |id: &str, tags| {
                    aws_sdk_ec2::types::Subnet::builder()
                        .subnet_id(id)
                        .subnet_arn(format!("arn:aws:ec2:us-east-1:1:subnet/{id}"))
                        .vpc_id("vpc-1")
                        .cidr_block("10.0.0.0/24")
                        .availability_zone("us-east-1a")
                        .map_public_ip_on_launch(true)
                        .state(aws_sdk_ec2::types::SubnetState::Available)
                        .set_tags(Some(tags))
                        .build()
                };
                DescribeSubnetsOutput::builder()
                    .subnets(subnet("subnet-1", testing::ec2_tags("public-subnet-1")))
                    .subnets(subnet("subnet-default", Vec::new()))
                    .build()
            });
        let ctx = testing::ec2(&[&describe]);
        let found = Subnet::observe(&Scope::new(&ctx), &[]).await.unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, ResourceId::public_subnet(0));
        assert_eq!(found[0].detail, state());
        assert!(desired().diff(&found[0].detail, &refs()).is_empty());
    }

    #[tokio::test]
    async fn the_public_ip_field_is_one_attribute_call() {
        use aws_sdk_ec2::operation::modify_subnet_attribute::ModifySubnetAttributeOutput;
        let modify = ec2_rule!(modify_subnet_attribute, ModifySubnetAttributeOutput);
        let ctx = testing::ec2(&[&modify]);
        let found = testing::found("public-subnet-1", "subnet-1", state());
        desired()
            .update(&ctx, &found, &[Field::MapPublicIp(false)], &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(modify.num_calls(), 1);
    }
}

/// Deleting against AWS behaviour the emulator does not produce: network interfaces that
/// linger after their tasks, so `DeleteSubnet` answers `DependencyViolation` for a while.
#[cfg(test)]
mod fault_tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::delete_subnet::{DeleteSubnetError, DeleteSubnetOutput};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::resources::testing;

    fn dependency_violation() -> DeleteSubnetError {
        DeleteSubnetError::generic(
            ErrorMetadata::builder()
                .code("DependencyViolation")
                .message("The subnet has dependencies and cannot be deleted.")
                .build(),
        )
    }

    fn context(ec2: aws_sdk_ec2::Client) -> Context {
        let mut ctx = testing::context();
        ctx.ec2 = ec2;
        ctx
    }

    fn observed() -> Found<SubnetState> {
        testing::found("public-subnet-1", "subnet-1", super::tests::state())
    }

    #[tokio::test]
    async fn delete_waits_out_dependency_violations_and_reports_the_wait() {
        let rule = mock!(aws_sdk_ec2::Client::delete_subnet)
            .sequence()
            .error(dependency_violation)
            .times(3)
            .output(|| DeleteSubnetOutput::builder().build())
            .build();
        let ctx = context(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule]));
        let waits = Mutex::new(Vec::new());
        Subnet::delete(&ctx, &observed(), &|m| waits.lock().unwrap().push(m))
            .await
            .unwrap();
        assert_eq!(rule.num_calls(), 4);
        let waits = waits.into_inner().unwrap();
        assert_eq!(waits.len(), 3);
        assert!(
            waits[0].contains("waiting for network interfaces"),
            "{waits:?}"
        );
    }

    #[tokio::test]
    async fn delete_gives_up_with_the_aws_error_after_the_timeout() {
        let rule = mock!(aws_sdk_ec2::Client::delete_subnet)
            .sequence()
            .error(dependency_violation)
            .times(1000)
            .build();
        let mut ctx = context(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule]));
        ctx.settings.dependency_timeout = Duration::from_millis(30);
        let err = Subnet::delete(&ctx, &observed(), &|_| {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some("DependencyViolation"));
        assert!(
            err.to_string()
                .contains("DeleteSubnet for public-subnet-1 failed"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn an_already_deleted_subnet_is_success() {
        let rule = mock!(aws_sdk_ec2::Client::delete_subnet).then_error(|| {
            DeleteSubnetError::generic(
                ErrorMetadata::builder()
                    .code("InvalidSubnetID.NotFound")
                    .build(),
            )
        });
        let ctx = context(mock_client!(aws_sdk_ec2, RuleMode::Sequential, [&rule]));
        Subnet::delete(&ctx, &observed(), &|_| {}).await.unwrap();
    }

    #[tokio::test]
    async fn create_waits_for_ec2_to_know_a_vpc_made_moments_ago() {
        use aws_sdk_ec2::operation::create_subnet::{CreateSubnetError, CreateSubnetOutput};
        use aws_sdk_ec2::operation::modify_subnet_attribute::ModifySubnetAttributeOutput;

        let create_rule = mock!(aws_sdk_ec2::Client::create_subnet)
            .sequence()
            .error(|| {
                CreateSubnetError::generic(
                    ErrorMetadata::builder()
                        .code("InvalidVpcID.NotFound")
                        .build(),
                )
            })
            .times(2)
            .output(|| {
                CreateSubnetOutput::builder()
                    .subnet(
                        aws_sdk_ec2::types::Subnet::builder()
                            .subnet_id("subnet-new")
                            .build(),
                    )
                    .build()
            })
            .build();
        let public = mock!(aws_sdk_ec2::Client::modify_subnet_attribute)
            .then_output(|| ModifySubnetAttributeOutput::builder().build());
        let ctx = context(mock_client!(
            aws_sdk_ec2,
            RuleMode::MatchAny,
            [&create_rule, &public]
        ));
        let refs = testing::refs(&[("vpc", "vpc-new")]);
        let id = ResourceId::public_subnet(0);
        let new = New {
            id: &id,
            tags: &Tags::new(),
            refs: &refs,
            wait: &|_| {},
            token: "t",
        };
        let output = super::tests::desired().create(&ctx, new).await.unwrap();
        assert_eq!(output.aws_id, "subnet-new");
        assert_eq!(
            create_rule.num_calls(),
            3,
            "two NotFound answers, then created once"
        );
        assert_eq!(public.num_calls(), 1);
    }
}
