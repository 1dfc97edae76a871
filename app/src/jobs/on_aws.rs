//! Even-sum jobs on AWS: inputs and records in the stack's bucket ([`BucketStore`]), parts on
//! the service's SQS queue, summed by `app worker` tasks.
//!
//! The API stores the input, writes the job's record and sends one message per part of
//! [`PART_BYTES`] (cut at even offsets; each worker finds its part's real edges, see
//! [`super::part`]). Each part's message carries the client as its `MessageGroupId`: on a
//! standard queue that makes SQS deliver fairly between clients (fair queues), so client B's
//! small job is not stuck behind client A's thousand parts. A worker sums its part from an S3
//! range read as a stream, under the heartbeat that keeps the message hidden, writes what it
//! came to, and the worker that writes the last part adds the parts up and finishes the job.
//!
//! Failures: a part whose input is gone fails the job at once, with the reason. Any other error
//! leaves the message for another attempt; on the queue's last attempt the part is recorded as
//! failed (the job fails with the reason) and the message goes on to the dead-letter queue.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use futures::{StreamExt, TryStreamExt};

use super::bucket::{BucketError, BucketStore};
use super::part::{Outcome, Part, PartMessage, PartResult, ranges, totals};
use super::{Job, Status, now_ms};
use crate::even_sum::{Answer, BadToken, Totals};
use crate::queue::QueueError;

/// How much of an input one part is: a few tenths of a second of summing, so a client's part
/// waits little for another's, and 5 GB are 320 messages.
pub const PART_BYTES: u64 = 16 << 20;
/// Bytes read past a part's end for the number that crosses it; a longer number is read on
/// in further ranges of this size.
const TAIL: u64 = 64 << 10;
/// Batches of part messages sent at once.
const SEND_AT_ONCE: usize = 8;

/// Why a job or part could not be handled.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Bucket(#[from] BucketError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("SQS did not take part {index} of job {job_id}: {reason}")]
    NotQueued {
        job_id: String,
        index: String,
        reason: String,
    },
    #[error("reading the input failed: {0}")]
    Read(String),
    #[error("a part's message could not be written: {0}")]
    Message(String),
}

impl JobError {
    /// True when S3 or SQS could not be reached at all (as opposed to answering with an
    /// error): the client should try again later.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Self::Bucket(err) => err.is_unreachable(),
            Self::Queue(err) => err.is_unreachable(),
            Self::NotQueued { .. } | Self::Read(_) | Self::Message(_) => false,
        }
    }
}

/// What became of a part's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// The part is summed or failed for good: delete the message.
    Done,
    /// The last attempt failed: the job is failed, and the message is left for the
    /// dead-letter queue.
    GaveUp,
}

/// Jobs in one bucket, parts on one queue.
#[derive(Debug, Clone)]
pub struct AwsJobs {
    store: BucketStore,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    part_bytes: u64,
}

