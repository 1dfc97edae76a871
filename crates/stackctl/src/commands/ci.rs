//! `stackctl ci`: load the pipeline, then list or run it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::ci::{Pipeline, PipelineResult, RunOptions};
use crate::cli::CiArgs;
use crate::output::{Format, Printer, Report};

pub async fn run(args: &CiArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let pipeline = match Pipeline::load(file) {
        Ok(pipeline) => pipeline,
        Err(err) => {
            printer.failure(&err.to_string());
            return Ok(ExitCode::from(2));
        }
    };
    if args.list {
        printer.report(&Listed(&pipeline));
        return Ok(ExitCode::SUCCESS);
    }
    // Commands run where the file is, so `stackctl ci -f sub/ci.yml` behaves as in `sub/`.
    let dir = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let options = RunOptions {
        timings: args.timings,
        stdout_to_stderr: printer.format() == Format::Json,
    };
    let result = crate::ci::run(&pipeline, dir, options, printer)
        .await
        .context("while writing the pipeline's output")?;
    if printer.format() == Format::Json {
        printer.report(&Ran(&result));
    }
    Ok(ExitCode::from(u8::try_from(result.exit_code).unwrap_or(1)))
}

/// `ci --json`'s document: the exit code and every stage's result.
#[derive(serde::Serialize)]
#[serde(transparent)]
struct Ran<'a>(&'a PipelineResult);

impl Report for Ran<'_> {
    /// The text run prints as it goes; nothing is left to say at the end.
    fn text(&self) -> String {
        String::new()
    }
}

/// `ci --list`: the stages in order, with their commands.
struct Listed<'a>(&'a Pipeline);

impl serde::Serialize for Listed<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stages: Vec<_> = self
            .0
            .stages
            .iter()
            .map(|s| serde_json::json!({ "name": s.name, "command": s.command }))
            .collect();
        serde_json::json!({ "stages": stages }).serialize(serializer)
    }
}

impl Report for Listed<'_> {
    fn text(&self) -> String {
        let lines: Vec<String> = self
            .0
            .stages
            .iter()
            .enumerate()
            .map(|(i, stage)| format!("{}. {}: {}", i + 1, stage.name, stage.command.trim_end()))
            .collect();
        lines.join("\n")
    }
}
