//! A target-tracking scaling policy of a service (Application Auto Scaling): hold average CPU,
//! requests per task (web services, from the load balancer), or a queue's backlog per running
//! task (metric math: visible messages / running tasks) at a target value. Named
//! `<stack>-<service>-<metric>`, on the service's scalable target.

use aws_sdk_applicationautoscaling::types::{PolicyType, ScalableDimension, ServiceNamespace};

mod tracking;

pub use tracking::{Tracked, Tracking, resource_label};
use tracking::{configuration, read_tracking};

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

/// What a policy tracks, as wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metric {
    Cpu,
    /// Requests per target of the target group behind the load balancer (logical ids).
    Requests {
        load_balancer: ResourceId,
        target_group: ResourceId,
    },
    /// Visible messages of the queue (its AWS name) per running task of the service.
    Backlog {
        queue: String,
        cluster: String,
        service: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingPolicy {
    pub name: String,
    /// The scalable target (logical id) it belongs to.
    pub target: ResourceId,
    pub resource_id: String,
    pub metric: Metric,
    pub target_value: u32,
    pub scale_in_cooldown_secs: u32,
    pub scale_out_cooldown_secs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalingPolicyState {
    pub resource_id: String,
    pub tracking: Option<Tracking>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Tracking { from: String, to: String },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Tracking { from, to } = self;
        FieldChange::new("tracking", from, to)
    }
}

/// `scaling-policy-<service>-<metric>` of a policy named `<stack>-<service>-<metric>`.
fn logical_id(stack: &str, name: &str) -> Option<ResourceId> {
    if !named::belongs(stack, name) {
        return None;
    }
    ResourceId::of_scaling_policy(stack, name)
}

impl ScalingPolicy {
    /// The tracking wanted, once the references are known (`None` before they exist).
    fn wanted(&self, refs: &Outputs) -> Option<Tracking> {
        let tracked = match &self.metric {
            Metric::Cpu => Tracked::Cpu,
            Metric::Requests {
                load_balancer,
                target_group,
            } => {
                let lb = Ref::new(refs, load_balancer, Attr::Arn).known?;
                let tg = Ref::new(refs, target_group, Attr::Arn).known?;
                Tracked::Requests {
                    label: resource_label(&lb, &tg)?,
                }
            }
            Metric::Backlog {
                queue,
                cluster,
                service,
            } => Tracked::Backlog {
                queue: queue.clone(),
                cluster: cluster.clone(),
                service: service.clone(),
            },
        };
        Some(Tracking {
            tracked,
            target_value: self.target_value,
            scale_in_cooldown_secs: self.scale_in_cooldown_secs,
            scale_out_cooldown_secs: self.scale_out_cooldown_secs,
        })
    }

    fn refs_of_metric(&self) -> Vec<&ResourceId> {
        match &self.metric {
            Metric::Requests {
                load_balancer,
                target_group,
            } => vec![load_balancer, target_group],
            _ => Vec::new(),
        }
    }
}

impl Resource for ScalingPolicy {
    type State = ScalingPolicyState;
    type Field = Field;
    const LABEL: &'static str = "scaling policy";
    // Policies carry no tags: found by their name on the stack's own targets.
    const TAGGING: Tagging = Tagging::None;

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs = vec![&self.target];
        refs.extend(self.refs_of_metric());
        refs
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let pages = aws::all(
            ctx.autoscaling
                .describe_scaling_policies()
                .service_namespace(ServiceNamespace::Ecs)
                .into_paginator()
                .send(),
            |e| Error::aws("scaling policies", "DescribeScalingPolicies", e),
        )
        .await?;
        let ours = super::scalable_target::prefix(&ctx.stack);
        Ok(pages
            .iter()
            .flat_map(|p| p.scaling_policies())
            .filter(|p| p.resource_id().starts_with(&ours))
            .filter_map(|p| {
                Some(Found {
                    id: logical_id(&ctx.stack, p.policy_name())?,
                    aws_id: p.policy_name().to_owned(),
                    arn: Some(p.policy_arn().to_owned()),
                    state: "active".into(),
                    tags: Tags::new(),
                    detail: ScalingPolicyState {
                        resource_id: p.resource_id().to_owned(),
                        tracking: p
                            .target_tracking_scaling_policy_configuration()
                            .map(read_tracking),
                    },
                })
            })
            .collect())
    }

    fn diff(&self, found: &ScalingPolicyState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        if found.resource_id != self.resource_id {
            diff.replace(format!("it scales {}", found.resource_id));
        }
        let show = |t: &Option<Tracking>| t.as_ref().map_or("(none)".into(), Tracking::to_string);
        let wanted = self.wanted(refs);
        match wanted {
            Some(_) if wanted == found.tracking => {}
            Some(_) => diff.push(Field::Tracking {
                from: show(&found.tracking),
                to: show(&wanted),
            }),
            // The load balancer or target group is made (or made anew) in this run.
            None => diff.push(Field::Tracking {
                from: show(&found.tracking),
                to: format!("(on the new {})", crate::id::joined(&self.refs_of_metric())),
            }),
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let arn = put(ctx, new.id, self, new.refs).await?;
        Ok(Output {
            aws_id: self.name.clone(),
            arn: Some(arn),
            url: None,
        })
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<ScalingPolicyState>,
        _: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        put(ctx, &found.id, self, refs).await?;
        Ok(Self::output(found))
    }

    async fn retag(_: &Context, _: &Found<ScalingPolicyState>, _: &Tags) -> Result<()> {
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<ScalingPolicyState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .autoscaling
            .delete_scaling_policy()
            .policy_name(&found.aws_id)
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&found.detail.resource_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeleteScalingPolicy", e));
        aws::gone_is_ok(result, |c| c == "ObjectNotFoundException")
    }

    /// Deleted before its target.
    fn uses(found: &Found<ScalingPolicyState>) -> Vec<String> {
        vec![found.detail.resource_id.clone()]
    }
}

/// Makes or replaces the policy (the call is an upsert by name).
async fn put(
    ctx: &Context,
    id: &ResourceId,
    policy: &ScalingPolicy,
    refs: &Outputs,
) -> Result<String> {
    let tracking = policy.wanted(refs).ok_or_else(|| Error::Unresolved {
        resource: id.clone(),
        message: "the load balancer or target group has no ARN yet".into(),
    })?;
    let out = ctx
        .autoscaling
        .put_scaling_policy()
        .policy_name(&policy.name)
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&policy.resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(configuration(id, &tracking)?)
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutScalingPolicy", e))?;
    Ok(out.policy_arn().to_owned())
}

#[cfg(test)]
mod tests;
