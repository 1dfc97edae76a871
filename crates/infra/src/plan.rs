//! Planning, with no AWS calls: desired resources + observed resources → a [`Plan`] of
//! changes. `plan` and `up` share it, so what `plan` shows is what `up` does.

use std::collections::{BTreeMap, HashMap};

use crate::error::Result;
use crate::graph::Graph;
use crate::id::ResourceId;
use crate::outputs::Outputs;
use crate::resources::{Desired, Observed};
use crate::tags;

mod duplicates;
mod model;
mod order;

pub use duplicates::primaries;
pub use model::{Action, Change, Plan, Removal, Step, Summary, Update};
use order::{held_by_removed, order_removals};

/// Outputs of the resources that exist, by logical id: what diffs compare references with.
/// Where a logical id has several instances, the one kept ([`primaries`]) counts.
pub fn observed_outputs(observed: &[Observed]) -> Outputs {
    primaries(observed)
        .into_iter()
        .map(|(id, kept)| (id.clone(), kept.output()))
        .collect()
}

/// Compares desired with observed. Observed resources of the stack that are no longer
/// declared, and duplicates of declared ones, are deleted. A resource kept in place that is
/// in (uses) one deleted first is replaced with it: a load balancer cannot stay in subnets
/// that go, a service's tasks keep a subnet busy.
pub fn compute(stack: &str, desired: &[Desired], observed: &[Observed]) -> Result<Plan> {
    let mut forced = BTreeMap::new();
    loop {
        let plan = compute_with(stack, desired, observed, &forced)?;
        let more = held_by_removed(&plan, observed);
        if more.keys().all(|id| forced.contains_key(id)) {
            return Ok(plan);
        }
        forced.extend(more);
    }
}

fn compute_with(
    stack: &str,
    desired: &[Desired],
    observed: &[Observed],
    forced: &BTreeMap<ResourceId, String>,
) -> Result<Plan> {
    let graph = Graph::new(desired.iter().map(|d| (&d.id, d.deps.as_slice())))?;
    let wanted: HashMap<&ResourceId, &Desired> = desired.iter().map(|d| (&d.id, d)).collect();
    let kept = primaries(observed);
    // Only resources that keep their ids can be referred to by them.
    let mut refs = observed_outputs(observed);
    let mut actions: HashMap<&ResourceId, Action> = HashMap::new();
    let mut changes = Vec::new();
    for id in graph.order() {
        let Some(want) = wanted.get(id) else {
            continue;
        };
        let existing = kept.get(id).copied();
        let step = match existing {
            None => Step::Create,
            Some(have) => compare(want, have, &refs, &actions, forced.get(id)),
        };
        let new_ids = match &step {
            Step::Create | Step::Replace { .. } => true,
            Step::Update { update, .. } => update.fields.new_id(),
            Step::Delete { .. } | Step::Wait { .. } | Step::Unchanged { .. } => false,
        };
        if new_ids {
            refs.remove(id);
        }
        let change = Change {
            id: id.clone(),
            kind: want.spec.kind(),
            step,
        };
        actions.insert(id, change.action());
        changes.push(change);
    }
    // Everything else goes: what the file no longer declares, and every duplicate.
    let leftovers: Vec<(&Observed, String)> = observed
        .iter()
        .filter(|o| {
            !kept.get(&o.id).is_some_and(|k| std::ptr::eq(*k, *o)) || !wanted.contains_key(&o.id)
        })
        .map(|o| {
            let reason = match (wanted.contains_key(&o.id), kept.get(&o.id)) {
                (true, Some(k)) => format!(
                    "a duplicate of {}: {} is kept, as the rest of the stack uses it",
                    o.id, k.aws_id
                ),
                _ => "no longer declared in the stack file".into(),
            };
            (o, reason)
        })
        .collect();
    changes.extend(deletions(leftovers, Removal::Last));
    order_removals(&mut changes, desired, observed);
    Ok(Plan {
        stack: stack.to_owned(),
        changes,
    })
}

