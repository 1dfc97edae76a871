//! A family's revisions: the newest ACTIVE one (what the stack runs) with its container read
//! back, the older ACTIVE ones, and deregistering.

use aws_sdk_ecs::types::{
    TaskDefinition as AwsTaskDefinition, TaskDefinitionField, TaskDefinitionStatus,
};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::model::{TaskDefinition, TaskDefinitionState, family_of, revision_of};
use crate::aws::{self, ecs, named};
use crate::context::Context;
use crate::contract::{Found, Resource};
use crate::error::{Error, Result};
use crate::id::ResourceId;

/// The family of a task definition ARN (its last part without the revision).
pub(super) fn state_of(td: &AwsTaskDefinition) -> TaskDefinitionState {
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
    let log_option = |name: &str| {
        container
            .and_then(|c| c.log_configuration())
            .and_then(|l| l.options())
            .and_then(|o| o.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let log_group = log_option("awslogs-group");
    let log_stream_prefix = log_option("awslogs-stream-prefix");
    let secrets = container
        .map(|c| {
            c.secrets()
                .iter()
                .map(|s| (s.name().to_owned(), s.value_from().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    TaskDefinitionState {
        revision: td.revision(),
        secrets,
        command: container.map(|c| c.command().to_vec()).unwrap_or_default(),
        older: Vec::new(),
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
        log_stream_prefix,
        execution_role_arn: td.execution_role_arn().unwrap_or_default().to_owned(),
        task_role_arn: td.task_role_arn().unwrap_or_default().to_owned(),
    }
}

/// The image of one revision (the one a service runs); `None` when it is gone.
pub async fn image_of(ctx: &Context, id: &ResourceId, arn: &str) -> Result<Option<String>> {
    match ctx
        .ecs
        .describe_task_definition()
        .task_definition(arn)
        .send()
        .await
    {
        Ok(out) => Ok(out.task_definition().map(|td| state_of(td).image)),
        Err(e) if e.code() == Some("ClientException") => Ok(None),
        Err(e) => Err(Error::aws(id, "DescribeTaskDefinition", e)),
    }
}

/// Deregisters revisions; one already gone is fine.
pub(super) async fn deregister(ctx: &Context, id: &ResourceId, arns: &[String]) -> Result<()> {
    for arn in arns {
        ctx.rates.take("ecs", "DeregisterTaskDefinition").await;
        let result = ctx
            .ecs
            .deregister_task_definition()
            .task_definition(arn)
            .send()
            .await
            .map_err(|e| Error::aws(id, "DeregisterTaskDefinition", e));
        aws::gone_is_ok(result, |c| c == "ClientException")?;
    }
    Ok(())
}

/// The family's ACTIVE revisions, newest first.
async fn active_revisions(ctx: &Context, family: &str) -> Result<Vec<String>> {
    let arns = aws::all(
        ctx.ecs
            .list_task_definitions()
            .family_prefix(family)
            .status(TaskDefinitionStatus::Active)
            .sort(aws_sdk_ecs::types::SortOrder::Desc)
            .into_paginator()
            .items()
            .send(),
        |e| {
            Error::aws(
                format!("task definition {family}"),
                "ListTaskDefinitions",
                e,
            )
        },
    )
    .await?;
    let mut ours: Vec<String> = arns
        .into_iter()
        .filter(|arn| family_of(arn) == family)
        .collect();
    ours.sort_by_key(|arn| std::cmp::Reverse(revision_of(arn).parse::<u32>().unwrap_or(0)));
    Ok(ours)
}

pub(super) async fn observe_family(
    ctx: &Context,
    family: &str,
    wanted: bool,
) -> Result<Option<Found<TaskDefinitionState>>> {
    // The older revisions are listed beside the newest's describe, not after it.
    let (out, revisions) = tokio::join!(
        ctx.ecs
            .describe_task_definition()
            .task_definition(family)
            .include(TaskDefinitionField::Tags)
            .send(),
        active_revisions(ctx, family)
    );
    let out = match out {
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
    let mut detail = state_of(td);
    detail.older = revisions?.into_iter().filter(|a| a != arn).collect();
    Ok(Some(Found {
        id,
        aws_id: arn.to_owned(),
        arn: Some(arn.to_owned()),
        state: format!("revision {}", td.revision()),
        tags,
        detail,
    }))
}
