//! A running service's autoscaling: its scalable target and one target-tracking policy per
//! metric its `autoscaling` table names.

use super::builder::Builder;
use super::ids::{LOAD_BALANCER, ServiceIds};
use crate::resources::Spec;
use crate::resources::scalable_target::ScalableTarget;
use crate::resources::scaling_policy::{Metric, ScalingPolicy};
use crate::stack_file::ServiceSpec;

/// The logical id of a service's scalable target.
pub fn target_id(service: &str) -> String {
    format!("scalable-target-{service}")
}

pub(super) fn add(b: &mut Builder<'_>, service: &ServiceSpec) {
    let Some(a) = &service.autoscaling else {
        return;
    };
    let ids = ServiceIds::of(service);
    let ecs_name = b.names.service(&service.name).service;
    let resource_id = format!("service/{}/{ecs_name}", b.names.cluster);
    let target = target_id(&service.name);
    b.add(
        &target,
        Spec::ScalableTarget(ScalableTarget {
            resource_id: resource_id.clone(),
            service: ids.service.clone(),
            min: a.min,
            max: a.max,
        }),
        &[],
    );
    let backlog = a
        .backlog_per_task
        .zip(a.queue.as_ref())
        .map(|(per_task, queue)| {
            let metric = Metric::Backlog {
                queue: b.names.queue(queue).0,
                cluster: b.names.cluster.clone(),
                service: ecs_name.clone(),
            };
            ("backlog", metric, per_task)
        });
    let requests = a.requests_per_target.map(|per_target| {
        let metric = Metric::Requests {
            load_balancer: LOAD_BALANCER.into(),
            target_group: ids.target_group.clone(),
        };
        ("requests", metric, per_target)
    });
    let cpu = a.cpu.map(|percent| ("cpu", Metric::Cpu, percent));
    for (suffix, metric, target_value) in [cpu, requests, backlog].into_iter().flatten() {
        let policy = ScalingPolicy {
            name: format!("{}-{}-{suffix}", b.names.stack, service.name),
            target: target.clone(),
            resource_id: resource_id.clone(),
            metric,
            target_value,
            scale_in_cooldown_secs: a.scale_in_cooldown_secs,
            scale_out_cooldown_secs: a.scale_out_cooldown_secs,
        };
        let id = format!("scaling-policy-{}-{suffix}", service.name);
        b.add(&id, Spec::ScalingPolicy(policy), &[]);
    }
}
