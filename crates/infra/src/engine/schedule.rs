//! Runs a set of jobs as their blockers allow: each starts as soon as **its own** blockers are
//! done (not when a whole level is), at most `limit` at once; a failure skips only what waits
//! on it; a spent budget or an interrupt starts nothing new while what runs finishes.

use std::collections::{BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use futures::stream::{FuturesUnordered, StreamExt};

use super::events::{Event, Progress};
use super::job::Job;
use crate::error::{Error, Result};

/// How many changes may still start, and whether the run was interrupted.
pub(super) struct Budget {
    left: AtomicUsize,
    limit: Option<usize>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Budget {
    pub(super) fn new(stop_after: Option<usize>, cancel: Option<Arc<AtomicBool>>) -> Self {
        Self {
            left: AtomicUsize::new(stop_after.unwrap_or(usize::MAX)),
            limit: stop_after,
            cancel,
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    /// Runs `work` unless the run is interrupted first (a wait stops at once on Ctrl-C).
    pub(super) async fn unless_interrupted<T>(
        &self,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let interrupted = async {
            while !self.cancelled() {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        };
        tokio::select! {
            result = work => result,
            () = interrupted => Err(Error::interrupted()),
        }
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

/// How one scheduled item ended.
pub(super) enum Outcome {
    Done,
    Failed(Error),
    /// Not started: a dependency failed, or the change budget ran out.
    NotStarted(String),
}

pub(super) fn finish(
    results: Vec<(Job, Outcome)>,
    budget: &Budget,
    progress: &Progress,
) -> Result<()> {
    let mut errors = Vec::new();
    let mut stopped = false;
    let mut interrupted = false;
    let mut cut_short = Vec::new();
    for (job, outcome) in results {
        match outcome {
            Outcome::Done => {}
            Outcome::Failed(Error::Interrupted { .. }) => cut_short.push(job.id().clone()),
            Outcome::Failed(err) => errors.push(err),
            Outcome::NotStarted(reason) => {
                stopped |= reason == STOPPED;
                interrupted |= reason == INTERRUPTED;
                progress(Event::Skipped { job, reason });
            }
        }
    }
    if !cut_short.is_empty() {
        cut_short.sort();
        cut_short.dedup();
        errors.push(Error::Interrupted { cut_short });
    }
    match errors.len() {
        0 if interrupted => Err(Error::interrupted()),
        0 if stopped => Err(Error::Stopped(budget.limit.unwrap_or(0))),
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}

const STOPPED: &str = "stopped before it started (--stop-after)";
const INTERRUPTED: &str = "not started: interrupted";

/// Each job with the jobs it waits on.
pub(super) type Blockers = HashMap<Job, Vec<Job>>;

/// Runs `run(job)` for every job once all its `blockers` are done, at most `limit` jobs that
/// are work ([`Job::is_work`]) at a time; waits that mostly sleep do not count. A failure
/// skips everything that (transitively) waits on it; independent work goes on.
pub(super) async fn schedule<F, Fut>(
    ids: Vec<Job>,
    blockers: &Blockers,
    limit: usize,
    budget: &Budget,
    mut run: F,
) -> Vec<(Job, Outcome)>
where
    F: FnMut(Job) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut state = State::new(longest_chain_first(ids, blockers), blockers);
    let mut running = FuturesUnordered::new();
    let mut busy = 0;
    loop {
        while let Some(next) = state
            .ready
            .iter()
            .position(|job| !job.is_work() || busy < limit.max(1))
        {
            let id = state.ready.remove(next);
            if let Err(reason) = budget.take() {
                state.settle(id, Outcome::NotStarted(reason.into()));
                continue;
            }
            busy += usize::from(id.is_work());
            let fut = run(id.clone());
            running.push(async move { (id, fut.await) });
        }
        let Some((id, result)) = running.next().await else {
            break;
        };
        busy -= usize::from(id.is_work());
        match result {
            Ok(()) => state.done(id),
            Err(err) => state.failed(id, err),
        }
    }
    state.finish(budget)
}

/// `ids` with the jobs that the longest chains of other jobs wait on first, declaration order
/// among equals. Jobs of one AWS service share its slots in the order they ask, so this puts a
/// service's delete (the security groups, subnets and VPC wait on it) before task-definition
/// deregistrations that nothing waits on.
fn longest_chain_first(mut ids: Vec<Job>, blockers: &Blockers) -> Vec<Job> {
    let mut unblocks: HashMap<&Job, Vec<&Job>> = HashMap::new();
    for (job, on) in blockers {
        for blocker in on {
            unblocks.entry(blocker).or_default().push(job);
        }
    }
    // Jobs are few (a thousand at fifty services) and the graph has no cycle; a job met again
    // while its own chain is measured counts as the end of that chain.
    fn chain<'a>(
        job: &'a Job,
        unblocks: &HashMap<&'a Job, Vec<&'a Job>>,
        memo: &mut HashMap<&'a Job, usize>,
    ) -> usize {
        if let Some(known) = memo.get(job) {
            return *known;
        }
        memo.insert(job, 0);
        let longest = unblocks
            .get(job)
            .into_iter()
            .flatten()
            .map(|next| 1 + chain(next, unblocks, memo))
            .max()
            .unwrap_or(0);
        memo.insert(job, longest);
        longest
    }
    let mut memo = HashMap::new();
    let lengths: HashMap<Job, usize> = ids
        .iter()
        .map(|job| (job.clone(), chain(job, &unblocks, &mut memo)))
        .collect();
    ids.sort_by_key(|job| std::cmp::Reverse(lengths[job]));
    ids
}

/// Which jobs wait on what, which are ready, and how each settled.
struct State {
    ids: Vec<Job>,
    waiting_on: HashMap<Job, usize>,
    unblocks: HashMap<Job, Vec<Job>>,
    ready: Vec<Job>,
    settled: BTreeSet<Job>,
    results: Vec<(Job, Outcome)>,
}

impl State {
    fn new(ids: Vec<Job>, blockers: &Blockers) -> Self {
        let waiting_on: HashMap<Job, usize> = ids
            .iter()
            .map(|id| (id.clone(), blockers.get(id).map_or(0, Vec::len)))
            .collect();
        let mut unblocks: HashMap<Job, Vec<Job>> = HashMap::new();
        for id in &ids {
            for b in blockers.get(id).into_iter().flatten() {
                unblocks.entry(b.clone()).or_default().push(id.clone());
            }
        }
        let ready = ids
            .iter()
            .filter(|id| waiting_on[*id] == 0)
            .cloned()
            .collect();
        Self {
            ids,
            waiting_on,
            unblocks,
            ready,
            settled: BTreeSet::new(),
            results: Vec::new(),
        }
    }

    fn settle(&mut self, id: Job, outcome: Outcome) {
        self.settled.insert(id.clone());
        self.results.push((id, outcome));
    }

    /// `id` succeeded: what waited only on it is ready now, in declaration order.
    fn done(&mut self, id: Job) {
        for next in self.unblocks.get(&id).into_iter().flatten() {
            if let Some(n) = self.waiting_on.get_mut(next) {
                *n -= 1;
                if *n == 0 && !self.settled.contains(next) {
                    self.ready.push(next.clone());
                }
            }
        }
        let ids = &self.ids;
        self.ready.sort_by_key(|r| ids.iter().position(|x| x == r));
        self.settle(id, Outcome::Done);
    }

    /// `id` failed: everything that (transitively) waits on it is skipped.
    fn failed(&mut self, id: Job, err: Error) {
        let mut stack = vec![id.clone()];
        while let Some(failed) = stack.pop() {
            for next in self.unblocks.get(&failed).cloned().into_iter().flatten() {
                if !self.settled.contains(&next) {
                    self.settle(next.clone(), Outcome::NotStarted(format!("{id} failed")));
                    stack.push(next);
                }
            }
        }
        self.settle(id, Outcome::Failed(err));
    }

    /// The results, with anything never reached (only after a stop) reported, not dropped.
    fn finish(mut self, budget: &Budget) -> Vec<(Job, Outcome)> {
        let reason = if budget.cancelled() {
            INTERRUPTED
        } else {
            STOPPED
        };
        for id in std::mem::take(&mut self.ids) {
            if !self.settled.contains(&id) {
                self.results.push((id, Outcome::NotStarted(reason.into())));
            }
        }
        self.results
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::engine::events::quiet;

    fn job(id: &str) -> Job {
        Job::Apply(crate::id::ResourceId::from_tag(id))
    }

    fn jobs(ids: &[&str]) -> Vec<Job> {
        ids.iter().map(|id| job(id)).collect()
    }

    fn blockers(pairs: &[(&str, &[&str])]) -> Blockers {
        pairs.iter().map(|(id, bs)| (job(id), jobs(bs))).collect()
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
        let ids = jobs(&["nat", "sg", "rt", "sg2"]);
        let b = blockers(&[("rt", &["nat"]), ("sg2", &["sg"])]);
        let t0 = tokio::time::Instant::now();
        let finished = Arc::new(Mutex::new(Vec::new()));
        let results = schedule(ids, &b, 8, &unlimited(), |id| {
            let finished = finished.clone();
            async move {
                let secs = if id == job("nat") { 60 } else { 1 };
                tokio::time::sleep(Duration::from_secs(secs)).await;
                finished.lock().unwrap().push((id, t0.elapsed().as_secs()));
                Ok(())
            }
        })
        .await;
        assert_eq!(results.len(), 4);
        let finished = finished.lock().unwrap().clone();
        let at = |id: &str| finished.iter().find(|(x, _)| *x == job(id)).unwrap().1;
        assert_eq!(
            at("sg2"),
            2,
            "sg2 ran right after sg, not after the slow nat"
        );
        assert_eq!(at("rt"), 61);
    }

    #[tokio::test]
    async fn what_the_longest_chain_waits_on_starts_first() {
        // Declared first, `td` blocks nothing; `vpc` waits on `sg`, which waits on `service`.
        let ids = jobs(&["td", "service", "vpc", "sg", "alarm"]);
        let b = blockers(&[("sg", &["service"]), ("vpc", &["sg"])]);
        let started = Arc::new(Mutex::new(Vec::new()));
        schedule(ids, &b, 1, &unlimited(), |id| {
            let started = started.clone();
            async move {
                started.lock().unwrap().push(id);
                Ok(())
            }
        })
        .await;
        assert_eq!(
            *started.lock().unwrap(),
            // Then, among what nothing waits on, declaration order.
            jobs(&["service", "sg", "td", "vpc", "alarm"])
        );
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_dependents() {
        let ids = jobs(&["a", "b", "c", "d"]);
        let b = blockers(&[("b", &["a"]), ("c", &["b"])]);
        let results = schedule(ids, &b, 8, &unlimited(), |id| async move {
            if id == job("a") {
                Err(Error::Unexpected {
                    resource: "a".into(),
                    message: "boom".into(),
                })
            } else {
                Ok(())
            }
        })
        .await;
        let outcome = |id: &str| match &results.iter().find(|(x, _)| *x == job(id)).unwrap().1 {
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
        let ids = jobs(&["a", "b", "c"]);
        let budget = Budget {
            left: AtomicUsize::new(2),
            limit: Some(2),
            cancel: None,
        };
        let results = schedule(ids, &Blockers::new(), 1, &budget, |_| async { Ok(()) }).await;
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
        let ids = jobs(&["a", "b", "c"]);
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
                if id == job("a") {
                    // Ctrl-C arrives while `a` is being created; `a` still completes.
                    cancel.store(true, Ordering::SeqCst);
                }
                Ok(())
            }
        })
        .await;
        let done: Vec<&Job> = results
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Done))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(done, [&job("a")]);
        assert!(matches!(
            finish(results, &budget, &quiet()),
            Err(Error::Interrupted { .. })
        ));
    }

    #[tokio::test]
    async fn a_wait_cut_short_by_an_interrupt_is_named() {
        let ids = jobs(&["a", "b"]);
        let cancel = Arc::new(AtomicBool::new(false));
        let budget = Budget::new(None, Some(cancel.clone()));
        let results = schedule(ids, &blockers(&[("b", &["a"])]), 8, &budget, |_| {
            let cancel = cancel.clone();
            let budget = &budget;
            async move {
                // Ctrl-C while `a` waits for AWS: the wait stops at once.
                cancel.store(true, Ordering::SeqCst);
                budget
                    .unless_interrupted(std::future::pending::<Result<()>>())
                    .await
            }
        })
        .await;
        let err = finish(results, &budget, &quiet()).unwrap_err();
        assert!(
            matches!(&err, Error::Interrupted { cut_short } if cut_short == &[crate::id::ResourceId::from_tag("a")]),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("interrupted: stopped waiting for a (AWS goes on"),
            "{err}"
        );
    }
}
