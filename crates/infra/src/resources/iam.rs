//! The task execution role (the AWS managed ECS task execution policy: pull images, write
//! logs) and the task role (an inline policy allowing only this stack's queue). Policies
//! attached or edited by hand are drift and are put back.

use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::collections::BTreeSet;

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::{Detail, Diff, Kind, Observed, Output, Outputs, check_owner, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::spec::Names;
use crate::tags::{self, ID_TAG, Tags};

pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
pub const TASK_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
pub const QUEUE_POLICY_NAME: &str = "queue-access";
pub const QUEUE_ACTIONS: [&str; 4] = [
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineQueuePolicy {
    /// Logical id of the queue the role may use.
    pub queue: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub managed_policies: Vec<String>,
    pub queue_policy: Option<InlineQueuePolicy>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleState {
    pub trust_policy: Option<Value>,
    pub managed_policies: BTreeSet<String>,
    /// Every inline policy by name, with its document where it could be read.
    pub inline_policies: Vec<(String, Option<Value>)>,
}

pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": ECS_TASKS },
            "Action": "sts:AssumeRole"
        }]
    })
}

pub fn queue_policy(queue_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": QUEUE_ACTIONS,
            "Resource": queue_arn
        }]
    })
}

/// IAM returns documents URL-encoded; some emulators do not.
fn parse_document(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

/// A policy document in a canonical form: one-element lists and bare strings are the same
/// to IAM, and so is the order of actions.
fn normalize(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("Action" | "Resource" | "NotAction" | "Service", Value::String(s)) => {
                            Value::Array(vec![Value::String(s.clone())])
                        }
                        ("Action" | "Resource" | "NotAction" | "Service", Value::Array(items)) => {
                            let mut items = items.clone();
                            items.sort_by_key(|a| a.to_string());
                            Value::Array(items)
                        }
                        _ => normalize(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

fn same_policy(a: Option<&Value>, b: &Value) -> bool {
    a.is_some_and(|a| normalize(a) == normalize(b))
}

fn wanted_inline(desired: &Role, refs: &Outputs) -> Option<Value> {
    let policy = desired.queue_policy.as_ref()?;
    let arn = refs
        .get(&policy.queue)
        .and_then(|o| o.arn.clone())
        .unwrap_or_else(|| format!("(new {})", policy.queue));
    Some(queue_policy(&arn))
}

fn show_set<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let list: Vec<&str> = items.map(|s| s.rsplit('/').next().unwrap_or(s)).collect();
    if list.is_empty() {
        "(none)".into()
    } else {
        list.join(", ")
    }
}

pub fn diff(desired: &Role, observed: &RoleState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if !same_policy(observed.trust_policy.as_ref(), &trust_policy()) {
        diff.field(
            "trust_policy",
            "(edited)",
            format!("only {ECS_TASKS} may assume it"),
        );
    }
    let want: BTreeSet<String> = desired.managed_policies.iter().cloned().collect();
    if observed.managed_policies != want {
        diff.field(
            "managed_policies",
            show_set(observed.managed_policies.iter()),
            show_set(want.iter()),
        );
    }
    let inline = wanted_inline(desired, refs);
    let names: Vec<String> = observed
        .inline_policies
        .iter()
        .map(|(n, _)| n.clone())
        .collect();
    let want_names: Vec<String> = inline
        .iter()
        .map(|_| QUEUE_POLICY_NAME.to_owned())
        .collect();
    if names != want_names {
        diff.field(
            "inline_policies",
            show_set(names.iter()),
            show_set(want_names.iter()),
        );
    } else if let Some(want) = &inline {
        let have = observed
            .inline_policies
            .first()
            .and_then(|(_, d)| d.as_ref());
        if !same_policy(have, want) {
            diff.field(
                QUEUE_POLICY_NAME,
                "(edited)",
                format!(
                    "{} on {}",
                    QUEUE_ACTIONS.join(", "),
                    want["Statement"][0]["Resource"].as_str().unwrap_or("?")
                ),
            );
        }
    }
    diff
}

pub async fn observe(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    let (execution, task) = tokio::try_join!(
        observe_one(ctx, &names.execution_role),
        observe_one(ctx, &names.task_role),
    )?;
    Ok(execution.into_iter().chain(task).collect())
}

async fn observe_one(ctx: &Context, name: &str) -> Result<Option<Observed>> {
    let resource = format!("IAM role {name}");
    let role = match ctx.iam.get_role().role_name(name).send().await {
        Ok(out) => out.role,
        Err(e) if e.code() == Some("NoSuchEntity") => return Ok(None),
        Err(e) => return Err(Error::aws(resource, "GetRole", e)),
    };
    let Some(role) = role else {
        return Ok(None);
    };
    let tags: Tags = role
        .tags()
        .iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect();
    check_owner(ctx, Kind::Role, name, &tags)?;
    let Some(id) = tags.get(ID_TAG).cloned() else {
        return Ok(None);
    };
    let (attached, inline) = tokio::join!(
        ctx.iam.list_attached_role_policies().role_name(name).send(),
        ctx.iam.list_role_policies().role_name(name).send(),
    );
    let managed_policies = attached
        .map_err(|e| Error::aws(&resource, "ListAttachedRolePolicies", e))?
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    let inline_names = inline
        .map_err(|e| Error::aws(&resource, "ListRolePolicies", e))?
        .policy_names;
    let mut inline_policies = Vec::new();
    for policy in inline_names {
        // Only our own policy's document is compared; any other inline policy is drift as a whole.
        let document = if policy == QUEUE_POLICY_NAME {
            let out = ctx
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy)
                .send()
                .await
                .map_err(|e| Error::aws(&resource, "GetRolePolicy", e))?;
            parse_document(out.policy_document())
        } else {
            None
        };
        inline_policies.push((policy, document));
    }
    Ok(Some(Observed {
        id,
        kind: Kind::Role,
        aws_id: name.to_owned(),
        arn: Some(role.arn().to_owned()),
        state: "available".into(),
        tags,
        detail: Detail::Role(RoleState {
            trust_policy: role.assume_role_policy_document().and_then(parse_document),
            managed_policies,
            inline_policies,
        }),
    }))
}

fn iam_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| Error::unexpected("IAM role", format!("invalid tag {k}: {e}")))
        })
        .collect()
}

