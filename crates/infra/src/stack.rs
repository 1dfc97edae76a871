//! From a validated [`StackSpec`] to the list of desired resources with their logical ids and
//! dependencies: the one place that says what a stack is made of.

use crate::resources::iam::{InlineQueuePolicy, Role, TASK_EXECUTION_POLICY};
use crate::resources::listener::{DefaultAction, Listener};
use crate::resources::route_table::{RouteTable, Target};
use crate::resources::security_group::{Ingress, SecurityGroup, Source};
use crate::resources::sqs::{DEAD_LETTER_RETENTION_SECS, Queue, Redrive};
use crate::resources::{
    Desired, Spec, cluster, ecr, load_balancer, logs, nat, service, subnet, target_group,
    task_definition, vpc,
};
use crate::spec::StackSpec;
use crate::tags;

pub const VPC: &str = "vpc";
pub const INTERNET_GATEWAY: &str = "internet-gateway";
pub const PUBLIC_ROUTE_TABLE: &str = "public-route-table";
pub const PRIVATE_ROUTE_TABLE: &str = "private-route-table";
pub const NAT_EIP: &str = "nat-eip";
pub const NAT_GATEWAY: &str = "nat-gateway";
pub const ALB_SECURITY_GROUP: &str = "alb-security-group";
pub const SERVICE_SECURITY_GROUP: &str = "service-security-group";
pub const DEAD_LETTER_QUEUE: &str = "dead-letter-queue";
pub const QUEUE: &str = "queue";
pub const REPOSITORY: &str = "repository";
pub const EXECUTION_ROLE: &str = "execution-role";
pub const TASK_ROLE: &str = "task-role";
pub const LOG_GROUP: &str = "log-group";
pub const LOAD_BALANCER: &str = "load-balancer";
pub const TARGET_GROUP: &str = "target-group";
pub const HTTP_LISTENER: &str = "http-listener";
pub const HTTPS_LISTENER: &str = "https-listener";
pub const CLUSTER: &str = "cluster";
pub const TASK_DEFINITION: &str = "task-definition";
pub const SERVICE: &str = "service";
pub const IMAGE: &str = "image";

pub fn public_subnet(zone: usize) -> String {
    format!("public-subnet-{}", zone + 1)
}

pub fn private_subnet(zone: usize) -> String {
    format!("private-subnet-{}", zone + 1)
}

struct Builder<'a> {
    spec: &'a StackSpec,
    out: Vec<Desired>,
}

impl Builder<'_> {
    /// Adds a resource; EC2 kinds get a `Name` tag (`<stack>-<id>`) for the console.
    fn add(&mut self, id: &str, deps: &[&str], spec: Spec) {
        let ec2 = matches!(
            spec,
            Spec::Vpc(_)
                | Spec::InternetGateway(_)
                | Spec::Subnet(_)
                | Spec::RouteTable(_)
                | Spec::ElasticIp(_)
                | Spec::NatGateway(_)
                | Spec::SecurityGroup(_)
        );
        let name = format!("{}-{id}", self.spec.name);
        let mut tags = self.spec.tags.clone();
        tags.extend(tags::managed(
            &self.spec.name,
            id,
            ec2.then_some(name.as_str()),
        ));
        self.out.push(Desired {
            id: id.to_owned(),
            deps: deps.iter().map(|d| (*d).to_owned()).collect(),
            tags,
            spec,
        });
    }
}

