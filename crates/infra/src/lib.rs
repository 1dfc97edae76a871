//! Reconciles the AWS resources of one stackctl stack from a declarative `stack.toml`.
//!
//! Resources are found by their tags (`stackctl:stack`, `stackctl:id`), never by a local
//! state file: `up` from another machine or a fresh clone sees the same stack.
//!
//! # Layout
//! Leaves first; no module imports one that imports it back (`tests/architecture.rs`).
//! - [`error`], [`id`], [`tags`], [`change`], [`outputs`], [`when`]: the shared vocabulary
//!   (errors, the resources' logical ids, tags, typed changes and how they are shown, outputs
//!   and references between resources, times as shown and as read).
//! - [`context`]: the AWS clients, timing settings, and the interceptor that counts calls.
//! - [`retry`]: bounded retries for AWS's eventual-consistency races.
//! - [`rates`]: AWS's published request rates, as token buckets that calls wait on.
//! - [`slots`]: how many resources of one AWS service are worked on at once (waits hold none).
//! - [`contract`]: the contract every resource kind fulfils (the `Resource` trait, `Found`).
//! - [`aws`]: per-service helpers the kinds share (EC2 tag filters, the stack's load
//!   balancers and ECS clusters, resources found by name).
//! - [`resources`]: one file per resource kind, and the registry that lists them.
//! - [`stack_file`]: the `stack.toml` model, defaults and validation (file:line:col errors).
//! - [`desired`]: what a stack is made of: the desired resources, their dependencies.
//! - [`diagram`]: that, as a picture: by layer, with the critical path of `up` (`graph`).
//! - [`graph`]: the dependency graph (cycles rejected, stable topological order).
//! - [`plan`]: pure planning: desired vs observed → create / update / replace / delete.
//! - [`engine`]: observe → plan → apply, in parallel as dependencies allow; progress events.
//! - [`history`]: the deploy history each `up` and `down` records in AWS, and reads back.
//! - [`log_events`]: the services' log events, read back for `stackctl logs`.
//! - [`inventory`]: every stack in a region (`stackctl ls`), and the stacks a file made.
//! - [`cost`]: what a stack costs a month while it stands.
//! - [`lock`]: the stack lock that keeps two runs that change one stack from interleaving.
//! - [`policy`]: the IAM policy that lets a principal run stackctl on one stack, and no more.

pub mod aws;
pub mod change;
pub mod context;
pub mod contract;
pub mod cost;
pub mod desired;
pub mod diagram;
pub mod engine;
pub mod error;
pub mod graph;
pub mod history;
pub mod id;
pub mod inventory;
pub mod lock;
pub mod log_events;
pub mod outputs;
pub mod plan;
pub mod policy;
pub mod rates;
pub mod resources;
pub mod retry;
pub mod slots;
pub mod stack_file;
pub mod tags;
pub mod when;

pub use context::{CallCounts, Context};
pub use error::{Error, Result, chain as error_chain};
pub use id::ResourceId;
pub use plan::{Action, Plan};
pub use stack_file::StackSpec;
