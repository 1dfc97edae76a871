//! A service's scalable target (Application Auto Scaling): the bounds, `min` to `max` tasks,
//! within which its policies move the ECS service's desired count. Found by its resource id,
//! `service/<cluster>/<service>`: the cluster is the stack's own, named after it.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use crate::aws;
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalableTarget {
    /// `service/<cluster>/<service name>`.
    pub resource_id: String,
    /// The ECS service (logical id): registered once it exists.
    pub service: ResourceId,
    pub min: u32,
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalableTargetState {
    pub min: i32,
    pub max: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Bounds { from: (i32, i32), to: (u32, u32) },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        let Self::Bounds { from, to } = self;
        FieldChange::new(
            "min..max",
            format!("{}..{}", from.0, from.1),
            format!("{}..{}", to.0, to.1),
        )
    }
}

/// The resource ids of the stack's services start so: its cluster is named after it.
pub fn prefix(stack: &str) -> String {
    format!("service/{stack}/")
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl Resource for ScalableTarget {
    type State = ScalableTargetState;
    type Field = Field;
    const LABEL: &'static str = "scalable target";
    // Application Auto Scaling's tags are not read back by every implementation; the
    // resource id names the stack's own cluster.
    const TAGGING: Tagging = Tagging::None;

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.service]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let pages = aws::all(
            ctx.autoscaling
                .describe_scalable_targets()
                .service_namespace(ServiceNamespace::Ecs)
                .into_paginator()
                .send(),
            |e| Error::aws("scalable targets", "DescribeScalableTargets", e),
        )
        .await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.scalable_targets())
            .filter_map(|t| {
                let id = ResourceId::of_scalable_target(&ctx.stack, t.resource_id())?;
                Some(Found {
                    id,
                    aws_id: t.resource_id().to_owned(),
                    arn: t.scalable_target_arn().map(str::to_owned),
                    state: "registered".into(),
                    tags: Tags::new(),
                    detail: ScalableTargetState {
                        min: t.min_capacity(),
                        max: t.max_capacity(),
                    },
                })
            })
            .collect())
    }

    fn diff(&self, found: &ScalableTargetState, _: &Outputs) -> Diff<Field> {
        // The resource id is how a target is found: a found target is always the wanted one's.
        let mut diff = Diff::default();
        diff.push_if(
            (found.min, found.max) != (int(self.min), int(self.max)),
            || Field::Bounds {
                from: (found.min, found.max),
                to: (self.min, self.max),
            },
        );
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let arn = register(ctx, new.id, self).await?;
        Ok(Output {
            aws_id: self.resource_id.clone(),
            arn,
            url: None,
        })
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<ScalableTargetState>,
        _: &[Field],
        _: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        register(ctx, &found.id, self).await?;
        Ok(Self::output(found))
    }

    async fn retag(_: &Context, _: &Found<ScalableTargetState>, _: &Tags) -> Result<()> {
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<ScalableTargetState>, _: Wait<'_>) -> Result<()> {
        let result = ctx
            .autoscaling
            .deregister_scalable_target()
            .service_namespace(ServiceNamespace::Ecs)
            .resource_id(&found.aws_id)
            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "DeregisterScalableTarget", e));
        aws::gone_is_ok(result, |c| c == "ObjectNotFoundException")
    }

    fn uses(_: &Found<ScalableTargetState>) -> Vec<String> {
        Vec::new()
    }
}

