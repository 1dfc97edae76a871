//! Waiting on ECS: a deployment until it is done (rollout completed, running = desired), failing
//! fast with the reason when the circuit breaker rolls it back or tasks stop; and a deleted
//! service until it is inactive. Waiting is its own step, after the call that changed things.

use aws_sdk_ecs::types::{DesiredStatus, Service as AwsService};

use crate::aws::ecs::is_gone;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::retry::{self, Look};

/// What a look at the service says about its deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assessment {
    Done,
    InProgress(String),
    /// The circuit breaker failed (and maybe rolled back) the deployment.
    Failed(String),
    /// Tasks of the new deployment stopped; the reasons are fetched separately.
    TasksStopped(i32),
}

/// Classifies a service's state (pure, unit-tested).
pub fn assess(service: &AwsService) -> Assessment {
    let deployments = service.deployments();
    let Some(primary) = deployments.iter().find(|d| d.status() == Some("PRIMARY")) else {
        return Assessment::InProgress("no deployment yet".into());
    };
    let state = primary
        .rollout_state()
        .map(|r| r.as_str())
        .unwrap_or("IN_PROGRESS");
    if state == "FAILED" {
        return Assessment::Failed(
            primary
                .rollout_state_reason()
                .unwrap_or("the deployment failed")
                .to_owned(),
        );
    }
    if primary.failed_tasks() > 0 {
        return Assessment::TasksStopped(primary.failed_tasks());
    }
    // The primary deployment's own counts: the service's add up every deployment, so during a
    // rollout they count the old tasks as running too.
    let (running, desired) = (primary.running_count(), primary.desired_count());
    if state == "COMPLETED" && deployments.len() == 1 && running >= desired {
        return Assessment::Done;
    }
    Assessment::InProgress(format!(
        "rollout {}: new deployment {running}/{desired} running, {} pending{}",
        state.to_lowercase().replace('_', " "),
        primary.pending_count().max(0),
        if deployments.len() > 1 {
            format!(", {} deployments", deployments.len())
        } else {
            String::new()
        }
    ))
}

/// The newest service events, newest first, as lines.
pub fn recent_events(service: &AwsService, n: usize) -> Vec<String> {
    service
        .events()
        .iter()
        .take(n)
        .filter_map(|e| e.message().map(str::to_owned))
        .collect()
}

async fn describe(
    ctx: &Context,
    cluster: &str,
    service: &str,
    id: &ResourceId,
) -> Result<Option<AwsService>> {
    match ctx
        .ecs
        .describe_services()
        .cluster(cluster)
        .services(service)
        .send()
        .await
    {
        Ok(out) => Ok(out.services().first().cloned()),
        Err(e) if is_gone(&e) => Ok(None),
        Err(e) => Err(Error::aws(id, "DescribeServices", e)),
    }
}

/// Why the service's tasks stopped, from the stopped tasks ECS still remembers.
async fn stopped_reasons(
    ctx: &Context,
    cluster: &str,
    service: &str,
    id: &ResourceId,
) -> Result<Vec<String>> {
    let name = service.rsplit('/').next().unwrap_or(service);
    let tasks = ctx
        .ecs
        .list_tasks()
        .cluster(cluster)
        .service_name(name)
        .desired_status(DesiredStatus::Stopped)
        .send()
        .await
        .map_err(|e| Error::aws(id, "ListTasks", e))?;
    if tasks.task_arns().is_empty() {
        return Ok(Vec::new());
    }
    let out = ctx
        .ecs
        .describe_tasks()
        .cluster(cluster)
        .set_tasks(Some(tasks.task_arns().iter().take(5).cloned().collect()))
        .send()
        .await
        .map_err(|e| Error::aws(id, "DescribeTasks", e))?;
    Ok(out
        .tasks()
        .iter()
        .map(|t| {
            let containers: Vec<String> = t
                .containers()
                .iter()
                .filter_map(|c| {
                    c.reason()
                        .map(|r| format!("{}: {r}", c.name().unwrap_or("container")))
                })
                .collect();
            let mut reason = t.stopped_reason().unwrap_or("stopped").to_owned();
            if !containers.is_empty() {
                reason.push_str(&format!(" ({})", containers.join("; ")));
            }
            reason
        })
        .collect())
}

