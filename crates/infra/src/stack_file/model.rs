//! The stack file's model: what a validated `stack.toml` says, with every default filled in.
//! A leaf: the readers build it, everything else reads it.

use ipnet::Ipv4Net;

use super::names::Names;

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
    /// Every queue, each with its dead-letter queue, by name.
    pub queues: Vec<QueueSpec>,
    /// Every S3 bucket, by name.
    pub buckets: Vec<BucketSpec>,
    pub registry: RegistrySpec,
    pub logs: LogsSpec,
    /// The default alarms and where they notify.
    pub alarms: AlarmsSpec,
    /// `[dashboard] enabled`: the stack's CloudWatch dashboard.
    pub dashboard: bool,
    /// Every service, by name.
    pub services: Vec<ServiceSpec>,
}

pub use super::names::{SINGLE_QUEUE, SINGLE_SERVICE};

/// `[buckets.NAME]`: an S3 bucket, private and encrypted, named `<stack>-<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    /// Normalised (lowercase, `-` for `_`).
    pub name: String,
    /// Objects are deleted this many days after they are written.
    pub expire_after_days: Option<u32>,
}

/// `[alarms]`: each default alarm on or off (a threshold of 0 turns one off), and where they
/// notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlarmsSpec {
    /// All of them; off, the stack has none.
    pub enabled: bool,
    pub notify: Option<Notify>,
    /// The load balancer's 5xx answers, as a share of its requests over 5 minutes.
    pub http_5xx_percent: u32,
    /// A web service's target group with an unhealthy target for 2 minutes.
    pub unhealthy_targets: bool,
    /// A service running fewer tasks than it wants for 5 minutes.
    pub running_below_desired: bool,
    /// A queue's oldest message older than this.
    pub oldest_message_secs: u32,
    /// A dead-letter queue with any message.
    pub dead_letters: bool,
}

impl AlarmsSpec {
    pub fn defaults() -> Self {
        Self {
            enabled: true,
            notify: None,
            http_5xx_percent: 5,
            unhealthy_targets: true,
            running_below_desired: true,
            oldest_message_secs: 900,
            dead_letters: true,
        }
    }
}

/// Where alarms go: an existing SNS topic, or an address the stack makes a topic for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    Topic(String),
    Email(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub cidr: Ipv4Net,
    pub availability_zones: usize,
    pub nat_gateway: bool,
    /// One per zone, in zone order.
    pub public_subnets: Vec<Ipv4Net>,
    pub private_subnets: Vec<Ipv4Net>,
    /// The block size stackctl carved the subnets with, when the file lists none: existing
    /// subnets then keep their blocks when zones are added or removed.
    pub carved_prefix: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    /// Its name in the stack file, as normalised (lowercase, `-` for `_`).
    pub name: String,
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

/// How a service is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceKind {
    /// Behind the stack's one load balancer, by a listener rule (or as the default).
    Web,
    /// No public route: the stack's other services reach it by name.
    Internal,
    /// No port: consumes queues.
    Worker,
}

impl ServiceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Internal => "internal",
            Self::Worker => "worker",
        }
    }
}

/// Which requests of the load balancer go to a web service: any of `paths` (ALB path
/// patterns) and any of `hosts`. Both empty: the default service, which takes the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Route {
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
}

