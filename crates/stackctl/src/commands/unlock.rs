//! `stackctl unlock`: remove the stack's lock when the run that held it is gone for good.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::UnlockArgs;
use crate::output::{Printer, Report};
use crate::session::{Naming, Session};
use crate::stack_file::name_and_region;
use serde::Serialize;

/// What `unlock` found and did.
#[derive(Debug, Serialize)]
struct Unlocked {
    stack: String,
    /// Who held the lock, if anyone.
    holder: Option<infra::lock::Holder>,
    removed: bool,
}

impl Report for Unlocked {
    fn text(&self) -> String {
        match (&self.holder, self.removed) {
            (None, _) => format!("Stack {} is not locked.", self.stack),
            (Some(_), true) => format!("Removed the lock of stack {}.", self.stack),
            (Some(_), false) => "Cancelled; the lock stays.".to_owned(),
        }
    }
}

pub async fn run(args: &UnlockArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = name_and_region(&args.by_name, file)?;
    let naming = Naming::of(&args.by_name, file);
    let session = Session::open(&name, &region, naming, printer).await?;
    let ctx = &session.ctx;
    let holder = infra::lock::current(ctx)
        .await
        .context("while reading the stack's lock")?;
    let Some(holder) = holder else {
        printer.report(&Unlocked {
            stack: name,
            holder: None,
            removed: false,
        });
        return Ok(ExitCode::SUCCESS);
    };
    printer.line(&format!(
        "Stack {name} is locked by {}.",
        infra::lock::describe(&holder)
    ));
    if !args.yes {
        let question = "Remove the lock? Only do so if that run is gone: two runs changing one stack at once can make duplicates.";
        if !printer.confirm(question)? {
            printer.report(&Unlocked {
                stack: name,
                holder: Some(holder),
                removed: false,
            });
            return Ok(ExitCode::FAILURE);
        }
    }
    infra::lock::remove(ctx)
        .await
        .context("while removing the stack's lock")?;
    printer.report(&Unlocked {
        stack: name,
        holder: Some(holder),
        removed: true,
    });
    Ok(ExitCode::SUCCESS)
}
