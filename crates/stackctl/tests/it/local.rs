//! `up --local` / `down --local`, and the README's quick start command and its stop command.

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sqs::types::QueueAttributeName;

use crate::helpers::{TestStack, emulator_endpoint, stderr, stdout};
use crate::stack::inventory;

/// The service binary next to stackctl, built once per test run (a binary left by an older
/// build may lack a mode the tests use). Built as the workspace, as the scripts build it, and
/// without cargo's test-process variables: `-p app` alone resolves other features, and an
/// inherited `CARGO_MANIFEST_DIR` (watched by a dependency's build script) made every suite
/// in a fresh clone compile the AWS SDK again, minutes on two cores.
pub fn app_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    let app = Path::new(env!("CARGO_BIN_EXE_stackctl")).with_file_name("app");
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command.args(["build", "--workspace", "--locked"]);
        without_cargo_test_variables(&mut command);
        let built = command.status().unwrap();
        assert!(built.success(), "cargo build --workspace");
    });
    app
}

/// Removes the variables cargo sets for a test process (`CARGO_MANIFEST_DIR` among them),
/// keeping where to build and where cargo lives.
fn without_cargo_test_variables(command: &mut Command) {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_") && !matches!(&*name, "CARGO_TARGET_DIR" | "CARGO_HOME") {
            command.env_remove(&*name);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn queued(stack: &TestStack, queue: &str) -> String {
    let url = stack
        .aws
        .sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let attrs = stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap();
    attrs.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessages].clone()
}

#[tokio::test]
async fn up_local_runs_the_service_as_the_task_definition_says_and_down_local_stops_it() {
    let port = free_port();
    let stack = TestStack::new(
        "local",
        &format!("[service]\nport = {port}\nenvironment = {{ ENV = \"local-test\" }}\n"),
    )
    .await;
    let app = app_binary();
    let up = stack.run(&["up", "--local", "--yes", "--app-bin", app.to_str().unwrap()]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    let text = stdout(&up);
    assert!(
        text.contains(r#"GET  /message -> {"message":"hello from stackctl up --local""#),
        "{text}"
    );

    // The service answers with the task definition's environment...
    let health: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/healthcheck"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["environment"], "local-test");
    // ...and through the stack's own queue: a posted message waits in it, seen through SQS.
    let queue = format!("{}-messages", stack.name);
    let sent = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/message"))
        .json(&serde_json::json!({ "message": "through the queue" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert_eq!(queued(&stack, &queue).await, "1");
    let got: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/message"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["message"], "through the queue");

    let down = stack.run(&["down", "--local", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(
        stderr(&down).contains("Stopped the local service"),
        "{}",
        stderr(&down)
    );
    assert!(
        reqwest::get(format!("http://127.0.0.1:{port}/healthcheck"))
            .await
            .is_err(),
        "nothing listens any more"
    );
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}

/// A taken port is found before anything is created: the service listens on a free one
/// instead, says so, and the task definition keeps the stack's port.
#[tokio::test]
async fn a_taken_port_moves_the_local_service_to_a_free_one_and_says_so() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let stack = TestStack::new("busy", &format!("[service]\nport = {port}\n")).await;
    let output = stack
        .command(&["up", "--local", "--yes", "--app-bin"])
        .arg(app_binary())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(
        err.contains(&format!("Port {port} (service.port) is in use here")),
        "{err}"
    );
    let text = stdout(&output);
    let url = text
        .split("Try it: curl ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap()
        .to_owned();
    assert!(!url.contains(&format!(":{port}/")), "{url}");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    let td = stack
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(&stack.name)
        .send()
        .await
        .unwrap();
    let container_port = td.task_definition().unwrap().container_definitions()[0].port_mappings()
        [0]
    .container_port();
    assert_eq!(
        container_port,
        Some(i32::from(port)),
        "the task definition keeps it"
    );
    let down = stack.run(&["down", "--local", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    drop(taken);
}

#[tokio::test]
async fn up_local_refuses_anything_but_a_local_emulator() {
    let stack = TestStack::new("notlocal", "").await;
    let output = stack
        .command(&["up", "--local", "--yes"])
        .env("AWS_ENDPOINT_URL", "https://sqs.us-east-1.amazonaws.com")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output)
            .contains("--local runs the service on this machine against the local AWS emulator"),
        "{}",
        stderr(&output)
    );
}

/// The quick start as a user runs it: without the variables cargo sets for a test process
/// (`CARGO_MANIFEST_DIR` among them, which a dependency's build script watches: inherited by
/// the script's `cargo build`, it would make cargo compile the AWS SDK again).
fn quickstart(script: &Path) -> Command {
    let mut command = Command::new("bash");
    command.arg(script);
    without_cargo_test_variables(&mut command);
    command
}

/// The README's two quick start commands, as a newcomer runs them.
#[tokio::test]
async fn the_quick_start_command_and_its_stop_command() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/quickstart.sh");
    let _ = emulator_endpoint();
    let start = quickstart(&script).output().unwrap();
    assert!(
        start.status.success(),
        "{}\n{}",
        stderr(&start),
        stdout(&start)
    );
    let text = stdout(&start);
    assert!(
        text.contains(r#"GET  /message -> {"message":"hello from stackctl up --local""#),
        "{text}"
    );
    assert!(
        text.contains("queue_url") && text.contains("/messages-messages"),
        "status is printed: {text}"
    );
    // 5000, or the free port it moved to when 5000 is taken on this machine.
    let url = text
        .split("Try it: curl ")
        .nth(1)
        .and_then(|rest| rest.lines().next())
        .unwrap_or_else(|| panic!("no `Try it` line: {text}"))
        .to_owned();
    let health = reqwest::get(&url).await.unwrap();
    assert_eq!(health.status(), 200);
    // How to get `stackctl` on PATH, and the stop command.
    assert!(
        text.contains("cargo install --path crates/stackctl --locked"),
        "{text}"
    );
    assert!(
        text.contains("Stop the services and remove the stack: scripts/quickstart.sh stop\n"),
        "{text}"
    );

    let stop = quickstart(&script).arg("stop").output().unwrap();
    assert!(
        stop.status.success(),
        "{}\n{}",
        stderr(&stop),
        stdout(&stop)
    );
    assert!(reqwest::get(&url).await.is_err(), "the service is stopped");
    let stack = TestStack {
        name: "messages".into(),
        scratch: crate::helpers::Scratch::new(),
        aws: crate::helpers::aws_context("messages").await,
        endpoint: None,
        env: Vec::new(),
    };
    assert_eq!(
        inventory(&stack).await,
        Vec::<String>::new(),
        "nothing tagged stackctl:stack=messages is left"
    );
}
