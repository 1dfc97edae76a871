//! Which removals go before the creates and updates and which after, and which kept
//! resources must be replaced because they are in something that goes first.

use std::collections::BTreeMap;

use super::model::{Action, Change, Plan, Removal};
use crate::resources::{Desired, Observed};

/// The kept resources (updated or unchanged) that use a resource deleted first, each with
/// why it must be replaced.
pub(super) fn held_by_removed(plan: &Plan, observed: &[Observed]) -> BTreeMap<String, String> {
    let first: Vec<&Observed> = plan
        .changes
        .iter()
        .filter(|c| c.removal == Some(Removal::First))
        .filter_map(|c| c.found(observed))
        .collect();
    let mut held = BTreeMap::new();
    for c in &plan.changes {
        if !matches!(c.action, Action::Update | Action::Unchanged) {
            continue;
        }
        let Some(kept) = c.found(observed) else {
            continue;
        };
        let uses = kept.uses();
        let gone = first.iter().find(|f| {
            uses.iter()
                .any(|u| u == &f.aws_id || Some(u) == f.arn.as_ref())
        });
        if let Some(gone) = gone {
            let reason = format!(
                "it is in {} ({}), which is deleted first",
                gone.id, gone.aws_id
            );
            held.insert(c.id.clone(), reason);
        }
    }
    held
}

/// Decides which removals go first and which last. A replacement goes last when its kind
/// can have two at once ([`crate::resource::Resource::CREATE_FIRST`]), first otherwise; a
/// resource no longer declared goes last, once what used it has been updated. Then anything
/// set to go last that is in (uses) something going first goes first too: a VPC cannot be
/// deleted while a target group or a leftover subnet is still in it.
pub(super) fn order_removals(changes: &mut [Change], desired: &[Desired], observed: &[Observed]) {
    let creates_first = |id: &str| {
        desired
            .iter()
            .find(|d| d.id == id)
            .is_some_and(|d| d.spec.creates_first())
    };
    for c in changes.iter_mut() {
        c.removal = match c.action {
            Action::Replace if creates_first(&c.id) && c.aws_id.is_some() => Some(Removal::Last),
            Action::Replace => Some(Removal::First),
            Action::Delete => Some(Removal::Last),
            Action::Create | Action::Update | Action::Unchanged => None,
        };
    }
    loop {
        let first: Vec<&Observed> = changes
            .iter()
            .filter(|c| c.removal == Some(Removal::First))
            .filter_map(|c| c.found(observed))
            .collect();
        let names = |u: &String| {
            first
                .iter()
                .any(|f| &f.aws_id == u || f.arn.as_ref() == Some(u))
        };
        let moved: Vec<usize> = (0..changes.len())
            .filter(|&i| changes[i].removal == Some(Removal::Last))
            .filter(|&i| {
                changes[i]
                    .found(observed)
                    .is_some_and(|o| o.uses().iter().any(names))
            })
            .collect();
        if moved.is_empty() {
            return;
        }
        for i in moved {
            changes[i].removal = Some(Removal::First);
        }
    }
}