/// Registers (or re-registers: the call sets the bounds of an existing target) the target.
async fn register(
    ctx: &Context,
    id: &ResourceId,
    target: &ScalableTarget,
) -> Result<Option<String>> {
    let out = ctx
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&target.resource_id)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(int(target.min))
        .max_capacity(int(target.max))
        .send()
        .await
        .map_err(|e| Error::aws(id, "RegisterScalableTarget", e))?;
    Ok(out.scalable_target_arn().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logical_ids_come_from_the_service_s_name_in_the_stack_s_cluster() {
        let id = |resource_id| ResourceId::of_scalable_target("shop", resource_id);
        assert_eq!(id("service/shop/shop-api").unwrap(), "scalable-target-api");
        assert_eq!(id("service/shop/shop").unwrap(), "scalable-target-app");
        assert_eq!(id("service/shop-eu/shop-eu-api"), None);
        assert_eq!(id("service/shop/other"), None);
    }

    #[test]
    fn changed_bounds_are_one_field() {
        let want = ScalableTarget {
            resource_id: "service/s/s-api".into(),
            service: "service-api".into(),
            min: 1,
            max: 8,
        };
        let same = ScalableTargetState { min: 1, max: 8 };
        assert!(want.diff(&same, &Outputs::new()).is_empty());
        let other = ScalableTargetState { min: 2, max: 8 };
        let diff = want.diff(&other, &Outputs::new());
        assert_eq!(
            diff.fields,
            [Field::Bounds {
                from: (2, 8),
                to: (1, 8)
            }]
        );
    }

    mod calls {
        use aws_sdk_applicationautoscaling::operation::deregister_scalable_target::{
            DeregisterScalableTargetError, DeregisterScalableTargetOutput,
        };
        use aws_sdk_applicationautoscaling::operation::describe_scalable_targets::DescribeScalableTargetsOutput;
        use aws_sdk_applicationautoscaling::operation::register_scalable_target::RegisterScalableTargetOutput;
        use aws_smithy_mocks::{Rule, mock};

        use super::*;
        use crate::resources::testing::{self, fails};

        const ARN: &str = "arn:aws:application-autoscaling:r:1:scalable-target/abc";

        fn want() -> ScalableTarget {
            ScalableTarget {
                resource_id: "service/s/s-api".into(),
                service: "service-api".into(),
                min: 1,
                max: 8,
            }
        }

        fn found() -> Found<ScalableTargetState> {
            testing::found(
                "scalable-target-api",
                "service/s/s-api",
                ScalableTargetState { min: 2, max: 8 },
            )
        }

        fn register_rule() -> Rule {
            mock!(aws_sdk_applicationautoscaling::Client::register_scalable_target)
                .match_requests(|r| {
                    r.service_namespace() == Some(&ServiceNamespace::Ecs)
                        && r.resource_id() == Some("service/s/s-api")
                        && r.scalable_dimension()
                            == Some(&ScalableDimension::EcsServiceDesiredCount)
                        && (r.min_capacity(), r.max_capacity()) == (Some(1), Some(8))
                })
                .then_output(|| {
                    RegisterScalableTargetOutput::builder()
                        .scalable_target_arn(ARN)
                        .build()
                })
        }

        #[tokio::test]
        async fn create_and_update_register_the_bounds() {
            let register = register_rule();
            let ctx = testing::autoscaling(&[&register]);
            let creating =
                testing::Creating::new(ResourceId::scalable_target("api"), Outputs::new());
            let output = want().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "service/s/s-api");
            assert_eq!(output.arn.as_deref(), Some(ARN));
            let fields = want().diff(&found().detail, &Outputs::new()).fields;
            want()
                .update(&ctx, &found(), &fields, &Outputs::new(), &|_| {})
                .await
                .unwrap();
            assert_eq!(register.num_calls(), 2);
        }

        #[tokio::test]
        async fn observe_reads_the_targets_of_the_stack_s_cluster_only() {
            let describe = mock!(aws_sdk_applicationautoscaling::Client::describe_scalable_targets)
                .match_requests(|r| r.service_namespace() == Some(&ServiceNamespace::Ecs))
                .then_output(|| {
                    let target = |resource_id: &str| {
                        aws_sdk_applicationautoscaling::types::ScalableTarget::builder()
                            .service_namespace(ServiceNamespace::Ecs)
                            .resource_id(resource_id)
                            .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                            .min_capacity(1)
                            .max_capacity(8)
                            .role_arn("arn:role")
                            .creation_time(aws_smithy_types::DateTime::from_secs(0))
                            .build()
                            .unwrap()
                    };
                    DescribeScalableTargetsOutput::builder()
                        .scalable_targets(target("service/s/s-api"))
                        .scalable_targets(target("service/s-eu/s-eu-api"))
                        .build()
                });
            let ctx = testing::autoscaling(&[&describe]);
            let found = ScalableTarget::observe(&Scope::new(&ctx), &[])
                .await
                .unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::scalable_target("api"));
            assert!(want().diff(&found[0].detail, &Outputs::new()).is_empty());
        }

        #[tokio::test]
        async fn delete_deregisters_and_a_target_already_gone_is_success() {
            let deregister =
                mock!(aws_sdk_applicationautoscaling::Client::deregister_scalable_target)
                    .match_requests(|r| r.resource_id() == Some("service/s/s-api"))
                    .then_output(|| DeregisterScalableTargetOutput::builder().build());
            let ctx = testing::autoscaling(&[&deregister]);
            ScalableTarget::delete(&ctx, &found(), &|_| {})
                .await
                .unwrap();
            assert_eq!(deregister.num_calls(), 1);

            let gone = fails!(
                aws_sdk_applicationautoscaling,
                deregister_scalable_target,
                DeregisterScalableTargetError,
                "ObjectNotFoundException"
            );
            let ctx = testing::autoscaling(&[&gone]);
            ScalableTarget::delete(&ctx, &found(), &|_| {})
                .await
                .unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
