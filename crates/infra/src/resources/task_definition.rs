//! The Fargate task definition: one container running the service's image, its port, its
//! environment (`ENV`, `PORT`, and `SQS_QUEUE_URL` from the stack's queue), logs to the
//! stack's log group, and the execution and task roles. A change registers a new revision; an
//! unchanged one registers nothing.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, KeyValuePair, LogConfiguration, LogDriver, NetworkMode,
    PortMapping, TaskDefinition as AwsTaskDefinition, TaskDefinitionField, TransportProtocol,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::cluster::{ecs_tags, tags_of};
use super::{Detail, Diff, Kind, Observed, Output, Outputs, check_owner, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::tags::{ID_TAG, Tags};

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

/// The environment the container gets, with ids not yet known shown as `(new …)`.
fn environment(desired: &TaskDefinition, refs: &Outputs) -> BTreeMap<String, String> {
    let mut env = desired.environment.clone();
    env.entry("ENV".into()).or_insert_with(|| "prod".into());
    env.insert("PORT".into(), desired.port.to_string());
    let queue = refs
        .get(&desired.queue)
        .and_then(|o| o.url.clone())
        .unwrap_or_else(|| format!("(new {})", desired.queue));
    env.insert("SQS_QUEUE_URL".into(), queue);
    env
}

fn arn_of(refs: &Outputs, logical: &str) -> String {
    refs.get(logical)
        .and_then(|o| o.arn.clone())
        .unwrap_or_else(|| format!("(new {logical})"))
}

fn show_env(env: &BTreeMap<String, String>) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn image_of(desired: &TaskDefinition, refs: &Outputs) -> String {
    match &desired.image {
        ImageRef::Given(image) => image.clone(),
        ImageRef::Built(id) => refs
            .get(id)
            .and_then(|o| o.url.clone())
            .unwrap_or_else(|| format!("(new {id})")),
    }
}

pub fn diff(desired: &TaskDefinition, observed: &TaskDefinitionState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    diff.compare("image", observed.image.clone(), image_of(desired, refs));
    diff.compare("cpu", observed.cpu.clone(), desired.cpu.to_string());
    diff.compare(
        "memory",
        observed.memory.clone(),
        desired.memory.to_string(),
    );
    diff.compare(
        "port",
        observed.port.unwrap_or_default(),
        i32::from(desired.port),
    );
    let env = environment(desired, refs);
    if observed.environment != env {
        diff.field(
            "environment",
            show_env(&observed.environment),
            show_env(&env),
        );
    }
    diff.compare(
        "log_group",
        observed.log_group.as_str(),
        desired.log_group_name.as_str(),
    );
    diff.compare(
        "execution_role",
        observed.execution_role_arn.clone(),
        arn_of(refs, &desired.execution_role),
    );
    diff.compare(
        "task_role",
        observed.task_role_arn.clone(),
        arn_of(refs, &desired.task_role),
    );
    diff
}

fn observed_from(id: String, td: &AwsTaskDefinition, tags: Tags) -> Observed {
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
    Observed {
        id,
        kind: Kind::TaskDefinition,
        aws_id: td.task_definition_arn().unwrap_or_default().to_owned(),
        arn: td.task_definition_arn().map(str::to_owned),
        state: format!("revision {}", td.revision()),
        tags,
        detail: Detail::TaskDefinition(TaskDefinitionState {
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
        }),
    }
}

pub async fn observe(ctx: &Context, family: &str) -> Result<Vec<Observed>> {
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
        Err(e) if e.code() == Some("ClientException") => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::aws(
                format!("task definition {family}"),
                "DescribeTaskDefinition",
                e,
            ));
        }
    };
    let Some(td) = out.task_definition() else {
        return Ok(Vec::new());
    };
    if td.status().is_some_and(|s| s.as_str() != "ACTIVE") {
        return Ok(Vec::new());
    }
    let tags = tags_of(out.tags());
    check_owner(ctx, Kind::TaskDefinition, family, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(Vec::new());
    };
    Ok(vec![observed_from(id, td, tags)])
}

/// Registers a revision with the desired container (used for both create and update).
pub async fn register(
    ctx: &Context,
    id: &str,
    desired: &TaskDefinition,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let queue = resolve(refs, id, &desired.queue)?;
    let execution = resolve(refs, id, &desired.execution_role)?;
    let task = resolve(refs, id, &desired.task_role)?;
    if let ImageRef::Built(image) = &desired.image {
        resolve(refs, id, image)?;
    }
    let mut env = environment(desired, refs);
    env.insert(
        "SQS_QUEUE_URL".into(),
        queue.url.clone().unwrap_or_else(|| queue.aws_id.clone()),
    );
    let container = ContainerDefinition::builder()
        .name(CONTAINER)
        .image(image_of(desired, refs))
        .essential(true)
        .port_mappings(
            PortMapping::builder()
                .container_port(i32::from(desired.port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        )
        .set_environment(Some(
            env.iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awslogs)
                .options("awslogs-group", &desired.log_group_name)
                .options("awslogs-region", &desired.region)
                .options("awslogs-stream-prefix", CONTAINER)
                .build()
                .map_err(|e| Error::unexpected(id, format!("log configuration: {e}")))?,
        )
        .build();
    let out = ctx
        .ecs
        .register_task_definition()
        .family(&desired.family)
        .requires_compatibilities(Compatibility::Fargate)
        .network_mode(NetworkMode::Awsvpc)
        .cpu(desired.cpu.to_string())
        .memory(desired.memory.to_string())
        .execution_role_arn(execution.arn.clone().unwrap_or_default())
        .task_role_arn(task.arn.clone().unwrap_or_default())
        .container_definitions(container)
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| Error::aws(id, "RegisterTaskDefinition", e))?;
    let arn = out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .ok_or_else(|| Error::unexpected(id, "RegisterTaskDefinition returned no ARN"))?
        .to_owned();
    Ok(Output {
        aws_id: arn.clone(),
        arn: Some(arn),
        url: None,
    })
}

/// Deregisters every active revision of the family (revisions cannot be deleted while active).
pub async fn delete(ctx: &Context, observed: &Observed, family: &str) -> Result<()> {
    let out = ctx
        .ecs
        .list_task_definitions()
        .family_prefix(family)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .map_err(|e| Error::aws(&observed.id, "ListTaskDefinitions", e))?;
    // familyPrefix also matches longer family names; only ours go.
    let ours = out.task_definition_arns().iter().filter(|arn| {
        arn.rsplit('/')
            .next()
            .and_then(|r| r.rsplit_once(':'))
            .is_some_and(|(f, _)| f == family)
    });
    for arn in ours {
        match ctx
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if e.code() == Some("ClientException") => {}
            Err(e) => return Err(Error::aws(&observed.id, "DeregisterTaskDefinition", e)),
        }
    }
    Ok(())
}