fn failure(id: &ResourceId, headline: String, reasons: &[String], events: &[String]) -> Error {
    let mut message = headline;
    if !reasons.is_empty() {
        message.push_str(&format!(
            "\n    stopped tasks: {}",
            reasons.join("\n                   ")
        ));
    }
    if !events.is_empty() {
        message.push_str(&format!(
            "\n    last service events:\n      {}",
            events.join("\n      ")
        ));
    }
    Error::Deployment {
        resource: id.clone(),
        message,
    }
}

/// Waits until the service's deployment is done, reporting progress through `on_wait`.
pub async fn wait_deployed(
    ctx: &Context,
    cluster: &str,
    service: &str,
    id: &ResourceId,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let Some(timeout) = ctx.settings.deploy_timeout else {
        return Ok(());
    };
    let started = tokio::time::Instant::now();
    let mut last = String::new();
    loop {
        let Some(svc) = describe(ctx, cluster, service, id).await? else {
            return Err(Error::Vanished {
                subject: id.into(),
                message: "the service disappeared while its deployment was watched".into(),
            });
        };
        match assess(&svc) {
            Assessment::Done => return Ok(()),
            Assessment::Failed(reason) => {
                let reasons = stopped_reasons(ctx, cluster, service, id)
                    .await
                    .unwrap_or_default();
                return Err(failure(
                    id,
                    format!("the deployment failed: {reason}"),
                    &reasons,
                    &recent_events(&svc, 5),
                ));
            }
            Assessment::TasksStopped(n) => {
                let reasons = stopped_reasons(ctx, cluster, service, id)
                    .await
                    .unwrap_or_default();
                return Err(failure(
                    id,
                    format!("{n} task(s) of the new deployment stopped"),
                    &reasons,
                    &recent_events(&svc, 5),
                ));
            }
            Assessment::InProgress(status) => {
                if status != last {
                    on_wait(status.clone());
                    last = status;
                }
            }
        }
        if started.elapsed() >= timeout {
            return Err(failure(
                id,
                format!(
                    "the deployment did not finish within {}s ({last})",
                    timeout.as_secs()
                ),
                &[],
                &recent_events(&svc, 5),
            ));
        }
        crate::slots::pause(ctx.settings.poll_interval).await;
    }
}

