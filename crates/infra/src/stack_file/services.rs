//! `[service]` or `[services.NAME]`, and `[queue]` or `[queues.NAME]`: the stack's services
//! and queues, their names, and the rules that hold across them (one default web service, no
//! two routes alike or one hiding another, queues named by a service declared).

use std::collections::{HashMap, HashSet};
use std::ops::Range;

use toml_edit::TableLike;

use super::model::{QueueSpec, SINGLE_QUEUE, SINGLE_SERVICE, ServiceKind, ServiceSpec};
use super::names::normalise;
use super::patterns;
use super::reader::{Read, Reader, Table, dotted};

/// A stack name and a service name together: `{stack}-{service}` and a 3-character hash
/// must fit a target group's 32 characters.
const MAX_STACK_AND_SERVICE: usize = 27;

/// The services: the one of `[service]` (also the default when there is neither table),
/// or each of `[services.NAME]`. True when they come from `[services]`.
pub(super) fn services<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
    stack: &str,
) -> (Vec<Read<'a, ServiceSpec>>, bool) {
    let single = reader.table(root, "service", super::service::KEYS);
    let Some(many) = open(reader, root, "services") else {
        let spec = super::service::read(reader, single, SINGLE_SERVICE.into());
        return (
            vec![Read {
                spec,
                table: single,
            }],
            false,
        );
    };
    if single.table.is_some() {
        let span = reader.span_of(many, "");
        reader.error_at(
            span,
            "services",
            "use either [service] (a stack of one service) or [services.NAME] tables, not both; \
             [service] is the same as [services.app]"
                .into(),
        );
    }
    let mut out: Vec<Read<'a, ServiceSpec>> = Vec::new();
    // Where each normalised name is in `out`: a file of many tables is read in linear time.
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (key, span) in entries(reader, many) {
        let table = reader.child(many, key, super::service::KEYS);
        let name = checked_name(reader, span, "services", key, stack, MAX_STACK_AND_SERVICE);
        if let Some(other) = seen.get(&name).map(|&at| &out[at]) {
            let span = reader.span_of(table, "");
            reader.error_at(
                span,
                &table.name(),
                format!(
                    "is the same service as [{}] once names are normalised (lowercase, - for _): \
                     AWS and DNS names would clash; rename one",
                    other.table.name()
                ),
            );
            continue;
        }
        seen.insert(name.clone(), out.len());
        let spec = super::service::read(reader, table, name);
        out.push(Read { spec, table });
    }
    (out, true)
}

/// The queues: the one of `[queue]` (also the default of a one-service stack that declares
/// none), or each of `[queues.NAME]`.
pub(super) fn queues<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
    stack: &str,
    several_services: bool,
) -> Vec<QueueSpec> {
    let single = reader.table(root, "queue", super::shared::QUEUE_KEYS);
    let Some(many) = open(reader, root, "queues") else {
        if single.table.is_none() && several_services {
            return Vec::new();
        }
        return vec![super::shared::queue(reader, single, SINGLE_QUEUE.into())];
    };
    if single.table.is_some() {
        let span = reader.span_of(many, "");
        reader.error_at(
            span,
            "queues",
            "use either [queue] (one queue) or [queues.NAME] tables, not both; [queue] is the \
             same as [queues.messages]"
                .into(),
        );
    }
    let mut out: Vec<QueueSpec> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    // `{stack}-{name}-dlq` is at most 80 characters.
    let room = 80 - 5;
    for (key, span) in entries(reader, many) {
        let table = reader.child(many, key, super::shared::QUEUE_KEYS);
        let name = checked_name(reader, span.clone(), "queues", key, stack, room);
        if !seen.insert(name.clone()) {
            reader.error_at(
                span,
                &table.name(),
                format!("is the same queue as another once normalised ({name:?}); rename one"),
            );
            continue;
        }
        out.push(super::shared::queue(reader, table, name));
    }
    out
}

/// The keys of a table whose values are tables (`web` and `api` of `[services]`), with
/// each key's span; any other value is reported.
pub(super) fn entries<'a>(
    reader: &mut Reader<'a>,
    table: Table<'a>,
) -> Vec<(&'a str, Option<Range<usize>>)> {
    let Some(inner) = table.table else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, item) in inner.iter() {
        let span = inner.key(name).and_then(|k| k.span());
        if item.is_table_like() {
            out.push((name, span));
        } else {
            reader.error_at(
                span,
                &format!("{}.{name}", table.path),
                format!(
                    "expected a table ([{}.{name}]), found {}",
                    table.path,
                    item.type_name()
                ),
            );
        }
    }
    out
}

/// The table `name` of the root, without checking its keys (they are names).
pub(super) fn open<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
    name: &'a str,
) -> Option<Table<'a>> {
    let table = reader.named_tables(root, name);
    table.table.map(|_| table)
}

/// The normalised name, after reporting what AWS would refuse in it.
pub(super) fn checked_name(
    reader: &mut Reader<'_>,
    span: Option<std::ops::Range<usize>>,
    table: &str,
    key: &str,
    stack: &str,
    room: usize,
) -> String {
    let name = normalise(key);
    let shown = super::reader::shown(key);
    let charset = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.ends_with('-')
        && !name.contains("--");
    if !charset {
        reader.error_at(
            span.clone(),
            &format!("{table}.{shown}"),
            "is not a name stackctl can use: letters, digits, - and _, starting with a letter, \
             not ending with - or _ (it becomes part of AWS and DNS names)"
                .into(),
        );
    } else if stack.len() + name.len() > room {
        reader.error_at(
            span,
            &format!("{table}.{shown}"),
            format!(
                "is too long: with the stack's name {stack:?} a name has at most {} characters \
                 (AWS limits the names made from both)",
                room.saturating_sub(stack.len())
            ),
        );
    }
    name
}

