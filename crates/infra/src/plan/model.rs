//! The plan's vocabulary: what happens to each resource ([`Change`]), in what order old
//! resources go ([`Removal`]), and the whole [`Plan`] with its summary.

use std::fmt;

use serde::Serialize;

use crate::change::FieldChange;
use crate::id::ResourceId;
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

/// What happens to one resource: each step carries what applying it needs, and nothing
/// else, so a step that cannot be applied cannot be built.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Made anew.
    Create,
    /// Brought in line in place: the typed fields to apply and the tags to put back, and how
    /// the plan shows them.
    Update {
        aws_id: String,
        update: Update,
        shown: Vec<FieldChange>,
    },
    /// Made anew, the old one deleted first or last.
    Replace {
        aws_id: String,
        reason: String,
        removal: Removal,
    },
    /// Deleted: no longer declared, or a duplicate.
    Delete {
        aws_id: String,
        reason: Option<String>,
        removal: Removal,
    },
    /// As declared, but not working yet: `up` waits for it.
    Wait { aws_id: String, reason: String },
    /// As declared, and working.
    Unchanged { aws_id: String },
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub id: ResourceId,
    pub kind: Kind,
    pub step: Step,
}

impl Change {
    pub fn action(&self) -> Action {
        match self.step {
            Step::Create => Action::Create,
            Step::Update { .. } => Action::Update,
            Step::Replace { .. } => Action::Replace,
            Step::Delete { .. } => Action::Delete,
            Step::Wait { .. } => Action::Wait,
            Step::Unchanged { .. } => Action::Unchanged,
        }
    }

    /// The existing resource's AWS id (none for a create).
    pub fn aws_id(&self) -> Option<&str> {
        match &self.step {
            Step::Create => None,
            Step::Update { aws_id, .. }
            | Step::Replace { aws_id, .. }
            | Step::Delete { aws_id, .. }
            | Step::Wait { aws_id, .. }
            | Step::Unchanged { aws_id } => Some(aws_id),
        }
    }

    /// Why a resource is replaced or deleted, or what `up` waits for.
    pub fn reason(&self) -> Option<&str> {
        match &self.step {
            Step::Replace { reason, .. } | Step::Wait { reason, .. } => Some(reason),
            Step::Delete { reason, .. } => reason.as_deref(),
            Step::Create | Step::Update { .. } | Step::Unchanged { .. } => None,
        }
    }

    /// What `up` waits for once this one is made (a certificate's validation), for a create
    /// or a replacement of a kind that says it.
    pub fn waits_for(&self) -> Option<&'static str> {
        matches!(self.action(), Action::Create | Action::Replace)
            .then(|| self.kind.waits_for())
            .flatten()
    }

    /// For a replacement or a deletion: whether the old resource goes first or last.
    pub fn removal(&self) -> Option<Removal> {
        match &self.step {
            Step::Replace { removal, .. } | Step::Delete { removal, .. } => Some(*removal),
            _ => None,
        }
    }

    /// The changed fields of an update, as the plan shows them.
    pub fn fields(&self) -> &[FieldChange] {
        match &self.step {
            Step::Update { shown, .. } => shown,
            _ => &[],
        }
    }

    /// The plan's marker: Terraform's `-/+` for a replacement that deletes first, `+/-` for
    /// one that creates first.
    pub fn symbol(&self) -> &'static str {
        match (self.action(), self.removal()) {
            (Action::Replace, Some(Removal::Last)) => "+/-",
            (action, _) => action.symbol(),
        }
    }

    /// The resource this change acts on, among `observed` (none for a create).
    pub fn found<'a>(&self, observed: &'a [Observed]) -> Option<&'a Observed> {
        let aws_id = self.aws_id()?;
        observed
            .iter()
            .find(|o| o.id == self.id && o.aws_id == aws_id)
    }
}

/// `{"id", "kind", "action", "fields"?, "reason"?, "delete"?, "aws_id"?}`, as documented.
impl Serialize for Change {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("kind", &self.kind)?;
        map.serialize_entry("action", &self.action())?;
        if !self.fields().is_empty() {
            map.serialize_entry("fields", self.fields())?;
        }
        if let Some(reason) = self.reason() {
            map.serialize_entry("reason", reason)?;
        }
        if let Some(removal) = self.removal() {
            map.serialize_entry("delete", &removal)?;
        }
        if let Some(waits) = self.waits_for() {
            map.serialize_entry("waits_for", waits)?;
        }
        if let Some(aws_id) = self.aws_id() {
            map.serialize_entry("aws_id", aws_id)?;
        }
        map.end()
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
            match c.action() {
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
        self.changes.iter().any(|c| c.action() != Action::Unchanged)
    }

    /// True when applying would delete or replace something (and so asks first).
    pub fn is_destructive(&self) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c.action(), Action::Delete | Action::Replace))
    }

    pub fn get(&self, id: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.id == id)
    }
}
