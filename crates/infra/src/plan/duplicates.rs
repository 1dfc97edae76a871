//! Which of several resources found under one logical id is "the" resource — the one kept —
//! when a lost answer, a crash or two runs at once made more than one. One rule, used by the
//! plan, by the outputs dependents see, and by `status`:
//!
//! 1. the one whose own references point at the kept resources of the ids it refers to (a
//!    subnet in the kept VPC), decided for what is referred to before what refers to it;
//! 2. then the one the rest of the stack uses most (the VPC that holds the subnets, the load
//!    balancer the listener is on, the task definition the service runs);
//! 3. then the lowest AWS id, so that every run and every reader chooses the same.

use std::collections::{BTreeMap, BTreeSet};

use crate::id::ResourceId;

use crate::resources::Observed;

/// The kept resource of every logical id.
pub fn primaries(observed: &[Observed]) -> BTreeMap<&ResourceId, &Observed> {
    let mut by_id: BTreeMap<&ResourceId, Vec<&Observed>> = BTreeMap::new();
    for o in observed {
        by_id.entry(&o.id).or_default().push(o);
    }
    let mut kept: BTreeMap<&ResourceId, &Observed> = BTreeMap::new();
    let mut left: BTreeSet<&ResourceId> = BTreeSet::new();
    for (id, instances) in &by_id {
        match instances.as_slice() {
            [only] => {
                kept.insert(id, only);
            }
            _ => {
                left.insert(id);
            }
        }
    }
    while let Some(id) = next(&left, &by_id) {
        left.remove(id);
        let chosen = by_id[id]
            .iter()
            .max_by_key(|candidate| {
                let uses = candidate.uses();
                let consistent = uses
                    .iter()
                    .filter(|u| kept.values().any(|k| k.is_named(u)))
                    .count();
                let used_by = observed
                    .iter()
                    .filter(|o| o.id != candidate.id)
                    .filter(|o| o.uses().iter().any(|u| candidate.is_named(u)))
                    .count();
                (
                    consistent,
                    used_by,
                    std::cmp::Reverse(candidate.aws_id.clone()),
                )
            })
            .copied();
        if let Some(chosen) = chosen {
            kept.insert(id, chosen);
        }
    }
    kept
}

/// The next undecided id: one none of whose instances uses an instance of another undecided
/// id (so what is referred to is decided first), or any when they refer to each other.
fn next<'a>(
    left: &BTreeSet<&'a ResourceId>,
    by_id: &BTreeMap<&'a ResourceId, Vec<&Observed>>,
) -> Option<&'a ResourceId> {
    let waits_on_undecided = |id: &ResourceId| {
        by_id[id].iter().any(|o| {
            o.uses().iter().any(|u| {
                left.iter()
                    .filter(|other| **other != id)
                    .flat_map(|other| by_id[other].iter())
                    .any(|x| x.is_named(u))
            })
        })
    };
    left.iter()
        .find(|id| !waits_on_undecided(id))
        .or_else(|| left.iter().next())
        .copied()
}
