//! IAM roles for ECS tasks: execution roles (the AWS managed ECS task execution policy: pull
//! images, write logs; and reading the service's own secrets) and each service's task role
//! (an inline policy allowing exactly its queues, sending or consuming as it says). Policies
//! attached or edited by hand are drift and are put back.

use std::collections::BTreeSet;

use aws_sdk_iam::types::Tag;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;

mod inline;
mod policy;

use inline::resolved;
pub use inline::{Statement, Target, WantedResource, WantedStatement};
pub use policy::{
    BUCKET_ACTIONS, CONSUME_ACTIONS, ECS_TASKS, QUEUE_ACTIONS, QUEUE_POLICY_NAME,
    READ_OBJECT_ACTIONS, SECRETS_MANAGER_ACTIONS, SEND_ACTIONS, SSM_ACTIONS, TASK_EXECUTION_POLICY,
    WRITE_OBJECT_ACTIONS, document, queue_policy, trust_policy,
};
use policy::{parse_document, same_policy};

use crate::aws::{self, named};
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::{self, Tags};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub managed_policies: Vec<String>,
    /// stackctl's inline policy ([`QUEUE_POLICY_NAME`]); none when empty.
    pub policy: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleState {
    pub trust_policy: Option<Value>,
    pub managed_policies: BTreeSet<String>,
    /// Every inline policy by name, with its document where it could be read.
    pub inline_policies: Vec<(String, Option<Value>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    /// The trust policy was edited: only ECS tasks may assume the role.
    TrustPolicy,
    ManagedPolicies {
        have: BTreeSet<String>,
        want: BTreeSet<String>,
    },
    /// Inline policies that are not stackctl's, to delete.
    ExtraInline {
        names: Vec<String>,
        keep: Option<String>,
    },
    /// stackctl's inline policy is missing (`edited: false`) or was edited.
    Policy {
        statements: Vec<WantedStatement>,
        edited: bool,
    },
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::TrustPolicy => FieldChange::new(
                "trust_policy",
                "(edited)",
                format!("only {ECS_TASKS} may assume it"),
            ),
            Self::ManagedPolicies { have, want } => FieldChange::new(
                "managed_policies",
                show_list(have.iter().map(|a| short(a))),
                show_list(want.iter().map(|a| short(a))),
            ),
            Self::ExtraInline { names, keep } => FieldChange::new(
                "inline_policies",
                show_list(names.iter().chain(keep)),
                show_list(keep),
            ),
            Self::Policy {
                statements,
                edited: true,
            } => FieldChange::new(QUEUE_POLICY_NAME, "(edited)", show_list(statements)),
            Self::Policy { .. } => FieldChange::new("inline_policies", "(none)", QUEUE_POLICY_NAME),
        }
    }
}

fn iam_tags(tags: &Tags) -> Result<Vec<Tag>> {
    tags::try_to_sdk(tags, |k, v| Tag::builder().key(k).value(v).build())
        .map_err(Error::request("IAM role", "invalid tag"))
}

impl Role {
    fn policy_field(&self, found: &RoleState, refs: &Outputs) -> Option<Field> {
        let (statements, edited) = inline::differs(&self.policy, &found.inline_policies, refs)?;
        Some(Field::Policy { statements, edited })
    }
}

impl Resource for Role {
    type State = RoleState;
    type Field = Field;
    const LABEL: &'static str = "IAM role";

