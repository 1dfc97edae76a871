//! The queue behind the API: Amazon SQS, or an in-memory stand-in for `ENV=devel`.
//!
//! Both give the same guarantees the routes rely on: `send` answers with the message id, and
//! `receive` hands a message out once (SQS: receive then delete; memory: pop), waiting up to the
//! configured long-polling time when the queue is empty.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};
use tokio::sync::Notify;
use tokio::time::Instant;

/// A message taken off the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub id: String,
    pub body: String,
}

/// What went wrong while talking to the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("SQS {operation} failed{}", code_suffix(.code))]
    Sqs {
        operation: &'static str,
        code: Option<String>,
        /// True when SQS could not be reached or did not answer in time (as opposed to
        /// answering with an error).
        unreachable: bool,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("SQS {operation} returned a message without {missing}")]
    Malformed {
        operation: &'static str,
        missing: &'static str,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
}

impl QueueError {
    pub(crate) fn sqs<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let unreachable = matches!(
            err,
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
        );
        Self::Sqs {
            operation,
            code: err.code().map(str::to_owned),
            unreachable,
            source: Box::new(err),
        }
    }

    /// True when the queue could not be reached at all; the client should try again later.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Sqs {
                unreachable: true,
                ..
            }
        )
    }
}

/// The queue the routes use. An enum, not a trait object: there are exactly two kinds.
#[derive(Debug, Clone)]
pub enum Queue {
    Sqs(SqsQueue),
    Memory(MemoryQueue),
}

impl Queue {
    /// Sends `body` and returns the queue's id for it. `key` names the send for deduplication
    /// (see [`SqsQueue`]); `None` makes one up for this call.
    pub async fn send(&self, body: &str, key: Option<&str>) -> Result<String, QueueError> {
        match self {
            Self::Sqs(q) => q.send(body, key).await,
            Self::Memory(q) => Ok(q.send(body)),
        }
    }

    /// Takes one message off the queue, or `None` when the queue stayed empty for the wait time.
    pub async fn receive(&self) -> Result<Option<ReceivedMessage>, QueueError> {
        match self {
            Self::Sqs(q) => q.receive().await,
            Self::Memory(q) => Ok(q.receive().await),
        }
    }

    /// A short description for the start-up log line.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqs(q) => format!("SQS queue {}", q.url),
            Self::Memory(_) => {
                "in-memory queue (ENV=devel, no SQS_QUEUE_URL): messages are lost on exit".into()
            }
        }
    }
}

/// An SQS queue, addressed by URL.
///
/// A standard queue delivers at least once: when the answer to a `SendMessage` is lost after
/// SQS stored the message, the SDK's retry stores it again. A FIFO queue (its URL ends in
/// `.fifo`) drops a second send with the same deduplication id within five minutes, so every
/// send carries one: the client's `Idempotency-Key`, or one made per request, which the SDK's
/// retries reuse. All messages share one group, so the queue keeps their order.
#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
    url: String,
    wait: Duration,
    fifo: bool,
}

/// The message group of every message on a FIFO queue: one order for all.
pub const MESSAGE_GROUP: &str = "messages";

impl SqsQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>, wait: Duration) -> Self {
        let url = url.into();
        Self {
            client,
            fifo: url.ends_with(".fifo"),
            url,
            wait,
        }
    }

    async fn send(&self, body: &str, key: Option<&str>) -> Result<String, QueueError> {
        let (group, dedup) = if self.fifo {
            let key = key.map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
            (Some(MESSAGE_GROUP.to_owned()), Some(key))
        } else {
            (None, None)
        };
        let out = self
            .client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .set_message_group_id(group)
            .set_message_deduplication_id(dedup)
            .send()
            .await
            .map_err(|e| QueueError::sqs("SendMessage", e))?;
        out.message_id.ok_or(QueueError::Malformed {
            operation: "SendMessage",
            missing: "a MessageId",
        })
    }

    async fn receive(&self) -> Result<Option<ReceivedMessage>, QueueError> {
        let wait_secs = i32::try_from(self.wait.as_secs()).unwrap_or(20);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(1)
            .wait_time_seconds(wait_secs)
            .send()
            .await
            .map_err(|e| QueueError::sqs("ReceiveMessage", e))?;
        let Some(message) = out.messages.unwrap_or_default().into_iter().next() else {
            return Ok(None);
        };
        let receipt = message.receipt_handle.ok_or(QueueError::Malformed {
            operation: "ReceiveMessage",
            missing: "a ReceiptHandle",
        })?;
        let id = message.message_id.ok_or(QueueError::Malformed {
            operation: "ReceiveMessage",
            missing: "a MessageId",
        })?;
        // Delete before answering: if the delete fails the client gets an error and the message
        // becomes visible again after the visibility timeout, so it is delayed, never lost.
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| QueueError::sqs("DeleteMessage", e))?;
        Ok(Some(ReceivedMessage {
            id,
            body: message.body.unwrap_or_default(),
        }))
    }
}

/// A process-local FIFO queue with SQS-like long polling.
#[derive(Debug, Clone)]
pub struct MemoryQueue {
    inner: Arc<MemoryInner>,
}

#[derive(Debug)]
struct MemoryInner {
    messages: Mutex<VecDeque<ReceivedMessage>>,
    arrived: Notify,
    wait: Duration,
}

impl MemoryQueue {
    pub fn new(wait: Duration) -> Self {
        Self {
            inner: Arc::new(MemoryInner {
                messages: Mutex::new(VecDeque::new()),
                arrived: Notify::new(),
                wait,
            }),
        }
    }

    fn send(&self, body: &str) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        self.lock().push_back(ReceivedMessage {
            id: id.clone(),
            body: body.to_owned(),
        });
        self.inner.arrived.notify_one();
        id
    }

    async fn receive(&self) -> Option<ReceivedMessage> {
        let deadline = Instant::now() + self.inner.wait;
        loop {
            // Register interest before checking, so a send between the check and the wait
            // is not missed.
            let arrived = self.inner.arrived.notified();
            if let Some(message) = self.lock().pop_front() {
                return Some(message);
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return self.lock().pop_front();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<ReceivedMessage>> {
        // A panic while holding this lock cannot leave the deque half-updated (push/pop are
        // atomic with respect to unwinding), so a poisoned lock is still safe to use.
        self.inner
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_queue_delivers_in_order_and_once() {
        let queue = MemoryQueue::new(Duration::ZERO);
        let a = queue.send("a");
        let b = queue.send("b");
        assert_ne!(a, b);
        assert_eq!(
            queue.receive().await.map(|m| (m.id, m.body)),
            Some((a, "a".into()))
        );
        assert_eq!(
            queue.receive().await.map(|m| (m.id, m.body)),
            Some((b, "b".into()))
        );
        assert_eq!(queue.receive().await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn memory_queue_long_polls_until_a_message_arrives() {
        let queue = MemoryQueue::new(Duration::from_secs(5));
        let sender = queue.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            sender.send("late");
        });
        let started = Instant::now();
        let message = queue.receive().await.unwrap();
        assert_eq!(message.body, "late");
        assert_eq!(started.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn memory_queue_gives_up_after_the_wait() {
        let queue = MemoryQueue::new(Duration::from_secs(3));
        let started = Instant::now();
        assert_eq!(queue.receive().await, None);
        assert_eq!(started.elapsed(), Duration::from_secs(3));
    }
}
