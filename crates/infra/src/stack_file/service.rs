//! One service table (`[service]`, or `[services.NAME]`): the container, how it is reached,
//! its queues and secrets, its load balancer health check and its deployment settings.

use std::collections::BTreeMap;

use super::model::{Route, ServiceKind, ServiceSpec, fargate_memory};
use super::patterns;
use super::reader::{Reader, Table, dotted};
use super::values;

pub(super) const KEYS: &[&str] = &[
    "kind",
    "port",
    "paths",
    "hosts",
    "sends_to",
    "consumes",
    "reads",
    "writes",
    "secrets",
    "command",
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
    "domain",
    "wait_timeout_secs",
    "dockerfile",
    "context",
    "autoscaling",
];

/// Environment variables stackctl sets itself, from the stack.
pub const RESERVED_ENV: [&str; 2] = ["SQS_QUEUE_URL", "PORT"];
/// Prefixes of the variables stackctl sets: per queue, per internal service, and the stack's and
/// the service's names (`STACKCTL_STACK`, `STACKCTL_SERVICE`).
pub const RESERVED_PREFIXES: [&str; 3] = ["SQS_QUEUE_URL_", "SERVICE_URL_", "STACKCTL_"];

fn u32_of(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

/// Reads one service table; `name` is already normalised.
pub(super) fn read<'a>(reader: &mut Reader<'a>, t: Table<'a>, name: String) -> ServiceSpec {
    let d = ServiceSpec::defaults();
    let kind = kind(reader, t);
    let (cpu, memory) = size(reader, t, &d);
    let int = |reader: &mut Reader<'a>, key: &str, default: u32, range| {
        u32_of(reader.int(t, key, i64::from(default), range))
    };
    let (desired_count, autoscaling) = count(reader, t, kind, d.desired_count);
    let health_check_path = checked(
        reader,
        t,
        "health_check_path",
        values::check_health_check_path,
    );
    ServiceSpec {
        port: port(reader, t, kind, health_check_path.is_some()),
        route: route(reader, t, kind),
        sends_to: names(reader, t, "sends_to"),
        consumes: names(reader, t, "consumes"),
        reads: names(reader, t, "reads"),
        writes: names(reader, t, "writes"),
        secrets: secrets(reader, t),
        command: reader
            .strings(t, "command")
            .map(|items| items.into_iter().map(|(s, _)| s).collect())
            .unwrap_or_default(),
        name,
        kind,
        image: image(reader, t),
        cpu,
        memory,
        desired_count,
        autoscaling,
        environment: environment(reader, t),
        health_check_path: health_check_path.unwrap_or(d.health_check_path),
        health_check_interval_secs: int(reader, "health_check_interval_secs", 10, 5..=300),
        healthy_threshold: int(reader, "healthy_threshold", 2, 2..=10),
        unhealthy_threshold: int(reader, "unhealthy_threshold", 2, 2..=10),
        deregistration_delay_secs: int(reader, "deregistration_delay_secs", 30, 0..=3600),
        health_check_grace_secs: int(reader, "health_check_grace_secs", 30, 0..=7200),
        min_healthy_percent: int(reader, "min_healthy_percent", 100, 0..=100),
        max_percent: int(reader, "max_percent", 200, 100..=200),
        rollback: reader.bool(t, "rollback", true),
        certificate_arn: checked(reader, t, "certificate_arn", values::check_certificate_arn),
        domain: super::domains::read(reader, t, kind),
        wait_timeout_secs: int(reader, "wait_timeout_secs", 600, 1..=7200),
        dockerfile: checked(reader, t, "dockerfile", values::check_dockerfile)
            .unwrap_or(d.dockerfile),
        context: checked(reader, t, "context", values::check_dockerfile).unwrap_or(d.context),
        build: None,
    }
}

/// The task count and the autoscaling that may move it: unless given, an autoscaled service
/// starts at its minimum.
fn count<'a>(
    reader: &mut Reader<'a>,
    t: Table<'a>,
    kind: ServiceKind,
    default: u32,
) -> (u32, Option<super::model::AutoscalingSpec>) {
    let given = t
        .table
        .is_some_and(|table| table.contains_key("desired_count"));
    let count = u32_of(reader.int(t, "desired_count", i64::from(default), 0..=100));
    let autoscaling = super::autoscaling::read(reader, t, kind, given.then_some(count));
    let count = autoscaling.as_ref().map_or(count, |a| {
        let start = if given { count } else { a.min.max(1) };
        // Not `clamp`: min > max is reported, not a panic.
        start.max(a.min).min(a.max)
    });
    (count, autoscaling)
}

fn kind<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> ServiceKind {
    match reader.string(t, "kind").as_deref() {
        None | Some("web") => ServiceKind::Web,
        Some("internal") => ServiceKind::Internal,
        Some("worker") => ServiceKind::Worker,
        Some(other) => {
            let span = reader.span_of(t, "kind");
            reader.error_at(
                span,
                &dotted(t, "kind"),
                format!(
                    "{:?} is not a kind of service; allowed: \"web\" (behind the load \
                     balancer), \"internal\" (reached by the stack's services by name), \
                     \"worker\" (no port, consumes queues)",
                    super::reader::shown(other)
                ),
            );
            ServiceKind::Web
        }
    }
}

