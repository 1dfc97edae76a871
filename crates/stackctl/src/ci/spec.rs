//! The `ci.yml` model: a list of named shell stages, parsed strictly (unknown keys, missing or
//! empty fields are errors) with the line and column of each problem.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// A pipeline: stages run in file order.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    #[serde(deserialize_with = "non_empty_stages")]
    pub stages: Vec<Stage>,
}

/// One stage: a shell command with a name, an optional time limit and extra environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    #[serde(deserialize_with = "non_empty_name")]
    pub name: String,
    #[serde(deserialize_with = "non_empty_command")]
    pub command: String,
    /// `90s`, `10m`, `1h 30m`, or a number of seconds.
    #[serde(default, deserialize_with = "optional_duration")]
    pub timeout: Option<Duration>,
    /// Added to the inherited environment; numbers and booleans are taken as written.
    #[serde(default, deserialize_with = "env_map")]
    pub env: BTreeMap<String, String>,
}

/// Why a `ci.yml` could not be used. Displayed as `file:line:col: message`, like a compiler.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    #[error("{}: cannot read the pipeline file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}{}: {message}", path.display(), location(*line, *column))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    }
}

impl Pipeline {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text`; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecError> {
        if text.trim().is_empty() {
            return Err(SpecError::Invalid {
                path: path.to_owned(),
                line: None,
                column: None,
                message: "the file is empty; expected `stages:` with a list of stages".into(),
            });
        }
        serde_norway::from_str(text).map_err(|err| {
            let location = err.location();
            SpecError::Invalid {
                path: path.to_owned(),
                line: location.as_ref().map(|l| l.line()),
                column: location.as_ref().map(|l| l.column()),
                message: strip_location(&err.to_string()),
            }
        })
    }
}

/// serde_norway appends " at line L column C"; the location is already in front.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn non_empty_stages<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Stage>, D::Error> {
    let stages = Vec::<Stage>::deserialize(d)?;
    if stages.is_empty() {
        return Err(serde::de::Error::custom(
            "`stages` is empty; add at least one stage",
        ));
    }
    Ok(stages)
}

fn non_empty_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    non_empty(d, "name")
}

fn non_empty_command<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    non_empty(d, "command")
}

fn non_empty<'de, D: Deserializer<'de>>(d: D, field: &str) -> Result<String, D::Error> {
    // A number or a boolean here is a mistake (`command: 42`), not a command to run.
    let serde_norway::Value::String(s) = serde_norway::Value::deserialize(d)? else {
        return Err(serde::de::Error::custom(format!(
            "`{field}` must be a string; quote it if it looks like a number"
        )));
    };
    if s.trim().is_empty() {
        return Err(serde::de::Error::custom(format!(
            "`{field}` must not be empty"
        )));
    }
    Ok(s)
}

/// A YAML scalar the user may write where a string is meant (`DEBUG: 1`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => f.write_str(s),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x}"),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

fn env_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let raw = BTreeMap::<String, Scalar>::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.to_string())).collect())
}

fn optional_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let duration = match Scalar::deserialize(d)? {
        Scalar::Int(secs) if secs > 0 => Duration::from_secs(secs.unsigned_abs()),
        Scalar::String(text) => humantime::parse_duration(text.trim()).map_err(|e| {
            serde::de::Error::custom(format!(
                "`timeout` {text:?} is not a duration ({e}); write e.g. 90s, 10m or 1h 30m"
            ))
        })?,
        other => {
            return Err(serde::de::Error::custom(format!(
                "`timeout` {other} is not a positive duration; write e.g. 90s, 10m or 1h 30m"
            )));
        }
    };
    if duration.is_zero() {
        return Err(serde::de::Error::custom(
            "`timeout` must be longer than zero",
        ));
    }
    Ok(Some(duration))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Pipeline, String> {
        Pipeline::parse(Path::new("ci.yml"), text).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_the_documented_shape() {
        let pipeline = parse(
            "stages:\n  - name: \"Lint\"\n    command: \"pylint **/*.py\"\n  - name: Test\n    command: |\n      echo a\n      echo b\n    timeout: 10m\n    env:\n      DEBUG: 1\n      MODE: fast\n",
        )
        .unwrap();
        assert_eq!(pipeline.stages.len(), 2);
        assert_eq!(pipeline.stages[0].command, "pylint **/*.py");
        assert_eq!(pipeline.stages[1].command, "echo a\necho b\n");
        assert_eq!(pipeline.stages[1].timeout, Some(Duration::from_secs(600)));
        assert_eq!(pipeline.stages[1].env["DEBUG"], "1");
        assert_eq!(pipeline.stages[1].env["MODE"], "fast");
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let cases = [
            ("stages: [\n", "ci.yml:2:1: "),
            ("steps: []\n", "ci.yml:1:1: unknown field `steps`"),
            ("stages: []\n", "`stages` is empty"),
            (
                "stages:\n  - command: ls\n",
                "ci.yml:2:5: stages[0]: missing field `name`",
            ),
            (
                "stages:\n  - name: a\n",
                "ci.yml:2:5: stages[0]: missing field `command`",
            ),
            (
                "stages:\n  - name: a\n    command: ls\n    comand: ls\n",
                "ci.yml:4:5: stages[0]: unknown field `comand`",
            ),
            (
                "stages:\n  - name: ''\n    command: ls\n",
                "ci.yml:2:5: stages[0]: `name` must not be empty",
            ),
            (
                "stages:\n  - name: a\n    command: ls\n    timeout: soon\n",
                "is not a duration",
            ),
            (
                "stages:\n  - name: a\n    command: ls\n    timeout: 0\n",
                "not a positive duration",
            ),
            ("", "the file is empty"),
            (
                "stages:\n  - name: a\n    command: 42\n",
                "ci.yml:2:5: stages[0]: `command` must be a string",
            ),
            (
                "stages:\n  - name: true\n    command: ls\n",
                "`name` must be a string",
            ),
        ];
        for (text, want) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(want), "{text:?}: got {err:?}, want {want:?}");
        }
    }
}
