//! A worker's side of a job on AWS: one part read from its S3 range as a stream, summed, and
//! what it came to written beside the job's other parts.

use std::time::Duration;

use futures::future::Either;

use super::{AwsJobs, Handling, JobError, TAIL};
use crate::even_sum::{BadToken, Totals};
use crate::jobs::Job;
use crate::jobs::now_ms;
use crate::jobs::part::{Outcome, Part, PartResult, Window, WindowError};

impl AwsJobs {
    /// Sums one part and records what it came to; the part that completes its job finishes
    /// it. `last_attempt`: the queue will not hand this message out again, and a worker that
    /// is still silent this long after the start has stopped (the part is then failed).
    ///
    /// The part is read while the job's record is read and the start is marked: those calls
    /// would otherwise come first, each a round trip, in every part. Their answer still comes
    /// first where it matters: a part of a finished job (failed by another part) stops reading
    /// as soon as the record says so, and nothing of the part is written before them.
    pub async fn run_part(
        &self,
        part: &Part,
        last_attempt: Option<Duration>,
    ) -> Result<Handling, JobError> {
        let started_ms = now_ms();
        let before = std::pin::pin!(self.before_summing(part, started_ms, last_attempt));
        let summing = std::pin::pin!(self.sum(part));
        let (job, summed) = match futures::future::select(before, summing).await {
            Either::Left((job, summing)) => match job? {
                Some(job) => (job, summing.await),
                None => return Ok(Handling::Done),
            },
            Either::Right((summed, before)) => match before.await? {
                Some(job) => (job, summed),
                None => return Ok(Handling::Done),
            },
        };
        let (outcome, handling) = match summed {
            Ok(Ok(totals)) => (
                Outcome::Summed {
                    totals: totals.answer(),
                },
                Handling::Done,
            ),
            Ok(Err(bad)) => (Outcome::bad(bad), Handling::Done),
            Err(Gone(reason)) => (Outcome::Failed { reason }, Handling::Done),
            Err(Again(err)) if last_attempt.is_some() => {
                let reason = format!(
                    "part {} of {} failed on every attempt and went to the dead-letter queue: \
                     {err}",
                    part.index + 1,
                    part.parts
                );
                (Outcome::Failed { reason }, Handling::GaveUp)
            }
            Err(Again(err)) => return Err(err),
        };
        let failed = matches!(outcome, Outcome::Failed { .. });
        let result = PartResult {
            index: part.index,
            started_ms,
            finished_ms: now_ms(),
            outcome,
        };
        self.store.put_part(&part.job_id, &result).await?;
        let done = self.store.part_keys(&part.job_id).await?;
        if failed || done.len() as u64 >= job.parts {
            self.finish(job, done).await?;
        }
        Ok(handling)
    }

    /// What comes before a part's result: its job's record (`None` when the job has none or
    /// has finished: the part is dropped), the job's start, and on the last attempt the marker
    /// that fails the part should this worker stop too.
    async fn before_summing(
        &self,
        part: &Part,
        started_ms: u64,
        last_attempt: Option<Duration>,
    ) -> Result<Option<Job>, JobError> {
        let Some(job) = self.store.record(&part.job_id).await? else {
            tracing::warn!(job_id = %part.job_id, "a part of a job with no record: dropped");
            return Ok(None);
        };
        if job.status.is_finished() {
            return Ok(None);
        }
        let marker = last_attempt.map(|grace| {
            let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
            PartResult {
                index: part.index,
                started_ms,
                finished_ms: started_ms,
                outcome: Outcome::LastAttempt {
                    reason: format!(
                        "part {} of {}: its worker stopped on every attempt, and its message \
                         went to the dead-letter queue",
                        part.index + 1,
                        part.parts
                    ),
                    expires_ms: started_ms.saturating_add(grace_ms),
                },
            }
        });
        let mark = self.store.mark_started(&part.job_id, started_ms);
        let put_marker = async {
            match &marker {
                Some(marker) => self.store.put_part(&part.job_id, marker).await,
                None => Ok(()),
            }
        };
        futures::try_join!(mark, put_marker)?;
        Ok(Some(job))
    }

    /// The totals of one part, read from the bucket as streams of byte ranges: the part and
    /// [`TAIL`] beyond it, then more only while a number crosses its end.
    async fn sum(&self, part: &Part) -> Result<Result<Totals, BadToken>, Failure> {
        let mut window = Window::new(part.from, part.to, part.len);
        let mut at = part.from;
        while at < part.len {
            let end = (part.to.max(at) + TAIL).min(part.len);
            let mut stream = match self.store.read_range(&part.key, at, end).await {
                Ok(stream) => stream,
                Err(err) if err.is_missing() => {
                    return Err(Gone(format!(
                        "the input s3://{}/{} is gone (deleted while the job ran?)",
                        self.store.bucket(),
                        part.key
                    )));
                }
                Err(err) => return Err(Again(err.into())),
            };
            let started = at;
            while let Some(chunk) = stream.next().await {
                let chunk =
                    chunk.map_err(|e| Again(JobError::Read(crate::error::error_chain(&e))))?;
                at += chunk.len() as u64;
                match window.feed(&chunk) {
                    Ok(false) => {}
                    Ok(true) => return finished(window),
                    Err(bad) => return Ok(Err(bad)),
                }
            }
            if at < end || at == started {
                // The object is shorter than it was: `finish` says so.
                break;
            }
        }
        finished(window)
    }
}

/// A window's totals once its bytes are read.
fn finished(window: Window) -> Result<Result<Totals, BadToken>, Failure> {
    match window.finish() {
        Ok(totals) => Ok(Ok(totals)),
        Err(WindowError::Bad(bad)) => Ok(Err(bad)),
        Err(WindowError::Short(short)) => Err(Gone(short.to_string())),
    }
}

/// Why a part could not be summed.
enum Failure {
    /// For good: the input is gone or changed.
    Gone(String),
    /// Maybe not next time.
    Again(JobError),
}
use Failure::{Again, Gone};
