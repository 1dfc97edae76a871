//! The `stackctl` command line: argument parsing and one module per subcommand. The binary
//! (`main.rs`) only parses, runs and prints the error chain.
//!
//! # Layout
//! - [`cli`]: the clap definition of every flag and subcommand.
//! - [`commands`]: one file per subcommand.
//! - [`ci`]: the `ci.yml` pipeline runner behind `stackctl ci`.
//! - [`images`]: which image each service deploys (given, built, or the one it runs).
//! - [`local`]: `up --local` / `down --local`, the service run here as its task definition says.
//! - [`output`]: the single place that writes to the terminal; [`render`] and [`progress`]
//!   format plans, tables and live progress for it.

pub mod ci;
pub mod cli;
pub mod commands;
pub mod images;
pub mod local;
pub mod output;
pub mod progress;
pub mod render;

use std::process::ExitCode;

use cli::{Cli, Command};
use output::Printer;

/// Runs one parsed command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Validate(args) => commands::validate::run(args, printer),
        Command::Plan(args) => commands::plan::run(args, printer).await,
        Command::Up(args) => commands::up::run(args, printer).await,
        Command::Down(args) => commands::down::run(args, printer).await,
        Command::Status(args) => commands::status::run(args, printer).await,
        Command::Unlock(args) => commands::unlock::run(args, printer).await,
        Command::Ls(args) => commands::ls::run(args, printer).await,
        Command::Ci(args) => commands::ci::run(args, printer).await,
        Command::Logs(args) => commands::logs::run(args, printer).await,
        Command::History(args) => commands::history::run(args, printer).await,
        Command::Completions(args) => Ok(commands::completions::run(args)),
        Command::LocalRouter(args) => {
            let routes = local::router::Routes::read(&args.routes)?;
            local::router::serve(routes).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
