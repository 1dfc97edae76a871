//! The project's test kit for what the emulator cannot show: an HTTP layer in front of it that
//! plays real AWS. It adds each call's latency and keeps resources on their way (a load
//! balancer provisioning, a service rolling out, network interfaces being released) for as
//! long as AWS does, scaled, and throttles what goes past AWS's published request rates
//! ([`model`], [`infra::rates`]); and it injects seeded faults before a call reaches
//! the emulator or after it did the work ([`faults`]). Tests start one with [`Front::start`];
//! the benchmark and the soak script run the `awsfront` binary.
//!
//! # Layout
//! - [`call`]: which service and operation a request is.
//! - [`reply`]: answers in each protocol's shape, and rewriting the emulator's answers.
//! - [`timings`]: AWS's timings, as figures; [`model`]: the timing model that plays them
//!   ([`dns`]: Route 53's changes).
//! - [`faults`]: the fault plan.
//! - [`bound`]: the critical-path bound of a stack under the model.
//! - `server`: accepting, faulting, delaying, forwarding.

pub mod bound;
pub mod call;
mod config;
pub mod dns;
pub mod faults;
mod interfaces;
pub mod model;
pub mod reply;
mod server;
pub mod timings;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use config::{Config, Entry};
pub use faults::{Fault, Plan};
pub use model::Model;

/// A running front; it stops when dropped.
#[derive(Debug)]
pub struct Front {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Front {
    /// Starts a front on `listen` (port 0 picks a free one).
    pub async fn start(config: Config, listen: SocketAddr) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(server::Shared {
            model: config.scale.map(Model::new),
            client: server::upstream(),
            config,
            started: std::time::Instant::now(),
            entries: Mutex::default(),
        });
        let task = tokio::spawn(server::accept(listener, shared.clone()));
        Ok(Self { addr, shared, task })
    }

    /// The endpoint to give the AWS SDK (`AWS_ENDPOINT_URL`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every call so far, in the order they came.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The model's timeline: mutating calls and the moments it decided (see [`Model::timeline`]).
    pub fn timeline(&self) -> Vec<(Duration, String)> {
        self.shared
            .model
            .as_ref()
            .map(Model::timeline)
            .unwrap_or_default()
    }

    /// The front's clock: time since it started, as [`Entry::at`] and the timeline count.
    pub fn now(&self) -> Duration {
        self.shared.started.elapsed()
    }

    /// Serves until the process ends (for the binary).
    pub async fn wait(self) {
        std::future::pending::<()>().await;
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.task.abort();
    }
}
