//! A model of AWS's own timings ([`crate::timings`]), played in front of an emulator that
//! answers at once: each figure multiplied by the scale. Until the interfaces are released,
//! security-group, subnet, internet-gateway-detach and VPC deletes answer
//! `DependencyViolation`; a service's rollout stays `IN_PROGRESS` until its tasks have
//! started and its load balancer is active, plus the health checks; a certificate stays
//! `PENDING_VALIDATION` until ACM issues it, and a Route 53 change `PENDING` ([`crate::dns`]).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, StatusCode};
use serde_json::Value;

use crate::call::{Call, Protocol};
use crate::reply;
use crate::timings::*;

/// When things happen, as the model decides; also a timeline for tests to read.
#[derive(Debug, Default)]
struct Clocks {
    /// Load balancer ARN → when it becomes active.
    balancers: HashMap<String, Instant>,
    /// Target group ARN → the load balancer a listener forwards to it from.
    target_groups: HashMap<String, String>,
    /// NAT gateway id → when it becomes available, and when it is gone once deleted.
    nats: HashMap<String, (Instant, Option<Instant>)>,
    /// Service ARN → its rollout.
    services: HashMap<String, Rollout>,
    /// Until when deletes in the network answer `DependencyViolation`.
    interfaces_until: Option<Instant>,
    /// Cloud Map operation id → when it succeeds.
    operations: HashMap<String, Instant>,
    /// Certificate ARN → when ACM issues it.
    certificates: HashMap<String, Instant>,
    timeline: Vec<(Instant, String)>,
}

#[derive(Debug, Clone)]
struct Rollout {
    tasks_at: Instant,
    target_group: Option<String>,
    drained_at: Option<Instant>,
}

#[derive(Debug)]
pub struct Model {
    scale: f64,
    /// AWS's request rates, refilled at the model's pace.
    rates: infra::rates::Buckets,
    started: Instant,
    clocks: Mutex<Clocks>,
    changes: crate::dns::Changes,
}

impl Model {
    pub fn new(scale: f64) -> Self {
        Self {
            scale,
            rates: infra::rates::Buckets::new(scale),
            started: Instant::now(),
            clocks: Mutex::default(),
            changes: crate::dns::Changes::default(),
        }
    }

    fn after(&self, seconds: f64) -> Instant {
        Instant::now() + Duration::from_secs_f64(seconds * self.scale)
    }

    fn clocks(&self) -> std::sync::MutexGuard<'_, Clocks> {
        self.clocks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How long the call takes before AWS answers.
    pub fn latency(&self, call: &Call) -> Duration {
        Duration::from_secs_f64(call_seconds(&call.operation) * self.scale)
    }

    /// True when the call finds its rate limit's bucket empty: AWS throttles it.
    pub fn over_rate(&self, call: &Call) -> bool {
        self.rates.try_take(&call.service, &call.operation).is_err()
    }

    /// An answer AWS would give instead of doing the call: `DependencyViolation` while network
    /// interfaces are still being released.
    pub fn refuse(&self, call: &Call) -> Option<Response<Full<Bytes>>> {
        let blocked = matches!(
            call.operation.as_str(),
            "DeleteSecurityGroup" | "DeleteSubnet" | "DetachInternetGateway" | "DeleteVpc"
        );
        (blocked && self.interfaces_held()).then(|| {
            reply::error(
                Protocol::Ec2,
                StatusCode::BAD_REQUEST,
                "DependencyViolation",
                "The resource has a dependent object (network interfaces are being released).",
            )
        })
    }

    /// Notes what a request starts (before it is forwarded).
    pub fn request(&self, call: &Call) {
        let mut clocks = self.clocks();
        // Cloud Map has a `DeleteService` too: match the service as well as the operation.
        match (call.service.as_str(), call.operation.as_str()) {
            (_, "CreateListener") => {
                let lb = call.param("LoadBalancerArn").unwrap_or_default().to_owned();
                for (k, v) in &call.form {
                    if k.starts_with("DefaultActions.member.") && k.ends_with(".TargetGroupArn") {
                        clocks.target_groups.insert(v.clone(), lb.clone());
                    }
                }
            }
            (_, "DeleteLoadBalancer") => self.release_interfaces_later(&mut clocks),
            ("ecs", "DeleteService") => {
                self.release_interfaces_later(&mut clocks);
                let drained = self.after(SERVICE_DRAINED);
                let events = Self::services(&mut clocks, call, |arn, rollout| {
                    rollout.drained_at = Some(drained);
                    (drained, format!("service drained {arn}"))
                });
                clocks.timeline.extend(events);
            }
            ("ecs", "UpdateService") if call.field("/taskDefinition").is_some() => {
                let tasks = self.after(TASKS_STARTED);
                Self::services(&mut clocks, call, |arn, rollout| {
                    rollout.tasks_at = tasks;
                    (tasks, format!("tasks replaced {arn}"))
                });
            }
            (_, "DeleteNatGateway") => {
                let gone = self.after(NAT_DELETED);
                if let Some(nat) = call
                    .param("NatGatewayId")
                    .and_then(|id| clocks.nats.get_mut(id))
                {
                    nat.1 = Some(gone);
                }
            }
            _ => {}
        }
        if !call.is_read() {
            let target = call.param("LoadBalancerArn").or(call.field("/service"));
            let note = format!("{} {}", call.operation, target.unwrap_or(""));
            clocks
                .timeline
                .push((Instant::now(), note.trim().to_owned()));
        }
    }

