//! `[service]`: the container, its load balancer health check and its deployment settings.

use toml_edit::TableLike;

use std::collections::BTreeMap;

use super::model::{ServiceSpec, fargate_memory};
use super::reader::{Reader, Table};

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
        health_check_path: health_check_path(reader, t, d.health_check_path),
        health_check_interval_secs: int(reader, "health_check_interval_secs", 10, 5..=300),
        healthy_threshold: int(reader, "healthy_threshold", 2, 2..=10),
        unhealthy_threshold: int(reader, "unhealthy_threshold", 2, 2..=10),
        deregistration_delay_secs: int(reader, "deregistration_delay_secs", 30, 0..=3600),
        health_check_grace_secs: int(reader, "health_check_grace_secs", 30, 0..=7200),
        min_healthy_percent: int(reader, "min_healthy_percent", 100, 0..=100),
        max_percent: int(reader, "max_percent", 200, 100..=200),
        rollback: reader.bool(t, "rollback", true),
        certificate_arn: certificate_arn(reader, t),
        wait_timeout_secs: int(reader, "wait_timeout_secs", 600, 1..=7200),
        dockerfile: reader.string(t, "dockerfile").unwrap_or(d.dockerfile),
        build: None,
    }
}

fn image<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> Option<String> {
    let image = reader.string(t, "image");
    if let Some(image) = &image
        && (image.trim().is_empty() || image.contains(char::is_whitespace))
    {
        let span = reader.span_of(t, "image");
        reader.error_at(span, "service.image", format!("{image:?} is not an image reference like \"123456789012.dkr.ecr.us-east-1.amazonaws.com/messages:1.0\""));
    }
    image
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
                span,
                &format!("service.environment.{key}"),
                "is set by stackctl (from the stack's queue and service.port)".into(),
            );
        }
        environment.insert(key, value);
    }
    environment
}

fn health_check_path<'a>(reader: &mut Reader<'a>, t: Table<'a>, default: String) -> String {
    let path = reader.string(t, "health_check_path").unwrap_or(default);
    if !path.starts_with('/') {
        let span = reader.span_of(t, "health_check_path");
        reader.error_at(
            span,
            "service.health_check_path",
            format!("{path:?} must start with /"),
        );
    }
    path
}

fn certificate_arn<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> Option<String> {
    let arn = reader.string(t, "certificate_arn");
    if let Some(arn) = &arn
        && !arn.starts_with("arn:")
    {
        let span = reader.span_of(t, "certificate_arn");
        reader.error_at(
            span,
            "service.certificate_arn",
            format!("{arn:?} is not an ARN (arn:aws:acm:...)"),
        );
    }
    arn
}
