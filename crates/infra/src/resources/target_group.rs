//! The target group the service's tasks register in: `ip` targets on the container port, a
//! health check on the service's path (matcher 200), and a short deregistration delay.

use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup as AwsTargetGroup, TargetGroupAttribute, TargetTypeEnum,
};

use super::{Detail, Diff, Kind, Observed, Output, Outputs, elb, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::Tags;

const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroup {
    pub name: String,
    pub vpc: String,
    pub port: u16,
    pub health_check_path: String,
    pub interval_secs: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    pub deregistration_delay_secs: u32,
}

impl TargetGroup {
    /// Half the interval, at least 2 s: AWS wants the timeout shorter than the interval.
    pub fn timeout_secs(&self) -> u32 {
        (self.interval_secs / 2).max(2)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetGroupState {
    pub vpc_id: String,
    pub port: i32,
    pub protocol: String,
    pub target_type: String,
    pub health_check_path: String,
    pub interval_secs: i32,
    pub timeout_secs: i32,
    pub healthy_threshold: i32,
    pub unhealthy_threshold: i32,
    pub matcher: String,
    pub deregistration_delay_secs: Option<String>,
}

pub fn observed(
    id: String,
    tg: &AwsTargetGroup,
    attributes: &[TargetGroupAttribute],
    tags: Tags,
) -> Observed {
    let delay = attributes
        .iter()
        .find(|a| a.key() == Some(DEREGISTRATION_DELAY))
        .and_then(|a| a.value().map(str::to_owned));
    Observed {
        id,
        kind: Kind::TargetGroup,
        aws_id: tg.target_group_arn().unwrap_or_default().to_owned(),
        arn: tg.target_group_arn().map(str::to_owned),
        state: "available".into(),
        tags,
        detail: Detail::TargetGroup(TargetGroupState {
            vpc_id: tg.vpc_id().unwrap_or_default().to_owned(),
            port: tg.port().unwrap_or_default(),
            protocol: tg
                .protocol()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            target_type: tg
                .target_type()
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            health_check_path: tg.health_check_path().unwrap_or_default().to_owned(),
            interval_secs: tg.health_check_interval_seconds().unwrap_or_default(),
            timeout_secs: tg.health_check_timeout_seconds().unwrap_or_default(),
            healthy_threshold: tg.healthy_threshold_count().unwrap_or_default(),
            unhealthy_threshold: tg.unhealthy_threshold_count().unwrap_or_default(),
            matcher: tg
                .matcher()
                .and_then(|m| m.http_code())
                .unwrap_or_default()
                .to_owned(),
            deregistration_delay_secs: delay,
        }),
    }
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub fn diff(desired: &TargetGroup, observed: &TargetGroupState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if let Some(vpc) = refs.get(&desired.vpc)
        && vpc.aws_id != observed.vpc_id
    {
        diff.replace(format!(
            "it is in {} instead of the stack's VPC {}",
            observed.vpc_id, vpc.aws_id
        ));
    }
    if observed.port != i32::from(desired.port) {
        diff.replace(format!(
            "the port changes from {} to {}, which a target group cannot do",
            observed.port, desired.port
        ));
    }
    if observed.protocol != "HTTP" || observed.target_type != "ip" {
        diff.replace("it must be an HTTP target group of ip targets");
    }
    diff.compare(
        "health_check_path",
        observed.health_check_path.as_str(),
        desired.health_check_path.as_str(),
    );
    diff.compare(
        "health_check_interval",
        observed.interval_secs,
        int(desired.interval_secs),
    );
    diff.compare(
        "health_check_timeout",
        observed.timeout_secs,
        int(desired.timeout_secs()),
    );
    diff.compare(
        "healthy_threshold",
        observed.healthy_threshold,
        int(desired.healthy_threshold),
    );
    diff.compare(
        "unhealthy_threshold",
        observed.unhealthy_threshold,
        int(desired.unhealthy_threshold),
    );
    diff.compare("matcher", observed.matcher.as_str(), "200");
    let delay = desired.deregistration_delay_secs.to_string();
    diff.compare(
        "deregistration_delay",
        observed
            .deregistration_delay_secs
            .as_deref()
            .unwrap_or("(unset)"),
        delay.as_str(),
    );
    diff
}

async fn set_delay(ctx: &Context, id: &str, arn: &str, secs: u32) -> Result<()> {
    ctx.elb
        .modify_target_group_attributes()
        .target_group_arn(arn)
        .attributes(
            TargetGroupAttribute::builder()
                .key(DEREGISTRATION_DELAY)
                .value(secs.to_string())
                .build(),
        )
        .send()
        .await
        .map_err(|e| Error::aws(id, "ModifyTargetGroupAttributes", e))?;
    Ok(())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &TargetGroup,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, id, &desired.vpc)?;
    let out = ctx
        .elb
        .create_target_group()
        .name(&desired.name)
        .protocol(ProtocolEnum::Http)
        .port(i32::from(desired.port))
        .vpc_id(&vpc.aws_id)
        .target_type(TargetTypeEnum::Ip)
        .health_check_path(&desired.health_check_path)
        .health_check_interval_seconds(int(desired.interval_secs))
        .health_check_timeout_seconds(int(desired.timeout_secs()))
        .healthy_threshold_count(int(desired.healthy_threshold))
        .unhealthy_threshold_count(int(desired.unhealthy_threshold))
        .matcher(Matcher::builder().http_code("200").build())
        .set_tags(Some(elb::to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateTargetGroup", e))?;
    let arn = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .ok_or_else(|| Error::unexpected(id, "CreateTargetGroup returned no ARN"))?
        .to_owned();
    set_delay(ctx, id, &arn, desired.deregistration_delay_secs).await?;
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: None,
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &TargetGroup,
    state: &TargetGroupState,
    tags: &Tags,
) -> Result<Output> {
    let health = (
        state.health_check_path.as_str(),
        state.interval_secs,
        state.timeout_secs,
        state.healthy_threshold,
        state.unhealthy_threshold,
        state.matcher.as_str(),
    );
    let want = (
        desired.health_check_path.as_str(),
        int(desired.interval_secs),
        int(desired.timeout_secs()),
        int(desired.healthy_threshold),
        int(desired.unhealthy_threshold),
        "200",
    );
    if health != want {
        ctx.elb
            .modify_target_group()
            .target_group_arn(&observed.aws_id)
            .health_check_path(&desired.health_check_path)
            .health_check_interval_seconds(want.1)
            .health_check_timeout_seconds(want.2)
            .healthy_threshold_count(want.3)
            .unhealthy_threshold_count(want.4)
            .matcher(Matcher::builder().http_code("200").build())
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "ModifyTargetGroup", e))?;
    }
    if state.deregistration_delay_secs.as_deref()
        != Some(desired.deregistration_delay_secs.to_string().as_str())
    {
        set_delay(
            ctx,
            &observed.id,
            &observed.aws_id,
            desired.deregistration_delay_secs,
        )
        .await?;
    }
    elb::retag(ctx, observed, tags).await?;
    Ok(Output::of(observed))
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    // A target group stays in use until its listener and load balancer are gone.
    let result = crate::retry::while_codes(
        &ctx.settings,
        &["ResourceInUse"],
        |err| on_wait(format!("waiting for the listener to let go: {err}")),
        || async {
            ctx.elb
                .delete_target_group()
                .target_group_arn(&observed.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&observed.id, "DeleteTargetGroup", e))
        },
    )
    .await;
    match result {
        Err(err) if err.code() != Some("TargetGroupNotFound") => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired() -> TargetGroup {
        TargetGroup {
            name: "s-tg".into(),
            vpc: "vpc".into(),
            port: 5000,
            health_check_path: "/healthcheck".into(),
            interval_secs: 10,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            deregistration_delay_secs: 30,
        }
    }

    fn state() -> TargetGroupState {
        TargetGroupState {
            vpc_id: "vpc-1".into(),
            port: 5000,
            protocol: "HTTP".into(),
            target_type: "ip".into(),
            health_check_path: "/healthcheck".into(),
            interval_secs: 10,
            timeout_secs: 5,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            matcher: "200".into(),
            deregistration_delay_secs: Some("30".into()),
        }
    }

    #[test]
    fn matching_is_unchanged_and_aws_s_300_s_default_is_drift() {
        let refs: Outputs = [(
            "vpc".to_owned(),
            Output {
                aws_id: "vpc-1".into(),
                ..Output::default()
            },
        )]
        .into();
        assert_eq!(diff(&desired(), &state(), &refs), Diff::default());
        let mut s = state();
        s.deregistration_delay_secs = Some("300".into());
        let d = diff(&desired(), &s, &refs);
        assert_eq!(
            (
                d.fields[0].field.as_str(),
                d.fields[0].from.as_str(),
                d.fields[0].to.as_str()
            ),
            ("deregistration_delay", "300", "30")
        );
        let mut s = state();
        s.port = 8080;
        assert!(diff(&desired(), &s, &refs).replace.is_some());
    }
}
