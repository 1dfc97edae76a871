//! The ECS Fargate service: desired count, the deployment circuit breaker (rollback on by
//! default), min/max healthy percent, health-check grace period, registration in the target
//! group, the service security group, subnets, and a public IP only when there is no NAT.

use std::collections::BTreeSet;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    LaunchType, LoadBalancer as EcsLoadBalancer, NetworkConfiguration, PropagateTags,
    Service as AwsService, ServiceField,
};

use super::cluster::{ecs_tags, is_gone, tags_of};
use super::{Detail, Diff, Kind, Observed, Output, Outputs, check_owner, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::{ID_TAG, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub name: String,
    pub cluster: String,
    pub task_definition: String,
    pub desired_count: u32,
    pub target_group: String,
    pub container_name: String,
    pub port: u16,
    pub subnets: Vec<String>,
    pub security_group: String,
    pub public_ip: bool,
    pub grace_secs: u32,
    pub min_healthy_percent: u32,
    pub max_percent: u32,
    pub rollback: bool,
}

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
    pub load_balancer: Option<(String, String, i32)>,
    pub subnets: BTreeSet<String>,
    pub security_groups: BTreeSet<String>,
    pub public_ip: bool,
    pub grace_secs: i32,
    pub min_healthy_percent: i32,
    pub max_percent: i32,
    pub circuit_breaker: (bool, bool),
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn id_of(refs: &Outputs, logical: &str) -> String {
    refs.get(logical)
        .map_or_else(|| format!("(new {logical})"), |o| o.aws_id.clone())
}

fn show<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn diff(desired: &Service, observed: &ServiceState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if observed.launch_type != "FARGATE" {
        diff.replace(format!(
            "its launch type is {}, and only a new service can be FARGATE",
            observed.launch_type
        ));
    }
    if let Some(cluster) = refs.get(&desired.cluster)
        && cluster.aws_id != observed.cluster_arn
    {
        diff.replace("it runs in another cluster");
    }
    let revision = |arn: &str| {
        arn.rsplit(':')
            .next()
            .map_or_else(|| arn.to_owned(), |r| format!("revision {r}"))
    };
    let td = id_of(refs, &desired.task_definition);
    if observed.task_definition != td {
        diff.field(
            "task_definition",
            revision(&observed.task_definition),
            revision(&td),
        );
    }
    diff.compare(
        "desired_count",
        observed.desired_count,
        int(desired.desired_count),
    );
    let lb = (
        id_of(refs, &desired.target_group),
        desired.container_name.clone(),
        i32::from(desired.port),
    );
    if observed.load_balancer.as_ref() != Some(&lb) {
        let show_lb = |l: &Option<(String, String, i32)>| {
            l.as_ref().map_or_else(
                || "(none)".to_owned(),
                |(tg, c, p)| format!("{c}:{p} in {tg}"),
            )
        };
        diff.field(
            "load_balancer",
            show_lb(&observed.load_balancer),
            show_lb(&Some(lb)),
        );
    }
    let subnets: BTreeSet<String> = desired.subnets.iter().map(|s| id_of(refs, s)).collect();
    if observed.subnets != subnets {
        diff.field("subnets", show(&observed.subnets), show(&subnets));
    }
    let groups: BTreeSet<String> = [id_of(refs, &desired.security_group)].into();
    if observed.security_groups != groups {
        diff.field(
            "security_groups",
            show(&observed.security_groups),
            show(&groups),
        );
    }
    diff.compare("assign_public_ip", observed.public_ip, desired.public_ip);
    diff.compare(
        "health_check_grace_period",
        observed.grace_secs,
        int(desired.grace_secs),
    );
    diff.compare(
        "min_healthy_percent",
        observed.min_healthy_percent,
        int(desired.min_healthy_percent),
    );
    diff.compare(
        "max_percent",
        observed.max_percent,
        int(desired.max_percent),
    );
    let breaker = |(on, rollback): (bool, bool)| match (on, rollback) {
        (true, true) => "on, with rollback",
        (true, false) => "on, no rollback",
        (false, _) => "off",
    };
    diff.compare(
        "circuit_breaker",
        breaker(observed.circuit_breaker),
        breaker((true, desired.rollback)),
    );
    diff
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

pub async fn observe(ctx: &Context, cluster: &str, name: &str) -> Result<Vec<Observed>> {
    let out = match ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(name)
        .include(ServiceField::Tags)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if is_gone(&e) => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::aws(
                format!("ECS service {name}"),
                "DescribeServices",
                e,
            ));
        }
    };
    let Some(service) = out
        .services()
        .iter()
        .find(|s| s.status() != Some("INACTIVE"))
    else {
        return Ok(Vec::new());
    };
    let tags = tags_of(service.tags());
    check_owner(ctx, Kind::Service, name, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(Vec::new());
    };
    let state = state_of(service);
    Ok(vec![Observed {
        id,
        kind: Kind::Service,
        aws_id: service.service_arn().unwrap_or_default().to_owned(),
        arn: service.service_arn().map(str::to_owned),
        state: format!(
            "{}: {}/{} running, {} pending{}",
            state.status,
            state.running_count,
            state.desired_count,
            state.pending_count,
            if state.rollout.is_empty() {
                String::new()
            } else {
                format!(", rollout {}", state.rollout)
            }
        ),
        tags,
        detail: Detail::Service(state),
    }])
}

