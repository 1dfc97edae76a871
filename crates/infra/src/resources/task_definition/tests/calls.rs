//! The task definition's AWS calls: what `create` registers, read back by `observe`, is
//! unchanged; only the stack's families are read; `delete` deregisters every active revision
//! of the family and no other family's.

use std::sync::{Arc, Mutex};

use aws_sdk_ecs::operation::deregister_task_definition::{
    DeregisterTaskDefinitionError, DeregisterTaskDefinitionOutput,
};
use aws_sdk_ecs::operation::describe_task_definition::{
    DescribeTaskDefinitionError, DescribeTaskDefinitionOutput,
};
use aws_sdk_ecs::operation::list_task_definition_families::ListTaskDefinitionFamiliesOutput;
use aws_sdk_ecs::operation::list_task_definitions::ListTaskDefinitionsOutput;
use aws_sdk_ecs::operation::register_task_definition::RegisterTaskDefinitionOutput;
use aws_sdk_ecs::types::{Tag, TaskDefinition as AwsTaskDefinition};
use aws_smithy_mocks::{Rule, mock};

use super::*;
use crate::contract::Scope;
use crate::resources::testing::fails;

fn arn(family: &str, revision: i32) -> String {
    format!("arn:aws:ecs:us-east-1:1:task-definition/{family}:{revision}")
}

/// RegisterTaskDefinition answering revision 1 and keeping what was registered.
fn registering(registered: &Arc<Mutex<Option<AwsTaskDefinition>>>) -> Rule {
    let keep = Arc::clone(registered);
    mock!(aws_sdk_ecs::Client::register_task_definition)
        .match_requests(move |r| {
            let td = AwsTaskDefinition::builder()
                .task_definition_arn(arn(r.family().unwrap_or_default(), 1))
                .revision(1)
                .set_cpu(r.cpu().map(str::to_owned))
                .set_memory(r.memory().map(str::to_owned))
                .set_execution_role_arn(r.execution_role_arn().map(str::to_owned))
                .set_task_role_arn(r.task_role_arn().map(str::to_owned))
                .set_container_definitions(Some(r.container_definitions().to_vec()))
                .set_requires_compatibilities(Some(r.requires_compatibilities().to_vec()))
                .set_network_mode(r.network_mode().cloned())
                .build();
            *keep.lock().unwrap() = Some(td);
            true
        })
        .then_output(|| {
            let td = AwsTaskDefinition::builder()
                .task_definition_arn(arn("s", 1))
                .build();
            RegisterTaskDefinitionOutput::builder()
                .task_definition(td)
                .build()
        })
}

fn stack_tags(id: &str) -> Vec<Tag> {
    testing::stack_tags(id)
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

#[tokio::test]
async fn what_create_registers_reads_back_unchanged() {
    let registered = Arc::new(Mutex::new(None));
    let register = registering(&registered);
    let ctx = testing::ecs(&[&register]);
    let creating = testing::Creating::new("task-definition".into(), refs());
    let output = desired().create(&ctx, creating.get()).await.unwrap();
    assert_eq!(output.aws_id, arn("s", 1));
    let td = registered.lock().unwrap().clone().unwrap();
    assert_eq!(td.network_mode(), Some(&NetworkMode::Awsvpc));
    assert_eq!(td.requires_compatibilities(), [Compatibility::Fargate]);
    let container = &td.container_definitions()[0];
    assert_eq!(container.essential(), Some(true));
    let log = container.log_configuration().unwrap();
    assert_eq!(log.log_driver(), &LogDriver::Awslogs);

    let families = mock!(aws_sdk_ecs::Client::list_task_definition_families)
        .match_requests(|r| r.family_prefix() == Some("s"))
        .then_output(|| {
            ListTaskDefinitionFamiliesOutput::builder()
                .families("s")
                .families("shop")
                .build()
        });
    let describe = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some("s"))
        .then_output(move || {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(td.clone())
                .set_tags(Some(stack_tags("task-definition")))
                .build()
        });
    let list = mock!(aws_sdk_ecs::Client::list_task_definitions)
        .match_requests(|r| r.family_prefix() == Some("s"))
        .then_output(|| {
            ListTaskDefinitionsOutput::builder()
                .task_definition_arns(arn("s", 1))
                .task_definition_arns(arn("s-web", 4))
                .build()
        });
    let ctx = testing::ecs(&[&families, &describe, &list]);
    let found = TaskDefinition::observe(&Scope::new(&ctx), &[])
        .await
        .unwrap();
    assert_eq!(
        found.len(),
        1,
        "the family shop is another stack's: {found:?}"
    );
    assert_eq!(
        (found[0].id.as_str(), found[0].state.as_str()),
        ("task-definition", "revision 1")
    );
    assert!(found[0].detail.older.is_empty(), "s-web is another family");
    let diff = desired().diff(&found[0].detail, &refs());
    assert!(diff.is_empty(), "{diff:?}");
}