/// Waits until a deleted service is inactive (its tasks are gone).
pub async fn wait_inactive(
    ctx: &Context,
    cluster: &str,
    service: &str,
    id: &ResourceId,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    let timeout = ctx.settings.wait_timeout;
    retry::poll(
        &ctx.settings,
        timeout,
        (id.as_str(), "become inactive"),
        wait,
        || async {
            Ok(match describe(ctx, cluster, service, id).await? {
                None => Look::Done(()),
                Some(svc) if svc.status() == Some("INACTIVE") => Look::Done(()),
                Some(svc) => Look::NotYet(format!(
                    "waiting for the service's tasks to drain ({}, {} running)",
                    svc.status().unwrap_or("?").to_lowercase(),
                    svc.running_count()
                )),
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::types::{Deployment, DeploymentRolloutState, ServiceEvent};

    use super::*;

    /// A service whose primary deployment has `running` of `desired` tasks.
    fn service(deployments: Vec<Deployment>, running: i32, desired: i32) -> AwsService {
        let deployments = deployments
            .into_iter()
            .map(|d| {
                if d.status() != Some("PRIMARY") {
                    return d;
                }
                let mut d = d;
                d.running_count = running;
                d.desired_count = desired;
                d.pending_count = desired - running;
                d
            })
            .collect();
        AwsService::builder()
            .set_deployments(Some(deployments))
            .running_count(running)
            .desired_count(desired)
            .pending_count(desired - running)
            .events(
                ServiceEvent::builder()
                    .message("(service s) has started 1 tasks")
                    .build(),
            )
            .build()
    }

    fn deployment(status: &str, rollout: DeploymentRolloutState, failed: i32) -> Deployment {
        Deployment::builder()
            .status(status)
            .rollout_state(rollout)
            .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
            .failed_tasks(failed)
            .build()
    }

    #[test]
    fn done_needs_a_single_completed_deployment_with_every_task_running() {
        let done = service(
            vec![deployment("PRIMARY", DeploymentRolloutState::Completed, 0)],
            2,
            2,
        );
        assert_eq!(assess(&done), Assessment::Done);
        let starting = service(
            vec![deployment("PRIMARY", DeploymentRolloutState::Completed, 0)],
            1,
            2,
        );
        assert!(
            matches!(assess(&starting), Assessment::InProgress(s) if s.contains("1/2 running"))
        );
        let rolling = service(
            vec![
                deployment("PRIMARY", DeploymentRolloutState::InProgress, 0),
                deployment("ACTIVE", DeploymentRolloutState::Completed, 0),
            ],
            2,
            2,
        );
        assert!(
            matches!(assess(&rolling), Assessment::InProgress(s) if s.contains("2 deployments"))
        );
        // The service counts the old deployment's tasks too: 3/3 running overall, while the
        // new deployment has one of three.
        let mut mixed = service(
            vec![deployment("PRIMARY", DeploymentRolloutState::InProgress, 0)],
            1,
            3,
        );
        mixed.running_count = 3;
        mixed.pending_count = 0;
        assert!(
            matches!(assess(&mixed), Assessment::InProgress(s) if s.contains("new deployment 1/3 running, 2 pending")),
            "{:?}",
            assess(&mixed)
        );
    }

    #[test]
    fn a_rollback_or_stopped_tasks_fail_fast() {
        let failed = service(
            vec![deployment("PRIMARY", DeploymentRolloutState::Failed, 3)],
            0,
            1,
        );
        assert_eq!(
            assess(&failed),
            Assessment::Failed("ECS deployment circuit breaker: tasks failed to start.".into())
        );
        let stopping = service(
            vec![deployment("PRIMARY", DeploymentRolloutState::InProgress, 2)],
            0,
            1,
        );
        assert_eq!(assess(&stopping), Assessment::TasksStopped(2));
        assert_eq!(
            recent_events(&stopping, 5),
            ["(service s) has started 1 tasks"]
        );
    }
}

/// The wait loop against a mocked ECS (the emulator never fails a deployment).
#[cfg(test)]
mod fault_tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
    use aws_sdk_ecs::operation::describe_tasks::DescribeTasksOutput;
    use aws_sdk_ecs::operation::list_tasks::ListTasksOutput;
    use aws_sdk_ecs::types::{Container, Deployment, DeploymentRolloutState, ServiceEvent, Task};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;
    use crate::resources::testing;

    fn context(ecs: aws_sdk_ecs::Client) -> Context {
        let mut ctx = testing::context();
        ctx.ecs = ecs;
        ctx
    }

    fn service(rollout: DeploymentRolloutState, running: i32, failed: i32) -> AwsService {
        AwsService::builder()
            .service_arn("arn:aws:ecs:us-east-1:1:service/s/s")
            .desired_count(1)
            .running_count(running)
            .deployments(
                Deployment::builder()
                    .status("PRIMARY")
                    .rollout_state(rollout)
                    .rollout_state_reason("ECS deployment circuit breaker: tasks failed to start.")
                    .failed_tasks(failed)
                    .desired_count(1)
                    .running_count(running)
                    .build(),
            )
            .events(
                ServiceEvent::builder()
                    .message("(service s) deployment failed: tasks failed to start.")
                    .build(),
            )
            .build()
    }

    fn stopped_task_rules() -> (aws_smithy_mocks::Rule, aws_smithy_mocks::Rule) {
        let list = mock!(aws_sdk_ecs::Client::list_tasks).then_output(|| {
            ListTasksOutput::builder()
                .task_arns("arn:aws:ecs:us-east-1:1:task/s/1")
                .build()
        });
        let describe = mock!(aws_sdk_ecs::Client::describe_tasks).then_output(|| {
            DescribeTasksOutput::builder()
                .tasks(
                    Task::builder()
                        .stopped_reason("Essential container in task exited")
                        .containers(
                            Container::builder()
                                .name("app")
                                .reason("exit code 1")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        (list, describe)
    }

    #[tokio::test]
    async fn a_rolled_back_deployment_fails_fast_with_reasons_and_events() {
        let describe = mock!(aws_sdk_ecs::Client::describe_services)
            .sequence()
            .output(|| {
                DescribeServicesOutput::builder()
                    .services(service(DeploymentRolloutState::InProgress, 0, 0))
                    .build()
            })
            .output(|| {
                DescribeServicesOutput::builder()
                    .services(service(DeploymentRolloutState::Failed, 0, 2))
                    .build()
            })
            .build();
        let (list, tasks) = stopped_task_rules();
        let ctx = context(mock_client!(
            aws_sdk_ecs,
            RuleMode::MatchAny,
            [&describe, &list, &tasks]
        ));
        let seen = Mutex::new(Vec::new());
        let err = wait_deployed(
            &ctx,
            "cluster",
            "arn:aws:ecs:us-east-1:1:service/s/s",
            &"service".into(),
            &|m| seen.lock().unwrap().push(m),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("the deployment failed: ECS deployment circuit breaker"),
            "{err}"
        );
        assert!(
            err.contains("Essential container in task exited (app: exit code 1)"),
            "{err}"
        );
        assert!(
            err.contains("deployment failed: tasks failed to start"),
            "{err}"
        );
        assert_eq!(
            describe.num_calls(),
            2,
            "it stopped at the first failed look"
        );
        assert!(
            seen.lock().unwrap()[0].contains("rollout in progress: new deployment 0/1 running")
        );
    }

    #[tokio::test]
    async fn stopped_tasks_fail_fast_even_before_the_breaker_trips() {
        let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
            DescribeServicesOutput::builder()
                .services(service(DeploymentRolloutState::InProgress, 0, 1))
                .build()
        });
        let (list, tasks) = stopped_task_rules();
        let ctx = context(mock_client!(
            aws_sdk_ecs,
            RuleMode::MatchAny,
            [&describe, &list, &tasks]
        ));
        let err = wait_deployed(&ctx, "cluster", "svc", &"service".into(), &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 task(s) of the new deployment stopped"),
            "{err}"
        );
        assert!(err.contains("exit code 1"), "{err}");
    }

    #[tokio::test]
    async fn a_deployment_that_never_finishes_times_out_with_where_it_is() {
        let describe = mock!(aws_sdk_ecs::Client::describe_services).then_output(|| {
            DescribeServicesOutput::builder()
                .services(service(DeploymentRolloutState::InProgress, 0, 0))
                .build()
        });
        let mut ctx = context(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, [&describe]));
        ctx.settings.deploy_timeout = Some(Duration::from_millis(20));
        let err = wait_deployed(&ctx, "cluster", "svc", &"service".into(), &|_| {})
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "did not finish within 0s (rollout in progress: new deployment 0/1 running"
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn no_wait_returns_at_once() {
        let mut ctx = context(mock_client!(aws_sdk_ecs, RuleMode::MatchAny, []));
        ctx.settings.deploy_timeout = None;
        wait_deployed(&ctx, "cluster", "svc", &"service".into(), &|_| {})
            .await
            .unwrap();
    }
}