async fn put_queue_policy(ctx: &Context, id: &str, name: &str, document: &Value) -> Result<()> {
    ctx.iam
        .put_role_policy()
        .role_name(name)
        .policy_name(QUEUE_POLICY_NAME)
        .policy_document(document.to_string())
        .send()
        .await
        .map_err(|e| Error::aws(id, "PutRolePolicy", e))?;
    Ok(())
}

async fn attach(ctx: &Context, id: &str, name: &str, arn: &str) -> Result<()> {
    ctx.iam
        .attach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AttachRolePolicy", e))?;
    Ok(())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &Role,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    if let Some(policy) = &desired.queue_policy {
        resolve(refs, id, &policy.queue)?;
    }
    let out = ctx
        .iam
        .create_role()
        .role_name(&desired.name)
        .description(&desired.description)
        .assume_role_policy_document(trust_policy().to_string())
        .set_tags(Some(iam_tags(tags)?))
        .send()
        .await
        .map_err(|e| Error::aws(id, "CreateRole", e))?;
    for arn in &desired.managed_policies {
        attach(ctx, id, &desired.name, arn).await?;
    }
    if let Some(document) = wanted_inline(desired, refs) {
        put_queue_policy(ctx, id, &desired.name, &document).await?;
    }
    Ok(Output {
        aws_id: desired.name.clone(),
        arn: out.role().map(|r| r.arn().to_owned()),
        url: None,
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &Role,
    state: &RoleState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let (id, name) = (&observed.id, &desired.name);
    if !same_policy(state.trust_policy.as_ref(), &trust_policy()) {
        ctx.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy().to_string())
            .send()
            .await
            .map_err(|e| Error::aws(id, "UpdateAssumeRolePolicy", e))?;
    }
    for arn in state
        .managed_policies
        .iter()
        .filter(|a| !desired.managed_policies.contains(a))
    {
        ctx.iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| Error::aws(id, "DetachRolePolicy", e))?;
    }
    for arn in desired
        .managed_policies
        .iter()
        .filter(|a| !state.managed_policies.contains(*a))
    {
        attach(ctx, id, name, arn).await?;
    }
    let inline = wanted_inline(desired, refs);
    for (policy, document) in &state.inline_policies {
        match &inline {
            Some(want) if policy == QUEUE_POLICY_NAME => {
                if !same_policy(document.as_ref(), want) {
                    put_queue_policy(ctx, id, name, want).await?;
                }
            }
            _ => {
                ctx.iam
                    .delete_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| Error::aws(id, "DeleteRolePolicy", e))?;
            }
        }
    }
    if let Some(want) = &inline
        && !state
            .inline_policies
            .iter()
            .any(|(p, _)| p == QUEUE_POLICY_NAME)
    {
        put_queue_policy(ctx, id, name, want).await?;
    }
    let missing = tags::missing(tags, &observed.tags);
    if !missing.is_empty() {
        ctx.iam
            .tag_role()
            .role_name(name)
            .set_tags(Some(iam_tags(&missing)?))
            .send()
            .await
            .map_err(|e| Error::aws(id, "TagRole", e))?;
    }
    Ok(Output::of(observed))
}

