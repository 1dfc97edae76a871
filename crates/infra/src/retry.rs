//! Bounded retries for the races AWS leaves to its callers: `DependencyViolation` while
//! network interfaces are released, and ids EC2 has just created but does not show yet.
//! (Throttling is retried by the SDK's own retry configuration, see [`crate::context`].)

use std::future::Future;
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

/// Retries `call` while it fails with one of `codes`, with exponential backoff, for at most
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

/// Retries `call` while `retryable` says so, with exponential backoff, for at most `timeout`.
pub async fn retry_while<T, F, Fut>(
    timeout: std::time::Duration,
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
    let mut backoff = settings.initial_backoff;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                if !retryable(&err) || started.elapsed() + backoff > timeout {
                    return Err(err);
                }
                on_retry(&err);
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(settings.max_backoff);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn coded(code: &str) -> Error {
        Error::Aws {
            resource: "subnet".into(),
            operation: "DeleteSubnet",
            code: Some(code.into()),
            hint: None,
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
        // 1 + 2 + 4 = 7 s of backoff; the next 4 s would pass the 10 s budget.
        assert_eq!(attempts.load(Ordering::SeqCst), 4);
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
                    resource: "public-subnet-1".into(),
                    operation: "CreateSubnet",
                    code: Some("InvalidVpcID.NotFound".into()),
                    hint: None,
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
