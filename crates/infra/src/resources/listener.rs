//! Listeners: HTTP on 80 forwarding to the target group; with a certificate (one given by ARN,
//! or the stack's own for its domains), HTTPS on 443 forwarding and HTTP redirecting to it.

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, Listener as AwsListener, ProtocolEnum,
    RedirectActionConfig, RedirectActionStatusCodeEnum,
};

use crate::aws::{self, elb};
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::{self, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefaultAction {
    /// Forward to this target group (logical id).
    Forward(ResourceId),
    /// Redirect to HTTPS on 443.
    RedirectToHttps,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    pub load_balancer: ResourceId,
    pub port: u16,
    /// The certificate of an HTTPS listener.
    pub certificate: Option<Tls>,
    pub action: DefaultAction,
}

/// Where an HTTPS listener's certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    /// Brought by the user (`certificate_arn`).
    Arn(String),
    /// Made by the stack (logical id), for its domains.
    Made(ResourceId),
}

/// A certificate as wanted, with one the stack may make in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedTls {
    Arn(String),
    Made(Ref),
}

impl std::fmt::Display for WantedTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Arn(arn) => f.write_str(arn),
            Self::Made(r) => write!(f, "{r}"),
        }
    }
}

impl WantedTls {
    fn is(&self, arn: &str) -> bool {
        match self {
            Self::Arn(a) => a == arn,
            Self::Made(r) => r.is(arn),
        }
    }

    fn resolve(&self, refs: &Outputs, from: &ResourceId) -> Result<String> {
        match self {
            Self::Arn(arn) => Ok(arn.clone()),
            Self::Made(r) => r.resolve(refs, from),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerState {
    pub load_balancer_arn: String,
    pub port: i32,
    pub protocol: String,
    /// The default action, as the plan shows it.
    pub action: String,
    /// The target group a forwarding action sends to.
    pub target_group_arn: Option<String>,
    pub certificates: Vec<String>,
}

/// The default action as wanted, with a target group that may be made in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedAction {
    Forward(Ref),
    RedirectToHttps,
}

impl std::fmt::Display for WantedAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Forward(tg) => write!(f, "forward to {tg}"),
            Self::RedirectToHttps => f.write_str("redirect to HTTPS:443"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    DefaultAction {
        from: String,
        to: WantedAction,
    },
    Certificates {
        from: Vec<String>,
        to: Vec<WantedTls>,
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::DefaultAction { from, to } => FieldChange::new("default_action", from, to),
            Self::Certificates { from, to } => {
                let to: Vec<String> = to.iter().map(ToString::to_string).collect();
                FieldChange::new("certificates", show_list(from), show_list(&to))
            }
        }
    }
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

fn state_of(l: &AwsListener) -> ListenerState {
    let action = l.default_actions().first();
    ListenerState {
        load_balancer_arn: l.load_balancer_arn().unwrap_or_default().to_owned(),
        port: l.port().unwrap_or_default(),
        protocol: l
            .protocol()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
        action: action.map_or_else(|| "(none)".into(), describe_action),
        target_group_arn: action.and_then(|a| a.target_group_arn()).map(str::to_owned),
        certificates: l
            .certificates()
            .iter()
            .filter_map(|c| c.certificate_arn().map(str::to_owned))
            .collect(),
    }
}

impl Listener {
    fn protocol(&self) -> ProtocolEnum {
        if self.certificate.is_some() {
            ProtocolEnum::Https
        } else {
            ProtocolEnum::Http
        }
    }

    fn wanted_action(&self, refs: &Outputs) -> WantedAction {
        match &self.action {
            DefaultAction::Forward(tg) => WantedAction::Forward(Ref::new(refs, tg, Attr::Id)),
            DefaultAction::RedirectToHttps => WantedAction::RedirectToHttps,
        }
    }

    fn certificates(&self, refs: &Outputs) -> Vec<WantedTls> {
        self.certificate
            .iter()
            .map(|c| match c {
                Tls::Arn(arn) => WantedTls::Arn(arn.clone()),
                Tls::Made(id) => WantedTls::Made(Ref::new(refs, id, Attr::Id)),
            })
            .collect()
    }
}

fn action(wanted: &WantedAction, refs: &Outputs, id: &ResourceId) -> Result<Action> {
    Ok(match wanted {
        WantedAction::Forward(tg) => Action::builder()
            .r#type(ActionTypeEnum::Forward)
            .target_group_arn(tg.resolve(refs, id)?)
            .build(),
        WantedAction::RedirectToHttps => Action::builder()
            .r#type(ActionTypeEnum::Redirect)
            .redirect_config(
                RedirectActionConfig::builder()
                    .protocol("HTTPS")
                    .port("443")
                    .status_code(RedirectActionStatusCodeEnum::Http301)
                    .build(),
            )
            .build(),
    })
}

fn certificates(
    wanted: &[WantedTls],
    refs: &Outputs,
    id: &ResourceId,
) -> Result<Option<Vec<Certificate>>> {
    let arns = wanted
        .iter()
        .map(|c| c.resolve(refs, id))
        .collect::<Result<Vec<_>>>()?;
    Ok((!arns.is_empty()).then(|| {
        arns.iter()
            .map(|arn| Certificate::builder().certificate_arn(arn).build())
            .collect()
    }))
}

impl Resource for Listener {
    type State = ListenerState;
    type Field = Field;
    const LABEL: &'static str = "listener";

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs = vec![&self.load_balancer];
        if let DefaultAction::Forward(tg) = &self.action {
            refs.push(tg);
        }
        if let Some(Tls::Made(certificate)) = &self.certificate {
            refs.push(certificate);
        }
        refs
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.load_balancer]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let listeners = elb::listeners(scope).await?;
        let arns: Vec<String> = listeners
            .iter()
            .filter_map(|l| l.listener_arn().map(str::to_owned))
            .collect();
        let tags = elb::tags_by_arn(ctx, &arns).await?;
        // A listener added by hand has no stackctl tags; it goes with its load balancer.
        Ok(listeners
            .iter()
            .filter_map(|l| {
                let arn = l.listener_arn()?;
                let tags = tags.get(arn).cloned().unwrap_or_default();
                Some(Found {
                    id: tags::logical_id(&ctx.stack, &tags)?,
                    aws_id: arn.to_owned(),
                    arn: Some(arn.to_owned()),
                    state: format!(
                        "{}:{}",
                        l.protocol().map(|p| p.as_str()).unwrap_or("?"),
                        l.port().unwrap_or_default()
                    ),
                    tags,
                    detail: state_of(l),
                })
            })
            .collect())
    }

