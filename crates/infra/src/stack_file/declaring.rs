//! Where in a stack file a part of the stack is declared: named when that part needs an AWS
//! service the endpoint does not serve or the identity may not read, so the user sees which
//! line to change (or which default to turn off).

use toml_edit::{Item, TableLike};

/// A part of a stack that makes it need some kinds of resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every stack: its network, registry, roles, logs, cluster.
    Stack,
    /// Any service.
    Service,
    /// A service behind the load balancer.
    WebService,
    /// A service found by name (Cloud Map).
    InternalService,
    /// A web service's public domain (a certificate and DNS records).
    Domain,
    Autoscaling,
    NatGateway,
    Queue,
    Bucket,
    Alarms,
    /// Where the alarms notify (an SNS topic).
    AlarmTopic,
    Dashboard,
}

/// Where a part is declared: `line:col` of the key or table that declares it, and how the
/// file says it (`[services.api.autoscaling]`), or how the default gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub at: Option<(usize, usize)>,
    pub what: String,
}

/// Where `text` declares `part`; `None` when it cannot be parsed.
pub fn declaring(text: &str, part: Part) -> Option<Declared> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let root = doc.as_table();
    let found = match part {
        Part::Stack => key(root, "stack", "[stack]"),
        Part::Service => services(root).into_iter().next().map(|s| s.found),
        Part::WebService => service_of_kind(root, "web"),
        Part::InternalService => service_of_kind(root, "internal"),
        Part::Domain => services(root).into_iter().find_map(|s| {
            let path = format!("{}.domain", s.path);
            key(s.table, "domain", &path)
        }),
        Part::Autoscaling => services(root).into_iter().find_map(|s| {
            let path = format!("[{}.autoscaling]", s.path);
            key(s.table, "autoscaling", &path)
        }),
        Part::NatGateway => {
            table(root, "network").and_then(|t| key(t, "nat_gateway", "network.nat_gateway = true"))
        }
        Part::Queue => key(root, "queue", "[queue]").or_else(|| {
            let queues = table(root, "queues")?;
            let (name, _) = queues.iter().next()?;
            key(queues, name, &format!("[queues.{name}]"))
        }),
        Part::Bucket => table(root, "buckets").and_then(|buckets| {
            let (name, _) = buckets.iter().next()?;
            key(buckets, name, &format!("[buckets.{name}]"))
        }),
        Part::Alarms => key(root, "alarms", "[alarms]"),
        Part::AlarmTopic => table(root, "alarms").and_then(|t| key(t, "notify", "alarms.notify")),
        Part::Dashboard => key(root, "dashboard", "[dashboard]"),
    };
    Some(found.unwrap_or_else(|| Declared {
        at: None,
        what: default_of(part).to_owned(),
    }))
}

/// How the defaults give a part the file does not name.
fn default_of(part: Part) -> &'static str {
    match part {
        Part::Stack => "every stack",
        Part::Service | Part::WebService => "the default service (a web service)",
        Part::InternalService => "an internal service",
        Part::Domain => "a web service's domain",
        Part::Autoscaling => "autoscaling",
        Part::NatGateway => "network.nat_gateway",
        Part::Queue => "the default queue",
        Part::Bucket => "a [buckets.NAME] table",
        Part::Alarms => "the default alarms (`[alarms] enabled = false` turns them off)",
        Part::AlarmTopic => "alarms.notify",
        Part::Dashboard => "the default dashboard (`[dashboard] enabled = false` turns it off)",
    }
}

struct ServiceTable<'a> {
    path: String,
    table: &'a dyn TableLike,
    found: Declared,
}

/// `[service]` and every `[services.NAME]`, in file order.
fn services(root: &dyn TableLike) -> Vec<ServiceTable<'_>> {
    let mut out = Vec::new();
    if let (Some(table), Some(found)) = (table(root, "service"), key(root, "service", "[service]"))
    {
        out.push(ServiceTable {
            path: "service".into(),
            table,
            found,
        });
    }
    if let Some(all) = table(root, "services") {
        for (name, item) in all.iter() {
            let (Some(table), Some(found)) = (
                item.as_table_like(),
                key(all, name, &format!("[services.{name}]")),
            ) else {
                continue;
            };
            out.push(ServiceTable {
                path: format!("services.{name}"),
                table,
                found,
            });
        }
    }
    out
}

fn service_of_kind(root: &dyn TableLike, kind: &str) -> Option<Declared> {
    services(root).into_iter().find_map(|s| {
        let of = s.table.get("kind").and_then(Item::as_str);
        match of {
            Some(k) if k == kind => key(s.table, "kind", &format!("{}.kind = {kind:?}", s.path)),
            None if kind == "web" => Some(s.found),
            _ => None,
        }
    })
}

fn table<'a>(parent: &'a dyn TableLike, name: &str) -> Option<&'a dyn TableLike> {
    parent.get(name).and_then(Item::as_table_like)
}

/// `name` in `parent`, said as `what`, at its key.
fn key(parent: &dyn TableLike, name: &str, what: &str) -> Option<Declared> {
    parent.get(name)?;
    let at = parent.key(name).and_then(|k| k.span());
    Some(Declared {
        at: at.map(|span| (span.start, 0)),
        what: what.to_owned(),
    })
}

/// `line:col` (one-based, columns in characters) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// [`declaring`] with the key's offset made a `line:col`.
pub fn declaring_at(text: &str, part: Part) -> Option<Declared> {
    let mut found = declaring(text, part)?;
    found.at = found.at.map(|(offset, _)| position(text, offset));
    Some(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[stack]\nname = \"s\"\n\n[services.api]\nport = 5000\n\n[services.api.autoscaling]\nmax = 3\ncpu = 60\n\n[services.inner]\nkind = \"internal\"\n\n[alarms]\nnotify = \"ops@example.com\"\n";

    fn at(part: Part) -> (Option<(usize, usize)>, String) {
        let d = declaring_at(FILE, part).unwrap();
        (d.at, d.what)
    }

    #[test]
    fn each_part_is_found_at_its_key() {
        assert_eq!(at(Part::Stack), (Some((1, 2)), "[stack]".into()));
        assert_eq!(
            at(Part::Autoscaling),
            (Some((7, 15)), "[services.api.autoscaling]".into())
        );
        assert_eq!(
            at(Part::InternalService),
            (Some((12, 1)), "services.inner.kind = \"internal\"".into())
        );
        assert_eq!(
            at(Part::WebService),
            (Some((4, 11)), "[services.api]".into())
        );
        assert_eq!(
            at(Part::AlarmTopic),
            (Some((15, 1)), "alarms.notify".into())
        );
    }

    #[test]
    fn a_part_the_defaults_give_says_so() {
        let (line, what) = at(Part::Dashboard);
        assert_eq!(line, None);
        assert!(
            what.contains("`[dashboard] enabled = false` turns it off"),
            "{what}"
        );
        assert_eq!(declaring_at("[stack\n", Part::Stack), None);
    }
}
