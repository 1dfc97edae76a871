//! [`AppState`]: what every handler shares (the environment's name, the queue, the jobs).

use std::sync::Arc;

use crate::jobs::dispatch::Dispatcher;
use crate::jobs::on_aws::AwsJobs;
use crate::queue::Queue;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub environment: Arc<str>,
    pub queue: Queue,
    /// Where even-sum jobs are kept and summed; `None` where the service takes none.
    pub jobs: Option<Jobs>,
}

/// Where even-sum jobs are kept and summed.
#[derive(Debug, Clone)]
pub enum Jobs {
    /// In a local folder, on this process's threads (`ENV=devel`).
    Local(Dispatcher),
    /// In the stack's bucket, by `app worker` tasks taking parts from the queue.
    Aws(AwsJobs),
}
