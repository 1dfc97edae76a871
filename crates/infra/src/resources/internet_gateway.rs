//! The internet gateway and its attachment to the VPC.

use aws_sdk_ec2::types::ResourceType;

use super::{Detail, Diff, Kind, Observed, Output, Outputs, ec2, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGateway {
    /// Logical id of the VPC to attach to.
    pub vpc: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternetGatewayState {
    /// VPC ids it is attached to.
    pub attached: Vec<String>,
}

pub fn diff(desired: &InternetGateway, observed: &InternetGatewayState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    let want = refs
        .get(&desired.vpc)
        .map(|o| o.aws_id.as_str())
        .unwrap_or("(new VPC)");
    let have = observed.attached.join(",");
    if observed.attached != [want] {
        diff.field(
            "attached_vpc",
            if have.is_empty() {
                "(none)".into()
            } else {
                have
            },
            want,
        );
    }
    diff
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_internet_gateways()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("internet gateways", "DescribeInternetGateways", e))?;
    Ok(out
        .internet_gateways()
        .iter()
        .filter_map(|igw| {
            let tags = ec2::to_map(igw.tags());
            let attached: Vec<String> = igw
                .attachments()
                .iter()
                .filter_map(|a| a.vpc_id().map(str::to_owned))
                .collect();
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::InternetGateway,
                aws_id: igw.internet_gateway_id()?.to_owned(),
                arn: None,
                state: if attached.is_empty() {
                    "detached"
                } else {
                    "attached"
                }
                .into(),
                tags,
                detail: Detail::InternetGateway(InternetGatewayState { attached }),
            })
        })
        .collect())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &InternetGateway,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, id, &desired.vpc)?;
    let out = ctx
        .ec2
        .create_internet_gateway()
        .tag_specifications(ec2::tag_spec(ResourceType::InternetGateway, tags))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateInternetGateway", e))?;
    let igw_id = out
        .internet_gateway()
        .and_then(|g| g.internet_gateway_id())
        .ok_or_else(|| Error::unexpected(id, "CreateInternetGateway returned no id"))?
        .to_owned();
    retry::until_visible(&ctx.settings, || attach(ctx, id, &igw_id, &vpc.aws_id)).await?;
    Ok(Output {
        aws_id: igw_id,
        ..Output::default()
    })
}

async fn attach(ctx: &Context, id: &str, igw: &str, vpc: &str) -> Result<()> {
    ctx.ec2
        .attach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AttachInternetGateway", e))?;
    Ok(())
}

async fn detach(ctx: &Context, id: &str, igw: &str, vpc: &str) -> Result<()> {
    ctx.ec2
        .detach_internet_gateway()
        .internet_gateway_id(igw)
        .vpc_id(vpc)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DetachInternetGateway", e))?;
    Ok(())
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &InternetGateway,
    state: &InternetGatewayState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, &observed.id, &desired.vpc)?;
    for other in state.attached.iter().filter(|v| **v != vpc.aws_id) {
        detach(ctx, &observed.id, &observed.aws_id, other).await?;
    }
    if !state.attached.contains(&vpc.aws_id) {
        attach(ctx, &observed.id, &observed.aws_id, &vpc.aws_id).await?;
    }
    ec2::retag(ctx, observed, tags).await
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    state: &InternetGatewayState,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    for vpc in &state.attached {
        // Detaching fails while public addresses in the VPC are still mapped.
        let detached =
            ec2::delete_retrying(ctx, on_wait, "public addresses to be released", || {
                detach(ctx, &observed.id, &observed.aws_id, vpc)
            })
            .await;
        match detached {
            Err(err) if err.code() != Some("Gateway.NotAttached") => return Err(err),
            _ => {}
        }
    }
    let result = ctx
        .ec2
        .delete_internet_gateway()
        .internet_gateway_id(&observed.aws_id)
        .send()
        .await
        .map_err(|e| Error::aws(&observed.id, "DeleteInternetGateway", e));
    match result {
        Err(err) if !ec2::is_not_found(&err) => Err(err),
        _ => Ok(()),
    }
}
