//! Every byte the user sees goes through here, as uv's `Printer`: results on stdout, notes
//! and progress on stderr. A mode picks text for people or one JSON document for programs;
//! spinners and prompts appear only on a terminal.

use std::io::{IsTerminal, Write};

use infra::engine::Progress;
use serde::Serialize;

/// How results are written on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prose and tables for people.
    Text,
    /// One JSON document and nothing else (progress still goes to stderr).
    Json,
}

/// The stack file's problems, if that is what `e` is.
fn spec_errors<'e>(
    e: &'e (dyn std::error::Error + 'static),
) -> Option<&'e infra::stack_file::SpecErrors> {
    use infra::stack_file::LoadError;
    let load = match e.downcast_ref::<infra::Error>() {
        Some(infra::Error::Spec(load)) => Some(load),
        _ => e.downcast_ref::<LoadError>(),
    };
    match load {
        Some(LoadError::Invalid(errors)) => Some(errors),
        _ => e.downcast_ref::<infra::stack_file::SpecErrors>(),
    }
}

/// What a failed command prints as its JSON document.
#[derive(Debug, Serialize)]
struct ErrorReport {
    error: String,
    causes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<serde_json::Value>>,
}

/// A command's result: one JSON document, or text for people.
pub trait Report: Serialize {
    fn text(&self) -> String;
}

#[derive(Debug, Clone)]
pub struct Printer {
    format: Format,
    /// `-v`: also the AWS calls made, by operation.
    verbose: bool,
    /// stderr is a terminal: spinners and prompts make sense.
    terminal: bool,
}

/// The causes worth a line: each once (library errors often end with their cause's text
/// already), without the AWS SDK's wrappers that say nothing (`service error`, `unhandled
/// error`): the error itself names the operation, the status and what AWS answered.
fn causes(err: &anyhow::Error) -> Vec<String> {
    let mut causes = Vec::new();
    let mut last = err.to_string();
    let mut said = last.clone();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        let wrapper = text == "service error"
            || text == "unhandled error"
            || (text.starts_with("unhandled error (") && text.ends_with(')'));
        // The SDK's parser failing on a body already quoted as "not an AWS answer".
        let unparsed = said.contains("not an AWS answer")
            && (text.starts_with("Error at offset") || text.starts_with("error parsing XML"));
        if wrapper || unparsed || last.contains(&text) || repeats_aws_message(&text, &said) {
            continue;
        }
        causes.push(text.clone());
        said.push_str(&text);
        last = text;
    }
    causes
}

/// The SDK's dump of AWS's answer (`Error { code: "…", message: "…", … }`) when its message
/// was already said.
fn repeats_aws_message(text: &str, said: &str) -> bool {
    let message = text
        .strip_prefix("Error { code: ")
        .and_then(|rest| rest.split_once("message: \""))
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(message, _)| message);
    message.is_some_and(|m| said.contains(m))
}

