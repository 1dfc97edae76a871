//! The `stackctl` command line: argument parsing and one module per subcommand. The binary
//! (`main.rs`) only parses, runs and prints the error chain.
//!
//! # Layout
//! - [`cli`]: the clap definition of every flag and subcommand.
//! - [`commands`]: one file per subcommand.
//! - [`ci`]: the `ci.yml` pipeline runner behind `stackctl ci`.
//! - [`local`]: `up --local` / `down --local`, the service run here as its task definition says.
//! - [`session`]: one command's connection to AWS, and for `up`/`down` the lock and
//!   the run's history; [`stack_file`]: which stack file, read and checked; [`images`]:
//!   which image each service deploys.
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
pub mod session;
pub mod stack_file;

use std::path::Path;
use std::process::ExitCode;

use cli::{Cli, Command};
use output::Printer;

/// Runs one parsed command line.
pub async fn run(cli: Cli, printer: &Printer) -> anyhow::Result<ExitCode> {
    // The stack file: `-f PATH`, else `./stack.toml`.
    let file = cli
        .global
        .file
        .as_deref()
        .unwrap_or(Path::new(stack_file::DEFAULT));
    match &cli.command {
        Command::Validate(args) => commands::validate::run(args, file, printer),
        Command::Plan(args) => commands::plan::run(args, file, printer).await,
        Command::Up(args) => commands::up::run(args, file, printer).await,
        Command::Down(args) => commands::down::run(args, file, printer).await,
        Command::Status(_) => commands::status::run(file, printer).await,
        Command::Unlock(args) => commands::unlock::run(args, file, printer).await,
        Command::Ls(args) => commands::ls::run(args, file, printer).await,
        Command::Ci(args) => {
            let pipeline = cli.global.file.as_deref();
            commands::ci::run(args, pipeline.unwrap_or(Path::new("ci.yml")), printer).await
        }
        Command::Logs(args) => commands::logs::run(args, file, printer).await,
        Command::History(args) => commands::history::run(args, file, printer).await,
        Command::Policy(args) => commands::policy::run(args, file, printer),
        Command::Graph(args) => commands::graph::run(args, file, printer),
        Command::Completions(args) => Ok(commands::completions::run(args)),
        Command::LocalRouter(args) => {
            let routes = local::router::Routes::read(&args.routes)?;
            local::router::serve(routes).await?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
