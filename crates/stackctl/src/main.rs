//! Entry point: parse the command line, run it, print the error chain on failure.

use std::process::ExitCode;

use clap::Parser as _;
use stackctl::cli::Cli;
use stackctl::output::{Format, Printer};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // A usage error still gives `--json` its one document on stdout.
            if err.use_stderr() && std::env::args().any(|a| a == "--json") {
                Printer::new(Format::Json, false).usage_error(&err);
            }
            err.exit()
        }
    };
    let printer = Printer::new(cli.format(), cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            printer.error(&format!("cannot start the async runtime: {err}"));
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(stackctl::run(cli, &printer)) {
        Ok(code) => code,
        Err(err) => {
            printer.error_chain(&err);
            ExitCode::FAILURE
        }
    }
}