/// The container port: 5000 by default for a web service, required for an internal one,
/// refused for a worker.
fn port<'a>(
    reader: &mut Reader<'a>,
    t: Table<'a>,
    kind: ServiceKind,
    health_check: bool,
) -> Option<u16> {
    let given = t.table.is_some_and(|table| table.contains_key("port"));
    let port = u16::try_from(reader.int(t, "port", 5000, 1..=65_535)).unwrap_or(5000);
    match kind {
        ServiceKind::Web => Some(port),
        ServiceKind::Internal if given => Some(port),
        ServiceKind::Internal => {
            let span = reader.span_of(t, "port");
            reader.error_at(
                span,
                &dotted(t, "port"),
                "is required for an internal service: the port the stack's other services \
                 call it on, e.g. port = 8080"
                    .into(),
            );
            if health_check {
                no_port_to_check(reader, t, "an internal service without a port");
            }
            None
        }
        ServiceKind::Worker => {
            if given {
                let span = reader.span_of(t, "port");
                reader.error_at(
                    span,
                    &dotted(t, "port"),
                    "a worker has no port: nothing calls it, it consumes queues. Use kind = \
                     \"internal\" or \"web\" for a service that listens"
                        .into(),
                );
            }
            if health_check {
                no_port_to_check(reader, t, "a worker");
            }
            None
        }
    }
}

fn no_port_to_check<'a>(reader: &mut Reader<'a>, t: Table<'a>, what: &str) {
    let span = reader.span_of(t, "health_check_path");
    reader.error_at(
        span,
        &dotted(t, "health_check_path"),
        format!("{what} has no port to check; give it a port or leave out health_check_path"),
    );
}

/// `paths` and `hosts`: only a web service has a route.
fn route<'a>(reader: &mut Reader<'a>, t: Table<'a>, kind: ServiceKind) -> Route {
    let mut route = Route::default();
    for (key, check) in [
        (
            "paths",
            patterns::check_path_pattern as fn(&str) -> Option<String>,
        ),
        ("hosts", patterns::check_host),
    ] {
        let Some(values) = reader.strings(t, key) else {
            continue;
        };
        if kind != ServiceKind::Web {
            let span = reader.span_of(t, key);
            reader.error_at(
                span,
                &dotted(t, key),
                format!(
                    "only a web service is routed by the load balancer; this one is kind = \"{}\"",
                    kind.as_str()
                ),
            );
        }
        for (value, span) in values {
            if let Some(problem) = check(&value) {
                reader.error_at(span, &dotted(t, key), problem);
            }
            let list = if key == "paths" {
                &mut route.paths
            } else {
                &mut route.hosts
            };
            list.push(value);
        }
    }
    let values = route.paths.len() + route.hosts.len();
    if values > patterns::MAX_CONDITION_VALUES {
        let span = reader.span_of(t, "paths");
        reader.error_at(
            span,
            &dotted(t, "paths"),
            format!(
                "{values} paths and hosts; a load balancer rule matches at most {} values in all",
                patterns::MAX_CONDITION_VALUES
            ),
        );
    }
    route.paths.sort();
    route.hosts.sort();
    route
}

/// Queue or bucket names, normalised; checked against the declared ones once all are read.
fn names<'a>(reader: &mut Reader<'a>, t: Table<'a>, key: &str) -> Vec<String> {
    reader
        .strings(t, key)
        .unwrap_or_default()
        .into_iter()
        .map(|(name, _)| super::names::normalise(&name))
        .collect()
}

fn secrets<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> BTreeMap<String, String> {
    let mut secrets = BTreeMap::new();
    for (key, value, span) in reader.string_table(t, "secrets") {
        let name = format!("{}.{key}", dotted(t, "secrets"));
        if let Some(problem) = variable_name(&key) {
            reader.error_at(span.clone(), &name, problem);
        }
        if let Some(problem) = patterns::check_secret_arn(&value) {
            reader.error_at(span, &name, problem);
        }
        secrets.insert(key, value);
    }
    secrets
}

/// Why `key` cannot be an environment variable the stack file sets, if it cannot.
fn variable_name(key: &str) -> Option<String> {
    let valid = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Some(
            "is not a variable name: use letters, digits and _, not starting with a digit".into(),
        );
    }
    let reserved =
        RESERVED_ENV.contains(&key) || RESERVED_PREFIXES.iter().any(|p| key.starts_with(p));
    reserved.then(|| {
        "is set by stackctl (PORT from the port, SQS_QUEUE_URL… from the queues, SERVICE_URL_… \
         from the internal services, STACKCTL_… naming the stack and the service)"
            .into()
    })
}

fn image<'a>(reader: &mut Reader<'a>, t: Table<'a>) -> Option<String> {
    checked(reader, t, "image", values::check_image)
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
        reader.error_at(span, &dotted(t, key), problem);
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
            reader.error_at(span, &dotted(t, "cpu"), format!("{cpu} is not a Fargate CPU size; allowed: 256, 512, 1024, 2048, 4096, 8192, 16384"));
        }
        Some(allowed) if !allowed.contains(&memory) => {
            let span = reader.span_of(t, "memory");
            let list: Vec<String> = allowed.iter().map(u32::to_string).collect();
            reader.error_at(
                span,
                &dotted(t, "memory"),
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
        let name = format!("{}.{key}", dotted(t, "environment"));
        if let Some(problem) = variable_name(&key) {
            reader.error_at(span.clone(), &name, problem);
        }
        if let Some(problem) = values::check_environment_value(&value) {
            reader.error_at(span, &name, problem);
        }
        environment.insert(key, value);
    }
    let bytes: usize = environment.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > values::ENVIRONMENT_MAX_BYTES {
        let span = reader.span_of(t, "environment");
        reader.error_at(
            span,
            &dotted(t, "environment"),
            format!(
                "is {bytes} bytes; at most {} (a task definition is at most 64 KiB): keep \
                 large values in a file, a secret or the queue",
                values::ENVIRONMENT_MAX_BYTES
            ),
        );
    }
    environment
}
