//! Per-service helpers the kind files share: EC2's tag-filtered describes and tag shapes,
//! the load balancers and ECS clusters of a stack (read once per observation), and the rule
//! for resources found by their name, and many resources' tags in one call. They sit below the kind files and never call into them.

pub mod acm;
pub mod certificates;
pub mod cloudmap;
pub mod ec2;
pub mod ecs;
pub mod elb;
pub mod interfaces;
pub mod named;
pub mod route53;
pub mod tagging;

use crate::error::{Error, Result};

/// Sends a create call once, without the SDK's own retry: its answer may be lost after AWS
/// did the work, and a blind retry would make a second copy. The engine looks the resource up
/// by its tags before it tries again.
macro_rules! once {
    ($sdk:ident, $call:expr) => {
        $call
            .customize()
            .config_override(
                $sdk::config::Builder::default()
                    .retry_config($sdk::config::retry::RetryConfig::disabled()),
            )
            .send()
    };
}
pub(crate) use once;

/// `Ok` for a call that failed only because what it does is already done (a rule that is
/// already there, a route already made by an attempt whose answer was lost).
pub fn done_is_ok<T>(result: Result<T>, codes: &[&str]) -> Result<()> {
    gone_is_ok(result, |code| codes.contains(&code))
}

/// `Ok` for a call that failed only because the thing is already gone.
pub fn gone_is_ok<T>(result: Result<T>, gone: impl Fn(&str) -> bool) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(err) if err.code().is_some_and(&gone) => Ok(()),
        Err(err) => Err(err),
    }
}

/// The partition of `region`'s ARNs: `aws`, or `aws-cn` / `aws-us-gov` for those regions.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// Reads of one kind in flight at once: its resources are read side by side, but never a
/// burst of fifty `GetRole`s into IAM's rate limit.
pub const READS_AT_ONCE: usize = 8;

/// Runs `read` for each item, [`READS_AT_ONCE`] at a time, in order; the first error stops it.
pub async fn each<I, T, F, Fut>(items: I, read: F) -> Result<Vec<T>>
where
    I: IntoIterator,
    F: FnMut(I::Item) -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    use futures::{StreamExt, TryStreamExt};
    // The futures are made first (they do nothing until polled): a stream that maps with the
    // closure would not be `Send` where a borrowed item's lifetime is involved.
    let reads: Vec<Fut> = items.into_iter().map(read).collect();
    futures::stream::iter(reads)
        .buffered(READS_AT_ONCE)
        .try_collect()
        .await
}

/// Collects every page of a listing (the SDK's paginator), or the first error.
pub async fn all<T, E>(
    pages: aws_smithy_async::future::pagination_stream::PaginationStream<std::result::Result<T, E>>,
    map: impl FnOnce(E) -> Error,
) -> Result<Vec<T>> {
    pages
        .collect::<std::result::Result<Vec<T>, E>>()
        .await
        .map_err(map)
}
