//! Walks a plan against AWS: observe → plan → apply. Deletions (and the delete half of
//! replacements) run first, dependents before what they depend on; then creates and updates
//! run dependencies first. Each resource starts as soon as **its own** dependencies are done,
//! not when a whole level is, so nothing waits on a resource it does not depend on.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::graph::Graph;
use crate::plan::{self, Action, Plan};
use crate::resources::{self, Desired, Kind, Observed, Outputs};
use crate::spec::{Names, StackSpec};

/// What the engine reports while it works (the CLI draws it).
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        id: String,
        kind: Kind,
        action: Action,
    },
    Waiting {
        id: String,
        message: String,
    },
    Finished {
        id: String,
        kind: Kind,
        action: Action,
        elapsed: Duration,
    },
    Failed {
        id: String,
        error: String,
    },
    Skipped {
        id: String,
        reason: String,
    },
}

/// Receives progress events; must be cheap and never block.
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// A no-op progress sink.
pub fn quiet() -> Progress {
    Arc::new(|_| {})
}

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
    let names = spec.names();
    let (zones, observed) = tokio::try_join!(
        resources::ec2::zones(ctx),
        resources::observe_all(ctx, &names)
    )?;
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
    let mut observed = observed;
    observed.extend(observe_image(ctx, &names, &desired).await?);
    let plan = plan::compute(&spec.name, &desired, &observed)?;
    Ok(Prepared {
        plan,
        desired,
        observed,
    })
}

/// The image to build, if the stack has one and its tag is already pushed.
async fn observe_image(ctx: &Context, names: &Names, desired: &[Desired]) -> Result<Vec<Observed>> {
    let image = desired.iter().find_map(|d| match &d.spec {
        resources::Spec::Image(image) => Some(image),
        _ => None,
    });
    match image {
        Some(image) => Ok(resources::image::observe(ctx, names, image)
            .await?
            .into_iter()
            .collect()),
        None => Ok(Vec::new()),
    }
}

/// Reads the stack and plans deleting all of it.
pub async fn prepare_destroy(ctx: &Context, names: &Names) -> Result<Prepared> {
    let observed = resources::observe_all(ctx, names).await?;
    Ok(Prepared {
        plan: plan::destroy(&names.stack, &observed),
        desired: Vec::new(),
        observed,
    })
}

/// Every resource still tagged with the stack.
pub async fn remaining(ctx: &Context, names: &Names) -> Result<Vec<Observed>> {
    resources::observe_all(ctx, names).await
}

/// Applies a prepared plan and returns every resource's outputs.
pub async fn apply(
    ctx: &Context,
    prepared: &Prepared,
    progress: Progress,
    options: &ApplyOptions,
) -> Result<Outputs> {
    let budget = Arc::new(Budget {
        left: AtomicUsize::new(options.stop_after.unwrap_or(usize::MAX)),
        limit: options.stop_after,
        cancel: options.cancel.clone(),
    });
    let removals: Vec<&plan::Change> = prepared
        .plan
        .changes
        .iter()
        .filter(|c| matches!(c.action, Action::Delete | Action::Replace))
        .collect();
    let mut prepared_now = std::borrow::Cow::Borrowed(prepared);
    if !removals.is_empty() {
        delete_phase(ctx, prepared, &removals, progress.clone(), &budget).await?;
        if prepared.desired.is_empty() {
            return Ok(Outputs::new());
        }
        // What was deleted is gone now and what referred to it changed: plan again from
        // a fresh look, which now has only creates and updates.
        let names = Names::new(&prepared.plan.stack);
        let mut observed = resources::observe_all(ctx, &names).await?;
        observed.extend(observe_image(ctx, &names, &prepared.desired).await?);
        let plan = plan::compute(&prepared.plan.stack, &prepared.desired, &observed)?;
        prepared_now = std::borrow::Cow::Owned(Prepared {
            plan,
            desired: prepared.desired.clone(),
            observed,
        });
    }
    create_phase(ctx, &prepared_now, progress, &budget).await
}

struct Budget {
    left: AtomicUsize,
    limit: Option<usize>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Budget {
    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    /// Takes one change from the budget; `Err` with the reason once it is spent or the run
    /// was interrupted.
    fn take(&self) -> std::result::Result<(), &'static str> {
        if self.cancelled() {
            return Err(INTERRUPTED);
        }
        self.left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .map(|_| ())
            .map_err(|_| STOPPED)
    }
}

