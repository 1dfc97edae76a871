//! The worker threads and the fair queue they take parts from.
//!
//! A job's input is cut at whitespace into parts of about [`PART_BYTES`]. Each client has a
//! queue of parts (its jobs in the order they came), and the next free thread takes a part of
//! the client served least so far ([`fair`] says how): while client A's 5 GB job is summed
//! part by part, client B's 1 MB job waits for at most the parts already in hand (about a
//! millisecond), then has the threads to itself. Within a client, jobs run in the order they
//! came.
//!
//! A part that meets a bad token fails its job; the parts after it are skipped, the parts
//! before it still run, so the error names the input's first bad token whatever the order the
//! threads finished in. An input that cannot be read (deleted mid-job) fails the job with why.

mod fair;

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use self::fair::{Fair, Work};
use super::store::{LocalStore, StoreError};
use super::{Job, Status, now_ms};
use crate::even_sum::file::{SumError, cuts, sum_range};
use crate::even_sum::{BadToken, Totals};

/// About how much of an input one part is: small enough that another client's part waits a
/// few milliseconds for a thread, large enough that a part's own cost (an open, a cut) is noise.
pub const PART_BYTES: u64 = 512 << 10;

/// How often a running job's progress is written to its record.
const SAVE_EVERY: Duration = Duration::from_millis(250);

/// Runs jobs on worker threads, fairly between clients.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: LocalStore,
    line: Mutex<Line>,
    ready: Condvar,
}

/// The parts waiting, and whether the workers should stop.
#[derive(Debug, Default)]
struct Line {
    fair: Fair<Part>,
    closed: bool,
}

#[derive(Debug)]
struct Part {
    run: Arc<Run>,
    index: usize,
    from: u64,
    to: u64,
}

impl Work for Part {
    fn bytes(&self) -> u64 {
        self.to - self.from
    }
}

/// A job being worked on.
#[derive(Debug)]
struct Run {
    path: PathBuf,
    state: Mutex<RunState>,
}

#[derive(Debug)]
struct RunState {
    job: Job,
    remaining: usize,
    totals: Totals,
    /// The earliest part that met a bad token, and the token.
    bad: Option<(usize, BadToken)>,
    /// Why the input could not be read.
    failure: Option<String>,
    done_bytes: u64,
    saved: Instant,
}

