//! Turns the engine's progress events into history records and writes them as the run goes
//! (a run that dies leaves its steps so far, the last ones `started`). Writing never holds the
//! run up: records go through a channel to a writer task, which batches what queued while
//! its last write was under way. A failed write is reported, never fatal to the run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;

use super::store::Store;
use super::{RUN, Record, Status, run_id};
use crate::context::Context;
use crate::engine::{Event, Prepared, Progress};
use crate::error::Error;
use crate::id::ResourceId;
use crate::plan::{Action, Change};
use crate::resources::task_definition::ImageRef;
use crate::resources::{Desired, Spec};

/// How long `finish` waits for the last records to be written.
const LAST_WRITE: Duration = Duration::from_secs(20);

/// Records one run.
#[derive(Debug)]
pub struct Recorder {
    run: Record,
    /// The history's log group, for errors.
    group: String,
    sender: mpsc::UnboundedSender<Record>,
    writer: tokio::task::JoinHandle<Vec<Error>>,
    steps: Arc<Steps>,
}

/// What the event handler needs: the fields every record shares, each resource's version,
/// and the steps under way.
#[derive(Debug)]
struct Steps {
    base: Record,
    versions: HashMap<ResourceId, String>,
    /// (id, action) → when it started, for the steps under way.
    open: Mutex<HashMap<(ResourceId, String), SystemTime>>,
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::Wait => "wait",
        Action::Unchanged => "unchanged",
    }
}

/// What each change deploys, by logical id: the image of a task definition, an image's tag,
/// an update's new values, a replacement's reason.
pub fn versions(prepared: &Prepared) -> HashMap<ResourceId, String> {
    let desired: HashMap<&str, &Desired> = prepared
        .desired
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    prepared
        .plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::Unchanged)
        .map(|c| (c.id.clone(), version(c, &desired)))
        .collect()
}

fn version(change: &Change, desired: &HashMap<&str, &Desired>) -> String {
    let image = |d: &Desired| match &d.spec {
        Spec::TaskDefinition(t) => match &t.image {
            ImageRef::Given(image) => Some(image.clone()),
            ImageRef::Built(id) => match desired.get(id.as_str()).map(|d| &d.spec) {
                Some(Spec::Image(i)) => Some(format!("{}:{}", i.repository_name, i.tag)),
                _ => None,
            },
        },
        Spec::Image(i) => Some(format!("{}:{}", i.repository_name, i.tag)),
        _ => None,
    };
    if let Some(image) = desired.get(change.id.as_str()).and_then(|d| image(d)) {
        return image;
    }
    // A service rolls out its task definition: what it deploys is that one's image.
    let rolled_out = desired
        .get(change.id.as_str())
        .and_then(|d| match &d.spec {
            Spec::Service(s) => desired.get(s.task_definition.as_str()),
            _ => None,
        })
        .and_then(|td| image(td));
    if let Some(image) = rolled_out {
        return image;
    }
    match change.action() {
        Action::Update => change
            .fields()
            .iter()
            .map(|f| format!("{}={}", f.field, f.to))
            .collect::<Vec<_>>()
            .join(" "),
        Action::Replace => change.reason().unwrap_or_default().to_owned(),
        _ => change.aws_id().unwrap_or_default().to_owned(),
    }
}

