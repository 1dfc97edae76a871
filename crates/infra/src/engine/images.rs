//! The image of a service that the run is given none for: no `image`, no `--image`, no
//! Dockerfile to build. A service that runs keeps the image it runs (one forgotten flag must
//! not take it down); one that does not run yet cannot be deployed, and the caller says so
//! before any change.

use serde::Serialize;

use crate::context::Context;
use crate::error::Result;
use crate::id::ServiceIds;
use crate::resources::{Detail, Observed};
use crate::stack_file::StackSpec;

/// A service the run gives no image, that keeps the one it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptImage {
    /// The service's name in the stack file.
    pub service: String,
    /// The image its ECS service runs now.
    pub image: String,
}

/// What the run does about the services it gives no image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unimaged {
    /// Running services: each keeps its image.
    pub kept: Vec<KeptImage>,
    /// Services that do not run yet: they cannot be deployed (names, in file order).
    pub missing: Vec<String>,
}

/// Where a running service's image is: read already, or in a revision to read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Running {
    Image(String),
    Revision(String),
}

/// For each service without an image source, what its ECS service runs, if it runs (pure).
fn running(spec: &StackSpec, observed: &[Observed]) -> Vec<(String, Option<Running>)> {
    spec.services
        .iter()
        .filter(|s| s.image.is_none() && s.build.is_none())
        .map(|service| {
            let ids = ServiceIds::named(&service.name);
            let revision = observed.iter().find_map(|o| match &o.detail {
                Detail::Service(s) if o.id == ids.service && !s.task_definition.is_empty() => {
                    Some(s.task_definition.clone())
                }
                _ => None,
            });
            let running = revision.map(|arn| {
                // The family's newest revision is read with the stack; after a rollback the
                // service runs an older one, which is read apart.
                let newest = observed.iter().find_map(|o| match &o.detail {
                    Detail::TaskDefinition(td)
                        if o.id == ids.task_definition && o.aws_id == arn =>
                    {
                        Some(td.image.clone())
                    }
                    _ => None,
                });
                newest.map_or(Running::Revision(arn), Running::Image)
            });
            (service.name.clone(), running)
        })
        .collect()
}

/// Finds the image each image-less service runs, and sets it in `spec`.
pub(super) async fn keep_running(
    ctx: &Context,
    spec: &mut StackSpec,
    observed: &[Observed],
) -> Result<Unimaged> {
    let mut unimaged = Unimaged::default();
    for (service, running) in running(spec, observed) {
        let image = match running {
            None => None,
            Some(Running::Image(image)) => Some(image),
            Some(Running::Revision(arn)) => {
                let id = ServiceIds::named(&service).task_definition;
                crate::resources::task_definition::image_of(ctx, &id, &arn).await?
            }
        };
        match image.filter(|i| !i.is_empty()) {
            Some(image) => unimaged.kept.push(KeptImage { service, image }),
            None => unimaged.missing.push(service),
        }
    }
    for kept in &unimaged.kept {
        if let Some(s) = spec.services.iter_mut().find(|s| s.name == kept.service) {
            s.image = Some(kept.image.clone());
        }
    }
    Ok(unimaged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Found;
    use crate::resources::service::ServiceState;
    use crate::resources::task_definition::TaskDefinitionState;
    use crate::tags::Tags;

    fn found(id: &str, aws_id: &str, detail: Detail) -> Observed {
        Found {
            id: id.into(),
            detail,
            aws_id: aws_id.into(),
            arn: Some(aws_id.into()),
            state: String::new(),
            tags: Tags::new(),
        }
    }

    fn service_running(arn: &str) -> Observed {
        let state = ServiceState {
            cluster_arn: "c".into(),
            status: "ACTIVE".into(),
            launch_type: "FARGATE".into(),
            task_definition: arn.into(),
            desired_count: 1,
            running_count: 1,
            pending_count: 0,
            rollout: "COMPLETED".into(),
            rollout_since: None,
            deployments: 1,
            load_balancer: None,
            subnets: Default::default(),
            security_groups: Default::default(),
            registries: Vec::new(),
            public_ip: true,
            grace_secs: 0,
            min_healthy_percent: 100,
            max_percent: 200,
            circuit_breaker: (true, true),
        };
        found("service", "svc", Detail::Service(state))
    }

    fn revision(arn: &str, image: &str) -> Observed {
        let state = TaskDefinitionState {
            revision: 2,
            older: Vec::new(),
            image: image.into(),
            cpu: "256".into(),
            memory: "512".into(),
            port: Some(5000),
            environment: Default::default(),
            secrets: Default::default(),
            command: Vec::new(),
            log_group: String::new(),
            log_stream_prefix: String::new(),
            execution_role_arn: String::new(),
            task_role_arn: String::new(),
        };
        found("task-definition", arn, Detail::TaskDefinition(state))
    }

    #[test]
    fn a_running_service_keeps_its_image_and_a_new_one_has_none() {
        let spec = StackSpec::minimal("s");
        assert_eq!(running(&spec, &[]), [("app".to_owned(), None)]);
        let observed = [service_running("td:2"), revision("td:2", "repo/app:7")];
        assert_eq!(
            running(&spec, &observed),
            [("app".to_owned(), Some(Running::Image("repo/app:7".into())))]
        );
    }

    #[test]
    fn after_a_rollback_the_revision_that_runs_is_read_not_the_newest() {
        let spec = StackSpec::minimal("s");
        let observed = [service_running("td:1"), revision("td:2", "repo/app:bad")];
        assert_eq!(
            running(&spec, &observed),
            [("app".to_owned(), Some(Running::Revision("td:1".into())))]
        );
    }

    #[test]
    fn a_service_given_an_image_is_left_alone() {
        let mut spec = StackSpec::minimal("s");
        spec.services[0].image = Some("repo/app:8".into());
        assert!(running(&spec, &[service_running("td:2")]).is_empty());
    }
}
