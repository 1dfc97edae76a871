//! A service's `autoscaling` table: the task count's bounds and the target-tracking policies
//! that move it (CPU, requests per target for web services, queue backlog per task for the
//! services that consume a queue), with their cooldowns.

use super::model::{AutoscalingSpec, ServiceKind, ServiceSpec};
use super::reader::{Reader, Table, dotted};

pub(super) const KEYS: &[&str] = &[
    "min",
    "max",
    "cpu",
    "requests_per_target",
    "backlog_per_task",
    "queue",
    "scale_in_cooldown_secs",
    "scale_out_cooldown_secs",
];

/// ECS's most tasks for one service.
const MAX_TASKS: i64 = 5000;

/// Reads `[services.NAME.autoscaling]` of the service table `t`; `None` when absent.
pub(super) fn read<'a>(
    reader: &mut Reader<'a>,
    t: Table<'a>,
    kind: ServiceKind,
    desired_count: Option<u32>,
) -> Option<AutoscalingSpec> {
    let a = reader.child(t, "autoscaling", KEYS);
    a.table?;
    let given = |key: &str| a.table.is_some_and(|table| table.contains_key(key));
    let count = |reader: &mut Reader<'a>, key: &str, default: i64, range| {
        u32::try_from(reader.int(a, key, default, range)).unwrap_or(0)
    };
    let optional = |reader: &mut Reader<'a>, key: &str, range| {
        given(key).then(|| u32::try_from(reader.int(a, key, 1, range)).unwrap_or(1))
    };
    let spec = AutoscalingSpec {
        min: count(reader, "min", 1, 0..=MAX_TASKS),
        max: count(reader, "max", 4, 1..=MAX_TASKS),
        cpu: optional(reader, "cpu", 10..=90),
        requests_per_target: optional(reader, "requests_per_target", 1..=1_000_000),
        backlog_per_task: optional(reader, "backlog_per_task", 1..=1_000_000),
        queue: reader
            .string(a, "queue")
            .map(|q| super::names::normalise(&q)),
        scale_in_cooldown_secs: count(reader, "scale_in_cooldown_secs", 300, 0..=3600),
        scale_out_cooldown_secs: count(reader, "scale_out_cooldown_secs", 60, 0..=3600),
    };
    check(reader, (t, a), &spec, kind, desired_count);
    Some(spec)
}

/// The rules within one table: bounds, a policy at least, requests only for web services.
fn check<'a>(
    reader: &mut Reader<'a>,
    (t, a): (Table<'a>, Table<'a>),
    spec: &AutoscalingSpec,
    kind: ServiceKind,
    desired_count: Option<u32>,
) {
    if spec.min > spec.max {
        let span = reader.span_of(a, "max");
        let message = format!(
            "{} is below min ({}); max must be at least min",
            spec.max, spec.min
        );
        reader.error_at(span, &dotted(a, "max"), message);
    } else if let Some(desired_count) = desired_count
        && !(spec.min..=spec.max).contains(&desired_count)
    {
        let span = reader.span_of(t, "desired_count");
        let message = format!(
            "{desired_count} is outside autoscaling's min {} and max {}: it is the count a new \
             service starts with, so it must be within them",
            spec.min, spec.max
        );
        reader.error_at(span, &dotted(t, "desired_count"), message);
    }
    if spec.cpu.is_none() && spec.requests_per_target.is_none() && spec.backlog_per_task.is_none() {
        let span = reader.span_of(a, "");
        reader.error_at(
            span,
            &a.name(),
            "has no policy: set at least one of cpu (target CPU %), requests_per_target (web \
             services) or backlog_per_task (services that consume a queue)"
                .into(),
        );
    }
    if spec.requests_per_target.is_some() && kind != ServiceKind::Web {
        let span = reader.span_of(a, "requests_per_target");
        reader.error_at(
            span,
            &dotted(a, "requests_per_target"),
            "only a web service gets requests from the load balancer; use cpu or \
             backlog_per_task"
                .into(),
        );
    }
}

/// Once the queues each service consumes are known: the queue backlog is counted on.
pub(super) fn check_queue<'a>(reader: &mut Reader<'a>, t: Table<'a>, spec: &mut ServiceSpec) {
    let consumes = spec.consumes.clone();
    let Some(a) = spec.autoscaling.as_mut() else {
        return;
    };
    let Some(_) = a.backlog_per_task else {
        return;
    };
    let table = reader.child(t, "autoscaling", KEYS);
    let problem = match (&a.queue, consumes.as_slice()) {
        (Some(q), _) if consumes.contains(q) => None,
        (Some(q), _) => Some(format!(
            "names {q:?}, which this service does not consume; it consumes: {}",
            if consumes.is_empty() {
                "none".to_owned()
            } else {
                consumes.join(", ")
            }
        )),
        (None, [one]) => {
            a.queue = Some(one.clone());
            None
        }
        (None, []) => Some(
            "backlog_per_task needs a queue this service consumes (consumes = [\"jobs\"])".into(),
        ),
        (None, several) => Some(format!(
            "this service consumes {}: say which one's backlog counts, e.g. queue = {:?}",
            several.join(", "),
            several[0]
        )),
    };
    if let Some(message) = problem {
        let span = reader.span_of(table, "queue");
        reader.error_at(span, &dotted(table, "queue"), message);
    }
}