impl Recorder {
    /// Starts recording a run of `command` by `owner`; `version` describes the run as a whole.
    pub fn start(
        ctx: &Context,
        command: &str,
        owner: &str,
        version: String,
        versions: HashMap<ResourceId, String>,
    ) -> Self {
        let now = SystemTime::now();
        let run = Record {
            run: run_id(command, now),
            command: command.to_owned(),
            component: RUN.to_owned(),
            action: RUN.to_owned(),
            version,
            owner: owner.to_owned(),
            status: Status::Started,
            started: now,
            ended: None,
            error: None,
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        let store = Store::new(ctx);
        let group = store.group().to_owned();
        let writer = tokio::spawn(write(store, run.run.clone(), receiver));
        let _ = sender.send(run.clone());
        let steps = Arc::new(Steps {
            base: Record {
                version: String::new(),
                ..run.clone()
            },
            versions,
            open: Mutex::new(HashMap::new()),
        });
        Self {
            run,
            group,
            sender,
            writer,
            steps,
        }
    }

    /// The run's id.
    pub fn run(&self) -> &str {
        &self.run.run
    }

    /// `progress`, recording each event as well.
    pub fn tee(&self, progress: Progress) -> Progress {
        let (steps, sender) = (self.steps.clone(), self.sender.clone());
        Arc::new(move |event: Event| {
            if let Some(record) = steps.record(&event) {
                let _ = sender.send(record);
            }
            progress(event);
        })
    }

    /// Records the run's end (`error` if it failed) and waits for the writes to finish.
    /// Returns what could not be written.
    pub async fn finish(self, error: Option<String>) -> Vec<Error> {
        let status = if error.is_some() {
            Status::Failed
        } else {
            Status::Succeeded
        };
        let _ = self.sender.send(Record {
            status,
            ended: Some(SystemTime::now()),
            error,
            ..self.run
        });
        drop(self.sender);
        drop(self.steps);
        match tokio::time::timeout(LAST_WRITE, self.writer).await {
            Ok(Ok(errors)) => errors,
            Ok(Err(e)) => vec![Error::History {
                group: self.group,
                message: "the writer stopped".into(),
                source: Some(Box::new(e)),
            }],
            Err(_) => vec![Error::History {
                group: self.group,
                message: format!("the last records were not written within {LAST_WRITE:?}"),
                source: None,
            }],
        }
    }
}

impl Steps {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(ResourceId, String), SystemTime>> {
        self.open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn step(&self, id: &ResourceId, action: &str, status: Status, started: SystemTime) -> Record {
        Record {
            component: id.to_string(),
            action: action.to_owned(),
            version: self.versions.get(id).cloned().unwrap_or_default(),
            status,
            started,
            ..self.base.clone()
        }
    }

    /// The record an event makes, if it makes one.
    fn record(&self, event: &Event) -> Option<Record> {
        let now = SystemTime::now();
        match event {
            Event::Started { id, action, .. } => {
                let action = action_name(*action);
                self.lock().insert((id.clone(), action.to_owned()), now);
                Some(self.step(id, action, Status::Started, now))
            }
            Event::Finished {
                id,
                action,
                elapsed,
                ..
            } => {
                let action = action_name(*action);
                self.lock().remove(&(id.clone(), action.to_owned()));
                Some(self.ended(id, action, Status::Succeeded, now - *elapsed, now))
            }
            Event::Ready { id, elapsed, .. } => {
                Some(self.ended(id, "ready", Status::Succeeded, now - *elapsed, now))
            }
            Event::Failed { id, error, .. } => {
                // The change under way, else the wait until it works.
                let mut open = self.lock();
                let key = open.keys().find(|(i, _)| i == id).cloned();
                let (action, started) = match key.and_then(|k| open.remove_entry(&k)) {
                    Some(((_, action), started)) => (action, started),
                    None => ("ready".to_owned(), now),
                };
                drop(open);
                let mut record = self.ended(id, &action, Status::Failed, started, now);
                record.error = Some(error.clone());
                Some(record)
            }
            Event::Waiting { .. } | Event::Skipped { .. } => None,
        }
    }

    fn ended(
        &self,
        id: &ResourceId,
        action: &str,
        status: Status,
        started: SystemTime,
        ended: SystemTime,
    ) -> Record {
        Record {
            ended: Some(ended),
            ..self.step(id, action, status, started)
        }
    }
}

/// Writes what arrives, in batches of what queued meanwhile, until the recorder is done.
async fn write(
    store: Store,
    stream: String,
    mut receiver: mpsc::UnboundedReceiver<Record>,
) -> Vec<Error> {
    if let Err(e) = store.open(&stream).await {
        return vec![e];
    }
    let mut errors = Vec::new();
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while let Ok(more) = receiver.try_recv() {
            batch.push(more);
        }
        if let Err(e) = store.put(&stream, &batch).await {
            errors.push(e);
        }
    }
    errors
}
