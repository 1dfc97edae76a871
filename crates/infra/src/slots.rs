//! How many resources of one AWS service are worked on at once. A resource's job holds a slot
//! of its service while it calls AWS and gives it back for every pause (a poll while it waits
//! to work or to be gone, a backoff before a retry): a service draining for a minute, or a load
//! balancer provisioning, holds no slot, and ECS calls never queue behind IAM's or SQS's.
//!
//! The slot travels with the job's future (a task-local), so the resources' code only pauses
//! through [`pause`] and never sees a slot.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

tokio::task_local! {
    static HELD: Held;
}

/// The slot a job holds, or gave back while it pauses.
struct Held {
    semaphore: Arc<Semaphore>,
    permit: RefCell<Option<OwnedSemaphorePermit>>,
}

/// The slots of each AWS service (by its IAM prefix), made on first use.
#[derive(Debug)]
pub struct Slots {
    per_service: usize,
    services: std::sync::Mutex<HashMap<&'static str, Arc<Semaphore>>>,
}

impl Slots {
    /// `per_service` resources of one service worked on at once (at least one).
    pub fn new(per_service: usize) -> Self {
        Self {
            per_service: per_service.max(1),
            services: std::sync::Mutex::new(HashMap::new()),
        }
    }

    fn of(&self, service: &'static str) -> Arc<Semaphore> {
        match self.services.lock() {
            Ok(mut services) => services
                .entry(service)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_service)))
                .clone(),
            // A panic elsewhere poisoned the map: a slot of its own keeps this job going.
            Err(_) => Arc::new(Semaphore::new(self.per_service)),
        }
    }

    /// Runs `work` holding a slot of `service`, given back for every [`pause`] in it.
    pub async fn hold<F: Future>(&self, service: &'static str, work: F) -> F::Output {
        let semaphore = self.of(service);
        let permit = semaphore.clone().acquire_owned().await.ok();
        let held = Held {
            semaphore,
            permit: RefCell::new(permit),
        };
        HELD.scope(held, work).await
    }
}

/// Sleeps for `duration`, giving the caller's slot back meanwhile (if it holds one) and
/// taking one again before it goes on.
pub async fn pause(duration: Duration) {
    let gave_back = HELD
        .try_with(|held| {
            let permit = held.permit.borrow_mut().take();
            permit.map(|permit| {
                drop(permit);
                held.semaphore.clone()
            })
        })
        .ok()
        .flatten();
    tokio::time::sleep(duration).await;
    if let Some(semaphore) = gave_back {
        let permit = semaphore.acquire_owned().await.ok();
        let _ = HELD.try_with(|held| *held.permit.borrow_mut() = permit);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A job that calls (holds its slot for `call`), then waits `waits` times.
    async fn job(slots: &Slots, busy: &AtomicUsize, most: &AtomicUsize, waits: u32) {
        slots
            .hold("ecs", async {
                for _ in 0..=waits {
                    let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    busy.fetch_sub(1, Ordering::SeqCst);
                    pause(Duration::from_secs(60)).await;
                }
            })
            .await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_job_holds_no_slot_and_calls_never_exceed_the_slots() {
        let slots = Slots::new(2);
        let (busy, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let started = tokio::time::Instant::now();
        // Ten jobs that each wait a minute twice: with the slot held while waiting they would
        // take five rounds of two minutes; given back, all wait at once.
        futures::future::join_all((0..10).map(|_| job(&slots, &busy, &most, 2))).await;
        assert_eq!(
            most.load(Ordering::SeqCst),
            2,
            "never more calls than slots"
        );
        assert!(
            started.elapsed() < Duration::from_secs(200),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn services_have_slots_of_their_own_and_a_pause_outside_a_job_just_sleeps() {
        let slots = Slots::new(1);
        let ecs = slots.hold("ecs", async {
            tokio::time::sleep(Duration::from_secs(30)).await;
        });
        let iam = slots.hold("iam", async { tokio::time::Instant::now() });
        let started = tokio::time::Instant::now();
        let ((), iam_ran) = tokio::join!(ecs, iam);
        assert_eq!(iam_ran, started, "IAM does not queue behind ECS");
        pause(Duration::from_secs(1)).await;
    }
}