    fn diff(&self, found: &ListenerState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let lb = Ref::new(refs, &self.load_balancer, Attr::Id);
        if lb.known.is_some() && !lb.is(&found.load_balancer_arn) {
            diff.replace("it belongs to another load balancer");
        }
        let protocol = self.protocol();
        if found.port != i32::from(self.port) || found.protocol != protocol.as_str() {
            diff.replace(format!(
                "it listens on {}:{} instead of {}:{}",
                found.protocol,
                found.port,
                protocol.as_str(),
                self.port
            ));
        }
        let want = self.wanted_action(refs);
        diff.push_if(found.action != want.to_string(), || Field::DefaultAction {
            from: found.action.clone(),
            to: want,
        });
        let certificates = self.certificates(refs);
        let same = found.certificates.len() == certificates.len()
            && certificates
                .iter()
                .zip(&found.certificates)
                .all(|(want, arn)| want.is(arn));
        diff.push_if(!same, || Field::Certificates {
            from: found.certificates.clone(),
            to: certificates,
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let lb = Ref::new(new.refs, &self.load_balancer, Attr::Id).resolve(new.refs, new.id)?;
        let out = crate::aws::once!(
            aws_sdk_elasticloadbalancingv2,
            ctx.elb
                .create_listener()
                .load_balancer_arn(lb)
                .port(i32::from(self.port))
                .protocol(self.protocol())
                .set_certificates(certificates(
                    &self.certificates(new.refs),
                    new.refs,
                    new.id
                )?)
                .default_actions(action(&self.wanted_action(new.refs), new.refs, new.id)?)
                .set_tags(Some(elb::to_tags(new.tags)))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateListener", e))?;
        let arn = out
            .listeners()
            .first()
            .and_then(|l| l.listener_arn())
            .ok_or_else(|| Error::incomplete(new.id, "CreateListener", "ARN"))?;
        Ok(Output::arn(arn))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<ListenerState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        let mut modify = ctx.elb.modify_listener().listener_arn(&found.aws_id);
        for field in fields {
            modify = match field {
                Field::DefaultAction { to, .. } => {
                    modify.default_actions(action(to, refs, &found.id)?)
                }
                Field::Certificates { to, .. } => {
                    modify.set_certificates(certificates(to, refs, &found.id)?)
                }
            };
        }
        if !fields.is_empty() {
            modify
                .send()
                .await
                .map_err(|e| Error::aws(&found.id, "ModifyListener", e))?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<ListenerState>, tags: &Tags) -> Result<()> {
        elb::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<ListenerState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .elb
            .delete_listener()
            .listener_arn(&found.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteListener", e));
        aws::gone_is_ok(result, |c| c == "ListenerNotFound")
    }

    fn uses(found: &Found<ListenerState>) -> Vec<String> {
        let state = &found.detail;
        let mut uses = vec![state.load_balancer_arn.clone()];
        uses.extend(state.target_group_arn.clone());
        uses.extend(state.certificates.iter().cloned());
        uses
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use aws_sdk_elasticloadbalancingv2::operation::modify_listener::ModifyListenerOutput;

    use super::*;
    use crate::resources::testing::{self, rule};

    fn desired() -> Listener {
        Listener {
            load_balancer: "load-balancer".into(),
            port: 80,
            certificate: None,
            action: DefaultAction::Forward("target-group".into()),
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[("load-balancer", "arn:lb"), ("target-group", "arn:tg")])
    }

    fn state(action: &str) -> ListenerState {
        ListenerState {
            load_balancer_arn: "arn:lb".into(),
            port: 80,
            protocol: "HTTP".into(),
            action: action.into(),
            target_group_arn: Some("arn:tg".into()),
            certificates: Vec::new(),
        }
    }

    #[test]
    fn forwarding_to_the_target_group_is_unchanged() {
        assert!(
            desired()
                .diff(&state("forward to arn:tg"), &refs())
                .is_empty()
        );
    }

    #[test]
    fn another_port_is_a_replace() {
        let mut s = state("forward to arn:tg");
        s.port = 8080;
        assert!(desired().diff(&s, &refs()).replace.is_some());
    }

    #[tokio::test]
    async fn a_changed_action_is_one_modify_call() {
        let modify = rule!(
            aws_sdk_elasticloadbalancingv2,
            modify_listener,
            ModifyListenerOutput
        );
        let ctx = testing::elb(&[&modify]);
        let found = testing::found("http-listener", "arn:l", state("redirect to HTTPS:443"));
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(
            fields[0].describe(),
            FieldChange::new(
                "default_action",
                "redirect to HTTPS:443",
                "forward to arn:tg"
            )
        );
        desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(modify.num_calls(), 1);
    }

    pub(crate) mod calls {
        use aws_sdk_elasticloadbalancingv2::operation::create_listener::CreateListenerOutput;
        use aws_sdk_elasticloadbalancingv2::operation::delete_listener::{
            DeleteListenerError, DeleteListenerOutput,
        };
        use aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersOutput;
        use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::fails;

        /// The stack's one load balancer (`arn:lb`, named `s-alb`) and its HTTP listener
        /// (`arn:listener`), forwarding to `arn:tg`.
        pub(crate) fn listing() -> [Rule; 2] {
            let balancers = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers)
                .then_output(|| {
                    let lb = aws_sdk_elasticloadbalancingv2::types::LoadBalancer::builder()
                        .load_balancer_arn("arn:lb")
                        .load_balancer_name("s-alb")
                        .build();
                    DescribeLoadBalancersOutput::builder()
                        .load_balancers(lb)
                        .build()
                });
            let listeners = mock!(aws_sdk_elasticloadbalancingv2::Client::describe_listeners)
                .match_requests(|r| r.load_balancer_arn() == Some("arn:lb"))
                .then_output(|| {
                    let forward = Action::builder()
                        .r#type(ActionTypeEnum::Forward)
                        .target_group_arn("arn:tg")
                        .build();
                    let listener = |arn: &str, port: i32| {
                        AwsListener::builder()
                            .listener_arn(arn)
                            .load_balancer_arn("arn:lb")
                            .port(port)
                            .protocol(ProtocolEnum::Http)
                            .default_actions(forward.clone())
                            .build()
                    };
                    DescribeListenersOutput::builder()
                        .listeners(listener("arn:listener", 80))
                        .listeners(listener("arn:by-hand", 8080))
                        .build()
                });
            [balancers, listeners]
        }

        #[tokio::test]
        async fn create_listens_on_the_port_and_forwards_to_the_target_group() {
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_listener)
                .match_requests(|r| {
                    let action = &r.default_actions()[0];
                    r.load_balancer_arn() == Some("arn:lb")
                        && r.port() == Some(80)
                        && r.protocol() == Some(&ProtocolEnum::Http)
                        && action.target_group_arn() == Some("arn:tg")
                        && r.certificates().is_empty()
                })
                .then_output(|| {
                    let listener = AwsListener::builder().listener_arn("arn:listener").build();
                    CreateListenerOutput::builder().listeners(listener).build()
                });
            let ctx = testing::elb(&[&create]);
            let creating = testing::Creating::new(ResourceId::HTTP_LISTENER, refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "arn:listener");
        }

        #[tokio::test]
        async fn an_https_listener_carries_its_certificate() {
            let https = Listener {
                port: 443,
                certificate: Some(Tls::Arn("arn:cert".into())),
                ..desired()
            };
            let create = mock!(aws_sdk_elasticloadbalancingv2::Client::create_listener)
                .match_requests(|r| {
                    r.protocol() == Some(&ProtocolEnum::Https)
                        && r.certificates()[0].certificate_arn() == Some("arn:cert")
                })
                .then_output(|| {
                    let listener = AwsListener::builder().listener_arn("arn:https").build();
                    CreateListenerOutput::builder().listeners(listener).build()
                });
            let ctx = testing::elb(&[&create]);
            let creating = testing::Creating::new(ResourceId::HTTPS_LISTENER, refs());
            let output = https.create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "arn:https");
        }

        #[tokio::test]
        async fn observe_reads_the_tagged_listeners_of_the_stack_s_balancers() {
            let [balancers, listeners] = listing();
            let tags = testing::elb_tags(&[("arn:listener", "http-listener")]);
            let ctx = testing::elb(&[&balancers, &listeners, &tags]);
            let found = Listener::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(
                found.len(),
                1,
                "a listener added by hand is not read: {found:?}"
            );
            assert_eq!(found[0].state, "HTTP:80");
            assert!(desired().diff(&found[0].detail, &refs()).is_empty());
            assert_eq!(Listener::uses(&found[0]), ["arn:lb", "arn:tg"]);
        }

        #[tokio::test]
        async fn delete_is_one_call_and_a_listener_already_gone_is_success() {
            let found = testing::found("http-listener", "arn:listener", state("forward arn:tg"));
            let delete = mock!(aws_sdk_elasticloadbalancingv2::Client::delete_listener)
                .match_requests(|r| r.listener_arn() == Some("arn:listener"))
                .then_output(|| DeleteListenerOutput::builder().build());
            let ctx = testing::elb(&[&delete]);
            Listener::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(delete.num_calls(), 1);

            let gone = fails!(
                aws_sdk_elasticloadbalancingv2,
                delete_listener,
                DeleteListenerError,
                "ListenerNotFound"
            );
            let ctx = testing::elb(&[&gone]);
            Listener::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