    fn refs(&self) -> Vec<&ResourceId> {
        self.policy
            .iter()
            .filter_map(|s| match &s.target {
                Target::Resource(id) => Some(id),
                Target::Arn(_) => None,
            })
            .collect()
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let roles = aws::all(ctx.iam.list_roles().into_paginator().items().send(), |e| {
            Error::aws("IAM roles", "ListRoles", e)
        })
        .await?;
        let names: Vec<&str> = roles
            .iter()
            .map(|r| r.role_name())
            .filter(|n| named::belongs(&ctx.stack, n))
            .collect();
        let found = aws::each(names, |name| {
            let wanted = wanted.iter().any(|w| w.spec.name == name);
            observe_one(ctx, name, wanted)
        })
        .await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &RoleState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.push_if(
            !same_policy(found.trust_policy.as_ref(), &trust_policy()),
            || Field::TrustPolicy,
        );
        let want: BTreeSet<String> = self.managed_policies.iter().cloned().collect();
        diff.push_if(found.managed_policies != want, || Field::ManagedPolicies {
            have: found.managed_policies.clone(),
            want,
        });
        let keep = (!self.policy.is_empty()).then(|| QUEUE_POLICY_NAME.to_owned());
        let extra: Vec<String> = found
            .inline_policies
            .iter()
            .map(|(n, _)| n.clone())
            .filter(|n| Some(n) != keep.as_ref())
            .collect();
        diff.push_if(!extra.is_empty(), || Field::ExtraInline {
            names: extra,
            keep,
        });
        diff.fields.extend(self.policy_field(found, refs));
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let out = crate::aws::once!(
            aws_sdk_iam,
            ctx.iam
                .create_role()
                .role_name(&self.name)
                .description(&self.description)
                .assume_role_policy_document(trust_policy().to_string())
                .set_tags(Some(iam_tags(new.tags)?))
        )
        .await
        .map_err(|e| Error::aws(new.id, "CreateRole", e))?;
        for arn in &self.managed_policies {
            attach(ctx, new.id, &self.name, arn).await?;
        }
        if !self.policy.is_empty() {
            let doc = resolved(&inline::wanted(&self.policy, new.refs), new.refs, new.id)?;
            put_policy(ctx, new.id, &self.name, &doc).await?;
        }
        Ok(Output {
            aws_id: self.name.clone(),
            arn: out.role().map(|r| r.arn().to_owned()),
            url: None,
        })
    }

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<RoleState>,
        field: &Field,
        refs: &Outputs,
    ) -> Result<()> {
        apply(ctx, &found.id, &found.aws_id, field, refs).await
    }

    async fn retag(ctx: &Context, found: &Found<RoleState>, tags: &Tags) -> Result<()> {
        ctx.iam
            .tag_role()
            .role_name(&found.aws_id)
            .set_tags(Some(iam_tags(tags)?))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "TagRole", e))?;
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<RoleState>, _: Wait<'_>) -> Result<()> {
        let (id, name) = (&found.id, &found.aws_id);
        let gone = |code: &str| code == "NoSuchEntity";
        for arn in &found.detail.managed_policies {
            aws::gone_is_ok(detach(ctx, id, name, arn).await, gone)?;
        }
        for (policy, _) in &found.detail.inline_policies {
            aws::gone_is_ok(delete_inline(ctx, id, name, policy).await, gone)?;
        }
        let result = ctx
            .iam
            .delete_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| Error::aws(id, "DeleteRole", e));
        aws::gone_is_ok(result, gone)
    }

    fn uses(_: &Found<RoleState>) -> Vec<String> {
        Vec::new()
    }
}

