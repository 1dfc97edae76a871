//! `stackctl completions <shell>`: print a completion script generated from the CLI definition.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: &CompletionsArgs) -> ExitCode {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "stackctl", &mut std::io::stdout());
    ExitCode::SUCCESS
}
