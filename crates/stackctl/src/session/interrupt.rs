//! Ctrl-C and SIGTERM while a stack changes: the first finishes the calls under way, stops
//! every wait and starts nothing new; the second quits at once. The exit code says which.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::output::Printer;

/// Exit codes after an interrupt, as shells report them: 128 + the signal's number.
const SIGINT_EXIT: u8 = 130;
const SIGTERM_EXIT: u8 = 143;

/// The exit code of the signal that interrupted the run (Ctrl-C unless it was SIGTERM).
static INTERRUPTED_BY: AtomicU8 = AtomicU8::new(SIGINT_EXIT);

/// The exit code for a run that was interrupted: 130 after Ctrl-C, 143 after SIGTERM.
pub fn interrupted_exit() -> ExitCode {
    ExitCode::from(INTERRUPTED_BY.load(Ordering::SeqCst))
}

/// What the first interrupt is answered with: how to quit at once depends on how it came.
fn note(code: u8) -> &'static str {
    if code == SIGTERM_EXIT {
        "Terminated (SIGTERM): finishing the changes under way, no more waiting, starting \
         nothing new (a second SIGTERM quits at once)."
    } else {
        "Interrupt received: finishing the changes under way, no more waiting, starting nothing \
         new (press Ctrl-C again to quit at once)."
    }
}

/// Listens for interrupts from now on; the flag is set at the first.
pub(super) fn flag(printer: &Printer) -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let seen = flag.clone();
    let printer = printer.clone();
    tokio::spawn(async move {
        let Ok(mut terminate) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            return;
        };
        loop {
            let code = tokio::select! {
                _ = tokio::signal::ctrl_c() => SIGINT_EXIT,
                _ = terminate.recv() => SIGTERM_EXIT,
            };
            INTERRUPTED_BY.store(code, Ordering::SeqCst);
            if seen.swap(true, Ordering::SeqCst) {
                printer.note(
                    "Interrupted again: quitting now. Run the command again to finish; it picks \
                     up what exists.",
                );
                std::process::exit(i32::from(code));
            }
            printer.note(note(code));
        }
    });
    flag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sigterm_is_not_told_to_press_ctrl_c() {
        assert!(note(SIGTERM_EXIT).contains("a second SIGTERM quits"));
        assert!(!note(SIGTERM_EXIT).contains("Ctrl-C"));
        assert!(note(SIGINT_EXIT).contains("Ctrl-C again"));
    }
}
