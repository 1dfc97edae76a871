//! The AWS clients a run uses, built once from one `SdkConfig`, and the interceptor that
//! counts every AWS operation they make (so "a second `up` makes zero mutating calls" is
//! something a user can see and a test can assert).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts AWS operations by `Service:Operation`, once per operation (retries are not counted
/// again).
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl CallCounter {
    fn record(&self, operation: String) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *counts.entry(operation).or_default() += 1;
    }

    /// A copy of the counts so far.
    pub fn snapshot(&self) -> CallCounts {
        CallCounts(
            self.counts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        )
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "stackctl::CallCounter"
    }

    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(metadata) = cfg.load::<Metadata>() {
            self.record(format!("{}:{}", metadata.service(), metadata.name()));
        }
        Ok(())
    }
}

/// AWS operations made, by `Service:Operation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallCounts(pub BTreeMap<String, u64>);

impl CallCounts {
    /// True for operations that only read: `Describe*`, `Get*`, `List*`.
    pub fn is_read(operation: &str) -> bool {
        let name = operation.rsplit(':').next().unwrap_or(operation);
        ["Describe", "Get", "List"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
    }

    pub fn reads(&self) -> u64 {
        self.0
            .iter()
            .filter(|(op, _)| Self::is_read(op))
            .map(|(_, n)| n)
            .sum()
    }

    /// Reads per resource of a stack of `resources`, to a tenth (none for an empty stack): what
    /// grows when reads are made one resource at a time instead of in bulk.
    pub fn reads_per(&self, resources: usize) -> Option<f64> {
        (resources > 0).then(|| (self.reads() as f64 / resources as f64 * 10.0).round() / 10.0)
    }

    pub fn mutations(&self) -> u64 {
        self.0
            .iter()
            .filter(|(op, _)| !Self::is_read(op))
            .map(|(_, n)| n)
            .sum()
    }

    /// The mutating operations alone.
    pub fn mutating(&self) -> BTreeMap<String, u64> {
        self.0
            .iter()
            .filter(|(op, _)| !Self::is_read(op))
            .map(|(op, n)| (op.clone(), *n))
            .collect()
    }
}

/// Resources of one AWS service worked on at once (calls in flight: a job gives its slot back
/// while it waits). Sixteen stay under every published bucket stackctl's unpaced calls draw
/// from (ECS's 50 cluster reads, EC2's 100 of each describe); the calls with smaller buckets
/// wait for tokens instead (`rates.rs`). See docs/decisions.md, "Slots per AWS service".
pub const SLOTS_PER_SERVICE: usize = 16;

/// Timing knobs for waits and retries. Real AWS defaults; tests shorten them.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a delete keeps retrying `DependencyViolation` (ENIs and public IPs being
    /// released) before giving up.
    pub dependency_timeout: Duration,
    /// How long a call that names a just-created EC2 id keeps retrying `…NotFound`.
    pub consistency_timeout: Duration,
    /// First pause between retries; doubles up to `max_backoff` (see [`crate::retry`]).
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// How long to wait for a resource to become available or deleted (NAT gateways).
    pub wait_timeout: Duration,
    /// How long `up` waits for a service deployment to finish; `None` does not wait.
    pub deploy_timeout: Option<Duration>,
    /// Pause between looks at something that is being waited on.
    pub poll_interval: Duration,
    /// Push built images to this registry (`host:port`, plain HTTP) instead of the stack's
    /// ECR repository: for tests against a local registry.
    pub registry: Option<String>,
    /// Where the stack file is (its git remote and path, or its absolute path): tagged on a
    /// new VPC ([`crate::tags::SOURCE_TAG`]).
    pub source: Option<String>,
    /// The deadlines of every call; a create, sent once a try, keeps to `call.operation`
    /// over all its tries too.
    pub call: Deadlines,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dependency_timeout: Duration::from_secs(600),
            consistency_timeout: Duration::from_secs(120),
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
            wait_timeout: Duration::from_secs(900),
            deploy_timeout: Some(Duration::from_secs(600)),
            poll_interval: Duration::from_secs(5),
            registry: None,
            source: None,
            call: Deadlines::default(),
        }
    }
}

