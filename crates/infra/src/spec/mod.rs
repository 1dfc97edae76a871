//! The `stack.toml` model, its defaults, and validation.
//!
//! [`StackSpec::parse`] reads the whole file and reports **every** problem at once, each with
//! `file:line:col`, the key, and what is allowed: unknown keys, wrong types, out-of-range
//! numbers, bad or overlapping CIDRs, and names that AWS would refuse once prefixed. Nothing
//! here calls AWS.

mod names;
mod network;
mod reader;
mod service;

use std::fmt;
use std::path::{Path, PathBuf};

use ipnet::Ipv4Net;

pub use names::Names;
use reader::Reader;

/// Allowed CloudWatch Logs retention periods, in days.
pub const LOG_RETENTION_DAYS: [i64; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// A validated stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSpec {
    /// Prefixes every AWS name; the value of the `stackctl:stack` tag.
    pub name: String,
    pub region: String,
    /// Extra tags for every resource (cost allocation, ownership).
    pub tags: std::collections::BTreeMap<String, String>,
    pub network: NetworkSpec,
    pub queue: QueueSpec,
    pub registry: RegistrySpec,
    pub logs: LogsSpec,
    pub service: ServiceSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub cidr: Ipv4Net,
    pub availability_zones: usize,
    pub nat_gateway: bool,
    /// One per zone, in zone order.
    pub public_subnets: Vec<Ipv4Net>,
    pub private_subnets: Vec<Ipv4Net>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub visibility_timeout_secs: u32,
    pub message_retention_secs: u32,
    pub receive_wait_secs: u32,
    pub dead_letter_max_receives: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrySpec {
    pub keep_images: u32,
    pub scan_on_push: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsSpec {
    pub retention_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// The port the container listens on; the service security group opens it to the ALB.
    pub port: u16,
    /// A prebuilt image to deploy as is. Without one (and without `up --image`), the load
    /// balancer and the ECS service are not part of the stack.
    pub image: Option<String>,
    /// Fargate CPU units and memory (MiB), one of Fargate's allowed pairs.
    pub cpu: u32,
    pub memory: u32,
    pub desired_count: u32,
    /// Extra environment for the container; `ENV` defaults to `prod`. `SQS_QUEUE_URL` and
    /// `PORT` are set by stackctl.
    pub environment: std::collections::BTreeMap<String, String>,
    pub health_check_path: String,
    pub health_check_interval_secs: u32,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
    /// How long the load balancer drains a target (AWS's default of 300 s slows every deploy).
    pub deregistration_delay_secs: u32,
    pub health_check_grace_secs: u32,
    pub min_healthy_percent: u32,
    pub max_percent: u32,
    /// Roll back a deployment that the circuit breaker stops.
    pub rollback: bool,
    /// With a certificate, an HTTPS listener on 443 and HTTP redirected to it.
    pub certificate_arn: Option<String>,
    /// How long `up` waits for a deployment to finish.
    pub wait_timeout_secs: u32,
    /// The Dockerfile `up` builds when no image is given, relative to the stack file.
    pub dockerfile: String,
    /// Set by the caller (not read from the file) when the image is to be built.
    pub build: Option<Build>,
}

/// An image to build and push: the context, the Dockerfile and the content-derived tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub context: std::path::PathBuf,
    pub dockerfile: std::path::PathBuf,
    pub tag: String,
}

impl ServiceSpec {
    pub fn defaults() -> Self {
        Self {
            port: 5000,
            image: None,
            cpu: 256,
            memory: 512,
            desired_count: 1,
            environment: std::collections::BTreeMap::new(),
            health_check_path: "/healthcheck".into(),
            health_check_interval_secs: 10,
            healthy_threshold: 2,
            unhealthy_threshold: 2,
            deregistration_delay_secs: 30,
            health_check_grace_secs: 30,
            min_healthy_percent: 100,
            max_percent: 200,
            rollback: true,
            certificate_arn: None,
            wait_timeout_secs: 600,
            dockerfile: "Dockerfile".into(),
            build: None,
        }
    }
}

/// Fargate's allowed CPU units and the memory sizes (MiB) each allows.
pub fn fargate_memory(cpu: u32) -> Option<Vec<u32>> {
    let range = |from: u32, to: u32, step: u32| (from..=to).step_by(step as usize).collect();
    Some(match cpu {
        256 => vec![512, 1024, 2048],
        512 => range(1024, 4096, 1024),
        1024 => range(2048, 8192, 1024),
        2048 => range(4096, 16384, 1024),
        4096 => range(8192, 30720, 1024),
        8192 => range(16384, 61440, 4096),
        16384 => range(32768, 122_880, 8192),
        _ => return None,
    })
}

/// One problem in a stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub line: usize,
    pub column: usize,
    /// The dotted key, e.g. `network.cidr`.
    pub key: String,
    pub message: String,
}

/// Every problem found in a stack file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SpecErrors {
    pub path: PathBuf,
    pub errors: Vec<SpecError>,
}

