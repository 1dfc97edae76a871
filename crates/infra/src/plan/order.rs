//! Which removals go before the creates and updates and which after, and which kept
//! resources must be replaced because they are in something that goes first.

use std::collections::BTreeMap;

use super::model::{Action, Change, Plan, Removal, Step};
use crate::id::ResourceId;
use crate::resources::{Desired, Observed};

/// The kept resources (updated or unchanged) that use a resource deleted first, each with
/// why it must be replaced.
pub(super) fn held_by_removed(plan: &Plan, observed: &[Observed]) -> BTreeMap<ResourceId, String> {
    let first = removed_first(&plan.changes, observed);
    let mut held = BTreeMap::new();
    for c in &plan.changes {
        if !matches!(
            c.action(),
            Action::Update | Action::Wait | Action::Unchanged
        ) {
            continue;
        }
        let Some(kept) = c.found(observed) else {
            continue;
        };
        if let Some(gone) = in_any(kept, &first) {
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
/// can have two at once ([`crate::contract::Resource::CREATE_FIRST`]), first otherwise; a
/// resource no longer declared goes last, once what used it has been updated. Then anything
/// set to go last that is in (uses) something going first goes first too: a VPC cannot be
/// deleted while a target group or a leftover subnet is still in it.
pub(super) fn order_removals(changes: &mut [Change], desired: &[Desired], observed: &[Observed]) {
    let creates_first = |id: &ResourceId| {
        desired
            .iter()
            .find(|d| &d.id == id)
            .is_some_and(|d| d.spec.creates_first())
    };
    for c in changes.iter_mut() {
        let last = match &c.step {
            Step::Replace { .. } => creates_first(&c.id),
            _ => true,
        };
        set_removal(c, if last { Removal::Last } else { Removal::First });
    }
    loop {
        let first = removed_first(changes, observed);
        let moved: Vec<usize> = (0..changes.len())
            .filter(|&i| changes[i].removal() == Some(Removal::Last))
            .filter(|&i| {
                changes[i]
                    .found(observed)
                    .is_some_and(|o| in_any(o, &first).is_some())
            })
            .collect();
        if moved.is_empty() {
            return;
        }
        for i in moved {
            set_removal(&mut changes[i], Removal::First);
        }
    }
}

/// Sets when a replacement's or a deletion's old resource goes (nothing for other steps).
fn set_removal(change: &mut Change, to: Removal) {
    if let Step::Replace { removal, .. } | Step::Delete { removal, .. } = &mut change.step {
        *removal = to;
    }
}

/// The resources that `changes` delete before anything is created.
fn removed_first<'a>(changes: &[Change], observed: &'a [Observed]) -> Vec<&'a Observed> {
    changes
        .iter()
        .filter(|c| c.removal() == Some(Removal::First))
        .filter_map(|c| c.found(observed))
        .collect()
}

/// The first of `among` that `o` is in (uses).
fn in_any<'a>(o: &Observed, among: &[&'a Observed]) -> Option<&'a Observed> {
    let uses = o.uses();
    among
        .iter()
        .find(|f| uses.iter().any(|u| f.is_named(u)))
        .copied()
}
