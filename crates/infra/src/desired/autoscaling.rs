//! A running service's autoscaling: its scalable target and one target-tracking policy per
//! metric its `autoscaling` table names.

use super::builder::Builder;
use crate::id::{ResourceId, ServiceIds};
use crate::resources::Spec;
use crate::resources::scalable_target::ScalableTarget;
use crate::resources::scaling_policy::{Metric, ScalingPolicy};
use crate::stack_file::ServiceSpec;

pub(super) fn add(b: &mut Builder<'_>, service: &ServiceSpec) {
    let Some(a) = &service.autoscaling else {
        return;
    };
    let ids = ServiceIds::named(&service.name);
    let ecs_name = b.names.service(&service.name).service;
    let resource_id = format!("service/{}/{ecs_name}", b.names.cluster);
    let target = ResourceId::scalable_target(&service.name);
    b.add(
        target.clone(),
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
            load_balancer: ResourceId::LOAD_BALANCER,
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
        let id = ResourceId::scaling_policy(&service.name, suffix);
        b.add(id, Spec::ScalingPolicy(policy), &[]);
    }
}
