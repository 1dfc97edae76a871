//! `stackctl up`: plan, confirm destructive changes, apply with progress, print the outputs.

use std::path::Path;
use std::process::ExitCode;

use infra::engine::{self, Prepared};
use infra::plan::{Change, Summary};
use infra::{CallCounts, StackSpec};
use serde::Serialize;

use super::plan::PlanReport;
use crate::cli::UpArgs;
use crate::images::{can_build, choose_image, image_notes, require_images, run_version};
use crate::output::{Printer, Report};
use crate::render::{Named, renamed_warnings};
use crate::session::{Locked, Naming, Session, Verb, Where};
use crate::stack_file;

/// `up --json`: the plan that was applied, and the stack's outputs after it.
#[derive(Debug, Serialize)]
struct UpReport<'a> {
    #[serde(flatten)]
    at: &'a Where,
    changes: &'a [Change],
    summary: Summary,
    outputs: Named,
    aws_calls: CallCounts,
    /// The stack's reads per resource: grows when reads are made one resource at a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    reads_per_resource: Option<f64>,
    /// The stack lock's and the deploy history's own calls, apart from the stack's.
    lock_and_history_calls: CallCounts,
    /// What the plan leaves alone on purpose (as `plan --json` has them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

impl Report for UpReport<'_> {
    fn text(&self) -> String {
        format!("\nOutputs:\n{}", self.outputs.text())
    }
}

pub async fn run(args: &UpArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = stack_for(args, file)?;
    // Before anything is created: where the local service will listen.
    let host_port = if let Some(wanted) = local_port(&spec).filter(|_| args.local) {
        let files = crate::local::Files::new(file, &spec.name);
        let (port, moved) = crate::local::host_port(&files, wanted)?;
        if moved {
            printer.note(&format!(
                "Port {wanted} (service.port) is in use here; the local service will listen on \
                 {port} instead (the task definition keeps {wanted})."
            ));
        }
        Some(port)
    } else {
        None
    };
    let naming = Naming::File(file.to_owned());
    let mut session = Session::open(&spec.name, &spec.region, naming, printer).await?;
    session.ctx.settings.source = stack_file::source_of(file);
    session.ctx.settings.deploy_timeout = if args.no_wait {
        None
    } else {
        let secs = args
            .wait_timeout
            .unwrap_or(u64::from(spec.wait_timeout_secs()));
        Some(std::time::Duration::from_secs(secs))
    };
    let timeout = args.lock.lock_timeout;
    let code = session
        .with_lock(Verb::Up, timeout, async |run| {
            locked(run, args, file, &spec).await
        })
        .await?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    match host_port {
        Some(port) => crate::local::run_one(&session, file, args.app_bin.as_ref(), port).await?,
        None if args.local => {
            crate::local::several::start_all(&session, &spec, file, args.app_bin.as_ref()).await?;
        }
        None => {}
    }
    Ok(ExitCode::SUCCESS)
}

/// The part of `up` that runs holding the stack's lock.
async fn locked(
    run: &Locked<'_>,
    args: &UpArgs,
    file: &Path,
    spec: &StackSpec,
) -> anyhow::Result<ExitCode> {
    let session = run.session;
    let (at, printer) = (&session.at, &session.printer);
    let prepared = engine::prepare(&session.ctx, spec)
        .await
        .map_err(|e| stack_file::reading_state(e, file))?;
    let plan = &prepared.plan;
    for warning in renamed_warnings(&prepared, &spec.region) {
        printer.note(&format!("warning: {warning}"));
    }
    let mut notes = image_notes(&prepared, args.infra_only);
    notes.extend(super::plan::autoscaled(&prepared, spec));
    notes.extend(crate::render::unread_notes(&prepared.unread, "planned"));
    printer.line(
        &PlanReport {
            notes: notes.clone(),
            ..PlanReport::new(at, plan, CallCounts::default())
        }
        .text(),
    );
    // A service left undeployed, or an image to build with no builder: say so before anything
    // is changed.
    require_images(spec, file, &prepared, args.infra_only)?;
    can_build(plan).await?;
    let outputs = match apply(run, args, spec, &prepared).await? {
        Ok(outputs) => outputs,
        Err(code) => return Ok(code),
    };
    let calls = session.ctx.calls.snapshot();
    printer.report(&UpReport {
        at,
        changes: &plan.changes,
        summary: plan.summary(),
        outputs: Named::of(&outputs),
        reads_per_resource: calls.reads_per(plan.changes.len()),
        aws_calls: calls,
        lock_and_history_calls: session.ctx.lock_and_history_calls.snapshot(),
        notes,
    });
    session.report_calls_for(Some(plan.changes.len()));
    Ok(ExitCode::SUCCESS)
}

/// The port of a stack's one service, run by `up --local` as the message service (several
/// services, or one without a port, run through [`crate::local::several`]).
fn local_port(spec: &StackSpec) -> Option<u16> {
    match spec.services.as_slice() {
        [one] => one.port,
        _ => None,
    }
}

/// The stack file, with the image `up` deploys decided.
fn stack_for(args: &UpArgs, file: &Path) -> anyhow::Result<StackSpec> {
    let mut spec = stack_file::load(file)?;
    if args.local {
        crate::local::require_emulator()?;
        // Locally the service runs from its binary: the image is only a label for ECS.
        for service in &mut spec.services {
            if args.image.is_none() && service.image.is_none() {
                service.image = Some(format!("stackctl.local/{}:local", spec.name));
            }
        }
    }
    choose_image(&mut spec, file, args.image.as_ref())?;
    Ok(spec)
}

/// Applies the plan after asking, if it is destructive. `Ok(Err(code))`: stop with `code`
/// (cancelled or interrupted).
async fn apply(
    run: &Locked<'_>,
    args: &UpArgs,
    spec: &StackSpec,
    prepared: &Prepared,
) -> anyhow::Result<Result<infra::outputs::Outputs, ExitCode>> {
    let printer = &run.session.printer;
    let plan = &prepared.plan;
    if !plan.has_changes() {
        printer.line("\nNo changes: the stack already matches the stack file.");
        return Ok(Ok(engine::outputs_of(&prepared.observed)));
    }
    if plan.is_destructive() && !args.yes {
        let summary = plan.summary();
        let question = format!(
            "This plan deletes or replaces {} resource(s) of stack {:?}. Continue?",
            summary.delete + summary.replace,
            spec.name
        );
        if !printer.confirm(&question)? {
            printer.note("Cancelled; nothing was changed.");
            return Ok(Err(ExitCode::FAILURE));
        }
    }
    printer.line("");
    let applied = run
        .apply(prepared, run_version(spec, prepared), args.stop_after)
        .await?;
    if applied.is_ok() {
        printer.line(&format!("\nApplied: {}.", plan.summary()));
    }
    Ok(applied)
}
