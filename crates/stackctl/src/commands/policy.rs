//! `stackctl policy`: the IAM policy a principal needs to run stackctl on this stack, made
//! from the stack file without calling AWS (see docs/permissions.md).

use std::path::Path;
use std::process::ExitCode;

use infra::policy::{Command, Document};
use serde::Serialize;

use crate::cli::{PolicyArgs, PolicyFor};
use crate::output::{Printer, Report};

/// The document, as IAM takes it, in both output modes.
#[derive(Debug, Serialize)]
#[serde(transparent)]
struct Policy(Document);

impl Report for Policy {
    fn text(&self) -> String {
        serde_json::to_string_pretty(&self.0)
            .unwrap_or_else(|e| format!("{{\"error\": \"cannot write the policy: {e}\"}}"))
    }
}

/// The commands `--for` names, each once.
pub fn commands(wanted: &[PolicyFor]) -> Vec<Command> {
    let mut out: Vec<Command> = wanted
        .iter()
        .flat_map(|w| match w {
            PolicyFor::Plan => vec![Command::Plan],
            PolicyFor::Status => vec![Command::Status],
            PolicyFor::Up => vec![Command::Up],
            PolicyFor::Down => vec![Command::Down],
            PolicyFor::Logs => vec![Command::Logs],
            PolicyFor::History => vec![Command::History],
            PolicyFor::All => Command::ALL.to_vec(),
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

pub fn run(args: &PolicyArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = crate::stack_file::load(file)?;
    let document = infra::policy::document(&spec, &commands(&args.commands));
    printer.report(&Policy(document));
    Ok(ExitCode::SUCCESS)
}
