//! Every byte the user sees goes through the [`Printer`]: results on stdout, diagnostics on
//! stderr.

use std::io::Write;

#[derive(Debug, Default, Clone)]
pub struct Printer;

impl Printer {
    /// A line of results on stdout. A closed pipe (`stackctl ... | head`) is not an error.
    pub fn line(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// `error: ...` on stderr.
    pub fn error(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "error: {text}");
    }

    /// Raw stdout, for output that is streamed (the pipeline's lines).
    pub fn stdout(&self) -> std::io::Stdout {
        std::io::stdout()
    }

    /// An error and its causes, one `Caused by:` line each.
    pub fn error_chain(&self, err: &anyhow::Error) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error: {err}");
        for cause in err.chain().skip(1) {
            let _ = writeln!(stderr, "  Caused by: {cause}");
        }
    }
}
