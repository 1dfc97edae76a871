//! `stackctl plan`: what `up` would change, and nothing else.

use std::process::ExitCode;

use anyhow::Context as _;
use infra::engine;

use super::stack::{choose_image, connect, load, report_calls};
use crate::cli::PlanArgs;
use crate::output::Printer;
use crate::render;

pub async fn run(args: &PlanArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut spec = load(&args.stack.file)?;
    choose_image(&mut spec, &args.stack.file, args.image.as_ref())?;
    let (ctx, account) = connect(&spec.name, &spec.region).await?;
    let prepared = engine::prepare(&ctx, &spec)
        .await
        .context("while reading the stack's current state from AWS")?;
    let plan = &prepared.plan;
    if args.output.json {
        printer.json(&serde_json::json!({
            "stack": spec.name,
            "region": spec.region,
            "account": account,
            "changes": plan.changes,
            "summary": plan.summary(),
            "aws_calls": ctx.calls.snapshot(),
        }));
    } else {
        printer.line(&format!(
            "Stack {} in {} (account {account})\n",
            spec.name, spec.region
        ));
        printer.line(&render::plan(plan));
    }
    report_calls(printer, &ctx, args.output.verbose);
    Ok(if args.detailed_exitcode && plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
