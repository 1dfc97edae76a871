//! The stack's one load balancer: its listeners, a target group per web service, and a
//! listener rule per web service with paths or hosts (the one without is the default
//! action). Part of the stack once the default web service has an image.

use super::builder::Builder;
use super::network::Subnets;
use crate::id::{ResourceId, ServiceIds};
use crate::resources::Spec;
use crate::resources::alias_record::AliasRecord;
use crate::resources::certificate::Certificate;
use crate::resources::listener::{DefaultAction, Listener, Tls};
use crate::resources::listener_rule::ListenerRule;
use crate::resources::load_balancer::LoadBalancer;
use crate::resources::target_group::TargetGroup;
use crate::stack_file::ServiceSpec;

/// Adds the load balancer and its listeners, forwarding by default to `default`'s target
/// group; returns the id of the listener the rules go on.
pub(super) fn add(b: &mut Builder<'_>, subnets: &Subnets, default: &ServiceSpec) -> ResourceId {
    target_group(b, default);
    let load_balancer = LoadBalancer {
        name: b.names.load_balancer.clone(),
        subnets: subnets.public.clone(),
        security_group: ResourceId::ALB_SECURITY_GROUP,
    };
    // An internet-facing load balancer needs the gateway attached first.
    b.add(
        ResourceId::LOAD_BALANCER,
        Spec::LoadBalancer(load_balancer),
        &[ResourceId::INTERNET_GATEWAY],
    );
    let forward = |port, certificate| Listener {
        load_balancer: ResourceId::LOAD_BALANCER,
        port,
        certificate,
        action: DefaultAction::Forward(ServiceIds::named(&default.name).target_group),
    };
    let domains = domains(b);
    match tls(default, &domains) {
        None => {
            b.add(
                ResourceId::HTTP_LISTENER,
                Spec::Listener(forward(80, None)),
                &[],
            );
            ResourceId::HTTP_LISTENER
        }
        Some(certificate) => {
            let made = matches!(certificate, Tls::Made(_));
            let https = b.add(
                ResourceId::HTTPS_LISTENER,
                Spec::Listener(forward(443, Some(certificate))),
                &[],
            );
            // A load balancer takes a certificate once ACM has issued it.
            if made {
                https.after_ready(&[ResourceId::CERTIFICATE]);
            }
            let redirect = Listener {
                load_balancer: ResourceId::LOAD_BALANCER,
                port: 80,
                certificate: None,
                action: DefaultAction::RedirectToHttps,
            };
            b.add(ResourceId::HTTP_LISTENER, Spec::Listener(redirect), &[]);
            aliases(b, domains);
            ResourceId::HTTPS_LISTENER
        }
    }
}

/// The stack's domains, the default web service's first; with any, the certificate for them.
fn domains(b: &mut Builder<'_>) -> Vec<String> {
    let mut domains: Vec<String> = b
        .spec
        .default_web()
        .and_then(|s| s.domain.clone())
        .into_iter()
        .collect();
    for domain in b.spec.web().filter_map(|s| s.domain.clone()) {
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if !domains.is_empty() {
        let certificate = Certificate {
            domains: domains.clone(),
        };
        b.add(ResourceId::CERTIFICATE, Spec::Certificate(certificate), &[]);
    }
    domains
}

/// An alias record to the load balancer for each domain, published once HTTPS answers on it.
fn aliases(b: &mut Builder<'_>, domains: Vec<String>) {
    for domain in domains {
        let id = ResourceId::alias_record(&domain);
        let record = AliasRecord {
            domain,
            load_balancer: ResourceId::LOAD_BALANCER,
            certificate: ResourceId::CERTIFICATE,
        };
        b.add(id, Spec::AliasRecord(record), &[ResourceId::HTTPS_LISTENER]);
    }
}

/// The HTTPS listener's certificate: the one given by ARN, or the stack's for its domains.
fn tls(default: &ServiceSpec, domains: &[String]) -> Option<Tls> {
    match (&default.certificate_arn, domains.is_empty()) {
        (Some(arn), _) => Some(Tls::Arn(arn.clone())),
        (None, false) => Some(Tls::Made(ResourceId::CERTIFICATE)),
        (None, true) => None,
    }
}

/// The target group of a web service, with its health check.
pub(super) fn target_group(b: &mut Builder<'_>, service: &ServiceSpec) {
    let ids = ServiceIds::named(&service.name);
    let target_group = TargetGroup {
        name: b.names.service(&service.name).target_group,
        vpc: ResourceId::VPC,
        port: service.port.unwrap_or(80),
        health_check_path: service.health_check_path.clone(),
        interval_secs: service.health_check_interval_secs,
        healthy_threshold: service.healthy_threshold,
        unhealthy_threshold: service.unhealthy_threshold,
        deregistration_delay_secs: service.deregistration_delay_secs,
    };
    b.add(ids.target_group, Spec::TargetGroup(target_group), &[]);
}

/// The rule that sends `service`'s paths and hosts to its target group, tried at `priority`.
pub(super) fn rule(
    b: &mut Builder<'_>,
    listener: &ResourceId,
    service: &ServiceSpec,
    priority: u32,
) {
    let ids = ServiceIds::named(&service.name);
    target_group(b, service);
    let rule = ListenerRule {
        listener: listener.clone(),
        priority,
        paths: service.route.paths.clone(),
        hosts: service.route.hosts.clone(),
        target_group: ids.target_group,
    };
    b.add(ids.listener_rule, Spec::ListenerRule(rule), &[]);
}