/// Every resource of the stack. `zones` are the region's availability zones in name order.
pub fn desired(spec: &StackSpec, zones: &[String]) -> Vec<Desired> {
    let names = spec.names();
    let net = &spec.network;
    let mut b = Builder {
        spec,
        out: Vec::new(),
    };

    b.add(VPC, &[], Spec::Vpc(vpc::Vpc { cidr: net.cidr }));
    b.add(
        INTERNET_GATEWAY,
        &[VPC],
        Spec::InternetGateway(crate::resources::internet_gateway::InternetGateway {
            vpc: VPC.into(),
        }),
    );
    let zone_name = |i: usize| {
        zones
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("{}{}", spec.region, char::from(b'a' + (i as u8 % 26))))
    };
    let mut public_ids = Vec::new();
    let mut private_ids = Vec::new();
    for (i, cidr) in net.public_subnets.iter().enumerate() {
        let id = public_subnet(i);
        b.add(
            &id,
            &[VPC],
            Spec::Subnet(subnet::Subnet {
                vpc: VPC.into(),
                cidr: *cidr,
                zone: zone_name(i),
                public: true,
            }),
        );
        public_ids.push(id);
    }
    for (i, cidr) in net.private_subnets.iter().enumerate() {
        let id = private_subnet(i);
        b.add(
            &id,
            &[VPC],
            Spec::Subnet(subnet::Subnet {
                vpc: VPC.into(),
                cidr: *cidr,
                zone: zone_name(i),
                public: false,
            }),
        );
        private_ids.push(id);
    }

    let mut deps: Vec<&str> = vec![VPC, INTERNET_GATEWAY];
    deps.extend(public_ids.iter().map(String::as_str));
    b.add(
        PUBLIC_ROUTE_TABLE,
        &deps,
        Spec::RouteTable(RouteTable {
            vpc: VPC.into(),
            default_route: Some(Target::InternetGateway(INTERNET_GATEWAY.into())),
            subnets: public_ids.clone(),
        }),
    );

    let mut deps: Vec<&str> = vec![VPC];
    deps.extend(private_ids.iter().map(String::as_str));
    let default_route = if net.nat_gateway {
        let first_public = public_ids
            .first()
            .cloned()
            .unwrap_or_else(|| public_subnet(0));
        b.add(NAT_EIP, &[], Spec::ElasticIp(nat::ElasticIp));
        b.add(
            NAT_GATEWAY,
            &[&first_public, NAT_EIP, INTERNET_GATEWAY],
            Spec::NatGateway(nat::NatGateway {
                subnet: first_public.clone(),
                eip: NAT_EIP.into(),
            }),
        );
        deps.push(NAT_GATEWAY);
        Some(Target::NatGateway(NAT_GATEWAY.into()))
    } else {
        None
    };
    b.add(
        PRIVATE_ROUTE_TABLE,
        &deps,
        Spec::RouteTable(RouteTable {
            vpc: VPC.into(),
            default_route,
            subnets: private_ids.clone(),
        }),
    );

    b.add(
        ALB_SECURITY_GROUP,
        &[VPC],
        Spec::SecurityGroup(SecurityGroup {
            vpc: VPC.into(),
            name: format!("{}-alb", spec.name),
            description: format!(
                "stackctl {}: load balancer, HTTP and HTTPS from anywhere",
                spec.name
            ),
            ingress: [80, 443]
                .into_iter()
                .map(|port| Ingress {
                    port,
                    source: Source::Anywhere,
                    description: "HTTP(S) from anywhere".into(),
                })
                .collect(),
        }),
    );
    b.add(
        SERVICE_SECURITY_GROUP,
        &[VPC, ALB_SECURITY_GROUP],
        Spec::SecurityGroup(SecurityGroup {
            vpc: VPC.into(),
            name: format!("{}-service", spec.name),
            description: format!(
                "stackctl {}: service tasks, container port from the load balancer only",
                spec.name
            ),
            ingress: vec![Ingress {
                port: spec.service.port,
                source: Source::Group(ALB_SECURITY_GROUP.into()),
                description: "from the load balancer".into(),
            }],
        }),
    );

    b.add(
        DEAD_LETTER_QUEUE,
        &[],
        Spec::Queue(Queue {
            name: names.dead_letter_queue.clone(),
            visibility_timeout_secs: spec.queue.visibility_timeout_secs,
            message_retention_secs: DEAD_LETTER_RETENTION_SECS,
            receive_wait_secs: 0,
            redrive: None,
        }),
    );
    b.add(
        QUEUE,
        &[DEAD_LETTER_QUEUE],
        Spec::Queue(Queue {
            name: names.queue.clone(),
            visibility_timeout_secs: spec.queue.visibility_timeout_secs,
            message_retention_secs: spec.queue.message_retention_secs,
            receive_wait_secs: spec.queue.receive_wait_secs,
            redrive: Some(Redrive {
                dead_letter_queue: DEAD_LETTER_QUEUE.into(),
                max_receives: spec.queue.dead_letter_max_receives,
            }),
        }),
    );
    b.add(
        REPOSITORY,
        &[],
        Spec::Repository(ecr::Repository {
            name: names.repository.clone(),
            scan_on_push: spec.registry.scan_on_push,
            keep_images: spec.registry.keep_images,
        }),
    );
    b.add(
        EXECUTION_ROLE,
        &[],
        Spec::Role(Role {
            name: names.execution_role.clone(),
            description: format!(
                "stackctl {}: lets ECS pull the image and write logs",
                spec.name
            ),
            managed_policies: vec![TASK_EXECUTION_POLICY.into()],
            queue_policy: None,
        }),
    );
    b.add(
        TASK_ROLE,
        &[QUEUE],
        Spec::Role(Role {
            name: names.task_role.clone(),
            description: format!(
                "stackctl {}: the service's own permissions (its queue only)",
                spec.name
            ),
            managed_policies: Vec::new(),
            queue_policy: Some(InlineQueuePolicy {
                queue: QUEUE.into(),
            }),
        }),
    );
    b.add(
        LOG_GROUP,
        &[],
        Spec::LogGroup(logs::LogGroup {
            name: names.log_group.clone(),
            retention_days: spec.logs.retention_days,
        }),
    );
    let image = match (&spec.service.image, &spec.service.build) {
        (Some(image), _) => Some(task_definition::ImageRef::Given(image.clone())),
        (None, Some(build)) => {
            // Images carry no tags: it is found by its repository and content-derived tag.
            b.out.push(Desired {
                id: IMAGE.into(),
                deps: vec![REPOSITORY.into()],
                tags: Default::default(),
                spec: Spec::Image(crate::resources::image::Image {
                    repository: REPOSITORY.into(),
                    tag: build.tag.clone(),
                    context: build.context.clone(),
                    dockerfile: build.dockerfile.clone(),
                }),
            });
            Some(task_definition::ImageRef::Built(IMAGE.into()))
        }
        (None, None) => None,
    };
    if let Some(image) = image {
        add_service(&mut b, image, &public_ids, &private_ids);
    }
    b.out
}

