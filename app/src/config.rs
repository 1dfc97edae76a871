//! Settings from the environment, validated once at start-up.

use std::path::PathBuf;
use std::time::Duration;

/// The environment name in which a missing `SQS_QUEUE_URL` means "use an in-memory queue".
pub const DEVEL: &str = "devel";

/// Messages `app worker` works on at once by default: as many as one receive brings.
pub const DEFAULT_WORKER_CONCURRENCY: usize = 10;

/// The longest long-polling wait SQS accepts.
const MAX_WAIT_SECS: u64 = 20;

/// Everything the service reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// TCP port to listen on (`PORT`, default 5000).
    pub port: u16,
    /// Environment name reported by `/healthcheck` (`ENV`, default `devel`).
    pub environment: String,
    /// Where messages go.
    pub queue: QueueConfig,
    /// How long `GET /message` long-polls an empty queue (`SQS_WAIT_SECS`, default 1, at most 20).
    pub receive_wait: Duration,
    /// How logs are written (`LOG_FORMAT=json|text`; default text in `devel`, JSON elsewhere).
    pub log_format: LogFormat,
    /// Where even-sum jobs are kept and summed; `None` where the service takes none.
    pub jobs: Option<JobsConfig>,
    /// How many messages `app worker` works on at once (`WORKER_CONCURRENCY`, 1 to 100,
    /// default 10): about the vCPUs for CPU-bound work such as even-sum parts.
    pub worker_concurrency: usize,
}

/// Where even-sum jobs are kept and summed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobsConfig {
    /// On this machine (`ENV=devel` with no bucket).
    Local {
        /// The folder of inputs and records (`JOBS_DIR`, default `app-jobs` in the temporary
        /// folder).
        dir: PathBuf,
        /// Summing threads (`JOB_THREADS`, default one per core).
        threads: usize,
    },
    /// In a bucket (`JOBS_BUCKET`, or `S3_BUCKET_JOBS`, which stackctl sets for a service that
    /// reads or writes the stack's bucket `jobs`), parts on `SQS_QUEUE_URL` for `app worker`.
    Bucket {
        name: String,
        /// The size of a part (`JOB_PART_MIB`, default 16 MiB).
        part_bytes: u64,
    },
}

/// The queue the service talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueConfig {
    /// A real SQS queue; region, credentials and endpoint come from the standard AWS chain.
    Sqs { url: String },
    /// A process-local queue: the zero-setup way to try the service (`ENV=devel` only).
    InMemory,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A setting that is missing or malformed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{name}={value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error(
        "SQS_QUEUE_URL is not set and ENV is {environment:?}: outside ENV=devel the service needs a queue \
         (set SQS_QUEUE_URL, or ENV=devel for an in-memory queue)"
    )]
    MissingQueueUrl { environment: String },
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let port = match var("PORT") {
            None => 5000,
            Some(value) => value.trim().parse().map_err(|_| ConfigError::Invalid {
                name: "PORT",
                value,
                reason: "expected a TCP port number from 0 to 65535",
            })?,
        };
        let environment = var("ENV").unwrap_or_else(|| DEVEL.to_owned());
        let queue = match var("SQS_QUEUE_URL") {
            Some(url) => QueueConfig::Sqs { url },
            None if environment == DEVEL => QueueConfig::InMemory,
            None => return Err(ConfigError::MissingQueueUrl { environment }),
        };
        let receive_wait = match var("SQS_WAIT_SECS") {
            None => Duration::from_secs(1),
            Some(value) => match value.trim().parse::<u64>() {
                Ok(secs) if secs <= MAX_WAIT_SECS => Duration::from_secs(secs),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "SQS_WAIT_SECS",
                        value,
                        reason: "expected whole seconds from 0 to 20 (the SQS long-polling limit)",
                    });
                }
            },
        };
        let log_format = match var("LOG_FORMAT").as_deref().map(str::trim) {
            None if environment == DEVEL => LogFormat::Text,
            None | Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "expected `json` or `text`",
                });
            }
        };
        let jobs = jobs(&var, &queue, &environment)?;
        let worker_concurrency = worker_concurrency(&var)?;
        Ok(Self {
            port,
            environment,
            queue,
            receive_wait,
            log_format,
            jobs,
            worker_concurrency,
        })
    }
}

/// Where jobs go: a bucket when one is named (the parts need the SQS queue), else a local
/// folder in `ENV=devel`, else nowhere.
fn jobs(
    var: &impl Fn(&str) -> Option<String>,
    queue: &QueueConfig,
    environment: &str,
) -> Result<Option<JobsConfig>, ConfigError> {
    let bucket = var("JOBS_BUCKET").or_else(|| var("S3_BUCKET_JOBS"));
    match (bucket, queue) {
        (Some(name), QueueConfig::Sqs { .. }) => Ok(Some(JobsConfig::Bucket {
            name,
            part_bytes: part_bytes(var)?,
        })),
        (Some(name), QueueConfig::InMemory) => Err(ConfigError::Invalid {
            name: "JOBS_BUCKET",
            value: name,
            reason: "jobs in a bucket send their parts to SQS_QUEUE_URL, which is not set",
        }),
        (None, _) if environment == DEVEL => Ok(Some(local_jobs(var)?)),
        (None, _) => Ok(None),
    }
}

fn worker_concurrency(var: &impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    match var("WORKER_CONCURRENCY") {
        None => Ok(DEFAULT_WORKER_CONCURRENCY),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => Ok(n),
            _ => Err(ConfigError::Invalid {
                name: "WORKER_CONCURRENCY",
                value,
                reason: "expected a whole number from 1 to 100",
            }),
        },
    }
}