/// How long stackctl waits for AWS to answer one call. Without them, one unanswered call
/// (a black-holed connection, a stalled proxy) hangs a run forever with nothing shown.
///
/// Every call gets `attempt` per try and `operation` in all, retries included; the SDK
/// retries a try that timed out (up to 6 tries in all) for reads and idempotent writes.
/// Create calls are sent once (see [`crate::aws`]): they get one try of `attempt`, after which
/// the engine looks the resource up before trying again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// To open a connection (TCP and TLS).
    pub connect: Duration,
    /// One try: AWS answers every call stackctl makes in a second or two, long-running work
    /// (a load balancer provisioning) is polled, never waited on in one call.
    pub attempt: Duration,
    /// All tries of one call.
    pub operation: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(20),
            operation: Duration::from_secs(90),
        }
    }
}

impl Deadlines {
    /// Deadlines of `attempt` a try, three tries' worth in all (tests and emulators).
    pub fn scaled(attempt: Duration) -> Self {
        Self {
            connect: attempt.min(Duration::from_secs(5)),
            attempt,
            operation: attempt * 3,
        }
    }

    fn config(&self) -> aws_config::timeout::TimeoutConfig {
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(self.connect)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.operation)
            .build()
    }
}

/// Who the credentials are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    /// The caller's ARN (a user, or an assumed role's session).
    pub arn: String,
}

/// Concrete, clonable SDK clients plus the stack they act for.
#[derive(Debug, Clone)]
pub struct Context {
    pub stack: String,
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub ecs: aws_sdk_ecs::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// Cloud Map: how internal services are found by name.
    pub discovery: aws_sdk_servicediscovery::Client,
    pub sts: aws_sdk_sts::Client,
    /// CloudWatch: the stack's alarms.
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    /// SNS: the topic alarms notify, when the stack makes one.
    pub sns: aws_sdk_sns::Client,
    /// Application Auto Scaling: the services' scalable targets and policies.
    pub autoscaling: aws_sdk_applicationautoscaling::Client,
    /// S3: the stack's buckets (path-style addressing when an endpoint is set, as emulators
    /// and S3-compatible stores need).
    pub s3: aws_sdk_s3::Client,
    /// The Resource Groups Tagging API: many resources' tags in one call ([`crate::aws::tagging`]).
    pub tagging: aws_sdk_resourcegroupstagging::Client,
    /// The stack's certificate, for its domains.
    pub acm: aws_sdk_acm::Client,
    /// The hosted zones of the stack's domains, and the records it writes in them.
    pub route53: aws_sdk_route53::Client,
    /// For the stack lock (see [`crate::lock`]).
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// For the deploy history (see [`crate::history`]): not counted, like the lock's.
    pub history_logs: aws_sdk_cloudwatchlogs::Client,
    pub calls: CallCounter,
    /// How many resources of one AWS service are worked on at once ([`crate::slots`]).
    pub slots: std::sync::Arc<crate::slots::Slots>,
    /// AWS's request rates that calls sent in bursts wait on ([`crate::rates`]).
    pub rates: std::sync::Arc<crate::rates::Buckets>,
    /// The calls of the lock and the deploy history: counted apart from the stack's.
    pub lock_and_history_calls: CallCounter,
    pub settings: Settings,
}

