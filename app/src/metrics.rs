//! The service's own metrics in CloudWatch's Embedded Metric Format: one JSON line on stdout
//! per measurement, with an `_aws` object that tells CloudWatch Logs to extract the values as
//! metrics (namespace `stackctl`, dimensions `Stack` and `Service`), no API call and no agent.
//! Written only with JSON logs (in containers); a developer's terminal stays readable.

use std::io::Write as _;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::config::LogFormat;

/// Where the metrics go in CloudWatch.
pub const NAMESPACE: &str = "stackctl";

/// Who is measuring: the stack and the service (`STACKCTL_STACK`, `STACKCTL_SERVICE`, which
/// the task definition sets), and whether lines are written at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitter {
    pub stack: String,
    pub service: String,
    pub enabled: bool,
}

static EMITTER: OnceLock<Emitter> = OnceLock::new();

/// Sets up the metrics once per process (later calls keep the first).
pub fn init(format: LogFormat) {
    let var = |name: &str, default: &str| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let _ = EMITTER.set(Emitter {
        stack: var("STACKCTL_STACK", "local"),
        service: var("STACKCTL_SERVICE", "app"),
        enabled: format == LogFormat::Json,
    });
}

/// Records `values` (name, milliseconds), when metrics are on.
pub fn record(values: &[(&str, f64)]) {
    let Some(emitter) = EMITTER.get().filter(|e| e.enabled) else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let line = emitter.line(now, values);
    // A closed stdout is no reason to fail a request.
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

impl Emitter {
    /// One EMF document: the values, their dimensions, and the `_aws` directive.
    pub fn line(&self, timestamp_ms: u64, values: &[(&str, f64)]) -> Value {
        let metrics: Vec<Value> = values
            .iter()
            .map(|(name, _)| json!({"Name": name, "Unit": "Milliseconds"}))
            .collect();
        let mut doc = Map::new();
        doc.insert(
            "_aws".into(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Stack", "Service"]],
                    "Metrics": metrics,
                }],
            }),
        );
        doc.insert("Stack".into(), Value::from(self.stack.clone()));
        doc.insert("Service".into(), Value::from(self.service.clone()));
        for (name, value) in values {
            doc.insert((*name).to_owned(), Value::from(*value));
        }
        Value::Object(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_an_emf_document_with_each_value_and_its_dimensions() {
        let emitter = Emitter {
            stack: "shop".into(),
            service: "worker".into(),
            enabled: true,
        };
        let line = emitter.line(
            1_795_478_400_000,
            &[("execution_ms", 12.5), ("lead_ms", 40.0)],
        );
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_795_478_400_000_u64);
        assert_eq!(directive["Namespace"], "stackctl");
        assert_eq!(directive["Dimensions"], json!([["Stack", "Service"]]));
        assert_eq!(
            directive["Metrics"],
            json!([
                {"Name": "execution_ms", "Unit": "Milliseconds"},
                {"Name": "lead_ms", "Unit": "Milliseconds"}
            ])
        );
        // Every dimension and metric named in the directive is a top-level member.
        assert_eq!(line["Stack"], "shop");
        assert_eq!(line["Service"], "worker");
        assert_eq!(line["execution_ms"], 12.5);
        assert_eq!(line["lead_ms"], 40.0);
    }
}
