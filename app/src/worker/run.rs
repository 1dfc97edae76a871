//! The worker's loop: as many messages in hand as it has slots, each worked on in a task of its
//! own, and a receive for more whenever a slot frees (a message's slot frees once its work is
//! done, while it is deleted). A receive asks only for free slots, so a message is never
//! received to wait behind others in this worker's hands (where a second worker could not take
//! it, and where SQS's fair queues could not put another client's part first). On shutdown the
//! messages in hand are finished before it returns.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::{BATCH, Worker};

/// While messages are being worked on, a receive waits at most this long, so a slot that
/// frees meanwhile is filled soon.
const BUSY_WAIT: Duration = Duration::from_secs(1);

impl Worker {
    /// Handles messages until `shutdown` resolves, then finishes those in hand (ECS sends
    /// SIGTERM and waits 30 s). Answers how many messages were handled.
    pub async fn run_until(&self, shutdown: impl Future<Output = ()>) -> u64 {
        tokio::pin!(shutdown);
        let slots = Arc::new(Semaphore::new(self.concurrency));
        let mut running: JoinSet<bool> = JoinSet::new();
        let mut handled = 0;
        let mut backoff = Duration::from_millis(500);
        loop {
            let first = tokio::select! {
                () = &mut shutdown => break,
                permit = Arc::clone(&slots).acquire_owned() => permit,
            };
            let Ok(first) = first else { break };
            while let Some(done) = running.try_join_next() {
                handled += u64::from(matches!(done, Ok(true)));
            }
            let free = 1 + slots
                .available_permits()
                .min(BATCH.unsigned_abs() as usize - 1);
            let wait = if running.is_empty() {
                self.poll
            } else {
                BUSY_WAIT
            };
            let received = tokio::select! {
                () = &mut shutdown => break,
                received = self.receive(free, wait) => received,
            };
            let messages = match received {
                Ok(messages) => {
                    backoff = Duration::from_millis(500);
                    messages
                }
                Err(err) => {
                    tracing::error!(error = %crate::error::error_chain(&err), "receiving failed; trying again");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(20));
                    continue;
                }
            };
            self.start(messages, first, &slots, &mut running).await;
        }
        while let Some(done) = running.join_next().await {
            handled += u64::from(matches!(done, Ok(true)));
        }
        handled
    }

    /// Starts a task per message, each holding a slot until it is done: the first the slot
    /// waited for, the others slots that were free when the receive was sent.
    async fn start(
        &self,
        messages: Vec<Message>,
        first: OwnedSemaphorePermit,
        slots: &Arc<Semaphore>,
        running: &mut JoinSet<bool>,
    ) {
        let heartbeat = self.heartbeat().await.clone();
        let mut first = Some(first);
        for message in messages {
            let slot = first
                .take()
                .or_else(|| Arc::clone(slots).try_acquire_owned().ok());
            let (worker, heartbeat) = (self.clone(), heartbeat.clone());
            running.spawn(async move {
                worker
                    .handle_or_leave(&heartbeat, &message, slot)
                    .await
                    .is_some()
            });
        }
    }
}