pub async fn delete(ctx: &Context, observed: &Observed, state: &RoleState) -> Result<()> {
    let (id, name) = (&observed.id, &observed.aws_id);
    let gone = |code: Option<&str>| code == Some("NoSuchEntity");
    for arn in &state.managed_policies {
        if let Err(e) = ctx
            .iam
            .detach_role_policy()
            .role_name(name)
            .policy_arn(arn)
            .send()
            .await
            && !gone(e.code())
        {
            return Err(Error::aws(id, "DetachRolePolicy", e));
        }
    }
    for (policy, _) in &state.inline_policies {
        if let Err(e) = ctx
            .iam
            .delete_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await
            && !gone(e.code())
        {
            return Err(Error::aws(id, "DeleteRolePolicy", e));
        }
    }
    match ctx.iam.delete_role().role_name(name).send().await {
        Err(e) if !gone(e.code()) => Err(Error::aws(id, "DeleteRole", e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:1:s-messages";

    fn task_role() -> Role {
        Role {
            name: "s-task".into(),
            description: "d".into(),
            managed_policies: Vec::new(),
            queue_policy: Some(InlineQueuePolicy {
                queue: "queue".into(),
            }),
        }
    }

    fn refs() -> Outputs {
        [(
            "queue".to_owned(),
            Output {
                aws_id: "u".into(),
                arn: Some(QUEUE_ARN.into()),
                url: None,
            },
        )]
        .into()
    }

    fn state(doc: Value) -> RoleState {
        RoleState {
            trust_policy: Some(trust_policy()),
            managed_policies: BTreeSet::new(),
            inline_policies: vec![(QUEUE_POLICY_NAME.into(), Some(doc))],
        }
    }

    #[test]
    fn equivalent_documents_are_unchanged() {
        let mut doc = queue_policy(QUEUE_ARN);
        doc["Statement"][0]["Action"] = json!([
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes"
        ]);
        assert_eq!(diff(&task_role(), &state(doc), &refs()), Diff::default());
    }

    #[test]
    fn a_policy_widened_by_hand_is_drift() {
        let mut doc = queue_policy(QUEUE_ARN);
        doc["Statement"][0]["Action"] = json!("sqs:*");
        let d = diff(&task_role(), &state(doc), &refs());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, QUEUE_POLICY_NAME);
    }

    #[test]
    fn an_attached_managed_policy_is_drift() {
        let mut s = state(queue_policy(QUEUE_ARN));
        s.managed_policies
            .insert("arn:aws:iam::aws:policy/AdministratorAccess".into());
        let d = diff(&task_role(), &s, &refs());
        assert_eq!(
            (d.fields[0].from.as_str(), d.fields[0].to.as_str()),
            ("AdministratorAccess", "(none)")
        );
    }

    #[test]
    fn url_encoded_documents_are_read() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(
            parse_document(encoded),
            Some(json!({ "Version": "2012-10-17" }))
        );
    }
}
