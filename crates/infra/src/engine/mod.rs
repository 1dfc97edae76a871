//! Walks a plan against AWS: observe → plan → apply. Deletions (and the delete half of
//! replacements) run first, users before what they use; then creates and updates run
//! dependencies first. Each resource starts as soon as its own dependencies are done, not
//! when a whole level is, so nothing waits on a resource it does not depend on.

mod apply;
mod events;
mod images;
mod job;
mod schedule;

pub use events::{Event, Progress, quiet};
use events::{report, report_ready, waiting};
pub use images::{KeptImage, Unimaged};
pub use job::Job;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use apply::{Work, apply_one};
use schedule::{Blockers, Budget, finish, schedule};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::id::ResourceId;
use crate::outputs::Outputs;
use crate::plan::{self, Action, Plan, Removal};
use crate::resources::{self, Desired, Observation, Observed, Unread};
use crate::stack_file::StackSpec;

#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Stop after this many resource changes (to test and demonstrate resuming).
    pub stop_after: Option<usize>,
    /// Set it (on Ctrl-C) to start nothing new; changes under way finish, so no resource is
    /// left half-made.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// Everything `plan` found, kept so `apply` acts on exactly what was shown.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    pub desired: Vec<Desired>,
    pub observed: Vec<Observed>,
    /// Other stacks made from this stack file, when this plan makes the stack anew (its
    /// name changed): they still stand, and bill.
    pub renamed_from: Vec<String>,
    /// The services the run gives no image: those that keep the one they run, and those
    /// that cannot be deployed.
    pub unimaged: Unimaged,
    /// Kinds the stack does not declare that could not be read (denied, or not served).
    pub unread: Vec<Unread>,
}

/// Reads the stack's current state and plans the changes to reach `spec`.
pub async fn prepare(ctx: &Context, spec: &StackSpec) -> Result<Prepared> {
    let zones = crate::aws::ec2::zones(ctx).await?;
    if zones.len() < spec.network.availability_zones {
        return Err(Error::Zones {
            stack: spec.name.clone(),
            wanted: spec.network.availability_zones,
            region: spec.region.clone(),
            offered: zones,
        });
    }
    let mut desired = crate::desired::desired(spec, &zones);
    let Observation {
        found: observed,
        unread,
    } = resources::observe_all(ctx, &desired).await?;
    // A service given no image keeps the one it runs: observing finds every resource of the
    // stack whatever is desired, so the look stands and only the desired list is made again.
    let mut kept = spec.clone();
    let unimaged = images::keep_running(ctx, &mut kept, &observed).await?;
    if !unimaged.kept.is_empty() {
        desired = crate::desired::desired(&kept, &zones);
    }
    crate::desired::keep_subnet_blocks(&mut desired, &spec.network, &observed);
    let plan = plan::compute(&spec.name, &desired, &observed)?;
    let renamed_from = match &ctx.settings.source {
        Some(source) => {
            crate::desired::mark_source(&mut desired, source);
            crate::inventory::renamed_from(ctx, source, &plan).await?
        }
        None => Vec::new(),
    };
    Ok(Prepared {
        plan,
        desired,
        observed,
        renamed_from,
        unimaged,
        unread,
    })
}

/// Reads the stack (everything that carries its tag) and plans deleting all of it.
pub async fn prepare_destroy(ctx: &Context) -> Result<Prepared> {
    let Observation { found, unread } = remaining(ctx).await?;
    Ok(Prepared {
        plan: plan::destroy(&ctx.stack, &found),
        desired: Vec::new(),
        observed: found,
        renamed_from: Vec::new(),
        unimaged: Unimaged::default(),
        unread,
    })
}

/// Every resource still tagged with the stack, and the kinds that could not be read.
pub async fn remaining(ctx: &Context) -> Result<Observation> {
    resources::observe_all(ctx, &[]).await
}

/// The outputs of a stack as it is now (for `status`), from an observation.
pub use crate::plan::observed_outputs as outputs_of;

