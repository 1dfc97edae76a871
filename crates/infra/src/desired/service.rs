//! The services: for each, its security group and roles; and once it has an image (built
//! and pushed, or given), its task definition and Fargate service, with its target group and
//! listener rule (web) or its service discovery entry (internal). The load balancer, the
//! cluster and the namespace are added once, for all.

use std::collections::BTreeMap;

use super::builder::Builder;
use super::load_balancing;
use super::network::Subnets;
use crate::id::{ResourceId, ServiceIds, queue_ids};
use crate::resources::Spec;
use crate::resources::cluster::Cluster;
use crate::resources::discovery_service::DiscoveryService;
use crate::resources::image::Image;
use crate::resources::namespace::{Namespace, domain};
use crate::resources::role::{self, Role, Statement, Target};
use crate::resources::security_group::{Ingress, SecurityGroup, Source};
use crate::resources::service::Service;
use crate::resources::task_definition::{CONTAINER, ImageRef, TaskDefinition};
use crate::stack_file::{ServiceKind, ServiceSpec, rule_order};

pub(super) fn add(b: &mut Builder<'_>, subnets: &Subnets) {
    let spec = b.spec;
    for service in &spec.services {
        security_group(b, service);
        roles(b, service);
    }
    let running: Vec<&ServiceSpec> = spec.services.iter().filter(|s| runs(b, s)).collect();
    if running.is_empty() {
        return;
    }
    b.add(
        ResourceId::CLUSTER,
        Spec::Cluster(Cluster {
            name: b.names.cluster.clone(),
            // The running-task count a backlog policy divides by comes from it.
            insights: running.iter().any(|s| {
                s.autoscaling
                    .as_ref()
                    .is_some_and(|a| a.backlog_per_task.is_some())
            }),
        }),
        &[],
    );
    let listener = spec
        .default_web()
        .filter(|d| runs(b, d))
        .map(|default| load_balancing::add(b, subnets, default));
    let mut ruled: Vec<&&ServiceSpec> = running
        .iter()
        .filter(|s| s.kind == ServiceKind::Web && !s.route.is_default())
        .collect();
    ruled.sort_by(|a, b| rule_order(&a.route, &a.name).cmp(&rule_order(&b.route, &b.name)));
    for (priority, service) in (1..).zip(&ruled) {
        if let Some(listener) = &listener {
            load_balancing::rule(b, listener, service, priority);
        }
    }
    if running.iter().any(|s| s.kind == ServiceKind::Internal) {
        let namespace = Namespace {
            name: domain(&spec.name),
            vpc: ResourceId::VPC,
        };
        b.add(ResourceId::NAMESPACE, Spec::Namespace(namespace), &[]);
    }
    let mut images = BTreeMap::new();
    for service in running {
        let image = image(b, service, &mut images);
        task_definition(b, service, image);
        ecs_service(b, service, subnets, listener.as_ref());
    }
}

/// True when the service is deployed: it has an image, and a web service has the load
/// balancer (its default service has an image too).
fn runs(b: &Builder<'_>, service: &ServiceSpec) -> bool {
    let has_image = |s: &ServiceSpec| s.image.is_some() || s.build.is_some();
    has_image(service)
        && (service.kind != ServiceKind::Web || b.spec.default_web().is_some_and(has_image))
}

/// Where the service's image comes from, adding the image to build (once for the services
/// built from the same Dockerfile and context).
fn image(
    b: &mut Builder<'_>,
    service: &ServiceSpec,
    built: &mut BTreeMap<(std::path::PathBuf, std::path::PathBuf), ResourceId>,
) -> ImageRef {
    // Only services with an image or a build run (`runs`).
    let build = match (&service.image, &service.build) {
        (Some(image), _) => return ImageRef::Given(image.clone()),
        (None, Some(build)) => build,
        (None, None) => return ImageRef::Given(String::new()),
    };
    let key = (build.context.clone(), build.dockerfile.clone());
    if let Some(id) = built.get(&key) {
        return ImageRef::Built(id.clone());
    }
    let id = ServiceIds::named(&service.name).image;
    let image = Image {
        repository: ResourceId::REPOSITORY,
        repository_name: b.names.repository.clone(),
        tag: build.tag.clone(),
        context: build.context.clone(),
        dockerfile: build.dockerfile.clone(),
    };
    b.add(id.clone(), Spec::Image(image), &[]);
    built.insert(key, id.clone());
    ImageRef::Built(id)
}

