//! What the service kind compares and changes: the desired service, what ECS reports of it,
//! and its typed setting changes (with how the plan shows them).

use std::collections::BTreeSet;

use aws_sdk_ecs::types::{AssignPublicIp, Service as AwsService, ServiceField};

use crate::aws::{ecs, named};
use crate::change::{Describe, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Found, Resource, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::Ref;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub cluster: ResourceId,
    pub task_definition: ResourceId,
    pub desired_count: u32,
    /// Its count is the autoscaler's once it runs: `desired_count` only starts it.
    pub autoscaled: bool,
    /// Web services: the target group (logical id) its tasks register in.
    pub target_group: Option<ResourceId>,
    /// Internal services: the service discovery entry (logical id) its tasks register in.
    pub discovery: Option<ResourceId>,
    pub container_name: String,
    /// The container port the target group sends to.
    pub port: Option<u16>,
    pub subnets: Vec<ResourceId>,
    pub security_groups: Vec<ResourceId>,
    pub public_ip: bool,
    pub grace_secs: u32,
    pub min_healthy_percent: u32,
    pub max_percent: u32,
    pub rollback: bool,
}

/// (target group ARN, container, port)
pub type Registration = (String, String, i32);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    pub cluster_arn: String,
    pub status: String,
    pub launch_type: String,
    pub task_definition: String,
    pub desired_count: i32,
    pub running_count: i32,
    pub pending_count: i32,
    pub rollout: String,
    /// When the primary deployment last changed (UTC, as [`crate::when::utc`] shows it).
    pub rollout_since: Option<String>,
    /// How many deployments there are: more than one while a rollout replaces tasks.
    pub deployments: usize,
    pub load_balancer: Option<Registration>,
    pub subnets: BTreeSet<String>,
    pub security_groups: BTreeSet<String>,
    /// Service discovery registries (ARNs).
    pub registries: Vec<String>,
    pub public_ip: bool,
    pub grace_secs: i32,
    pub min_healthy_percent: i32,
    pub max_percent: i32,
    pub circuit_breaker: (bool, bool),
}

/// One setting of the service to change; all of them go in one `UpdateService`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    TaskDefinition {
        from: String,
        to: Ref,
    },
    DesiredCount {
        from: i32,
        to: i32,
    },
    LoadBalancer {
        from: Option<Registration>,
        /// None: taken off the load balancer.
        to: Option<Ref>,
        /// The container port the target group sends to.
        port: i32,
    },
    Registries {
        from: Vec<String>,
        to: Option<Ref>,
    },
    Subnets {
        from: BTreeSet<String>,
        to: Vec<Ref>,
    },
    SecurityGroups {
        from: BTreeSet<String>,
        to: Vec<Ref>,
    },
    PublicIp(bool),
    GracePeriod {
        from: i32,
        to: i32,
    },
    MinHealthyPercent {
        from: i32,
        to: i32,
    },
    MaxPercent {
        from: i32,
        to: i32,
    },
    CircuitBreaker {
        from: (bool, bool),
        rollback: bool,
    },
}

fn revision(arn: &str) -> String {
    arn.rsplit(':')
        .next()
        .map_or_else(|| arn.to_owned(), |r| format!("revision {r}"))
}

fn breaker((on, rollback): (bool, bool)) -> &'static str {
    match (on, rollback) {
        (true, true) => "on, with rollback",
        (true, false) => "on, no rollback",
        (false, _) => "off",
    }
}

fn sorted(refs: &[Ref]) -> Vec<String> {
    let mut shown: Vec<String> = refs.iter().map(Ref::to_string).collect();
    shown.sort();
    shown
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let show_lb = |(tg, c, p): &Registration| format!("{c}:{p} in {tg}");
        match self {
            Self::TaskDefinition { from, to } => {
                let to = to.known.as_deref().map_or_else(|| to.to_string(), revision);
                FieldChange::new("task_definition", revision(from), to)
            }
            Self::DesiredCount { from, to } => FieldChange::new("desired_count", from, to),
            Self::LoadBalancer { from, to, port } => FieldChange::new(
                "load_balancer",
                from.as_ref().map_or_else(|| "(none)".into(), show_lb),
                to.as_ref().map_or_else(
                    || "(none)".into(),
                    |to| {
                        format!(
                            "{}:{port} in {to}",
                            crate::resources::task_definition::CONTAINER
                        )
                    },
                ),
            ),
            Self::Registries { from, to } => FieldChange::new(
                "service_registries",
                show_list(from),
                to.as_ref()
                    .map_or_else(|| "(none)".into(), ToString::to_string),
            ),
            Self::Subnets { from, to } => {
                FieldChange::new("subnets", show_list(from), show_list(sorted(to)))
            }
            Self::SecurityGroups { from, to } => {
                FieldChange::new("security_groups", show_list(from), show_list(sorted(to)))
            }
            Self::PublicIp(on) => FieldChange::new("assign_public_ip", !on, on),
            Self::GracePeriod { from, to } => {
                FieldChange::new("health_check_grace_period", from, to)
            }
            Self::MinHealthyPercent { from, to } => {
                FieldChange::new("min_healthy_percent", from, to)
            }
            Self::MaxPercent { from, to } => FieldChange::new("max_percent", from, to),
            Self::CircuitBreaker { from, rollback } => FieldChange::new(
                "circuit_breaker",
                breaker(*from),
                breaker((true, *rollback)),
            ),
        }
    }
}

