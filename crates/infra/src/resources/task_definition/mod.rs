//! The Fargate task definition: one container running the service's image (and command),
//! its port, its environment (`ENV`, `PORT`, and `SQS_QUEUE_URL_<NAME>` for each of its
//! queues), its secrets, logs to the stack's log group, and the execution and task roles. A change registers a new revision
//! (which the service then rolls out); an unchanged one registers nothing.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    Compatibility, ContainerDefinition, KeyValuePair, LogConfiguration, LogDriver, NetworkMode,
    PortMapping, Secret, TaskDefinitionStatus, TransportProtocol,
};

mod model;
mod revisions;

pub use model::{
    CONTAINER, Field, ImageRef, TaskDefinition, TaskDefinitionState, family_of, revision_of,
};
pub use revisions::image_of;
use revisions::{deregister, observe_family};

use crate::aws::{self, ecs, named};
use crate::change::Diff;
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

/// The container as wanted, with references that may be made in this run.
struct Container {
    image: String,
    environment: BTreeMap<String, String>,
    /// (variable, queue URL) for each queue.
    queue_urls: Vec<(String, Ref)>,
    execution_role: Ref,
    task_role: Ref,
}

impl TaskDefinition {
    fn container(&self, refs: &Outputs) -> Container {
        let image = match &self.image {
            ImageRef::Given(image) => image.clone(),
            ImageRef::Built(id) => Ref::new(refs, id, Attr::Url).to_string(),
        };
        let mut queue_urls: Vec<(String, Ref)> = self
            .queues
            .iter()
            .map(|(suffix, id)| {
                (
                    format!("SQS_QUEUE_URL_{suffix}"),
                    Ref::new(refs, id, Attr::Url),
                )
            })
            .collect();
        if let [(_, id)] = self.queues.as_slice() {
            queue_urls.push(("SQS_QUEUE_URL".into(), Ref::new(refs, id, Attr::Url)));
        }
        let mut environment = self.environment.clone();
        environment
            .entry("ENV".into())
            .or_insert_with(|| "prod".into());
        if let Some(port) = self.port {
            environment.insert("PORT".into(), port.to_string());
        }
        for (name, url) in &queue_urls {
            environment.insert(name.clone(), url.to_string());
        }
        Container {
            image,
            environment,
            queue_urls,
            execution_role: Ref::new(refs, &self.execution_role, Attr::Arn),
            task_role: Ref::new(refs, &self.task_role, Attr::Arn),
        }
    }
}

/// The variables that differ, as the plan shows them: `K=old` → `K=new`, and `K unset` for
/// one on the side that lacks it (the rest of the environment stays as it is).
fn env_changes(
    found: &BTreeMap<String, String>,
    want: &BTreeMap<String, String>,
) -> (String, String) {
    let show = |env: &BTreeMap<String, String>, key: &str| {
        env.get(key)
            .map_or_else(|| format!("{key} unset"), |v| format!("{key}={v}"))
    };
    let keys: std::collections::BTreeSet<&String> = found.keys().chain(want.keys()).collect();
    let (from, to): (Vec<String>, Vec<String>) = keys
        .into_iter()
        .filter(|k| found.get(*k) != want.get(*k))
        .map(|k| (show(found, k), show(want, k)))
        .unzip();
    (from.join(" "), to.join(" "))
}

