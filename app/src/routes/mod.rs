//! HTTP handlers and the request validation they share.

mod health;
mod message;

pub use health::healthcheck;
pub use message::{InputError, MAX_MESSAGE_BYTES, parse_message, receive_message, send_message};
