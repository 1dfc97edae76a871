//! The flags of the commands that operate a running stack: `logs` and `history`.

use clap::Args;

use super::shared::ByName;

pub(super) const HISTORY_HELP: &str = "\
Every `up` and `down` that changes something records each step in the log group
/stackctl-history/<stack>: the component (a resource, or `run` for the whole run), its
version, the owner (the caller's ARN), the status (started, succeeded, failed with the error),
and when it started and ended. Times are UTC. `down` removes the history once the stack is
gone, unless --keep-history.

Examples:
  stackctl history
  stackctl history --since 1d
  stackctl history --since \"2026-11-24 08:00:00\" --component service-web
  stackctl history --owner alice --format csv > deploys.csv
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
    /// Steps that started at or before TIME (the same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = infra::when::parse)]
    pub until: Option<std::time::SystemTime>,
    /// Only this component: a resource's logical id (as `plan` shows it), or `run`.
    #[arg(long, value_name = "ID")]
    pub component: Option<String>,
    /// Only runs by callers whose ARN contains this text.
    #[arg(long, value_name = "TEXT")]
    pub owner: Option<String>,
    /// How to write the steps (--json is --format json).
    #[arg(long, value_enum, default_value = "table")]
    pub format: HistoryFormat,
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