impl fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        writeln!(
            f,
            "{} has {n} problem{}:",
            self.path.display(),
            if n == 1 { "" } else { "s" }
        )?;
        for (i, e) in self.errors.iter().enumerate() {
            write!(
                f,
                "  {}:{}:{}: {}: {}",
                self.path.display(),
                e.line,
                e.column,
                e.key,
                e.message
            )?;
            if i + 1 < n {
                writeln!(f)?;
            }
        }
        Ok(())
    }
}

/// Why a stack file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the stack file {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Invalid(#[from] SpecErrors),
}

impl StackSpec {
    /// Reads and validates a stack file.
    pub fn load(path: &Path) -> Result<Self, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::parse(path, &text)?)
    }

    /// Validates `text`; `path` names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Self, SpecErrors> {
        let mut reader = Reader::new(text);
        let doc = match toml_edit::Document::parse(text) {
            Ok(doc) => doc,
            Err(err) => {
                let message = err.message().trim().to_owned();
                reader.error_at(err.span(), "(syntax)", format!("invalid TOML: {message}"));
                return reader.into_result(path, Self::minimal("invalid"));
            }
        };
        let root = doc.as_table();
        reader.unknown_keys(
            root,
            "",
            &["stack", "network", "queue", "registry", "logs", "service"],
        );

        let stack = reader.table(root, "stack", &["name", "region", "tags"]);
        let name = match reader.string(stack, "name") {
            Some(name) => {
                let span = reader.span_of(stack, "name");
                for problem in names::check_stack_name(&name) {
                    reader.error_at(span.clone(), "stack.name", problem);
                }
                name
            }
            None => {
                let absent = stack.table.is_none_or(|t| !t.contains_key("name"));
                if absent {
                    let span = reader.span_of(stack, "name");
                    reader.error_at(
                        span,
                        "stack.name",
                        "is required: every AWS name starts with it, e.g. name = \"messages\""
                            .into(),
                    );
                }
                "invalid".into()
            }
        };
        let region = reader
            .string(stack, "region")
            .unwrap_or_else(|| "us-east-1".into());
        if !names::is_region(&region) {
            let span = reader.span_of(stack, "region");
            reader.error_at(
                span,
                "stack.region",
                format!("{region:?} is not an AWS region name like \"us-east-1\""),
            );
        }

        let mut tags = std::collections::BTreeMap::new();
        let user_tags = reader.string_table(stack, "tags");
        if user_tags.len() > names::MAX_USER_TAGS {
            let span = reader.span_of(stack, "tags");
            reader.error_at(
                span,
                "stack.tags",
                format!(
                    "{} tags; at most {} (AWS allows 50 per resource and stackctl uses 3)",
                    user_tags.len(),
                    names::MAX_USER_TAGS
                ),
            );
        }
        for (key, value, span) in user_tags {
            for problem in names::check_tag(&key, &value) {
                reader.error_at(span.clone(), &format!("stack.tags.{key}"), problem);
            }
            tags.insert(key, value);
        }

        let network = network::read(&mut reader, root);

        let queue_table = reader.table(
            root,
            "queue",
            &[
                "visibility_timeout_secs",
                "message_retention_secs",
                "receive_wait_secs",
                "dead_letter_max_receives",
            ],
        );
        let queue = QueueSpec {
            visibility_timeout_secs: to_u32(reader.int(
                queue_table,
                "visibility_timeout_secs",
                30,
                0..=43_200,
            )),
            message_retention_secs: to_u32(reader.int(
                queue_table,
                "message_retention_secs",
                345_600,
                60..=1_209_600,
            )),
            receive_wait_secs: to_u32(reader.int(queue_table, "receive_wait_secs", 0, 0..=20)),
            dead_letter_max_receives: to_u32(reader.int(
                queue_table,
                "dead_letter_max_receives",
                5,
                1..=1000,
            )),
        };

        let registry_table = reader.table(root, "registry", &["keep_images", "scan_on_push"]);
        let registry = RegistrySpec {
            keep_images: to_u32(reader.int(registry_table, "keep_images", 10, 1..=1000)),
            scan_on_push: reader.bool(registry_table, "scan_on_push", true),
        };

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
        let logs = LogsSpec {
            retention_days: i32::try_from(retention).unwrap_or(14),
        };

        let service = service::read(&mut reader, root);

        let spec = Self {
            name,
            region,
            tags,
            network,
            queue,
            registry,
            logs,
            service,
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
            },
            queue: QueueSpec {
                visibility_timeout_secs: 30,
                message_retention_secs: 345_600,
                receive_wait_secs: 0,
                dead_letter_max_receives: 5,
            },
            registry: RegistrySpec {
                keep_images: 10,
                scan_on_push: true,
            },
            logs: LogsSpec { retention_days: 14 },
            service: ServiceSpec::defaults(),
        }
    }

    /// The AWS names derived from the stack name.
    pub fn names(&self) -> Names {
        Names::new(&self.name)
    }
}

/// Values were range-checked by the reader; out-of-range ones were reported and defaulted.
fn to_u32(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests;