async fn delete_phase(
    ctx: &Context,
    prepared: &Prepared,
    removals: &[&plan::Change],
    progress: Progress,
    budget: &Arc<Budget>,
) -> Result<()> {
    let targets: Vec<&Observed> = removals
        .iter()
        .filter_map(|c| {
            prepared
                .observed
                .iter()
                .find(|o| o.id == c.id && Some(&o.aws_id) == c.aws_id.as_ref())
        })
        .collect();
    // A resource is deleted after everything of higher rank (its dependents) is gone: the
    // service before its cluster, listener and load balancer before subnets and groups.
    // Queues, repositories, roles, logs and task definitions have no such order.
    let network = |k: Kind| {
        !matches!(
            k,
            Kind::Queue
                | Kind::Repository
                | Kind::Role
                | Kind::LogGroup
                | Kind::TaskDefinition
                | Kind::Image
        )
    };
    let keys: Vec<String> = targets
        .iter()
        .map(|o| format!("{}@{}", o.id, o.aws_id))
        .collect();
    let mut blockers: HashMap<String, Vec<String>> = HashMap::new();
    for (i, o) in targets.iter().enumerate() {
        let before: Vec<String> = targets
            .iter()
            .enumerate()
            .filter(|(_, other)| {
                network(o.kind)
                    && network(other.kind)
                    && other.kind.delete_rank() > o.kind.delete_rank()
            })
            .map(|(j, _)| keys[j].clone())
            .collect();
        blockers.insert(keys[i].clone(), before);
    }
    let by_key: HashMap<String, &Observed> =
        keys.iter().cloned().zip(targets.iter().copied()).collect();
    let action_of: HashMap<&str, Action> =
        removals.iter().map(|c| (c.id.as_str(), c.action)).collect();
    let results = schedule(
        keys.clone(),
        &blockers,
        ctx.settings.concurrency,
        budget,
        |key| {
            let observed = by_key[&key];
            let ctx = ctx.clone();
            let progress = progress.clone();
            let action = action_of
                .get(observed.id.as_str())
                .copied()
                .unwrap_or(Action::Delete);
            async move {
                let started = Instant::now();
                progress(Event::Started {
                    id: observed.id.clone(),
                    kind: observed.kind,
                    action,
                });
                let id = observed.id.clone();
                let waiting = {
                    let progress = progress.clone();
                    move |message: String| {
                        progress(Event::Waiting {
                            id: id.clone(),
                            message,
                        })
                    }
                };
                let result = resources::delete(&ctx, observed, &waiting).await;
                report(
                    &progress,
                    &observed.id,
                    observed.kind,
                    action,
                    started,
                    &result,
                );
                result
            }
        },
    )
    .await;
    finish(results, budget, &progress)?;
    Ok(())
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
    let actions: HashMap<&str, Action> = prepared
        .plan
        .changes
        .iter()
        .map(|c| (c.id.as_str(), c.action))
        .collect();
    let work: Vec<String> = graph
        .order()
        .iter()
        .filter(|id| {
            matches!(
                actions.get(id.as_str()),
                Some(Action::Create | Action::Update)
            )
        })
        .cloned()
        .collect();
    let pending: BTreeSet<&str> = work.iter().map(String::as_str).collect();
    let blockers: HashMap<String, Vec<String>> = work
        .iter()
        .map(|id| {
            let deps = graph
                .deps(id)
                .iter()
                .filter(|d| pending.contains(d.as_str()))
                .cloned()
                .collect();
            (id.clone(), deps)
        })
        .collect();
    let desired: HashMap<&str, &Desired> = prepared
        .desired
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let results = schedule(work, &blockers, ctx.settings.concurrency, budget, |id| {
        let ctx = ctx.clone();
        let progress = progress.clone();
        let outputs = outputs.clone();
        let want = desired[id.as_str()];
        let action = actions[id.as_str()];
        let existing = prepared.observed.iter().find(|o| o.id == id);
        async move {
            let started = Instant::now();
            progress(Event::Started {
                id: id.clone(),
                kind: want.spec.kind(),
                action,
            });
            let refs = lock(&outputs).clone();
            let waiting = {
                let (progress, id) = (progress.clone(), id.clone());
                move |message: String| {
                    progress(Event::Waiting {
                        id: id.clone(),
                        message,
                    })
                }
            };
            let result = match (action, existing) {
                (Action::Update, Some(observed)) => {
                    resources::update(&ctx, want, observed, &refs, &waiting).await
                }
                _ => resources::create(&ctx, want, &refs, &waiting).await,
            };
            if let Ok(output) = &result {
                lock(&outputs).insert(id.clone(), output.clone());
            }
            report(&progress, &id, want.spec.kind(), action, started, &result);
            result.map(|_| ())
        }
    })
    .await;
    finish(results, budget, &progress)?;
    let outputs = lock(&outputs).clone();
    Ok(outputs)
}

