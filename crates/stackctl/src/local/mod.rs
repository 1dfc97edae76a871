//! `up --local` / `down --local`: the service as the stack's task definition describes it
//! (same environment, same queue URL, same port), run as a process on this machine in place
//! of Fargate, against the local AWS emulator; a stack of several services runs each one and
//! a local router in place of the load balancer ([`several`]). The task definition stays the single source of
//! truth: nothing here repeats the configuration.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

use crate::session::Session;
use anyhow::{Context as _, bail};
use infra::resources::{Detail, Observed};

pub mod router;
pub mod several;

/// Where the local service's PID and log live: `.run/` next to the stack file.
pub struct Files {
    pub pid: PathBuf,
    pub log: PathBuf,
}

impl Files {
    pub fn new(stack_file: &Path, stack: &str) -> Self {
        let base = match stack_file.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let run = base.join(".run");
        Self {
            pid: run.join(format!("local-{stack}.pid")),
            log: run.join(format!("local-{stack}.log")),
        }
    }
}

/// `--local` only ever talks to an emulator on this machine.
pub fn require_emulator() -> anyhow::Result<String> {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost") => {
            Ok(url)
        }
        _ => bail!(
            "--local runs the service on this machine against the local AWS emulator, and AWS_ENDPOINT_URL \
             does not point at one: run `scripts/moto.sh start && eval \"$(scripts/moto.sh env)\"` first \
             (or use scripts/quickstart.sh)"
        ),
    }
}

/// The container's environment and port, read from the task definition AWS has.
pub fn from_task_definition(
    observed: &[Observed],
) -> anyhow::Result<(BTreeMap<String, String>, u16)> {
    let td = observed
        .iter()
        .find_map(|o| match &o.detail {
            Detail::TaskDefinition(td) => Some(td),
            _ => None,
        })
        .context("the stack has no task definition to run")?;
    let port = td
        .port
        .and_then(|p| u16::try_from(p).ok())
        .context("the task definition has no container port")?;
    Ok((td.environment.clone(), port))
}

/// The `app` binary: `--app-bin`, or the one built next to this stackctl.
pub fn app_binary(given: Option<&PathBuf>) -> anyhow::Result<PathBuf> {
    let path = match given {
        Some(path) => path.clone(),
        None => std::env::current_exe()
            .context("cannot find stackctl's own path")?
            .with_file_name("app"),
    };
    if !path.is_file() {
        bail!(
            "the service binary {} does not exist: build it with `cargo build -p app` (into the same target folder as stackctl), or pass --app-bin PATH",
            path.display()
        );
    }
    Ok(path)
}

fn pid_of(files: &Files) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(&files.pid)
        .ok()?
        .trim()
        .parse()
        .ok()?;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).ok()?;
    Some(pid)
}

/// The port the local service listens on: the container's `port`, or, when something else
/// holds it (not this stack's own local service, which `start` replaces), a free one; `true`
/// when it had to move.
pub fn host_port(files: &Files, port: u16) -> anyhow::Result<(u16, bool)> {
    if pid_of(files).is_some() || std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
        return Ok((port, false));
    }
    let free = std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .context("cannot find a free port on 127.0.0.1 for the local service")?;
    Ok((free.port(), true))
}

/// Starts the service detached (it outlives this command) and waits until it answers.
pub async fn start(
    files: &Files,
    app: &Path,
    environment: &BTreeMap<String, String>,
    port: u16,
) -> anyhow::Result<u32> {
    stop(files).await?;
    let launch = Launch {
        program: app,
        args: &[],
        environment,
        health: Some(port),
    };
    launch.start(files).await
}

/// A process to start detached, with what tells it is up.
pub struct Launch<'a> {
    pub program: &'a Path,
    pub args: &'a [String],
    pub environment: &'a BTreeMap<String, String>,
    /// The loopback port whose `/healthcheck` answers once it is up; none: it is up when it
    /// is still running a moment after the start (a worker).
    pub health: Option<u16>,
}

