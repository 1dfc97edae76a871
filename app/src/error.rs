//! [`AppError`]: every way a request can fail, with its HTTP status. The client gets
//! `{"error": "..."}`; the log gets the full cause chain.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::queue::QueueError;

/// The largest message SQS accepts, in bytes of UTF-8.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;

/// A request body the service will not send to the queue.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("Content-Type must be application/json, got {0}")]
    ContentType(String),
    #[error("the request body is not valid JSON: {0}")]
    NotJson(String),
    #[error("the request body must be a JSON object like {{\"message\": \"hello\"}}")]
    NotAnObject,
    #[error("the field \"message\" is missing")]
    MissingMessage,
    #[error("the field \"message\" must be a string, got {0}")]
    NotAString(&'static str),
    #[error("the field \"message\" is empty")]
    EmptyMessage,
    #[error("the message is {0} bytes; SQS accepts at most {MAX_MESSAGE_BYTES} bytes")]
    TooLarge(usize),
    #[error("the request body is too large")]
    BodyTooLarge,
    #[error(
        "the message contains the character U+{0:04X}, which SQS does not accept \
         (allowed: tab, newline, carriage return and U+0020 and above, except U+FFFE and U+FFFF)"
    )]
    ForbiddenCharacter(u32),
    #[error("the request body could not be read: {0}")]
    Unreadable(String),
    #[error(
        "the Idempotency-Key header must be 1 to 128 characters of letters, digits and \
         punctuation (no spaces)"
    )]
    IdempotencyKey,
}

impl InputError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::NotJson(_) | Self::NotAnObject | Self::Unreadable(_) | Self::IdempotencyKey => {
                StatusCode::BAD_REQUEST
            }
            Self::MissingMessage
            | Self::NotAString(_)
            | Self::EmptyMessage
            | Self::ForbiddenCharacter(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooLarge(_) | Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("the message queue is unavailable, try again later")]
    QueueUnavailable(#[source] QueueError),
    #[error("the message queue returned an error")]
    QueueFailed(#[source] QueueError),
    #[error("no route for {method} {path}")]
    NoRoute { method: String, path: String },
    #[error("{method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
}

impl From<QueueError> for AppError {
    fn from(err: QueueError) -> Self {
        if err.is_unreachable() {
            Self::QueueUnavailable(err)
        } else {
            Self::QueueFailed(err)
        }
    }
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Input(e) => e.status(),
            Self::QueueUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::QueueFailed(_) => StatusCode::BAD_GATEWAY,
            Self::NoRoute { .. } => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// Renders an error as `{"error": "..."}` with a status, for responses that are not failures of
/// the server (such as an empty queue).
pub fn json_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(serde_json::json!({ "error": message.into() }))).into_response()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::QueueUnavailable(cause) | Self::QueueFailed(cause) = &self {
            tracing::error!(error = %error_chain(cause), "queue call failed");
        }
        json_error(status, self.to_string())
    }
}

/// `outer: inner: innermost`, the way the log should show a cause.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}
