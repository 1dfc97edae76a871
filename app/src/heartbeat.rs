//! Keeping a message hidden while it is worked on, so long work never runs twice.
//!
//! SQS hides a received message for the queue's visibility timeout, then hands it out again.
//! Work that may outlast that timeout runs under [`Heartbeat::hold`]: every third of the
//! timeout it asks SQS to hide the message for a whole timeout more
//! (`ChangeMessageVisibility`), until the work ends. A worker that dies stops beating, so its
//! message comes back one timeout later for another worker: never lost, and never run by two
//! at once.

use std::future::Future;
use std::time::Duration;

use crate::queue::QueueError;

/// The visibility timeout assumed when the queue's cannot be read (SQS's default).
pub const DEFAULT_VISIBILITY: Duration = Duration::from_secs(30);

/// Extends the visibility of messages on one queue.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    client: aws_sdk_sqs::Client,
    url: String,
    visibility: Duration,
}

impl Heartbeat {
    /// A heartbeat that keeps messages of `url` hidden `visibility` at a time (whole seconds,
    /// at least one).
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>, visibility: Duration) -> Self {
        Self {
            client,
            url: url.into(),
            visibility: visibility.max(Duration::from_secs(1)),
        }
    }

    /// The queue's own visibility timeout, or [`DEFAULT_VISIBILITY`] when it cannot be read
    /// (a denied `GetQueueAttributes` must not stop the worker).
    pub async fn of_queue(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        let url = url.into();
        let read = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout)
            .send()
            .await;
        let visibility = match read {
            Ok(out) => out
                .attributes()
                .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout))
                .and_then(|v| v.parse::<u64>().ok())
                .map_or(DEFAULT_VISIBILITY, Duration::from_secs),
            Err(err) => {
                tracing::warn!(
                    queue = %url,
                    error = %crate::error::error_chain(&err),
                    "cannot read the queue's visibility timeout; assuming 30 s"
                );
                DEFAULT_VISIBILITY
            }
        };
        Self::new(client, url, visibility)
    }

    /// How long each beat hides the message for.
    pub fn visibility(&self) -> Duration {
        self.visibility
    }

    /// How often it beats: a third of the timeout, so one lost beat still leaves time.
    pub fn interval(&self) -> Duration {
        self.visibility / 3
    }

    /// Runs `work` while keeping the message of `receipt` hidden; answers what `work` did.
    pub async fn hold<T>(&self, receipt: &str, work: impl Future<Output = T>) -> T {
        tokio::pin!(work);
        let mut beats = tokio::time::interval(self.interval());
        beats.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is at once; the message was just received, so skip it.
        beats.tick().await;
        loop {
            tokio::select! {
                done = &mut work => return done,
                _ = beats.tick() => self.beat(receipt).await,
            }
        }
    }

    async fn beat(&self, receipt: &str) {
        let secs = i32::try_from(self.visibility.as_secs()).unwrap_or(i32::MAX);
        let sent = self
            .client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(secs)
            .send()
            .await;
        match sent {
            Ok(_) => tracing::debug!(visibility_s = secs, "still working: message kept hidden"),
            // The work goes on: if the message shows again another worker may take it, and the
            // delete at the end fails, which the caller reports.
            Err(err) => tracing::warn!(
                error = %crate::error::error_chain(&err),
                "could not keep the message hidden; it may be handed out again"
            ),
        }
    }
}

/// The queue's `maxReceiveCount` (how many times SQS hands a message out before it moves it to
/// the dead-letter queue), `None` when it has no dead-letter queue; an error when the queue's
/// attributes cannot be read (the caller may ask again).
pub async fn max_receives(
    client: &aws_sdk_sqs::Client,
    url: &str,
) -> Result<Option<u32>, QueueError> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .map_err(|e| QueueError::sqs("GetQueueAttributes", e))?;
    let Some(policy) = out
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
    else {
        return Ok(None);
    };
    let Ok(policy) = serde_json::from_str::<serde_json::Value>(policy) else {
        return Ok(None);
    };
    // SQS writes it as a number or as a string, depending on who set it.
    Ok(match &policy["maxReceiveCount"] {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    })
}