fn lock(outputs: &Mutex<Outputs>) -> std::sync::MutexGuard<'_, Outputs> {
    outputs
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn report<T>(
    progress: &Progress,
    id: &str,
    kind: Kind,
    action: Action,
    started: Instant,
    result: &Result<T>,
) {
    match result {
        Ok(_) => progress(Event::Finished {
            id: id.to_owned(),
            kind,
            action,
            elapsed: started.elapsed(),
        }),
        Err(err) => progress(Event::Failed {
            id: id.to_owned(),
            error: crate::error_chain(err),
        }),
    }
}

/// How one scheduled item ended.
enum Outcome {
    Done,
    Failed(Error),
    /// Not started: a dependency failed, or the change budget ran out.
    NotStarted(String),
}

fn finish(results: Vec<(String, Outcome)>, budget: &Budget, progress: &Progress) -> Result<()> {
    let mut errors = Vec::new();
    let mut stopped = false;
    let mut interrupted = false;
    for (id, outcome) in results {
        match outcome {
            Outcome::Done => {}
            Outcome::Failed(err) => errors.push(err),
            Outcome::NotStarted(reason) => {
                stopped |= reason == STOPPED;
                interrupted |= reason == INTERRUPTED;
                progress(Event::Skipped { id, reason });
            }
        }
    }
    match errors.len() {
        0 if interrupted => Err(Error::Interrupted),
        0 if stopped => Err(Error::Stopped(budget.limit.unwrap_or(0))),
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}

const STOPPED: &str = "stopped before it started (--stop-after)";
const INTERRUPTED: &str = "not started: interrupted";

/// Runs `run(id)` for every id once all its `blockers` are done, at most `limit` at a time.
/// A failure skips everything that (transitively) waits on it; independent work goes on.
async fn schedule<F, Fut>(
    ids: Vec<String>,
    blockers: &HashMap<String, Vec<String>>,
    limit: usize,
    budget: &Budget,
    mut run: F,
) -> Vec<(String, Outcome)>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut waiting_on: HashMap<String, usize> = ids
        .iter()
        .map(|id| (id.clone(), blockers.get(id).map_or(0, Vec::len)))
        .collect();
    let mut unblocks: HashMap<String, Vec<String>> = HashMap::new();
    for id in &ids {
        for b in blockers.get(id).into_iter().flatten() {
            unblocks.entry(b.clone()).or_default().push(id.clone());
        }
    }
    let mut ready: Vec<String> = ids
        .iter()
        .filter(|id| waiting_on[*id] == 0)
        .cloned()
        .collect();
    let mut results: Vec<(String, Outcome)> = Vec::new();
    let mut settled: BTreeSet<String> = BTreeSet::new();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limit.max(1) && !ready.is_empty() {
            let id = ready.remove(0);
            if let Err(reason) = budget.take() {
                settled.insert(id.clone());
                results.push((id, Outcome::NotStarted(reason.into())));
                continue;
            }
            let fut = run(id.clone());
            running.push(async move { (id, fut.await) });
        }
        let Some((id, result)) = running.next().await else {
            break;
        };
        settled.insert(id.clone());
        match result {
            Ok(()) => {
                for next in unblocks.get(&id).into_iter().flatten() {
                    if let Some(n) = waiting_on.get_mut(next) {
                        *n -= 1;
                        if *n == 0 && !settled.contains(next) {
                            ready.push(next.clone());
                        }
                    }
                }
                // Keep the declaration order among ready items.
                ready.sort_by_key(|r| ids.iter().position(|x| x == r));
                results.push((id, Outcome::Done));
            }
            Err(err) => {
                let mut stack = vec![id.clone()];
                while let Some(failed) = stack.pop() {
                    for next in unblocks.get(&failed).into_iter().flatten() {
                        if settled.insert(next.clone()) {
                            results
                                .push((next.clone(), Outcome::NotStarted(format!("{id} failed"))));
                            stack.push(next.clone());
                        }
                    }
                }
                results.push((id, Outcome::Failed(err)));
            }
        }
    }
    // Anything never reached (only after a stop) is reported, not silently dropped.
    let reason = if budget.cancelled() {
        INTERRUPTED
    } else {
        STOPPED
    };
    for id in ids {
        if !settled.contains(&id) {
            results.push((id, Outcome::NotStarted(reason.into())));
        }
    }
    results
}