pub fn state_of(service: &AwsService) -> ServiceState {
    let primary = service
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let network = service
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let config = service.deployment_configuration();
    let breaker = config.and_then(|c| c.deployment_circuit_breaker());
    ServiceState {
        cluster_arn: service.cluster_arn().unwrap_or_default().to_owned(),
        status: service.status().unwrap_or_default().to_owned(),
        launch_type: service
            .launch_type()
            .map(|l| l.as_str().to_owned())
            .unwrap_or_default(),
        task_definition: service.task_definition().unwrap_or_default().to_owned(),
        desired_count: service.desired_count(),
        running_count: service.running_count(),
        pending_count: service.pending_count(),
        rollout: primary
            .and_then(|d| d.rollout_state())
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        rollout_since: primary
            .and_then(|d| d.updated_at().or(d.created_at()))
            .and_then(crate::when::utc_of),
        deployments: service.deployments().len(),
        load_balancer: service.load_balancers().first().map(|l| {
            (
                l.target_group_arn().unwrap_or_default().to_owned(),
                l.container_name().unwrap_or_default().to_owned(),
                l.container_port().unwrap_or_default(),
            )
        }),
        subnets: network
            .map(|n| n.subnets().iter().cloned().collect())
            .unwrap_or_default(),
        security_groups: network
            .map(|n| n.security_groups().iter().cloned().collect())
            .unwrap_or_default(),
        registries: service
            .service_registries()
            .iter()
            .filter_map(|r| r.registry_arn().map(str::to_owned))
            .collect(),
        public_ip: network.and_then(|n| n.assign_public_ip()) == Some(&AssignPublicIp::Enabled),
        grace_secs: service
            .health_check_grace_period_seconds()
            .unwrap_or_default(),
        min_healthy_percent: config
            .and_then(|c| c.minimum_healthy_percent())
            .unwrap_or_default(),
        max_percent: config.and_then(|c| c.maximum_percent()).unwrap_or_default(),
        circuit_breaker: breaker.map_or((false, false), |b| (b.enable(), b.rollback())),
    }
}

fn status_line(state: &ServiceState) -> String {
    let rollout = if state.rollout.is_empty() {
        String::new()
    } else {
        format!(", rollout {}", state.rollout)
    };
    format!(
        "{}: {}/{} running, {} pending{rollout}",
        state.status,
        state.running_count,
        state.desired_count,
        state.pending_count.max(0)
    )
}

impl ServiceState {
    /// What is still under way, when the service does not run as the stack wants yet: its
    /// rollout (one of the current task definition) unfinished or failed, or fewer tasks
    /// running than it wants.
    pub fn unready(&self) -> Option<String> {
        let since = self
            .rollout_since
            .as_ref()
            .map(|t| format!(" since {t}"))
            .unwrap_or_default();
        let counts = format!("{} of {} running", self.running_count, self.desired_count);
        match self.rollout.as_str() {
            "FAILED" => Some(format!("rollout failed{since}, {counts}")),
            "COMPLETED" if self.deployments <= 1 && self.running_count >= self.desired_count => {
                None
            }
            "COMPLETED" if self.deployments <= 1 => Some(counts),
            _ => Some(format!("rollout in progress{since}, {counts}")),
        }
    }
}

/// Some services of one cluster, with their tags; the stack's ones as found.
pub(super) async fn describe(
    ctx: &Context,
    cluster: &str,
    arns: &[String],
    wanted: &[Wanted<'_, Service>],
) -> Result<Vec<Found<ServiceState>>> {
    let out = match ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .set_services(Some(arns.to_vec()))
        .include(ServiceField::Tags)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if ecs::is_gone(&e) => return Ok(Vec::new()),
        Err(e) => return Err(Error::aws("ECS services", "DescribeServices", e)),
    };
    let mut found = Vec::new();
    for service in out.services() {
        let (Some(arn), Some(name)) = (service.service_arn(), service.service_name()) else {
            continue;
        };
        if service.status() == Some("INACTIVE") {
            continue;
        }
        let tags = ecs::tags_of(service.tags());
        let wanted = wanted.iter().any(|w| w.spec.name == name);
        let Some(id) = named::claim(&ctx.stack, Service::LABEL, name, &tags, wanted)? else {
            continue;
        };
        let state = state_of(service);
        found.push(Found {
            id,
            aws_id: arn.to_owned(),
            arn: Some(arn.to_owned()),
            state: status_line(&state),
            tags,
            detail: state,
        });
    }
    Ok(found)
}