impl Printer {
    pub fn new(format: Format, verbose: bool) -> Self {
        Self {
            format,
            verbose,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// With `-v`, the AWS calls made (and their reads per resource of a stack of `resources`),
    /// on stderr.
    pub fn calls(&self, counts: &infra::CallCounts, resources: Option<usize>) {
        if self.verbose {
            self.note(&crate::render::calls(counts, resources));
        }
    }

    /// `-v`: calls made for stackctl's own bookkeeping (`what`), apart from the stack's.
    pub fn calls_apart(&self, what: &str, counts: &infra::CallCounts) {
        if self.verbose {
            self.note(&crate::render::calls(counts, None).replacen(
                "AWS calls",
                &format!("AWS calls for {what}"),
                1,
            ));
        }
    }

    /// A command line clap refused, in JSON mode: the document on stdout (clap itself says it
    /// on stderr and exits 2).
    pub fn usage_error(&self, err: &clap::Error) {
        if self.format == Format::Json {
            let text = err.render().to_string();
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let first = lines.next().unwrap_or_default();
            self.json(&ErrorReport {
                error: first.trim_start_matches("error: ").to_owned(),
                causes: lines.map(|l| l.trim().to_owned()).collect(),
                problems: None,
            });
        }
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Prose for people on stdout; nothing in JSON mode, where stdout carries only the
    /// document. A closed pipe (`stackctl ... | head`) is not an error.
    pub fn line(&self, text: &str) {
        if self.format == Format::Text {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }

    /// The command's result: its JSON document, or its text.
    pub fn report(&self, report: &impl Report) {
        let text = match self.format {
            Format::Text => report.text(),
            Format::Json => serde_json::to_string_pretty(report)
                .unwrap_or_else(|e| format!("{{\"error\": \"cannot write the report: {e}\"}}")),
        };
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }

    /// A note on stderr (hints, and what a command does while it works), in both modes.
    pub fn note(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "{text}");
    }

    /// `error: ...` on stderr.
    pub fn error(&self, text: &str) {
        let _ = writeln!(std::io::stderr().lock(), "error: {text}");
    }

    /// An error and its causes, one `Caused by:` line each, on stderr; in JSON mode also the
    /// command's one document on stdout: `{"error", "causes", "problems"}` (the stack file's
    /// problems, each with its position, when that is what is wrong).
    pub fn error_chain(&self, err: &anyhow::Error) {
        let causes = causes(err);
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error: {err}");
        for cause in &causes {
            let _ = writeln!(stderr, "  Caused by: {cause}");
        }
        drop(stderr);
        if self.format == Format::Json {
            let problems = err.chain().find_map(spec_errors).map(|found| {
                found
                    .errors
                    .iter()
                    .map(|p| {
                        serde_json::json!({
                            "file": found.path.display().to_string(),
                            "line": p.line,
                            "column": p.column,
                            "key": p.key,
                            "message": p.message,
                        })
                    })
                    .collect::<Vec<_>>()
            });
            self.json(&ErrorReport {
                error: err.to_string(),
                causes,
                problems,
            });
        }
    }

    /// A failure that is not an error value (an interrupted run): `error: …` on stderr, and
    /// in JSON mode `{"error": …}` as the command's document.
    pub fn failure(&self, text: &str) {
        self.error(text);
        if self.format == Format::Json {
            self.json(&ErrorReport {
                error: text.to_owned(),
                causes: Vec::new(),
                problems: None,
            });
        }
    }

    fn json(&self, value: &impl Serialize) {
        if let Ok(text) = serde_json::to_string_pretty(value) {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
    }

    /// The engine's progress: a spinner per resource on a terminal (text mode), plain
    /// greppable lines on stderr otherwise.
    pub fn progress(&self) -> Progress {
        crate::progress::sink(self.terminal && self.format == Format::Text)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_s_wrappers_and_repeated_causes_are_left_out() {
        let err = anyhow::anyhow!("error parsing XML: no root element")
            .context("unhandled error")
            .context("service error")
            .context(
                "CreateVpc for vpc failed (HTTP 503, not an AWS answer: \"Service Unavailable\")",
            )
            .context("1 of the changes failed");
        assert_eq!(
            causes(&err),
            // The parser's complaint about a body already quoted says nothing more.
            ["CreateVpc for vpc failed (HTTP 503, not an AWS answer: \"Service Unavailable\")"]
        );
        let err = anyhow::anyhow!("connection refused")
            .context("unhandled error (Throttling)")
            .context("could not reach the endpoint");
        assert_eq!(causes(&err), ["connection refused"]);
    }

    #[test]
    fn the_sdk_s_dump_of_a_message_already_said_is_left_out() {
        let dump = "Error { code: \"AccessDeniedException\", message: \"User: u is not authorized \
                    to perform: dynamodb:PutItem\", aws_request_id: \"r-1\" }";
        let err = anyhow::anyhow!(dump).context(
            "PutItem for stack lock failed (AccessDeniedException, HTTP 403: User: u is not \
             authorized to perform: dynamodb:PutItem): the AWS identity in use may not call PutItem",
        );
        assert_eq!(causes(&err), Vec::<String>::new());
        let other = anyhow::anyhow!(dump).context("PutItem for stack lock failed");
        assert_eq!(causes(&other), [dump]);
    }
}
