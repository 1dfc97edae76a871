//! `stackctl down`: delete everything tagged with the stack, then prove nothing is left.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use infra::engine::{self, ApplyOptions, Prepared};
use infra::lock::Lock;
use infra::plan::Change;
use infra::resources::Observed;
use infra::{CallCounts, Context};
use serde::Serialize;

use super::plan::PlanReport;
use super::stack::{
    Naming, Where, connect, interrupt_flag, interrupted_exit, lock_lost, name_and_region, release,
    report_calls, take_lock,
};
use crate::cli::DownArgs;
use crate::output::{Printer, Report};
use crate::render;

/// `down --json`: what was deleted, and anything still tagged with the stack.
#[derive(Debug, Serialize)]
struct DownReport<'a> {
    #[serde(flatten)]
    at: &'a Where,
    deleted: &'a [Change],
    remaining: &'a [Observed],
    /// The deploy history's log group, if it stays (`--keep-history`, or resources remain).
    #[serde(skip_serializing_if = "Option::is_none")]
    history_kept_in: Option<String>,
    aws_calls: CallCounts,
}

impl Report for DownReport<'_> {
    fn text(&self) -> String {
        let tag = format!("stackctl:stack={}", self.at.stack);
        let kept = self.history_kept_in.as_ref().map_or_else(String::new, |group| {
            format!(
                "\nThe deploy history stays in log group {group} (`stackctl history --stack-name {} --region {}`).",
                self.at.stack, self.at.region
            )
        });
        let text = match (self.deleted.len(), self.remaining.len()) {
            (0, 0) => format!(
                "Nothing to delete: no resource is tagged {tag} in {} (account {}).",
                self.at.region, self.at.account
            ),
            (n, 0) => format!("\nDeleted {n} resources; nothing tagged {tag} remains."),
            (_, left) => format!("\n{left} resource(s) tagged {tag} remain (see below)."),
        };
        text + &kept
    }
}

pub async fn run(args: &DownArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = name_and_region(&args.by_name, &args.stack.file)?;
    if args.local {
        let files = crate::local::Files::new(&args.stack.file, &name);
        if crate::local::stop(&files).await? {
            printer.note(&format!("Stopped the local service of stack {name}."));
        }
        let several = crate::local::several::Dir::new(&args.stack.file, &name);
        if several.stop_all().await? {
            printer.note(&format!(
                "Stopped the local services and router of stack {name}."
            ));
        }
    }
    let naming = Naming::of(&args.by_name, &args.stack.file);
    let (ctx, at) = connect(&name, &region, naming).await?;
    let stop = interrupt_flag(printer);
    let lock = match take_lock(
        printer,
        &ctx,
        &at,
        "down",
        args.lock.lock_timeout,
        stop.clone(),
    )
    .await?
    {
        Ok(lock) => lock,
        Err(code) => return Ok(code),
    };
    let result = locked(args, &ctx, &at, (&lock, stop), printer).await;
    release(printer, lock).await;
    result
}

/// The part of `down` that runs holding the stack's lock.
async fn locked(
    args: &DownArgs,
    ctx: &Context,
    at: &Where,
    (lock, stop): (&Lock, Arc<AtomicBool>),
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let name = &at.stack;
    let prepared = engine::prepare_destroy(ctx)
        .await
        .context("while finding the stack's resources")?;
    if let Err(code) = delete(args, ctx, at, &prepared, (lock, stop), printer).await? {
        return Ok(code);
    }
    let remaining = engine::remaining(ctx)
        .await
        .context("while checking that nothing tagged with the stack remains")?;
    // The history goes with the stack, unless asked to stay or the stack is not all gone.
    let store = infra::history::store::Store::new(ctx);
    let history_kept_in = if args.keep_history || !remaining.is_empty() {
        // Named only when there is one to read.
        let exists = store
            .exists()
            .await
            .context("while looking for the stack's deploy history")?;
        exists.then(|| store.group().to_owned())
    } else {
        store.delete().await.with_context(|| {
            format!(
                "while removing the stack's deploy history (run `{}` again)",
                at.command("down")
            )
        })?;
        None
    };
    printer.report(&DownReport {
        at,
        deleted: &prepared.plan.changes,
        remaining: &remaining,
        history_kept_in,
        aws_calls: ctx.calls.snapshot(),
    });
    report_calls(printer, ctx);
    if !remaining.is_empty() {
        printer.error(&format!(
            "{} resource(s) tagged stackctl:stack={name} remain:\n{}",
            remaining.len(),
            render::resources(&remaining, render::width())
        ));
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows what goes, asks (unless `--yes`), and deletes it. `Ok(Err(code))`: stop with `code`
/// (cancelled or interrupted).
async fn delete(
    args: &DownArgs,
    ctx: &Context,
    at: &Where,
    prepared: &Prepared,
    (lock, stop): (&Lock, Arc<AtomicBool>),
    printer: &Printer,
) -> anyhow::Result<Result<(), ExitCode>> {
    let count = prepared.plan.changes.len();
    if count == 0 {
        return Ok(Ok(()));
    }
    printer.line(&PlanReport::new(at, &prepared.plan, CallCounts::default()).text());
    if !args.yes {
        let question = format!(
            "Delete all {count} resources of stack {:?}? This cannot be undone.",
            at.stack
        );
        if !printer.confirm(&question)? {
            printer.note("Cancelled; nothing was deleted.");
            return Ok(Err(ExitCode::FAILURE));
        }
    }
    printer.line("");
    let options = ApplyOptions {
        stop_after: None,
        cancel: Some(stop),
    };
    let recorder = super::recording::start(ctx, at, "down", None, prepared);
    let applied = engine::apply(ctx, prepared, recorder.tee(printer.progress()), &options).await;
    super::recording::finish(printer, recorder, applied.as_ref().err()).await;
    match applied {
        Ok(_) => Ok(Ok(())),
        Err(infra::Error::Interrupted) if lock.was_lost() => Err(lock_lost(at, "down")),
        Err(infra::Error::Interrupted) => {
            printer.failure(&format!(
                "interrupted: the deletions under way were finished and nothing new was started; \
                 run `{}` again to finish",
                at.command("down --yes")
            ));
            Ok(Err(interrupted_exit()))
        }
        Err(err) => Err(anyhow::Error::new(err).context(format!(
            "while deleting the stack (run `{}` again to retry; it is safe to repeat)",
            at.command("down --yes")
        ))),
    }
}