/// Applies a prepared plan and returns every resource's outputs, in up to three phases:
/// the removals that go first ([`Removal::First`]), then the creates and updates (with the
/// replacements that are created first), then, from a fresh look, whatever is left to delete
/// ([`Removal::Last`]: old resources nothing uses any more).
pub async fn apply(
    ctx: &Context,
    prepared: &Prepared,
    progress: Progress,
    options: &ApplyOptions,
) -> Result<Outputs> {
    let budget = Arc::new(Budget::new(options.stop_after, options.cancel.clone()));
    let first: Vec<&plan::Change> = prepared
        .plan
        .changes
        .iter()
        .filter(|c| c.removal() == Some(Removal::First))
        .collect();
    let fresh;
    let current = if first.is_empty() {
        prepared
    } else {
        delete_phase(ctx, prepared, &first, progress.clone(), &budget).await?;
        if prepared.desired.is_empty() {
            return Ok(Outputs::new());
        }
        // What was deleted is gone now and what referred to it changed: plan again from a
        // fresh look, which now has no removal that goes first.
        fresh = look_again(ctx, prepared).await?;
        &fresh
    };
    let outputs = create_phase(ctx, current, progress.clone(), &budget).await?;
    let goes_last = |c: &plan::Change| c.removal() == Some(Removal::Last);
    if current.plan.changes.iter().any(goes_last) {
        // Nothing uses the old resources now. Which those are is read again: a create that
        // found its resource after a lost answer may have adopted another copy.
        let after = look_again(ctx, current).await?;
        let last: Vec<&plan::Change> = after
            .plan
            .changes
            .iter()
            .filter(|c| c.action() == Action::Delete)
            .collect();
        delete_phase(ctx, &after, &last, progress, &budget).await?;
    }
    // What was deleted has no outputs any more: only what the stack declares is shown.
    let mut outputs = outputs;
    outputs.retain(|id, _| prepared.desired.iter().any(|d| &d.id == id));
    Ok(outputs)
}

/// Observes the stack again and plans the same desired resources against it.
async fn look_again(ctx: &Context, prepared: &Prepared) -> Result<Prepared> {
    let Observation { found, unread } = resources::observe_all(ctx, &prepared.desired).await?;
    Ok(Prepared {
        plan: plan::compute(&prepared.plan.stack, &prepared.desired, &found)?,
        desired: prepared.desired.clone(),
        observed: found,
        renamed_from: Vec::new(),
        unimaged: prepared.unimaged.clone(),
        unread,
    })
}

/// Jobs under way at once. Not the limit on AWS: each job holds a slot of its service while it
/// calls ([`crate::slots`]); this only bounds how many futures a run keeps.
const JOBS_AT_ONCE: usize = 1024;

/// The AWS service (its IAM prefix) whose slots a resource of `kind` takes.
fn service_of(kind: crate::resources::Kind) -> &'static str {
    crate::policy::needs::of(kind).service.prefix()
}

async fn delete_phase(
    ctx: &Context,
    prepared: &Prepared,
    removals: &[&plan::Change],
    progress: Progress,
    budget: &Arc<Budget>,
) -> Result<()> {
    let targets: Vec<(&Observed, Action)> = removals
        .iter()
        .filter_map(|c| Some((c.found(&prepared.observed)?, c.action())))
        .collect();
    // A resource goes once everything that uses it is gone: the service before its cluster,
    // the load balancer before its subnets and security group.
    let found: Vec<&Observed> = targets.iter().map(|(o, _)| *o).collect();
    let keys: Vec<Job> = found
        .iter()
        .map(|o| Job::Delete(o.id.clone(), o.aws_id.clone()))
        .collect();
    let blockers: Blockers = plan::deleted_before(&found)
        .into_iter()
        .enumerate()
        .map(|(i, before)| {
            let before = before.into_iter().filter(|&j| j != i);
            (keys[i].clone(), before.map(|j| keys[j].clone()).collect())
        })
        .collect();
    let by_key: HashMap<&Job, (&Observed, Action)> = keys.iter().zip(targets).collect();
    let results = schedule(keys.clone(), &blockers, JOBS_AT_ONCE, budget, |key| {
        let (observed, action) = by_key[&key];
        let progress = progress.clone();
        let service = service_of(observed.kind());
        ctx.slots.hold(service, async move {
            let started = Instant::now();
            progress(Event::Started {
                id: observed.id.clone(),
                kind: observed.kind(),
                action,
            });
            let wait = waiting(&progress, &observed.id);
            // A delete is mostly waiting (for AWS to release what used the resource): an
            // interrupt stops it, and the next `down` finds what is left.
            let result = budget.unless_interrupted(observed.delete(ctx, &wait)).await;
            let done = (&observed.id, observed.kind(), action, started);
            report(&progress, done, result.as_ref().err());
            result
        })
    })
    .await;
    finish(results, budget, &progress)
}

