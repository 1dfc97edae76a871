//! The service: its image (built and pushed, or given), the load balancer with its target
//! group and listeners, the ECS cluster, the task definition and the Fargate service. They
//! are part of the stack once there is an image to run.

use super::builder::Builder;
use super::ids::{
    ALB_SECURITY_GROUP, CLUSTER, EXECUTION_ROLE, HTTP_LISTENER, HTTPS_LISTENER, IMAGE,
    INTERNET_GATEWAY, LOAD_BALANCER, LOG_GROUP, PRIVATE_ROUTE_TABLE, PUBLIC_ROUTE_TABLE, QUEUE,
    REPOSITORY, SERVICE, SERVICE_SECURITY_GROUP, TARGET_GROUP, TASK_DEFINITION, TASK_ROLE, VPC,
};
use super::network::Subnets;
use crate::resources::Spec;
use crate::resources::cluster::Cluster;
use crate::resources::image::Image;
use crate::resources::listener::{DefaultAction, Listener};
use crate::resources::load_balancer::LoadBalancer;
use crate::resources::service::Service;
use crate::resources::target_group::TargetGroup;
use crate::resources::task_definition::{CONTAINER, ImageRef, TaskDefinition};

/// Where the service's image comes from, adding the image to build when there is one.
pub(super) fn image(b: &mut Builder<'_>) -> Option<ImageRef> {
    let service = &b.spec.service;
    match (&service.image, &service.build) {
        (Some(image), _) => Some(ImageRef::Given(image.clone())),
        (None, Some(build)) => {
            let image = Image {
                repository: REPOSITORY.into(),
                repository_name: b.names.repository.clone(),
                tag: build.tag.clone(),
                context: build.context.clone(),
                dockerfile: build.dockerfile.clone(),
            };
            b.add(IMAGE, Spec::Image(image), &[]);
            Some(ImageRef::Built(IMAGE.into()))
        }
        (None, None) => None,
    }
}

pub(super) fn add(b: &mut Builder<'_>, image: ImageRef, subnets: &Subnets) {
    let listeners = load_balancing(b, subnets);
    let cluster = Cluster {
        name: b.names.cluster.clone(),
    };
    b.add(CLUSTER, Spec::Cluster(cluster), &[]);
    let (spec, names) = (b.spec, b.names.clone());
    let svc = &spec.service;
    let task_definition = TaskDefinition {
        family: names.task_family.clone(),
        image,
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
    };
    b.add(TASK_DEFINITION, Spec::TaskDefinition(task_definition), &[]);
    // Tasks need a way out to pull the image: public subnets with a public IP, or private
    // ones behind the NAT gateway.
    let (subnets, route_table) = if spec.network.nat_gateway {
        (&subnets.private, PRIVATE_ROUTE_TABLE)
    } else {
        (&subnets.public, PUBLIC_ROUTE_TABLE)
    };
    let service = Service {
        name: names.service.clone(),
        cluster: CLUSTER.into(),
        task_definition: TASK_DEFINITION.into(),
        desired_count: svc.desired_count,
        target_group: TARGET_GROUP.into(),
        container_name: CONTAINER.into(),
        port: svc.port,
        subnets: subnets.clone(),
        security_group: SERVICE_SECURITY_GROUP.into(),
        public_ip: !spec.network.nat_gateway,
        grace_secs: svc.health_check_grace_secs,
        min_healthy_percent: svc.min_healthy_percent,
        max_percent: svc.max_percent,
        rollback: svc.rollback,
    };
    // Registering in the target group needs a listener on it; tasks need their route out.
    let mut after = vec![route_table];
    after.extend(listeners);
    b.add(SERVICE, Spec::Service(service), &after);
}

/// The target group, the load balancer and its listeners; returns the listeners' ids.
fn load_balancing(b: &mut Builder<'_>, subnets: &Subnets) -> Vec<&'static str> {
    let (svc, names) = (&b.spec.service, b.names.clone());
    let target_group = TargetGroup {
        name: names.target_group.clone(),
        vpc: VPC.into(),
        port: svc.port,
        health_check_path: svc.health_check_path.clone(),
        interval_secs: svc.health_check_interval_secs,
        healthy_threshold: svc.healthy_threshold,
        unhealthy_threshold: svc.unhealthy_threshold,
        deregistration_delay_secs: svc.deregistration_delay_secs,
    };
    let certificate = svc.certificate_arn.clone();
    b.add(TARGET_GROUP, Spec::TargetGroup(target_group), &[]);
    let load_balancer = LoadBalancer {
        name: names.load_balancer.clone(),
        subnets: subnets.public.clone(),
        security_group: ALB_SECURITY_GROUP.into(),
    };
    // An internet-facing load balancer needs the gateway attached first.
    b.add(
        LOAD_BALANCER,
        Spec::LoadBalancer(load_balancer),
        &[INTERNET_GATEWAY],
    );
    let forward = |port, certificate_arn| Listener {
        load_balancer: LOAD_BALANCER.into(),
        port,
        certificate_arn,
        action: DefaultAction::Forward(TARGET_GROUP.into()),
    };
    match certificate {
        None => {
            b.add(HTTP_LISTENER, Spec::Listener(forward(80, None)), &[]);
            vec![HTTP_LISTENER]
        }
        Some(certificate) => {
            b.add(
                HTTPS_LISTENER,
                Spec::Listener(forward(443, Some(certificate))),
                &[],
            );
            let redirect = Listener {
                load_balancer: LOAD_BALANCER.into(),
                port: 80,
                certificate_arn: None,
                action: DefaultAction::RedirectToHttps,
            };
            b.add(HTTP_LISTENER, Spec::Listener(redirect), &[]);
            vec![HTTP_LISTENER, HTTPS_LISTENER]
        }
    }
}
