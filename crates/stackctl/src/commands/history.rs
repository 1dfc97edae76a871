//! `stackctl history`: what each `up` and `down` (and each step a pipeline recorded with
//! `history record`, see [`super::record`]) did, step by step (filtered), as a table, CSV or
//! JSON, with one summary line per run: its total and its slowest steps.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use infra::history::store::Store;
use infra::history::{Filter, Record, RunSummary, steps, summaries, to_csv, utc};
use serde::Serialize;

use crate::cli::{HistoryAction, HistoryArgs, HistoryFormat};
use crate::output::{Format, Printer, Report};
use crate::session::{Naming, Session};
use crate::stack_file::name_and_region;

/// `history --format json`.
#[derive(Debug, Serialize)]
struct HistoryReport {
    stack: String,
    /// Where the records live.
    log_group: String,
    records: Vec<Record>,
    runs: Vec<RunSummary>,
}

impl Report for HistoryReport {
    fn text(&self) -> String {
        if self.records.is_empty() {
            return format!(
                "No history for stack {} matches (it lives in log group {}; `up` and `down` \
                 record a run when they change something).",
                self.stack, self.log_group
            );
        }
        let rows: Vec<Vec<String>> = self
            .records
            .iter()
            .map(|r| {
                let status = match &r.error {
                    Some(e) => format!("{}: {}", r.status.as_str(), first_line(e)),
                    None => r.status.as_str().to_owned(),
                };
                let seconds = r
                    .duration()
                    .map(|d| format!("{:.1}", d.as_secs_f64()))
                    .unwrap_or_default();
                vec![
                    utc(r.started),
                    r.command.clone(),
                    r.component.clone(),
                    r.action.clone(),
                    status,
                    seconds,
                    r.version.clone(),
                ]
            })
            .collect();
        // The table is for reading: long versions and errors are cut to the width (CSV and
        // JSON carry them whole).
        let header = [
            "STARTED (UTC)",
            "COMMAND",
            "COMPONENT",
            "ACTION",
            "STATUS",
            "SECONDS",
            "VERSION",
        ];
        let table = crate::render::table(&header, &rows, crate::render::width(), &[6, 4]);
        let runs: Vec<String> = self
            .runs
            .iter()
            .map(|r| format!("  {}", r.line()))
            .collect();
        format!("{table}\n\nRuns:\n{}", runs.join("\n"))
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

pub async fn run(args: &HistoryArgs, file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    if let Some(HistoryAction::Record(record)) = &args.action {
        return super::record::run(record, file, printer).await;
    }
    let (name, region) = name_and_region(&args.by_name, file)?;
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since > until
    {
        anyhow::bail!(
            "--since ({}) is after --until ({}): nothing can match",
            utc(since),
            utc(until)
        );
    }
    let naming = Naming::of(&args.by_name, file);
    let session = Session::open(&name, &region, naming, printer).await?;
    let store = Store::new(&session.ctx);
    let records = store
        .read(args.since)
        .await
        .with_context(|| format!("while reading the history of stack {name}"))?;
    let filter = Filter {
        since: args.since,
        until: args.until,
        component: args.component.clone(),
        owner: args.owner.clone(),
        status: args.status,
    };
    // A run's summary is of all its steps, whichever of them the filter shows.
    let all = steps(records, &Filter::default());
    let shown: Vec<Record> = all.iter().filter(|r| filter.keeps(r)).cloned().collect();
    let runs: BTreeSet<&str> = shown.iter().map(|r| r.run.as_str()).collect();
    let runs: Vec<RunSummary> = summaries(&all)
        .into_iter()
        .filter(|s| runs.contains(s.run.as_str()))
        .collect();
    if let Some(file) = &args.chart {
        return chart(&name, &all, &runs, args.run.as_deref(), file, printer);
    }
    let report = HistoryReport {
        stack: name,
        log_group: store.group().to_owned(),
        runs,
        records: shown,
    };
    match format(args, printer) {
        HistoryFormat::Csv => {
            let csv = to_csv(&report.records).context("while writing the records as CSV")?;
            // A closed pipe (`| head`) is not an error.
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), csv.as_bytes());
        }
        HistoryFormat::Table | HistoryFormat::Json => printer.report(&report),
    }
    Ok(ExitCode::SUCCESS)
}

/// How to write the steps: JSON with `--json`, else `--format`, else the table on a terminal
/// and CSV for the pipe or file stdout goes to.
fn format(args: &HistoryArgs, printer: &Printer) -> HistoryFormat {
    match (printer.format(), args.format) {
        (Format::Json, _) => HistoryFormat::Json,
        (_, Some(format)) => format,
        (_, None) if std::io::stdout().is_terminal() => HistoryFormat::Table,
        (_, None) => HistoryFormat::Csv,
    }
}

/// `history --chart FILE`: the timeline of run `wanted` (or the latest of `runs`) as SVG.
fn chart(
    stack: &str,
    all: &[Record],
    runs: &[RunSummary],
    wanted: Option<&str>,
    file: &Path,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let run = match wanted {
        Some(wanted) => {
            let matching: Vec<&RunSummary> =
                runs.iter().filter(|r| r.run.starts_with(wanted)).collect();
            match matching.as_slice() {
                [one] => *one,
                [] => anyhow::bail!(
                    "no run {wanted:?} in the history of stack {stack} (the filters keep {} run(s); \
                     `stackctl history` lists them)",
                    runs.len()
                ),
                more => anyhow::bail!(
                    "{wanted:?} names {} runs of stack {stack}: give more of the run id",
                    more.len()
                ),
            }
        }
        None => runs.iter().max_by_key(|r| r.started).with_context(|| {
            format!("no run of stack {stack} to chart: its history (as filtered) is empty")
        })?,
    };
    let records: Vec<Record> = all.iter().filter(|r| r.run == run.run).cloned().collect();
    let picture = infra::history::chart::svg(stack, &records);
    std::fs::write(file, picture).with_context(|| format!("cannot write {}", file.display()))?;
    let took = run
        .seconds
        .map_or_else(|| "not finished".to_owned(), |s| format!("{s:.1} s"));
    printer.note(&format!(
        "Wrote the timeline of run {} ({} {}, {} step(s), {took}) to {}.",
        run.run,
        run.command,
        run.status.as_str(),
        run.steps,
        file.display()
    ));
    Ok(ExitCode::SUCCESS)
}
