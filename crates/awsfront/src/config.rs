//! What a front is asked to do ([`Config`]), and what it records of each call ([`Entry`]).

use std::time::Duration;

use crate::faults::{Fault, Plan};

/// What a front does.
#[derive(Debug)]
pub struct Config {
    /// The emulator, e.g. `http://127.0.0.1:5055`.
    pub upstream: String,
    /// Multiplies every duration of the model; `None` adds no timing at all (faults only).
    pub scale: Option<f64>,
    pub faults: Option<Plan>,
    /// Print one line per call on stderr.
    pub log: bool,
}

/// One call that went through the front.
#[derive(Debug, Clone)]
pub struct Entry {
    /// From the front's start.
    pub at: Duration,
    pub service: String,
    pub operation: String,
    pub fault: Option<Fault>,
    /// The HTTP status answered (0 when the connection was closed instead).
    pub status: u16,
}