impl Launch<'_> {
    /// Starts it (it outlives this command) and waits until it is up.
    pub async fn start(&self, files: &Files) -> anyhow::Result<u32> {
        let busy = |port| std::net::TcpListener::bind(("127.0.0.1", port)).is_err();
        if let Some(port) = self.health.filter(|p| busy(*p)) {
            bail!(
                "port {port} is in use (it was free a moment ago): stop what uses it, or set \
                 the service's port"
            );
        }
        if let Some(dir) = files.log.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let log = std::fs::File::create(&files.log)
            .with_context(|| format!("cannot create {}", files.log.display()))?;
        let err = log.try_clone()?;
        let child = std::process::Command::new(self.program)
            .args(self.args)
            .envs(self.environment)
            // The task's own settings, plus this shell's way to the emulator (region,
            // endpoint, credentials), which on Fargate come from the task role.
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", self.program.display()))?;
        let pid = child.id();
        std::fs::write(&files.pid, pid.to_string())
            .with_context(|| format!("cannot write {}", files.pid.display()))?;
        self.wait_up(files).await?;
        Ok(pid)
    }

    async fn wait_up(&self, files: &Files) -> anyhow::Result<()> {
        let Some(port) = self.health else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if pid_of(files).is_none() {
                bail!(
                    "{} stopped at once; {}",
                    self.program.display(),
                    log_tail(files)
                );
            }
            return Ok(());
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://127.0.0.1:{port}/healthcheck");
        let client = reqwest::Client::new();
        loop {
            if client
                .get(&url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            if pid_of(files).is_none() || Instant::now() > deadline {
                bail!("the service did not answer {url}; {}", log_tail(files));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The last lines of a process's log, for an error.
fn log_tail(files: &Files) -> String {
    let text = std::fs::read_to_string(&files.log).unwrap_or_default();
    let mut tail: Vec<&str> = text.lines().rev().take(10).collect();
    tail.reverse();
    format!(
        "last lines of {}:\n{}",
        files.log.display(),
        tail.join("\n")
    )
}

/// Stops the local service, if it runs: SIGTERM (it drains in-flight requests), then SIGKILL.
pub async fn stop(files: &Files) -> anyhow::Result<bool> {
    let Some(pid) = pid_of(files) else {
        let _ = std::fs::remove_file(&files.pid);
        return Ok(false);
    };
    let pid = nix::unistd::Pid::from_raw(pid);
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while nix::sys::signal::kill(pid, None).is_ok() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Reap it if it is our child's child no more; a zombie still answers kill(0).
        if std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z ")) {
            break;
        }
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = std::fs::remove_file(&files.pid);
    Ok(true)
}

/// Sends one message and takes it back, through the running service and the stack's queue.
pub async fn exercise(port: u16) -> anyhow::Result<(String, String)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let base = format!("http://127.0.0.1:{port}");
    let sent = client
        .post(format!("{base}/message"))
        .json(&serde_json::json!({ "message": "hello from stackctl up --local" }))
        .send()
        .await
        .context("POST /message")?
        .text()
        .await?;
    let received = client
        .get(format!("{base}/message"))
        .send()
        .await
        .context("GET /message")?
        .text()
        .await?;
    Ok((sent, received))
}

/// `up --local` of the one-service stack: the service runs here as its task definition
/// says, listening on `port` (the container's port unless that was taken), and is exercised.
pub async fn run_one(
    session: &Session,
    file: &Path,
    app_bin: Option<&PathBuf>,
    port: u16,
) -> anyhow::Result<()> {
    let (ctx, printer) = (&session.ctx, &session.printer);
    let observed = infra::engine::remaining(ctx)
        .await
        .context("while reading the task definition back")?
        .found;
    let (mut environment, _) = from_task_definition(&observed)?;
    // As a container runtime maps a host port to the container's: the service reads PORT.
    environment.insert("PORT".into(), port.to_string());
    let app = app_binary(app_bin)?;
    let files = Files::new(file, &ctx.stack);
    let pid = start(&files, &app, &environment, port).await?;
    let (sent, received) = exercise(port).await?;
    printer.line(&format!(
        "\nThe service runs here as the task definition describes it (pid {pid}, log {}):",
        files.log.display()
    ));
    printer.line(&format!("  POST /message -> {}", sent.trim()));
    printer.line(&format!("  GET  /message -> {}", received.trim()));
    printer.line(&format!(
        "\nTry it: curl http://127.0.0.1:{port}/healthcheck"
    ));
    printer.line(&format!(
        "Stop it and remove the stack: {}",
        session.at.command("down --local --yes")
    ));
    Ok(())
}
