//! `[buckets.NAME]`: the stack's S3 buckets and their objects' expiry, and the rule that a
//! service's `reads` and `writes` name buckets the file declares.

use toml_edit::TableLike;

use super::model::{BucketSpec, ServiceSpec};
use super::reader::{Read, Reader, dotted};
use super::services::{checked_name, entries, open};

/// The buckets: each of `[buckets.NAME]`, with its objects' expiry.
pub(super) fn read<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
    stack: &str,
) -> Vec<BucketSpec> {
    let Some(many) = open(reader, root, "buckets") else {
        return Vec::new();
    };
    let mut out: Vec<BucketSpec> = Vec::new();
    // `{stack}-{name}` is a bucket name: at most 63 characters.
    let room = 63 - 1;
    for (key, span) in entries(reader, many) {
        let table = reader.child(many, key, &["expire_after_days"]);
        let name = checked_name(reader, span.clone(), "buckets", key, stack, room);
        if out.iter().any(|b| b.name == name) {
            reader.error_at(
                span,
                &table.name(),
                format!("is the same bucket as another once normalised ({name:?}); rename one"),
            );
            continue;
        }
        let given = table
            .table
            .is_some_and(|t| t.contains_key("expire_after_days"));
        let days = reader.int(table, "expire_after_days", 1, 1..=36_500);
        out.push(BucketSpec {
            name,
            expire_after_days: given.then(|| u32::try_from(days).unwrap_or(1)),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Each service's `reads` and `writes` name declared buckets.
pub(super) fn check_names(
    reader: &mut Reader<'_>,
    services: &[Read<'_, ServiceSpec>],
    buckets: &[BucketSpec],
) {
    let declared: Vec<&str> = buckets.iter().map(|b| b.name.as_str()).collect();
    for s in services {
        for (key, names) in [("reads", &s.spec.reads), ("writes", &s.spec.writes)] {
            for name in names.iter().filter(|n| !declared.contains(&n.as_str())) {
                let span = reader.span_of(s.table, key);
                reader.error_at(
                    span,
                    &dotted(s.table, key),
                    format!(
                        "names the bucket {name:?}, which the stack does not declare; declared: \
                         {} (add a [buckets.{name}] table)",
                        if declared.is_empty() {
                            "none".into()
                        } else {
                            declared.join(", ")
                        }
                    ),
                );
            }
        }
    }
}
