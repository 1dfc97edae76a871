//! The `stackctl` command line: argument parsing and one module per subcommand. The binary
//! (`main.rs`) only parses, runs and prints the error chain.
//!
//! # Layout
//! - [`cli`]: the clap definition of every flag and subcommand.
//! - [`commands`]: one file per subcommand.
//! - [`ci`]: the `ci.yml` pipeline runner behind `stackctl ci`.
//! - [`output`]: the single place that writes to the terminal.

pub mod ci;
pub mod cli;
pub mod commands;
pub mod output;

use std::process::ExitCode;

use cli::{Cli, Command};
use output::Printer;

/// Runs one parsed command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Ci(args) => commands::ci::run(args, printer).await,
        Command::Completions(args) => Ok(commands::completions::run(args)),
    }
}
