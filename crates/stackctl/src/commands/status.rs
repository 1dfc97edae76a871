//! `stackctl status`: the stack's resources as AWS reports them, and its outputs.

use std::process::ExitCode;

use anyhow::Context as _;
use infra::engine;

use super::stack::{connect, load, outputs_json, report_calls};
use crate::cli::StatusArgs;
use crate::output::Printer;
use crate::render;

pub async fn run(args: &StatusArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = load(&args.stack.file)?;
    let (ctx, account) = connect(&spec.name, &spec.region).await?;
    let observed = engine::remaining(&ctx, &spec.names())
        .await
        .context("while reading the stack's resources from AWS")?;
    let outputs = engine::outputs_of(&observed);
    if args.output.json {
        printer.json(&serde_json::json!({
            "stack": spec.name,
            "region": spec.region,
            "account": account,
            "resources": observed,
            "outputs": outputs_json(&outputs),
            "aws_calls": ctx.calls.snapshot(),
        }));
    } else if observed.is_empty() {
        printer.line(&format!(
            "Stack {} has no resources in {} (account {account}). Run `stackctl up` to create it.",
            spec.name, spec.region
        ));
    } else {
        printer.line(&format!(
            "Stack {} in {} (account {account})\n",
            spec.name, spec.region
        ));
        printer.line(&render::resources(&observed));
        printer.line(&format!(
            "\nOutputs:\n{}",
            render::pairs(&infra::stack::named_outputs(&outputs))
        ));
    }
    report_calls(printer, &ctx, args.output.verbose);
    Ok(ExitCode::SUCCESS)
}
