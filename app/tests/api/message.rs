//! The real service against the emulator's SQS.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aws_sdk_sqs::config::retry::RetryConfig;
use futures::StreamExt;
use reqwest::StatusCode;

use crate::helpers::{
    self, emulator_endpoint, spawn_app_on_sqs, spawn_app_with_client, sqs_client, sqs_client_at,
};

#[tokio::test]
async fn post_then_get_returns_the_same_text_and_id() {
    let (app, queue_url) = spawn_app_on_sqs(Duration::from_secs(1)).await;
    let response = app.post_message("hello").await;
    assert_eq!(response.status(), StatusCode::OK);
    let sent: serde_json::Value = response.json().await.unwrap();
    let id = sent["message_id"].as_str().unwrap().to_owned();

    // The message is really in SQS (checked through the API, not through the service).
    let sqs = helpers::sqs_client().await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    let count = attrs.attributes().unwrap()
        [&aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessages]
        .clone();
    assert_eq!(count, "1");

    let response = app.get_message().await;
    assert_eq!(response.status(), StatusCode::OK);
    let received: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        received,
        serde_json::json!({ "message": "hello", "message_id": id })
    );
}

#[tokio::test]
async fn two_hundred_concurrent_messages_are_each_received_exactly_once() {
    let (app, _) = spawn_app_on_sqs(Duration::from_secs(1)).await;
    let sent: HashSet<(String, String)> = futures::stream::iter(0..200)
        .map(|i| {
            let app = &app;
            async move {
                let text = format!("message {i}");
                let response = app.post_message(&text).await;
                assert_eq!(response.status(), StatusCode::OK);
                let body: serde_json::Value = response.json().await.unwrap();
                (body["message_id"].as_str().unwrap().to_owned(), text)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert_eq!(sent.len(), 200);

    // Ten concurrent consumers drain the queue until each sees it empty.
    let received: Vec<(String, String)> = futures::stream::iter(0..10)
        .map(|_| {
            let app = &app;
            async move {
                let mut got = Vec::new();
                loop {
                    let response = app.get_message().await;
                    if response.status() == StatusCode::NOT_FOUND {
                        return got;
                    }
                    assert_eq!(response.status(), StatusCode::OK);
                    let body: serde_json::Value = response.json().await.unwrap();
                    got.push((
                        body["message_id"].as_str().unwrap().to_owned(),
                        body["message"].as_str().unwrap().to_owned(),
                    ));
                }
            }
        })
        .buffer_unordered(10)
        .flat_map(futures::stream::iter)
        .collect()
        .await;
    assert_eq!(received.len(), 200, "no message twice, none lost");
    assert_eq!(received.into_iter().collect::<HashSet<_>>(), sent);
}

#[tokio::test]
async fn an_empty_queue_answers_404_within_the_wait() {
    let (app, _) = spawn_app_on_sqs(Duration::from_secs(1)).await;
    let started = Instant::now();
    let response = app.get_message().await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "the queue is empty");
    // 1 s of long polling, with generous slack: the point is that it does not hang.
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[tokio::test]
async fn bad_input_against_the_real_service_is_a_4xx_and_sends_nothing() {
    let (app, _) = spawn_app_on_sqs(Duration::ZERO).await;
    let url = format!("{}/message", app.address);
    let big = serde_json::json!({ "message": "x".repeat(256 * 1024 + 1) }).to_string();
    let cases: Vec<(Option<&str>, String, StatusCode)> = vec![
        (
            Some("application/json"),
            "{oops".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            Some("text/plain"),
            r#"{"message":"hi"}"#.into(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            Some("application/json"),
            "{}".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("application/json"),
            r#"{"message":["hi"]}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Some("application/json"),
            r#"{"message":""}"#.into(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (Some("application/json"), big, StatusCode::PAYLOAD_TOO_LARGE),
    ];
    for (content_type, body, want) in cases {
        let mut request = app.http.post(&url).body(body.clone());
        if let Some(ct) = content_type {
            request = request.header("content-type", ct);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), want, "{content_type:?} {:.60}", body);
        let json: serde_json::Value = response.json().await.unwrap();
        assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert_eq!(app.get_message().await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_unreachable_queue_is_a_503_and_a_missing_queue_a_502() {
    // Nothing listens on the discard port of loopback: the connection is refused.
    let unreachable = helpers::sqs_client_at("http://127.0.0.1:9").await;
    let unreachable = unreachable
        .config()
        .to_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let app = helpers::spawn_app_with_client(
        aws_sdk_sqs::Client::from_conf(unreachable),
        "http://127.0.0.1:9/000000000000/q",
    )
    .await;
    let response = app.post_message("hi").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        app.get_message().await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );

    let endpoint = helpers::emulator_endpoint();
    let app = helpers::spawn_app_with_client(
        helpers::sqs_client().await,
        &format!(
            "{endpoint}/123456789012/no-such-queue-{}",
            uuid::Uuid::new_v4().simple()
        ),
    )
    .await;
    let response = app.post_message("hi").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "the message queue returned an error");
}

/// Lost `SendMessage` answers (the SDK then sends again) make no second copy on a FIFO queue:
/// every send carries a deduplication id, and a client that retries a failed POST with the
/// same `Idempotency-Key` is deduplicated too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_queue_delivers_each_message_once_though_send_answers_are_lost() {
    let direct = sqs_client().await;
    let name = format!("app-test-{}.fifo", uuid::Uuid::new_v4().simple());
    let url = direct
        .create_queue()
        .queue_name(name)
        .attributes(aws_sdk_sqs::types::QueueAttributeName::FifoQueue, "true")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let config = awsfront::Config {
        upstream: emulator_endpoint(),
        scale: None,
        faults: Some(
            "seed=3,rate=0.3,kinds=lost,calls=SendMessage"
                .parse()
                .unwrap(),
        ),
        log: false,
    };
    let front = awsfront::Front::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let app = spawn_app_with_client(sqs_client_at(&front.endpoint()).await, &url).await;

    const SENT: usize = 40;
    for i in 0..SENT {
        let key = format!("message-{i}");
        // A client that got no good answer sends again, with the same key.
        let mut tries = 0;
        loop {
            tries += 1;
            let response = app
                .http
                .post(format!("{}/message", app.address))
                .header("Idempotency-Key", &key)
                .json(&serde_json::json!({ "message": format!("body {i}") }))
                .send()
                .await
                .unwrap();
            if response.status().is_success() {
                break;
            }
            assert!(tries < 10, "message {i} never got through");
        }
    }
    let lost = front
        .entries()
        .iter()
        .filter(|e| e.fault == Some(awsfront::Fault::Lost))
        .count();
    assert!(lost > 0, "no answer was lost");

    let mut bodies = Vec::new();
    loop {
        let out = direct
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        for m in messages {
            bodies.push(m.body.unwrap_or_default());
            direct
                .delete_message()
                .queue_url(&url)
                .receipt_handle(m.receipt_handle.unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    let expected: Vec<String> = (0..SENT).map(|i| format!("body {i}")).collect();
    assert_eq!(
        bodies, expected,
        "each once, in order ({lost} answers lost)"
    );
}