/// The service's own group: a web service admits its port from the load balancer, an
/// internal one from the stack's tasks, a worker nothing.
fn security_group(b: &mut Builder<'_>, service: &ServiceSpec) {
    let stack = &b.spec.name;
    let (source, from) = match service.kind {
        ServiceKind::Web => (Some(ResourceId::ALB_SECURITY_GROUP), "the load balancer"),
        ServiceKind::Internal => (
            Some(ResourceId::SERVICES_SECURITY_GROUP),
            "the stack's services",
        ),
        ServiceKind::Worker => (None, "nowhere"),
    };
    let description = if service.is_single() && service.kind == ServiceKind::Web {
        // The group's description cannot change: the one-service stack keeps its words.
        format!("stackctl {stack}: service tasks, container port from the load balancer only")
    } else {
        format!(
            "stackctl {stack}: {} tasks, container port from {from} only",
            service.name
        )
    };
    let ingress = match (service.port, source) {
        (Some(port), Some(source)) => vec![Ingress {
            port,
            source: Source::Group(source),
            description: format!("from {from}"),
        }],
        _ => Vec::new(),
    };
    let group = SecurityGroup {
        vpc: ResourceId::VPC,
        name: b.names.service(&service.name).security_group,
        description,
        ingress,
    };
    b.add(
        ServiceIds::named(&service.name).security_group,
        Spec::SecurityGroup(group),
        &[],
    );
}

/// The task role (exactly its queues, to send or consume), and an execution role of its own
/// when it has secrets (reading exactly those).
fn roles(b: &mut Builder<'_>, service: &ServiceSpec) {
    let (spec, ids) = (b.spec, ServiceIds::named(&service.name));
    let names = b.names.service(&service.name);
    let mut policy = Vec::new();
    for queue in &spec.queues {
        let mut actions: Vec<&'static str> = Vec::new();
        if service.sends_to.contains(&queue.name) {
            actions.extend(role::SEND_ACTIONS);
        }
        if service.consumes.contains(&queue.name) {
            actions.extend(role::CONSUME_ACTIONS);
        }
        actions.sort_unstable();
        actions.dedup();
        if !actions.is_empty() {
            policy.push(Statement {
                actions,
                target: Target::Resource(queue_ids(&queue.name).0),
            });
        }
    }
    let (statements, buckets) = bucket_access(b, service);
    policy.extend(statements);
    let task = Role {
        name: names.task_role,
        // Buckets are named only where there are some: other roles keep the words they were
        // made with.
        description: format!(
            "stackctl {}: the {} service's own permissions (its {} only)",
            spec.name,
            service.name,
            ["queues and buckets", "queues"][usize::from(buckets.is_empty())]
        ),
        managed_policies: Vec::new(),
        policy,
    };
    // Made after the buckets it names, so its tasks never start before their buckets exist.
    b.add(ids.task_role.clone(), Spec::Role(task), &buckets);
    if !service.secrets.is_empty() {
        execution_role(b, service);
    }
}

/// The execution role of a service with secrets: reading exactly those.
fn execution_role(b: &mut Builder<'_>, service: &ServiceSpec) {
    let (spec, ids) = (b.spec, ServiceIds::named(&service.name));
    let names = b.names.service(&service.name);
    let policy = service
        .secrets
        .values()
        .map(|arn| Statement {
            actions: if arn.contains(":ssm:") {
                role::SSM_ACTIONS.to_vec()
            } else {
                role::SECRETS_MANAGER_ACTIONS.to_vec()
            },
            target: Target::Arn(arn.clone()),
        })
        .collect();
    let execution = Role {
        name: names.execution_role,
        description: format!(
            "stackctl {}: lets ECS pull the {} image, write logs and read its secrets",
            spec.name, service.name
        ),
        managed_policies: vec![role::TASK_EXECUTION_POLICY.into()],
        policy,
    };
    b.add(ids.execution_role.clone(), Spec::Role(execution), &[]);
}

/// The buckets `service` reads or writes.
fn buckets_of<'s>(
    spec: &'s crate::stack_file::StackSpec,
    service: &ServiceSpec,
) -> impl Iterator<Item = &'s crate::stack_file::BucketSpec> {
    spec.buckets
        .iter()
        .filter(|bk| service.reads.contains(&bk.name) || service.writes.contains(&bk.name))
}

/// For each bucket the service reads or writes: listing it, and getting or putting (and
/// deleting) its objects; and the buckets' ids. A bucket's name is fixed by the file, so its
/// ARNs are known now.
fn bucket_access(b: &Builder<'_>, service: &ServiceSpec) -> (Vec<Statement>, Vec<ResourceId>) {
    let mut policy = Vec::new();
    let mut ids = Vec::new();
    for bucket in buckets_of(b.spec, service) {
        ids.push(crate::id::bucket_id(&bucket.name));
        let (reads, writes) = (
            service.reads.contains(&bucket.name),
            service.writes.contains(&bucket.name),
        );
        let arn = crate::resources::bucket::arn(&b.spec.region, &b.names.bucket(&bucket.name));
        policy.push(Statement {
            actions: role::BUCKET_ACTIONS.to_vec(),
            target: Target::Arn(arn.clone()),
        });
        let mut actions: Vec<&'static str> = Vec::new();
        if reads {
            actions.extend(role::READ_OBJECT_ACTIONS);
        }
        if writes {
            actions.extend(role::WRITE_OBJECT_ACTIONS);
        }
        actions.sort_unstable();
        actions.dedup();
        policy.push(Statement {
            actions,
            target: Target::Arn(format!("{arn}/*")),
        });
    }
    (policy, ids)
}