fn network(desired: &Service, refs: &Outputs, id: &str) -> Result<NetworkConfiguration> {
    let mut subnets = Vec::new();
    for s in &desired.subnets {
        subnets.push(resolve(refs, id, s)?.aws_id.clone());
    }
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(subnets))
        .security_groups(resolve(refs, id, &desired.security_group)?.aws_id.clone())
        .assign_public_ip(if desired.public_ip {
            AssignPublicIp::Enabled
        } else {
            AssignPublicIp::Disabled
        })
        .build()
        .map_err(|e| Error::unexpected(id, format!("network configuration: {e}")))?;
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc)
        .build())
}

fn load_balancer(desired: &Service, refs: &Outputs, id: &str) -> Result<EcsLoadBalancer> {
    Ok(EcsLoadBalancer::builder()
        .target_group_arn(resolve(refs, id, &desired.target_group)?.aws_id.clone())
        .container_name(&desired.container_name)
        .container_port(i32::from(desired.port))
        .build())
}

fn deployment(desired: &Service) -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(desired.rollback)
                .build(),
        )
        .minimum_healthy_percent(int(desired.min_healthy_percent))
        .maximum_percent(int(desired.max_percent))
        .build()
}

/// ECS checks that it can assume the roles and that the target group has a load balancer;
/// both can lag behind their creation by seconds.
fn is_propagation_lag(err: &Error) -> bool {
    if err.code() != Some("InvalidParameterException") {
        return false;
    }
    let text = crate::error_chain(err).to_lowercase();
    text.contains("assume")
        || text.contains("role")
        || text.contains("does not have an associated load balancer")
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &Service,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let cluster = resolve(refs, id, &desired.cluster)?.aws_id.clone();
    let td = resolve(refs, id, &desired.task_definition)?.aws_id.clone();
    let network = network(desired, refs, id)?;
    let lb = load_balancer(desired, refs, id)?;
    let note = |err: &Error| tracing::debug!(%err, "IAM or load balancer not visible to ECS yet; retrying");
    let out = crate::retry::retry_while(
        ctx.settings.consistency_timeout,
        &ctx.settings,
        is_propagation_lag,
        note,
        || async {
            ctx.ecs
                .create_service()
                .cluster(&cluster)
                .service_name(&desired.name)
                .task_definition(&td)
                .desired_count(int(desired.desired_count))
                .launch_type(LaunchType::Fargate)
                .network_configuration(network.clone())
                .load_balancers(lb.clone())
                .health_check_grace_period_seconds(int(desired.grace_secs))
                .deployment_configuration(deployment(desired))
                .propagate_tags(PropagateTags::Service)
                .set_tags(Some(ecs_tags(tags)))
                .send()
                .await
                .map_err(|e| Error::aws(id, "CreateService", e))
        },
    )
    .await?;
    let created = out
        .service()
        .ok_or_else(|| Error::unexpected(id, "CreateService returned no service"))?;
    let arn = created.service_arn().unwrap_or_default().to_owned();
    // Converge if the service did not come back as asked (an endpoint that drops settings on
    // create, as moto does with the deployment configuration): one UpdateService sets it all.
    let state = state_of(created);
    if !diff(desired, &state, refs).fields.is_empty() {
        send_update(ctx, id, &state.cluster_arn, &arn, desired, refs).await?;
    }
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: None,
    })
}

async fn send_update(
    ctx: &Context,
    id: &str,
    cluster: &str,
    service: &str,
    desired: &Service,
    refs: &Outputs,
) -> Result<()> {
    let td = resolve(refs, id, &desired.task_definition)?.aws_id.clone();
    ctx.ecs
        .update_service()
        .cluster(cluster)
        .service(service)
        .task_definition(td)
        .desired_count(int(desired.desired_count))
        .network_configuration(network(desired, refs, id)?)
        .load_balancers(load_balancer(desired, refs, id)?)
        .health_check_grace_period_seconds(int(desired.grace_secs))
        .deployment_configuration(deployment(desired))
        .send()
        .await
        .map_err(|e| Error::aws(id, "UpdateService", e))?;
    Ok(())
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Service,
    state: &ServiceState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    send_update(
        ctx,
        &observed.id,
        &state.cluster_arn,
        &observed.aws_id,
        desired,
        refs,
    )
    .await?;
    super::cluster::retag(ctx, observed, tags).await
}

/// Scales to zero, deletes, and waits until ECS reports the service inactive (its tasks gone,
/// so the subnets and security groups can go next).
pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    state: &ServiceState,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let id = &observed.id;
    if state.desired_count > 0 {
        match ctx
            .ecs
            .update_service()
            .cluster(&state.cluster_arn)
            .service(&observed.aws_id)
            .desired_count(0)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if is_gone(&e) => return Ok(()),
            Err(e) => return Err(Error::aws(id, "UpdateService (scale to zero)", e)),
        }
    }
    match ctx
        .ecs
        .delete_service()
        .cluster(&state.cluster_arn)
        .service(&observed.aws_id)
        .force(true)
        .send()
        .await
    {
        Ok(_) => {}
        Err(e) if is_gone(&e) => return Ok(()),
        Err(e) => return Err(Error::aws(id, "DeleteService", e)),
    }
    on_wait("waiting for the service's tasks to drain".into());
    super::rollout::wait_inactive(ctx, &state.cluster_arn, &observed.aws_id, id).await
}
