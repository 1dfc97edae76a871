//! `stackctl up`: plan, confirm destructive changes, apply with progress, print the outputs.

use std::process::ExitCode;

use anyhow::Context as _;
use infra::engine::{self, ApplyOptions};

use super::stack::{
    INTERRUPTED_EXIT, choose_image, connect, interrupt_flag, load, outputs_json, report_calls,
};
use crate::cli::UpArgs;
use crate::output::Printer;
use crate::{progress, render};

pub async fn run(args: &UpArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let mut spec = load(&args.stack.file)?;
    if args.local {
        crate::local::require_emulator()?;
        // Locally the service runs from its binary: the image is only a label for ECS.
        if args.image.is_none() && spec.service.image.is_none() {
            spec.service.image = Some(format!("stackctl.local/{}:local", spec.name));
        }
    }
    choose_image(&mut spec, &args.stack.file, args.image.as_ref())?;
    let (mut ctx, account) = connect(&spec.name, &spec.region).await?;
    ctx.settings.deploy_timeout = if args.no_wait {
        None
    } else {
        let secs = args
            .wait_timeout
            .unwrap_or(u64::from(spec.service.wait_timeout_secs));
        Some(std::time::Duration::from_secs(secs))
    };
    let prepared = engine::prepare(&ctx, &spec)
        .await
        .context("while reading the stack's current state from AWS")?;
    let plan = &prepared.plan;
    let json = args.output.json;
    if !json {
        printer.line(&format!(
            "Stack {} in {} (account {account})\n",
            spec.name, spec.region
        ));
        printer.line(&render::plan(plan));
        if spec.service.image.is_none() && spec.service.build.is_none() {
            printer.line(
                "\nNo image and no Dockerfile: the load balancer and the ECS service are not part of \
                 this stack yet. Set service.image in the stack file, pass --image, or add a Dockerfile.",
            );
        }
    }

    // An image to build needs a builder: say so before anything is changed.
    let builds = plan
        .changes
        .iter()
        .any(|c| c.kind == infra::resources::Kind::Image && c.action == infra::Action::Create);
    if builds {
        infra::resources::image::Builder::find().await?;
    }

    let outputs = if !plan.has_changes() {
        if !json {
            printer.line("\nNo changes: the stack already matches the stack file.");
        }
        engine::outputs_of(&prepared.observed)
    } else {
        if plan.is_destructive() && !args.yes {
            let question = format!(
                "This plan deletes or replaces {} resource(s) of stack {:?}. Continue?",
                plan.summary().delete + plan.summary().replace,
                spec.name
            );
            if !printer.confirm(&question)? {
                printer.note("Cancelled; nothing was changed.");
                return Ok(ExitCode::FAILURE);
            }
        }
        if !json {
            printer.line("");
        }
        let options = ApplyOptions {
            stop_after: args.stop_after,
            cancel: Some(interrupt_flag(printer)),
        };
        let progress = progress::sink(printer.interactive() && !json);
        let outputs = match engine::apply(&ctx, &prepared, progress, &options).await {
            Ok(outputs) => outputs,
            Err(infra::Error::Interrupted) => {
                report_calls(printer, &ctx, args.output.verbose);
                printer.error(
                    "interrupted: the changes under way were finished and nothing new was started; \
                     run `stackctl up` again to finish",
                );
                return Ok(ExitCode::from(INTERRUPTED_EXIT));
            }
            Err(err) => {
                report_calls(printer, &ctx, args.output.verbose);
                return Err(anyhow::Error::new(err).context(
                    "while applying the plan (what was done stays done: run `stackctl up` again to finish)",
                ));
            }
        };
        if !json {
            printer.line(&format!("\nApplied: {}.", plan.summary()));
        }
        outputs
    };

    if json {
        printer.json(&serde_json::json!({
            "stack": spec.name,
            "region": spec.region,
            "account": account,
            "changes": plan.changes,
            "summary": plan.summary(),
            "outputs": outputs_json(&outputs),
            "aws_calls": ctx.calls.snapshot(),
        }));
    } else {
        printer.line(&format!(
            "\nOutputs:\n{}",
            render::pairs(&infra::stack::named_outputs(&outputs))
        ));
    }
    report_calls(printer, &ctx, args.output.verbose);
    if args.local {
        run_local(args, &ctx, &spec, printer).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the service here with the task definition's environment and port, and exercises it.
async fn run_local(
    args: &UpArgs,
    ctx: &infra::Context,
    spec: &infra::StackSpec,
    printer: &Printer,
) -> anyhow::Result<()> {
    use crate::local;
    let observed = engine::remaining(ctx)
        .await
        .context("while reading the task definition back")?;
    let (environment, port) = local::from_task_definition(&observed)?;
    let app = local::app_binary(args.app_bin.as_ref())?;
    let files = local::Files::new(&args.stack.file, &spec.name);
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
    printer.line("Stop it and remove the stack: stackctl down --local --yes");
    Ok(())
}