impl Route {
    pub fn is_default(&self) -> bool {
        self.paths.is_empty() && self.hosts.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Its name in the stack file, as normalised (lowercase, `-` for `_`).
    pub name: String,
    pub kind: ServiceKind,
    /// The port the container listens on (none for a worker); its security group opens it
    /// to the load balancer (web) or to the stack's services (internal).
    pub port: Option<u16>,
    /// Web services: the requests that reach it.
    pub route: Route,
    /// Queues (by name) it may send to, and those it may consume.
    pub sends_to: Vec<String>,
    pub consumes: Vec<String>,
    /// Buckets (by name) it may read objects of, and those it may write objects to.
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    /// Environment variables read from Secrets Manager or SSM Parameter Store (ARN) at start.
    pub secrets: std::collections::BTreeMap<String, String>,
    /// Overrides the image's command (a worker mode of the same image).
    pub command: Vec<String>,
    /// A prebuilt image to deploy as is. Without one (and without `up --image` or a Dockerfile
    /// to build), a running service keeps the image it runs (`engine::KeptImage`).
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
    /// Web services: the public name it is reached at over HTTPS (a certificate stackctl
    /// requests and validates, and an alias record to the load balancer).
    pub domain: Option<String>,
    /// How long `up` waits for a deployment to finish.
    pub wait_timeout_secs: u32,
    /// The Dockerfile `up` builds when no image is given, relative to the stack file.
    pub dockerfile: String,
    /// The build context, relative to the stack file.
    pub context: String,
    /// Set by the caller (not read from the file) when the image is to be built.
    pub build: Option<Build>,
    /// The task count's bounds and the policies that move it; none: `desired_count` stays.
    pub autoscaling: Option<AutoscalingSpec>,
}

/// `[services.NAME.autoscaling]`: target tracking between `min` and `max` tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoscalingSpec {
    pub min: u32,
    pub max: u32,
    /// Average CPU utilisation to hold, in percent.
    pub cpu: Option<u32>,
    /// Requests per task a minute, from the load balancer (web services).
    pub requests_per_target: Option<u32>,
    /// Visible messages of `queue` per running task.
    pub backlog_per_task: Option<u32>,
    /// The consumed queue whose backlog counts (the only one, when there is one).
    pub queue: Option<String>,
    pub scale_in_cooldown_secs: u32,
    pub scale_out_cooldown_secs: u32,
}

/// An image to build and push: the context, the Dockerfile and the content-derived tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Build {
    pub context: std::path::PathBuf,
    pub dockerfile: std::path::PathBuf,
    pub tag: String,
}

impl ServiceSpec {
    /// The one-service `[service]` table's defaults.
    pub fn defaults() -> Self {
        Self {
            name: SINGLE_SERVICE.into(),
            kind: ServiceKind::Web,
            port: Some(5000),
            route: Route::default(),
            sends_to: Vec::new(),
            consumes: Vec::new(),
            reads: Vec::new(),
            writes: Vec::new(),
            secrets: std::collections::BTreeMap::new(),
            command: Vec::new(),
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
            domain: None,
            wait_timeout_secs: 600,
            dockerfile: "Dockerfile".into(),
            context: ".".into(),
            build: None,
            autoscaling: None,
        }
    }

    /// True for the service of the one-service `[service]` table (or `[services.app]`): its
    /// resources keep the logical ids and AWS names stacks had before there were several.
    pub fn is_single(&self) -> bool {
        self.name == SINGLE_SERVICE
    }

    /// The name as an environment variable suffix: `SQS_QUEUE_URL_<NAME>`, `SERVICE_URL_<NAME>`.
    pub fn env_suffix(&self) -> String {
        env_suffix(&self.name)
    }
}

/// `jobs-high` → `JOBS_HIGH`.
pub fn env_suffix(name: &str) -> String {
    name.to_ascii_uppercase().replace('-', "_")
}

impl QueueSpec {
    /// The one-queue `[queue]` table's defaults.
    pub fn defaults() -> Self {
        Self {
            name: SINGLE_QUEUE.into(),
            visibility_timeout_secs: 30,
            message_retention_secs: 345_600,
            receive_wait_secs: 0,
            dead_letter_max_receives: 5,
        }
    }

    pub fn is_single(&self) -> bool {
        self.name == SINGLE_QUEUE
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

impl StackSpec {
    /// The AWS names derived from the stack name.
    pub fn names(&self) -> Names {
        Names::new(&self.name)
    }

    pub fn bucket(&self, name: &str) -> Option<&BucketSpec> {
        self.buckets.iter().find(|b| b.name == name)
    }

    pub fn queue(&self, name: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The web services: those behind the load balancer.
    pub fn web(&self) -> impl Iterator<Item = &ServiceSpec> {
        self.services.iter().filter(|s| s.kind == ServiceKind::Web)
    }

    /// The service behind the load balancer's default action: the web service without a route.
    pub fn default_web(&self) -> Option<&ServiceSpec> {
        self.web().find(|s| s.route.is_default())
    }

    /// The longest deploy wait any service asks for.
    pub fn wait_timeout_secs(&self) -> u32 {
        self.services
            .iter()
            .map(|s| s.wait_timeout_secs)
            .max()
            .unwrap_or(600)
    }
}
