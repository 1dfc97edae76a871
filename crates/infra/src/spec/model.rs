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
    /// The block size stackctl carved the subnets with, when the file lists none: existing
    /// subnets then keep their blocks when zones are added or removed.
    pub carved_prefix: Option<u8>,
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

impl StackSpec {
    /// The AWS names derived from the stack name.
    pub fn names(&self) -> Names {
        Names::new(&self.name)
    }
}
