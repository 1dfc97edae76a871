//! Reconciles the AWS resources of one stackctl stack from a declarative `stack.toml`.
//!
//! Resources are found by their tags (`stackctl:stack`, `stackctl:id`), never by a local
//! state file: `up` from another machine or a fresh clone sees the same stack.
//!
//! # Layout
//! - [`spec`]: the `stack.toml` model, defaults and validation (file:line:col errors).
//! - [`stack`]: what a stack is made of: desired resources, logical ids, dependencies.
//! - [`graph`]: the dependency graph (cycles rejected, stable topological order).
//! - [`plan`]: pure planning: desired vs observed → create / update / replace / delete.
//! - [`engine`]: observe → plan → apply, in parallel as dependencies allow; progress events.
//! - [`resources`]: one file per resource kind: observe, diff, create, update, delete.
//! - [`context`]: the AWS clients and the interceptor that counts their calls.
//! - [`retry`]: bounded retries for AWS's eventual-consistency races.
//! - [`tags`], [`error`].

pub mod context;
pub mod engine;
pub mod error;
pub mod graph;
pub mod plan;
pub mod resources;
pub mod retry;
pub mod spec;
pub mod stack;
pub mod tags;

pub use context::{CallCounts, Context};
pub use error::{Error, Result};
pub use plan::{Action, Plan};
pub use spec::StackSpec;

/// `outer: inner: innermost`, skipping causes whose text the outer one already ends with.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