/// Lowers the calling summing thread's priority (nice 10), so that while the cores are busy
/// summing, the API's threads (a second client's upload, status reads) still get them at once:
/// on Linux a thread's nice value is its own. Without it the jobs only share the CPU evenly.
fn in_background() {
    #[cfg(target_os = "linux")]
    {
        #[allow(unsafe_code)]
        // SAFETY: `setpriority` takes no pointers; `who` 0 is the calling thread on Linux.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, 10) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            tracing::warn!(%err, "a summing thread keeps the normal priority");
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every update under these locks is a few assignments that cannot panic halfway.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Dispatcher {
    /// Starts `threads` workers on `store`, and queues again the jobs a stopped process left
    /// unfinished (from their first byte: nothing of a half-summed job was kept).
    pub fn start(store: LocalStore, threads: usize) -> Result<Self, StoreError> {
        let inner = Arc::new(Inner {
            store,
            line: Mutex::new(Line::default()),
            ready: Condvar::new(),
        });
        for n in 0..threads.max(1) {
            let inner = Arc::clone(&inner);
            let spawned = std::thread::Builder::new()
                .name(format!("even-sum-{n}"))
                .spawn(move || inner.work());
            if let Err(err) = spawned {
                tracing::error!(%err, "could not start a job thread");
            }
        }
        let dispatcher = Self { inner };
        for mut job in dispatcher.inner.store.unfinished()? {
            tracing::info!(job_id = %job.job_id, "queued again after a restart");
            job.status = Status::Queued;
            job.started_ms = None;
            job.progress = 0.0;
            dispatcher.submit(job)?;
        }
        Ok(dispatcher)
    }

    pub fn store(&self) -> &LocalStore {
        &self.inner.store
    }

    /// Records `job` (its input already in the store) and queues its parts. Blocking: it reads
    /// a few bytes around each cut.
    pub fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.inner.store.put(&job)?;
        let path = self.inner.store.input_path(&job.job_id);
        let client = job.client.clone();
        let ranges = match part_ranges(&path, job.bytes) {
            Ok(ranges) => ranges,
            Err(err) => {
                let run = Run::new(path, job, 1);
                let mut state = lock(&run.state);
                state.failure = Some(format!("cannot read the input: {err}"));
                return self.inner.finish(&mut state);
            }
        };
        let run = Arc::new(Run::new(path, job, ranges.len()));
        if ranges.is_empty() {
            return self.inner.finish(&mut lock(&run.state));
        }
        let parts = ranges
            .into_iter()
            .enumerate()
            .map(|(index, (from, to))| Part {
                run: Arc::clone(&run),
                index,
                from,
                to,
            });
        lock(&self.inner.line).fair.push(&client, parts);
        self.inner.ready.notify_all();
        Ok(())
    }

    /// Stops the workers once their parts in hand are done (the jobs stay queued in the store).
    pub fn close(&self) {
        lock(&self.inner.line).closed = true;
        self.inner.ready.notify_all();
    }
}

/// The byte ranges of an input of `len` bytes, each about [`PART_BYTES`], cut at whitespace.
fn part_ranges(path: &std::path::Path, len: u64) -> std::io::Result<Vec<(u64, u64)>> {
    if len == 0 {
        return Ok(Vec::new());
    }
    let file = File::open(path)?;
    let parts = usize::try_from(len.div_ceil(PART_BYTES)).unwrap_or(usize::MAX);
    let starts = cuts(len, parts, |at, buf| file.read_at(buf, at))?;
    let ends = starts.iter().skip(1).copied().chain([len]);
    Ok(starts.iter().copied().zip(ends).collect())
}

impl Run {
    fn new(path: PathBuf, job: Job, parts: usize) -> Self {
        Self {
            path,
            state: Mutex::new(RunState {
                job,
                remaining: parts,
                totals: Totals::default(),
                bad: None,
                failure: None,
                done_bytes: 0,
                saved: Instant::now(),
            }),
        }
    }
}

impl Inner {
    fn work(&self) {
        in_background();
        while let Some(part) = self.next() {
            self.run(&part);
        }
    }

    fn next(&self) -> Option<Part> {
        let mut line = lock(&self.line);
        loop {
            if line.closed {
                return None;
            }
            if let Some(part) = line.fair.pop() {
                return Some(part);
            }
            line = self
                .ready
                .wait(line)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Sums one part and adds it to its job; the last part finishes the job.
    fn run(&self, part: &Part) {
        let skip = {
            let mut state = lock(&part.run.state);
            if state.job.started_ms.is_none() {
                state.job.started_ms = Some(now_ms());
                state.job.status = Status::Running;
                self.save(&mut state);
            }
            state.failure.is_some() || state.bad.as_ref().is_some_and(|(i, _)| *i < part.index)
        };
        let summed = (!skip).then(|| {
            let path = &part.run.path;
            let file = File::open(path).map_err(|source| SumError::Read {
                path: path.display().to_string(),
                source,
            })?;
            sum_range(&file, path, part.from, part.to)
        });
        let mut state = lock(&part.run.state);
        match summed {
            Some(Ok(totals)) => {
                state.totals = std::mem::take(&mut state.totals).merge(totals);
                state.done_bytes += part.to - part.from;
            }
            // The input's first bad token is in its earliest failed part.
            Some(Err(SumError::Bad(bad)))
                if state.bad.as_ref().is_none_or(|(i, _)| part.index < *i) =>
            {
                state.bad = Some((part.index, bad));
            }
            Some(Err(err @ SumError::Read { .. })) => {
                state.failure = Some(format!("the input could not be read: {err}"));
            }
            Some(Err(SumError::Bad(_))) | None => {}
        }
        state.remaining -= 1;
        if state.remaining == 0 {
            if let Err(err) = self.finish(&mut state) {
                tracing::error!(error = %crate::error::error_chain(&err), "could not record a finished job");
            }
        } else if state.saved.elapsed() >= SAVE_EVERY {
            #[allow(clippy::cast_precision_loss)] // a fraction; bytes well below 2^52
            let progress = state.done_bytes as f64 / state.job.bytes.max(1) as f64;
            // Three decimals: a tenth of a percent is all a progress bar shows.
            state.job.progress = (progress * 1000.0).floor() / 1000.0;
            self.save(&mut state);
        }
    }

    fn save(&self, state: &mut RunState) {
        state.saved = Instant::now();
        if let Err(err) = self.store.put(&state.job) {
            tracing::warn!(error = %crate::error::error_chain(&err), "could not record a job's progress");
        }
    }

    /// Records the job's end: its result, or why it failed; its input is removed.
    fn finish(&self, state: &mut RunState) -> Result<(), StoreError> {
        let job = &mut state.job;
        let now = now_ms();
        job.started_ms.get_or_insert(now);
        job.finished_ms = Some(now);
        if let Some(failure) = state.failure.take() {
            job.status = Status::Failed;
            job.error = Some(failure);
        } else if let Some((_, bad)) = state.bad.take() {
            job.status = Status::Failed;
            job.error = Some(bad.to_string());
        } else {
            job.status = Status::Done;
            job.progress = 1.0;
            job.result = Some(state.totals.answer());
        }
        tracing::info!(
            job_id = %job.job_id,
            client = %job.client,
            status = ?job.status,
            bytes = job.bytes,
            execution_ms = now.saturating_sub(job.started_ms.unwrap_or(now)),
            lead_ms = now.saturating_sub(job.created_ms),
            "job finished"
        );
        self.store.put(job)?;
        self.store.remove_input(&job.job_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
