//! A queue table, `[registry]` and `[logs]`: what the services share besides the network.

use toml_edit::TableLike;

use super::model::{LOG_RETENTION_DAYS, LogsSpec, QueueSpec, RegistrySpec};
use super::reader::{Reader, Table};

/// Values were range-checked by the reader; out-of-range ones were reported and defaulted.
fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

pub(super) const QUEUE_KEYS: &[&str] = &[
    "visibility_timeout_secs",
    "message_retention_secs",
    "receive_wait_secs",
    "dead_letter_max_receives",
];

/// One queue table (`[queue]` or `[queues.NAME]`); `name` is already normalised.
pub(super) fn queue<'a>(reader: &mut Reader<'a>, t: Table<'a>, name: String) -> QueueSpec {
    let d = QueueSpec::defaults();
    let mut int =
        |key: &str, default: u32, range| to_u32(reader.int(t, key, i64::from(default), range));
    QueueSpec {
        visibility_timeout_secs: int(
            "visibility_timeout_secs",
            d.visibility_timeout_secs,
            0..=43_200,
        ),
        message_retention_secs: int(
            "message_retention_secs",
            d.message_retention_secs,
            60..=1_209_600,
        ),
        receive_wait_secs: int("receive_wait_secs", d.receive_wait_secs, 0..=20),
        dead_letter_max_receives: int(
            "dead_letter_max_receives",
            d.dead_letter_max_receives,
            1..=1000,
        ),
        name,
    }
}

pub(super) fn registry<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> RegistrySpec {
    let registry_table = reader.table(root, "registry", &["keep_images", "scan_on_push"]);
    RegistrySpec {
        keep_images: to_u32(reader.int(registry_table, "keep_images", 10, 1..=1000)),
        scan_on_push: reader.bool(registry_table, "scan_on_push", true),
    }
}

pub(super) fn logs<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> LogsSpec {
    let logs_table = reader.table(root, "logs", &["retention_days"]);
    let retention = reader.int(logs_table, "retention_days", 14, 1..=3653);
    if !LOG_RETENTION_DAYS.contains(&retention) {
        let span = reader.span_of(logs_table, "retention_days");
        let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(i64::to_string).collect();
        reader.error_at(
            span,
            "logs.retention_days",
            format!(
                "{retention} is not a retention CloudWatch Logs offers; allowed: {}",
                allowed.join(", ")
            ),
        );
    }
    LogsSpec {
        retention_days: i32::try_from(retention).unwrap_or(14),
    }
}
