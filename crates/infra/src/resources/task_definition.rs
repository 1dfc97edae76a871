//! The Fargate task definition: one container running the service's image, its port, its
//! environment (`ENV`, `PORT`, and `SQS_QUEUE_URL` from the stack's queue), logs to the
//! stack's log group, and the execution and task roles. A change registers a new revision
//! (which the service then rolls out); an unchanged one registers nothing.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, KeyValuePair, LogConfiguration, LogDriver, NetworkMode,
    PortMapping, TaskDefinition as AwsTaskDefinition, TaskDefinitionField, TaskDefinitionStatus,
    TransportProtocol,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::aws::{self, ecs, named};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::resource::{Found, New, Resource, Scope, Wait, Wanted};
use crate::tags::Tags;

pub const CONTAINER: &str = "app";

/// Where the container's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// A prebuilt image, used as is.
    Given(String),
    /// The image resource (logical id) that stackctl builds and pushes.
    Built(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub family: String,
    pub image: ImageRef,
    pub cpu: u32,
    pub memory: u32,
    pub port: u16,
    /// Environment besides `SQS_QUEUE_URL`, which comes from `queue`.
    pub environment: BTreeMap<String, String>,
    pub queue: String,
    pub log_group: String,
    pub log_group_name: String,
    pub region: String,
    pub execution_role: String,
    pub task_role: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionState {
    pub revision: i32,
    pub image: String,
    pub cpu: String,
    pub memory: String,
    pub port: Option<i32>,
    pub environment: BTreeMap<String, String>,
    pub log_group: String,
    pub execution_role_arn: String,
    pub task_role_arn: String,
}

/// A setting of the container that differs; any of them means a new revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub from: String,
    pub to: String,
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        FieldChange::new(self.name, &self.from, &self.to)
    }
}

/// The container as wanted, with references that may be made in this run.
struct Container {
    image: String,
    environment: BTreeMap<String, String>,
    queue_url: Ref,
    execution_role: Ref,
    task_role: Ref,
}

impl TaskDefinition {
    fn container(&self, refs: &Outputs) -> Container {
        let image = match &self.image {
            ImageRef::Given(image) => image.clone(),
            ImageRef::Built(id) => Ref::new(refs, id, Attr::Url).to_string(),
        };
        let queue_url = Ref::new(refs, &self.queue, Attr::Url);
        let mut environment = self.environment.clone();
        environment
            .entry("ENV".into())
            .or_insert_with(|| "prod".into());
        environment.insert("PORT".into(), self.port.to_string());
        environment.insert("SQS_QUEUE_URL".into(), queue_url.to_string());
        Container {
            image,
            environment,
            queue_url,
            execution_role: Ref::new(refs, &self.execution_role, Attr::Arn),
            task_role: Ref::new(refs, &self.task_role, Attr::Arn),
        }
    }
}

