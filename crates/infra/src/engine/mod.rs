//! Walks a plan against AWS: observe → plan → apply. Deletions (and the delete half of
//! replacements) run first, users before what they use; then creates and updates run
//! dependencies first. Each resource starts as soon as its own dependencies are done, not
//! when a whole level is, so nothing waits on a resource it does not depend on.

mod events;
mod schedule;

pub use events::{Event, Progress, quiet};

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use schedule::{Budget, finish, schedule};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::outputs::Outputs;
use crate::plan::{self, Action, Plan};
use crate::resource::New;
use crate::resources::{self, Desired, Kind, Observed};
use crate::spec::StackSpec;

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
}

/// Reads the stack's current state and plans the changes to reach `spec`.
pub async fn prepare(ctx: &Context, spec: &StackSpec) -> Result<Prepared> {
    let zones = crate::aws::ec2::zones(ctx).await?;
    if zones.len() < spec.network.availability_zones {
        return Err(Error::unexpected(
            "network.availability_zones",
            format!(
                "{} asks for {} zones but region {} offers {} ({})",
                spec.name,
                spec.network.availability_zones,
                spec.region,
                zones.len(),
                zones.join(", ")
            ),
        ));
    }
    let desired = crate::stack::desired(spec, &zones);
    let observed = resources::observe_all(ctx, &desired).await?;
    let plan = plan::compute(&spec.name, &desired, &observed)?;
    Ok(Prepared {
        plan,
        desired,
        observed,
    })
}

/// Reads the stack (everything that carries its tag) and plans deleting all of it.
pub async fn prepare_destroy(ctx: &Context) -> Result<Prepared> {
    let observed = remaining(ctx).await?;
    Ok(Prepared {
        plan: plan::destroy(&ctx.stack, &observed),
        desired: Vec::new(),
        observed,
    })
}

/// Every resource still tagged with the stack.
pub async fn remaining(ctx: &Context) -> Result<Vec<Observed>> {
    resources::observe_all(ctx, &[]).await
}

/// The outputs of a stack as it is now (for `status`), from an observation.
pub use crate::plan::observed_outputs as outputs_of;

/// Applies a prepared plan and returns every resource's outputs.
pub async fn apply(
    ctx: &Context,
    prepared: &Prepared,
    progress: Progress,
    options: &ApplyOptions,
) -> Result<Outputs> {
    let budget = Arc::new(Budget::new(options.stop_after, options.cancel.clone()));
    let removals: Vec<&plan::Change> = prepared
        .plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
        .collect();
    if removals.is_empty() {
        return create_phase(ctx, prepared, progress, &budget).await;
    }
    delete_phase(ctx, prepared, &removals, progress.clone(), &budget).await?;
    if prepared.desired.is_empty() {
        return Ok(Outputs::new());
    }
    // What was deleted is gone now and what referred to it changed: plan again from a fresh
    // look, which now has only creates and updates.
    let observed = resources::observe_all(ctx, &prepared.desired).await?;
    let fresh = Prepared {
        plan: plan::compute(&prepared.plan.stack, &prepared.desired, &observed)?,
        desired: prepared.desired.clone(),
        observed,
    };
    create_phase(ctx, &fresh, progress, &budget).await
}

/// Reports what one resource waits for.
fn waiting(progress: &Progress, id: &str) -> impl Fn(String) + Send + Sync + use<> {
    let (progress, id) = (progress.clone(), id.to_owned());
    move |message| {
        progress(Event::Waiting {
            id: id.clone(),
            message,
        })
    }
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
        .filter_map(|c| {
            let found = prepared
                .observed
                .iter()
                .find(|o| o.id == c.id && Some(&o.aws_id) == c.aws_id.as_ref())?;
            Some((found, c.action))
        })
        .collect();
    // A resource goes once everything that uses it is gone: the service before its cluster,
    // the load balancer before its subnets and security group.
    let found: Vec<&Observed> = targets.iter().map(|(o, _)| *o).collect();
    let keys: Vec<String> = found
        .iter()
        .map(|o| format!("{}@{}", o.id, o.aws_id))
        .collect();
    let blockers: HashMap<String, Vec<String>> = plan::deleted_before(&found)
        .into_iter()
        .enumerate()
        .map(|(i, before)| {
            let before = before.into_iter().filter(|&j| j != i);
            (keys[i].clone(), before.map(|j| keys[j].clone()).collect())
        })
        .collect();
    let by_key: HashMap<&str, (&Observed, Action)> =
        keys.iter().map(String::as_str).zip(targets).collect();
    let results = schedule(
        keys.clone(),
        &blockers,
        ctx.settings.concurrency,
        budget,
        |key| {
            let (observed, action) = by_key[key.as_str()];
            let progress = progress.clone();
            async move {
                let started = Instant::now();
                progress(Event::Started {
                    id: observed.id.clone(),
                    kind: observed.kind(),
                    action,
                });
                let wait = waiting(&progress, &observed.id);
                let result = observed.delete(ctx, &wait).await;
                let done = (observed.id.as_str(), observed.kind(), action, started);
                report(&progress, done, result.as_ref().err());
                result
            }
        },
    )
    .await;
    finish(results, budget, &progress)
}

