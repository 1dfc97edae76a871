//! The history `up` and `down` leave: one recorder per run that changes something, whose
//! failure to write is a warning on stderr and never the run's failure.

use infra::engine::Prepared;
use infra::history::recorder::{Recorder, versions};
use infra::{Context, StackSpec};

use super::stack::Where;
use crate::output::Printer;

/// Starts recording `command` (`up` or `down`) of the plan in `prepared`.
pub fn start(
    ctx: &Context,
    at: &Where,
    command: &str,
    spec: Option<&StackSpec>,
    prepared: &Prepared,
) -> Recorder {
    Recorder::start(
        ctx,
        command,
        &at.caller,
        spec.map(run_version).unwrap_or_default(),
        versions(prepared),
    )
}

/// What a run deploys, in a line: each service and its image.
fn run_version(spec: &StackSpec) -> String {
    spec.services
        .iter()
        .map(|s| {
            let image = match (&s.image, &s.build) {
                (Some(image), _) => image.clone(),
                (None, Some(_)) => "built".to_owned(),
                (None, None) => "no image".to_owned(),
            };
            format!("{}={image}", s.name)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Records how the run ended and waits for the last records; warns about any not written.
pub async fn finish(printer: &Printer, recorder: Recorder, error: Option<&infra::Error>) {
    let error = error.map(|e| match e {
        infra::Error::Interrupted => "interrupted".to_owned(),
        e => infra::error_chain(e),
    });
    let run = recorder.run().to_owned();
    let failed = recorder.finish(error).await;
    if let Some(first) = failed.first() {
        printer.note(&format!(
            "warning: the history of this run ({run}) is incomplete: {} record write(s) failed, \
             the first: {}",
            failed.len(),
            infra::error_chain(first)
        ));
    }
}