async fn create_phase(
    ctx: &Context,
    prepared: &Prepared,
    progress: Progress,
    budget: &Arc<Budget>,
) -> Result<Outputs> {
    let outputs = Arc::new(Mutex::new(plan::observed_outputs(&prepared.observed)));
    // A declared id has one change; a duplicate under it is deleted in the phases around.
    let changes: HashMap<&ResourceId, &plan::Change> = prepared
        .plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::Delete)
        .map(|c| (&c.id, c))
        .collect();
    let work: HashMap<&ResourceId, Work<'_>> = changes
        .iter()
        .filter_map(|(id, c)| Some((*id, Work::of(c, &prepared.observed)?)))
        .collect();
    let (jobs, blockers) = jobs(prepared, &changes, &work)?;
    let desired: HashMap<&ResourceId, &Desired> =
        prepared.desired.iter().map(|d| (&d.id, d)).collect();
    let results = schedule(jobs, &blockers, JOBS_AT_ONCE, budget, |job| {
        let (progress, outputs, budget) = (progress.clone(), outputs.clone(), budget.clone());
        let desired = &desired;
        let work = &work;
        async move {
            let id = match job {
                Job::Ready(id) => {
                    let refs = lock(&outputs).clone();
                    return wait_ready(ctx, desired[&id], &refs, &progress, &budget).await;
                }
                Job::Apply(id) | Job::Delete(id, _) => id,
            };
            let want = desired[&id];
            // Apply jobs are made only for the changes that have work.
            let work = work[&id];
            let service = service_of(want.spec.kind());
            ctx.slots
                .hold(service, async move {
                    let started = Instant::now();
                    let action = work.action();
                    progress(Event::Started {
                        id: id.clone(),
                        kind: want.spec.kind(),
                        action,
                    });
                    let refs = lock(&outputs).clone();
                    let wait = waiting(&progress, &id);
                    let result = apply_one(ctx, want, work, &refs, &wait).await;
                    if let Ok(output) = &result {
                        lock(&outputs).insert(id.clone(), output.clone());
                    }
                    let done = (&id, want.spec.kind(), action, started);
                    report(&progress, done, result.as_ref().err());
                    result.map(|_| ())
                })
                .await
        }
    })
    .await;
    finish(results, budget, &progress)?;
    let outputs = lock(&outputs).clone();
    Ok(outputs)
}

/// Waits until `want` works, as its ready job; an interrupt ends the wait.
async fn wait_ready(
    ctx: &Context,
    want: &Desired,
    refs: &Outputs,
    progress: &Progress,
    budget: &Budget,
) -> Result<()> {
    let id = &want.id;
    let started = Instant::now();
    let output = refs.get(id).cloned().unwrap_or_default();
    let wait = waiting(progress, id);
    let ready = want.spec.ready(ctx, id, &output, refs, &wait);
    let result = budget.unless_interrupted(ready).await;
    report_ready(
        progress,
        (id, want.spec.kind(), started),
        result.as_ref().err(),
    );
    result
}

