//! `app worker`: consumes the queue instead of serving HTTP. Each message is handled, then
//! deleted, and logged with its **execution time** (how long handling took) and its **lead
//! time** (from the moment SQS stored it, its `SentTimestamp`, to done), as structured fields:
//! `{"message_id": …, "execution_ms": 12.5, "lead_ms": 830.0, "msg": "handled"}`.
//!
//! Handling: a body that is a JSON object with `"work_ms": N` takes N milliseconds (a job of
//! that length, at most [`MAX_WORK_MS`]); any other body is handled at once. Up to a number of
//! messages (`WORKER_CONCURRENCY`, default 10) are handled side by side, each kept hidden by a
//! [`Heartbeat`] while it is worked on, so a job longer than the queue's visibility timeout is
//! not handed to a second worker; [`run`] receives only as many as there are free slots, so a
//! message is never held waiting behind others in the worker's hands. A
//! message whose handling fails is not deleted: SQS hands it out again after the visibility
//! timeout, and moves it to the dead-letter queue after the stack's `dead_letter_max_receives`.
//!
//! A message `{"even_sum_part": …}` is a part of an even-sum job kept in the stack's bucket
//! ([`crate::jobs::on_aws`]): the worker sums it from the bucket under the same heartbeat. On
//! the queue's last attempt (its receive count at `dead_letter_max_receives`) a part that
//! fails again is recorded as failed, so its job fails with the reason, and its message is left
//! to go on to the dead-letter queue.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName};
use tokio::sync::{OnceCell, OwnedSemaphorePermit};

use crate::heartbeat::Heartbeat;
use crate::jobs::on_aws::{AwsJobs, Handling, JobError};
use crate::jobs::part::{Part, PartMessage};
use crate::queue::QueueError;

/// SQS's longest long poll: an idle worker makes one call every 20 s.
const POLL_SECS: i32 = 20;
/// SQS hands out at most 10 messages a call.
const BATCH: i32 = 10;
/// The longest job a message may ask for.
pub const MAX_WORK_MS: u64 = 60_000;
pub use crate::config::DEFAULT_WORKER_CONCURRENCY as DEFAULT_CONCURRENCY;

mod run;

/// What handling one message came to.
#[derive(Debug, Clone, PartialEq)]
pub struct Handled {
    pub message_id: String,
    pub execution_ms: f64,
    /// None when SQS did not say when it stored the message.
    pub lead_ms: Option<f64>,
}

/// A worker on one SQS queue.
#[derive(Debug, Clone)]
pub struct Worker {
    client: aws_sdk_sqs::Client,
    url: String,
    poll: Duration,
    /// Read from the queue at the first receive; shared by the clones that handle messages,
    /// so it is read once, not once a message.
    heartbeat: Arc<OnceCell<Heartbeat>>,
    /// The queue's `maxReceiveCount`, read at the first part that reads it well (`None`: no
    /// dead-letter queue); shared as `heartbeat` is.
    max_receives: Arc<OnceCell<Option<u32>>>,
    /// Where even-sum parts are summed from, when the service has a jobs bucket.
    jobs: Option<AwsJobs>,
    /// How many messages [`Worker::run_until`] works on at once.
    concurrency: usize,
}

/// Why a message was not handled (it stays on the queue).
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("an even-sum part")]
    Part(#[from] JobError),
    #[error(
        "an even-sum part came, but this worker has no jobs bucket (S3_BUCKET_JOBS or JOBS_BUCKET)"
    )]
    NoBucket,
    #[error(
        "the part failed on its last attempt: its job is failed, the message goes to the dead-letter queue"
    )]
    GaveUp,
}

impl Worker {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
            poll: Duration::from_secs(POLL_SECS.unsigned_abs().into()),
            heartbeat: Arc::new(OnceCell::new()),
            max_receives: Arc::new(OnceCell::new()),
            jobs: None,
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Works on at most `messages` at once (at least one) instead of [`DEFAULT_CONCURRENCY`].
    #[must_use]
    pub fn with_concurrency(mut self, messages: usize) -> Self {
        self.concurrency = messages.max(1);
        self
    }

    /// Sums the even-sum parts that come on the queue from `jobs`' bucket.
    #[must_use]
    pub fn with_jobs(mut self, jobs: AwsJobs) -> Self {
        self.jobs = Some(jobs);
        self
    }

    /// The queue's `maxReceiveCount`; `None` when it has no dead-letter queue, or when it
    /// cannot be read now (said, and asked again at the next part).
    async fn max_receives(&self) -> Option<u32> {
        let read = self
            .max_receives
            .get_or_try_init(|| crate::heartbeat::max_receives(&self.client, &self.url))
            .await;
        match read {
            Ok(max) => *max,
            Err(err) => {
                tracing::warn!(queue = %self.url, error = %crate::error::error_chain(&err), "cannot read the queue's redrive policy");
                None
            }
        }
    }

    /// Keeps messages hidden `visibility` at a time instead of the queue's own timeout (tests).
    #[must_use]
    pub fn with_visibility(self, visibility: Duration) -> Self {
        let heartbeat = Heartbeat::new(self.client.clone(), self.url.clone(), visibility);
        Self {
            heartbeat: Arc::new(OnceCell::new_with(Some(heartbeat))),
            ..self
        }
    }

    async fn heartbeat(&self) -> &Heartbeat {
        self.heartbeat
            .get_or_init(|| Heartbeat::of_queue(self.client.clone(), self.url.clone()))
            .await
    }

