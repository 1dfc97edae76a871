//! Every byte the user sees goes through here: results on stdout, diagnostics and progress on
//! stderr, JSON when asked, colours and spinners only on a terminal.

use std::io::{IsTerminal, Write};

#[derive(Debug, Default, Clone)]
pub struct Printer;

impl Printer {
    /// A line of results on stdout. A closed pipe (`stackctl ... | head`) is not an error.
    pub fn line(&self, text: &str) {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A note on stderr (progress in plain mode, hints).
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// `error: ...` on stderr.
    pub fn error(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "error: {text}");
    }

    /// Pretty JSON on stdout.
    pub fn json(&self, value: &serde_json::Value) {
        let text = serde_json::to_string_pretty(value)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        self.line(&text);
    }

    /// Raw stdout, for output that is streamed (the pipeline's lines).
    pub fn stdout(&self) -> std::io::Stdout {
        std::io::stdout()
    }

    /// True when stderr is a terminal: spinners and prompts make sense.
    pub fn interactive(&self) -> bool {
        std::io::stderr().is_terminal()
    }

    /// An error and its causes, one `Caused by:` line each.
    pub fn error_chain(&self, err: &anyhow::Error) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error: {err}");
        let mut last = err.to_string();
        for cause in err.chain().skip(1) {
            let text = cause.to_string();
            // Library errors often end with their cause's text already; say it once.
            if last.contains(&text) {
                continue;
            }
            let _ = writeln!(stderr, "  Caused by: {text}");
            last = text;
        }
    }

    /// Asks a yes/no question on the terminal. Refuses (returns an error) when stdin is not a
    /// terminal: a script must say `--yes` explicitly.
    pub fn confirm(&self, question: &str) -> anyhow::Result<bool> {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "{} Refusing without --yes because stdin is not a terminal.",
                question.trim()
            );
        }
        let mut stderr = std::io::stderr().lock();
        let _ = write!(
            stderr,
            "\n{} Only 'yes' will be accepted: ",
            question.trim()
        );
        let _ = stderr.flush();
        drop(stderr);
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        Ok(answer.trim() == "yes")
    }
}
