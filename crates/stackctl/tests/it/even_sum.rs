//! The even-sum example end to end on this machine: `up --local` runs its API and workers as
//! their task definitions say, against the emulator; jobs go through the local stand-in for the
//! load balancer, into the stack's bucket and onto its queue; `down --local` empties the bucket
//! and leaves nothing.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{TestStack, stderr, stdout};
use crate::local::app_binary;
use crate::several::example;

/// `count` numbers below 10^12, some negative, and their even sum (exact in an `i128`).
pub fn numbers(seed: u64, count: usize) -> (String, i128) {
    let mut x = seed;
    let (mut text, mut sum) = (String::new(), 0i128);
    for i in 0..count {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let mut n = i128::from((x >> 24) % 1_000_000_000_000);
        if x.is_multiple_of(3) {
            n = -n;
        }
        if n % 2 == 0 {
            sum += n;
        }
        text.push_str(&n.to_string());
        text.push_str(if i % 10 == 9 { "\n" } else { " " });
    }
    (text, sum)
}

pub async fn post(http: &reqwest::Client, url: &str, client: &str, body: String) -> String {
    let response = http
        .post(format!("{url}jobs/even-sum"))
        .header("X-Client-Id", client)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let body: Value = response.json().await.unwrap();
    body["job_id"].as_str().unwrap().to_owned()
}

/// The JSON at `url`.
pub async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

/// Job `id` once finished.
pub async fn finished(http: &reqwest::Client, url: &str, id: &str) -> Value {
    for _ in 0..120 {
        let job = get_json(http, &format!("{url}jobs/{id}")).await;
        if job["status"] == "done" || job["status"] == "failed" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("job {id} never finished (the services' logs say why)");
}

#[tokio::test]
async fn the_even_sum_example_sums_jobs_of_two_clients_and_down_empties_its_bucket() {
    let stack = TestStack::new("evensum", &example("even-sum")).await;
    let app = app_binary();
    let up = stack.run(&["up", "--local", "--yes", "--app-bin", app.to_str().unwrap()]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    let text = stdout(&up);
    let url = text
        .split("The load balancer's rules, here: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no router address in: {text}"))
        .to_owned();

    let http = reqwest::Client::new();
    let (big, big_sum) = numbers(1, 300_000);
    let (small, small_sum) = numbers(2, 500);
    let a = post(&http, &url, "team-a", big.clone()).await;
    let b = post(&http, &url, "team-b", small).await;
    let bad = post(&http, &url, "team-b", "12 34 5x6 8".to_owned()).await;
    for (id, sum, bytes) in [(&a, big_sum, big.len()), (&b, small_sum, 0)] {
        let job = finished(&http, &url, id).await;
        assert_eq!(job["status"], "done", "{job}");
        let result = get_json(&http, &format!("{url}jobs/{id}/result")).await;
        assert_eq!(result["sum"], sum.to_string(), "{job}");
        if bytes > 0 {
            assert_eq!(result["bytes"], bytes as u64);
        }
    }
    let failed = finished(&http, &url, &bad).await;
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("byte 6"),
        "{failed}"
    );

    let down = stack.run(&["down", "--local", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    let status = stack.json(&["status"]);
    assert_eq!(status["resources"], Value::Array(Vec::new()), "{status}");
}
