//! `stackctl graph`: what the stack file makes, as a picture (Mermaid, DOT or SVG), with the
//! critical path of `up` by the timing model marked. No AWS call.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use infra::diagram::Diagram;

use crate::cli::{GraphArgs, GraphFormat};
use crate::output::Printer;

pub fn run(args: &GraphArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = crate::stack_file::load(file)?;
    let desired = infra::desired::from_file(&spec);
    // What `up` of this file takes at least at AWS's pace, and the chain that makes it so.
    let bound = awsfront::bound::up(&desired);
    let diagram = Diagram::new(&spec.name, &desired, &bound.path, Some(bound.seconds));
    let text = match args.format {
        GraphFormat::Mermaid => diagram.mermaid(),
        GraphFormat::Dot => diagram.dot(),
        GraphFormat::Svg => diagram.svg(),
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            printer.note(&format!(
                "Wrote the graph of stack {} ({} resources; up's critical path {:.0} s at AWS's pace: {}) to {}.",
                spec.name,
                diagram.nodes.len(),
                bound.seconds,
                diagram.critical.join(" → "),
                path.display()
            ));
        }
        None => {
            // A closed pipe (`| head`) is not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
        }
    }
    Ok(ExitCode::SUCCESS)
}
