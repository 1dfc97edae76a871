//! `stackctl history record`: a step of any pipeline (a build, a test, a deploy by another
//! tool) written to the stack's history beside `up` and `down`. A step recorded as started and
//! then as ended (same component and version) becomes one step from its start to its end.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, bail};
use infra::history::store::Store;
use infra::history::{Record, Status, open_step, recorded_step, utc};
use serde::Serialize;

use crate::cli::RecordArgs;
use crate::output::{Printer, Report};
use crate::session::{Naming, Session};
use crate::stack_file::name_and_region;

/// The log stream pipeline steps go to (a run of `up` or `down` has a stream of its own).
const STREAM: &str = "pipeline-steps";
/// How far back a started step is looked for when its end is recorded.
const OPEN_FOR: Duration = Duration::from_secs(30 * 86_400);
const MAX_COMPONENT: usize = 128;
const MAX_VERSION: usize = 256;

#[derive(Debug, Serialize)]
struct Recorded {
    log_group: String,
    record: Record,
}

impl Report for Recorded {
    fn text(&self) -> String {
        let r = &self.record;
        let took = r
            .duration()
            .map(|d| {
                format!(
                    ", {:.1} s after its start at {}",
                    d.as_secs_f64(),
                    utc(r.started)
                )
            })
            .unwrap_or_default();
        format!(
            "Recorded {} {} {} at {} UTC{took}, by {} (in {}).",
            r.component,
            r.version,
            r.status.as_str(),
            utc(r.ended.unwrap_or(r.started)),
            r.owner,
            self.log_group
        )
    }
}

/// What a component name may hold: it is matched exactly by `history --component`.
fn check(args: &RecordArgs) -> anyhow::Result<()> {
    let component = args.component.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || "._-/:".contains(c);
    if component.is_empty() || component.len() > MAX_COMPONENT || !component.chars().all(plain) {
        bail!(
            "--component {:?}: expected 1 to {MAX_COMPONENT} letters, digits, `.`, `_`, `-`, `/` \
             or `:` (a service, a migration, a pipeline's job)",
            args.component
        );
    }
    let version = args.version.trim();
    if version.is_empty() || version.len() > MAX_VERSION || version.chars().any(char::is_control) {
        bail!(
            "--version {:?}: expected 1 to {MAX_VERSION} printable characters (a version, a \
             commit, an image tag)",
            args.version
        );
    }
    if let Some(owner) = &args.owner
        && (owner.trim().is_empty() || owner.chars().any(char::is_control))
    {
        bail!("--owner {owner:?}: expected a name (default: the caller's ARN)");
    }
    Ok(())
}

pub async fn run(args: &RecordArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    check(args)?;
    let (name, region) = name_and_region(&args.by_name, file)?;
    let naming = Naming::of(&args.by_name, file);
    let session = Session::open(&name, &region, naming, printer).await?;
    let store = Store::new(&session.ctx);
    let at = args.at.unwrap_or_else(SystemTime::now);
    let (component, version) = (args.component.trim(), args.version.trim());
    let earlier = if args.status == Status::Started {
        Vec::new()
    } else {
        store
            .read(at.checked_sub(OPEN_FOR))
            .await
            .with_context(|| format!("while reading the history of stack {name}"))?
    };
    let owner = args.owner.as_deref().unwrap_or(&session.at.caller);
    let open = open_step(&earlier, component, version);
    if let Some(started) = open
        && started.started > at
    {
        bail!(
            "{component} {version} started at {} UTC, after --at {} UTC: a step cannot end before it starts",
            utc(started.started),
            utc(at)
        );
    }
    let record = recorded_step(component, version, args.status, owner, at, open);
    let write = async {
        store.open(STREAM).await?;
        store.put(STREAM, std::slice::from_ref(&record)).await
    };
    write
        .await
        .with_context(|| format!("while recording a step in the history of stack {name}"))?;
    printer.report(&Recorded {
        log_group: store.group().to_owned(),
        record,
    });
    Ok(ExitCode::SUCCESS)
}
