//! With IAM enforced: stackctl runs as a user that holds exactly what `stackctl policy` prints.
//!
//! Each test starts a moto of its own with `INITIAL_NO_AUTH_ACTION_COUNT=3`: the first three
//! requests make an administrator (user, policy, access key); every later one is checked
//! against its caller's policies, and a denial is a real `AccessDenied`. moto judges actions
//! (and the resources it names: SQS queues, IAM roles); see scripts/moto_server.py.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_sdk_sqs::config::Credentials;

use crate::helpers::{TestStack, stderr, stdout};

/// The free requests: the administrator's user, policy and access key.
const FREE_REQUESTS: &str = "3";

/// A moto of this test's own, with IAM enforced.
struct Enforced {
    child: Child,
    endpoint: String,
    /// Clients that act as the administrator (any action).
    admin: aws_config::SdkConfig,
}

impl Drop for Enforced {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn config(endpoint: &str, key: &str, secret: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key, secret, None, None, "tests"))
        .load()
        .await
}

impl Enforced {
    async fn start() -> Self {
        let python = root().join(".venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `scripts/moto.sh install`",
            python.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(python)
            .arg(root().join("scripts/moto_server.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("INITIAL_NO_AUTH_ACTION_COUNT", FREE_REQUESTS)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        let anyone = aws_sdk_iam::Client::new(&config(&endpoint, "test", "test").await);
        let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let (key, secret) = user(&anyone, "admin", everything).await;
        let admin = config(&endpoint, &key, &secret).await;
        Self {
            child,
            endpoint,
            admin,
        }
    }

    fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.admin)
    }

    /// Points `stack`'s stackctl at this moto as the user `key` belongs to.
    fn run_as(&self, stack: &mut TestStack, (key, secret): &(String, String)) {
        stack.endpoint = Some(self.endpoint.clone());
        stack.env = vec![
            ("AWS_ACCESS_KEY_ID".into(), key.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), secret.clone()),
        ];
    }
}

/// Makes a user holding `policy` (inline) and returns its access key: three requests.
async fn user(iam: &aws_sdk_iam::Client, name: &str, policy: &str) -> (String, String) {
    iam.create_user().user_name(name).send().await.unwrap();
    put_policy(iam, name, policy).await;
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .unwrap();
    let key = key.access_key().unwrap();
    (
        key.access_key_id().to_owned(),
        key.secret_access_key().to_owned(),
    )
}

async fn put_policy(iam: &aws_sdk_iam::Client, user: &str, policy: &str) {
    iam.put_user_policy()
        .user_name(user)
        .policy_name("stackctl")
        .policy_document(policy)
        .send()
        .await
        .unwrap();
}

