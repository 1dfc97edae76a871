//! What `up` and `down` share between connecting and ending: the interrupt handler, the
//! stack's lock (taken, held, given back), and applying a plan with its deploy history, every
//! way it can end (done, interrupted, the lock lost, failed) said the same for both.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use infra::engine::{self, ApplyOptions, Prepared};
use infra::history::recorder::{Recorder, versions};
use infra::lock::{Holder, Lock};
use infra::outputs::Outputs;

use super::interrupt::{self, interrupted_exit};
use super::open::{Session, seconds_from_env};

/// Which command changes the stack: what it says when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Up,
    Down,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
        }
    }

    /// The command that picks up where an unfinished run stopped.
    fn again(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down --yes",
        }
    }

    fn changes(self) -> &'static str {
        match self {
            Self::Up => "changes",
            Self::Down => "deletions",
        }
    }
}

/// A run of `up` or `down` that holds the stack's lock.
#[derive(Debug)]
pub struct Locked<'a> {
    pub session: &'a Session,
    pub verb: Verb,
    lock: Lock,
    /// Set by an interrupt, or when another run takes the lock over.
    stop: Arc<AtomicBool>,
}

impl Session {
    /// Listens for interrupts, takes the stack's lock for `verb` (saying who holds it while
    /// waiting, at most `timeout`), runs `body` holding it, and gives it back.
    pub async fn with_lock(
        &self,
        verb: Verb,
        timeout: Duration,
        body: impl AsyncFnOnce(&Locked<'_>) -> anyhow::Result<ExitCode>,
    ) -> anyhow::Result<ExitCode> {
        let stop = interrupt::flag(&self.printer);
        let lock = match self.take_lock(verb, timeout, stop.clone()).await? {
            Ok(lock) => lock,
            Err(code) => return Ok(code),
        };
        let run = Locked {
            session: self,
            verb,
            lock,
            stop,
        };
        let result = body(&run).await;
        run.release().await;
        result
    }

    /// The stack's lock; `Ok(Err(code))` when the wait for it was interrupted.
    async fn take_lock(
        &self,
        verb: Verb,
        timeout: Duration,
        stop: Arc<AtomicBool>,
    ) -> anyhow::Result<Result<Lock, ExitCode>> {
        let lease = seconds_from_env("STACKCTL_LOCK_LEASE_SECONDS")
            .map_or(Duration::from_secs(60), |s| s.max(Duration::from_secs(1)));
        let options = infra::lock::Options {
            lease,
            timeout,
            lost: stop,
        };
        let at = &self.at;
        let holder = Holder::me(&at.caller, verb.name());
        let waiting = |other: &Holder| {
            self.printer.note(&format!(
                "Stack {} is locked by {}; waiting for it (at most {}, --lock-timeout).",
                at.stack,
                infra::lock::describe(other),
                humantime::format_duration(timeout)
            ));
        };
        match Lock::acquire(&self.ctx, holder, &options, &waiting).await {
            Ok(lock) => Ok(Ok(lock)),
            Err(infra::Error::Interrupted { .. }) => {
                self.printer
                    .failure("interrupted while waiting for the stack's lock; nothing was changed");
                Ok(Err(interrupted_exit()))
            }
            Err(err @ infra::Error::Locked { .. }) => {
                Err(anyhow::Error::new(err).context(format!(
                    "nothing was changed: wait for the other run, or pass a longer \
                     --lock-timeout; if it is gone for good, `{}` removes its lock",
                    at.command("unlock")
                )))
            }
            Err(err) => Err(err.into()),
        }
    }
}

/// What an interrupted run did with the changes under way: finished them, or stopped waiting
/// for those in `cut_short` (AWS goes on with them).
fn interrupted_note(
    verb: Verb,
    at: &super::open::Where,
    cut_short: &[infra::ResourceId],
) -> String {
    let under_way = if cut_short.is_empty() {
        format!("the {} under way were finished", verb.changes())
    } else {
        let ids: Vec<&str> = cut_short.iter().map(|id| id.as_str()).collect();
        format!(
            "stopped waiting for {} (AWS goes on with the {} it was asked for; `{}` shows \
             where each is), finished the other {} under way",
            ids.join(", "),
            verb.changes(),
            at.command("status"),
            verb.changes()
        )
    };
    format!(
        "interrupted: {under_way} and started nothing new; run `{}` again to finish",
        at.command(verb.again())
    )
}

impl Locked<'_> {
    /// Applies `prepared` with progress, recording the run's history; `Ok(Err(code))` when it
    /// was interrupted. `stop_after` ends it after that many changes (to rehearse a stop).
    pub async fn apply(
        &self,
        prepared: &Prepared,
        version: String,
        stop_after: Option<usize>,
    ) -> anyhow::Result<Result<Outputs, ExitCode>> {
        let (session, verb) = (self.session, self.verb);
        let options = ApplyOptions {
            stop_after,
            cancel: Some(self.stop.clone()),
        };
        let recorder = Recorder::start(
            &session.ctx,
            verb.name(),
            &session.at.caller,
            version,
            versions(prepared),
        );
        let progress = recorder.tee(session.printer.progress());
        let applied = engine::apply(&session.ctx, prepared, progress, &options).await;
        self.finish_history(recorder, applied.as_ref().err()).await;
        let at = &session.at;
        match applied {
            Ok(outputs) => Ok(Ok(outputs)),
            Err(infra::Error::Interrupted { .. }) if self.lock.was_lost() => Err(anyhow::anyhow!(
                "the stack's lock was lost: this run could not renew its lease and another run \
                 took the lock over, so nothing new was started (what was done stays done); run \
                 `{}` again once the other run has finished",
                at.command(verb.name())
            )),
            Err(infra::Error::Interrupted { cut_short }) => {
                session.report_calls();
                session
                    .printer
                    .failure(&interrupted_note(verb, at, &cut_short));
                Ok(Err(interrupted_exit()))
            }
            Err(err) => {
                session.report_calls();
                let context = match verb {
                    Verb::Up => format!(
                        "while applying the plan (what was done stays done: run `{}` again to \
                         finish; `{}` shows where each resource is)",
                        at.command("up"),
                        at.command("status")
                    ),
                    Verb::Down => format!(
                        "while deleting the stack (run `{}` again to retry; it is safe to \
                         repeat)",
                        at.command("down --yes")
                    ),
                };
                Err(anyhow::Error::new(err).context(context))
            }
        }
    }

    /// Records how the run ended and waits for the last records; warns about any not written
    /// (a history that fails never fails the run).
    async fn finish_history(&self, recorder: Recorder, error: Option<&infra::Error>) {
        let error = error.map(|e| match e {
            infra::Error::Interrupted { .. } => "interrupted".to_owned(),
            e => infra::error_chain(e),
        });
        let run = recorder.run().to_owned();
        let failed = recorder.finish(error).await;
        if let Some(first) = failed.first() {
            self.session.printer.note(&format!(
                "warning: the history of this run ({run}) is incomplete: {} record write(s) \
                 failed, the first: {}",
                failed.len(),
                infra::error_chain(first)
            ));
        }
    }

    /// Gives the stack's lock back; a failure to do so only delays the next run by a lease.
    async fn release(self) {
        if let Err(err) = self.lock.release().await {
            self.session.printer.note(&format!(
                "warning: the stack's lock could not be released ({}); the next run waits until \
                 its lease runs out",
                infra::error_chain(&err)
            ));
        }
    }
}
