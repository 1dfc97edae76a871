//! The ECS Fargate service: desired count, the deployment circuit breaker (rollback on by
//! default), min/max healthy percent, health-check grace period, registration in its target
//! group (web) or in service discovery (internal), its security groups, subnets, and a
//! public IP only when there is no NAT.

mod model;
mod placement;
pub mod rollout;

use aws_sdk_ecs::types::{
    DeploymentCircuitBreaker, DeploymentConfiguration, LaunchType, PropagateTags,
};

use crate::aws::{self, ecs};
use crate::change::{Diff, Setting, changed_settings};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::{self, Tags};
use model::describe;
pub use model::{Field, Registration, Service, ServiceState, state_of};
use placement::int;

/// DescribeServices takes at most 10 services a call.
const SERVICES_PER_CALL: usize = 10;

impl Service {
    /// The settings that differ, each with what the plan shows and what `update` sends.
    fn changes(&self, found: &ServiceState, refs: &Outputs) -> Vec<Field> {
        let mut fields = Vec::new();
        let td = Ref::new(refs, &self.task_definition, Attr::Id);
        if !td.is(&found.task_definition) {
            fields.push(Field::TaskDefinition {
                from: found.task_definition.clone(),
                to: td,
            });
        }
        // ECS takes a grace period only for a service behind a load balancer.
        let grace = match self.target_group {
            Some(_) => self.grace_secs,
            None => u32::try_from(found.grace_secs).unwrap_or(0),
        };
        // The autoscaler moves the count of an autoscaled service: not drift.
        let count = if self.autoscaled {
            u32::try_from(found.desired_count).unwrap_or(self.desired_count)
        } else {
            self.desired_count
        };
        let settings: [Setting<Field>; 4] = [
            (found.desired_count, count, |from, to| Field::DesiredCount {
                from,
                to,
            }),
            (found.grace_secs, grace, |from, to| Field::GracePeriod {
                from,
                to,
            }),
            (
                found.min_healthy_percent,
                self.min_healthy_percent,
                |from, to| Field::MinHealthyPercent { from, to },
            ),
            (found.max_percent, self.max_percent, |from, to| {
                Field::MaxPercent { from, to }
            }),
        ];
        fields.extend(changed_settings(settings));
        fields.extend(self.placement_changes(found, refs));
        if found.circuit_breaker != (true, self.rollback) {
            fields.push(Field::CircuitBreaker {
                from: found.circuit_breaker,
                rollback: self.rollback,
            });
        }
        fields
    }

    fn deployment(&self) -> DeploymentConfiguration {
        DeploymentConfiguration::builder()
            .deployment_circuit_breaker(
                DeploymentCircuitBreaker::builder()
                    .enable(true)
                    .rollback(self.rollback)
                    .build(),
            )
            .minimum_healthy_percent(int(self.min_healthy_percent))
            .maximum_percent(int(self.max_percent))
            .build()
    }

    /// One `UpdateService` that sets exactly the settings `fields` names (the network and
    /// deployment settings are each one structure in the API, so they go whole).
    async fn send_update(
        &self,
        ctx: &Context,
        (id, cluster, service): (&ResourceId, &str, &str),
        fields: &[Field],
        refs: &Outputs,
    ) -> Result<()> {
        let mut call = ctx.ecs.update_service().cluster(cluster).service(service);
        let (mut network, mut deployment) = (false, false);
        for field in fields {
            call = match field {
                Field::TaskDefinition { to, .. } => call.task_definition(to.resolve(refs, id)?),
                Field::DesiredCount { to, .. } => call.desired_count(*to),
                Field::LoadBalancer { .. } => call
                    .set_load_balancers(Some(self.registration(refs, id)?.into_iter().collect())),
                Field::Registries { .. } => {
                    call.set_service_registries(Some(self.registries(refs, id)?))
                }
                Field::GracePeriod { to, .. } => call.health_check_grace_period_seconds(*to),
                Field::Subnets { .. } | Field::SecurityGroups { .. } | Field::PublicIp(_) => {
                    network = true;
                    call
                }
                Field::MinHealthyPercent { .. }
                | Field::MaxPercent { .. }
                | Field::CircuitBreaker { .. } => {
                    deployment = true;
                    call
                }
            };
        }
        if network {
            call = call.network_configuration(self.network(refs, id)?);
        }
        if deployment {
            call = call.deployment_configuration(self.deployment());
        }
        call.send()
            .await
            .map_err(|e| Error::aws(id, "UpdateService", e))?;
        Ok(())
    }
}

/// ECS checks that it can assume the roles and that the target group has a load balancer;
/// both can lag behind their creation by seconds.
fn is_propagation_lag(err: &Error) -> bool {
    if err.code() != Some("InvalidParameterException") {
        return false;
    }
    let text = crate::error::chain(err).to_lowercase();
    text.contains("assume")
        || text.contains("role")
        || text.contains("does not have an associated load balancer")
}

