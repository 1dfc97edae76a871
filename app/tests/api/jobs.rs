//! Even-sum jobs over HTTP in `ENV=devel`: a file in, a job id out, its status and its exact
//! result; every bad input a clear 4xx.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app_on_sqs, spawn_app_with_jobs};

struct Jobs {
    app: TestApp,
    _dir: tempfile::TempDir,
}

async fn jobs(threads: usize) -> Jobs {
    let dir = tempfile::tempdir().unwrap();
    Jobs {
        app: spawn_app_with_jobs(dir.path(), threads).await,
        _dir: dir,
    }
}

impl Jobs {
    async fn post(
        &self,
        client: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        let mut request = self
            .app
            .http
            .post(format!("{}/jobs/even-sum", self.app.address))
            .header("content-type", "text/plain")
            .body(body);
        if let Some(client) = client {
            request = request.header("x-client-id", client);
        }
        request.send().await.unwrap()
    }

    async fn submit(&self, client: &str, body: impl Into<reqwest::Body>) -> String {
        let response = self.post(Some(client), body).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let id = response.json::<Value>().await.unwrap()["job_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(location, format!("/jobs/{id}"));
        id
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .app
            .http
            .get(format!("{}{path}", self.app.address))
            .send()
            .await
            .unwrap();
        (response.status(), response.json().await.unwrap())
    }

    /// The job's status once it is finished.
    async fn finished(&self, id: &str) -> Value {
        for _ in 0..1000 {
            let (status, job) = self.get(&format!("/jobs/{id}")).await;
            assert_eq!(status, StatusCode::OK, "{job}");
            if job["status"] == "done" || job["status"] == "failed" {
                return job;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("job {id} did not finish in 10 s");
    }

    /// The job's result, once it is done (and done, not failed).
    async fn result(&self, id: &str) -> Value {
        let job = self.finished(id).await;
        assert_eq!(job["status"], "done", "{job}");
        let (status, result) = self.get(&format!("/jobs/{id}/result")).await;
        assert_eq!(status, StatusCode::OK, "{result}");
        result
    }
}

#[tokio::test]
async fn a_file_becomes_a_job_with_its_times_and_an_exact_result() {
    let jobs = jobs(2).await;
    let id = jobs.submit("team-a", "1 2 3\r\n-4\t10\n").await;
    let job = jobs.finished(&id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["client"], "team-a");
    assert_eq!(job["bytes"], 13);
    assert_eq!(job["progress"], 1.0);
    for field in ["created_at", "started_at", "finished_at"] {
        assert!(
            job[field].as_str().unwrap().ends_with('Z'),
            "{field}: {job}"
        );
    }
    let (execution, lead) = (job["execution_ms"].as_u64(), job["lead_ms"].as_u64());
    assert!(execution.unwrap() <= lead.unwrap(), "{job}");
    let (status, result) = jobs.get(&format!("/jobs/{id}/result")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        result,
        serde_json::json!({ "sum": "8", "even_count": 3, "numbers": 5, "bytes": 13 })
    );
}

#[tokio::test]
async fn an_input_larger_than_any_message_is_streamed_and_summed_exactly() {
    let jobs = jobs(2).await;
    // 24 MB of "1234567890123456 " (even): 1 MiB was the message body limit.
    let token = "1234567890123456 ";
    let count = 24 * 1024 * 1024 / token.len();
    let id = jobs.submit("big", token.repeat(count)).await;
    let result = jobs.result(&id).await;
    let expected = num_bigint::BigInt::from(1_234_567_890_123_456_u64) * count;
    assert_eq!(result["sum"], expected.to_string());
    assert_eq!(result["numbers"], count);
}

#[tokio::test]
async fn a_token_of_ten_thousand_digits_is_added_exactly() {
    let jobs = jobs(1).await;
    let huge = format!("{}2", "9".repeat(9_999));
    let id = jobs.submit("a", format!("{huge} 2\n")).await;
    let result = jobs.result(&id).await;
    let expected: num_bigint::BigInt = huge.parse::<num_bigint::BigInt>().unwrap() + 2;
    assert_eq!(result["sum"], expected.to_string());
}

#[tokio::test]
async fn an_empty_body_sums_to_zero() {
    let jobs = jobs(1).await;
    let id = jobs.submit("a", "").await;
    assert_eq!(jobs.result(&id).await["sum"], "0");
}

#[tokio::test]
async fn a_body_that_is_not_numbers_fails_its_job_at_the_first_bad_byte() {
    let jobs = jobs(2).await;
    let id = jobs.submit("a", "12 14\n3.5 abc\n").await;
    let job = jobs.finished(&id).await;
    assert_eq!(job["status"], "failed");
    let error = job["error"].as_str().unwrap();
    assert!(error.starts_with("byte 6: \"3.5\""), "{error}");
    let (status, body) = jobs.get(&format!("/jobs/{id}/result")).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].as_str().unwrap().contains("byte 6"), "{body}");
}

#[tokio::test]
async fn bad_requests_are_told_what_is_wrong() {
    let jobs = jobs(1).await;
    let response = jobs.post(Some("a b/../c"), "1").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("X-Client-Id"),
        "{body}"
    );

    let unknown = "0123456789abcdef0123456789abcdef";
    for path in [
        format!("/jobs/{unknown}"),
        format!("/jobs/{unknown}/result"),
        "/jobs/..%2F..%2Fetc".to_owned(),
    ] {
        let (status, body) = jobs.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
    }

    let post_json = |body: &'static str| {
        jobs.app
            .http
            .post(format!("{}/jobs/even-sum", jobs.app.address))
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let outside = post_json(r#"{"s3_uri": "s3://someone-elses/secret.txt"}"#)
        .await
        .unwrap();
    assert_eq!(outside.status(), StatusCode::FORBIDDEN);
    let not_json = post_json("{nope").await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let no_uri = post_json(r#"{"uri": 1}"#).await.unwrap();
    assert_eq!(no_uri.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_result_asked_before_the_job_is_done_is_a_conflict() {
    let jobs = jobs(1).await;
    // One thread and one client: the second job waits for all of the first.
    let first = jobs.submit("a", "2 ".repeat(4 * 1024 * 1024)).await;
    let second = jobs.submit("a", "4").await;
    let (status, body) = jobs.get(&format!("/jobs/{second}/result")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body["error"].as_str().unwrap().contains("queued"), "{body}");
    jobs.finished(&first).await;
    assert_eq!(jobs.finished(&second).await["status"], "done");
}

#[tokio::test]
async fn outside_devel_jobs_are_refused_with_why() {
    let (app, _) = spawn_app_on_sqs(Duration::from_secs(1)).await;
    let response = app
        .http
        .post(format!("{}/jobs/even-sum", app.address))
        .body("1 2")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_IMPLEMENTED);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("ENV=devel"),
        "{body}"
    );
}
