//! `stackctl validate`: the stack file's checks alone, no AWS call.

use std::process::ExitCode;

use crate::cli::ValidateArgs;
use crate::output::Printer;

pub fn run(args: &ValidateArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = super::stack::load(&args.stack.file)?;
    printer.line(&format!(
        "{} is valid: stack {:?} in {}, {} availability zones, {} subnets.",
        args.stack.file.display(),
        spec.name,
        spec.region,
        spec.network.availability_zones,
        spec.network.public_subnets.len() + spec.network.private_subnets.len()
    ));
    Ok(ExitCode::SUCCESS)
}
