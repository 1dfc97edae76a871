//! Shared fixtures: an SQS client for the local emulator and `spawn_app` on port 0.

use std::time::Duration;

use app::config::{Config, LogFormat, QueueConfig};
use app::queue::{Queue, SqsQueue};
use app::startup::Application;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};

/// The emulator's endpoint. Emulator tests must not silently pass without one, nor reach AWS.
pub fn emulator_endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost") => {
            url
        }
        Ok(url) => panic!("AWS_ENDPOINT_URL={url} is not a loopback emulator; refusing to run"),
        Err(_) => panic!(
            "AWS_ENDPOINT_URL is not set: start the emulator with `scripts/moto.sh start` and \
             `eval \"$(scripts/moto.sh env)\"`, or run the whole suite with `scripts/test.sh`"
        ),
    }
}

/// An SQS client for the emulator with fixed test credentials.
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    sqs_client_at(&emulator_endpoint()).await
}

pub async fn sqs_client_at(endpoint: &str) -> aws_sdk_sqs::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    aws_sdk_sqs::Client::new(&config)
}

/// A fresh queue with a unique name, so tests never share messages.
pub async fn create_queue(sqs: &aws_sdk_sqs::Client) -> String {
    let name = format!("app-test-{}", uuid::Uuid::new_v4().simple());
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .expect("create a test queue in the emulator")
        .queue_url
        .expect("queue url")
}

pub struct TestApp {
    pub address: String,
    pub http: reqwest::Client,
}

impl TestApp {
    pub async fn post_message(&self, message: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/message", self.address))
            .json(&serde_json::json!({ "message": message }))
            .send()
            .await
            .expect("POST /message")
    }

    pub async fn get_message(&self) -> reqwest::Response {
        self.http
            .get(format!("{}/message", self.address))
            .send()
            .await
            .expect("GET /message")
    }
}

fn test_config(environment: &str, queue: QueueConfig, wait: Duration) -> Config {
    Config {
        port: 0,
        environment: environment.into(),
        queue,
        receive_wait: wait,
        log_format: LogFormat::Text,
        jobs: None,
        worker_concurrency: 10,
    }
}

async fn spawn(config: Config, queue: Queue) -> TestApp {
    let app = Application::build_with_queue(&config, queue)
        .await
        .expect("bind port 0");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        http: reqwest::Client::new(),
    }
}

/// The service in `ENV=devel` with even-sum jobs kept in `dir`, summed on `threads` threads.
pub async fn spawn_app_with_jobs(dir: &std::path::Path, threads: usize) -> TestApp {
    let wait = Duration::from_millis(10);
    let mut config = test_config("devel", QueueConfig::InMemory, wait);
    config.jobs = Some(app::config::JobsConfig::Local {
        dir: dir.to_owned(),
        threads,
    });
    spawn(config, Queue::Memory(app::queue::MemoryQueue::new(wait))).await
}

/// The service with even-sum jobs in `bucket`, parts of `part_bytes` sent to the queue `url`.
pub async fn spawn_app_with_bucket(bucket: &str, url: &str, part_bytes: u64) -> TestApp {
    let wait = Duration::from_millis(10);
    let mut config = test_config("test", QueueConfig::Sqs { url: url.into() }, wait);
    config.jobs = Some(app::config::JobsConfig::Bucket {
        name: bucket.into(),
        part_bytes,
    });
    let queue = Queue::Sqs(SqsQueue::new(sqs_client().await, url, wait));
    spawn(config, queue).await
}

/// An S3 client for the emulator (buckets by path, as the emulator serves them).
pub async fn s3_client() -> aws_sdk_s3::Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator_endpoint())
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .load()
        .await;
    let s3 = aws_sdk_s3::config::Builder::from(&config)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// The service on a new emulator queue; returns the app and the queue URL.
pub async fn spawn_app_on_sqs(wait: Duration) -> (TestApp, String) {
    let sqs = sqs_client().await;
    let url = create_queue(&sqs).await;
    let queue = Queue::Sqs(SqsQueue::new(sqs, url.clone(), wait));
    let config = test_config("test", QueueConfig::Sqs { url: url.clone() }, wait);
    (spawn(config, queue).await, url)
}

/// The service on an SQS client of the caller's (e.g. one pointing at a closed port).
pub async fn spawn_app_with_client(client: aws_sdk_sqs::Client, url: &str) -> TestApp {
    let wait = Duration::from_secs(1);
    let queue = Queue::Sqs(SqsQueue::new(client, url, wait));
    spawn(
        test_config("test", QueueConfig::Sqs { url: url.into() }, wait),
        queue,
    )
    .await
}