/// What `stackctl policy` prints for the stack (it calls no AWS).
fn policy(stack: &TestStack) -> serde_json::Value {
    let output = stack.run(&["policy"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `policy` without `action`, which it must hold.
fn without(mut policy: serde_json::Value, action: &str) -> serde_json::Value {
    let mut found = false;
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let actions = statement["Action"].as_array_mut().unwrap();
        let before = actions.len();
        actions.retain(|a| a != action);
        found |= actions.len() < before;
    }
    assert!(found, "the policy has no {action}");
    policy
}

fn succeeds(stack: &TestStack, args: &[&str]) -> String {
    let output = stack.run(args);
    assert!(
        output.status.success(),
        "stackctl {args:?} as the deployer failed:\n{}\n{}",
        stderr(&output),
        stdout(&output)
    );
    stdout(&output)
}

/// plan, up, status and down as a user with exactly the stack's policy.
async fn the_whole_life_with_its_policy(body: &str) {
    the_whole_life_on(&Enforced::start().await, body).await;
}

async fn the_whole_life_on(moto: &Enforced, body: &str) {
    let mut stack = TestStack::new("iam", body).await;
    let document = policy(&stack);
    let deployer = user(&moto.iam(), "deployer", &document.to_string()).await;
    moto.run_as(&mut stack, &deployer);

    // The user is held to its policy: an action outside it is denied.
    let as_deployer = config(&moto.endpoint, &deployer.0, &deployer.1).await;
    let denied = aws_sdk_iam::Client::new(&as_deployer)
        .list_users()
        .send()
        .await
        .unwrap_err();
    assert!(format!("{denied:?}").contains("AccessDenied"), "{denied:?}");

    succeeds(&stack, &["plan", "--image", "nginx:1.27"]);
    succeeds(&stack, &["up", "--yes", "--image", "nginx:1.27"]);
    let status = stack.json(&["status"]);
    assert!(
        status["unread"].as_array().is_none_or(Vec::is_empty),
        "{status}"
    );
    let again = stack.json(&["up", "--yes", "--image", "nginx:1.27"]);
    assert!(crate::helpers::mutating_calls(&again).is_empty(), "{again}");
    // The policy lets alarms' tags be read in bulk: no alarm is asked for its own.
    assert!(
        again["aws_calls"]
            .get("CloudWatch:ListTagsForResource")
            .is_none(),
        "{again}"
    );
    succeeds(&stack, &["down", "--yes"]);
    let after = stack.json(&["status"]);
    assert_eq!(
        after["resources"].as_array().map(Vec::len),
        Some(0),
        "{after}"
    );
}

#[tokio::test]
async fn the_default_stack_with_a_service_runs_on_exactly_its_policy() {
    the_whole_life_with_its_policy("").await;
}

#[tokio::test]
async fn several_services_with_alarms_autoscaling_and_a_bucket_run_on_exactly_their_policy() {
    the_whole_life_with_its_policy(
        r#"
[queues.jobs]
[buckets.data]
expire_after_days = 3
[services.api]
kind = "web"
port = 5000
sends_to = ["jobs"]
[services.api.autoscaling]
max = 3
cpu = 60
[services.worker]
kind = "worker"
consumes = ["jobs"]
writes = ["data"]
[services.inner]
kind = "internal"
port = 8080
[alarms]
notify = "ops@example.com"
"#,
    )
    .await;
}

#[tokio::test]
async fn a_domain_with_its_certificate_and_records_runs_on_exactly_its_policy() {
    let moto = Enforced::start().await;
    aws_sdk_route53::Client::new(&moto.admin)
        .create_hosted_zone()
        .name("iam.example")
        .caller_reference("iam")
        .send()
        .await
        .unwrap();
    let body = "[service]\ndomain = \"api.iam.example\"\n";
    // Without the right to write records, the certificate cannot be validated: named.
    let mut short = TestStack::new("iam-dns", body).await;
    let missing = "route53:ChangeResourceRecordSets";
    let document = without(policy(&short), missing);
    let writer = user(&moto.iam(), "no-dns", &document.to_string()).await;
    moto.run_as(&mut short, &writer);
    let output = short.run(&["up", "--yes", "--image", "nginx:1.27"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains(missing), "{}", stderr(&output));

    the_whole_life_on(&moto, body).await;
}

#[tokio::test]
async fn one_action_missing_is_named_and_the_full_policy_then_finishes_the_stack() {
    let moto = Enforced::start().await;
    let mut stack = TestStack::new("iam-miss", "").await;
    let full = policy(&stack);
    let missing = "ecs:CreateService";
    let short = without(full.clone(), missing);
    let deployer = user(&moto.iam(), "deployer", &short.to_string()).await;
    moto.run_as(&mut stack, &deployer);

    let output = stack.run(&["up", "--yes", "--image", "nginx:1.27"]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert!(err.contains(missing), "{err}");
    assert!(err.contains("`stackctl policy` prints"), "{err}");

    // A queue of another stack is out of the policy's reach, even to read.
    let admin_sqs = aws_sdk_sqs::Client::new(&moto.admin);
    let other = admin_sqs
        .create_queue()
        .queue_name("other-jobs")
        .send()
        .await
        .unwrap();
    let as_deployer = config(&moto.endpoint, &deployer.0, &deployer.1).await;
    let read = aws_sdk_sqs::Client::new(&as_deployer)
        .get_queue_attributes()
        .queue_url(other.queue_url().unwrap())
        .send()
        .await;
    assert!(format!("{read:?}").contains("AccessDenied"), "{read:?}");

    put_policy(&moto.iam(), "deployer", &full.to_string()).await;
    succeeds(&stack, &["up", "--yes", "--image", "nginx:1.27"]);
    let status = stack.json(&["status"]);
    assert_eq!(status["services"][0]["running"], 1, "{status}");
    succeeds(&stack, &["down", "--yes"]);
}

/// Every statement of the inline policies of role `role`, as one policy document.
async fn role_policy(iam: &aws_sdk_iam::Client, role: &str) -> serde_json::Value {
    let statements = crate::several::inline_statements(iam, role).await;
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
}

/// An `app` process, stopped when dropped.
struct App(Child);

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the app as the user `key` belongs to, its log in `log`.
fn spawn_app(
    args: &[&str],
    env: &[(&str, &str)],
    (key, secret): &(String, String),
    log: &Path,
) -> App {
    let log = std::fs::File::create(log).unwrap();
    let mut command = Command::new(crate::local::app_binary());
    command
        .args(args)
        .envs(env.iter().copied())
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_REGION", "us-east-1")
        .env("ENV", "prod")
        .env("RUST_LOG", "warn")
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    App(command.spawn().unwrap())
}

/// The even-sum example's API and worker, each as a user holding exactly its task role's
/// policy: a job's upload, records, parts and result all pass, so the roles stackctl makes
/// allow what the services do, and nothing more is needed.
#[tokio::test]
async fn the_even_sum_services_do_their_work_on_exactly_their_task_roles() {
    let moto = Enforced::start().await;
    let mut stack = TestStack::new("iamjobs", &crate::several::example("even-sum")).await;
    let deployer = user(&moto.iam(), "deployer", &policy(&stack).to_string()).await;
    moto.run_as(&mut stack, &deployer);
    succeeds(&stack, &["up", "--yes", "--image", "nginx:1.27"]);

    let iam = moto.iam();
    let api_role = role_policy(&iam, &format!("{}-api-task", stack.name)).await;
    let worker_role = role_policy(&iam, &format!("{}-worker-task", stack.name)).await;
    let as_api = user(&iam, "api", &api_role.to_string()).await;
    let as_worker = user(&iam, "worker", &worker_role.to_string()).await;
    let queue = aws_sdk_sqs::Client::new(&moto.admin)
        .get_queue_url()
        .queue_name(format!("{}-parts", stack.name))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let bucket = format!("{}-jobs", stack.name);
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("S3_BUCKET_JOBS", bucket.as_str()),
        ("SQS_QUEUE_URL", queue.as_str()),
        ("JOB_PART_MIB", "1"),
        ("WORKER_CONCURRENCY", "2"),
        ("PORT", port.as_str()),
    ];
    let logs = std::env::temp_dir().join(&stack.name);
    std::fs::create_dir_all(&logs).unwrap();
    let _api = spawn_app(&[], &env, &as_api, &logs.join("api.log"));
    let _worker = spawn_app(&["worker"], &env, &as_worker, &logs.join("worker.log"));
    let url = format!("http://127.0.0.1:{port}/");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{url}healthcheck")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the API did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Three parts of 1 MiB: upload, record, parts, results, the sum and the clean-up.
    let (text, sum) = crate::even_sum::numbers(5, 250_000);
    let id = crate::even_sum::post(&http, &url, "team-a", text).await;
    let job = crate::even_sum::finished(&http, &url, &id).await;
    assert_eq!(job["status"], "done", "{job} (logs in {})", logs.display());
    let result = crate::even_sum::get_json(&http, &format!("{url}jobs/{id}/result")).await;
    assert_eq!(result["sum"], sum.to_string());

    // The API may not take parts off the queue: its role only sends.
    let as_api = config(&moto.endpoint, &as_api.0, &as_api.1).await;
    let received = aws_sdk_sqs::Client::new(&as_api)
        .receive_message()
        .queue_url(&queue)
        .send()
        .await;
    assert!(
        format!("{received:?}").contains("AccessDenied"),
        "{received:?}"
    );
    succeeds(&stack, &["down", "--yes"]);
}
