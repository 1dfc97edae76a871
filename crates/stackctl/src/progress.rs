//! Live progress for `up` and `down`: a spinner per resource with its elapsed time on a
//! terminal, plain greppable lines otherwise (CI logs, pipes, `--json`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use infra::engine::{Event, Progress};
use infra::plan::Action;

fn doing(action: Action) -> &'static str {
    match action {
        Action::Create => "creating",
        Action::Update => "updating",
        Action::Replace | Action::Delete => "deleting",
        Action::Wait => "waiting for",
        Action::Unchanged => "checking",
    }
}

fn done(action: Action) -> &'static str {
    match action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace | Action::Delete => "deleted",
        Action::Wait => "ready:",
        Action::Unchanged => "checked",
    }
}

/// The line for an event, as printed in plain mode.
pub fn plain_line(event: &Event) -> String {
    match event {
        Event::Started { id, kind, action } => format!("{} {id} ({kind})", doing(*action)),
        Event::Waiting { id, message } => format!("{id}: {message}"),
        Event::Finished {
            id,
            action,
            elapsed,
            ..
        } => {
            format!("{} {id} in {:.1}s", done(*action), elapsed.as_secs_f64())
        }
        Event::Ready { id, elapsed, .. } => {
            format!("{id} ready in {:.1}s", elapsed.as_secs_f64())
        }
        Event::Failed {
            id,
            error,
            interrupted: false,
        } => format!("failed {id}: {error}"),
        Event::Failed { id, error, .. } => format!("stopped {id}: {error}"),
        Event::Skipped { job, reason } => format!("skipped {job}: {reason}"),
    }
}

/// A progress sink for the engine.
pub fn sink(interactive: bool) -> Progress {
    if !interactive {
        return Arc::new(|event| eprintln!("{}", plain_line(&event)));
    }
    let multi = MultiProgress::new();
    let bars: Arc<Mutex<HashMap<infra::ResourceId, ProgressBar>>> = Arc::default();
    let style = ProgressStyle::with_template("{spinner:.cyan} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    Arc::new(move |event| {
        let mut bars = bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &event {
            Event::Started { id, .. } => {
                let bar = multi.add(ProgressBar::new_spinner());
                bar.set_style(style.clone());
                bar.set_message(plain_line(&event));
                bar.enable_steady_tick(Duration::from_millis(120));
                bars.insert(id.clone(), bar);
            }
            Event::Waiting { id, .. } => {
                // A wait of its own (a load balancer becoming active) gets a spinner too.
                let bar = bars.entry(id.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_message(plain_line(&event));
            }
            Event::Finished { id, .. } | Event::Ready { id, .. } | Event::Failed { id, .. } => {
                let mark = match event {
                    Event::Failed {
                        interrupted: true, ..
                    } => "■",
                    Event::Failed { .. } => "✗",
                    _ => "✓",
                };
                match bars.remove(id) {
                    Some(bar) => {
                        bar.set_style(
                            ProgressStyle::with_template("{msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        bar.finish_with_message(format!("{mark} {}", plain_line(&event)));
                    }
                    None => {
                        let _ = multi.println(format!("{mark} {}", plain_line(&event)));
                    }
                }
            }
            Event::Skipped { .. } => {
                let _ = multi.println(format!("- {}", plain_line(&event)));
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use infra::resources::Kind;

    use super::*;

    #[test]
    fn plain_lines_are_greppable() {
        let started = Event::Started {
            id: infra::ResourceId::from_tag("vpc"),
            kind: Kind::Vpc,
            action: Action::Create,
        };
        assert_eq!(plain_line(&started), "creating vpc (VPC)");
        let finished = Event::Finished {
            id: infra::ResourceId::from_tag("vpc"),
            kind: Kind::Vpc,
            action: Action::Create,
            elapsed: Duration::from_millis(1234),
        };
        assert_eq!(plain_line(&finished), "created vpc in 1.2s");
        let gone = Event::Finished {
            id: infra::ResourceId::from_tag("subnet"),
            kind: Kind::Subnet,
            action: Action::Delete,
            elapsed: Duration::ZERO,
        };
        assert_eq!(plain_line(&gone), "deleted subnet in 0.0s");
    }
}