/// The jobs of the create phase and what each waits on. Each resource to create or update is
/// a job; a kind that works some time after it exists has a second job that waits until it
/// does (also for one found unchanged but not working yet). A dependent waits on the first
/// job of a dependency it needs to exist, on the second of one it needs working.
fn jobs(
    prepared: &Prepared,
    changes: &HashMap<&ResourceId, &plan::Change>,
    work: &HashMap<&ResourceId, Work<'_>>,
) -> Result<(Vec<Job>, Blockers)> {
    let graph = Graph::new(prepared.desired.iter().map(|d| (&d.id, d.deps.as_slice())))?;
    let changed = |id: &ResourceId| work.contains_key(id);
    let not_ready = |id: &ResourceId| {
        let found = changes.get(id).and_then(|c| c.found(&prepared.observed));
        found.is_some_and(|o| o.unready().is_some())
    };
    let mut jobs = Vec::new();
    let mut blockers = Blockers::new();
    for want in graph
        .order()
        .iter()
        .filter_map(|id| prepared.desired.iter().find(|d| &d.id == id))
    {
        let id = &want.id;
        if changed(id) {
            let on = graph
                .deps(id.as_str())
                .iter()
                .filter_map(|dep| {
                    let working = want.ready_deps.contains(dep);
                    let ready = Job::Ready(dep.clone());
                    if working && blockers.contains_key(&ready) {
                        Some(ready)
                    } else {
                        changed(dep).then(|| Job::Apply(dep.clone()))
                    }
                })
                .collect();
            jobs.push(Job::Apply(id.clone()));
            blockers.insert(Job::Apply(id.clone()), on);
        }
        if want.spec.waits() && (changed(id) || not_ready(id)) {
            let on = if changed(id) {
                vec![Job::Apply(id.clone())]
            } else {
                Vec::new()
            };
            jobs.push(Job::Ready(id.clone()));
            blockers.insert(Job::Ready(id.clone()), on);
        }
    }
    Ok((jobs, blockers))
}

fn lock(outputs: &Mutex<Outputs>) -> std::sync::MutexGuard<'_, Outputs> {
    outputs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired;

    fn zones() -> Vec<String> {
        vec!["us-east-1a".into(), "us-east-1b".into()]
    }

    /// The create phase's jobs for a stack made from nothing.
    fn jobs_from_empty(spec: &StackSpec) -> HashMap<String, Vec<String>> {
        // Keyed and listed as the jobs show (`load-balancer#ready`).
        let desired = desired::desired(spec, &zones());
        let plan = plan::compute(&spec.name, &desired, &[]).unwrap();
        let prepared = Prepared {
            plan,
            desired,
            observed: Vec::new(),
            renamed_from: Vec::new(),
            unimaged: Unimaged::default(),
            unread: Vec::new(),
        };
        let changes = prepared.plan.changes.iter().map(|c| (&c.id, c)).collect();
        let work = prepared
            .plan
            .changes
            .iter()
            .filter_map(|c| Some((&c.id, Work::of(c, &prepared.observed)?)))
            .collect();
        jobs(&prepared, &changes, &work)
            .unwrap()
            .1
            .into_iter()
            .map(|(job, on)| (job.to_string(), on.iter().map(Job::to_string).collect()))
            .collect()
    }

    #[test]
    fn the_service_starts_once_the_load_balancer_exists_not_once_it_works() {
        let mut spec = StackSpec::minimal("s");
        spec.services[0].image = Some("repo/app:1".into());
        let jobs = jobs_from_empty(&spec);
        assert_eq!(jobs["load-balancer#ready"], ["load-balancer"]);
        assert!(jobs["http-listener"].contains(&"load-balancer".to_owned()));
        assert!(jobs["service"].contains(&"http-listener".to_owned()));
        let waits_for_ready = |id: &str| jobs[id].iter().any(|j| j.ends_with("#ready"));
        assert!(!waits_for_ready("http-listener") && !waits_for_ready("service"));
        assert_eq!(jobs["service#ready"], ["service"]);
        assert!(
            !jobs.contains_key("vpc#ready"),
            "a VPC works once it exists"
        );
    }

    #[test]
    fn a_route_to_a_nat_gateway_waits_until_the_gateway_is_available() {
        let mut spec = StackSpec::minimal("s");
        spec.network.nat_gateway = true;
        let jobs = jobs_from_empty(&spec);
        assert!(jobs["private-route-table"].contains(&"nat-gateway#ready".to_owned()));
        assert!(!jobs["private-route-table"].contains(&"nat-gateway".to_owned()));
    }
}
