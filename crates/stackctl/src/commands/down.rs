//! `stackctl down`: delete everything tagged with the stack, then prove nothing is left.

use std::process::ExitCode;

use anyhow::Context as _;
use infra::engine::{self, ApplyOptions};

use super::stack::{INTERRUPTED_EXIT, connect, interrupt_flag, load, report_calls};
use crate::cli::DownArgs;
use crate::output::Printer;
use crate::{progress, render};

pub async fn run(args: &DownArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = match &args.stack_name {
        Some(name) => (name.clone(), args.region.clone()),
        None => {
            let spec = load(&args.stack.file)?;
            (spec.name, spec.region)
        }
    };
    if args.local {
        let files = crate::local::Files::new(&args.stack.file, &name);
        if crate::local::stop(&files).await? {
            printer.note(&format!("Stopped the local service of stack {name}."));
        }
    }
    let (ctx, account) = connect(&name, &region).await?;
    let prepared = engine::prepare_destroy(&ctx)
        .await
        .context("while finding the stack's resources")?;
    let json = args.output.json;
    let deleted = prepared.plan.changes.len();
    if deleted == 0 {
        if !json {
            printer.line(&format!("Nothing to delete: no resource is tagged stackctl:stack={name} in {region} (account {account})."));
        }
    } else {
        if !json {
            printer.line(&format!("Stack {name} in {region} (account {account})\n"));
            printer.line(&render::plan(&prepared.plan));
        }
        if !args.yes {
            let question =
                format!("Delete all {deleted} resources of stack {name:?}? This cannot be undone.");
            if !printer.confirm(&question)? {
                printer.note("Cancelled; nothing was deleted.");
                return Ok(ExitCode::FAILURE);
            }
        }
        if !json {
            printer.line("");
        }
        let options = ApplyOptions {
            stop_after: None,
            cancel: Some(interrupt_flag(printer)),
        };
        let progress = progress::sink(printer.interactive() && !json);
        match engine::apply(&ctx, &prepared, progress, &options).await {
            Ok(_) => {}
            Err(infra::Error::Interrupted) => {
                printer.error(
                    "interrupted: the deletions under way were finished and nothing new was started; \
                     run `stackctl down` again to finish",
                );
                return Ok(ExitCode::from(INTERRUPTED_EXIT));
            }
            Err(err) => {
                return Err(anyhow::Error::new(err).context(
                    "while deleting the stack (run `stackctl down` again to retry; it is safe to repeat)",
                ));
            }
        }
    }

    let remaining = engine::remaining(&ctx)
        .await
        .context("while checking that nothing tagged with the stack remains")?;
    if json {
        printer.json(&serde_json::json!({
            "stack": name,
            "region": region,
            "account": account,
            "deleted": prepared.plan.changes,
            "remaining": remaining,
            "aws_calls": ctx.calls.snapshot(),
        }));
    }
    report_calls(printer, &ctx, args.output.verbose);
    if !remaining.is_empty() {
        printer.error(&format!(
            "{} resource(s) tagged stackctl:stack={name} remain:\n{}",
            remaining.len(),
            render::resources(&remaining)
        ));
        return Ok(ExitCode::FAILURE);
    }
    if !json && deleted > 0 {
        printer.line(&format!(
            "\nDeleted {deleted} resources; nothing tagged stackctl:stack={name} remains."
        ));
    }
    Ok(ExitCode::SUCCESS)
}
