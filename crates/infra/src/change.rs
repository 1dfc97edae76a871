//! The vocabulary of a change to one resource, shared by every kind and by the plan: a kind's
//! typed field changes ([`Diff`]) and how each is shown ([`FieldChange`], through
//! [`Describe`]). A leaf module: it depends on nothing else in the crate.

use serde::Serialize;

/// One attribute that differs, as the plan shows it (and as `--json` carries it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: String,
    pub to: String,
}

impl FieldChange {
    pub fn new(field: &str, from: impl ToString, to: impl ToString) -> Self {
        Self {
            field: field.to_owned(),
            from: from.to_string(),
            to: to.to_string(),
        }
    }
}

/// How a kind's typed field change is shown: which field, what it was, what it becomes.
pub trait Describe {
    fn describe(&self) -> FieldChange;
}

/// Desired against observed for one resource: the typed field changes an update applies, or
/// the reason the resource must be replaced instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diff<F> {
    pub fields: Vec<F>,
    pub replace: Option<String>,
}

impl<F> Default for Diff<F> {
    fn default() -> Self {
        Self {
            fields: Vec::new(),
            replace: None,
        }
    }
}

impl<F> Diff<F> {
    /// Records a field change.
    pub fn push(&mut self, field: F) {
        self.fields.push(field);
    }

    /// Records `field` when `differs`.
    pub fn push_if(&mut self, differs: bool, field: impl FnOnce() -> F) {
        if differs {
            self.fields.push(field());
        }
    }

    /// Marks the resource for replacement; the first reason given is kept.
    pub fn replace(&mut self, reason: impl Into<String>) {
        if self.replace.is_none() {
            self.replace = Some(reason.into());
        }
    }

    /// Replaces for `reason`, when there is one.
    pub fn replace_if(&mut self, reason: Option<String>) {
        if let Some(reason) = reason {
            self.replace(reason);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.replace.is_none()
    }
}

/// The field change of a kind with nothing to change in place (only tags, or replace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoField {}

impl Describe for NoField {
    fn describe(&self) -> FieldChange {
        match *self {}
    }
}

/// A whole-number setting: what AWS reports, what is wanted, and the field change that sets
/// it (from, to).
pub type Setting<F> = (i32, u32, fn(i32, i32) -> F);

/// The field change of every setting whose value differs.
pub fn changed_settings<F>(settings: impl IntoIterator<Item = Setting<F>>) -> Vec<F> {
    settings
        .into_iter()
        .filter_map(|(have, want, field)| {
            let want = i32::try_from(want).unwrap_or(i32::MAX);
            (have != want).then(|| field(have, want))
        })
        .collect()
}

/// `(none)` for an empty list, else the items joined with `, `: how plans show sets.
pub fn show_list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let shown: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    if shown.is_empty() {
        "(none)".into()
    } else {
        shown.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_replace_reason_wins() {
        let mut diff: Diff<()> = Diff::default();
        assert!(diff.is_empty());
        diff.replace("first");
        diff.replace("second");
        assert_eq!(diff.replace.as_deref(), Some("first"));
    }

    #[test]
    fn lists_show_none_when_empty() {
        assert_eq!(show_list(Vec::<String>::new()), "(none)");
        assert_eq!(show_list(["a", "b"]), "a, b");
    }
}
