//! The deploy history: every `up` and `down` that changes something records each step (the
//! resource, its version, who ran it, how it ended, when it started and ended) in AWS, in a
//! log group of its own, so any machine sees it. This module is the record and the pure work
//! on records (merging a step's start with its end, filters, per-run summaries);
//! [`store`] reads and writes them and [`recorder`] turns the engine's events into records.

pub mod chart;
pub mod recorder;
pub mod store;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// The log group the stack's history lives in. It sits outside the stack's own log-group
/// prefix (`/stackctl/<stack>`) so reconciling the stack never touches it, and `down` may
/// keep it.
pub fn group_name(stack: &str) -> String {
    format!("/stackctl-history/{stack}")
}

/// How a step ended, or that it has not (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Started,
    Succeeded,
    Failed,
    /// A pipeline undid what the step deployed (`history record --status rolled_back`).
    RolledBack,
}

/// Every status, as written.
pub const STATUSES: [&str; 4] = ["started", "succeeded", "failed", "rolled_back"];

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
        }
    }

    /// A status as written (for flags): one of [`STATUSES`].
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "started" => Ok(Self::Started),
            "succeeded" => Ok(Self::Succeeded),
            "failed" => Ok(Self::Failed),
            "rolled_back" => Ok(Self::RolledBack),
            other => Err(format!(
                "{other:?} is not a status: use one of {}",
                STATUSES.join(", ")
            )),
        }
    }
}

/// The component of the record that spans a whole run.
pub const RUN: &str = "run";

/// One step of one run: a resource's change (or its wait until it works), or the run itself
/// (component [`RUN`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The run's id: its start time, command and a random suffix.
    pub run: String,
    /// `up` or `down`.
    pub command: String,
    /// The resource's logical id, or [`RUN`].
    pub component: String,
    /// `create`, `update`, `replace`, `delete`, `ready` (the wait until it works), or `run`.
    pub action: String,
    /// What was deployed: the image of a task definition, a changed field's new value, the
    /// stack file's services for the run.
    #[serde(default)]
    pub version: String,
    /// The caller identity's ARN.
    pub owner: String,
    pub status: Status,
    #[serde(with = "rfc3339")]
    pub started: SystemTime,
    #[serde(
        default,
        with = "rfc3339_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub ended: Option<SystemTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Record {
    /// How long the step took, once it ended.
    pub fn duration(&self) -> Option<Duration> {
        self.ended?.duration_since(self.started).ok()
    }

    /// The step this record is about: a step's end supersedes its start.
    fn key(&self) -> (&str, &str, &str) {
        (&self.run, &self.component, &self.action)
    }
}

pub use crate::when::utc;

/// A run's id: its start time, command and a random suffix.
pub(crate) fn run_id(command: &str, now: SystemTime) -> String {
    let at = humantime::format_rfc3339_seconds(now)
        .to_string()
        .replace(':', "-");
    format!("{at}-{command}-{:04x}", fastrand::u16(..))
}

/// The `command` of a step another tool recorded (`history record`), and its `action`.
pub const RECORDED: &str = "record";
pub const STEP: &str = "step";

/// The step of `component` at `version` that a pipeline recorded as started and has not ended.
pub fn open_step<'a>(records: &'a [Record], component: &str, version: &str) -> Option<&'a Record> {
    let mine =
        |r: &&Record| r.command == RECORDED && r.component == component && r.version == version;
    let last = records
        .iter()
        .filter(mine)
        .max_by_key(|r| r.ended.unwrap_or(r.started))?;
    (last.status == Status::Started).then_some(last)
}

/// A step of another tool's pipeline at `at`: the end of `open` (its started step), or a step
/// of its own (started and, unless `status` is started, ended at `at`).
pub fn recorded_step(
    component: &str,
    version: &str,
    status: Status,
    owner: &str,
    at: SystemTime,
    open: Option<&Record>,
) -> Record {
    let ended = (status != Status::Started).then_some(at);
    match open {
        Some(started) if ended.is_some() => Record {
            status,
            ended,
            owner: owner.to_owned(),
            ..started.clone()
        },
        _ => Record {
            run: run_id(RECORDED, at),
            command: RECORDED.to_owned(),
            component: component.to_owned(),
            action: STEP.to_owned(),
            version: version.to_owned(),
            owner: owner.to_owned(),
            status,
            started: at,
            ended,
            error: None,
        },
    }
}

/// Which records to show.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Steps that started at or after this time.
    pub since: Option<SystemTime>,
    /// Steps that ended at or before this time (a step not ended is not kept).
    pub until: Option<SystemTime>,
    /// One component (a resource's logical id, `run`, or a pipeline's component).
    pub component: Option<String>,
    /// Owners (a caller's ARN, or what `history record --owner` gave) containing this text.
    pub owner: Option<String>,
    /// One status.
    pub status: Option<Status>,
}

impl Filter {
    pub fn keeps(&self, r: &Record) -> bool {
        self.since.is_none_or(|t| r.started >= t)
            && self.until.is_none_or(|t| r.ended.is_some_and(|e| e <= t))
            && self.component.as_ref().is_none_or(|c| &r.component == c)
            && self
                .owner
                .as_ref()
                .is_none_or(|o| r.owner.contains(o.as_str()))
            && self.status.is_none_or(|s| r.status == s)
    }
}