    /// True while network interfaces a deleted load balancer or service used are released.
    fn interfaces_held(&self) -> bool {
        let until = self.clocks().interfaces_until;
        until.is_some_and(|until| Instant::now() < until)
    }

    /// Network interfaces stay busy for a while after a load balancer or service goes.
    fn release_interfaces_later(&self, clocks: &mut Clocks) {
        let until = self.after(INTERFACES_RELEASED);
        clocks.interfaces_until = Some(clocks.interfaces_until.map_or(until, |u| u.max(until)));
    }

    /// Applies `f` to the rollout of the service a call names; returns what `f` reports.
    fn services(
        clocks: &mut Clocks,
        call: &Call,
        mut f: impl FnMut(&str, &mut Rollout) -> (Instant, String),
    ) -> Vec<(Instant, String)> {
        let service = call.field("/service").unwrap_or_default();
        clocks
            .services
            .iter_mut()
            .filter(|(arn, _)| *arn == service || arn.ends_with(&format!("/{service}")))
            .map(|(arn, rollout)| f(arn, rollout))
            .collect()
    }

    /// Notes what an answer created, and rewrites answers about things still on their way.
    pub fn answer(&self, call: &Call, body: &str) -> Option<String> {
        match (call.service.as_str(), call.operation.as_str()) {
            ("elasticloadbalancing", "CreateLoadBalancer") => {
                let arn = reply::text_of(body, "LoadBalancerArn")?.to_owned();
                let active = self.after(LOAD_BALANCER_ACTIVE);
                let mut clocks = self.clocks();
                clocks
                    .timeline
                    .push((active, format!("load balancer active {arn}")));
                clocks.balancers.insert(arn, active);
                None
            }
            ("elasticloadbalancing", "DescribeLoadBalancers") => Some(self.balancers(body)),
            ("servicediscovery", "CreatePrivateDnsNamespace" | "GetOperation") => {
                self.namespace_operation(call, body)
            }
            ("ec2", "CreateNatGateway") => {
                let id = reply::text_of(body, "natGatewayId")?.to_owned();
                let available = self.after(NAT_AVAILABLE);
                self.clocks().nats.insert(id, (available, None));
                None
            }
            ("ec2", "DescribeNatGateways") => Some(self.nat_gateways(body)),
            ("acm", "RequestCertificate" | "DescribeCertificate") => self.certificate(call, body),
            ("route53", "ChangeResourceRecordSets" | "GetChange") => {
                self.changes.answer(call, body, self.after(DNS_IN_SYNC))
            }
            ("ec2", "DescribeNetworkInterfaces") if self.interfaces_held() => {
                crate::interfaces::held(call, body)
            }
            ("ecs", _) => self.ecs(call, body),
            _ => None,
        }
    }

