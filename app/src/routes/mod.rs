//! HTTP handlers and the request validation they share.

mod health;
mod jobs;
mod message;

pub use crate::error::{InputError, MAX_MESSAGE_BYTES};
pub use health::healthcheck;
pub use jobs::{JobsError, job_result, job_status, submit_even_sum};
pub use message::{parse_message, receive_message, send_message};
