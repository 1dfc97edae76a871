//! `stackctl ci`: load the pipeline, then list or run it.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::ci::{Pipeline, RunOptions};
use crate::cli::CiArgs;
use crate::output::Printer;

pub async fn run(args: &CiArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let pipeline = match Pipeline::load(&args.file) {
        Ok(pipeline) => pipeline,
        Err(err) => {
            printer.error(&err.to_string());
            return Ok(ExitCode::from(2));
        }
    };
    if args.list {
        for (i, stage) in pipeline.stages.iter().enumerate() {
            printer.line(&format!(
                "{}. {}: {}",
                i + 1,
                stage.name,
                stage.command.trim_end()
            ));
        }
        return Ok(ExitCode::SUCCESS);
    }
    // Commands run where the file is, so `stackctl ci -f sub/ci.yml` behaves as in `sub/`.
    let dir = match args.file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let options = RunOptions {
        timings: args.timings,
    };
    let code = crate::ci::run(&pipeline, dir, options, printer)
        .await
        .context("while writing the pipeline's output")?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