    /// A service made (its rollout noted) and services described, updated or deleted (their
    /// rollouts as the model says).
    fn ecs(&self, call: &Call, body: &str) -> Option<String> {
        match call.operation.as_str() {
            "CreateService" => {
                let mut value: Value = serde_json::from_str(body).ok()?;
                let arn = value.pointer("/service/serviceArn")?.as_str()?.to_owned();
                let target_group = call
                    .json
                    .as_ref()
                    .and_then(|j| j.pointer("/loadBalancers/0/targetGroupArn"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let rollout = Rollout {
                    tasks_at: self.after(TASKS_STARTED),
                    target_group,
                    drained_at: None,
                };
                self.clocks().services.insert(arn, rollout);
                let service = value.get_mut("service")?;
                self.rollout(service);
                Some(value.to_string())
            }
            "DescribeServices" | "UpdateService" | "DeleteService" => {
                let mut value: Value = serde_json::from_str(body).ok()?;
                if let Some(services) = value.get_mut("services").and_then(Value::as_array_mut) {
                    services.iter_mut().for_each(|s| self.rollout(s));
                }
                if let Some(service) = value.get_mut("service") {
                    self.rollout(service);
                }
                Some(value.to_string())
            }
            _ => None,
        }
    }

    /// A namespace's operation: noted when it starts, `PENDING` until the model says it is done.
    fn namespace_operation(&self, call: &Call, body: &str) -> Option<String> {
        if call.operation == "CreatePrivateDnsNamespace" {
            let value: Value = serde_json::from_str(body).ok()?;
            let id = value.get("OperationId")?.as_str()?.to_owned();
            let done = self.after(NAMESPACE_CREATED);
            let mut clocks = self.clocks();
            clocks
                .timeline
                .push((done, format!("namespace created {id}")));
            clocks.operations.insert(id, done);
            return None;
        }
        let mut value: Value = serde_json::from_str(body).ok()?;
        let id = value.pointer("/Operation/Id")?.as_str()?.to_owned();
        let done = *self.clocks().operations.get(&id)?;
        (Instant::now() < done).then(|| {
            value["Operation"]["Status"] = "PENDING".into();
            value.to_string()
        })
    }

    /// A certificate: noted when requested, `PENDING_VALIDATION` until the model issues it.
    fn certificate(&self, call: &Call, body: &str) -> Option<String> {
        let mut value: Value = serde_json::from_str(body).ok()?;
        if call.operation == "RequestCertificate" {
            let arn = value.get("CertificateArn")?.as_str()?.to_owned();
            let issued = self.after(CERTIFICATE_ISSUED);
            let mut clocks = self.clocks();
            clocks
                .timeline
                .push((issued, format!("certificate issued {arn}")));
            clocks.certificates.insert(arn, issued);
            return None;
        }
        let arn = value
            .pointer("/Certificate/CertificateArn")?
            .as_str()?
            .to_owned();
        let issued = *self.clocks().certificates.get(&arn)?;
        (Instant::now() < issued).then(|| {
            value["Certificate"]["Status"] = "PENDING_VALIDATION".into();
            value.to_string()
        })
    }

    fn balancers(&self, body: &str) -> String {
        let now = Instant::now();
        let clocks = self.clocks();
        reply::rewrite_listed(body, "LoadBalancers", &mut |lb| {
            let arn = reply::text_of(lb, "LoadBalancerArn")?;
            let active = clocks.balancers.get(arn)?;
            (now < *active).then(|| reply::with_text(lb, "Code", "provisioning"))
        })
    }

    fn nat_gateways(&self, body: &str) -> String {
        let now = Instant::now();
        let clocks = self.clocks();
        reply::rewrite_listed(body, "natGatewaySet", &mut |nat| {
            let id = reply::text_of(nat, "natGatewayId")?;
            let (available, gone) = clocks.nats.get(id)?;
            match (reply::text_of(nat, "state")?, gone) {
                ("deleted", Some(gone)) if now < *gone => {
                    Some(reply::with_text(nat, "state", "deleting"))
                }
                ("available", _) if now < *available => {
                    Some(reply::with_text(nat, "state", "pending"))
                }
                _ => None,
            }
        })
    }

    /// When the service's rollout completes: tasks started, load balancer active, healthy.
    fn ready_at(clocks: &Clocks, rollout: &Rollout, scale: f64) -> Instant {
        let lb_active = rollout
            .target_group
            .as_ref()
            .and_then(|tg| clocks.target_groups.get(tg))
            .and_then(|lb| clocks.balancers.get(lb))
            .copied();
        // Without a target group (an internal service, a worker) running is ready.
        let Some(_) = rollout.target_group else {
            return rollout.tasks_at;
        };
        let serving = lb_active.map_or(rollout.tasks_at, |lb| lb.max(rollout.tasks_at));
        serving + Duration::from_secs_f64(TARGETS_HEALTHY * scale)
    }

    /// Rewrites one described service as the model has it now.
    fn rollout(&self, service: &mut Value) {
        let now = Instant::now();
        let Some(arn) = service.get("serviceArn").and_then(Value::as_str) else {
            return;
        };
        let mut clocks = self.clocks();
        let Some(rollout) = clocks.services.get(arn).cloned() else {
            return;
        };
        if let Some(drained) = rollout.drained_at {
            if now < drained {
                service["status"] = "DRAINING".into();
            }
            return;
        }
        let ready = Self::ready_at(&clocks, &rollout, self.scale);
        if !clocks
            .timeline
            .iter()
            .any(|(_, e)| e == &format!("service ready {arn}"))
        {
            clocks
                .timeline
                .push((ready, format!("service ready {arn}")));
        }
        if now >= ready {
            return;
        }
        let desired = service
            .get("desiredCount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let running = if now < rollout.tasks_at { 0 } else { desired };
        service["runningCount"] = running.into();
        service["pendingCount"] = (desired - running).into();
        if let Some(deployments) = service.get_mut("deployments").and_then(Value::as_array_mut) {
            for d in deployments.iter_mut().filter(|d| d["status"] == "PRIMARY") {
                d["rolloutState"] = "IN_PROGRESS".into();
                d["runningCount"] = running.into();
                d["pendingCount"] = (desired - running).into();
            }
        }
    }

    /// What happened when, from the model's start: mutating calls as they came, and the
    /// moments the model decided (a load balancer active, a service ready).
    pub fn timeline(&self) -> Vec<(Duration, String)> {
        let mut events: Vec<(Duration, String)> = self
            .clocks()
            .timeline
            .iter()
            .map(|(at, e)| (at.saturating_duration_since(self.started), e.clone()))
            .collect();
        events.sort();
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_take_the_documented_time() {
        assert_eq!(call_seconds("CreateVpc"), 2.0);
        assert_eq!(call_seconds("CreateCluster"), 8.0);
        assert_eq!(call_seconds("DescribeVpcs"), 0.05);
        assert_eq!(call_seconds("DeleteSubnet"), 1.0);
        // The lock and the history are items and log events, written in a round trip.
        assert_eq!(call_seconds("PutItem"), 0.05);
        assert_eq!(call_seconds("PutLogEvents"), 0.05);
    }

    #[test]
    fn a_burst_of_task_definitions_past_ecs_s_rate_is_throttled() {
        let model = Model::new(1.0);
        let register = Call {
            service: "ecs".into(),
            operation: "RegisterTaskDefinition".into(),
            protocol: Protocol::Json,
            form: Vec::new(),
            json: None,
        };
        let throttled = (0..25).filter(|_| model.over_rate(&register)).count();
        assert_eq!(throttled, 5, "20 at once, then one a second");
    }

    #[test]
    fn a_new_load_balancer_provisions_and_a_nat_gateway_is_pending() {
        let model = Model::new(1.0);
        let call = Call {
            service: "elasticloadbalancing".into(),
            operation: "CreateLoadBalancer".into(),
            protocol: Protocol::Query,
            form: Vec::new(),
            json: None,
        };
        model.answer(&call, "<LoadBalancerArn>arn:lb</LoadBalancerArn>");
        let describe = Call {
            operation: "DescribeLoadBalancers".into(),
            ..call
        };
        let body = "<X><LoadBalancers><member><LoadBalancerArn>arn:lb</LoadBalancerArn><State><Code>active</Code></State></member></LoadBalancers></X>";
        let rewritten = model.answer(&describe, body).unwrap();
        assert!(
            rewritten.contains("<Code>provisioning</Code>"),
            "{rewritten}"
        );
    }

    #[test]
    fn a_certificate_is_pending_validation_until_acm_issues_it() {
        let model = Model::new(1.0);
        let call = Call {
            service: "acm".into(),
            operation: "RequestCertificate".into(),
            protocol: Protocol::Json,
            form: Vec::new(),
            json: None,
        };
        assert_eq!(model.answer(&call, r#"{"CertificateArn":"arn:c"}"#), None);
        let describe = Call {
            operation: "DescribeCertificate".into(),
            ..call
        };
        let body = r#"{"Certificate":{"CertificateArn":"arn:c","Status":"ISSUED"}}"#;
        let rewritten = model.answer(&describe, body).unwrap();
        assert!(rewritten.contains("PENDING_VALIDATION"), "{rewritten}");
        let other = r#"{"Certificate":{"CertificateArn":"arn:other","Status":"ISSUED"}}"#;
        assert_eq!(
            model.answer(&describe, other),
            None,
            "one it did not see made"
        );
    }

    #[test]
    fn network_deletes_wait_for_interfaces_after_a_load_balancer_goes() {
        let model = Model::new(1.0);
        let call = |op: &str| Call {
            service: "ec2".into(),
            operation: op.into(),
            protocol: Protocol::Ec2,
            form: Vec::new(),
            json: None,
        };
        assert!(model.refuse(&call("DeleteSubnet")).is_none());
        model.request(&Call {
            service: "elasticloadbalancing".into(),
            ..call("DeleteLoadBalancer")
        });
        let refused = model.refuse(&call("DeleteSubnet")).unwrap();
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
        assert!(model.refuse(&call("CreateSubnet")).is_none());
    }

    #[test]
    fn deleting_a_cloud_map_service_releases_no_interfaces() {
        let model = Model::new(1.0);
        model.request(&Call {
            service: "servicediscovery".into(),
            operation: "DeleteService".into(),
            protocol: Protocol::Json,
            form: Vec::new(),
            json: Some(serde_json::json!({"Id": "srv-1"})),
        });
        let subnet = Call {
            service: "ec2".into(),
            operation: "DeleteSubnet".into(),
            protocol: Protocol::Ec2,
            form: Vec::new(),
            json: None,
        };
        assert!(model.refuse(&subnet).is_none());
    }
}
