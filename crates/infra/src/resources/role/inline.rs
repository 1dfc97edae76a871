//! stackctl's one inline policy on a role: its statements as the stack file wants them,
//! whether the role's document says the same, and the document to put.

use serde_json::Value;

use super::policy::{QUEUE_POLICY_NAME, document, same_policy};
use crate::error::Result;
use crate::id::ResourceId;
use crate::outputs::{Attr, Outputs, Ref};

/// What a statement of stackctl's inline policy allows actions on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A resource of the stack, by logical id (its ARN).
    Resource(ResourceId),
    /// An ARN the stack file gives (a secret).
    Arn(String),
}

/// One statement of stackctl's inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub actions: Vec<&'static str>,
    pub target: Target,
}

/// A statement as wanted: its resource may be made in this run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedStatement {
    pub actions: Vec<&'static str>,
    pub resource: WantedResource,
}

/// A statement's resource: the ARN of one of the stack's (known once it exists), or an ARN
/// the stack file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WantedResource {
    Of(Ref),
    Given(String),
}

impl WantedResource {
    /// The ARN, when it is known now.
    fn known(&self) -> Option<&str> {
        match self {
            Self::Of(r) => r.known.as_deref(),
            Self::Given(arn) => Some(arn),
        }
    }
}

impl std::fmt::Display for WantedStatement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let on = match &self.resource {
            WantedResource::Of(r) => r.to_string(),
            WantedResource::Given(arn) => arn.clone(),
        };
        write!(f, "{} on {on}", self.actions.join(", "))
    }
}

/// The statements as wanted, and whether the role's policy was edited (`false`: missing),
/// when they differ from what the role has.
pub(super) fn differs(
    policy: &[Statement],
    inline_policies: &[(String, Option<Value>)],
    refs: &Outputs,
) -> Option<(Vec<WantedStatement>, bool)> {
    if policy.is_empty() {
        return None;
    }
    let statements = wanted(policy, refs);
    let have = inline_policies.iter().find(|(n, _)| n == QUEUE_POLICY_NAME);
    let known: Option<Vec<(Vec<&str>, String)>> = statements
        .iter()
        .map(|s| Some((s.actions.clone(), s.resource.known()?.to_owned())))
        .collect();
    match (have, known) {
        (None, _) => Some((statements, false)),
        (Some((_, doc)), Some(known)) if same_policy(doc.as_ref(), &document(&known)) => None,
        (Some(_), _) => Some((statements, true)),
    }
}

/// The statements with their resources as references (those made in this run unknown yet).
pub(super) fn wanted(policy: &[Statement], refs: &Outputs) -> Vec<WantedStatement> {
    policy
        .iter()
        .map(|s| WantedStatement {
            actions: s.actions.clone(),
            resource: match &s.target {
                Target::Resource(id) => WantedResource::Of(Ref::new(refs, id, Attr::Arn)),
                Target::Arn(arn) => WantedResource::Given(arn.clone()),
            },
        })
        .collect()
}

/// The document of `statements`, each resource resolved now.
pub(super) fn resolved(
    statements: &[WantedStatement],
    refs: &Outputs,
    id: &ResourceId,
) -> Result<Value> {
    let statements = statements
        .iter()
        .map(|s| {
            let arn = match &s.resource {
                WantedResource::Of(r) => r.resolve(refs, id)?,
                WantedResource::Given(arn) => arn.clone(),
            };
            Ok((s.actions.clone(), arn))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(document(&statements))
}
