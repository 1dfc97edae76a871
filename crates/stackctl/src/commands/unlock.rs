//! `stackctl unlock`: remove the stack's lock when the run that held it is gone for good.

use std::process::ExitCode;

use anyhow::Context as _;

use super::stack::{connect, load};
use crate::cli::UnlockArgs;
use crate::output::Printer;

pub async fn run(args: &UnlockArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = match &args.stack_name {
        Some(name) => (name.clone(), args.region.clone()),
        None => {
            let spec = load(&args.stack.file)?;
            (spec.name, spec.region)
        }
    };
    let (ctx, _) = connect(&name, &region).await?;
    let holder = infra::lock::current(&ctx)
        .await
        .context("while reading the stack's lock")?;
    let Some(holder) = holder else {
        printer.line(&format!("Stack {name} is not locked."));
        return Ok(ExitCode::SUCCESS);
    };
    printer.line(&format!(
        "Stack {name} is locked by {}.",
        infra::lock::describe(&holder)
    ));
    if !args.yes {
        let question = "Remove the lock? Only do so if that run is gone: two runs changing one stack at once can make duplicates.";
        if !printer.confirm(question)? {
            printer.note("Cancelled; the lock stays.");
            return Ok(ExitCode::FAILURE);
        }
    }
    infra::lock::remove(&ctx)
        .await
        .context("while removing the stack's lock")?;
    printer.line(&format!("Removed the lock of stack {name}."));
    Ok(ExitCode::SUCCESS)
}
