//! Even-sum jobs over HTTP: a client uploads a file (`POST /jobs/even-sum`), the service sums
//! it in parts, and the client asks how far it got (`GET /jobs/{id}`) and for the answer
//! (`GET /jobs/{id}/result`). Two homes, one API ([`crate::state::Jobs`]):
//!
//! - In `ENV=devel`, on this machine: [`store`] keeps inputs and records in a local folder,
//!   [`dispatch`] sums parts on threads, taking from a fair queue: one client at a time in
//!   turn, so a small job of one client is not stuck behind another's 5 GB.
//! - On AWS: [`bucket`] keeps inputs, records and part results in the stack's bucket, and
//!   [`on_aws`] sends the parts to the service's queue, where `app worker` tasks sum them
//!   ([`part`]: a part's message, its window of the input, its result).
//!
//! A job's record is the truth about it: the handlers read it from the store, never from the
//! worker's memory, and the worker writes it at every change of status (and its progress a few
//! times a second).

pub mod bucket;
pub mod dispatch;
pub mod on_aws;
pub mod part;
pub mod pieces;
pub mod store;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::even_sum::Answer;

/// The longest client id.
pub const MAX_CLIENT_ID: usize = 64;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Running,
    Done,
    Failed,
}

impl Status {
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// A job as stored: times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub job_id: String,
    pub client: String,
    pub status: Status,
    pub bytes: u64,
    pub progress: f64,
    pub created_ms: u64,
    pub started_ms: Option<u64>,
    pub finished_ms: Option<u64>,
    pub error: Option<String>,
    pub result: Option<Answer>,
    /// The input's key in the stack's bucket (jobs kept on AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// How many parts the input was cut into (jobs kept on AWS).
    #[serde(default)]
    pub parts: u64,
}

impl Job {
    /// A job just accepted: its input of `bytes` is stored and it waits for a worker.
    pub fn queued(job_id: String, client: String, bytes: u64) -> Self {
        Self {
            job_id,
            client,
            status: Status::Queued,
            bytes,
            progress: 0.0,
            created_ms: now_ms(),
            started_ms: None,
            finished_ms: None,
            error: None,
            result: None,
            input: None,
            parts: 0,
        }
    }

    /// What `GET /jobs/{id}` answers.
    pub fn view(&self) -> serde_json::Value {
        let since = |from: Option<u64>| match (from, self.finished_ms) {
            (Some(from), Some(to)) => Some(to.saturating_sub(from)),
            _ => None,
        };
        serde_json::json!({
            "job_id": self.job_id,
            "client": self.client,
            "status": self.status,
            "bytes": self.bytes,
            "progress": self.progress,
            "created_at": rfc3339(self.created_ms),
            "started_at": self.started_ms.map(rfc3339),
            "finished_at": self.finished_ms.map(rfc3339),
            "execution_ms": since(self.started_ms),
            "lead_ms": since(Some(self.created_ms)),
            "error": self.error,
        })
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// A client id from `X-Client-Id`: 1 to 64 letters, digits, `.`, `_` or `-`.
pub fn client_id(header: Option<&str>) -> Result<String, ClientIdError> {
    let Some(id) = header else {
        return Ok("anonymous".into());
    };
    let ok = !id.is_empty()
        && id.len() <= MAX_CLIENT_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(ClientIdError)
    }
}

/// A client id the service will not take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the X-Client-Id header must be 1 to {MAX_CLIENT_ID} letters, digits, dots, underscores or hyphens"
)]
pub struct ClientIdError;

/// A new job id: 32 lowercase hex digits.
pub fn new_job_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// True for a string shaped like a job id (so it can name a file safely).
pub fn is_job_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests;
