//! `stackctl completions <shell>`: print a completion script generated from the CLI definition.

use std::io::Write as _;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> ExitCode {
    let mut command = Cli::command();
    // Made whole first, then written: a reader that stops early (`| head`) closes the pipe,
    // which is not an error of ours (clap_complete panics when writing to it).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "stackctl", &mut script);
    match std::io::stdout().lock().write_all(&script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    }
}
