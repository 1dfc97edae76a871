//! `POST /message` sends to the queue; `GET /message` takes one message off it.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::{AppError, InputError, MAX_MESSAGE_BYTES, json_error};
use crate::state::AppState;

/// Checks the content type and body of `POST /message` and returns the message text.
pub fn parse_message(content_type: Option<&str>, body: &[u8]) -> Result<String, InputError> {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => {}
        Some(other) => return Err(InputError::ContentType(format!("{other:?}"))),
        None => return Err(InputError::ContentType("no Content-Type".into())),
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| InputError::NotJson(e.to_string()))?;
    let serde_json::Value::Object(mut fields) = value else {
        return Err(InputError::NotAnObject);
    };
    let message = match fields.remove("message") {
        None => return Err(InputError::MissingMessage),
        Some(serde_json::Value::String(s)) => s,
        Some(other) => return Err(InputError::NotAString(json_type(&other))),
    };
    if message.is_empty() {
        return Err(InputError::EmptyMessage);
    }
    if message.len() > MAX_MESSAGE_BYTES {
        return Err(InputError::TooLarge(message.len()));
    }
    if let Some(c) = message.chars().find(|c| !sqs_allows(*c)) {
        return Err(InputError::ForbiddenCharacter(u32::from(c)));
    }
    Ok(message)
}

/// The characters SQS accepts in a message body: #x9 | #xA | #xD | #x20 to #xD7FF |
/// #xE000 to #xFFFD | #x10000 to #x10FFFF (a Rust `char` is never a surrogate).
fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..)
}

fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The client's name for this send, if it gave one: what SQS takes as a deduplication id.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, InputError> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| InputError::IdempotencyKey)?;
    let valid = (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic());
    if valid {
        Ok(Some(key))
    } else {
        Err(InputError::IdempotencyKey)
    }
}

#[derive(Debug, Serialize)]
struct Sent {
    message_id: String,
}

#[derive(Debug, Serialize)]
struct Received {
    message: String,
    message_id: String,
}

pub async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, AppError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            InputError::BodyTooLarge
        } else {
            InputError::Unreadable(rejection.body_text())
        }
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("(not text)"));
    let message = parse_message(content_type, &body)?;
    let key = idempotency_key(&headers)?;
    let message_id = state.queue.send(&message, key).await?;
    Ok(Json(Sent { message_id }).into_response())
}

pub async fn receive_message(State(state): State<AppState>) -> Result<Response, AppError> {
    match state.queue.receive().await? {
        Some(m) => Ok(Json(Received {
            message: m.body,
            message_id: m.id,
        })
        .into_response()),
        None => Ok(json_error(StatusCode::NOT_FOUND, "the queue is empty")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: Option<&str> = Some("application/json");

    #[test]
    fn accepts_a_message_and_content_type_parameters() {
        assert_eq!(
            parse_message(JSON, br#"{"message":"hello"}"#),
            Ok("hello".into())
        );
        assert_eq!(
            parse_message(
                Some("Application/JSON; charset=utf-8"),
                br#"{"message":"hi","x":1}"#
            ),
            Ok("hi".into())
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let cases: &[(Option<&str>, &[u8], InputError)] = &[
            (
                None,
                b"{}",
                InputError::ContentType("no Content-Type".into()),
            ),
            (
                Some("text/plain"),
                b"{}",
                InputError::ContentType("\"text/plain\"".into()),
            ),
            (JSON, b"[1]", InputError::NotAnObject),
            (JSON, b"{}", InputError::MissingMessage),
            (
                JSON,
                br#"{"message": 5}"#,
                InputError::NotAString("a number"),
            ),
            (
                JSON,
                br#"{"message": null}"#,
                InputError::NotAString("null"),
            ),
            (JSON, br#"{"message": ""}"#, InputError::EmptyMessage),
            (
                JSON,
                br#"{"message": "a\u0000b"}"#,
                InputError::ForbiddenCharacter(0),
            ),
        ];
        for (ct, body, want) in cases {
            assert_eq!(
                parse_message(*ct, body).as_ref(),
                Err(want),
                "{ct:?} {body:?}"
            );
        }
        assert!(matches!(
            parse_message(JSON, b"{not json"),
            Err(InputError::NotJson(_))
        ));
    }

    #[test]
    fn the_size_limit_is_sqs_s_in_bytes() {
        let at_limit = "é".repeat(MAX_MESSAGE_BYTES / 2);
        let body = serde_json::json!({ "message": at_limit }).to_string();
        assert!(parse_message(JSON, body.as_bytes()).is_ok());
        let over = format!("{at_limit}x");
        let body = serde_json::json!({ "message": over }).to_string();
        assert_eq!(
            parse_message(JSON, body.as_bytes()),
            Err(InputError::TooLarge(MAX_MESSAGE_BYTES + 1))
        );
    }

    #[test]
    fn every_input_error_is_a_4xx() {
        for err in [
            InputError::ContentType(String::new()),
            InputError::NotJson(String::new()),
            InputError::NotAnObject,
            InputError::MissingMessage,
            InputError::NotAString("null"),
            InputError::EmptyMessage,
            InputError::TooLarge(0),
            InputError::BodyTooLarge,
            InputError::ForbiddenCharacter(0),
            InputError::Unreadable(String::new()),
        ] {
            assert!(err.status().is_client_error(), "{err}");
        }
    }
}
