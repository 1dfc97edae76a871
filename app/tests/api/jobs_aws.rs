//! Even-sum jobs on the emulator: inputs and records in a bucket, parts on a queue with a
//! dead-letter queue, summed by workers; the API and the workers share nothing but AWS.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use app::even_sum::sum_bytes;
use app::jobs::bucket::BucketStore;
use app::jobs::on_aws::{AwsJobs, Handling};
use app::jobs::part::{Part, PartMessage};
use app::worker::Worker;
use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::Value;

use crate::helpers::{
    TestApp, create_queue, emulator_endpoint, s3_client, spawn_app_with_bucket, sqs_client,
};

/// Small parts, so a test input of a few hundred kilobytes is many parts.
const PART_BYTES: u64 = 16 << 10;

/// A bucket, a queue whose messages reappear after a second and go to a dead-letter queue
/// after `max_receives`, the API on them cutting parts of `part_bytes`, and a worker.
struct Setup {
    app: TestApp,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    bucket: String,
    url: String,
    dlq: String,
}

impl Setup {
    async fn new(max_receives: u32, part_bytes: u64) -> Self {
        let (s3, sqs) = (s3_client().await, sqs_client().await);
        let bucket = format!("app-test-{}", uuid::Uuid::new_v4().simple());
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        let dlq = create_queue(&sqs).await;
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap()
            .attributes
            .unwrap()[&QueueAttributeName::QueueArn]
            .clone();
        let url = create_queue(&sqs).await;
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receives.to_string(),
        });
        sqs.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .attributes(QueueAttributeName::VisibilityTimeout, "1")
            .send()
            .await
            .unwrap();
        let app = spawn_app_with_bucket(&bucket, &url, part_bytes).await;
        Self {
            app,
            s3,
            sqs,
            bucket,
            url,
            dlq,
        }
    }

    fn jobs(&self, s3: aws_sdk_s3::Client) -> AwsJobs {
        AwsJobs::new(
            BucketStore::new(s3, &self.bucket),
            self.sqs.clone(),
            &self.url,
        )
    }

    fn worker(&self) -> Worker {
        self.worker_on(self.s3.clone())
    }

    fn worker_on(&self, s3: aws_sdk_s3::Client) -> Worker {
        Worker::new(self.sqs.clone(), &self.url)
            .with_poll(Duration::from_secs(1))
            .with_jobs(self.jobs(s3))
    }

    /// An S3 client whose calls pass through `interceptor` (an injected failure, a count).
    fn s3_through(
        &self,
        interceptor: impl aws_sdk_s3::config::Intercept + 'static,
    ) -> aws_sdk_s3::Client {
        let config = self
            .s3
            .config()
            .to_builder()
            .interceptor(interceptor)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// A worker whose S3 calls pass through `fault` (an injected failure).
    fn worker_through(&self, fault: impl aws_sdk_s3::config::Intercept + 'static) -> Worker {
        self.worker_on(self.s3_through(fault))
    }

    /// The next part on the queue, taken as a worker would take it (and not deleted).
    async fn take_part(&self) -> Part {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .send()
            .await
            .unwrap();
        PartMessage::parse(out.messages()[0].body().unwrap()).unwrap()
    }

    async fn post(&self, client: &str, body: Vec<u8>) -> String {
        let response = self
            .app
            .http
            .post(format!("{}/jobs/even-sum", self.app.address))
            .header("X-Client-Id", client)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202, "{:?}", response.text().await);
        let body: Value = response.json().await.unwrap();
        body["job_id"].as_str().unwrap().to_owned()
    }

    async fn post_uri(&self, uri: &str) -> reqwest::Response {
        self.app
            .http
            .post(format!("{}/jobs/even-sum", self.app.address))
            .json(&serde_json::json!({ "s3_uri": uri }))
            .send()
            .await
            .unwrap()
    }

    async fn job(&self, id: &str) -> Value {
        let url = format!("{}/jobs/{id}", self.app.address);
        self.app
            .http
            .get(url)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn result(&self, id: &str) -> (u16, Value) {
        let url = format!("{}/jobs/{id}/result", self.app.address);
        let response = self.app.http.get(url).send().await.unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    /// Runs `worker` until job `id` is finished; answers its view.
    async fn run(&self, worker: &Worker, id: &str) -> Value {
        for _ in 0..40 {
            let job = self.job(id).await;
            if job["status"] == "done" || job["status"] == "failed" {
                return job;
            }
            worker.poll_once().await.unwrap();
        }
        panic!("job {id} never finished: {}", self.job(id).await);
    }

    async fn keys(&self, prefix: &str) -> Vec<String> {
        let out = self
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        out.contents()
            .iter()
            .filter_map(|o| o.key.clone())
            .collect()
    }
}

/// About `bytes` of numbers of 1 to 30 digits, some signed, between mixed whitespace.
fn numbers(seed: u64, bytes: usize) -> Vec<u8> {
    let mut x = seed;
    let mut text = Vec::with_capacity(bytes + 40);
    while text.len() < bytes {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let digits = 1 + (x >> 59) as usize;
        let sign = ["", "-", "+", ""][(x >> 20) as usize % 4];
        text.extend_from_slice(sign.as_bytes());
        for i in 0..digits {
            text.push(b'0' + ((x >> (i % 50)) % 10) as u8);
        }
        text.extend_from_slice([" ", "\n", "\t", "\r\n"][(x >> 30) as usize % 4].as_bytes());
    }
    text
}

fn answer(text: &[u8]) -> Value {
    serde_json::to_value(sum_bytes(text).unwrap().answer()).unwrap()
}

#[tokio::test]
async fn an_upload_is_summed_in_parts_by_workers_to_the_exact_sum() {
    let setup = Setup::new(3, 1 << 20).await;
    // Over 8 MiB: the upload is a multipart upload of two parts; the job is ten parts.
    let mut text = numbers(7, 9 << 20);
    text.extend_from_slice(format!(" {} ", "8".repeat(10_000)).as_bytes());
    let id = setup.post("team-a", text.clone()).await;
    let queued = setup.job(&id).await;
    assert_eq!(queued["status"], "queued", "{queued}");
    assert_eq!(queued["bytes"], text.len() as u64);
    assert_eq!(
        setup.result(&id).await.0,
        409,
        "no result before it is done"
    );

    let job = setup.run(&setup.worker(), &id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["progress"], 1.0);
    assert_eq!(job["client"], "team-a");
    assert!(job["execution_ms"].as_u64().is_some() && job["lead_ms"].as_u64().is_some());
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
    // What only the job needed is gone; the record stays.
    assert!(setup.keys(&format!("jobs/{id}/")).await.is_empty());
    assert!(setup.keys("inputs/").await.is_empty());
    assert_eq!(setup.keys("jobs/").await, vec![format!("jobs/{id}.json")]);
}

#[tokio::test]
async fn an_upload_is_stored_as_sent_and_one_cut_off_mid_way_leaves_nothing() {
    let setup = Setup::new(3, PART_BYTES).await;
    let store = BucketStore::new(setup.s3.clone(), &setup.bucket);
    // Three upload parts, the last of 3 bytes, each received while the one before is sent.
    let body: Vec<u8> = (0..(16 << 20) + 3).map(|i| (i % 251) as u8).collect();
    let pieces = |count: usize| {
        body.chunks(1 << 20)
            .take(count)
            .map(|c| Ok::<_, std::io::Error>(bytes::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>()
    };
    let sent = store
        .upload("inputs/whole", futures::stream::iter(pieces(usize::MAX)))
        .await
        .unwrap();
    assert_eq!(sent, body.len() as u64);
    let stored = setup
        .s3
        .get_object()
        .bucket(&setup.bucket)
        .key("inputs/whole")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert!(stored[..] == body[..], "the object is the body");
    // The client goes away in the second upload part, while the first is sent.
    let mut cut = pieces(12);
    cut.push(Err(std::io::Error::other("the client went away")));
    let err = store
        .upload("inputs/cut", futures::stream::iter(cut))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("went away"), "{err}");
    assert_eq!(setup.keys("inputs/cut").await, Vec::<String>::new());
    let open = setup
        .s3
        .list_multipart_uploads()
        .bucket(&setup.bucket)
        .send()
        .await
        .unwrap();
    assert!(open.uploads().is_empty(), "{:?}", open.uploads());
}

#[tokio::test]
async fn an_input_already_in_the_bucket_is_summed_and_nothing_outside_it_is_read() {
    let setup = Setup::new(3, PART_BYTES).await;
    let text = numbers(3, 100_000);
    setup
        .s3
        .put_object()
        .bucket(&setup.bucket)
        .key("uploads/day-1.txt")
        .body(text.clone().into())
        .send()
        .await
        .unwrap();
    let uri = format!("s3://{}/uploads/day-1.txt", setup.bucket);
    let response = setup.post_uri(&uri).await;
    assert_eq!(response.status(), 202);
    let id = response.json::<Value>().await.unwrap()["job_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(setup.run(&setup.worker(), &id).await["status"], "done");
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
    assert_eq!(
        setup.keys("uploads/").await,
        vec!["uploads/day-1.txt"],
        "the client's input is the client's: kept"
    );

    for (uri, status) in [
        (
            "s3://someone-elses-bucket/uploads/day-1.txt".to_owned(),
            403,
        ),
        (format!("s3://{}/jobs/{id}.json", setup.bucket), 403),
        (format!("s3://{}/uploads/missing.txt", setup.bucket), 400),
        ("https://example.com/x".to_owned(), 400),
    ] {
        let response = setup.post_uri(&uri).await;
        assert_eq!(response.status(), status, "{uri}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains(&uri), "{body}");
    }
}

#[tokio::test]
async fn a_bad_token_fails_the_job_with_its_offset_in_any_part() {
    let setup = Setup::new(3, PART_BYTES).await;
    let mut text = numbers(5, 60_000);
    let offset = text.len() - 20_000;
    text[offset..offset + 4].copy_from_slice(b" 1x ");
    let id = setup.post("a", text).await;
    let job = setup.run(&setup.worker(), &id).await;
    assert_eq!(job["status"], "failed");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains(&format!("byte {}", offset + 1)), "{error}");
    let (status, body) = setup.result(&id).await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap().contains("failed"), "{body}");
}

#[tokio::test]
async fn an_input_deleted_mid_job_fails_it_with_the_reason() {
    let setup = Setup::new(3, PART_BYTES).await;
    let id = setup.post("a", numbers(9, 400_000)).await;
    let worker = setup.worker();
    // One receive takes at most ten of the 25 parts.
    worker.poll_once().await.unwrap();
    assert_eq!(setup.job(&id).await["status"], "running");
    setup
        .s3
        .delete_object()
        .bucket(&setup.bucket)
        .key(format!("inputs/{id}"))
        .send()
        .await
        .unwrap();
    let job = setup.run(&worker, &id).await;
    assert_eq!(job["status"], "failed");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("is gone"), "{error}");
}

#[tokio::test]
async fn a_part_redone_after_its_worker_died_is_counted_once() {
    let setup = Setup::new(5, PART_BYTES).await;
    let text = numbers(11, 50_000);
    let id = setup.post("a", text.clone()).await;
    // A worker takes a part, sums it and writes its result, then dies before the delete.
    let part = setup.take_part().await;
    setup
        .jobs(setup.s3.clone())
        .run_part(&part, None)
        .await
        .unwrap();
    // The message comes back after its visibility timeout and is summed again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let job = setup.run(&setup.worker(), &id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}

#[tokio::test]
async fn a_part_handed_out_again_after_its_job_finished_is_dropped_without_its_read() {
    let setup = Setup::new(5, PART_BYTES).await;
    let text = numbers(17, 10_000);
    let id = setup.post("a", text.clone()).await;
    let part = setup.take_part().await;
    assert_eq!(part.parts, 1);
    let jobs = setup.jobs(setup.s3.clone());
    assert_eq!(jobs.run_part(&part, None).await.unwrap(), Handling::Done);
    assert_eq!(setup.job(&id).await["status"], "done");
    // Its message comes back (say its delete was lost) to a worker whose reads of the input
    // never answer: the part is read while the job's record is, and the record says done.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = format!("http://{}", blackhole.local_addr().unwrap());
    let stuck = setup.jobs(setup.s3_through(ranged_reads_to(hole)));
    let again = tokio::time::timeout(Duration::from_secs(5), stuck.run_part(&part, None)).await;
    assert_eq!(again.expect("waited on the read").unwrap(), Handling::Done);
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}

#[tokio::test]
async fn a_part_that_fails_every_attempt_fails_its_job_and_goes_to_the_dead_letter_queue() {
    let setup = Setup::new(2, PART_BYTES).await;
    let id = setup.post("a", numbers(13, 30_000)).await;
    // Reads of the input fail; the records can still be read and written.
    let broken = setup.worker_through(FailRangedReads);
    let job = setup.run(&broken, &id).await;
    assert_eq!(job["status"], "failed");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("dead-letter queue"), "{error}");
    assert!(
        error.contains("injected"),
        "the last attempt's cause is kept: {error}"
    );
    // The message of a part that gave up moves on to the dead-letter queue.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let _ = setup.worker().poll_once().await;
    let moved = setup
        .sqs
        .receive_message()
        .queue_url(&setup.dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap();
    assert!(
        !moved.messages().is_empty(),
        "nothing in the dead-letter queue"
    );
}

/// Fails every ranged read (a part's), as an S3 outage of the input would.
#[derive(Debug)]
struct FailRangedReads;

impl aws_sdk_s3::config::Intercept for FailRangedReads {
    fn name(&self) -> &'static str {
        "FailRangedReads"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        if context.request().headers().contains_key("range") {
            return Err("injected: the input could not be read".into());
        }
        Ok(())
    }
}

/// Counts the SQS calls of one operation (by its `X-Amz-Target`, as SQS's JSON protocol names it).
#[derive(Debug, Clone)]
struct CountCalls {
    target: &'static str,
    seen: Arc<AtomicUsize>,
}

impl aws_sdk_sqs::config::Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_sqs::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_sqs::config::RuntimeComponents,
        _: &mut aws_sdk_sqs::config::ConfigBag,
    ) -> Result<(), aws_sdk_sqs::error::BoxError> {
        let target = context.request().headers().get("x-amz-target");
        if target.is_some_and(|t| t.ends_with(self.target)) {
            self.seen.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_worker_reads_its_queue_s_settings_once_not_once_a_part() {
    let setup = Setup::new(3, PART_BYTES).await;
    let text = numbers(29, 100_000);
    let id = setup.post("a", text.clone()).await;
    let reads = CountCalls {
        target: ".GetQueueAttributes",
        seen: Arc::new(AtomicUsize::new(0)),
    };
    let config = setup
        .sqs
        .config()
        .to_builder()
        .interceptor(reads.clone())
        .build();
    let worker = Worker::new(aws_sdk_sqs::Client::from_conf(config), &setup.url)
        .with_poll(Duration::from_secs(1))
        .with_concurrency(2)
        .with_jobs(setup.jobs(setup.s3.clone()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        worker
            .run_until(async {
                let _ = stopped.await;
            })
            .await
    });
    let mut job = setup.job(&id).await;
    for _ in 0..200 {
        if job["status"] == "done" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        job = setup.job(&id).await;
    }
    let _ = stop.send(());
    let handled = running.await.unwrap();
    assert_eq!(job["status"], "done", "{job}");
    assert!(handled >= 6, "{handled} parts handled");
    // The visibility timeout and the redrive policy, each read once.
    assert_eq!(reads.seen.load(Ordering::SeqCst), 2);
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}

/// Notes each S3 call as what it does: `list`, `delete` (of many), `range` (a ranged read),
/// or its method.
#[derive(Debug, Clone, Default)]
struct NoteS3Calls {
    seen: Arc<std::sync::Mutex<Vec<String>>>,
}

impl aws_sdk_s3::config::Intercept for NoteS3Calls {
    fn name(&self) -> &'static str {
        "NoteS3Calls"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request();
        let uri = request.uri();
        let call = if uri.contains("list-type=") {
            "list".to_owned()
        } else if uri.contains("?delete") {
            "delete".to_owned()
        } else if request.headers().contains_key("range") {
            "range".to_owned()
        } else {
            request.method().to_owned()
        };
        self.seen.lock().unwrap().push(call);
        Ok(())
    }
}

#[tokio::test]
async fn a_one_part_job_lists_its_parts_once_and_reads_nothing_twice() {
    let setup = Setup::new(3, PART_BYTES).await;
    let text = numbers(31, 10_000);
    let id = setup.post("a", text.clone()).await;
    let part = setup.take_part().await;
    let calls = NoteS3Calls::default();
    let jobs = setup.jobs(setup.s3_through(calls.clone()));
    assert_eq!(jobs.run_part(&part, None).await.unwrap(), Handling::Done);
    let mut seen = calls.seen.lock().unwrap().clone();
    seen.sort();
    // The record and the start mark (read, written), the range, the result, the listing that
    // says it is the last, the result and the start read back, the record written, and one
    // delete of what the job leaves.
    assert_eq!(
        seen,
        [
            "GET", "GET", "GET", "PUT", "PUT", "PUT", "delete", "list", "range"
        ]
    );
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}

#[tokio::test]
async fn a_number_longer_than_a_part_and_its_read_ahead_is_summed_once() {
    let setup = Setup::new(3, PART_BYTES).await;
    // 150,000 digits: the part it starts in reads on, range after range, to its end.
    let mut text = numbers(17, 20_000);
    text.extend_from_slice(format!("{}4 ", "7".repeat(149_999)).as_bytes());
    text.extend_from_slice(&numbers(19, 20_000));
    let id = setup.post("a", text.clone()).await;
    let job = setup.run(&setup.worker(), &id).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}

#[tokio::test]
async fn a_part_whose_worker_dies_on_its_last_attempt_fails_its_job_with_why() {
    // One receive only: the first attempt is the last.
    let setup = Setup::new(1, PART_BYTES).await;
    let id = setup.post("a", numbers(23, 30_000)).await;
    // The worker's reads of the input never answer; it is killed while it waits.
    let blackhole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole = format!("http://{}", blackhole.local_addr().unwrap());
    let dying = setup.worker_through(ranged_reads_to(hole));
    let working = tokio::spawn(async move { dying.poll_once().await });
    let mut job = setup.job(&id).await;
    for _ in 0..100 {
        if job["status"] == "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        job = setup.job(&id).await;
    }
    assert_eq!(job["status"], "running", "{job}");
    working.abort();
    // Two visibility timeouts after its start, its silence is taken as the end.
    for _ in 0..100 {
        if job["status"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        job = setup.job(&id).await;
    }
    assert_eq!(job["status"], "failed", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("its worker stopped on every attempt"),
        "{error}"
    );
}

#[tokio::test]
async fn a_job_whose_parts_cannot_be_queued_is_a_502_and_leaves_no_upload() {
    let s3 = s3_client().await;
    let bucket = format!("app-test-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let url = format!("{}/123456789012/no-such-queue", emulator_endpoint());
    let app = spawn_app_with_bucket(&bucket, &url, PART_BYTES).await;
    let response = app
        .http
        .post(format!("{}/jobs/even-sum", app.address))
        .body(numbers(29, 40_000))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 502);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("answered with an error"),
        "{body}"
    );
    let keys = |prefix: &'static str| {
        let s3 = s3.clone();
        let bucket = bucket.clone();
        async move {
            let out = s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .send()
                .await
                .unwrap();
            out.contents()
                .iter()
                .filter_map(|o| o.key.clone())
                .collect::<Vec<_>>()
        }
    };
    assert!(keys("inputs/").await.is_empty(), "the upload is removed");
    let records = keys("jobs/").await;
    assert_eq!(records.len(), 1, "{records:?}");
    let record = s3
        .get_object()
        .bucket(&bucket)
        .key(&records[0])
        .send()
        .await
        .unwrap();
    let record: Value =
        serde_json::from_slice(&record.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(record["status"], "failed");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("could not all be queued"),
        "{record}"
    );
}