impl Resource for TaskDefinition {
    type State = TaskDefinitionState;
    type Field = Field;
    const LABEL: &'static str = "task definition";

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs: Vec<&ResourceId> = self.queues.iter().map(|(_, id)| id).collect();
        refs.extend([&self.log_group, &self.execution_role, &self.task_role]);
        if let ImageRef::Built(image) = &self.image {
            refs.push(image);
        }
        refs
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
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
        let ours: Vec<&String> = families
            .iter()
            .filter(|f| named::belongs(&ctx.stack, f))
            .collect();
        let found = aws::each(ours, |family| {
            let wanted = wanted.iter().any(|w| &w.spec.family == family);
            observe_family(ctx, family, wanted)
        })
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &TaskDefinitionState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let want = self.container(refs);
        let mut compare = |name: &'static str, from: String, to: String| {
            diff.push_if(from != to, || Field::Container { name, from, to });
        };
        compare("image", found.image.clone(), want.image);
        compare("cpu", found.cpu.clone(), self.cpu.to_string());
        compare("memory", found.memory.clone(), self.memory.to_string());
        let show_port = |p: Option<i32>| p.map_or_else(|| "(none)".into(), |p| p.to_string());
        compare(
            "port",
            show_port(found.port),
            show_port(self.port.map(i32::from)),
        );
        compare("command", found.command.join(" "), self.command.join(" "));
        let (from, to) = env_changes(&found.secrets, &self.secrets);
        compare("secrets", from, to);
        let (from, to) = env_changes(&found.environment, &want.environment);
        compare("environment", from, to);
        compare(
            "log_group",
            found.log_group.clone(),
            self.log_group_name.clone(),
        );
        compare(
            "log_stream_prefix",
            found.log_stream_prefix.clone(),
            self.log_stream_prefix.clone(),
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
        // The newest revision runs; the one before stays for a rollback; the rest go. A new
        // revision makes the running one the one before: then every older one goes.
        let keep = usize::from(diff.fields.is_empty());
        if found.older.len() > keep {
            diff.push(Field::OldRevisions(found.older[keep..].to_vec()));
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        register(ctx, new.id, self, new.tags, new.refs).await
    }

    /// A task definition is never changed in place: a new revision is registered. Old
    /// revisions are deregistered.
    async fn update(
        &self,
        ctx: &Context,
        found: &Found<TaskDefinitionState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        for field in fields {
            if let Field::OldRevisions(arns) = field {
                deregister(ctx, &found.id, arns).await?;
            }
        }
        if Self::new_id_on_update(fields) {
            register(ctx, &found.id, self, &found.tags, refs).await
        } else {
            Ok(Self::output(found))
        }
    }

    fn new_id_on_update(fields: &[Field]) -> bool {
        fields.iter().any(|f| matches!(f, Field::Container { .. }))
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
        let ours: Vec<String> = arns
            .into_iter()
            .filter(|arn| family_of(arn) == family)
            .collect();
        deregister(ctx, &found.id, &ours).await
    }

    fn uses(_: &Found<TaskDefinitionState>) -> Vec<String> {
        Vec::new()
    }
}

/// Registers a revision with the desired container (for both create and update).
async fn register(
    ctx: &Context,
    id: &ResourceId,
    desired: &TaskDefinition,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let mut want = desired.container(refs);
    if let ImageRef::Built(image) = &desired.image {
        want.image = Ref::new(refs, image, Attr::Url).resolve(refs, id)?;
    }
    for (name, url) in &want.queue_urls {
        want.environment
            .insert(name.clone(), url.resolve(refs, id)?);
    }
    let container = container_definition(id, desired, &want)?;
    ctx.rates.take("ecs", "RegisterTaskDefinition").await;
    let out = crate::aws::once!(
        aws_sdk_ecs,
        ctx.ecs
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
    )
    .await
    .map_err(|e| Error::aws(id, "RegisterTaskDefinition", e))?;
    let arn = out
        .task_definition()
        .and_then(|t| t.task_definition_arn())
        .ok_or_else(|| Error::incomplete(id, "RegisterTaskDefinition", "ARN"))?;
    Ok(Output::arn(arn))
}

/// The one container: image, command, port, environment, secrets and logs.
fn container_definition(
    id: &ResourceId,
    desired: &TaskDefinition,
    want: &Container,
) -> Result<ContainerDefinition> {
    let log = LogConfiguration::builder()
        .log_driver(LogDriver::Awslogs)
        .options("awslogs-group", &desired.log_group_name)
        .options("awslogs-region", &desired.region)
        .options("awslogs-stream-prefix", &desired.log_stream_prefix)
        .build()
        .map_err(Error::request(id, "log configuration"))?;
    let port = desired.port.map(|port| {
        vec![
            PortMapping::builder()
                .container_port(i32::from(port))
                .protocol(TransportProtocol::Tcp)
                .build(),
        ]
    });
    let secrets = desired
        .secrets
        .iter()
        .map(|(name, from)| Secret::builder().name(name).value_from(from).build())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(Error::request(id, "secrets"))?;
    Ok(ContainerDefinition::builder()
        .name(CONTAINER)
        .image(&want.image)
        .essential(true)
        .set_port_mappings(port)
        .set_secrets((!secrets.is_empty()).then_some(secrets))
        .set_command((!desired.command.is_empty()).then(|| desired.command.clone()))
        .set_environment(Some(
            want.environment
                .iter()
                .map(|(k, v)| KeyValuePair::builder().name(k).value(v).build())
                .collect(),
        ))
        .log_configuration(log)
        .build())
}

