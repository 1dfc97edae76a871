//! The `stack.toml` model, its defaults, and validation.
//!
//! [`StackSpec::parse`] reads the whole file and reports **every** problem at once, each with
//! `file:line:col`, the key, and what is allowed: unknown keys, wrong types, out-of-range
//! numbers, bad or overlapping CIDRs, and names that AWS would refuse once prefixed. Nothing
//! here calls AWS. One reader per table, as the file is laid out; the model and the errors
//! are leaves they all share.

mod alarms;
mod autoscaling;
mod buckets;
mod capacity;
pub mod declaring;
mod domains;
mod errors;
mod model;
mod names;
mod network;
mod patterns;
mod reader;
mod service;
mod services;
mod shared;
mod stack_table;
mod values;

use std::path::Path;

use ipnet::Ipv4Net;

pub use errors::{LoadError, SpecError, SpecErrors};
pub use model::{
    AlarmsSpec, AutoscalingSpec, BucketSpec, Build, LOG_RETENTION_DAYS, LogsSpec, NetworkSpec,
    Notify, QueueSpec, RegistrySpec, Route, SINGLE_QUEUE, SINGLE_SERVICE, ServiceKind, ServiceSpec,
    StackSpec, env_suffix, fargate_memory,
};
pub use names::{Names, ServiceNames};
pub use patterns::rule_order;
use reader::Reader;
pub use service::{RESERVED_ENV, RESERVED_PREFIXES};
pub use values::check_image;

/// The tables a stack file may have.
const TABLES: [&str; 11] = [
    "stack",
    "network",
    "queue",
    "queues",
    "buckets",
    "registry",
    "logs",
    "alarms",
    "dashboard",
    "service",
    "services",
];

impl StackSpec {
    /// Reads and validates a stack file.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|e| not_utf8(path, &bytes, &e))?;
        Ok(Self::parse(path, text)?)
    }

    /// Validates `text`; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecErrors> {
        let mut reader = Reader::new(text);
        let doc = match toml_edit::Document::parse(text) {
            Ok(doc) => doc,
            Err(err) => {
                let message = syntax_message(text, &err);
                reader.error_at(err.span(), "(syntax)", message);
                return reader.into_result(path, Self::minimal("invalid"));
            }
        };
        let root = doc.as_table();
        reader.unknown_keys(root, "", &TABLES);
        let (name, region, tags) = stack_table::read(&mut reader, root);
        let network = network::read(&mut reader, root);
        let (mut read, several) = services::services(&mut reader, root, &name);
        let queues = services::queues(&mut reader, root, &name, several);
        let buckets = buckets::read(&mut reader, root, &name);
        // Before the routes are checked: a domain may route a service.
        domains::check(&mut reader, &mut read);
        services::check(&mut reader, &mut read, &queues, several);
        buckets::check_names(&mut reader, &read, &buckets);
        let mut services: Vec<ServiceSpec> = read.into_iter().map(|s| s.spec).collect();
        services.sort_by(|a, b| a.name.cmp(&b.name));
        capacity::check(&mut reader, root, &services, &network);
        let mut queues = queues;
        queues.sort_by(|a, b| a.name.cmp(&b.name));
        let spec = Self {
            name,
            region,
            tags,
            network,
            queues,
            buckets,
            registry: shared::registry(&mut reader, root),
            logs: shared::logs(&mut reader, root),
            alarms: alarms::read(&mut reader, root),
            dashboard: alarms::dashboard(&mut reader, root),
            services,
        };
        reader.into_result(path, spec)
    }

    /// The defaults for a stack called `name` (what a file with only `[stack] name` gives).
    pub fn minimal(name: &str) -> Self {
        let cidr: Ipv4Net =
            Ipv4Net::new(std::net::Ipv4Addr::new(10, 0, 0, 0), 16).unwrap_or_default();
        let (public_subnets, private_subnets) = network::carve(cidr, 2, 24).unwrap_or_default();
        Self {
            name: name.to_owned(),
            region: "us-east-1".into(),
            tags: std::collections::BTreeMap::new(),
            network: NetworkSpec {
                cidr,
                availability_zones: 2,
                nat_gateway: false,
                public_subnets,
                private_subnets,
                carved_prefix: Some(24),
            },
            queues: vec![QueueSpec::defaults()],
            buckets: Vec::new(),
            registry: RegistrySpec {
                keep_images: 10,
                scan_on_push: true,
            },
            logs: LogsSpec { retention_days: 14 },
            alarms: AlarmsSpec::defaults(),
            dashboard: true,
            services: vec![ServiceSpec {
                sends_to: vec![SINGLE_QUEUE.into()],
                consumes: vec![SINGLE_QUEUE.into()],
                ..ServiceSpec::defaults()
            }],
        }
    }
}

/// Where a file stops being UTF-8: the line and column of the first bad byte.
fn not_utf8(path: &Path, bytes: &[u8], err: &std::str::Utf8Error) -> SpecErrors {
    let good = &bytes[..err.valid_up_to()];
    // The prefix is valid UTF-8 by definition of `valid_up_to`.
    let before = std::str::from_utf8(good).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let bad = bytes.get(err.valid_up_to()).copied().unwrap_or(0);
    SpecErrors {
        path: path.to_owned(),
        errors: vec![SpecError {
            line,
            column,
            key: "(encoding)".into(),
            message: format!(
                "byte 0x{bad:02X} is not UTF-8; TOML files must be UTF-8 (re-save the file as \
                 UTF-8, or remove the character)"
            ),
        }],
    }
}

/// What is wrong with a file that is not TOML; a key or table given twice is named.
fn syntax_message(text: &str, err: &toml_edit::TomlError) -> String {
    let message = err.message().trim();
    let Some(span) = err.span().filter(|_| message.starts_with("duplicate key")) else {
        return format!("invalid TOML: {message}");
    };
    let name = text.get(span.clone()).map(str::trim).unwrap_or_default();
    // A table header (`[service]`) starts its line with a bracket; a key does not.
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..span.start].trim_start().starts_with('[') {
        format!("the table [{name}] appears twice: write its keys in one [{name}]")
    } else {
        format!("the key `{name}` is given twice in the same table")
    }
}

#[cfg(test)]
mod domains_tests;
#[cfg(test)]
mod services_tests;
#[cfg(test)]
mod tests;
