//! Planning, with no AWS calls: desired resources + observed resources → a [`Plan`] of
//! changes. `plan` and `up` share it, so what `plan` shows is what `up` does.

use std::collections::{BTreeMap, HashMap};

use crate::error::Result;
use crate::graph::Graph;
use crate::outputs::Outputs;
use crate::resources::{Desired, Observed};
use crate::tags;

mod duplicates;
mod model;
mod order;

pub use duplicates::primaries;
pub use model::{Action, Change, Plan, Removal, Summary, Update};
use order::{held_by_removed, order_removals};

/// Outputs of the resources that exist, by logical id: what diffs compare references with.
/// Where a logical id has several instances, the one kept ([`primaries`]) counts.
pub fn observed_outputs(observed: &[Observed]) -> Outputs {
    primaries(observed)
        .into_iter()
        .map(|(id, kept)| (id.to_owned(), kept.output()))
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
    forced: &BTreeMap<String, String>,
) -> Result<Plan> {
    let graph = Graph::new(desired.iter().map(|d| (d.id.as_str(), d.deps.as_slice())))?;
    let wanted: HashMap<&str, &Desired> = desired.iter().map(|d| (d.id.as_str(), d)).collect();
    let kept = primaries(observed);
    // Only resources that keep their ids can be referred to by them.
    let mut refs = observed_outputs(observed);
    let mut actions: HashMap<&str, Action> = HashMap::new();
    let mut changes = Vec::new();
    for id in graph.order() {
        let Some(want) = wanted.get(id.as_str()) else {
            continue;
        };
        let existing = kept.get(id.as_str()).copied();
        let change = match existing {
            None => Change::new(id, want.spec.kind(), Action::Create, None),
            Some(have) => compare(want, have, &refs, &actions, forced.get(id.as_str())),
        };
        let new_ids = match change.action {
            Action::Create | Action::Replace => true,
            Action::Update => change.update.as_ref().is_some_and(|u| u.fields.new_id()),
            Action::Delete | Action::Wait | Action::Unchanged => false,
        };
        if new_ids {
            refs.remove(id);
        }
        actions.insert(id.as_str(), change.action);
        changes.push(change);
    }
    // Everything else goes: what the file no longer declares, and every duplicate.
    let leftovers: Vec<(&Observed, String)> = observed
        .iter()
        .filter(|o| {
            !kept
                .get(o.id.as_str())
                .is_some_and(|k| std::ptr::eq(*k, *o))
                || !wanted.contains_key(o.id.as_str())
        })
        .map(|o| {
            let reason = match (wanted.contains_key(o.id.as_str()), kept.get(o.id.as_str())) {
                (true, Some(k)) => format!(
                    "a duplicate of {}: {} is kept, as the rest of the stack uses it",
                    o.id, k.aws_id
                ),
                _ => "no longer declared in the stack file".into(),
            };
            (o, reason)
        })
        .collect();
    changes.extend(deletions(leftovers));
    order_removals(&mut changes, desired, observed);
    Ok(Plan {
        stack: stack.to_owned(),
        changes,
    })
}

/// One declared resource against what was found under its id.
fn compare(
    want: &Desired,
    have: &Observed,
    refs: &Outputs,
    actions: &HashMap<&str, Action>,
    held: Option<&String>,
) -> Change {
    let mut change = Change::new(
        &want.id,
        want.spec.kind(),
        Action::Unchanged,
        Some(&have.aws_id),
    );
    let Some((fields, replace)) = want.spec.diff(&have.detail, refs) else {
        change.action = Action::Replace;
        change.reason = Some(format!(
            "the resource tagged {} is a {}, not a {}",
            want.id,
            have.kind(),
            want.spec.kind()
        ));
        return change;
    };
    let forced = want
        .spec
        .binding()
        .into_iter()
        .find(|dep| matches!(actions.get(dep), Some(Action::Create | Action::Replace)))
        .map(|dep| format!("{dep} is replaced"));
    let tags = tags::missing(&want.tags, &have.tags);
    match (replace, forced.or_else(|| held.cloned())) {
        (Some(reason), _) => {
            change.action = Action::Replace;
            change.reason = Some(reason);
        }
        (None, Some(reason)) => {
            change.action = Action::Replace;
            change.reason = Some(reason);
        }
        (None, None) if fields.is_empty() && tags.is_empty() => {
            // Declared as it is, but not working yet: `up` sees it through.
            if let Some(under_way) = have.unready() {
                change.action = Action::Wait;
                change.reason = Some(under_way);
            }
        }
        (None, None) => {
            change.action = Action::Update;
            change.fields = fields.describe();
            if !tags.is_empty() {
                change.fields.push(tags::describe(&tags, &have.tags));
            }
            change.update = Some(Update { fields, tags });
        }
    }
    change
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

/// Delete changes in an order that deletes users before what they use (stable otherwise).
fn deletions(targets: Vec<(&Observed, String)>) -> Vec<Change> {
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
            let mut change = Change::new(&o.id, o.kind(), Action::Delete, Some(&o.aws_id));
            change.reason = (!reason.is_empty()).then(|| reason.clone());
            change
        })
        .collect()
}

/// The plan for `down`: every observed resource of the stack, deleted.
pub fn destroy(stack: &str, observed: &[Observed]) -> Plan {
    Plan {
        stack: stack.to_owned(),
        changes: deletions(observed.iter().map(|o| (o, String::new())).collect())
            .into_iter()
            .map(|c| Change {
                removal: Some(Removal::First),
                ..c
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests;