/// The client a part's message belongs to.
fn client_of(message: &aws_sdk_sqs::types::Message) -> String {
    let part: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    part["even_sum_part"]["client"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_second_client_s_part_is_handed_out_before_the_first_client_s_backlog() {
    // The queue serves message groups as SQS fair queues do (the emulator wrapper models
    // them): while workers are busy with client a's parts, b's part goes first.
    let setup = Setup::new(3, PART_BYTES).await;
    setup.post("a", numbers(1, 8 * PART_BYTES as usize)).await;
    let receive = |n| {
        setup
            .sqs
            .receive_message()
            .queue_url(&setup.url)
            .max_number_of_messages(n)
            .visibility_timeout(60)
            .send()
    };
    let busy = receive(2).await.unwrap();
    assert_eq!(busy.messages().len(), 2);
    assert!(busy.messages().iter().all(|m| client_of(m) == "a"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    setup.post("b", numbers(2, 1000)).await;
    let next = receive(1).await.unwrap();
    assert_eq!(
        client_of(&next.messages()[0]),
        "b",
        "b's one part before a's backlog"
    );
    let then = receive(1).await.unwrap();
    assert_eq!(
        client_of(&then.messages()[0]),
        "a",
        "then a's backlog again"
    );
}

#[tokio::test]
async fn the_emulator_answers_a_ranged_read_with_those_bytes_as_s3_does() {
    // The emulator wrapper reads only a range's bytes from an object (moto read all of it
    // for each range): the answers must still be S3's.
    let s3 = s3_client().await;
    let bucket = format!("app-test-{}", uuid::Uuid::new_v4().simple());
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let body: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
    s3.put_object()
        .bucket(&bucket)
        .key("k")
        .body(body.clone().into())
        .send()
        .await
        .unwrap();
    let read = |range: Option<&str>| {
        s3.get_object()
            .bucket(&bucket)
            .key("k")
            .set_range(range.map(str::to_owned))
            .send()
    };
    for (range, from, to, content_range) in [
        ("bytes=0-9", 0, 10, Some("bytes 0-9/100000")),
        ("bytes=100-199", 100, 200, Some("bytes 100-199/100000")),
        (
            "bytes=99990-",
            99_990,
            100_000,
            Some("bytes 99990-99999/100000"),
        ),
        (
            "bytes=-7",
            99_993,
            100_000,
            Some("bytes 99993-99999/100000"),
        ),
        (
            "bytes=50000-200000",
            50_000,
            100_000,
            Some("bytes 50000-99999/100000"),
        ),
        ("bytes=0-1,5-6", 0, 100_000, None),
    ] {
        let out = read(Some(range)).await.unwrap();
        assert_eq!(out.content_range(), content_range, "{range}");
        assert_eq!(
            out.content_length(),
            Some(to as i64 - from as i64),
            "{range}"
        );
        let bytes = out.body.collect().await.unwrap().into_bytes();
        assert!(bytes[..] == body[from..to], "{range}");
    }
    let whole = read(None).await.unwrap().body.collect().await.unwrap();
    assert!(whole.into_bytes()[..] == body[..]);
    let past_the_end = read(Some("bytes=100000-")).await.unwrap_err();
    assert_eq!(
        past_the_end.into_service_error().meta().code(),
        Some("InvalidRange")
    );
}

/// Where a request goes instead, given its method, URI and whether it reads a range.
type Rewrite = Box<dyn Fn(&str, &str, bool) -> Option<String> + Send + Sync>;

/// Sends the S3 requests `to` picks to the URI it gives: an injected fault.
struct Redirect {
    name: &'static str,
    to: Rewrite,
}

impl std::fmt::Debug for Redirect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl aws_sdk_s3::config::Intercept for Redirect {
    fn name(&self) -> &'static str {
        self.name
    }

    fn modify_before_transmit(
        &self,
        context: &mut aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut<'_>,
        _: &aws_sdk_s3::config::RuntimeComponents,
        _: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        let request = context.request_mut();
        let ranged = request.headers().contains_key("range");
        if let Some(uri) = (self.to)(request.method(), request.uri(), ranged) {
            request.set_uri(uri)?;
        }
        Ok(())
    }
}

/// Every ranged read (a part's) sent to `hole`, an address that never answers.
fn ranged_reads_to(hole: String) -> Redirect {
    Redirect {
        name: "RangedReadsTo",
        to: Box::new(move |_, uri, ranged| {
            let path = uri.split_once("://").map_or("", |(_, rest)| {
                rest.find('/').map_or("", |slash| &rest[slash..])
            });
            ranged.then(|| format!("{hole}{path}"))
        }),
    }
}

/// Reads of a part's result (not the input's ranges) find nothing, as when another worker
/// finished the job and removed its parts between the listing and the read.
fn parts_gone() -> Redirect {
    Redirect {
        name: "PartsGone",
        to: Box::new(|method, uri, _| {
            (method == "GET" && uri.contains("/parts/")).then(|| uri.replace("/parts/", "/gone/"))
        }),
    }
}

#[tokio::test]
async fn a_status_asked_while_another_finishes_the_job_is_an_answer_not_a_502() {
    let setup = Setup::new(3, PART_BYTES).await;
    let text = numbers(31, 3 * PART_BYTES as usize);
    let id = setup.post("a", text.clone()).await;
    // Every part is summed, but each finish finds the parts gone (as if another had
    // finished): the job is left with all its parts done and its record not yet final.
    let gone = setup.s3_through(parts_gone());
    let worker = setup.worker_on(gone.clone());
    let (prefix, parts) = (
        format!("jobs/{id}/parts/"),
        text.len().div_ceil(PART_BYTES as usize),
    );
    for _ in 0..40 {
        if setup.keys(&prefix).await.len() == parts {
            break;
        }
        worker.poll_once().await.unwrap();
    }
    assert_eq!(setup.keys(&prefix).await.len(), parts, "every part is done");
    let status = setup.jobs(gone).status(&id).await;
    let job = status.expect("an answer, not an error").expect("the job");
    assert_eq!(format!("{:?}", job.status), "Running");
    // Read as it is, the parts finish the job.
    assert_eq!(setup.job(&id).await["status"], "done");
    assert_eq!(setup.result(&id).await, (200, answer(&text)));
}
