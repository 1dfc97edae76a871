//! `stackctl validate`: the stack file's checks alone, no AWS call.

use std::process::ExitCode;

use serde::Serialize;

use crate::cli::ValidateArgs;
use crate::output::{Printer, Report};

/// A valid stack file, summed up.
#[derive(Debug, Serialize)]
struct Valid {
    file: String,
    valid: bool,
    stack: String,
    region: String,
    availability_zones: usize,
    subnets: usize,
}

impl Report for Valid {
    fn text(&self) -> String {
        format!(
            "{} is valid: stack {:?} in {}, {} availability zones, {} subnets.",
            self.file, self.stack, self.region, self.availability_zones, self.subnets
        )
    }
}

pub fn run(args: &ValidateArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = super::stack::load(&args.stack.file)?;
    printer.report(&Valid {
        file: args.stack.file.display().to_string(),
        valid: true,
        stack: spec.name.clone(),
        region: spec.region.clone(),
        availability_zones: spec.network.availability_zones,
        subnets: spec.network.public_subnets.len() + spec.network.private_subnets.len(),
    });
    Ok(ExitCode::SUCCESS)
}