/// The outputs of a stack as it is now (for `status`), from an observation.
pub use crate::plan::observed_outputs as outputs_of;

#[cfg(test)]
mod tests {
    use super::*;

    fn blockers(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(id, bs)| {
                (
                    (*id).to_owned(),
                    bs.iter().map(|b| (*b).to_owned()).collect(),
                )
            })
            .collect()
    }

    fn unlimited() -> Budget {
        Budget {
            left: AtomicUsize::new(usize::MAX),
            limit: None,
            cancel: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_resource_does_not_hold_up_unrelated_ones() {
        // nat (slow) and sg are independent; rt needs nat; sg2 needs sg.
        let ids: Vec<String> = ["nat", "sg", "rt", "sg2"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let b = blockers(&[("rt", &["nat"]), ("sg2", &["sg"])]);
        let t0 = tokio::time::Instant::now();
        let finished = Arc::new(Mutex::new(Vec::new()));
        let results = schedule(ids, &b, 8, &unlimited(), |id| {
            let finished = finished.clone();
            async move {
                let secs = if id == "nat" { 60 } else { 1 };
                tokio::time::sleep(Duration::from_secs(secs)).await;
                finished.lock().unwrap().push((id, t0.elapsed().as_secs()));
                Ok(())
            }
        })
        .await;
        assert_eq!(results.len(), 4);
        let finished = finished.lock().unwrap().clone();
        let at = |id: &str| finished.iter().find(|(x, _)| x == id).unwrap().1;
        assert_eq!(
            at("sg2"),
            2,
            "sg2 ran right after sg, not after the slow nat"
        );
        assert_eq!(at("rt"), 61);
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents() {
        let ids: Vec<String> = ["a", "b", "c", "d"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let b = blockers(&[("b", &["a"]), ("c", &["b"])]);
        let results = schedule(ids, &b, 8, &unlimited(), |id| async move {
            if id == "a" {
                Err(Error::unexpected("a", "boom"))
            } else {
                Ok(())
            }
        })
        .await;
        let outcome = |id: &str| match &results.iter().find(|(x, _)| x == id).unwrap().1 {
            Outcome::Done => "done",
            Outcome::Failed(_) => "failed",
            Outcome::NotStarted(_) => "skipped",
        };
        assert_eq!(
            [outcome("a"), outcome("b"), outcome("c"), outcome("d")],
            ["failed", "skipped", "skipped", "done"]
        );
    }

    #[tokio::test]
    async fn the_budget_stops_new_work() {
        let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
        let budget = Budget {
            left: AtomicUsize::new(2),
            limit: Some(2),
            cancel: None,
        };
        let results = schedule(ids, &HashMap::new(), 1, &budget, |_| async { Ok(()) }).await;
        let done = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Done))
            .count();
        assert_eq!(done, 2);
        let (progress, _) = (quiet(), ());
        assert!(matches!(
            finish(results, &budget, &progress),
            Err(Error::Stopped(2))
        ));
    }

    #[tokio::test]
    async fn an_interrupt_lets_running_work_finish_and_starts_nothing_new() {
        let ids: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
        let cancel = Arc::new(AtomicBool::new(false));
        let budget = Budget {
            left: AtomicUsize::new(usize::MAX),
            limit: None,
            cancel: Some(cancel.clone()),
        };
        let b = blockers(&[("b", &["a"]), ("c", &["b"])]);
        let results = schedule(ids, &b, 8, &budget, |id| {
            let cancel = cancel.clone();
            async move {
                if id == "a" {
                    // Ctrl-C arrives while `a` is being created; `a` still completes.
                    cancel.store(true, Ordering::SeqCst);
                }
                Ok(())
            }
        })
        .await;
        let done: Vec<&str> = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Done))
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(done, ["a"]);
        assert!(matches!(
            finish(results, &budget, &quiet()),
            Err(Error::Interrupted)
        ));
    }
}
