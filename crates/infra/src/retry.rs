//! One retry policy and one poll loop for the whole crate.
//!
//! **Retries** wait out the races AWS leaves to its callers: `DependencyViolation` while
//! network interfaces are released, ids EC2 has just created but does not show yet, IAM roles
//! ECS cannot assume yet. The pause before each retry is capped exponential backoff with
//! jitter: a random time between half and all of `min(initial · 2ⁿ, max)`, 1 s to 5 s by
//! default. A resource retries at most once a second at first and once every 2.5–5 s after
//! that, so even 25 resources waiting at once stay under EC2's mutating-call refill rate of
//! 5 requests a second. Throttling and transient errors of ordinary calls are retried by the
//! SDK's own retry configuration (see [`crate::context`]).
//!
//! **Polls** follow something AWS does on its own (a load balancer becoming active, a
//! service rolling out): one look every `poll_interval` (5 s by default), for a bounded time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::context::Settings;
use crate::error::{Error, Result};

/// Codes that mean "something still depends on this; it will go away on its own".
pub const DEPENDENCY_CODES: &[&str] = &[
    "DependencyViolation",
    "ResourceInUse",
    "InvalidIPAddress.InUse",
    "AuthFailure.ServiceLinkedRoleCreationNotPermitted",
    "DeleteConflict",
];

/// The pauses between retries: capped exponential backoff with jitter.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(settings: &Settings) -> Self {
        Self {
            next: settings.initial_backoff,
            max: settings.max_backoff,
        }
    }

    /// The pause before the next retry.
    pub fn pause(&mut self) -> Duration {
        let ceiling = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        ceiling.mul_f64(0.5 + fastrand::f64() / 2.0)
    }
}

/// Retries `call` while it fails with one of `codes`, for at most
/// `settings.dependency_timeout`. `on_retry` hears about each retry (for progress output).
pub async fn while_codes<T, F, Fut>(
    settings: &Settings,
    codes: &[&str],
    on_retry: impl FnMut(&Error),
    call: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let retryable = |err: &Error| err.code().is_some_and(|c| codes.contains(&c));
    retry_while(
        settings.dependency_timeout,
        settings,
        retryable,
        on_retry,
        call,
    )
    .await
}

/// True for the `…NotFound` answers EC2 gives for an id it created a moment ago (its API is
/// eventually consistent: a new VPC, subnet or group may be unknown to the next call).
pub fn is_not_yet_visible(err: &Error) -> bool {
    err.code().is_some_and(|c| c.ends_with(".NotFound"))
}

/// Retries a call that refers to resources created moments ago while EC2 does not know them
/// yet, for at most `settings.consistency_timeout`.
pub async fn until_visible<T, F, Fut>(settings: &Settings, call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let note = |err: &Error| tracing::debug!(%err, "not visible yet; retrying");
    retry_while(
        settings.consistency_timeout,
        settings,
        is_not_yet_visible,
        note,
        call,
    )
    .await
}

/// Retries `call` while `retryable` says so, with [`Backoff`], for at most `timeout`.
pub async fn retry_while<T, F, Fut>(
    timeout: Duration,
    settings: &Settings,
    retryable: impl Fn(&Error) -> bool,
    mut on_retry: impl FnMut(&Error),
    mut call: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let started = Instant::now();
    let mut backoff = Backoff::new(settings);
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                let pause = backoff.pause();
                if !retryable(&err) || started.elapsed() + pause > timeout {
                    return Err(err);
                }
                on_retry(&err);
                crate::slots::pause(pause).await;
            }
        }
    }
}

/// What one look at something being waited on found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Look<T> {
    Done(T),
    /// Not yet; the words say where it is (shown when they change).
    NotYet(String),
}