async fn observe_one(ctx: &Context, name: &str, wanted: bool) -> Result<Option<Found<RoleState>>> {
    let resource = format!("IAM role {name}");
    // The policies are read beside the role, not after it: four answers in the time of one.
    let (role, policies) = tokio::join!(
        ctx.iam.get_role().role_name(name).send(),
        policies(ctx, name, &resource)
    );
    let role = match role {
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
    let Some(id) = named::claim(&ctx.stack, Role::LABEL, name, &tags, wanted)? else {
        return Ok(None);
    };
    let (managed_policies, inline_policies) = policies?;
    Ok(Some(Found {
        id,
        aws_id: name.to_owned(),
        arn: Some(role.arn().to_owned()),
        state: "available".into(),
        tags,
        detail: RoleState {
            trust_policy: role.assume_role_policy_document().and_then(parse_document),
            managed_policies,
            inline_policies,
        },
    }))
}

/// The managed policies attached to role `name`, and its inline policies (with the document
/// of stackctl's own).
async fn policies(
    ctx: &Context,
    name: &str,
    resource: &str,
) -> Result<(BTreeSet<String>, Vec<(String, Option<Value>)>)> {
    let (attached, inline, ours) = tokio::join!(
        ctx.iam.list_attached_role_policies().role_name(name).send(),
        ctx.iam.list_role_policies().role_name(name).send(),
        ctx.iam
            .get_role_policy()
            .role_name(name)
            .policy_name(QUEUE_POLICY_NAME)
            .send(),
    );
    let managed_policies = attached
        .map_err(|e| Error::aws(resource, "ListAttachedRolePolicies", e))?
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    let inline_names = inline
        .map_err(|e| Error::aws(resource, "ListRolePolicies", e))?
        .policy_names;
    // Only our own policy's document is compared; any other inline policy is drift as a whole.
    let ours = match ours {
        Ok(out) => parse_document(out.policy_document()),
        Err(e) if e.code() == Some("NoSuchEntity") => None,
        Err(e) => return Err(Error::aws(resource, "GetRolePolicy", e)),
    };
    let inline_policies = inline_names
        .into_iter()
        .map(|policy| {
            let document = (policy == QUEUE_POLICY_NAME)
                .then(|| ours.clone())
                .flatten();
            (policy, document)
        })
        .collect();
    Ok((managed_policies, inline_policies))
}

async fn apply(
    ctx: &Context,
    id: &ResourceId,
    name: &str,
    field: &Field,
    refs: &Outputs,
) -> Result<()> {
    match field {
        Field::TrustPolicy => {
            ctx.iam
                .update_assume_role_policy()
                .role_name(name)
                .policy_document(trust_policy().to_string())
                .send()
                .await
                .map_err(|e| Error::aws(id, "UpdateAssumeRolePolicy", e))?;
        }
        Field::ManagedPolicies { have, want } => {
            for arn in have.difference(want) {
                detach(ctx, id, name, arn).await?;
            }
            for arn in want.difference(have) {
                attach(ctx, id, name, arn).await?;
            }
        }
        Field::ExtraInline { names, .. } => {
            for policy in names {
                delete_inline(ctx, id, name, policy).await?;
            }
        }
        Field::Policy { statements, .. } => {
            put_policy(ctx, id, name, &resolved(statements, refs, id)?).await?;
        }
    }
    Ok(())
}

async fn put_policy(ctx: &Context, id: &ResourceId, name: &str, document: &Value) -> Result<()> {
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

async fn attach(ctx: &Context, id: &ResourceId, name: &str, arn: &str) -> Result<()> {
    ctx.iam
        .attach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AttachRolePolicy", e))?;
    Ok(())
}

async fn detach(ctx: &Context, id: &ResourceId, name: &str, arn: &str) -> Result<()> {
    ctx.iam
        .detach_role_policy()
        .role_name(name)
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DetachRolePolicy", e))?;
    Ok(())
}

async fn delete_inline(ctx: &Context, id: &ResourceId, name: &str, policy: &str) -> Result<()> {
    ctx.iam
        .delete_role_policy()
        .role_name(name)
        .policy_name(policy)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DeleteRolePolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_iam::operation::attach_role_policy::AttachRolePolicyOutput;
    use aws_sdk_iam::operation::delete_role_policy::DeleteRolePolicyOutput;
    use aws_sdk_iam::operation::detach_role_policy::DetachRolePolicyOutput;
    use aws_sdk_iam::operation::put_role_policy::PutRolePolicyOutput;
    use aws_sdk_iam::operation::update_assume_role_policy::UpdateAssumeRolePolicyOutput;
    use serde_json::json;

    use super::*;
    use crate::resources::testing::{self, rule};

    const QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:1:s-messages";

    fn task_role() -> Role {
        Role {
            name: "s-task".into(),
            description: "d".into(),
            managed_policies: Vec::new(),
            policy: vec![Statement {
                actions: QUEUE_ACTIONS.to_vec(),
                target: Target::Resource("queue".into()),
            }],
        }
    }

    fn refs() -> Outputs {
        let mut refs = testing::refs(&[("queue", "u")]);
        refs.get_mut("queue").unwrap().arn = Some(QUEUE_ARN.into());
        refs
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
        assert!(task_role().diff(&state(doc), &refs()).is_empty());
    }

    #[test]
    fn a_policy_widened_by_hand_is_drift() {
        let mut doc = queue_policy(QUEUE_ARN);
        doc["Statement"][0]["Action"] = json!("sqs:*");
        let d = task_role().diff(&state(doc), &refs());
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].describe().field, QUEUE_POLICY_NAME);
    }

    #[test]
    fn an_attached_managed_policy_is_drift() {
        let mut s = state(queue_policy(QUEUE_ARN));
        s.managed_policies
            .insert("arn:aws:iam::aws:policy/AdministratorAccess".into());
        let d = task_role().diff(&s, &refs());
        let shown = d.fields[0].describe();
        assert_eq!(
            (shown.from.as_str(), shown.to.as_str()),
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

    #[tokio::test]
    async fn every_kind_of_drift_is_undone_with_its_own_call() {
        let trust = rule!(
            aws_sdk_iam,
            update_assume_role_policy,
            UpdateAssumeRolePolicyOutput
        );
        let detach = rule!(aws_sdk_iam, detach_role_policy, DetachRolePolicyOutput);
        let attach = rule!(aws_sdk_iam, attach_role_policy, AttachRolePolicyOutput);
        let delete = rule!(aws_sdk_iam, delete_role_policy, DeleteRolePolicyOutput);
        let put = rule!(aws_sdk_iam, put_role_policy, PutRolePolicyOutput);
        let ctx = testing::iam(&[&trust, &detach, &attach, &delete, &put]);
        let found = testing::found(
            "task-role",
            "s-task",
            RoleState {
                trust_policy: Some(json!({ "Statement": [] })),
                managed_policies: ["arn:aws:iam::aws:policy/AdministratorAccess".to_owned()].into(),
                inline_policies: vec![("by-hand".into(), None)],
            },
        );
        let fields = task_role().diff(&found.detail, &refs()).fields;
        assert_eq!(fields.len(), 4, "{fields:?}");
        task_role()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        let calls = [
            trust.num_calls(),
            detach.num_calls(),
            attach.num_calls(),
            delete.num_calls(),
            put.num_calls(),
        ];
        assert_eq!(calls, [1, 1, 0, 1, 1]);
    }

    mod calls {
        use aws_sdk_iam::operation::create_role::CreateRoleOutput;
        use aws_sdk_iam::operation::delete_role::{DeleteRoleError, DeleteRoleOutput};
        use aws_sdk_iam::operation::detach_role_policy::DetachRolePolicyError;
        use aws_sdk_iam::operation::get_role::{GetRoleError, GetRoleOutput};
        use aws_sdk_iam::operation::get_role_policy::GetRolePolicyOutput;
        use aws_sdk_iam::operation::list_attached_role_policies::ListAttachedRolePoliciesOutput;
        use aws_sdk_iam::operation::list_role_policies::ListRolePoliciesOutput;
        use aws_sdk_iam::operation::list_roles::ListRolesOutput;
        use aws_sdk_iam::types::Tag;
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        const ARN: &str = "arn:aws:iam::1:role/s-task";

        fn aws_role(name: &str) -> aws_sdk_iam::types::Role {
            aws_sdk_iam::types::Role::builder()
                .role_name(name)
                .role_id("AROA1")
                .path("/")
                .arn(format!("arn:aws:iam::1:role/{name}"))
                .create_date(aws_smithy_types::DateTime::from_secs(0))
                .assume_role_policy_document(trust_policy().to_string())
                .build()
                .unwrap()
        }

        #[tokio::test]
        async fn create_makes_the_role_trusting_ecs_tasks_with_its_queue_policy() {
            let create = mock!(aws_sdk_iam::Client::create_role)
                .match_requests(|r| {
                    r.role_name() == Some("s-task")
                        && r.assume_role_policy_document()
                            .and_then(parse_document)
                            .is_some_and(|d| same_policy(Some(&d), &trust_policy()))
                        && r.tags().iter().any(|t| t.key() == "stackctl:id")
                })
                .then_output(|| CreateRoleOutput::builder().role(aws_role("s-task")).build());
            let put = mock!(aws_sdk_iam::Client::put_role_policy)
                .match_requests(|r| {
                    r.policy_name() == Some(QUEUE_POLICY_NAME)
                        && r.policy_document().is_some_and(|d| d.contains(QUEUE_ARN))
                })
                .then_output(|| PutRolePolicyOutput::builder().build());
            let ctx = testing::iam(&[&create, &put]);
            let creating = testing::Creating::new(ResourceId::TASK_ROLE, refs());
            let output = task_role().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "s-task");
            assert_eq!(output.arn.as_deref(), Some(ARN));
            assert_eq!(put.num_calls(), 1);
        }

        #[tokio::test]
        async fn observe_reads_trust_managed_and_inline_policies_of_the_stack_s_roles() {
            let list = mock!(aws_sdk_iam::Client::list_roles).then_output(|| {
                ListRolesOutput::builder()
                    .roles(aws_role("s-task"))
                    .roles(aws_role("s-gone"))
                    .roles(aws_role("other-task"))
                    .build()
                    .unwrap()
            });
            let get = mock!(aws_sdk_iam::Client::get_role)
                .match_requests(|r| r.role_name() == Some("s-task"))
                .then_output(|| {
                    let tags = testing::stack_tags("task-role")
                        .into_iter()
                        .map(|(k, v)| Tag::builder().key(k).value(v).build().unwrap());
                    let role = aws_sdk_iam::types::Role::builder()
                        .set_tags(Some(tags.collect()))
                        .role_name("s-task")
                        .role_id("AROA1")
                        .path("/")
                        .arn(ARN)
                        .create_date(aws_smithy_types::DateTime::from_secs(0))
                        .assume_role_policy_document(trust_policy().to_string())
                        .build()
                        .unwrap();
                    GetRoleOutput::builder().role(role).build()
                });
            let gone = fails!(aws_sdk_iam, get_role, GetRoleError, "NoSuchEntity");
            let attached = mock!(aws_sdk_iam::Client::list_attached_role_policies)
                .then_output(|| ListAttachedRolePoliciesOutput::builder().build());
            let inline = mock!(aws_sdk_iam::Client::list_role_policies).then_output(|| {
                ListRolePoliciesOutput::builder()
                    .policy_names(QUEUE_POLICY_NAME)
                    .build()
                    .unwrap()
            });
            let document = mock!(aws_sdk_iam::Client::get_role_policy).then_output(|| {
                GetRolePolicyOutput::builder()
                    .role_name("s-task")
                    .policy_name(QUEUE_POLICY_NAME)
                    .policy_document(queue_policy(QUEUE_ARN).to_string())
                    .build()
                    .unwrap()
            });
            let ctx = testing::iam(&[&list, &get, &gone, &attached, &inline, &document]);
            let found = Role::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].id, ResourceId::TASK_ROLE);
            assert!(task_role().diff(&found[0].detail, &refs()).is_empty());
            assert_eq!(
                get.num_calls() + gone.num_calls(),
                2,
                "other-task is not read"
            );
        }

        #[tokio::test]
        async fn delete_empties_the_role_first_and_what_is_already_gone_is_success() {
            let detach = fails!(
                aws_sdk_iam,
                detach_role_policy,
                DetachRolePolicyError,
                "NoSuchEntity"
            );
            let delete_inline = mock!(aws_sdk_iam::Client::delete_role_policy)
                .match_requests(|r| r.policy_name() == Some(QUEUE_POLICY_NAME))
                .then_output(|| DeleteRolePolicyOutput::builder().build());
            let delete = mock!(aws_sdk_iam::Client::delete_role)
                .match_requests(|r| r.role_name() == Some("s-task"))
                .then_output(|| DeleteRoleOutput::builder().build());
            let ctx = testing::iam(&[&detach, &delete_inline, &delete]);
            let mut detail = state(queue_policy(QUEUE_ARN));
            detail.managed_policies = [TASK_EXECUTION_POLICY.to_owned()].into();
            let found = testing::found("task-role", "s-task", detail);
            Role::delete(&ctx, &found, &|_| {}).await.unwrap();
            let calls = (
                detach.num_calls(),
                delete_inline.num_calls(),
                delete.num_calls(),
            );
            assert_eq!(calls, (1, 1, 1));

            let gone = fails!(aws_sdk_iam, delete_role, DeleteRoleError, "NoSuchEntity");
            let ctx = testing::iam(&[&gone]);
            let found = testing::found(
                "task-role",
                "s-task",
                RoleState {
                    trust_policy: None,
                    managed_policies: BTreeSet::new(),
                    inline_policies: Vec::new(),
                },
            );
            Role::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
