//! What the engine reports while it works (the CLI draws it): a leaf shared by the phases and
//! the scheduler.

use std::sync::Arc;
use std::time::Duration;

use crate::plan::Action;
use crate::resources::Kind;

/// What the engine reports while it works (the CLI draws it).
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        id: String,
        kind: Kind,
        action: Action,
    },
    Waiting {
        id: String,
        message: String,
    },
    Finished {
        id: String,
        kind: Kind,
        action: Action,
        elapsed: Duration,
    },
    /// A resource created or updated earlier now works (a load balancer active, a service
    /// rolled out).
    Ready {
        id: String,
        kind: Kind,
        elapsed: Duration,
    },
    Failed {
        id: String,
        error: String,
    },
    Skipped {
        id: String,
        reason: String,
    },
}

/// Receives progress events; must be cheap and never block.
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// A no-op progress sink.
pub fn quiet() -> Progress {
    Arc::new(|_| {})
}