/// Looks every `settings.poll_interval` until `look` says done, telling `on_change` where it
/// is whenever that changes; fails with a timeout naming `resource` and `what` after
/// `timeout`.
pub async fn poll<T, F, Fut>(
    settings: &Settings,
    timeout: Duration,
    (resource, what): (&str, &'static str),
    on_change: &(dyn Fn(String) + Send + Sync),
    mut look: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Look<T>>>,
{
    let started = Instant::now();
    let mut last = String::new();
    loop {
        match look().await? {
            Look::Done(value) => return Ok(value),
            Look::NotYet(status) => {
                if status != last {
                    on_change(status.clone());
                    last = status;
                }
            }
        }
        if started.elapsed() >= timeout {
            return Err(Error::Timeout {
                subject: resource.into(),
                what,
                seconds: timeout.as_secs(),
            });
        }
        let left = timeout.saturating_sub(started.elapsed());
        crate::slots::pause(settings.poll_interval.min(left)).await;
    }
}

/// Where a resource that works some time after its create call (a load balancer, a NAT
/// gateway) stands, as one describe call reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    Ready,
    /// It will never work; the reason AWS gives.
    Failed(Option<String>),
    /// Not yet: the state AWS reports, or none while the resource is not visible yet.
    Pending(Option<String>),
}

/// Polls `look` until the resource works, showing its state as it changes. `noun` names it
/// in those words and in the failure; an error saying it is not visible yet (EC2's eventual
/// consistency) counts as pending.
pub async fn until_ready<F, Fut>(
    settings: &Settings,
    (id, noun, what): (&str, &str, &'static str),
    wait: &(dyn Fn(String) + Send + Sync),
    mut look: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Progress>>,
{
    poll(settings, settings.wait_timeout, (id, what), wait, || {
        let progress = look();
        async move {
            let state = match progress.await {
                Ok(Progress::Ready) => return Ok(Look::Done(())),
                Ok(Progress::Failed(reason)) => {
                    let reason = reason.as_deref().unwrap_or("no reason given");
                    return Err(Error::Failed {
                        subject: id.into(),
                        message: format!("the {noun} failed: {reason}"),
                    });
                }
                Ok(Progress::Pending(state)) => state,
                Err(err) if is_not_yet_visible(&err) => None,
                Err(err) => return Err(err),
            };
            let state = state.as_deref().unwrap_or("not visible yet");
            Ok(Look::NotYet(format!("{noun} {state}")))
        }
    })
    .await
}

/// Polls `look` until a deleted resource is really gone (its network interfaces, address or
/// subnet are busy until then). `look` answers the state AWS still reports, or `None` once
/// the resource is gone or no longer found.
pub async fn until_gone<F, Fut>(
    settings: &Settings,
    (id, noun): (&str, &str),
    wait: &(dyn Fn(String) + Send + Sync),
    mut look: F,
) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<String>>>,
{
    poll(
        settings,
        settings.wait_timeout,
        (id, "be deleted"),
        wait,
        || {
            let state = look();
            async move {
                Ok(match state.await? {
                    None => Look::Done(()),
                    Some(state) => Look::NotYet(format!("waiting for the {noun} to go ({state})")),
                })
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn coded(code: &str) -> Error {
        Error::Aws {
            subject: "subnet".into(),
            operation: "DeleteSubnet",
            code: Some(code.into()),
            answer: None,
            hint: None,
            outcome: crate::error::Outcome::Refused,
            source: "test".into(),
        }
    }

    fn settings(timeout_secs: u64) -> Settings {
        Settings {
            dependency_timeout: Duration::from_secs(timeout_secs),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(4),
            ..Settings::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_dependency_violations_until_they_clear() {
        let attempts = AtomicUsize::new(0);
        let mut retries = 0;
        let result = while_codes(
            &settings(60),
            DEPENDENCY_CODES,
            |_| retries += 1,
            || async {
                if attempts.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(coded("DependencyViolation"))
                } else {
                    Ok("deleted")
                }
            },
        )
        .await;
        assert_eq!(result.unwrap(), "deleted");
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
        assert_eq!(retries, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_the_timeout() {
        let attempts = AtomicUsize::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<()> = while_codes(
            &settings(10),
            DEPENDENCY_CODES,
            |_| {},
            || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(coded("DependencyViolation"))
            },
        )
        .await;
        assert_eq!(result.unwrap_err().code(), Some("DependencyViolation"));
        // Pauses of 0.5–1, 1–2, then 2–4 s: between 4 and 7 attempts fit in 10 s.
        let attempts = attempts.load(Ordering::SeqCst);
        assert!((4..=7).contains(&attempts), "{attempts} attempts");
        assert!(started.elapsed() <= Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn other_errors_are_not_retried() {
        let attempts = AtomicUsize::new(0);
        let result: Result<()> = while_codes(
            &settings(60),
            DEPENDENCY_CODES,
            |_| {},
            || async {
                attempts.fetch_add(1, Ordering::SeqCst);
                Err(coded("AccessDenied"))
            },
        )
        .await;
        assert!(result.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn until_ready_shows_each_state_once_and_counts_not_found_as_pending() {
        let answers = std::sync::Mutex::new(vec![
            Ok(Progress::Ready),
            Ok(Progress::Pending(Some("provisioning".into()))),
            Ok(Progress::Pending(Some("provisioning".into()))),
            Err(coded("InvalidNatGatewayID.NotFound")),
        ]);
        let shown = std::sync::Mutex::new(Vec::new());
        let result = until_ready(
            &settings(60),
            ("nat", "NAT gateway", "become available"),
            &|s| shown.lock().unwrap().push(s),
            || async { answers.lock().unwrap().pop().unwrap() },
        )
        .await;
        result.unwrap();
        assert_eq!(
            *shown.lock().unwrap(),
            ["NAT gateway not visible yet", "NAT gateway provisioning"]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn until_ready_fails_with_the_reason_aws_gives() {
        let result = until_ready(
            &settings(60),
            ("lb", "load balancer", "become active"),
            &|_| {},
            || async { Ok(Progress::Failed(Some("no capacity".into()))) },
        )
        .await;
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains("the load balancer failed: no capacity"),
            "{message}"
        );
        let other: Result<()> = until_ready(
            &settings(60),
            ("lb", "load balancer", "become active"),
            &|_| {},
            || async { Err(coded("AccessDenied")) },
        )
        .await;
        assert_eq!(other.unwrap_err().code(), Some("AccessDenied"));
    }
}

#[cfg(test)]
mod policy_tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_below_each_ceiling() {
        let settings = Settings {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            ..Settings::default()
        };
        let mut backoff = Backoff::new(&settings);
        for ceiling in [1, 2, 4, 5, 5, 5] {
            let ceiling = Duration::from_secs(ceiling);
            let pause = backoff.pause();
            assert!(
                pause >= ceiling / 2 && pause <= ceiling,
                "{pause:?} for {ceiling:?}"
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_says_each_change_once_then_times_out_naming_what_it_waited_for() {
        let settings = Settings {
            poll_interval: Duration::from_secs(5),
            ..Settings::default()
        };
        let seen = Mutex::new(Vec::new());
        let looks = Mutex::new(0);
        let started = tokio::time::Instant::now();
        let result: Result<()> = poll(
            &settings,
            Duration::from_secs(60),
            ("load-balancer", "become active"),
            &|s| seen.lock().unwrap().push(s),
            || async {
                *looks.lock().unwrap() += 1;
                Ok(Look::NotYet("provisioning".into()))
            },
        )
        .await;
        let err = result.unwrap_err().to_string();
        assert_eq!(
            err,
            "timed out after 60s waiting for load-balancer to become active"
        );
        assert_eq!(seen.into_inner().unwrap(), ["provisioning"]);
        assert_eq!(
            *looks.lock().unwrap(),
            13,
            "one look every 5 s, the last at 60 s"
        );
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }
}

#[cfg(test)]
mod visibility_tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_fresh_id_is_retried_until_ec2_knows_it() {
        let settings = Settings {
            consistency_timeout: Duration::from_secs(60),
            initial_backoff: Duration::from_secs(1),
            ..Settings::default()
        };
        let attempts = AtomicUsize::new(0);
        let result = until_visible(&settings, || async {
            if attempts.fetch_add(1, Ordering::SeqCst) < 2 {
                Err(Error::Aws {
                    subject: "public-subnet-1".into(),
                    operation: "CreateSubnet",
                    code: Some("InvalidVpcID.NotFound".into()),
                    answer: None,
                    hint: None,
                    outcome: crate::error::Outcome::Refused,
                    source: "not yet".into(),
                })
            } else {
                Ok(())
            }
        })
        .await;
        assert!(result.is_ok());
        assert_eq!(attempts.load(Ordering::SeqCst), 3);
    }
}
