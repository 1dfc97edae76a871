//! Planning, with no AWS calls: desired resources + observed resources → a [`Plan`] of
//! changes. `plan` and `up` share it, so what `plan` shows is what `up` does.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use crate::error::Result;
use crate::graph::Graph;
use crate::resources::{self, Desired, Kind, Observed, Output, Outputs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
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
            Self::Unchanged => " ",
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Replace => "replace",
            Self::Delete => "delete",
            Self::Unchanged => "unchanged",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verb())
    }
}

/// One attribute that differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl FieldChange {
    pub fn new(field: &str, from: String, to: String) -> Self {
        Self {
            field: field.to_owned(),
            from,
            to,
        }
    }
}

/// What happens to one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: String,
    pub kind: Kind,
    pub action: Action,
    /// The changed fields of an update.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// Why a resource is replaced or deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The existing resource's AWS id, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub unchanged: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to replace, {} to delete, {} unchanged",
            self.create, self.update, self.replace, self.delete, self.unchanged
        )
    }
}

/// Every resource's change, dependencies first, deletions last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
                Action::Unchanged => s.unchanged += 1,
            }
        }
        s
    }

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

/// Outputs of the resources that exist, by logical id: what diffs compare references with.
pub fn observed_outputs(observed: &[Observed]) -> Outputs {
    observed
        .iter()
        .map(|o| (o.id.clone(), Output::of(o)))
        .collect()
}

/// Compares desired with observed. Observed resources of the stack that are no longer
/// declared, and duplicates of declared ones, are deleted.
pub fn compute(stack: &str, desired: &[Desired], observed: &[Observed]) -> Result<Plan> {
    let graph = Graph::new(desired.iter().map(|d| (d.id.as_str(), d.deps.as_slice())))?;
    let by_id: HashMap<&str, &Desired> = desired.iter().map(|d| (d.id.as_str(), d)).collect();
    let mut found: BTreeMap<&str, Vec<&Observed>> = BTreeMap::new();
    for o in observed {
        found.entry(o.id.as_str()).or_default().push(o);
    }
    // Only resources that are kept (not replaced) can be referred to by their current id.
    let mut refs = observed_outputs(observed);
    let mut actions: HashMap<&str, Action> = HashMap::new();
    let mut changes = Vec::new();

    for id in graph.order() {
        let Some(want) = by_id.get(id.as_str()) else {
            continue;
        };
        let existing = found.get(id.as_str()).and_then(|v| v.first().copied());
        let change = match existing {
            None => Change {
                id: id.clone(),
                kind: want.spec.kind(),
                action: Action::Create,
                fields: Vec::new(),
                reason: None,
                aws_id: None,
            },
            Some(have) => {
                let diff = resources::diff(want, have, &refs);
                let forced =
                    want.spec.binding_deps().into_iter().find(|dep| {
                        matches!(actions.get(dep), Some(Action::Create | Action::Replace))
                    });
                let mut fields = diff.fields;
                // A new task definition revision reaches the tasks only through the service.
                for dep in want.spec.rollout_deps() {
                    if matches!(
                        actions.get(dep),
                        Some(Action::Create | Action::Update | Action::Replace)
                    ) && !fields.iter().any(|f| f.field == dep.replace('-', "_"))
                    {
                        fields.push(FieldChange::new(
                            &dep.replace('-', "_"),
                            "current".into(),
                            format!("new {dep}"),
                        ));
                    }
                }
                let (action, reason) = match (diff.replace, forced) {
                    (Some(reason), _) => (Action::Replace, Some(reason)),
                    (None, Some(dep)) => (Action::Replace, Some(format!("{dep} is replaced"))),
                    (None, None) if fields.is_empty() => (Action::Unchanged, None),
                    (None, None) => (Action::Update, None),
                };
                Change {
                    id: id.clone(),
                    kind: want.spec.kind(),
                    action,
                    fields: if action == Action::Update {
                        fields
                    } else {
                        Vec::new()
                    },
                    reason,
                    aws_id: Some(have.aws_id.clone()),
                }
            }
        };
        if matches!(change.action, Action::Create | Action::Replace) {
            refs.remove(id);
        }
        actions.insert(id.as_str(), change.action);
        changes.push(change);
    }

    let mut deletes: Vec<Change> = Vec::new();
    for (id, instances) in &found {
        let declared = by_id.contains_key(id);
        // A declared resource keeps its first instance; every other one goes.
        for o in instances.iter().skip(usize::from(declared)) {
            deletes.push(Change {
                id: o.id.clone(),
                kind: o.kind,
                action: Action::Delete,
                fields: Vec::new(),
                reason: Some(if declared {
                    format!("a duplicate of {id} ({})", o.aws_id)
                } else {
                    "no longer declared in the stack file".into()
                }),
                aws_id: Some(o.aws_id.clone()),
            });
        }
    }
    deletes.sort_by_key(|c| std::cmp::Reverse(c.kind.delete_rank()));
    changes.extend(deletes);
    Ok(Plan {
        stack: stack.to_owned(),
        changes,
    })
}

/// The plan for `down`: every observed resource of the stack, deleted.
pub fn destroy(stack: &str, observed: &[Observed]) -> Plan {
    let mut changes: Vec<Change> = observed
        .iter()
        .map(|o| Change {
            id: o.id.clone(),
            kind: o.kind,
            action: Action::Delete,
            fields: Vec::new(),
            reason: None,
            aws_id: Some(o.aws_id.clone()),
        })
        .collect();
    changes.sort_by_key(|c| std::cmp::Reverse(c.kind.delete_rank()));
    Plan {
        stack: stack.to_owned(),
        changes,
    }
}

#[cfg(test)]
mod tests;