fn part_bytes(var: &impl Fn(&str) -> Option<String>) -> Result<u64, ConfigError> {
    match var("JOB_PART_MIB") {
        None => Ok(crate::jobs::on_aws::PART_BYTES),
        Some(value) => match value.trim().parse::<u64>() {
            Ok(mib) if (1..=1024).contains(&mib) => Ok(mib << 20),
            _ => Err(ConfigError::Invalid {
                name: "JOB_PART_MIB",
                value,
                reason: "expected whole MiB from 1 to 1024",
            }),
        },
    }
}

fn local_jobs(var: &impl Fn(&str) -> Option<String>) -> Result<JobsConfig, ConfigError> {
    let dir = var("JOBS_DIR").map_or_else(|| std::env::temp_dir().join("app-jobs"), PathBuf::from);
    let threads = match var("JOB_THREADS") {
        None => std::thread::available_parallelism().map_or(1, usize::from),
        Some(value) => match value.trim().parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => n,
            _ => {
                return Err(ConfigError::Invalid {
                    name: "JOB_THREADS",
                    value,
                    reason: "expected a whole number from 1 to 256",
                });
            }
        },
    };
    Ok(JobsConfig::Local { dir, threads })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_to_devel_on_port_5000_with_an_in_memory_queue() {
        let config = config(&[]).unwrap();
        assert_eq!(config.port, 5000);
        assert_eq!(config.environment, "devel");
        assert_eq!(config.queue, QueueConfig::InMemory);
        assert_eq!(config.receive_wait, Duration::from_secs(1));
        assert_eq!(config.log_format, LogFormat::Text);
        let Some(JobsConfig::Local { dir, threads }) = config.jobs else {
            panic!("{:?}", config.jobs)
        };
        assert!(dir.ends_with("app-jobs") && threads >= 1);
    }

    #[test]
    fn reads_every_setting() {
        let config = config(&[
            ("PORT", "8080"),
            ("ENV", "prod"),
            ("SQS_QUEUE_URL", "http://127.0.0.1:5055/123/q"),
            ("SQS_WAIT_SECS", "20"),
        ])
        .unwrap();
        assert_eq!(config.port, 8080);
        assert_eq!(config.environment, "prod");
        assert_eq!(
            config.queue,
            QueueConfig::Sqs {
                url: "http://127.0.0.1:5055/123/q".into()
            }
        );
        assert_eq!(config.receive_wait, Duration::from_secs(20));
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.jobs, None, "no bucket, no jobs outside ENV=devel");
        assert_eq!(config.worker_concurrency, 10);
    }

    #[test]
    fn jobs_go_to_a_bucket_named_by_stackctl_or_by_hand() {
        let queue = ("SQS_QUEUE_URL", "http://127.0.0.1:5055/123/q");
        for (vars, bucket) in [
            (vec![("S3_BUCKET_JOBS", "shop-jobs"), queue], "shop-jobs"),
            (
                vec![("JOBS_BUCKET", "mine"), ("S3_BUCKET_JOBS", "x"), queue],
                "mine",
            ),
            (
                vec![("ENV", "prod"), ("S3_BUCKET_JOBS", "shop-jobs"), queue],
                "shop-jobs",
            ),
        ] {
            let config = config(&vars).unwrap();
            let name = bucket.to_owned();
            let part_bytes = crate::jobs::on_aws::PART_BYTES;
            let want = Some(JobsConfig::Bucket { name, part_bytes });
            assert_eq!(config.jobs, want, "{vars:?}");
        }
        let tuned = config(&[("S3_BUCKET_JOBS", "b"), queue, ("JOB_PART_MIB", "4")]).unwrap();
        assert!(
            matches!(tuned.jobs, Some(JobsConfig::Bucket { part_bytes, .. }) if part_bytes == 4 << 20)
        );
        let err = config(&[("S3_BUCKET_JOBS", "b"), queue, ("JOB_PART_MIB", "0")]).unwrap_err();
        assert!(err.to_string().contains("JOB_PART_MIB"), "{err}");
        let err = config(&[("S3_BUCKET_JOBS", "shop-jobs")]).unwrap_err();
        assert!(err.to_string().contains("SQS_QUEUE_URL"), "{err}");
    }

    #[test]
    fn a_missing_queue_url_outside_devel_is_an_error() {
        let err = config(&[("ENV", "prod")]).unwrap_err();
        assert_eq!(
            err,
            ConfigError::MissingQueueUrl {
                environment: "prod".into()
            }
        );
        assert!(err.to_string().contains("SQS_QUEUE_URL"));
    }

    #[test]
    fn rejects_malformed_values_by_name() {
        for (name, value) in [
            ("PORT", "http"),
            ("PORT", "70000"),
            ("SQS_WAIT_SECS", "21"),
            ("SQS_WAIT_SECS", "-1"),
            ("LOG_FORMAT", "xml"),
            ("JOB_THREADS", "0"),
            ("JOB_THREADS", "many"),
            ("WORKER_CONCURRENCY", "0"),
            ("WORKER_CONCURRENCY", "101"),
        ] {
            let err = config(&[(name, value)]).unwrap_err();
            assert!(
                matches!(err, ConfigError::Invalid { name: n, .. } if n == name),
                "{name}={value}: {err}"
            );
        }
    }
}