/// The load balancer and the ECS service: part of the stack once there is an image to run.
fn add_service(
    b: &mut Builder<'_>,
    image: task_definition::ImageRef,
    public_ids: &[String],
    private_ids: &[String],
) {
    let spec = b.spec;
    let names = spec.names();
    let svc = &spec.service;
    b.add(
        TARGET_GROUP,
        &[VPC],
        Spec::TargetGroup(target_group::TargetGroup {
            name: names.target_group.clone(),
            vpc: VPC.into(),
            port: svc.port,
            health_check_path: svc.health_check_path.clone(),
            interval_secs: svc.health_check_interval_secs,
            healthy_threshold: svc.healthy_threshold,
            unhealthy_threshold: svc.unhealthy_threshold,
            deregistration_delay_secs: svc.deregistration_delay_secs,
        }),
    );
    // An internet-facing load balancer needs the gateway attached first.
    let mut deps: Vec<&str> = vec![ALB_SECURITY_GROUP, INTERNET_GATEWAY];
    deps.extend(public_ids.iter().map(String::as_str));
    b.add(
        LOAD_BALANCER,
        &deps,
        Spec::LoadBalancer(load_balancer::LoadBalancer {
            name: names.load_balancer.clone(),
            subnets: public_ids.to_vec(),
            security_group: ALB_SECURITY_GROUP.into(),
        }),
    );
    let mut listeners = vec![HTTP_LISTENER];
    match &svc.certificate_arn {
        None => b.add(
            HTTP_LISTENER,
            &[LOAD_BALANCER, TARGET_GROUP],
            Spec::Listener(Listener {
                load_balancer: LOAD_BALANCER.into(),
                port: 80,
                certificate_arn: None,
                action: DefaultAction::Forward(TARGET_GROUP.into()),
            }),
        ),
        Some(certificate) => {
            b.add(
                HTTPS_LISTENER,
                &[LOAD_BALANCER, TARGET_GROUP],
                Spec::Listener(Listener {
                    load_balancer: LOAD_BALANCER.into(),
                    port: 443,
                    certificate_arn: Some(certificate.clone()),
                    action: DefaultAction::Forward(TARGET_GROUP.into()),
                }),
            );
            b.add(
                HTTP_LISTENER,
                &[LOAD_BALANCER],
                Spec::Listener(Listener {
                    load_balancer: LOAD_BALANCER.into(),
                    port: 80,
                    certificate_arn: None,
                    action: DefaultAction::RedirectToHttps,
                }),
            );
            listeners.push(HTTPS_LISTENER);
        }
    }
    b.add(
        CLUSTER,
        &[],
        Spec::Cluster(cluster::Cluster {
            name: names.cluster.clone(),
        }),
    );
    let mut td_deps = vec![EXECUTION_ROLE, TASK_ROLE, LOG_GROUP, QUEUE];
    if matches!(image, task_definition::ImageRef::Built(_)) {
        td_deps.push(IMAGE);
    }
    b.add(
        TASK_DEFINITION,
        &td_deps,
        Spec::TaskDefinition(task_definition::TaskDefinition {
            family: names.task_family.clone(),
            image: image.clone(),
            cpu: svc.cpu,
            memory: svc.memory,
            port: svc.port,
            environment: svc.environment.clone(),
            queue: QUEUE.into(),
            log_group: LOG_GROUP.into(),
            log_group_name: names.log_group.clone(),
            region: spec.region.clone(),
            execution_role: EXECUTION_ROLE.into(),
            task_role: TASK_ROLE.into(),
        }),
    );
    // Tasks need a way out to pull the image: public subnets with a public IP, or private
    // ones behind the NAT gateway.
    let (subnets, route_table) = if spec.network.nat_gateway {
        (private_ids, PRIVATE_ROUTE_TABLE)
    } else {
        (public_ids, PUBLIC_ROUTE_TABLE)
    };
    let mut deps: Vec<&str> = vec![
        CLUSTER,
        TASK_DEFINITION,
        TARGET_GROUP,
        SERVICE_SECURITY_GROUP,
        route_table,
    ];
    deps.extend(listeners);
    deps.extend(subnets.iter().map(String::as_str));
    b.add(
        SERVICE,
        &deps,
        Spec::Service(service::Service {
            name: names.service.clone(),
            cluster: CLUSTER.into(),
            task_definition: TASK_DEFINITION.into(),
            desired_count: svc.desired_count,
            target_group: TARGET_GROUP.into(),
            container_name: task_definition::CONTAINER.into(),
            port: svc.port,
            subnets: subnets.to_vec(),
            security_group: SERVICE_SECURITY_GROUP.into(),
            public_ip: !spec.network.nat_gateway,
            grace_secs: svc.health_check_grace_secs,
            min_healthy_percent: svc.min_healthy_percent,
            max_percent: svc.max_percent,
            rollback: svc.rollback,
        }),
    );
}