    /// A shorter long poll (tests).
    #[must_use]
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Up to `count` messages (at most 10), waiting up to `wait` for the first.
    async fn receive(&self, count: usize, wait: Duration) -> Result<Vec<Message>, QueueError> {
        let count = i32::try_from(count).unwrap_or(BATCH).clamp(1, BATCH);
        let wait = i32::try_from(wait.as_secs()).unwrap_or(POLL_SECS);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(count)
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| QueueError::sqs("ReceiveMessage", e))?;
        Ok(out.messages.unwrap_or_default())
    }

    /// One receive of up to 10 messages (long polling) and the handling of what it brought,
    /// side by side.
    pub async fn poll_once(&self) -> Result<Vec<Handled>, QueueError> {
        let messages = self
            .receive(BATCH.unsigned_abs() as usize, self.poll)
            .await?;
        let heartbeat = self.heartbeat().await;
        // Side by side: a message waiting for the one before it would be handed out again.
        let results = futures::future::join_all(
            messages
                .iter()
                .map(|m| self.handle_or_leave(heartbeat, m, None)),
        )
        .await;
        Ok(results.into_iter().flatten().collect())
    }

    /// Handles `message`; a failure is logged and the message left on the queue. `slot`, the
    /// worker's room for it, is given back once the work is done, before the delete.
    async fn handle_or_leave(
        &self,
        heartbeat: &Heartbeat,
        message: &Message,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Option<Handled> {
        match self.handle(heartbeat, message, slot).await {
            Ok(handled) => Some(handled),
            Err(err) => {
                tracing::warn!(
                    message_id = message.message_id().unwrap_or("?"),
                    error = %crate::error::error_chain(&err),
                    "not deleted: it will be handed out again"
                );
                None
            }
        }
    }

    /// Sums an even-sum part, telling the job whether this is the queue's last attempt.
    async fn sum_part(
        &self,
        heartbeat: &Heartbeat,
        message: &Message,
        receipt: &str,
        part: &Part,
    ) -> Result<(), WorkError> {
        let jobs = self.jobs.as_ref().ok_or(WorkError::NoBucket)?;
        let received = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(1);
        let last = self.max_receives().await.is_some_and(|max| received >= max);
        // A last attempt silent for two timeouts (its heartbeat stopped) has failed.
        let grace = last.then(|| heartbeat.visibility() * 2);
        match heartbeat.hold(receipt, jobs.run_part(part, grace)).await? {
            Handling::Done => Ok(()),
            Handling::GaveUp => Err(WorkError::GaveUp),
        }
    }

    async fn handle(
        &self,
        heartbeat: &Heartbeat,
        message: &Message,
        slot: Option<OwnedSemaphorePermit>,
    ) -> Result<Handled, WorkError> {
        let started = Instant::now();
        let body = message.body().unwrap_or_default();
        let receipt = message.receipt_handle().ok_or(QueueError::Malformed {
            operation: "ReceiveMessage",
            missing: "a ReceiptHandle",
        })?;
        if let Some(part) = PartMessage::parse(body) {
            self.sum_part(heartbeat, message, receipt, &part).await?;
        }
        let work = work_ms(body);
        if work > 0 {
            heartbeat
                .hold(receipt, tokio::time::sleep(Duration::from_millis(work)))
                .await;
        }
        // The work is done: the next message may be received while this one is deleted.
        drop(slot);
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| QueueError::sqs("DeleteMessage", e))?;
        let execution_ms = started.elapsed().as_secs_f64() * 1000.0;
        let sent = message
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
            .and_then(|t| t.parse::<u64>().ok());
        let lead_ms = sent.map(lead_ms_since);
        let handled = Handled {
            message_id: message.message_id().unwrap_or_default().to_owned(),
            execution_ms,
            lead_ms,
        };
        tracing::info!(
            message_id = %handled.message_id,
            bytes = body.len(),
            execution_ms = handled.execution_ms,
            lead_ms = handled.lead_ms,
            "handled"
        );
        match handled.lead_ms {
            Some(lead) => {
                crate::metrics::record(&[("execution_ms", handled.execution_ms), ("lead_ms", lead)])
            }
            None => crate::metrics::record(&[("execution_ms", handled.execution_ms)]),
        }
        Ok(handled)
    }
}

/// How long a message's job takes: `{"work_ms": N}`, or nothing.
pub fn work_ms(body: &str) -> u64 {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("work_ms").and_then(serde_json::Value::as_u64))
        .map_or(0, |ms| ms.min(MAX_WORK_MS))
}

/// Milliseconds from `sent_ms` (since the epoch) to now; 0 when the clocks disagree.
fn lead_ms_since(sent_ms: u64) -> f64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    #[allow(clippy::cast_precision_loss)] // milliseconds well below 2^52
    let lead = now.saturating_sub(sent_ms) as f64;
    lead
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_says_how_long_it_takes_within_a_bound() {
        assert_eq!(work_ms(r#"{"work_ms": 250}"#), 250);
        assert_eq!(work_ms(r#"{"work_ms": 99999999}"#), MAX_WORK_MS);
        assert_eq!(work_ms("hello"), 0);
        assert_eq!(work_ms(r#"{"work_ms": -1}"#), 0);
    }

    #[test]
    fn lead_time_counts_from_the_send() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let lead = lead_ms_since(now - 1500);
        assert!((1500.0..5000.0).contains(&lead), "{lead}");
        assert_eq!(
            lead_ms_since(now + 60_000),
            0.0,
            "a clock ahead is not negative"
        );
    }
}