impl Context {
    /// Loads the standard AWS configuration chain (environment, profile, SSO, IMDS) for
    /// `region`, with the SDK's standard retries (throttling included), `deadlines` on every
    /// call, and call counting.
    pub async fn load(stack: &str, region: &str, deadlines: Deadlines) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .timeout_config(deadlines.config())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(6)
                    .with_max_backoff(Duration::from_secs(20)),
            )
            .load()
            .await;
        let mut ctx = Self::from_config(stack, region, &config);
        ctx.settings.call = deadlines;
        ctx
    }

    /// Who the credentials are: one cheap call that turns missing or bad credentials into a
    /// clear error before anything else is tried.
    ///
    /// It is tried twice, half a second apart, not six times over 20 s: when the first call of
    /// a run finds nothing listening (a stopped emulator, a wrong endpoint), saying so at once
    /// helps more than waiting on it.
    pub async fn identity(&self) -> crate::error::Result<Identity> {
        let quick = RetryConfig::standard()
            .with_max_attempts(2)
            .with_initial_backoff(Duration::from_millis(500));
        let out = self
            .sts
            .get_caller_identity()
            .customize()
            .config_override(aws_sdk_sts::config::Builder::default().retry_config(quick))
            .send()
            .await
            .map_err(|e| crate::error::Error::aws("AWS credentials", "sts:GetCallerIdentity", e))?;
        Ok(Identity {
            account: out.account().unwrap_or("unknown").to_owned(),
            arn: out.arn().unwrap_or("unknown caller").to_owned(),
        })
    }

    /// Builds every client from one shared configuration.
    pub fn from_config(stack: &str, region: &str, config: &SdkConfig) -> Self {
        let calls = CallCounter::default();
        let lock_and_history_calls = CallCounter::default();
        macro_rules! client {
            ($krate:ident) => {
                $krate::Client::from_conf(
                    $krate::config::Builder::from(config)
                        .interceptor(calls.clone())
                        .build(),
                )
            };
        }
        Self {
            stack: stack.to_owned(),
            region: region.to_owned(),
            ec2: client!(aws_sdk_ec2),
            sqs: client!(aws_sdk_sqs),
            ecr: client!(aws_sdk_ecr),
            ecs: client!(aws_sdk_ecs),
            elb: client!(aws_sdk_elasticloadbalancingv2),
            iam: client!(aws_sdk_iam),
            logs: client!(aws_sdk_cloudwatchlogs),
            discovery: client!(aws_sdk_servicediscovery),
            sts: client!(aws_sdk_sts),
            autoscaling: client!(aws_sdk_applicationautoscaling),
            tagging: client!(aws_sdk_resourcegroupstagging),
            acm: client!(aws_sdk_acm),
            route53: client!(aws_sdk_route53),
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
                    .interceptor(calls.clone())
                    .build(),
            ),
            cloudwatch: client!(aws_sdk_cloudwatch),
            sns: client!(aws_sdk_sns),
            // The lock's and the history's calls are not the stack's ("a second `up` makes no
            // mutating calls" is about the stack's resources): counted apart, and shown.
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(config)
                    .interceptor(lock_and_history_calls.clone())
                    .build(),
            ),
            history_logs: aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(config)
                    .interceptor(lock_and_history_calls.clone())
                    .build(),
            ),
            calls,
            slots: std::sync::Arc::new(crate::slots::Slots::new(SLOTS_PER_SERVICE)),
            rates: std::sync::Arc::new(crate::rates::Buckets::sharing(
                1.0,
                crate::rates::STACKCTL_SHARE,
            )),
            lock_and_history_calls,
            settings: Settings::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_reads_and_mutations() {
        let counts = CallCounts(
            [
                ("EC2:DescribeVpcs".to_owned(), 2),
                ("SQS:GetQueueAttributes".to_owned(), 1),
                ("SQS:ListQueues".to_owned(), 1),
                ("EC2:CreateVpc".to_owned(), 1),
                ("SQS:SetQueueAttributes".to_owned(), 3),
            ]
            .into(),
        );
        assert_eq!(counts.reads(), 4);
        assert_eq!(counts.mutations(), 4);
        assert_eq!(counts.mutating().len(), 2);
    }
}
