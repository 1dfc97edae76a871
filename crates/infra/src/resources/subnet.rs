//! Public and private subnets, one of each per availability zone. Public subnets give
//! instances a public IP on launch.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use ipnet::Ipv4Net;

use super::{Detail, Diff, Kind, Observed, Output, Outputs, ec2, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    pub vpc: String,
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

pub fn diff(desired: &Subnet, observed: &SubnetState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if observed.cidr != desired.cidr.to_string() {
        diff.replace(format!(
            "the CIDR block changes from {} to {}, which a subnet cannot do in place",
            observed.cidr, desired.cidr
        ));
    }
    if observed.zone != desired.zone {
        diff.replace(format!(
            "the zone changes from {} to {}",
            observed.zone, desired.zone
        ));
    }
    if let Some(vpc) = refs.get(&desired.vpc)
        && vpc.aws_id != observed.vpc_id
    {
        diff.replace(format!(
            "it is in {} instead of the stack's VPC {}",
            observed.vpc_id, vpc.aws_id
        ));
    }
    diff.compare(
        "map_public_ip_on_launch",
        observed.map_public_ip,
        desired.public,
    );
    diff
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_subnets()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("subnets", "DescribeSubnets", e))?;
    Ok(out
        .subnets()
        .iter()
        .filter_map(|s| {
            let tags = ec2::to_map(s.tags());
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::Subnet,
                aws_id: s.subnet_id()?.to_owned(),
                arn: s.subnet_arn().map(str::to_owned),
                state: s.state().map(|x| x.as_str().to_owned()).unwrap_or_default(),
                tags,
                detail: Detail::Subnet(SubnetState {
                    vpc_id: s.vpc_id().unwrap_or_default().to_owned(),
                    cidr: s.cidr_block().unwrap_or_default().to_owned(),
                    zone: s.availability_zone().unwrap_or_default().to_owned(),
                    map_public_ip: s.map_public_ip_on_launch().unwrap_or(false),
                }),
            })
        })
        .collect())
}

async fn set_public(ctx: &Context, id: &str, subnet: &str, public: bool) -> Result<()> {
    ctx.ec2
        .modify_subnet_attribute()
        .subnet_id(subnet)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(public).build())
        .send()
        .await
        .map_err(|e| Error::aws(id, "ModifySubnetAttribute", e))?;
    Ok(())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &Subnet,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, id, &desired.vpc)?;
    let out = retry::until_visible(&ctx.settings, || async {
        ctx.ec2
            .create_subnet()
            .vpc_id(&vpc.aws_id)
            .cidr_block(desired.cidr.to_string())
            .availability_zone(&desired.zone)
            .tag_specifications(ec2::tag_spec(ResourceType::Subnet, tags))
            .send()
            .await
            .map_err(|e| Error::aws(id, "CreateSubnet", e))
    })
    .await?;
    let subnet = out
        .subnet()
        .ok_or_else(|| Error::unexpected(id, "CreateSubnet returned no subnet"))?;
    let subnet_id = subnet
        .subnet_id()
        .ok_or_else(|| Error::unexpected(id, "CreateSubnet returned no id"))?
        .to_owned();
    if desired.public {
        retry::until_visible(&ctx.settings, || set_public(ctx, id, &subnet_id, true)).await?;
    }
    Ok(Output {
        aws_id: subnet_id,
        arn: subnet.subnet_arn().map(str::to_owned),
        url: None,
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Subnet,
    state: &SubnetState,
    tags: &Tags,
) -> Result<Output> {
    if state.map_public_ip != desired.public {
        set_public(ctx, &observed.id, &observed.aws_id, desired.public).await?;
    }
    ec2::retag(ctx, observed, tags).await
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    // Network interfaces of stopped tasks and load balancers linger for a while after them.
    ec2::delete_retrying(
        ctx,
        on_wait,
        "network interfaces to be released",
        || async {
            ctx.ec2
                .delete_subnet()
                .subnet_id(&observed.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&observed.id, "DeleteSubnet", e))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> Subnet {
        Subnet {
            vpc: "vpc".into(),
            cidr: "10.0.0.0/24".parse().unwrap(),
            zone: "us-east-1a".into(),
            public: true,
        }
    }

    fn state() -> SubnetState {
        SubnetState {
            vpc_id: "vpc-1".into(),
            cidr: "10.0.0.0/24".into(),
            zone: "us-east-1a".into(),
            map_public_ip: true,
        }
    }

    fn refs() -> Outputs {
        [(
            "vpc".to_owned(),
            Output {
                aws_id: "vpc-1".into(),
                ..Output::default()
            },
        )]
        .into()
    }

    #[test]
    fn matching_subnet_is_unchanged() {
        assert_eq!(diff(&desired(), &state(), &refs()), Diff::default());
    }

    #[test]
    fn public_ip_drift_is_an_update() {
        let mut s = state();
        s.map_public_ip = false;
        let d = diff(&desired(), &s, &refs());
        assert_eq!(d.fields[0].field, "map_public_ip_on_launch");
        assert!(d.replace.is_none());
    }

    #[test]
    fn cidr_zone_or_vpc_changes_replace() {
        let mut s = state();
        s.cidr = "10.0.9.0/24".into();
        assert!(diff(&desired(), &s, &refs()).replace.is_some());
        let mut s = state();
        s.zone = "us-east-1b".into();
        assert!(diff(&desired(), &s, &refs()).replace.is_some());
        let mut s = state();
        s.vpc_id = "vpc-other".into();
        assert!(diff(&desired(), &s, &refs()).replace.is_some());
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
    use crate::context::Settings;

    fn dependency_violation() -> DeleteSubnetError {
        DeleteSubnetError::generic(
            ErrorMetadata::builder()
                .code("DependencyViolation")
                .message("The subnet has dependencies and cannot be deleted.")
                .build(),
        )
    }

    fn context(ec2: aws_sdk_ec2::Client) -> Context {
        let config = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .build();
        let mut ctx = Context::from_config("s", "us-east-1", &config);
        ctx.ec2 = ec2;
        ctx.settings = Settings {
            dependency_timeout: Duration::from_secs(60),
            consistency_timeout: Duration::from_secs(60),
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            ..Settings::default()
        };
        ctx
    }

    fn observed() -> Observed {
        Observed {
            id: "public-subnet-1".into(),
            kind: Kind::Subnet,
            aws_id: "subnet-1".into(),
            arn: None,
            state: "available".into(),
            tags: Tags::new(),
            detail: Detail::Subnet(SubnetState {
                vpc_id: "vpc-1".into(),
                cidr: "10.0.0.0/24".into(),
                zone: "us-east-1a".into(),
                map_public_ip: true,
            }),
        }
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
        delete(&ctx, &observed(), &|m| waits.lock().unwrap().push(m))
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
        let err = delete(&ctx, &observed(), &|_| {}).await.unwrap_err();
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
        delete(&ctx, &observed(), &|_| {}).await.unwrap();
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
        let desired = Subnet {
            vpc: "vpc".into(),
            cidr: "10.0.0.0/24".parse().unwrap(),
            zone: "us-east-1a".into(),
            public: true,
        };
        let refs: Outputs = [(
            "vpc".to_owned(),
            Output {
                aws_id: "vpc-new".into(),
                ..Output::default()
            },
        )]
        .into();
        let output = create(&ctx, "public-subnet-1", &desired, &Tags::new(), &refs)
            .await
            .unwrap();
        assert_eq!(output.aws_id, "subnet-new");
        assert_eq!(
            create_rule.num_calls(),
            3,
            "two NotFound answers, then created once"
        );
        assert_eq!(public.num_calls(), 1);
    }
}
