//! What the AWS commands share: reading the stack file and connecting to AWS.

use std::path::Path;

use infra::{Context, StackSpec};

use crate::output::Printer;
use crate::render;

/// Reads and validates the stack file; every problem is in the error.
pub fn load(path: &Path) -> anyhow::Result<StackSpec> {
    match StackSpec::load(path) {
        Ok(spec) => Ok(spec),
        Err(infra::spec::LoadError::Read { path, source })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            anyhow::bail!(
                "no stack file at {}: run stackctl where your stack.toml is, or pass -f PATH",
                path.display()
            )
        }
        Err(err) => Err(err.into()),
    }
}

/// The clients for the stack's region, after checking the credentials with one call.
pub async fn connect(stack: &str, region: &str) -> anyhow::Result<(Context, String)> {
    let ctx = Context::load(stack, region).await;
    // The error already names the call, the problem and the fix: it is the first line shown.
    let account = ctx.account().await?;
    Ok((ctx, account))
}

/// With `-v`, the AWS calls made, on stderr.
pub fn report_calls(printer: &Printer, ctx: &Context, verbose: bool) {
    if verbose {
        printer.note(&render::calls(&ctx.calls.snapshot()));
    }
}

/// The outputs as a JSON object.
pub fn outputs_json(outputs: &infra::resources::Outputs) -> serde_json::Value {
    infra::stack::named_outputs(outputs)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}