/// One declared resource against what was found under its id. A replacement's removal is
/// decided afterwards, with the whole plan in view ([`order_removals`]).
fn compare(
    want: &Desired,
    have: &Observed,
    refs: &Outputs,
    actions: &HashMap<&ResourceId, Action>,
    held: Option<&String>,
) -> Step {
    let aws_id = have.aws_id.clone();
    let replace = |reason| Step::Replace {
        aws_id: have.aws_id.clone(),
        reason,
        removal: Removal::First,
    };
    let Some((fields, replaced)) = want.spec.diff(&have.detail, refs) else {
        return replace(format!(
            "the resource tagged {} is a {}, not a {}",
            want.id,
            have.kind(),
            want.spec.kind()
        ));
    };
    let forced = want
        .spec
        .binding()
        .into_iter()
        .find(|dep| matches!(actions.get(dep), Some(Action::Create | Action::Replace)))
        .map(|dep| format!("{dep} is replaced"));
    let tags = tags::missing(&want.tags, &have.tags);
    match replaced.or(forced).or_else(|| held.cloned()) {
        Some(reason) => replace(reason),
        // Declared as it is, but maybe not working yet: `up` sees it through.
        None if fields.is_empty() && tags.is_empty() => match have.unready() {
            Some(reason) => Step::Wait { aws_id, reason },
            None => Step::Unchanged { aws_id },
        },
        None => {
            let mut shown = fields.describe();
            if !tags.is_empty() {
                shown.push(tags::describe(&tags, &have.tags));
            }
            Step::Update {
                aws_id,
                update: Update { fields, tags },
                shown,
            }
        }
    }
}

/// For each resource to delete, the ones that must be gone first: those that use it (by the
/// AWS ids and ARNs each reports using).
pub fn deleted_before(targets: &[&Observed]) -> Vec<Vec<usize>> {
    let uses: Vec<Vec<String>> = targets.iter().map(|o| o.uses()).collect();
    targets
        .iter()
        .map(|target| {
            let names = |u: &String| target.is_named(u);
            (0..targets.len())
                .filter(|&j| uses[j].iter().any(names))
                .collect()
        })
        .collect()
}

/// Delete changes in an order that deletes users before what they use (stable otherwise),
/// each going at `removal`.
fn deletions(targets: Vec<(&Observed, String)>, removal: Removal) -> Vec<Change> {
    let observed: Vec<&Observed> = targets.iter().map(|(o, _)| *o).collect();
    let before = deleted_before(&observed);
    let mut done = vec![false; targets.len()];
    let mut order = Vec::with_capacity(targets.len());
    while order.len() < targets.len() {
        // A cycle of uses (never expected) must not hang the plan: take the first left.
        let next = (0..targets.len())
            .find(|&i| !done[i] && before[i].iter().all(|&j| done[j] || j == i))
            .or_else(|| (0..targets.len()).find(|&i| !done[i]));
        let Some(next) = next else { break };
        done[next] = true;
        order.push(next);
    }
    order
        .into_iter()
        .map(|i| {
            let (o, reason) = &targets[i];
            let reason = match (reason.is_empty(), o.deleting()) {
                (true, note) => note,
                (false, None) => Some(reason.clone()),
                (false, Some(note)) => Some(format!("{reason}; {note}")),
            };
            Change {
                id: o.id.clone(),
                kind: o.kind(),
                step: Step::Delete {
                    aws_id: o.aws_id.clone(),
                    reason,
                    removal,
                },
            }
        })
        .collect()
}

/// The plan for `down`: every observed resource of the stack, deleted.
pub fn destroy(stack: &str, observed: &[Observed]) -> Plan {
    Plan {
        stack: stack.to_owned(),
        changes: deletions(
            observed.iter().map(|o| (o, String::new())).collect(),
            Removal::First,
        ),
    }
}

#[cfg(test)]
mod tests;