impl Resource for Service {
    type State = ServiceState;
    type Field = Field;
    const LABEL: &'static str = "ECS service";
    const WAITS: bool = true;

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs = vec![&self.cluster, &self.task_definition];
        refs.extend(self.target_group.as_ref());
        refs.extend(self.discovery.as_ref());
        refs.extend(self.security_groups.iter());
        refs.extend(self.subnets.iter());
        refs
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.cluster]
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let mut found = Vec::new();
        for cluster in ecs::clusters(scope).await? {
            let ours = tags::logical_id(&ctx.stack, &ecs::tags_of(cluster.tags())).is_some();
            let Some(cluster) = cluster.cluster_arn().filter(|_| ours) else {
                continue;
            };
            let arns = aws::all(
                ctx.ecs
                    .list_services()
                    .cluster(cluster)
                    .into_paginator()
                    .items()
                    .send(),
                |e| Error::aws("ECS services", "ListServices", e),
            )
            .await?;
            let chunks = aws::each(arns.chunks(SERVICES_PER_CALL), |chunk| {
                describe(ctx, cluster, chunk, wanted)
            })
            .await?;
            found.extend(chunks.into_iter().flatten());
        }
        Ok(found)
    }

    fn diff(&self, found: &ServiceState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        if found.launch_type != "FARGATE" {
            diff.replace(format!(
                "its launch type is {}, and only a new service can be FARGATE",
                found.launch_type
            ));
        }
        let cluster = Ref::new(refs, &self.cluster, Attr::Id);
        if cluster.known.is_some() && !cluster.is(&found.cluster_arn) {
            diff.replace("it runs in another cluster");
        }
        diff.fields = self.changes(found, refs);
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let (id, refs) = (new.id, new.refs);
        let cluster = Ref::new(refs, &self.cluster, Attr::Id).resolve(refs, id)?;
        let td = Ref::new(refs, &self.task_definition, Attr::Id).resolve(refs, id)?;
        let (network, registration) = (self.network(refs, id)?, self.registration(refs, id)?);
        let registries = self.registries(refs, id)?;
        let grace = self.target_group.as_ref().map(|_| int(self.grace_secs));
        let note = |err: &Error| tracing::debug!(%err, "IAM or load balancer not visible to ECS yet; retrying");
        let out = crate::retry::retry_while(
            ctx.settings.consistency_timeout,
            &ctx.settings,
            is_propagation_lag,
            note,
            || async {
                crate::aws::once!(
                    aws_sdk_ecs,
                    ctx.ecs
                        .create_service()
                        .client_token(new.token)
                        .cluster(&cluster)
                        .service_name(&self.name)
                        .task_definition(&td)
                        .desired_count(int(self.desired_count))
                        .launch_type(LaunchType::Fargate)
                        .network_configuration(network.clone())
                        .set_load_balancers(registration.clone().map(|r| vec![r]))
                        .set_service_registries(
                            (!registries.is_empty()).then(|| registries.clone())
                        )
                        .set_health_check_grace_period_seconds(grace)
                        .deployment_configuration(self.deployment())
                        .propagate_tags(PropagateTags::Service)
                        .set_tags(Some(ecs::to_tags(new.tags)))
                )
                .await
                .map_err(|e| Error::aws(id, "CreateService", e))
            },
        )
        .await?;
        let created = out
            .service()
            .ok_or_else(|| Error::incomplete(id, "CreateService", "service"))?;
        let arn = created.service_arn().unwrap_or_default().to_owned();
        // Converge if the service did not come back as asked (an endpoint that drops settings
        // on create, as moto does with the deployment configuration): one UpdateService.
        let left = self.changes(&state_of(created), refs);
        if !left.is_empty() {
            self.send_update(ctx, (id, &cluster, &arn), &left, refs)
                .await?;
        }
        Ok(Output::arn(arn))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<ServiceState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        let cluster = &found.detail.cluster_arn;
        if !fields.is_empty() {
            self.send_update(ctx, (&found.id, cluster, &found.aws_id), fields, refs)
                .await?;
        }
        Ok(Self::output(found))
    }

    /// The deployment is done: rollout completed, every task running (and, behind a load
    /// balancer, healthy). It fails fast when the circuit breaker rolls it back.
    async fn ready(
        &self,
        ctx: &Context,
        id: &ResourceId,
        output: &Output,
        refs: &Outputs,
        wait: Wait<'_>,
    ) -> Result<()> {
        let cluster = Ref::new(refs, &self.cluster, Attr::Id).resolve(refs, id)?;
        rollout::wait_deployed(ctx, &cluster, &output.aws_id, id, wait).await
    }

    fn unready(found: &Found<ServiceState>) -> Option<String> {
        found.detail.unready()
    }

    async fn retag(ctx: &Context, found: &Found<ServiceState>, tags: &Tags) -> Result<()> {
        ecs::retag(ctx, found, tags).await
    }

    /// Deletes it with `force` (which stops its tasks without scaling to zero first) and
    /// waits until ECS reports it inactive: its tasks gone, so the subnets and security
    /// groups can go next.
    async fn delete(ctx: &Context, found: &Found<ServiceState>, wait: Wait<'_>) -> Result<()> {
        let (id, cluster) = (&found.id, &found.detail.cluster_arn);
        let deleted = ctx
            .ecs
            .delete_service()
            .cluster(cluster)
            .service(&found.aws_id)
            .force(true)
            .send()
            .await;
        match deleted {
            Ok(_) => {}
            Err(e) if ecs::is_gone(&e) => return Ok(()),
            Err(e) => return Err(Error::aws(id, "DeleteService", e)),
        }
        rollout::wait_inactive(ctx, cluster, &found.aws_id, id, wait).await
    }

    fn uses(found: &Found<ServiceState>) -> Vec<String> {
        let state = &found.detail;
        let mut uses = vec![state.cluster_arn.clone()];
        uses.extend(state.load_balancer.iter().map(|(tg, _, _)| tg.clone()));
        uses.extend(state.subnets.iter().cloned());
        uses.extend(state.security_groups.iter().cloned());
        uses.extend(state.registries.iter().cloned());
        uses
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::operation::update_service::UpdateServiceOutput;
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, Service as AwsService};

    use super::*;
    use crate::change::{Describe, FieldChange};
    use crate::resources::testing::{self, rule};

    mod calls;

    fn desired() -> Service {
        Service {
            name: "s".into(),
            cluster: "cluster".into(),
            task_definition: "task-definition".into(),
            desired_count: 1,
            autoscaled: false,
            target_group: Some("target-group".into()),
            discovery: None,
            container_name: "app".into(),
            port: Some(5000),
            subnets: vec!["public-subnet-1".into()],
            security_groups: vec!["service-security-group".into()],
            public_ip: true,
            grace_secs: 30,
            min_healthy_percent: 100,
            max_percent: 200,
            rollback: true,
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[
            ("cluster", "arn:cluster"),
            ("task-definition", "arn:td:1"),
            ("target-group", "arn:tg"),
            ("public-subnet-1", "subnet-1"),
            ("service-security-group", "sg-svc"),
        ])
    }

    fn state() -> ServiceState {
        ServiceState {
            cluster_arn: "arn:cluster".into(),
            status: "ACTIVE".into(),
            launch_type: "FARGATE".into(),
            task_definition: "arn:td:1".into(),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            rollout: "COMPLETED".into(),
            rollout_since: None,
            deployments: 1,
            load_balancer: Some(("arn:tg".into(), "app".into(), 5000)),
            subnets: ["subnet-1".to_owned()].into(),
            security_groups: ["sg-svc".to_owned()].into(),
            registries: Vec::new(),
            public_ip: true,
            grace_secs: 30,
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker: (true, true),
        }
    }

    #[test]
    fn a_matching_service_is_unchanged() {
        assert!(desired().diff(&state(), &refs()).is_empty());
    }

    #[test]
    fn a_new_task_definition_revision_is_rolled_out() {
        let mut refs = refs();
        refs.remove("task-definition");
        let d = desired().diff(&state(), &refs);
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("task_definition", "revision 1", "(new task-definition)")
        );
    }

    #[test]
    fn every_setting_is_its_own_field() {
        let mut s = state();
        s.desired_count = 3;
        s.public_ip = false;
        s.circuit_breaker = (false, false);
        let names: Vec<String> = desired()
            .diff(&s, &refs())
            .fields
            .iter()
            .map(|f| f.describe().field)
            .collect();
        assert_eq!(
            names,
            ["desired_count", "assign_public_ip", "circuit_breaker"]
        );
    }

    #[test]
    fn the_autoscaler_s_count_is_not_drift() {
        let mut s = state();
        s.desired_count = 7;
        let mut want = desired();
        want.autoscaled = true;
        assert!(want.diff(&s, &refs()).is_empty());
    }

    #[tokio::test]
    async fn an_update_is_one_call_and_ready_watches_the_deployment() {
        let update = rule!(aws_sdk_ecs, update_service, UpdateServiceOutput);
        let describe =
            aws_smithy_mocks::mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
                let done = Deployment::builder()
                    .status("PRIMARY")
                    .rollout_state(DeploymentRolloutState::Completed)
                    .build();
                DescribeServicesOutput::builder()
                    .services(
                        AwsService::builder()
                            .desired_count(2)
                            .running_count(2)
                            .deployments(done)
                            .build(),
                    )
                    .build()
            });
        let ctx = testing::ecs(&[&update, &describe]);
        let mut s = state();
        s.desired_count = 2;
        let found = testing::found("service", "arn:svc", s);
        let fields = [Field::DesiredCount { from: 2, to: 1 }];
        let output = desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!((update.num_calls(), describe.num_calls()), (1, 0));
        desired()
            .ready(&ctx, &"service".into(), &output, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!((update.num_calls(), describe.num_calls()), (1, 1));
    }
}