fn task_definition(b: &mut Builder<'_>, service: &ServiceSpec, image: ImageRef) {
    let (spec, ids) = (b.spec, ServiceIds::named(&service.name));
    let mut environment = service.environment.clone();
    // Who the service is: its metrics carry them as dimensions (`app`'s EMF lines).
    environment.insert("STACKCTL_STACK".into(), spec.name.clone());
    environment.insert("STACKCTL_SERVICE".into(), service.name.clone());
    for internal in spec
        .services
        .iter()
        .filter(|s| s.kind == ServiceKind::Internal)
    {
        let port = internal.port.unwrap_or(80);
        environment.insert(
            format!("SERVICE_URL_{}", internal.env_suffix()),
            format!("http://{}.{}:{port}", internal.name, domain(&spec.name)),
        );
    }
    for bucket in buckets_of(spec, service) {
        environment.insert(
            format!("S3_BUCKET_{}", crate::stack_file::env_suffix(&bucket.name)),
            b.names.bucket(&bucket.name),
        );
    }
    let queues = spec
        .queues
        .iter()
        .filter(|q| service.sends_to.contains(&q.name) || service.consumes.contains(&q.name))
        .map(|q| (crate::stack_file::env_suffix(&q.name), queue_ids(&q.name).0))
        .collect();
    let execution_role = if service.secrets.is_empty() {
        ResourceId::EXECUTION_ROLE
    } else {
        ids.execution_role.clone()
    };
    let task_definition = TaskDefinition {
        family: b.names.service(&service.name).task_family,
        image,
        cpu: service.cpu,
        memory: service.memory,
        port: service.port,
        environment,
        queues,
        secrets: service.secrets.clone(),
        command: service.command.clone(),
        log_group: ResourceId::LOG_GROUP,
        log_group_name: b.names.log_group.clone(),
        log_stream_prefix: service.name.clone(),
        region: spec.region.clone(),
        execution_role,
        task_role: ids.task_role.clone(),
    };
    b.add(
        ids.task_definition.clone(),
        Spec::TaskDefinition(task_definition),
        &[],
    );
}

fn ecs_service(
    b: &mut Builder<'_>,
    service: &ServiceSpec,
    subnets: &Subnets,
    listener: Option<&ResourceId>,
) {
    let (spec, ids) = (b.spec, ServiceIds::named(&service.name));
    // Tasks need a way out to pull the image: public subnets with a public IP, or private
    // ones behind the NAT gateway.
    let (subnets, route_table) = if spec.network.nat_gateway {
        (&subnets.private, ResourceId::PRIVATE_ROUTE_TABLE)
    } else {
        (&subnets.public, ResourceId::PUBLIC_ROUTE_TABLE)
    };
    let mut security_groups = vec![ids.security_group.clone()];
    if spec
        .services
        .iter()
        .any(|s| s.kind == ServiceKind::Internal)
    {
        security_groups.push(ResourceId::SERVICES_SECURITY_GROUP);
    }
    let web = service.kind == ServiceKind::Web;
    let internal = service.kind == ServiceKind::Internal;
    if internal {
        let discovery = DiscoveryService {
            name: service.name.clone(),
            namespace: ResourceId::NAMESPACE,
        };
        b.add(
            ids.discovery.clone(),
            Spec::DiscoveryService(discovery),
            &[],
        );
    }
    let ecs = Service {
        name: b.names.service(&service.name).service,
        cluster: ResourceId::CLUSTER,
        task_definition: ids.task_definition.clone(),
        desired_count: service.desired_count,
        autoscaled: service.autoscaling.is_some(),
        target_group: web.then(|| ids.target_group.clone()),
        discovery: internal.then(|| ids.discovery.clone()),
        container_name: CONTAINER.into(),
        port: service.port,
        subnets: subnets.clone(),
        security_groups,
        public_ip: !spec.network.nat_gateway,
        grace_secs: service.health_check_grace_secs,
        min_healthy_percent: service.min_healthy_percent,
        max_percent: service.max_percent,
        rollback: service.rollback,
    };
    let after = service_after(service, route_table, listener);
    b.add(ids.service.clone(), Spec::Service(ecs), &after);
    super::autoscaling::add(b, service);
}

/// What a service is made after for order alone: registering in a target group needs it
/// attached to the load balancer (by the listener, or the service's rule); tasks need their
/// route out.
fn service_after(
    service: &ServiceSpec,
    route_table: ResourceId,
    listener: Option<&ResourceId>,
) -> Vec<ResourceId> {
    let mut after = vec![route_table];
    if service.kind == ServiceKind::Web {
        after.extend(listener.cloned());
        if !service.route.is_default() {
            after.push(ServiceIds::named(&service.name).listener_rule);
        }
        if listener == Some(&ResourceId::HTTPS_LISTENER) {
            after.push(ResourceId::HTTP_LISTENER);
        }
    }
    after
}