fn show_env(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn state_of(td: &AwsTaskDefinition) -> TaskDefinitionState {
    let container = td.container_definitions().first();
    let environment = container
        .map(|c| {
            c.environment()
                .iter()
                .filter_map(|kv| {
                    Some((
                        kv.name()?.to_owned(),
                        kv.value().unwrap_or_default().to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let log_group = container
        .and_then(|c| c.log_configuration())
        .and_then(|l| l.options())
        .and_then(|o| o.get("awslogs-group"))
        .cloned()
        .unwrap_or_default();
    TaskDefinitionState {
        revision: td.revision(),
        image: container
            .and_then(|c| c.image())
            .unwrap_or_default()
            .to_owned(),
        cpu: td.cpu().unwrap_or_default().to_owned(),
        memory: td.memory().unwrap_or_default().to_owned(),
        port: container
            .and_then(|c| c.port_mappings().first())
            .and_then(|p| p.container_port()),
        environment,
        log_group,
        execution_role_arn: td.execution_role_arn().unwrap_or_default().to_owned(),
        task_role_arn: td.task_role_arn().unwrap_or_default().to_owned(),
    }
}

/// The family of a task definition ARN (its last part without the revision).
pub fn family_of(arn: &str) -> &str {
    ecs::name_of(arn).rsplit_once(':').map_or("", |(f, _)| f)
}

impl Resource for TaskDefinition {
    type State = TaskDefinitionState;
    type Field = Field;
    const LABEL: &'static str = "task definition";
    const NEW_ID_ON_UPDATE: bool = true;

    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![
            self.queue.as_str(),
            &self.log_group,
            &self.execution_role,
            &self.task_role,
        ];
        if let ImageRef::Built(image) = &self.image {
            refs.push(image);
        }
        refs
    }

    async fn observe(
        scope: &Scope<'_>,
        wanted: &[Wanted<'_, Self>],
    ) -> Result<Vec<Found<TaskDefinitionState>>> {
        let ctx = scope.ctx;
        let families = aws::all(
            ctx.ecs
                .list_task_definition_families()
                .family_prefix(&ctx.stack)
                .status(aws_sdk_ecs::types::TaskDefinitionFamilyStatus::Active)
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws("task definitions", "ListTaskDefinitionFamilies", e),
        )
        .await?;
        let ours = families.iter().filter(|f| named::belongs(&ctx.stack, f));
        let found = futures::future::try_join_all(ours.map(|family| {
            let wanted = wanted.iter().any(|w| &w.spec.family == family);
            observe_family(ctx, family, wanted)
        }))
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &TaskDefinitionState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let want = self.container(refs);
        let mut compare = |name: &'static str, from: String, to: String| {
            diff.push_if(from != to, || Field { name, from, to });
        };
        compare("image", found.image.clone(), want.image);
        compare("cpu", found.cpu.clone(), self.cpu.to_string());
        compare("memory", found.memory.clone(), self.memory.to_string());
        compare(
            "port",
            found.port.unwrap_or_default().to_string(),
            self.port.to_string(),
        );
        compare(
            "environment",
            show_env(&found.environment),
            show_env(&want.environment),
        );
        compare(
            "log_group",
            found.log_group.clone(),
            self.log_group_name.clone(),
        );
        compare(
            "execution_role",
            found.execution_role_arn.clone(),
            want.execution_role.to_string(),
        );
        compare(
            "task_role",
            found.task_role_arn.clone(),
            want.task_role.to_string(),
        );
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        register(ctx, new.id, self, new.tags, new.refs).await
    }

    /// A task definition is never changed in place: a new revision is registered.
    async fn update(
        &self,
        ctx: &Context,
        found: &Found<TaskDefinitionState>,
        _: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        register(ctx, &found.id, self, &found.tags, refs).await
    }

    async fn retag(ctx: &Context, found: &Found<TaskDefinitionState>, tags: &Tags) -> Result<()> {
        ecs::retag(ctx, found, tags).await
    }

    /// Deregisters every active revision of the family (revisions cannot be deleted while
    /// active).
    async fn delete(ctx: &Context, found: &Found<TaskDefinitionState>, _: Wait<'_>) -> Result<()> {
        let family = family_of(&found.aws_id);
        let arns = aws::all(
            ctx.ecs
                .list_task_definitions()
                .family_prefix(family)
                .status(TaskDefinitionStatus::Active)
                .into_paginator()
                .items()
                .send(),
            |e| Error::aws(&found.id, "ListTaskDefinitions", e),
        )
        .await?;
        // familyPrefix also matches longer family names; only ours go.
        for arn in arns.iter().filter(|arn| family_of(arn) == family) {
            let result = ctx
                .ecs
                .deregister_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(|e| Error::aws(&found.id, "DeregisterTaskDefinition", e));
            aws::gone_is_ok(result, |c| c == "ClientException")?;
        }
        Ok(())
    }

    fn uses(_: &Found<TaskDefinitionState>) -> Vec<String> {
        Vec::new()
    }
}

async fn observe_family(
    ctx: &Context,
    family: &str,
    wanted: bool,
) -> Result<Option<Found<TaskDefinitionState>>> {
    let out = match ctx
        .ecs
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await
    {
        Ok(out) => out,
        // No active revision of the family.
        Err(e) if e.code() == Some("ClientException") => return Ok(None),
        Err(e) => {
            return Err(Error::aws(
                format!("task definition {family}"),
                "DescribeTaskDefinition",
                e,
            ));
        }
    };
    let Some(td) = out.task_definition() else {
        return Ok(None);
    };
    if td
        .status()
        .is_some_and(|s| *s != TaskDefinitionStatus::Active)
    {
        return Ok(None);
    }
    let tags = ecs::tags_of(out.tags());
    let Some(id) = named::claim(&ctx.stack, TaskDefinition::LABEL, family, &tags, wanted)? else {
        return Ok(None);
    };
    let arn = td.task_definition_arn().unwrap_or_default();
    Ok(Some(Found {
        id,
        aws_id: arn.to_owned(),
        arn: Some(arn.to_owned()),
        state: format!("revision {}", td.revision()),
        tags,
        detail: state_of(td),
    }))
}

/// Registers a revision with the desired container (for both create and update).
async fn register(
    ctx: &Context,
    id: &str,
    desired: &TaskDefinition,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let mut want = desired.container(refs);
    if let ImageRef::Built(image) = &desired.image {
        want.image = Ref::new(refs, image, Attr::Url).resolve(refs, id)?;
    }
    want.environment
        .insert("SQS_QUEUE_URL".into(), want.queue_url.resolve(refs, id)?);
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &desired.log_group_name)
        .options("awslogs-region", &desired.region)
        .options("awslogs-stream-prefix", CONTAINER)
        .build()
        .map_err(|e| Error::unexpected(id, format!("log configuration: {e}")))?;
    let container = ContainerDefinition::builder()
        .name(CONTAINER)
        .image(&want.image)
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(i32::from(desired.port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(
            want.environment
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .log_configuration(log)
        .build();
    let out = ctx
        .ecs
        .register_task_definition()
        .family(&desired.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu(desired.cpu.to_string())
        .memory(desired.memory.to_string())
        .execution_role_arn(want.execution_role.resolve(refs, id)?)
        .task_role_arn(want.task_role.resolve(refs, id)?)
        .container_definitions(container)
        .set_tags(Some(ecs::to_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "RegisterTaskDefinition", e))?;
    let arn = out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .ok_or_else(|| Error::unexpected(id, "RegisterTaskDefinition returned no ARN"))?;
    Ok(Output::arn(arn))
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;

    use super::*;
    use crate::resources::testing;

    fn desired() -> TaskDefinition {
        TaskDefinition {
            family: "s".into(),
            image: ImageRef::Given("repo/app:1".into()),
            cpu: 256,
            memory: 512,
            port: 5000,
            environment: BTreeMap::new(),
            queue: "queue".into(),
            log_group: "log-group".into(),
            log_group_name: "/stackctl/s".into(),
            region: "us-east-1".into(),
            execution_role: "execution-role".into(),
            task_role: "task-role".into(),
        }
    }

    fn refs() -> Outputs {
        testing::refs(&[
            ("queue", "q"),
            ("log-group", "/stackctl/s"),
            ("execution-role", "exec"),
            ("task-role", "task"),
        ])
    }

    fn state() -> TaskDefinitionState {
        TaskDefinitionState {
            revision: 1,
            image: "repo/app:1".into(),
            cpu: "256".into(),
            memory: "512".into(),
            port: Some(5000),
            environment: [
                ("ENV", "prod"),
                ("PORT", "5000"),
                ("SQS_QUEUE_URL", "url:q"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            log_group: "/stackctl/s".into(),
            execution_role_arn: "arn:exec".into(),
            task_role_arn: "arn:task".into(),
        }
    }

    #[test]
    fn the_same_container_is_unchanged_and_a_new_image_is_one_field() {
        assert!(desired().diff(&state(), &refs()).is_empty());
        let mut s = state();
        s.image = "repo/app:0".into();
        let d = desired().diff(&s, &refs());
        assert_eq!(
            d.fields[0].describe(),
            FieldChange::new("image", "repo/app:0", "repo/app:1")
        );
    }

    #[test]
    fn a_queue_made_in_this_run_shows_as_new() {
        let mut refs = refs();
        refs.remove("queue");
        let d = desired().diff(&state(), &refs);
        assert!(
            d.fields[0].to.contains("SQS_QUEUE_URL=(new queue)"),
            "{d:?}"
        );
    }

    #[tokio::test]
    async fn any_change_registers_exactly_one_revision() {
        let register = aws_smithy_mocks::mock!(aws_sdk_ecs::Client::register_task_definition)
            .then_output(|| {
                RegisterTaskDefinitionOutput::builder()
                    .task_definition(
                        AwsTaskDefinition::builder()
                            .task_definition_arn("arn:aws:ecs:us-east-1:1:task-definition/s:2")
                            .build(),
                    )
                    .build()
            });
        let ctx = testing::ecs(&[&register]);
        let found = testing::found("task-definition", "arn:td:1", state());
        let fields = vec![Field {
            name: "cpu",
            from: "256".into(),
            to: "512".into(),
        }];
        let out = desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert!(out.aws_id.ends_with("s:2"));
        assert_eq!(register.num_calls(), 1);
    }

    #[test]
    fn the_family_is_the_arn_without_its_revision() {
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:1:task-definition/shop-web:12"),
            "shop-web"
        );
    }
}
