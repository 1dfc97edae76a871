//! The services' log events, read back from the stack's log group for `stackctl logs`: every
//! service's or one's (task log streams are named `<service>/app/<task id>`), from a time on,
//! optionally only those containing a text; and a follower that polls for what is new.

use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::context::Context;
use crate::error::{Error, Result};

/// One event, as `stackctl logs` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    #[serde(serialize_with = "rfc3339")]
    pub time: SystemTime,
    pub service: String,
    /// The ECS task's id (the last part of the stream's name).
    pub task: String,
    pub message: String,
    #[serde(skip)]
    id: String,
}

fn rfc3339<S: serde::Serializer>(time: &SystemTime, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_millis(*time))
}

/// Which events.
#[derive(Debug, Clone)]
pub struct Query {
    /// One service's, or every service's.
    pub service: Option<String>,
    pub since: SystemTime,
    /// Only events whose message contains this text.
    pub contains: Option<String>,
}

/// `(service, task)` of a stream named `<service>/<container>/<task id>`.
pub fn parse_stream(stream: &str) -> (String, String) {
    let mut parts = stream.splitn(3, '/');
    let service = parts.next().unwrap_or_default().to_owned();
    let task = match (parts.next(), parts.next()) {
        (Some(_), Some(task)) => task.to_owned(),
        (Some(rest), None) => rest.to_owned(),
        _ => String::new(),
    };
    (service, task)
}

fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Query {
    /// Whether an event the log group answered is one this query asked for. The service
    /// and the text are checked here too: the stream prefix and the filter pattern narrow
    /// what AWS sends, but their matching rules differ from "starts with" and "contains".
    fn keeps(&self, stream: &str, message: &str) -> bool {
        self.service
            .as_ref()
            .is_none_or(|s| stream.starts_with(&format!("{s}/")))
            && self
                .contains
                .as_ref()
                .is_none_or(|text| message.contains(text.as_str()))
    }

    /// Events from `since` on, oldest first. A stack without a log group has none.
    pub async fn read(&self, ctx: &Context, since: SystemTime) -> Result<Vec<LogLine>> {
        let group = crate::resources::log_group::prefix(&ctx.stack);
        // A quoted term matches the text as a phrase; quotes inside are escaped.
        let pattern = self
            .contains
            .as_ref()
            .map(|t| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")));
        let pages = ctx
            .logs
            .filter_log_events()
            .log_group_name(&group)
            .start_time(millis(since))
            .set_log_stream_name_prefix(self.service.as_ref().map(|s| format!("{s}/")))
            .set_filter_pattern(pattern)
            .into_paginator()
            .send();
        let pages = match crate::aws::all(pages, |e| Error::aws(&group, "FilterLogEvents", e)).await
        {
            Ok(pages) => pages,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut lines: Vec<LogLine> = pages
            .iter()
            .flat_map(|p| p.events())
            .filter_map(|e| {
                let (stream, message) = (e.log_stream_name()?, e.message()?);
                if !self.keeps(stream, message) {
                    return None;
                }
                let (service, task) = parse_stream(stream);
                let at = u64::try_from(e.timestamp()?).ok()?;
                Some(LogLine {
                    time: UNIX_EPOCH + Duration::from_millis(at),
                    service,
                    task,
                    message: message.trim_end().to_owned(),
                    id: e.event_id().unwrap_or_default().to_owned(),
                })
            })
            .collect();
        lines.sort_by(|a, b| (a.time, &a.id).cmp(&(b.time, &b.id)));
        Ok(lines)
    }
}

/// Reads what is new at each call: from the newest time seen, without repeating an event.
#[derive(Debug)]
pub struct Follower {
    query: Query,
    from: SystemTime,
    /// The events at `from` already shown (events of one millisecond may come in two reads).
    seen: HashSet<String>,
}

impl Follower {
    pub fn new(query: Query) -> Self {
        Self {
            from: query.since,
            query,
            seen: HashSet::new(),
        }
    }

    /// The events not returned before, oldest first.
    pub async fn next(&mut self, ctx: &Context) -> Result<Vec<LogLine>> {
        let lines = self.query.read(ctx, self.from).await?;
        Ok(self.fresh(lines))
    }

    fn fresh(&mut self, lines: Vec<LogLine>) -> Vec<LogLine> {
        let fresh: Vec<LogLine> = lines
            .into_iter()
            .filter(|l| !self.seen.contains(&l.id))
            .collect();
        if let Some(newest) = fresh.iter().map(|l| l.time).max() {
            if newest > self.from {
                self.from = newest;
                self.seen.clear();
            }
            self.seen.extend(
                fresh
                    .iter()
                    .filter(|l| l.time == newest)
                    .map(|l| l.id.clone()),
            );
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(ms: u64, id: &str) -> LogLine {
        LogLine {
            time: UNIX_EPOCH + Duration::from_millis(ms),
            service: "api".into(),
            task: "t".into(),
            message: id.into(),
            id: id.into(),
        }
    }

    #[test]
    fn streams_name_the_service_and_the_task() {
        assert_eq!(
            parse_stream("api/app/0123abcd"),
            ("api".to_owned(), "0123abcd".to_owned())
        );
        assert_eq!(parse_stream("odd"), ("odd".to_owned(), String::new()));
    }

    #[test]
    fn a_query_keeps_its_service_and_its_text() {
        let q = Query {
            service: Some("api".into()),
            since: UNIX_EPOCH,
            contains: Some("ERROR".into()),
        };
        assert!(q.keeps("api/app/1", "an ERROR here"));
        assert!(!q.keeps("api-v2/app/1", "an ERROR here"));
        assert!(!q.keeps("api/app/1", "all fine"));
    }

    #[test]
    fn a_follower_never_repeats_an_event_of_the_same_millisecond() {
        let mut f = Follower::new(Query {
            service: None,
            since: UNIX_EPOCH,
            contains: None,
        });
        assert_eq!(f.fresh(vec![line(5, "a"), line(7, "b")]).len(), 2);
        // The next read starts at 7 ms: b again, and c of the same millisecond.
        let again = f.fresh(vec![line(7, "b"), line(7, "c")]);
        assert_eq!(again, [line(7, "c")]);
        assert_eq!(f.fresh(vec![line(7, "b"), line(7, "c")]), []);
        assert_eq!(f.fresh(vec![line(7, "c"), line(9, "d")]), [line(9, "d")]);
    }
}
