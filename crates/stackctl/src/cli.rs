//! Command-line interface: global flags and one enum of subcommands (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failure (the error says what and where)
  2  usage error or invalid input file";

/// Declarative AWS provisioner for a containerised service.
#[derive(Debug, Parser)]
#[command(name = "stackctl", version, about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the stages of a ci.yml in order, stopping at the first failure.
    #[command(after_help = CI_HELP)]
    Ci(CiArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  stackctl completions bash > ~/.local/share/bash-completion/completions/stackctl"
    )]
    Completions(CompletionsArgs),
}

const CI_HELP: &str = "\
Each stage's command runs through `sh -c` in the directory of the file, with stdin closed.

Example ci.yml:
  stages:
    - name: \"Lint\"
      command: \"cargo clippy -- -D warnings\"
    - name: \"Unit tests\"
      command: \"cargo test\"
      timeout: 10m          # optional: 90s, 10m, 1h 30m, or seconds
      env:                  # optional: added to the environment
        RUST_BACKTRACE: 1

Examples:
  stackctl ci
  stackctl ci --file ci/nightly.yml --timings
  stackctl ci --list

Exit codes:
  0    every stage succeeded
  N    the failing stage's exit code (1 if a signal killed it)
  124  a stage ran over its timeout
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)
  2    the file is missing or invalid (no stage runs)";

#[derive(Debug, Args)]
pub struct CiArgs {
    /// The pipeline file.
    #[arg(short, long, default_value = "ci.yml", value_name = "PATH")]
    pub file: PathBuf,
    /// Print the stages without running them.
    #[arg(long)]
    pub list: bool,
    /// Print each stage's duration after its result.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