#[cfg(test)]
mod tests {
    use crate::change::{Describe, FieldChange};
    use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
    use aws_sdk_ecs::types::TaskDefinition as AwsTaskDefinition;

    use super::*;
    use crate::resources::testing;

    mod calls;

    fn desired() -> TaskDefinition {
        TaskDefinition {
            family: "s".into(),
            image: ImageRef::Given("repo/app:1".into()),
            cpu: 256,
            memory: 512,
            port: Some(5000),
            environment: BTreeMap::new(),
            queues: vec![("MESSAGES".into(), "queue".into())],
            secrets: BTreeMap::new(),
            command: Vec::new(),
            log_group: "log-group".into(),
            log_group_name: "/stackctl/s".into(),
            log_stream_prefix: "app".into(),
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
            older: Vec::new(),
            image: "repo/app:1".into(),
            cpu: "256".into(),
            memory: "512".into(),
            port: Some(5000),
            environment: [
                ("ENV", "prod"),
                ("PORT", "5000"),
                ("SQS_QUEUE_URL", "url:q"),
                ("SQS_QUEUE_URL_MESSAGES", "url:q"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
            secrets: BTreeMap::new(),
            command: Vec::new(),
            log_group: "/stackctl/s".into(),
            log_stream_prefix: "app".into(),
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
            d.fields[0]
                .describe()
                .to
                .contains("SQS_QUEUE_URL=(new queue)"),
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
        let fields = vec![Field::Container {
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
    fn a_new_revision_makes_the_running_one_the_rollback_and_the_rest_go() {
        let arn = |n: u32| format!("arn:aws:ecs:us-east-1:1:task-definition/s:{n}");
        let mut s = state();
        // Revision 2 runs, 1 is its rollback; a new image makes 3, so 2 becomes the rollback.
        s.older = vec![arn(1)];
        s.image = "old:1".into();
        let fields = desired().diff(&s, &refs()).fields;
        assert!(TaskDefinition::new_id_on_update(&fields), "{fields:?}");
        assert_eq!(fields.last(), Some(&Field::OldRevisions(vec![arn(1)])));
        // Without a change, the one before stays.
        let mut same = state();
        same.older = vec![arn(1)];
        assert!(desired().diff(&same, &refs()).is_empty());
    }

    #[tokio::test]
    async fn revisions_before_the_previous_one_are_deregistered_and_nothing_registered() {
        use aws_sdk_ecs::operation::deregister_task_definition::DeregisterTaskDefinitionOutput;
        let deregister = crate::resources::testing::rule!(
            aws_sdk_ecs,
            deregister_task_definition,
            DeregisterTaskDefinitionOutput
        );
        let ctx = testing::ecs(&[&deregister]);
        let arn = |n: u32| format!("arn:aws:ecs:us-east-1:1:task-definition/s:{n}");
        let mut s = state();
        s.older = vec![arn(3), arn(2), arn(1)];
        let found = testing::found("task-definition", &arn(4), s);
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(fields, [Field::OldRevisions(vec![arn(2), arn(1)])]);
        assert_eq!(
            fields[0].describe(),
            FieldChange::new("old_revisions", "2, 1", "(deregistered)")
        );
        assert!(
            !TaskDefinition::new_id_on_update(&fields),
            "the service keeps its revision"
        );
        let out = desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(out.aws_id, arn(4));
        assert_eq!(deregister.num_calls(), 2);
    }

    #[test]
    fn the_plan_shows_only_the_variables_that_differ() {
        let env = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect()
        };
        let found = env(&[
            ("ENV", "prod"),
            ("PORT", "5000"),
            ("OLD", "1"),
            ("URL", "u"),
        ]);
        let want = env(&[
            ("ENV", "prod"),
            ("PORT", "8080"),
            ("NEW", "2"),
            ("URL", "u"),
        ]);
        assert_eq!(
            env_changes(&found, &want),
            (
                "NEW unset OLD=1 PORT=5000".to_owned(),
                "NEW=2 OLD unset PORT=8080".to_owned()
            )
        );
        assert_eq!(env_changes(&found, &found), (String::new(), String::new()));
    }

    #[test]
    fn the_family_is_the_arn_without_its_revision() {
        assert_eq!(
            family_of("arn:aws:ecs:us-east-1:1:task-definition/shop-web:12"),
            "shop-web"
        );
    }
}