/// The outputs a user wants from a stack, by name, from the resources' outputs.
pub fn named_outputs(outputs: &crate::resources::Outputs) -> Vec<(&'static str, String)> {
    let id = |key: &str| outputs.get(key).map(|o| o.aws_id.clone());
    let arn = |key: &str| outputs.get(key).and_then(|o| o.arn.clone());
    let url = |key: &str| outputs.get(key).and_then(|o| o.url.clone());
    let list = |prefix: &str| {
        let ids: Vec<String> = outputs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, o)| o.aws_id.clone())
            .collect();
        (!ids.is_empty()).then(|| ids.join(", "))
    };
    [
        ("vpc_id", id(VPC)),
        ("public_subnet_ids", list("public-subnet-")),
        ("private_subnet_ids", list("private-subnet-")),
        ("alb_security_group_id", id(ALB_SECURITY_GROUP)),
        ("service_security_group_id", id(SERVICE_SECURITY_GROUP)),
        ("nat_gateway_id", id(NAT_GATEWAY)),
        ("queue_url", url(QUEUE)),
        ("queue_arn", arn(QUEUE)),
        ("dead_letter_queue_url", url(DEAD_LETTER_QUEUE)),
        ("repository_uri", url(REPOSITORY)),
        ("execution_role_arn", arn(EXECUTION_ROLE)),
        ("task_role_arn", arn(TASK_ROLE)),
        ("log_group", id(LOG_GROUP)),
        ("load_balancer_url", url(LOAD_BALANCER)),
        ("cluster_arn", arn(CLUSTER)),
        ("task_definition_arn", arn(TASK_DEFINITION)),
        ("service_arn", arn(SERVICE)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;

    fn zones() -> Vec<String> {
        vec![
            "us-east-1a".into(),
            "us-east-1b".into(),
            "us-east-1c".into(),
        ]
    }

    #[test]
    fn the_default_stack_has_sixteen_resources_in_a_valid_graph() {
        let resources = desired(&StackSpec::minimal("s"), &zones());
        assert_eq!(resources.len(), 16);
        let graph =
            Graph::new(resources.iter().map(|r| (r.id.as_str(), r.deps.as_slice()))).unwrap();
        let order = graph.order();
        let pos = |id: &str| order.iter().position(|x| x == id).unwrap();
        assert!(pos(VPC) < pos("public-subnet-1"));
        assert!(pos(INTERNET_GATEWAY) < pos(PUBLIC_ROUTE_TABLE));
        assert!(pos(ALB_SECURITY_GROUP) < pos(SERVICE_SECURITY_GROUP));
        assert!(pos(DEAD_LETTER_QUEUE) < pos(QUEUE) && pos(QUEUE) < pos(TASK_ROLE));
    }

    #[test]
    fn every_resource_is_tagged_with_the_stack_and_its_id() {
        for r in desired(&StackSpec::minimal("s"), &zones()) {
            assert_eq!(r.tags[tags::STACK_TAG], "s");
            assert_eq!(r.tags[tags::ID_TAG], r.id);
        }
    }

    #[test]
    fn a_nat_gateway_adds_an_address_and_a_private_default_route() {
        let mut spec = StackSpec::minimal("s");
        spec.network.nat_gateway = true;
        let resources = desired(&spec, &zones());
        assert_eq!(resources.len(), 18);
        let private = resources
            .iter()
            .find(|r| r.id == PRIVATE_ROUTE_TABLE)
            .unwrap();
        assert!(private.deps.contains(&NAT_GATEWAY.to_owned()));
        let Spec::RouteTable(rt) = &private.spec else {
            panic!()
        };
        assert_eq!(
            rt.default_route,
            Some(Target::NatGateway(NAT_GATEWAY.into()))
        );
    }

    #[test]
    fn subnets_are_spread_over_zones_in_order() {
        let resources = desired(&StackSpec::minimal("s"), &zones());
        let zone_of = |id: &str| match &resources.iter().find(|r| r.id == id).unwrap().spec {
            Spec::Subnet(s) => s.zone.clone(),
            _ => panic!(),
        };
        assert_eq!(zone_of("public-subnet-1"), "us-east-1a");
        assert_eq!(zone_of("public-subnet-2"), "us-east-1b");
        assert_eq!(zone_of("private-subnet-2"), "us-east-1b");
    }

    #[test]
    fn an_image_adds_the_load_balancer_and_the_service_in_order() {
        let mut spec = StackSpec::minimal("s");
        spec.service.image = Some("repo/app:1".into());
        let resources = desired(&spec, &zones());
        assert_eq!(resources.len(), 22);
        let graph =
            Graph::new(resources.iter().map(|r| (r.id.as_str(), r.deps.as_slice()))).unwrap();
        let pos = |id: &str| graph.order().iter().position(|x| x == id).unwrap();
        assert!(
            pos(HTTP_LISTENER) < pos(SERVICE),
            "the listener exists before the service"
        );
        assert!(pos(INTERNET_GATEWAY) < pos(LOAD_BALANCER));
        assert!(pos(TASK_DEFINITION) < pos(SERVICE) && pos(QUEUE) < pos(TASK_DEFINITION));
        let service = resources.iter().find(|r| r.id == SERVICE).unwrap();
        let Spec::Service(s) = &service.spec else {
            panic!()
        };
        assert!(
            s.public_ip && s.subnets[0].starts_with("public"),
            "no NAT: public subnets with a public IP"
        );

        spec.network.nat_gateway = true;
        spec.service.certificate_arn = Some("arn:aws:acm:us-east-1:1:certificate/x".into());
        let resources = desired(&spec, &zones());
        let service = resources.iter().find(|r| r.id == SERVICE).unwrap();
        let Spec::Service(s) = &service.spec else {
            panic!()
        };
        assert!(!s.public_ip && s.subnets[0].starts_with("private"));
        assert!(resources.iter().any(|r| r.id == HTTPS_LISTENER));
    }
}
