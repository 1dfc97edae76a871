//! `stackctl down`: delete everything tagged with the stack, then prove nothing is left.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use infra::CallCounts;
use infra::engine::{self, Prepared};
use infra::plan::Change;
use infra::resources::{Observation, Observed, Unread};
use serde::Serialize;

use super::plan::PlanReport;
use crate::cli::DownArgs;
use crate::output::{Printer, Report};
use crate::render;
use crate::session::{Locked, Naming, Session, Verb, Where};
use crate::stack_file::name_and_region;

/// `down --json`: what was deleted, and anything still tagged with the stack.
#[derive(Debug, Serialize)]
struct DownReport<'a> {
    #[serde(flatten)]
    at: &'a Where,
    deleted: &'a [Change],
    remaining: &'a [Observed],
    /// Kinds that could not be read (denied, or not served): nothing can be said of them.
    unread: &'a [Unread],
    /// The deploy history's log group, if it stays (`--keep-history`, or resources remain).
    #[serde(skip_serializing_if = "Option::is_none")]
    history_kept_in: Option<String>,
    aws_calls: CallCounts,
    /// The stack's reads per resource: grows when reads are made one resource at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    reads_per_resource: Option<f64>,
    /// The stack lock's and the deploy history's own calls, apart from the stack's.
    lock_and_history_calls: CallCounts,
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
            (_, 0) if !self.unread.is_empty() => format!(
                "\nDeleted {} resources; nothing tagged {tag} remains of the kinds that could be \
                 read, but {} could not be read (see below).",
                self.deleted.len(),
                kinds(self.unread)
            ),
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

fn kinds(unread: &[Unread]) -> String {
    let labels: Vec<String> = unread.iter().map(|u| u.kind.plural()).collect();
    labels.join(", ")
}

pub async fn run(args: &DownArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = name_and_region(&args.by_name, file)?;
    if args.local {
        let files = crate::local::Files::new(file, &name);
        if crate::local::stop(&files).await? {
            printer.note(&format!("Stopped the local service of stack {name}."));
        }
        let several = crate::local::several::Dir::new(file, &name);
        if several.stop_all().await? {
            printer.note(&format!(
                "Stopped the local services and router of stack {name}."
            ));
        }
    }
    let naming = Naming::of(&args.by_name, file);
    let session = Session::open(&name, &region, naming, printer).await?;
    let timeout = args.lock.lock_timeout;
    session
        .with_lock(Verb::Down, timeout, async |run| locked(run, args).await)
        .await
}

/// The part of `down` that runs holding the stack's lock.
async fn locked(run: &Locked<'_>, args: &DownArgs) -> anyhow::Result<ExitCode> {
    let session = run.session;
    let (ctx, at, printer) = (&session.ctx, &session.at, &session.printer);
    let prepared = engine::prepare_destroy(ctx)
        .await
        .context("while finding the stack's resources")?;
    if let Err(code) = delete(run, args, &prepared).await? {
        return Ok(code);
    }
    let Observation {
        found: remaining,
        unread,
    } = engine::remaining(ctx)
        .await
        .context("while checking that nothing tagged with the stack remains")?;
    // The history goes with the stack, unless asked to stay or the stack is not all gone.
    let store = infra::history::store::Store::new(ctx);
    let all_gone = remaining.is_empty() && unread.is_empty();
    let history_kept_in = if args.keep_history || !all_gone {
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
    let calls = ctx.calls.snapshot();
    printer.report(&DownReport {
        at,
        deleted: &prepared.plan.changes,
        remaining: &remaining,
        unread: &unread,
        history_kept_in,
        reads_per_resource: calls.reads_per(prepared.plan.changes.len()),
        aws_calls: calls,
        lock_and_history_calls: ctx.lock_and_history_calls.snapshot(),
    });
    session.report_calls_for(Some(prepared.plan.changes.len()));
    Ok(proven(printer, at, &remaining, &unread))
}

/// Success only when nothing is left and every kind could be read; else what is left, or
/// what could not be checked, on stderr.
fn proven(printer: &Printer, at: &Where, remaining: &[Observed], unread: &[Unread]) -> ExitCode {
    if !remaining.is_empty() {
        printer.error(&format!(
            "{} resource(s) tagged stackctl:stack={} remain:\n{}",
            remaining.len(),
            at.stack,
            render::resources(remaining, render::width())
        ));
        return ExitCode::FAILURE;
    }
    if !unread.is_empty() {
        let reasons: Vec<String> = unread
            .iter()
            .map(|u| format!("  {}: {}", u.kind.plural(), u.reason))
            .collect();
        printer.error(&format!(
            "cannot prove that nothing of stack {} is left: {} could not be read\n{}\nRun \
             `{}` again with an identity that may read them (or against an endpoint that \
             serves them).",
            at.stack,
            kinds(unread),
            reasons.join("\n"),
            at.command("down")
        ));
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Shows what goes, asks (unless `--yes`), and deletes it. `Ok(Err(code))`: stop with `code`
/// (cancelled or interrupted).
async fn delete(
    run: &Locked<'_>,
    args: &DownArgs,
    prepared: &Prepared,
) -> anyhow::Result<Result<(), ExitCode>> {
    let (at, printer) = (&run.session.at, &run.session.printer);
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
    Ok(run.apply(prepared, String::new(), None).await?.map(|_| ()))
}
