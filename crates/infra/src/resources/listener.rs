//! Listeners: HTTP on 80 forwarding to the target group; with a certificate, HTTPS on 443
//! forwarding and HTTP redirecting to it.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener as AwsListener, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::{Detail, Diff, Kind, Observed, Output, Outputs, elb, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultAction {
    /// Forward to this target group (logical id).
    Forward(String),
    /// Redirect to HTTPS on 443.
    RedirectToHttps,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub load_balancer: String,
    pub port: u16,
    /// The certificate of an HTTPS listener.
    pub certificate_arn: Option<String>,
    pub action: DefaultAction,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerState {
    pub load_balancer_arn: String,
    pub port: i32,
    pub protocol: String,
    pub action: String,
    pub certificates: Vec<String>,
}

fn describe_action(action: &Action) -> String {
    match action.r#type() {
        Some(ActionTypeEnum::Forward) => {
            format!("forward to {}", action.target_group_arn().unwrap_or("?"))
        }
        Some(ActionTypeEnum::Redirect) => {
            let r = action.redirect_config();
            format!(
                "redirect to {}:{}",
                r.and_then(|r| r.protocol()).unwrap_or("?"),
                r.and_then(|r| r.port()).unwrap_or("?")
            )
        }
        Some(other) => other.as_str().to_owned(),
        None => "(none)".into(),
    }
}

pub fn observed(id: String, l: &AwsListener, tags: Tags) -> Observed {
    Observed {
        id,
        kind: Kind::Listener,
        aws_id: l.listener_arn().unwrap_or_default().to_owned(),
        arn: l.listener_arn().map(str::to_owned),
        state: format!(
            "{}:{}",
            l.protocol().map(|p| p.as_str()).unwrap_or("?"),
            l.port().unwrap_or_default()
        ),
        tags,
        detail: Detail::Listener(ListenerState {
            load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_owned(),
            port: l.port().unwrap_or_default(),
            protocol: l
                .protocol()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
            action: l
                .default_actions()
                .first()
                .map_or_else(|| "(none)".into(), describe_action),
            certificates: l
                .certificates()
                .iter()
                .filter_map(|c| c.certificate_arn().map(str::to_owned))
                .collect(),
        }),
    }
}

fn protocol(desired: &Listener) -> ProtocolEnum {
    if desired.certificate_arn.is_some() {
        ProtocolEnum::Https
    } else {
        ProtocolEnum::Http
    }
}

fn action(desired: &Listener, refs: &Outputs) -> Action {
    match &desired.action {
        DefaultAction::Forward(tg) => {
            let arn = refs
                .get(tg)
                .map_or_else(|| format!("(new {tg})"), |o| o.aws_id.clone());
            Action::builder()
                .r#type(ActionTypeEnum::Forward)
                .target_group_arn(arn)
                .build()
        }
        DefaultAction::RedirectToHttps => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build(),
    }
}

pub fn diff(desired: &Listener, observed: &ListenerState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if let Some(lb) = refs.get(&desired.load_balancer)
        && lb.aws_id != observed.load_balancer_arn
    {
        diff.replace("it belongs to another load balancer");
    }
    if observed.port != i32::from(desired.port) || observed.protocol != protocol(desired).as_str() {
        diff.replace(format!(
            "it listens on {}:{} instead of {}:{}",
            observed.protocol,
            observed.port,
            protocol(desired).as_str(),
            desired.port
        ));
    }
    diff.compare(
        "default_action",
        observed.action.clone(),
        describe_action(&action(desired, refs)),
    );
    let certificates: Vec<String> = desired.certificate_arn.iter().cloned().collect();
    if observed.certificates != certificates {
        diff.field(
            "certificates",
            observed.certificates.join(", "),
            certificates.join(", "),
        );
    }
    diff
}

fn certificates(desired: &Listener) -> Option<Vec<Certificate>> {
    desired
        .certificate_arn
        .as_ref()
        .map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &Listener,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let lb = resolve(refs, id, &desired.load_balancer)?;
    if let DefaultAction::Forward(tg) = &desired.action {
        resolve(refs, id, tg)?;
    }
    let out = ctx
        .elb
        .create_listener()
        .load_balancer_arn(&lb.aws_id)
        .port(i32::from(desired.port))
        .protocol(protocol(desired))
        .set_certificates(certificates(desired))
        .default_actions(action(desired, refs))
        .set_tags(Some(elb::to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateListener", e))?;
    let arn = out
        .listeners()
        .first()
        .and_then(|l| l.listener_arn())
        .ok_or_else(|| Error::unexpected(id, "CreateListener returned no ARN"))?
        .to_owned();
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: None,
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Listener,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    ctx.elb
        .modify_listener()
        .listener_arn(&observed.aws_id)
        .set_certificates(certificates(desired))
        .default_actions(action(desired, refs))
        .send()
        .await
        .map_err(|e| Error::aws(&observed.id, "ModifyListener", e))?;
    elb::retag(ctx, observed, tags).await?;
    Ok(Output::of(observed))
}

pub async fn delete(ctx: &Context, observed: &Observed) -> Result<()> {
    match ctx
        .elb
        .delete_listener()
        .listener_arn(&observed.aws_id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if e.code() == Some("ListenerNotFound") => Ok(()),
        Err(e) => Err(Error::aws(&observed.id, "DeleteListener", e)),
    }
}