#[tokio::test]
async fn a_built_image_is_the_repository_url_of_the_pushed_image() {
    let registered = Arc::new(Mutex::new(None));
    let register = registering(&registered);
    let ctx = testing::ecs(&[&register]);
    let built = TaskDefinition {
        image: ImageRef::Built("image".into()),
        ..desired()
    };
    let mut refs = refs();
    refs.extend(testing::refs(&[("image", "digest")]));
    let creating = testing::Creating::new("task-definition".into(), refs);
    built.create(&ctx, creating.get()).await.unwrap();
    let td = registered.lock().unwrap().clone().unwrap();
    assert_eq!(td.container_definitions()[0].image(), Some("url:digest"));
}

#[tokio::test]
async fn a_family_without_an_active_revision_is_not_found() {
    let families = mock!(aws_sdk_ecs::Client::list_task_definition_families).then_output(|| {
        ListTaskDefinitionFamiliesOutput::builder()
            .families("s")
            .build()
    });
    let gone = fails!(
        aws_sdk_ecs,
        describe_task_definition,
        DescribeTaskDefinitionError,
        "ClientException"
    );
    let none = mock!(aws_sdk_ecs::Client::list_task_definitions)
        .then_output(|| ListTaskDefinitionsOutput::builder().build());
    let ctx = testing::ecs(&[&families, &gone, &none]);
    let found = TaskDefinition::observe(&Scope::new(&ctx), &[])
        .await
        .unwrap();
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(gone.num_calls(), 1);
}

#[tokio::test]
async fn delete_deregisters_every_active_revision_of_the_family_alone() {
    let list = mock!(aws_sdk_ecs::Client::list_task_definitions)
        .match_requests(|r| r.family_prefix() == Some("s"))
        .then_output(|| {
            ListTaskDefinitionsOutput::builder()
                .task_definition_arns(arn("s", 2))
                .task_definition_arns(arn("s", 3))
                .task_definition_arns(arn("s-web", 1))
                .build()
        });
    let deregistered = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&deregistered);
    let deregister = mock!(aws_sdk_ecs::Client::deregister_task_definition)
        .match_requests(move |r| {
            keep.lock()
                .unwrap()
                .push(r.task_definition().unwrap_or_default().to_owned());
            true
        })
        .then_output(|| DeregisterTaskDefinitionOutput::builder().build());
    let ctx = testing::ecs(&[&list, &deregister]);
    let found = testing::found("task-definition", &arn("s", 3), state());
    TaskDefinition::delete(&ctx, &found, &|_| {}).await.unwrap();
    assert_eq!(*deregistered.lock().unwrap(), [arn("s", 2), arn("s", 3)]);

    // A revision deregistered meanwhile is no error.
    let gone = fails!(
        aws_sdk_ecs,
        deregister_task_definition,
        DeregisterTaskDefinitionError,
        "ClientException"
    );
    let ctx = testing::ecs(&[&list, &gone]);
    TaskDefinition::delete(&ctx, &found, &|_| {}).await.unwrap();
    assert_eq!(gone.num_calls(), 2);
}