async fn create_phase(
    ctx: &Context,
    prepared: &Prepared,
    progress: Progress,
    budget: &Arc<Budget>,
) -> Result<Outputs> {
    let graph = Graph::new(
        prepared
            .desired
            .iter()
            .map(|d| (d.id.as_str(), d.deps.as_slice())),
    )?;
    let outputs = Arc::new(Mutex::new(plan::observed_outputs(&prepared.observed)));
    let changes: HashMap<&str, &plan::Change> = prepared
        .plan
        .changes
        .iter()
        .map(|c| (c.id.as_str(), c))
        .collect();
    let (work, blockers) = creates_and_updates(&graph, &changes);
    let desired: HashMap<&str, &Desired> = prepared
        .desired
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let results = schedule(work, &blockers, ctx.settings.concurrency, budget, |id| {
        let (progress, outputs) = (progress.clone(), outputs.clone());
        let want = desired[id.as_str()];
        let change = changes[id.as_str()];
        let existing = prepared.observed.iter().find(|o| o.id == id);
        async move {
            let started = Instant::now();
            progress(Event::Started {
                id: id.clone(),
                kind: want.spec.kind(),
                action: change.action,
            });
            let refs = lock(&outputs).clone();
            let wait = waiting(&progress, &id);
            let result = apply_one(ctx, want, change, existing, &refs, &wait).await;
            if let Ok(output) = &result {
                lock(&outputs).insert(id.clone(), output.clone());
            }
            let done = (id.as_str(), want.spec.kind(), change.action, started);
            report(&progress, done, result.as_ref().err());
            result.map(|_| ())
        }
    })
    .await;
    finish(results, budget, &progress)?;
    let outputs = lock(&outputs).clone();
    Ok(outputs)
}

/// The resources to create or update, in graph order, each with the ones of them it waits on.
fn creates_and_updates(
    graph: &Graph,
    changes: &HashMap<&str, &plan::Change>,
) -> (Vec<String>, HashMap<String, Vec<String>>) {
    let work: Vec<String> = graph
        .order()
        .iter()
        .filter(|id| {
            changes
                .get(id.as_str())
                .is_some_and(|c| matches!(c.action, Action::Create | Action::Update))
        })
        .cloned()
        .collect();
    let pending: BTreeSet<&str> = work.iter().map(String::as_str).collect();
    let blockers = work
        .iter()
        .map(|id| {
            let deps = graph
                .deps(id)
                .iter()
                .filter(|d| pending.contains(d.as_str()));
            (id.clone(), deps.cloned().collect())
        })
        .collect();
    (work, blockers)
}

/// Creates a resource, or applies exactly the planned update to it.
async fn apply_one(
    ctx: &Context,
    want: &Desired,
    change: &plan::Change,
    existing: Option<&Observed>,
    refs: &Outputs,
    wait: &(dyn Fn(String) + Send + Sync),
) -> Result<crate::outputs::Output> {
    match (change.action, existing, &change.update) {
        (Action::Update, Some(found), Some(update)) => {
            let output = want
                .spec
                .update(ctx, found, &update.fields, refs, wait)
                .await?;
            if !update.tags.is_empty() {
                found.retag(ctx, &update.tags).await?;
            }
            Ok(output)
        }
        (Action::Create, _, _) => {
            let new = New {
                id: &want.id,
                tags: &want.tags,
                refs,
                wait,
            };
            want.spec.create(ctx, new).await
        }
        _ => Err(Error::unexpected(
            &want.id,
            format!("the plan has no {} to apply", change.action),
        )),
    }
}

fn lock(outputs: &Mutex<Outputs>) -> std::sync::MutexGuard<'_, Outputs> {
    outputs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reports how one change ended: `(id, kind, action, started)` and its error, if any.
fn report(
    progress: &Progress,
    (id, kind, action, started): (&str, Kind, Action, Instant),
    error: Option<&Error>,
) {
    match error {
        None => progress(Event::Finished {
            id: id.to_owned(),
            kind,
            action,
            elapsed: started.elapsed(),
        }),
        Some(err) => progress(Event::Failed {
            id: id.to_owned(),
            error: crate::error::chain(err),
        }),
    }
}
