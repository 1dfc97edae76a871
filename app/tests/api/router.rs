//! The router in-process (no sockets): every status code the API documents.

use std::time::Duration;

use app::queue::{MemoryQueue, Queue, SqsQueue};
use app::startup::{AppState, router};
use aws_sdk_sqs::operation::receive_message::{ReceiveMessageError, ReceiveMessageOutput};
use aws_sdk_sqs::operation::send_message::SendMessageError;
use aws_sdk_sqs::types::error::QueueDoesNotExist;
use aws_smithy_mocks::{mock, mock_client};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;

fn memory_state() -> AppState {
    AppState {
        environment: "devel".into(),
        queue: Queue::Memory(MemoryQueue::new(Duration::ZERO)),
        jobs: None,
    }
}

async fn call(state: &AppState, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    assert_eq!(
        content_type.as_ref().and_then(|v| v.to_str().ok()),
        Some("application/json"),
        "every response is JSON (status {status})"
    );
    (status, serde_json::from_slice(&bytes).unwrap())
}

fn post(content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post("/message");
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    request.body(body.into()).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::get(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn healthcheck_reports_up_with_the_environment_and_an_rfc1123_date() {
    let (status, body) = call(&memory_state(), get("/healthcheck")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "up");
    assert_eq!(body["environment"], "devel");
    let datetime = body["datetime"].as_str().unwrap();
    assert!(datetime.ends_with(" GMT"), "{datetime}");
    httpdate::parse_http_date(datetime).expect("RFC 1123 date");
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["datetime", "environment", "status"]);
}

#[tokio::test]
async fn post_then_get_returns_the_same_message_and_id_once() {
    let state = memory_state();
    let (status, sent) = call(
        &state,
        post(Some("application/json"), r#"{ "message": "hello" }"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let id = sent["message_id"].as_str().unwrap().to_owned();

    let (status, received) = call(&state, get("/message")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        received,
        serde_json::json!({ "message": "hello", "message_id": id })
    );

    let (status, empty) = call(&state, get("/message")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(empty["error"], "the queue is empty");
}

#[tokio::test]
async fn bad_input_gets_a_4xx_naming_the_problem() {
    let json = Some("application/json");
    let big = serde_json::json!({ "message": "x".repeat(256 * 1024 + 1) }).to_string();
    let huge = vec![b' '; 2 * 1024 * 1024];
    let cases: Vec<(Request<Body>, StatusCode, &str)> = vec![
        (
            post(json, "{not json"),
            StatusCode::BAD_REQUEST,
            "not valid JSON",
        ),
        (post(json, "[]"), StatusCode::BAD_REQUEST, "JSON object"),
        (
            post(Some("text/plain"), r#"{"message":"hi"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            post(None, r#"{"message":"hi"}"#),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type",
        ),
        (
            post(json, r#"{"text":"hi"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing",
        ),
        (
            post(json, r#"{"message":42}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "must be a string",
        ),
        (
            post(json, r#"{"message":""}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty",
        ),
        (
            post(json, big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "at most 262144 bytes",
        ),
        (post(json, huge), StatusCode::PAYLOAD_TOO_LARGE, "too large"),
        (get("/nope"), StatusCode::NOT_FOUND, "no route"),
        (
            Request::delete("/message").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "not allowed",
        ),
    ];
    let state = memory_state();
    for (request, want_status, want_text) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, body) = call(&state, request).await;
        assert_eq!(status, want_status, "{what}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(
            error.contains(want_text),
            "{what}: {error:?} should mention {want_text:?}"
        );
    }
    // Nothing bad reached the queue.
    assert_eq!(call(&state, get("/message")).await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_error_answer_from_sqs_is_a_502_without_internals() {
    let send = mock!(aws_sdk_sqs::Client::send_message).then_error(|| {
        SendMessageError::QueueDoesNotExist(QueueDoesNotExist::builder().message("gone").build())
    });
    let receive = mock!(aws_sdk_sqs::Client::receive_message)
        .then_error(|| ReceiveMessageError::unhandled("boom"));
    let client = mock_client!(aws_sdk_sqs, [&send, &receive]);
    let state = AppState {
        environment: "prod".into(),
        queue: Queue::Sqs(SqsQueue::new(
            client,
            "https://sqs.invalid/1/q",
            Duration::ZERO,
        )),
        jobs: None,
    };

    let (status, body) = call(
        &state,
        post(Some("application/json"), r#"{"message":"hi"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(body["error"], "the message queue returned an error");

    let (status, _) = call(&state, get("/message")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_received_message_is_returned_with_its_sqs_id() {
    let receive = mock!(aws_sdk_sqs::Client::receive_message).then_output(|| {
        ReceiveMessageOutput::builder()
            .messages(
                aws_sdk_sqs::types::Message::builder()
                    .message_id("id-1")
                    .receipt_handle("rh-1")
                    .body("hello")
                    .build(),
            )
            .build()
    });
    let delete = mock!(aws_sdk_sqs::Client::delete_message)
        .match_requests(|r| r.receipt_handle() == Some("rh-1"))
        .then_output(|| {
            aws_sdk_sqs::operation::delete_message::DeleteMessageOutput::builder().build()
        });
    let client = mock_client!(aws_sdk_sqs, [&receive, &delete]);
    let state = AppState {
        environment: "prod".into(),
        queue: Queue::Sqs(SqsQueue::new(
            client,
            "https://sqs.invalid/1/q",
            Duration::ZERO,
        )),
        jobs: None,
    };
    let (status, body) = call(&state, get("/message")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({ "message": "hello", "message_id": "id-1" })
    );
    assert_eq!(
        delete.num_calls(),
        1,
        "the message is deleted once delivered"
    );
}

fn sqs_state(client: aws_sdk_sqs::Client, url: &str) -> AppState {
    AppState {
        environment: "prod".into(),
        queue: Queue::Sqs(SqsQueue::new(client, url, Duration::ZERO)),
        jobs: None,
    }
}

fn post_with_key(key: &str) -> Request<Body> {
    Request::post("/message")
        .header(header::CONTENT_TYPE, "application/json")
        .header("Idempotency-Key", key)
        .body(Body::from(r#"{"message":"hi"}"#))
        .unwrap()
}

#[tokio::test]
async fn a_fifo_queue_gets_a_deduplication_id_the_clients_key_or_a_fresh_one() {
    use aws_sdk_sqs::operation::send_message::SendMessageOutput;
    let keyed = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|r| {
            r.message_deduplication_id() == Some("order-42")
                && r.message_group_id() == Some(app::queue::MESSAGE_GROUP)
        })
        .then_output(|| SendMessageOutput::builder().message_id("m1").build());
    let client = mock_client!(aws_sdk_sqs, [&keyed]);
    let state = sqs_state(client, "https://sqs.invalid/1/q.fifo");
    let (status, body) = call(&state, post_with_key("order-42")).await;
    assert_eq!(
        (status, body["message_id"].as_str()),
        (StatusCode::OK, Some("m1"))
    );
    assert_eq!(keyed.num_calls(), 1);

    let fresh = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|r| {
            r.message_deduplication_id()
                .is_some_and(|id| uuid::Uuid::parse_str(id).is_ok())
        })
        .then_output(|| SendMessageOutput::builder().message_id("m2").build());
    let client = mock_client!(aws_sdk_sqs, [&fresh]);
    let state = sqs_state(client, "https://sqs.invalid/1/q.fifo");
    let (status, _) = call(
        &state,
        post(Some("application/json"), r#"{"message":"hi"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fresh.num_calls(), 1);

    // A standard queue takes neither.
    let plain = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|r| {
            r.message_deduplication_id().is_none() && r.message_group_id().is_none()
        })
        .then_output(|| SendMessageOutput::builder().message_id("m3").build());
    let client = mock_client!(aws_sdk_sqs, [&plain]);
    let state = sqs_state(client, "https://sqs.invalid/1/q");
    let (status, _) = call(&state, post_with_key("order-43")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(plain.num_calls(), 1);
}

#[tokio::test]
async fn a_bad_idempotency_key_is_a_400_and_nothing_is_sent() {
    let state = memory_state();
    for key in ["", "has space", &"k".repeat(129)] {
        let (status, body) = call(&state, post_with_key(key)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key:?}");
        assert!(body["error"].as_str().unwrap().contains("Idempotency-Key"));
    }
    assert_eq!(call(&state, get("/message")).await.0, StatusCode::NOT_FOUND);
}
