//! `stackctl up`: plan, confirm destructive changes, apply with progress, print the outputs.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use infra::engine::{self, ApplyOptions, Prepared};
use infra::lock::Lock;
use infra::outputs::Outputs;
use infra::plan::{Change, Summary};
use infra::{CallCounts, Context, StackSpec};
use serde::Serialize;

use super::plan::PlanReport;
use super::stack::{
    Named, Naming, Where, connect, interrupt_flag, interrupted_exit, load, lock_lost, release,
    renamed_warnings, report_calls, source_of, take_lock,
};
use crate::cli::UpArgs;
use crate::images::{can_build, choose_image, image_notes, require_images};
use crate::output::{Printer, Report};

/// `up --json`: the plan that was applied, and the stack's outputs after it.
#[derive(Debug, Serialize)]
struct UpReport<'a> {
    #[serde(flatten)]
    at: &'a Where,
    changes: &'a [Change],
    summary: Summary,
    outputs: Named,
    aws_calls: CallCounts,
    /// What the plan leaves alone on purpose (as `plan --json` has them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
}

impl Report for UpReport<'_> {
    fn text(&self) -> String {
        format!("\nOutputs:\n{}", self.outputs.text())
    }
}

pub async fn run(args: &UpArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = stack_for(args)?;
    // Before anything is created: where the local service will listen.
    let host_port = if let Some(wanted) = local_port(&spec).filter(|_| args.local) {
        let files = crate::local::Files::new(&args.stack.file, &spec.name);
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
    let naming = Naming::File(args.stack.file.clone());
    let (mut ctx, at) = connect(&spec.name, &spec.region, naming).await?;
    ctx.settings.source = source_of(&args.stack.file);
    ctx.settings.deploy_timeout = if args.no_wait {
        None
    } else {
        let secs = args
            .wait_timeout
            .unwrap_or(u64::from(spec.wait_timeout_secs()));
        Some(std::time::Duration::from_secs(secs))
    };
    let stop = interrupt_flag(printer);
    let lock = match take_lock(
        printer,
        &ctx,
        &at,
        "up",
        args.lock.lock_timeout,
        stop.clone(),
    )
    .await?
    {
        Ok(lock) => lock,
        Err(code) => return Ok(code),
    };
    let result = locked(args, &ctx, &at, &spec, (&lock, stop), host_port, printer).await;
    release(printer, lock).await;
    result
}

/// The part of `up` that runs holding the stack's lock.
async fn locked(
    args: &UpArgs,
    ctx: &Context,
    at: &Where,
    spec: &StackSpec,
    (lock, stop): (&Lock, Arc<AtomicBool>),
    host_port: Option<u16>,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let prepared = engine::prepare(ctx, spec)
        .await
        .context("while reading the stack's current state from AWS")?;
    let plan = &prepared.plan;
    for warning in renamed_warnings(&prepared, &spec.region) {
        printer.note(&format!("warning: {warning}"));
    }
    let mut notes = image_notes(&prepared, args.infra_only);
    notes.extend(super::plan::autoscaled(&prepared, spec));
    printer.line(
        &PlanReport {
            notes: notes.clone(),
            ..PlanReport::new(at, plan, CallCounts::default())
        }
        .text(),
    );
    // A service left undeployed, or an image to build with no builder: say so before anything
    // is changed.
    require_images(spec, &args.stack.file, &prepared, args.infra_only)?;
    can_build(plan).await?;
    let outputs = match apply(args, (ctx, at), spec, &prepared, (lock, stop), printer).await? {
        Ok(outputs) => outputs,
        Err(code) => return Ok(code),
    };
    printer.report(&UpReport {
        at,
        changes: &plan.changes,
        summary: plan.summary(),
        outputs: Named::of(&outputs),
        aws_calls: ctx.calls.snapshot(),
        notes,
    });
    report_calls(printer, ctx);
    match host_port {
        Some(port) => run_local(args, ctx, port, printer).await?,
        None if args.local => run_several(args, ctx, spec, printer).await?,
        None => {}
    }
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
fn stack_for(args: &UpArgs) -> anyhow::Result<StackSpec> {
    let mut spec = load(&args.stack.file)?;
    if args.local {
        crate::local::require_emulator()?;
        // Locally the service runs from its binary: the image is only a label for ECS.
        for service in &mut spec.services {
            if args.image.is_none() && service.image.is_none() {
                service.image = Some(format!("stackctl.local/{}:local", spec.name));
            }
        }
    }
    choose_image(&mut spec, &args.stack.file, args.image.as_ref())?;
    Ok(spec)
}

/// Applies the plan after asking, if it is destructive. `Ok(Err(code))`: stop with `code`
/// (cancelled or interrupted).
async fn apply(
    args: &UpArgs,
    (ctx, at): (&Context, &Where),
    spec: &StackSpec,
    prepared: &Prepared,
    (lock, stop): (&Lock, Arc<AtomicBool>),
    printer: &Printer,
) -> anyhow::Result<Result<Outputs, ExitCode>> {
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
    let options = ApplyOptions {
        stop_after: args.stop_after,
        cancel: Some(stop),
    };
    let recorder = super::recording::start(ctx, at, "up", Some(spec), prepared);
    let applied = engine::apply(ctx, prepared, recorder.tee(printer.progress()), &options).await;
    super::recording::finish(printer, recorder, applied.as_ref().err()).await;
    match applied {
        Ok(outputs) => {
            printer.line(&format!("\nApplied: {}.", plan.summary()));
            Ok(Ok(outputs))
        }
        Err(infra::Error::Interrupted) if lock.was_lost() => Err(lock_lost(at, "up")),
        Err(infra::Error::Interrupted) => {
            report_calls(printer, ctx);
            printer.failure(&format!(
                "interrupted: the changes under way were finished and nothing new was started; \
                 run `{}` again to finish",
                at.command("up")
            ));
            Ok(Err(interrupted_exit()))
        }
        Err(err) => {
            report_calls(printer, ctx);
            Err(anyhow::Error::new(err).context(format!(
                "while applying the plan (what was done stays done: run `{}` again to finish; \
                 `{}` shows where each resource is)",
                at.command("up"),
                at.command("status")
            )))
        }
    }
}

/// Runs the service here with the task definition's environment and port, and exercises it.
/// Runs the service here as its task definition says, listening on `port` (the container's
/// port unless that was taken).
/// `up --local` of several services: each runs here, web ones behind the local router.
async fn run_several(
    args: &UpArgs,
    ctx: &Context,
    spec: &StackSpec,
    printer: &Printer,
) -> anyhow::Result<()> {
    use crate::local::{self, several};
    let observed = engine::remaining(ctx)
        .await
        .context("while reading the task definitions back")?;
    let app = local::app_binary(args.app_bin.as_ref())?;
    let dir = several::Dir::new(&args.stack.file, &ctx.stack);
    let (running, router) = several::run(spec, &observed, &dir, &app).await?;
    printer.line("\nThe services run here as their task definitions describe them:");
    for r in &running {
        let at = r
            .port
            .map_or_else(|| "no port".to_owned(), |p| format!("http://127.0.0.1:{p}"));
        printer.line(&format!(
            "  {:12} {:8} {at:24} pid {:>7}  log {}",
            r.name,
            r.kind,
            r.pid,
            r.log.display()
        ));
    }
    if let Some(port) = router {
        printer.line(&format!(
            "\nThe load balancer's rules, here: http://127.0.0.1:{port}/ (try curl \
             http://127.0.0.1:{port}/healthcheck)"
        ));
    }
    printer.line(&format!(
        "Stop them and remove the stack: {}",
        Naming::File(args.stack.file.clone()).command("down --local --yes")
    ));
    Ok(())
}

async fn run_local(
    args: &UpArgs,
    ctx: &Context,
    port: u16,
    printer: &Printer,
) -> anyhow::Result<()> {
    use crate::local;
    let observed = engine::remaining(ctx)
        .await
        .context("while reading the task definition back")?;
    let (mut environment, _) = local::from_task_definition(&observed)?;
    // As a container runtime maps a host port to the container's: the service reads PORT.
    environment.insert("PORT".into(), port.to_string());
    let app = local::app_binary(args.app_bin.as_ref())?;
    let files = local::Files::new(&args.stack.file, &ctx.stack);
    let pid = local::start(&files, &app, &environment, port).await?;
    let (sent, received) = local::exercise(port).await?;
    printer.line(&format!(
        "\nThe service runs here as the task definition describes it (pid {pid}, log {}):",
        files.log.display()
    ));
    printer.line(&format!("  POST /message -> {}", sent.trim()));
    printer.line(&format!("  GET  /message -> {}", received.trim()));
    printer.line(&format!(
        "\nTry it: curl http://127.0.0.1:{port}/healthcheck"
    ));
    printer.line(&format!(
        "Stop it and remove the stack: {}",
        Naming::File(args.stack.file.clone()).command("down --local --yes")
    ));
    Ok(())
}
