//! Runs a pipeline's stages one after the other through `sh -c`, stopping at the first failure.
//!
//! Each stage runs in its own process group, so a timeout, Ctrl-C or SIGTERM can stop the
//! stage's whole process tree (pipes, background jobs), not just the shell.

use std::io;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Child;
use tokio::signal::unix::{SignalKind, signal};

use super::spec::{Pipeline, Stage};
use crate::output::Printer;

/// Exit code of a stage that ran over its `timeout`, as `timeout(1)` uses.
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// How long a stopped stage gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Print each stage's duration after its result line.
    pub timings: bool,
    /// Send the stages' stdout to stderr, so that stdout carries only stackctl's JSON.
    pub stdout_to_stderr: bool,
}

/// How one stage went, for `ci --json`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageResult {
    pub name: String,
    /// `success`, `failed` or `skipped` (after an earlier failure).
    pub result: &'static str,
    /// The exit code stackctl reports for it (absent when skipped).
    pub exit_code: Option<i32>,
    pub seconds: f64,
}

/// A whole run: stackctl's exit code and each stage's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PipelineResult {
    pub exit_code: i32,
    pub stages: Vec<StageResult>,
}

/// How a stage ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StageEnd {
    Success,
    /// Failed with this exit code for stackctl.
    Failed(i32),
}

/// Runs every stage of `pipeline` in `dir`, saying what it does through `printer`; returns
/// the exit code for stackctl: 0 when all succeeded, else the failing command's code (1 if a
/// signal killed it, 124 on timeout, 128+N when stackctl itself got signal N).
pub async fn run(
    pipeline: &Pipeline,
    dir: &Path,
    options: RunOptions,
    printer: &Printer,
) -> io::Result<PipelineResult> {
    let mut signals = Signals {
        interrupt: signal(SignalKind::interrupt())?,
        terminate: signal(SignalKind::terminate())?,
    };
    let mut stages = Vec::new();
    let mut exit_code = 0;
    for stage in &pipeline.stages {
        if exit_code != 0 {
            stages.push(StageResult {
                name: stage.name.clone(),
                result: "skipped",
                exit_code: None,
                seconds: 0.0,
            });
            continue;
        }
        printer.line(&format!("Running stage \"{}\"", stage.name));
        let started = Instant::now();
        let end = run_stage(stage, dir, &mut signals, options, printer).await;
        printer.line(match end {
            StageEnd::Success => "Success!",
            StageEnd::Failed(_) => "Failed!",
        });
        if options.timings {
            printer.line(&format!(
                "Stage \"{}\" took {}",
                stage.name,
                format_duration(started.elapsed())
            ));
        }
        let code = match end {
            StageEnd::Success => 0,
            StageEnd::Failed(code) => code,
        };
        stages.push(StageResult {
            name: stage.name.clone(),
            result: if code == 0 { "success" } else { "failed" },
            exit_code: Some(code),
            seconds: started.elapsed().as_secs_f64(),
        });
        if code != 0 {
            printer.line("Skipping all other stages and exiting.");
            exit_code = code;
        }
    }
    if exit_code == 0 {
        printer.line("All stages completed!");
    }
    Ok(PipelineResult { exit_code, stages })
}

/// The signals that stop a stage, listened to for the whole run.
struct Signals {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

async fn run_stage(
    stage: &Stage,
    dir: &Path,
    signals: &mut Signals,
    options: RunOptions,
    printer: &Printer,
) -> StageEnd {
    let mut child = match spawn(stage, dir, options) {
        Ok(child) => child,
        Err(err) => {
            printer.note(&format!(
                "stackctl: stage \"{}\": cannot start sh: {err}",
                stage.name
            ));
            return StageEnd::Failed(127);
        }
    };
    let timeout = async {
        match stage.timeout {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        status = child.wait() => match status {
            Ok(status) => end_of(status),
            Err(err) => {
                printer.note(&format!(
                    "stackctl: stage \"{}\": lost track of the command: {err}",
                    stage.name
                ));
                stop_group(&mut child).await;
                StageEnd::Failed(1)
            }
        },
        () = timeout => {
            printer.note(&format!(
                "stackctl: stage \"{}\" timed out after {}; stopping it",
                stage.name,
                format_duration(stage.timeout.unwrap_or_default())
            ));
            stop_group(&mut child).await;
            StageEnd::Failed(TIMEOUT_EXIT_CODE)
        }
        _ = signals.interrupt.recv() => {
            printer.note(&format!("stackctl: interrupted; stopping stage \"{}\"", stage.name));
            stop_group(&mut child).await;
            StageEnd::Failed(128 + Signal::SIGINT as i32)
        }
        _ = signals.terminate.recv() => {
            printer.note(&format!("stackctl: terminated; stopping stage \"{}\"", stage.name));
            stop_group(&mut child).await;
            StageEnd::Failed(128 + Signal::SIGTERM as i32)
        }
    }
}

/// The stage's command in its own process group, with no stdin (stages are not interactive:
/// a read from the terminal would stop a background group).
fn spawn(stage: &Stage, dir: &Path, options: RunOptions) -> io::Result<Child> {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(&stage.command)
        .current_dir(dir)
        .envs(&stage.env)
        .stdin(Stdio::null())
        .process_group(0);
    if options.stdout_to_stderr {
        use std::os::fd::AsFd;
        if let Ok(stderr) = std::io::stderr().as_fd().try_clone_to_owned() {
            command.stdout(Stdio::from(stderr));
        }
    }
    command.spawn()
}

fn end_of(status: ExitStatus) -> StageEnd {
    match status.code() {
        Some(0) => StageEnd::Success,
        Some(code) => StageEnd::Failed(code),
        // Killed by a signal: there is no exit code to pass on.
        None => StageEnd::Failed(1),
    }
}

/// SIGTERM to the stage's process group, SIGKILL to whatever is left after the grace period.
async fn stop_group(child: &mut Child) {
    let Some(pgid) = child.id().and_then(|id| i32::try_from(id).ok()) else {
        return; // already reaped
    };
    let group = Pid::from_raw(pgid);
    let _ = killpg(group, Signal::SIGTERM);
    let _ = tokio::time::timeout(STOP_GRACE, child.wait()).await;
    // The shell may be gone while children that ignore SIGTERM live on in its group.
    let _ = killpg(group, Signal::SIGKILL);
    let _ = child.wait().await;
}

fn format_duration(d: Duration) -> String {
    format!("{:.2}s", d.as_secs_f64())
}
