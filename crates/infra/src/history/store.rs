//! Where the history lives: one log group per stack ([`super::group_name`]), one log stream
//! per run, one JSON event per record.

use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use super::Record;
use crate::context::Context;
use crate::error::{Error, Result};

/// Records older than this go by themselves.
const RETENTION_DAYS: i32 = 400;

/// The tag that names the stack a history belongs to (not `stackctl:stack`: the history is not
/// a resource of the stack, and `down` may leave it).
pub const TAG: &str = "stackctl:history";

/// The history of one stack.
#[derive(Debug)]
pub struct Store {
    ctx: Context,
    group: String,
}

fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Store {
    pub fn new(ctx: &Context) -> Self {
        Self {
            group: super::group_name(&ctx.stack),
            ctx: ctx.clone(),
        }
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// Makes the group (the first time) and the run's stream.
    pub async fn open(&self, stream: &str) -> Result<()> {
        let made = self
            .ctx
            .history_logs
            .create_log_group()
            .log_group_name(&self.group)
            .tags(TAG, &self.ctx.stack)
            .send()
            .await;
        match made {
            Ok(_) => {
                self.ctx
                    .history_logs
                    .put_retention_policy()
                    .log_group_name(&self.group)
                    .retention_in_days(RETENTION_DAYS)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&self.group, "PutRetentionPolicy", e))?;
            }
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => {}
            Err(e) => return Err(Error::aws(&self.group, "CreateLogGroup", e)),
        }
        match self
            .ctx
            .history_logs
            .create_log_stream()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("ResourceAlreadyExistsException") => Ok(()),
            Err(e) => Err(Error::aws(&self.group, "CreateLogStream", e)),
        }
    }

    /// Appends records to the run's stream, stamped now.
    pub async fn put(&self, stream: &str, records: &[Record]) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let now = millis(SystemTime::now());
        let events = records
            .iter()
            .map(|r| {
                let message = serde_json::to_string(r).map_err(|e| Error::History {
                    group: self.group.clone(),
                    message: "a record cannot be written as JSON".into(),
                    source: Some(Box::new(e)),
                })?;
                InputLogEvent::builder()
                    .timestamp(now)
                    .message(message)
                    .build()
                    .map_err(Error::request(&self.group, "a log event"))
            })
            .collect::<Result<Vec<_>>>()?;
        self.ctx
            .history_logs
            .put_log_events()
            .log_group_name(&self.group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .map_err(|e| Error::aws(&self.group, "PutLogEvents", e))?;
        Ok(())
    }

    /// Every record written at or after `since`; none when the stack has no history.
    /// Events that are not records (written by hand) are skipped.
    pub async fn read(&self, since: Option<SystemTime>) -> Result<Vec<Record>> {
        let pages = self
            .ctx
            .history_logs
            .filter_log_events()
            .log_group_name(&self.group)
            .set_start_time(since.map(millis))
            .into_paginator()
            .send();
        let pages = crate::aws::all(pages, |e| Error::aws(&self.group, "FilterLogEvents", e)).await;
        let pages = match pages {
            Ok(pages) => pages,
            Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(pages
            .iter()
            .flat_map(|p| p.events())
            .filter_map(|e| serde_json::from_str(e.message()?).ok())
            .collect())
    }

    /// Whether the stack has a history at all.
    pub async fn exists(&self) -> Result<bool> {
        let out = self
            .ctx
            .history_logs
            .describe_log_groups()
            .log_group_name_prefix(&self.group)
            .send()
            .await
            .map_err(|e| Error::aws(&self.group, "DescribeLogGroups", e))?;
        Ok(out
            .log_groups()
            .iter()
            .any(|g| g.log_group_name() == Some(self.group.as_str())))
    }

    /// Removes the history. `false` when there was none.
    pub async fn delete(&self) -> Result<bool> {
        match self
            .ctx
            .history_logs
            .delete_log_group()
            .log_group_name(&self.group)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
            Err(e) => Err(Error::aws(&self.group, "DeleteLogGroup", e)),
        }
    }
}
