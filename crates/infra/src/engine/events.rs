//! What the engine reports while it works (the CLI draws it): a leaf shared by the phases and
//! the scheduler.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::job::Job;
use crate::error::Error;
use crate::id::ResourceId;
use crate::plan::Action;
use crate::resources::Kind;

/// What the engine reports while it works (the CLI draws it).
#[derive(Debug, Clone)]
pub enum Event {
    Started {
        id: ResourceId,
        kind: Kind,
        action: Action,
    },
    Waiting {
        id: ResourceId,
        message: String,
    },
    Finished {
        id: ResourceId,
        kind: Kind,
        action: Action,
        elapsed: Duration,
    },
    /// A resource created or updated earlier now works (a load balancer active, a service
    /// rolled out).
    Ready {
        id: ResourceId,
        kind: Kind,
        elapsed: Duration,
    },
    Failed {
        id: ResourceId,
        error: String,
        /// Stopped by an interrupt while it waited for AWS, which goes on with what it was
        /// asked: not a failure of AWS's.
        interrupted: bool,
    },
    /// Not started: what it waited on failed, or the run stopped.
    Skipped {
        job: Job,
        reason: String,
    },
}

/// Receives progress events; must be cheap and never block.
pub type Progress = Arc<dyn Fn(Event) + Send + Sync>;

/// A no-op progress sink.
pub fn quiet() -> Progress {
    Arc::new(|_| {})
}

/// Reports what one resource waits for.
pub(super) fn waiting(
    progress: &Progress,
    id: &ResourceId,
) -> impl Fn(String) + Send + Sync + use<> {
    let (progress, id) = (progress.clone(), id.clone());
    move |message| {
        progress(Event::Waiting {
            id: id.clone(),
            message,
        })
    }
}

fn failed(id: &ResourceId, err: &Error) -> Event {
    let interrupted = matches!(err, Error::Interrupted { .. });
    Event::Failed {
        id: id.clone(),
        error: if interrupted {
            "interrupted while it waited; AWS goes on with what it was asked".into()
        } else {
            crate::error::chain(err)
        },
        interrupted,
    }
}

/// Reports how waiting until a resource works ended.
pub(super) fn report_ready(
    progress: &Progress,
    (id, kind, started): (&ResourceId, Kind, Instant),
    error: Option<&Error>,
) {
    match error {
        None => progress(Event::Ready {
            id: id.clone(),
            kind,
            elapsed: started.elapsed(),
        }),
        Some(err) => progress(failed(id, err)),
    }
}

/// Reports how one change ended: `(id, kind, action, started)` and its error, if any.
pub(super) fn report(
    progress: &Progress,
    (id, kind, action, started): (&ResourceId, Kind, Action, Instant),
    error: Option<&Error>,
) {
    match error {
        None => progress(Event::Finished {
            id: id.clone(),
            kind,
            action,
            elapsed: started.elapsed(),
        }),
        Some(err) => progress(failed(id, err)),
    }
}
