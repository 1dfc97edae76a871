//! Running the built `stackctl` binary in a scratch directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn stackctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_stackctl"))
}

/// A temporary directory holding one file of the test's own.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.file(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A stack of its own for one test: a unique name, a scratch directory with its stack.toml,
/// and AWS clients (on the emulator) to check what stackctl did, independently of stackctl.
pub struct TestStack {
    pub name: String,
    pub scratch: Scratch,
    pub aws: infra::Context,
    /// Where stackctl sends its calls, when not straight to the emulator (an awsfront).
    pub endpoint: Option<String>,
    /// Extra environment for stackctl.
    pub env: Vec<(String, String)>,
}

/// The emulator's endpoint; emulator tests refuse to run against anything else.
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

impl TestStack {
    /// `body` is the stack file after the `[stack]` table (which names the stack).
    pub async fn new(label: &str, body: &str) -> Self {
        let name = format!(
            "t{}-{label}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let scratch = Scratch::new();
        let stack = Self {
            name: name.clone(),
            scratch,
            aws: aws_context(&name).await,
            endpoint: None,
            env: Vec::new(),
        };
        stack.write(body);
        stack
    }

    pub fn write(&self, body: &str) {
        self.scratch.write(
            "stack.toml",
            &format!("[stack]\nname = \"{}\"\n{body}", self.name),
        );
    }

    /// stackctl in the stack's directory, against the emulator, with no stdin.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = stackctl();
        command
            .args(args)
            .current_dir(self.scratch.path())
            .env(
                "AWS_ENDPOINT_URL",
                self.endpoint.clone().unwrap_or_else(emulator_endpoint),
            )
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env_remove("STACKCTL_REGISTRY")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(std::process::Stdio::null());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs a command that must succeed and returns its stdout parsed as JSON.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.push("--json");
        let output = self.run(&all);
        assert!(
            output.status.success(),
            "stackctl {args:?} failed: {}\n{}",
            stderr(&output),
            stdout(&output)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&output)))
    }
}

/// An awsfront in front of the emulator: AWS's timings at `scale`, and `faults` if given.
pub async fn front(scale: Option<f64>, faults: Option<&str>) -> awsfront::Front {
    let config = awsfront::Config {
        upstream: emulator_endpoint(),
        scale,
        faults: faults.map(|f| f.parse().unwrap()),
        log: std::env::var_os("AWSFRONT_LOG").is_some(),
    };
    awsfront::Front::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// The mutating AWS calls a `--json` answer reports.
pub fn mutating_calls(answer: &serde_json::Value) -> Vec<String> {
    answer["aws_calls"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|op| !infra::CallCounts::is_read(op))
        .cloned()
        .collect()
}

pub async fn aws_context(stack: &str) -> infra::Context {
    use aws_config::{BehaviorVersion, Region};
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(emulator_endpoint())
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    infra::Context::from_config(stack, "us-east-1", &config)
}
