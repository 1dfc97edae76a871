//! The two other modes against the emulator: `app worker` consumes a queue and reports each
//! message's execution and lead time; `app frontend` posts its form to a backend by URL.

use std::time::Duration;

use app::frontend::Frontend;
use app::worker::Worker;

use crate::helpers::{create_queue, spawn_app_on_sqs, sqs_client};

async fn send(sqs: &aws_sdk_sqs::Client, url: &str, bodies: &[&str]) {
    for body in bodies {
        sqs.send_message()
            .queue_url(url)
            .message_body(*body)
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_worker_handles_each_message_once_and_times_it() {
    let sqs = sqs_client().await;
    let url = create_queue(&sqs).await;
    send(&sqs, &url, &[r#"{"work_ms": 120}"#, "plain text", "third"]).await;
    let worker = Worker::new(sqs.clone(), &url).with_poll(Duration::from_secs(1));
    let mut handled = Vec::new();
    for _ in 0..5 {
        handled.extend(worker.poll_once().await.unwrap());
        if handled.len() == 3 {
            break;
        }
    }
    assert_eq!(handled.len(), 3, "{handled:?}");
    let slowest = handled
        .iter()
        .map(|h| h.execution_ms)
        .fold(0.0_f64, f64::max);
    assert!(slowest >= 120.0, "the job of 120 ms took {slowest} ms");
    for h in &handled {
        let lead = h.lead_ms.expect("SQS says when it stored the message");
        assert!(
            lead >= h.execution_ms - 1.0,
            "lead {lead} < execution {}",
            h.execution_ms
        );
    }
    // Deleted: nothing comes back.
    assert!(worker.poll_once().await.unwrap().is_empty());
}

/// A fresh queue whose messages reappear after `secs` seconds unless kept hidden.
async fn queue_with_visibility(sqs: &aws_sdk_sqs::Client, secs: u32) -> String {
    let url = create_queue(sqs).await;
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::VisibilityTimeout,
            secs.to_string(),
        )
        .send()
        .await
        .unwrap();
    url
}

#[tokio::test]
async fn a_job_longer_than_the_visibility_timeout_runs_once() {
    let sqs = sqs_client().await;
    let url = queue_with_visibility(&sqs, 2).await;
    send(
        &sqs,
        &url,
        &[r#"{"work_ms": 4500}"#, r#"{"work_ms": 4000}"#],
    )
    .await;
    let first = Worker::new(sqs.clone(), &url).with_poll(Duration::from_secs(1));
    let mut handled = Vec::new();
    // The first worker takes both in one receive; the second starts asking once they are
    // taken and keeps asking past twice the timeout.
    let second = Worker::new(sqs.clone(), &url).with_poll(Duration::from_secs(1));
    let thief = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut taken = Vec::new();
        for _ in 0..6 {
            taken.extend(second.poll_once().await.unwrap());
        }
        taken
    };
    let working = async {
        while handled.len() < 2 {
            handled.extend(first.poll_once().await.unwrap());
        }
    };
    let (taken, ()) = tokio::join!(thief, working);
    assert!(taken.is_empty(), "a held message ran twice: {taken:?}");
    assert_eq!(handled.len(), 2, "{handled:?}");
    assert!(
        handled.iter().all(|h| h.execution_ms >= 4000.0),
        "{handled:?}"
    );
}

#[tokio::test]
async fn a_worker_stops_when_told_and_says_how_many_it_handled() {
    let sqs = sqs_client().await;
    let url = create_queue(&sqs).await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("one")
        .send()
        .await
        .unwrap();
    let worker = Worker::new(sqs, &url).with_poll(Duration::from_secs(1));
    let handled = worker
        .run_until(tokio::time::sleep(Duration::from_millis(2500)))
        .await;
    assert_eq!(handled, 1);
}

async fn serve_frontend(backend: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let router = Frontend::new(backend).router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

#[tokio::test]
async fn the_frontend_posts_its_form_to_the_backend_by_url() {
    let (backend, url) = spawn_app_on_sqs(Duration::from_secs(1)).await;
    let front = serve_frontend(&backend.address).await;
    let http = reqwest::Client::new();
    let page = http.get(&front).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<form"));
    let sent = http
        .post(&front)
        .form(&[("message", "two <coffees>")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("Sent: order"));
    let got = sqs_client()
        .await
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert_eq!(got.messages()[0].body(), Some("two <coffees>"));
}

#[tokio::test]
async fn an_unreachable_backend_is_a_502_page_that_says_so() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let backend = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let front = serve_frontend(&backend).await;
    let answer = reqwest::Client::new()
        .post(&front)
        .form(&[("message", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 502);
    assert!(answer.text().await.unwrap().contains("cannot be reached"));
}

/// How many of the queue's messages are in some worker's hands.
async fn in_hand(sqs: &aws_sdk_sqs::Client, url: &str) -> u32 {
    let not_visible = aws_sdk_sqs::types::QueueAttributeName::ApproximateNumberOfMessagesNotVisible;
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(not_visible.clone())
        .send()
        .await
        .unwrap();
    out.attributes().unwrap()[&not_visible].parse().unwrap()
}

/// [`in_hand`] once it has reached `count`, or after five seconds.
async fn in_hand_once(sqs: &aws_sdk_sqs::Client, url: &str, count: u32) -> u32 {
    for _ in 0..100 {
        if in_hand(sqs, url).await >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    in_hand(sqs, url).await
}

/// Sends every `DeleteMessage` to an address that never answers.
#[derive(Debug)]
struct DeletesTo(String);

impl aws_sdk_sqs::config::Intercept for DeletesTo {
    fn name(&self) -> &'static str {
        "DeletesTo"
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_sqs::config::RuntimeComponents,
        _: &mut aws_sdk_sqs::config::ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let request = context.request_mut();
        let target = request.headers().get("x-amz-target");
        if target.is_some_and(|t| t.ends_with(".DeleteMessage")) {
            request.set_uri(self.0.as_str())?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_worker_takes_the_next_message_while_the_last_one_is_deleted() {
    let sqs = sqs_client().await;
    let url = create_queue(&sqs).await;
    send(&sqs, &url, &["first", "second"]).await;
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = format!("http://{}/", blackhole.local_addr().unwrap());
    let config = sqs
        .config()
        .to_builder()
        .interceptor(DeletesTo(hole))
        .build();
    let worker = Worker::new(aws_sdk_sqs::Client::from_conf(config), &url)
        .with_poll(Duration::from_secs(1))
        .with_concurrency(1);
    let running = tokio::spawn(async move { worker.run_until(std::future::pending()).await });
    // One slot, and the first message's delete never answers: its work is done, so the slot
    // takes the second.
    assert_eq!(in_hand_once(&sqs, &url, 2).await, 2);
    running.abort();
}

#[tokio::test]
async fn a_busy_worker_takes_no_more_than_it_has_slots_for_and_finishes_them_on_shutdown() {
    let sqs = sqs_client().await;
    let url = create_queue(&sqs).await;
    send(
        &sqs,
        &url,
        &[r#"{"work_ms": 1500}"#, r#"{"work_ms": 1500}"#],
    )
    .await;
    let busy = Worker::new(sqs.clone(), &url)
        .with_poll(Duration::from_secs(1))
        .with_concurrency(1);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let busy = tokio::spawn(async move {
        busy.run_until(async {
            let _ = stopped.await;
        })
        .await
    });
    // Once it holds a message, it is told to stop: the job in hand is finished, not dropped.
    assert_eq!(
        in_hand_once(&sqs, &url, 1).await,
        1,
        "it took one message, not both"
    );
    let _ = stop.send(());
    // The second message was left on the queue for another worker.
    let other = Worker::new(sqs.clone(), &url).with_poll(Duration::from_secs(1));
    assert_eq!(other.poll_once().await.unwrap().len(), 1);
    assert_eq!(busy.await.unwrap(), 1, "the job in hand was finished");
    assert!(other.poll_once().await.unwrap().is_empty(), "both deleted");
}
