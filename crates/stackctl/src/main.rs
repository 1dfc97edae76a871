//! Entry point: parse the command line, run it, print the error chain on failure.

use std::process::ExitCode;

use clap::Parser;
use stackctl::cli::Cli;
use stackctl::output::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let printer = Printer::new(cli.format());
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
