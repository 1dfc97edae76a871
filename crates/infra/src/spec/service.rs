//! `[service]`: the container, its load balancer health check and its deployment settings.

use toml_edit::TableLike;

use std::collections::BTreeMap;

use super::model::{ServiceSpec, fargate_memory};
use super::reader::{Reader, Table};
use super::values;

const KEYS: &[&str] = &[
    "port",
    "image",
    "cpu",
    "memory",
    "desired_count",
    "environment",
    "health_check_path",
    "health_check_interval_secs",
    "healthy_threshold",
    "unhealthy_threshold",
    "deregistration_delay_secs",
    "health_check_grace_secs",
    "min_healthy_percent",
    "max_percent",
    "rollback",
    "certificate_arn",
    "wait_timeout_secs",
    "dockerfile",
];

/// Environment variables stackctl sets itself, from the stack.
pub const RESERVED_ENV: [&str; 2] = ["SQS_QUEUE_URL", "PORT"];

fn u32_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

pub(super) fn read<'a>(reader: &mut Reader<'a>, root: &'a dyn TableLike) -> ServiceSpec {
    let d = ServiceSpec::defaults();
    let t = reader.table(root, "service", KEYS);
    let (cpu, memory) = size(reader, t, &d);
    let int = |reader: &mut Reader<'a>, key: &str, default: u32, range| {
        u32_of(reader.int(t, key, i64::from(default), range))
    };
    ServiceSpec {
        port: u16::try_from(reader.int(t, "port", 5000, 1..=65_535)).unwrap_or(5000),
        image: image(reader, t),
        cpu,
        memory,
        desired_count: int(reader, "desired_count", d.desired_count, 0..=100),
        environment: environment(reader, t),
        health_check_path: checked(
            reader,
            t,
            "health_check_path",
            values::check_health_check_path,
        )
        .unwrap_or(d.health_check_path),
        health_check_interval_secs: int(reader, "health_check_interval_secs", 10, 5..=300),
        healthy_threshold: int(reader, "healthy_threshold", 2, 2..=10),
        unhealthy_threshold: int(reader, "unhealthy_threshold", 2, 2..=10),
        deregistration_delay_secs: int(reader, "deregistration_delay_secs", 30, 0..=3600),
        health_check_grace_secs: int(reader, "health_check_grace_secs", 30, 0..=7200),
        min_healthy_percent: int(reader, "min_healthy_percent", 100, 0..=100),
        max_percent: int(reader, "max_percent", 200, 100..=200),
        rollback: reader.bool(t, "rollback", true),
        certificate_arn: checked(reader, t, "certificate_arn", values::check_certificate_arn),
        wait_timeout_secs: int(reader, "wait_timeout_secs", 600, 1..=7200),
        dockerfile: checked(reader, t, "dockerfile", values::check_dockerfile)
            .unwrap_or(d.dockerfile),
        build: None,
    }
}

fn image<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> Option<String> {
    let image = reader.string(t, "image")?;
    if let Some(problem) = values::check_image(&image) {
        let span = reader.span_of(t, "image");
        reader.error_at(span, "service.image", problem);
    }
    Some(image)
}

/// A string key checked by `check`, or its default.
fn checked<'a>(
    reader: &mut Reader<'a>,
    t: Table<'a>,
    key: &str,
    check: fn(&str) -> Option<String>,
) -> Option<String> {
    let value = reader.string(t, key)?;
    if let Some(problem) = check(&value) {
        let span = reader.span_of(t, key);
        reader.error_at(span, &format!("service.{key}"), problem);
    }
    Some(value)
}

/// Fargate's CPU units and memory, which must be one of its allowed pairs.
fn size<'a>(reader: &mut Reader<'a>, t: Table<'a>, d: &ServiceSpec) -> (u32, u32) {
    let cpu = u32_of(reader.int(t, "cpu", i64::from(d.cpu), 256..=16_384));
    let memory = u32_of(reader.int(t, "memory", i64::from(d.memory), 512..=122_880));
    match fargate_memory(cpu) {
        None => {
            let span = reader.span_of(t, "cpu");
            reader.error_at(span, "service.cpu", format!("{cpu} is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384"));
        }
        Some(allowed) if !allowed.contains(&memory) => {
            let span = reader.span_of(t, "memory");
            let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
            reader.error_at(
                span,
                "service.memory",
                format!(
                    "{memory} MiB does not go with cpu = {cpu} on Fargate; allowed: {}",
                    list.join(", ")
                ),
            );
        }
        Some(_) => {}
    }
    (cpu, memory)
}

fn environment<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> BTreeMap<String, String> {
    let mut environment = BTreeMap::new();
    for (key, value, span) in reader.string_table(t, "environment") {
        let valid = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            reader.error_at(
                span.clone(),
                &format!("service.environment.{key}"),
                "is not a variable name: use letters, digits and _, not starting with a digit"
                    .into(),
            );
        }
        if RESERVED_ENV.contains(&key.as_str()) {
            reader.error_at(
                span.clone(),
                &format!("service.environment.{key}"),
                "is set by stackctl (from the stack's queue and service.port)".into(),
            );
        }
        if let Some(problem) = values::check_environment_value(&value) {
            reader.error_at(span, &format!("service.environment.{key}"), problem);
        }
        environment.insert(key, value);
    }
    let bytes: usize = environment.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > values::ENVIRONMENT_MAX_BYTES {
        let span = reader.span_of(t, "environment");
        reader.error_at(
            span,
            "service.environment",
            format!(
                "is {bytes} bytes; at most {} (a task definition is at most 64 KiB): keep \
                 large values in a file, a secret or the queue",
                values::ENVIRONMENT_MAX_BYTES
            ),
        );
    }
    environment
}
