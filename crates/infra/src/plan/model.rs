//! The plan's vocabulary: what happens to each resource ([`Change`]), in what order old
//! resources go ([`Removal`]), and the whole [`Plan`] with its summary.

use std::fmt;

use serde::Serialize;

use crate::change::FieldChange;
use crate::resources::{Fields, Kind, Observed};
use crate::tags::Tags;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    /// As declared, but not working yet (a rollout an earlier run did not see through, a load
    /// balancer still provisioning): `up` waits for it.
    Wait,
    Unchanged,
}

impl Action {
    /// The plan's marker, as Terraform users know it.
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Create => "+",
            Self::Update => "~",
            Self::Replace => "-/+",
            Self::Delete => "-",
            Self::Wait => "~",
            Self::Unchanged => " ",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Wait => "wait",
            Self::Unchanged => "unchanged",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

/// When the old resource of a replacement, or a resource to delete, goes: before anything
/// is created or updated, or after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// Before: AWS allows only one at a time (a load balancer's name, a subnet's block), or
    /// what it is in is itself deleted first. What uses it is replaced with it.
    First,
    /// After: the replacement is created and what used the old resource is moved to it (a
    /// listener to a new target group); then nothing uses it, and it is deleted.
    Last,
}

/// The typed change an update applies: exactly what the plan shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub fields: Fields,
    /// Managed tags to put back.
    pub tags: Tags,
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: String,
    pub kind: Kind,
    pub action: Action,
    /// The changed fields of an update.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Why a resource is replaced or deleted, or what `up` waits for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For a replacement or a deletion: whether the old resource goes first or last.
    #[serde(rename = "delete", skip_serializing_if = "Option::is_none")]
    pub removal: Option<Removal>,
    /// The existing resource's AWS id, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_id: Option<String>,
    /// What an update applies (`fields` is how it is shown).
    #[serde(skip)]
    pub update: Option<Update>,
}

impl Change {
    /// The plan's marker: Terraform's `-/+` for a replacement that deletes first, `+/-` for
    /// one that creates first.
    pub fn symbol(&self) -> &'static str {
        match (self.action, self.removal) {
            (Action::Replace, Some(Removal::Last)) => "+/-",
            (action, _) => action.symbol(),
        }
    }

    /// The resource this change acts on, among `observed` (none for a create).
    pub fn found<'a>(&self, observed: &'a [Observed]) -> Option<&'a Observed> {
        let aws_id = self.aws_id.as_ref()?;
        observed
            .iter()
            .find(|o| o.id == self.id && &o.aws_id == aws_id)
    }

    pub(crate) fn new(id: &str, kind: Kind, action: Action, aws_id: Option<&str>) -> Self {
        Self {
            id: id.to_owned(),
            kind,
            action,
            fields: Vec::new(),
            reason: None,
            removal: None,
            aws_id: aws_id.map(str::to_owned),
            update: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    /// Declared and found, but not working yet: `up` waits for them.
    pub wait: usize,
    pub unchanged: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to replace, {} to delete, ",
            self.create, self.update, self.replace, self.delete
        )?;
        if self.wait > 0 {
            write!(f, "{} to wait for, ", self.wait)?;
        }
        write!(f, "{} unchanged", self.unchanged)
    }
}

/// Every resource's change, dependencies first, deletions last.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub stack: String,
    pub changes: Vec<Change>,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
                Action::Wait => s.wait += 1,
                Action::Unchanged => s.unchanged += 1,
            }
        }
        s
    }

    /// True when `up` has something to do: a change to make, or a resource to see working.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::Unchanged)
    }

    /// True when applying would delete or replace something (and so asks first).
    pub fn is_destructive(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c.action, Action::Delete | Action::Replace))
    }

    pub fn get(&self, id: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.id == id)
    }
}