/// One record per step (its end where it has one, else its start), filtered, oldest first.
pub fn steps(records: Vec<Record>, filter: &Filter) -> Vec<Record> {
    let mut latest: BTreeMap<(String, String, String), Record> = BTreeMap::new();
    for record in records {
        let key = record.key();
        let key = (key.0.to_owned(), key.1.to_owned(), key.2.to_owned());
        match latest.get(&key) {
            Some(had) if had.status >= record.status => {}
            _ => {
                latest.insert(key, record);
            }
        }
    }
    let mut steps: Vec<Record> = latest.into_values().filter(|r| filter.keeps(r)).collect();
    // The run record first within its run, then the steps as they started.
    steps.sort_by(|a, b| {
        (&a.run, a.component != RUN, a.started, &a.component).cmp(&(
            &b.run,
            b.component != RUN,
            b.started,
            &b.component,
        ))
    });
    steps
}

/// A run in a line: its total and its slowest steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub run: String,
    pub command: String,
    pub owner: String,
    pub status: Status,
    #[serde(with = "rfc3339")]
    pub started: SystemTime,
    /// Seconds from the run's start to its end (or to its last step's end, if it never ended).
    pub seconds: Option<f64>,
    pub steps: usize,
    /// Up to three steps, slowest first: `(component action, seconds)`.
    pub slowest: Vec<(String, f64)>,
}

impl RunSummary {
    pub fn line(&self) -> String {
        let took = self
            .seconds
            .map_or_else(|| "not finished".to_owned(), |s| format!("{s:.1} s"));
        let slowest: Vec<String> = self
            .slowest
            .iter()
            .map(|(step, s)| format!("{step} {s:.1} s"))
            .collect();
        let slowest = if slowest.is_empty() {
            String::new()
        } else {
            format!("; slowest: {}", slowest.join(", "))
        };
        format!(
            "{} {} by {}: {} in {took}, {} step(s){slowest}",
            utc(self.started),
            self.command,
            self.owner,
            self.status.as_str(),
            self.steps
        )
    }
}

/// One summary per run among `steps`, oldest first.
pub fn summaries(steps: &[Record]) -> Vec<RunSummary> {
    let mut runs: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for step in steps {
        runs.entry(&step.run).or_default().push(step);
    }
    let mut out: Vec<RunSummary> = runs.into_values().map(summary).collect();
    out.sort_by_key(|s| s.started);
    out
}

fn summary(records: Vec<&Record>) -> RunSummary {
    let run = records.iter().find(|r| r.component == RUN);
    let parts: Vec<&&Record> = records.iter().filter(|r| r.component != RUN).collect();
    let first = run.copied().or(records.first().copied());
    let started = first.map_or(SystemTime::UNIX_EPOCH, |r| r.started);
    let last_end = parts.iter().filter_map(|r| r.ended).max();
    let ended = run.and_then(|r| r.ended).or(last_end);
    let mut timed: Vec<(String, f64)> = parts
        .iter()
        .filter_map(|r| {
            let d = r.duration()?;
            Some((format!("{} {}", r.component, r.action), d.as_secs_f64()))
        })
        .collect();
    timed.sort_by(|a, b| b.1.total_cmp(&a.1));
    timed.truncate(3);
    // Without a run record (a pipeline's steps), the run is where its last step is.
    let last = parts
        .iter()
        .max_by_key(|r| (r.ended.unwrap_or(r.started), r.status));
    RunSummary {
        run: first.map(|r| r.run.clone()).unwrap_or_default(),
        command: first.map(|r| r.command.clone()).unwrap_or_default(),
        owner: first.map(|r| r.owner.clone()).unwrap_or_default(),
        status: run
            .map(|r| r.status)
            .or(last.map(|r| r.status))
            .unwrap_or(Status::Started),
        started,
        seconds: ended
            .and_then(|e| e.duration_since(started).ok())
            .map(|d| d.as_secs_f64()),
        steps: parts.len(),
        slowest: timed,
    }
}

/// Records as CSV, a header row first; times in RFC 3339, UTC, as in JSON.
pub fn to_csv(steps: &[Record]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "run",
        "command",
        "component",
        "action",
        "version",
        "owner",
        "status",
        "started",
        "ended",
        "seconds",
        "error",
    ])?;
    for r in steps {
        out.write_record([
            r.run.as_str(),
            &r.command,
            &r.component,
            &r.action,
            &r.version,
            &r.owner,
            r.status.as_str(),
            &rfc3339::text(r.started),
            &r.ended.map(rfc3339::text).unwrap_or_default(),
            &r.duration()
                .map(|d| format!("{:.1}", d.as_secs_f64()))
                .unwrap_or_default(),
            r.error.as_deref().unwrap_or(""),
        ])?;
    }
    let bytes = out.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Times as RFC 3339 with milliseconds, UTC.
mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&text(*time))
    }

    pub fn text(time: SystemTime) -> String {
        humantime::format_rfc3339_millis(time).to_string()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

mod rfc3339_option {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(t) => s.collect_str(&humantime::format_rfc3339_millis(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SystemTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| humantime::parse_rfc3339(&t).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests;
