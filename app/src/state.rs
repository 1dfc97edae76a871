//! [`AppState`]: what every handler shares (the environment's name, the queue, the jobs).

use std::sync::Arc;

use crate::jobs::dispatch::Dispatcher;
use crate::queue::Queue;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub environment: Arc<str>,
    pub queue: Queue,
    /// The even-sum jobs' store and workers (`ENV=devel`); `None` where jobs are not run.
    pub jobs: Option<Dispatcher>,
}
