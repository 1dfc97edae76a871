//! The flags of the commands that operate a running stack: `logs` and `history`.

use clap::{Args, Subcommand};
use infra::history::Status;

use super::shared::ByName;

pub(super) const HISTORY_HELP: &str = "\
Every `up` and `down` that changes something records each step in the log group
/stackctl-history/<stack>: the component (a resource, or `run` for the whole run), its
version, the owner (the caller's ARN), the status (started, succeeded, failed with the error),
and when it started and ended; `history record` adds the steps of any other pipeline. A run's
status is its last step's. Times are UTC; CSV and JSON write them as RFC 3339. Output: a
table on a terminal, CSV when piped or redirected, or --format. `down` removes the history
once the stack is gone, unless --keep-history.

Examples:
  stackctl history
  stackctl history --since 1d --until 2026-12-05
  stackctl history --since \"2026-11-24 08:00:00\" --component service-web
  stackctl history --owner alice --status failed > failures.csv
  stackctl history --chart up.svg            # the latest run, as a timeline
  stackctl history record --component api --version 1.4.2 --status succeeded
  stackctl history --stack-name messages --format json | jq '.runs[] | .seconds'";

/// How `history` writes the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    /// A table of steps, then one summary line per run.
    Table,
    /// One row per step, with a header row.
    Csv,
    /// `{"records": [...], "runs": [...]}`.
    Json,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub by_name: ByName,
    /// Steps that started at or after TIME: 1h, 2d (back from now), 2026-12-05, or
    /// "2026-12-05 08:00:00" (UTC).
    #[arg(long, value_name = "TIME", value_parser = infra::when::parse)]
    pub since: Option<std::time::SystemTime>,
    /// Steps that ended at or before TIME (the same forms as --since; a date alone is the end
    /// of that day, a time to the second the end of that second).
    #[arg(long, value_name = "TIME", value_parser = infra::when::parse_end)]
    pub until: Option<std::time::SystemTime>,
    /// Only this component: a resource's logical id (as `plan` shows it), `run`, or what a
    /// pipeline recorded.
    #[arg(long, value_name = "ID")]
    pub component: Option<String>,
    /// Only steps whose owner (the caller's ARN, or a recorded --owner) contains this text.
    #[arg(long, value_name = "TEXT")]
    pub owner: Option<String>,
    /// Only steps with this status: started, succeeded, failed or rolled_back.
    #[arg(long, value_name = "STATUS", value_parser = Status::parse)]
    pub status: Option<Status>,
    /// How to write the steps (default: a table on a terminal, CSV otherwise; --json is
    /// --format json).
    #[arg(long, value_enum)]
    pub format: Option<HistoryFormat>,
    /// Draw one run's timeline (the latest the filters keep, or RUN) as an SVG picture in
    /// FILE: a bar per step, waits apart from calls, the steps that set its length marked.
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<std::path::PathBuf>,
    /// With --chart: the run to draw (its id as `history` shows it, or its start).
    #[arg(value_name = "RUN", requires = "chart")]
    pub run: Option<String>,
    #[command(subcommand)]
    pub action: Option<HistoryAction>,
}

/// What `history` does besides listing.
#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// Record a step of any pipeline (a build, a test, a deploy by another tool) in the
    /// stack's history, beside `up` and `down`.
    #[command(after_help = RECORD_HELP)]
    Record(RecordArgs),
}

pub(super) const RECORD_HELP: &str = "\
A step recorded as started and later as succeeded, failed or rolled_back (same component and
version) is one step from its start to its end. Steps live in the stack's history log group,
kept as long as `up`'s and `down`'s.

Examples:
  stackctl history record --component api --version 1.4.2 --status started
  stackctl history record --component api --version 1.4.2 --status succeeded
  stackctl history record --component db-migration --version 42 --status failed --owner ci
  stackctl history record --component api --version 1.4.1 --status rolled_back --at \"2026-12-05 08:00:00\"";

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub by_name: ByName,
    /// What the step is about: a service, a migration, a pipeline's job (1 to 128 letters,
    /// digits, `.`, `_`, `-`, `/`, `:`).
    #[arg(long, value_name = "NAME")]
    pub component: String,
    /// What it deploys or tests: a version, a commit, an image tag.
    #[arg(long, value_name = "VERSION")]
    pub version: String,
    /// started, succeeded, failed or rolled_back.
    #[arg(long, value_name = "STATUS", value_parser = Status::parse)]
    pub status: Status,
    /// Who ran it (default: the caller's ARN).
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
    /// When it happened (default: now; not in the future): the forms of --since.
    #[arg(long, value_name = "TIME", value_parser = infra::when::parse_past)]
    pub at: Option<std::time::SystemTime>,
}

pub(super) const LOGS_HELP: &str = "\
Each line: the time (UTC), the service and task, and the message. The services' containers
write to the stack's log group (/stackctl/<stack>), one stream per task named
<service>/app/<task id>. Services that `up --local` runs on this machine log to files under
.run/ next to the stack file instead (the `up --local` output names them).

Examples:
  stackctl logs
  stackctl logs api --since 1h --filter ERROR
  stackctl logs worker --follow
  stackctl logs --json | jq -r .message";

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Only this service's events (default: every service's).
    #[arg(value_name = "SERVICE")]
    pub service: Option<String>,
    #[command(flatten)]
    pub by_name: ByName,
    /// Keep printing new events until Ctrl-C.
    #[arg(short = 'F', long)]
    pub follow: bool,
    /// Where to start: 30s, 10m, 2h, 1d (back from now), 2026-12-05, or "2026-12-05 08:00:00"
    /// (UTC).
    #[arg(long, value_name = "TIME", default_value = "10m", value_parser = infra::when::parse)]
    pub since: std::time::SystemTime,
    /// Only events that contain this text.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
}
