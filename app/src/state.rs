//! [`AppState`]: what every handler shares (the environment's name and the queue).

use std::sync::Arc;

use crate::queue::Queue;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub environment: Arc<str>,
    pub queue: Queue,
}