impl AwsJobs {
    pub fn new(store: BucketStore, sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            store,
            sqs,
            queue_url: queue_url.into(),
            part_bytes: PART_BYTES,
        }
    }

    /// Cuts inputs into parts of `bytes` (at least 1) instead of [`PART_BYTES`].
    #[must_use]
    pub fn with_part_bytes(mut self, bytes: u64) -> Self {
        self.part_bytes = bytes.max(1);
        self
    }

    pub fn store(&self) -> &BucketStore {
        &self.store
    }

    /// Records `job` (its input of `job.bytes` at `job.input` in the bucket) and queues its
    /// parts. A job whose parts could not all be sent is recorded as failed.
    pub async fn queue(&self, mut job: Job) -> Result<Job, JobError> {
        let key = job.input.clone().unwrap_or_default();
        let parts = ranges(job.bytes, self.part_bytes);
        job.parts = parts.len() as u64;
        self.store.put_record(&job).await?;
        if parts.is_empty() {
            // Nothing to sum, so no part results to list.
            self.finish(job.clone(), Vec::new()).await?;
            return Ok(job);
        }
        let messages: Vec<Part> = parts
            .iter()
            .enumerate()
            .map(|(index, &(from, to))| Part {
                job_id: job.job_id.clone(),
                client: job.client.clone(),
                key: key.clone(),
                index: index as u64,
                parts: job.parts,
                from,
                to,
                len: job.bytes,
            })
            .collect();
        // Owned batches: a future borrowing a slice of them would not be `Send` for axum.
        let batches: Vec<Vec<Part>> = messages.chunks(10).map(<[Part]>::to_vec).collect();
        let sent = futures::stream::iter(batches)
            .map(|batch| self.send(batch))
            .buffer_unordered(SEND_AT_ONCE)
            .try_collect::<()>()
            .await;
        if let Err(err) = sent {
            job.status = Status::Failed;
            job.finished_ms = Some(now_ms());
            job.error = Some(format!("its parts could not all be queued: {err}"));
            self.store.put_record(&job).await?;
            return Err(err);
        }
        Ok(job)
    }

    /// Sends up to ten parts, each in its client's message group.
    async fn send(&self, batch: Vec<Part>) -> Result<(), JobError> {
        let mut entries = Vec::with_capacity(batch.len());
        for part in &batch {
            let body = serde_json::to_string(&PartMessage {
                even_sum_part: part.clone(),
            })
            .map_err(|e| JobError::Message(e.to_string()))?;
            let entry = SendMessageBatchRequestEntry::builder()
                .id(part.index.to_string())
                .message_body(body)
                .message_group_id(&part.client)
                .build()
                .map_err(|e| JobError::Message(e.to_string()))?;
            entries.push(entry);
        }
        let out = self
            .sqs
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| QueueError::sqs("SendMessageBatch", e))?;
        match out.failed().first() {
            Some(failed) => Err(JobError::NotQueued {
                job_id: batch.first().map(|p| p.job_id.clone()).unwrap_or_default(),
                index: failed.id().to_owned(),
                reason: failed.message().unwrap_or(failed.code()).to_owned(),
            }),
            None => Ok(()),
        }
    }

    /// Job `id` as it stands: a queued job one of whose parts has started is running, with
    /// the share of its parts done as progress.
    pub async fn status(&self, id: &str) -> Result<Option<Job>, JobError> {
        let Some(mut job) = self.store.record(id).await? else {
            return Ok(None);
        };
        if job.status.is_finished() {
            return Ok(Some(job));
        }
        // Read side by side: the listing is wasted only while no part has started.
        let (started, keys) = futures::try_join!(self.store.started(id), self.store.part_keys(id))?;
        if let Some(started) = started {
            let done = keys.len() as u64;
            if done >= job.parts {
                // Every part has an outcome but none finished the job: a last attempt whose
                // worker stopped. Finish it here if its time is up.
                self.finish(job.clone(), keys).await?;
                if let Some(finished) = self.store.record(id).await?
                    && finished.status.is_finished()
                {
                    return Ok(Some(finished));
                }
            }
            job.status = Status::Running;
            job.started_ms = Some(started);
            #[allow(clippy::cast_precision_loss)] // a fraction of a few thousand parts
            let progress = done.min(job.parts) as f64 / job.parts.max(1) as f64;
            job.progress = (progress * 1000.0).floor() / 1000.0;
        }
        Ok(Some(job))
    }

    /// Adds up a job's parts (its part results at `part_keys`, just listed by the caller) and
    /// records how it ended; then removes what it no longer needs.
    pub(super) async fn finish(
        &self,
        mut job: Job,
        part_keys: Vec<String>,
    ) -> Result<(), JobError> {
        let (parts, started) = futures::try_join!(
            self.store.parts(part_keys.clone()),
            self.store.started(&job.job_id)
        )?;
        let Some(ending) = ending(parts.clone(), job.parts, now_ms()) else {
            // Another worker finished it and removed the parts: its record stands.
            return Ok(());
        };
        let now = now_ms();
        job.started_ms = Some(match started {
            Some(started) => started,
            None => parts.iter().map(|p| p.started_ms).min().unwrap_or(now),
        });
        job.finished_ms = Some(now);
        match ending {
            Ok(answer) => {
                job.status = Status::Done;
                job.progress = 1.0;
                job.result = Some(answer);
            }
            Err(reason) => {
                job.status = Status::Failed;
                job.error = Some(reason);
            }
        }
        tracing::info!(
            job_id = %job.job_id,
            client = %job.client,
            status = ?job.status,
            bytes = job.bytes,
            parts = job.parts,
            execution_ms = now.saturating_sub(job.started_ms.unwrap_or(now)),
            lead_ms = now.saturating_sub(job.created_ms),
            "job finished"
        );
        self.store.put_record(&job).await?;
        self.store.clean_up(&job, Some(part_keys)).await;
        Ok(())
    }
}

/// How a job of `expected` parts ends at `now`: its answer, or why it failed (a part that
/// could not be read, else the input's first bad token); `None` while parts are missing or a
/// last attempt may still finish.
fn ending(mut parts: Vec<PartResult>, expected: u64, now: u64) -> Option<Result<Answer, String>> {
    parts.sort_by_key(|p| p.index);
    let failure = parts.iter().find_map(|p| match &p.outcome {
        Outcome::Failed { reason } => Some(reason.clone()),
        Outcome::LastAttempt { reason, expires_ms } if *expires_ms <= now => Some(reason.clone()),
        _ => None,
    });
    if let Some(reason) = failure {
        return Some(Err(reason));
    }
    let pending = parts
        .iter()
        .any(|p| matches!(p.outcome, Outcome::LastAttempt { .. }));
    if pending || (parts.len() as u64) < expected {
        return None;
    }
    // Every part is in, in order: the first bad one holds the input's first bad token.
    let bad = parts.iter().find_map(|p| match &p.outcome {
        Outcome::Bad { offset, found } => Some(BadToken {
            offset: *offset,
            found: found.clone(),
        }),
        _ => None,
    });
    if let Some(bad) = bad {
        return Some(Err(bad.to_string()));
    }
    let mut sum = Totals::default();
    for part in &parts {
        let Outcome::Summed { totals: answer } = &part.outcome else {
            continue;
        };
        let Some(totals) = totals(answer) else {
            return Some(Err(format!(
                "part {}'s result in the bucket could not be read",
                part.index + 1
            )));
        };
        sum = sum.merge(totals);
    }
    Some(Ok(sum.answer()))
}

mod summing;
#[cfg(test)]
mod tests;
