//! `stackctl logs`: the services' CloudWatch log events, newest last; `--follow` polls for new
//! ones until Ctrl-C.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use infra::log_events::{Follower, LogLine, Query};

use crate::cli::LogsArgs;
use crate::output::{Format, Printer};
use crate::session::{Naming, Session};
use crate::stack_file::name_and_region;

/// How often `--follow` asks for new events (CloudWatch Logs allows 5 reads a second per
/// account and region for this call; one every 2 s leaves room for others).
const FOLLOW_EVERY: Duration = Duration::from_secs(2);

pub async fn run(args: &LogsArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let (name, region) = name_and_region(&args.by_name, file)?;
    if let Some(service) = &args.service
        && args.by_name.stack_name.is_none()
        && let Ok(spec) = crate::stack_file::load(file)
        && !spec.services.iter().any(|s| &s.name == service)
    {
        let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
        anyhow::bail!(
            "stack {name} has no service {service:?}; its services: {}",
            names.join(", ")
        );
    }
    let naming = Naming::of(&args.by_name, file);
    let session = Session::open(&name, &region, naming, printer).await?;
    let ctx = &session.ctx;
    let query = Query {
        service: args.service.clone(),
        since: args.since,
        contains: args.filter.clone(),
    };
    let mut follower = Follower::new(query);
    // Made once: a Ctrl-C during a read is not lost.
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut shown = 0;
    loop {
        let lines = tokio::select! {
            read = follower.next(ctx) => read
                .with_context(|| format!("while reading the log events of stack {name}"))?,
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
        };
        for line in &lines {
            print(printer.format(), line);
        }
        shown += lines.len();
        if !args.follow {
            if shown == 0 {
                printer.note(&nothing_shown(args, file, &name));
            }
            session.report_calls();
            return Ok(ExitCode::SUCCESS);
        }
        tokio::select! {
            () = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
        }
    }
}

/// Why `logs` printed nothing, and where else to look.
fn nothing_shown(args: &LogsArgs, file: &Path, stack: &str) -> String {
    let whose = args
        .service
        .as_ref()
        .map_or_else(|| "its services".to_owned(), |s| format!("service {s}"));
    let filter = args
        .filter
        .as_ref()
        .map(|f| format!(" containing {f:?}"))
        .unwrap_or_default();
    let local = crate::local::Files::new(file, stack);
    let dir = local.log.parent().unwrap_or(&local.log);
    format!(
        "No log events of {whose}{filter} since {} UTC in /stackctl/{stack} (--since to look \
         further back). Services run here by `up --local` log to files in {}/ instead.",
        infra::when::utc(args.since),
        dir.display()
    )
}

/// One line per event: time, service/task, message; or one JSON object per line.
fn print(format: Format, line: &LogLine) {
    let text = match format {
        Format::Json => serde_json::to_string(line).unwrap_or_default(),
        Format::Text => render(line),
    };
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

fn render(line: &LogLine) -> String {
    let task: String = line.task.chars().take(8).collect();
    format!(
        "{}  {}/{task}  {}",
        infra::when::utc(line.time),
        line.service,
        line.message
    )
}