/// The rules across services and queues.
pub(super) fn check<'a>(
    reader: &mut Reader<'a>,
    services: &mut [Read<'a, ServiceSpec>],
    queues: &[QueueSpec],
    several: bool,
) {
    let declared: HashSet<&str> = queues.iter().map(|q| q.name.as_str()).collect();
    for s in services.iter_mut() {
        // The one service of `[service]` uses every queue, as it always has.
        if !several {
            let given = |key| s.table.table.is_some_and(|t| t.contains_key(key));
            let all: Vec<String> = queues.iter().map(|q| q.name.clone()).collect();
            if !given("sends_to") {
                s.spec.sends_to.clone_from(&all);
            }
            if !given("consumes") {
                s.spec.consumes.clone_from(&all);
            }
        }
        queue_names(reader, s, queues, &declared);
        super::autoscaling::check_queue(reader, s.table, &mut s.spec);
        if s.spec.kind == ServiceKind::Worker && s.spec.consumes.is_empty() {
            let span = reader.span_of(s.table, "consumes");
            reader.error_at(
                span,
                &dotted(s.table, "consumes"),
                "a worker consumes at least one queue, e.g. consumes = [\"jobs\"]".into(),
            );
        }
    }
    routes(reader, services);
}

fn queue_names(
    reader: &mut Reader<'_>,
    s: &Read<'_, ServiceSpec>,
    queues: &[QueueSpec],
    known: &HashSet<&str>,
) {
    for key in ["sends_to", "consumes"] {
        let names = if key == "sends_to" {
            &s.spec.sends_to
        } else {
            &s.spec.consumes
        };
        for name in names {
            if known.contains(name.as_str()) {
                continue;
            }
            let declared: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
            let span = reader.span_of(s.table, key);
            reader.error_at(
                span,
                &dotted(s.table, key),
                format!(
                    "names the queue {name:?}, which the stack does not declare; declared: {} \
                     (add a [queues.{name}] table)",
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

/// One default web service, the only one with the certificate; and the rules.
fn routes(reader: &mut Reader<'_>, services: &[Read<'_, ServiceSpec>]) {
    let web: Vec<&Read<'_, ServiceSpec>> = services
        .iter()
        .filter(|s| s.spec.kind == ServiceKind::Web)
        .collect();
    let defaults: Vec<_> = web.iter().filter(|s| s.spec.route.is_default()).collect();
    if let (false, []) = (web.is_empty(), defaults.as_slice()) {
        let span = reader.span_of(web[0].table, "paths");
        reader.error_at(
            span,
            &web[0].table.name(),
            "no web service takes the requests no rule matches: leave out paths and hosts on \
             one of them"
                .into(),
        );
    }
    for extra in defaults.iter().skip(1) {
        let span = reader.span_of(extra.table, "");
        let domain = if extra.spec.domain.is_some() {
            " (a domain alone routes a service only beside one web service without a domain, \
             which takes the rest)"
        } else {
            ""
        };
        reader.error_at(
            span,
            &extra.table.name(),
            format!(
                "is a second web service without paths or hosts; only one ([{}]) can take the \
                 requests no rule matches: give this one paths or hosts{domain}",
                defaults[0].table.name()
            ),
        );
    }
    no_shadows(reader, &web);
    let default = defaults.first().map(|d| d.spec.name.as_str());
    for s in services {
        if s.spec.certificate_arn.is_some() && Some(s.spec.name.as_str()) != default {
            let span = reader.span_of(s.table, "certificate_arn");
            reader.error_at(
                span,
                &dotted(s.table, "certificate_arn"),
                "the load balancer's certificate is set on the default web service (the one \
                 without paths or hosts)"
                    .into(),
            );
        }
    }
}

/// No two alike routes, none hidden by one tried before it; at most a listener's rules.
fn no_shadows(reader: &mut Reader<'_>, web: &[&Read<'_, ServiceSpec>]) {
    let mut ruled: Vec<&Read<'_, ServiceSpec>> = web
        .iter()
        .copied()
        .filter(|s| !s.spec.route.is_default())
        .collect();
    ruled.sort_by(|a, b| {
        patterns::rule_order(&a.spec.route, &a.spec.name)
            .cmp(&patterns::rule_order(&b.spec.route, &b.spec.name))
    });
    if ruled.len() > patterns::MAX_RULES {
        let span = reader.span_of(ruled[patterns::MAX_RULES].table, "");
        reader.error_at(
            span,
            "services",
            format!(
                "{} web services with paths or hosts; a load balancer listener takes at most {} \
                 rules",
                ruled.len(),
                patterns::MAX_RULES
            ),
        );
        // Past the limit, comparing every pair of routes would only take time.
        return;
    }
    for (i, later) in ruled.iter().enumerate() {
        let Some(first) = ruled[..i]
            .iter()
            .find(|f| patterns::shadows(&f.spec.route, &later.spec.route))
        else {
            continue;
        };
        let same = first.spec.route == later.spec.route;
        let span = reader.span_of(later.table, "paths");
        reader.error_at(
            span,
            &later.table.name(),
            if same {
                format!("has the same paths and hosts as [{}]: a request can go to only one", first.table.name())
            } else {
                format!(
                    "would never get a request: [{}] is tried first and matches every path and host \
                     this one does; narrow that one's paths or hosts",
                    first.table.name()
                )
            },
        );
    }
}
