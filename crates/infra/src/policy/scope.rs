//! Where an action may act: the stack's own resources, by the ARN patterns of the names every
//! stack's resource has (the stack's name, or it and `-`), or by the `stackctl:stack` tag
//! where the service names its resources by generated ids (EC2, Cloud Map). Listing actions
//! that AWS authorises only on `*` stay on `*`; they read, never change.

use serde_json::{Value, json};

use super::needs::Service;
use crate::tags::STACK_TAG;

/// What a needed action is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Read,
    Write,
    Delete,
}

/// The resources (and the condition) of one statement. Statements are made one per scope.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    pub sid: &'static str,
    pub resources: Vec<String>,
    pub condition: Option<Value>,
}

impl Scope {
    pub fn any(sid: &'static str) -> Self {
        Self {
            sid,
            resources: vec!["*".into()],
            condition: None,
        }
    }

    fn arns(sid: &'static str, resources: Vec<String>) -> Self {
        Self {
            sid,
            resources,
            condition: None,
        }
    }

    pub fn with(mut self, condition: Value) -> Self {
        self.condition = Some(condition);
        self
    }
}

/// The stack's name, region and partition: what its ARNs are made of.
#[derive(Debug, Clone)]
pub struct Place {
    pub stack: String,
    pub region: String,
}

impl Place {
    /// `aws`, or `aws-cn` / `aws-us-gov` for those regions.
    pub fn partition(&self) -> &'static str {
        crate::aws::partition(&self.region)
    }

    /// An ARN in this region of any account: `arn:aws:sqs:eu-west-1:*:{rest}`.
    pub fn arn(&self, service: &str, rest: &str) -> String {
        format!(
            "arn:{}:{service}:{}:*:{rest}",
            self.partition(),
            self.region
        )
    }

    /// An ARN of a global service (IAM) in any account.
    pub fn global(&self, service: &str, rest: &str) -> String {
        format!("arn:{}:{service}::*:{rest}", self.partition())
    }

    /// The condition that the resource is tagged for this stack.
    pub fn tagged(&self) -> Value {
        json!({"StringEquals": {format!("aws:ResourceTag/{STACK_TAG}"): self.stack}})
    }

    /// The condition that the request tags what it makes for this stack.
    pub fn tagging(&self) -> Value {
        json!({"StringEquals": {format!("aws:RequestTag/{STACK_TAG}"): self.stack}})
    }

    /// The roles of the stack: every role name starts with the stack's and `-`.
    pub fn roles(&self) -> String {
        self.global("iam", &format!("role/{}-*", self.stack))
    }

    /// The stack's buckets and their objects: S3 ARNs name neither region nor account, and a
    /// bucket is `<stack>-<name>`.
    pub fn buckets(&self) -> Vec<String> {
        let (partition, stack) = (self.partition(), &self.stack);
        vec![
            format!("arn:{partition}:s3:::{stack}-*"),
            format!("arn:{partition}:s3:::{stack}-*/*"),
        ]
    }

    /// A log group and its streams.
    pub fn log_group(&self, name: &str) -> Vec<String> {
        let group = format!("log-group:{name}");
        vec![
            self.arn("logs", &group),
            self.arn("logs", &format!("{group}:*")),
        ]
    }
}

/// Where `action` of `service`, needed for `use_`, may act.
pub fn of(service: Service, action: &str, use_: Use, at: &Place) -> Scope {
    let stack = &at.stack;
    let listing = action.starts_with("List") || action.starts_with("Describe");
    match service {
        Service::Ec2 if use_ == Use::Read => Scope::any("Read"),
        Service::Ec2 if creates(action) => Scope::any("Ec2Create").with(at.tagging()),
        Service::Ec2 => Scope::any("Ec2Change").with(at.tagged()),
        Service::Sqs if action == "ListQueues" => Scope::any("Read"),
        Service::Sqs => Scope::arns("Queues", vec![at.arn("sqs", &format!("{stack}-*"))]),
        Service::Ecr if matches!(action, "DescribeRepositories" | "GetAuthorizationToken") => {
            Scope::any("Read")
        }
        Service::Ecr => Scope::arns(
            "Repository",
            vec![at.arn("ecr", &format!("repository/{stack}"))],
        ),
        Service::Iam if action == "ListRoles" => Scope::any("Read"),
        Service::Iam => Scope::arns("Roles", vec![at.roles()]),
        Service::Logs if action == "DescribeLogGroups" => Scope::any("Read"),
        Service::Logs => Scope::arns("LogGroup", at.log_group(&format!("/stackctl/{stack}"))),
        Service::Elb if listing => Scope::any("Read"),
        Service::Elb => Scope::arns("LoadBalancing", load_balancing(at)),
        Service::CloudMap if use_ == Use::Read || action == "GetOperation" => Scope::any("Read"),
        Service::CloudMap if action.starts_with("Create") => {
            Scope::any("CloudMapCreate").with(at.tagging())
        }
        Service::CloudMap => Scope::any("CloudMapChange").with(at.tagged()),
        Service::Ecs if ecs_on_any(action) => Scope::any(if use_ == Use::Read {
            "Read"
        } else {
            "TaskDefinitions"
        }),
        Service::Ecs => Scope::arns("Ecs", ecs(at)),
        Service::AutoScaling if use_ == Use::Read => Scope::any("Read"),
        Service::AutoScaling => Scope::any("AutoScaling"),
        Service::Sns if action == "ListTopics" => Scope::any("Read"),
        Service::Sns => Scope::arns("Topic", vec![at.arn("sns", &format!("{stack}-*"))]),
        Service::CloudWatch if matches!(action, "DescribeAlarms" | "ListDashboards") => {
            Scope::any("Read")
        }
        Service::CloudWatch if action.contains("Dashboard") => Scope::arns(
            "Dashboard",
            vec![format!(
                "arn:{}:cloudwatch::*:dashboard/{stack}",
                at.partition()
            )],
        ),
        Service::CloudWatch => Scope::arns(
            "Alarms",
            vec![at.arn("cloudwatch", &format!("alarm:{stack}-*"))],
        ),
        Service::S3 => Scope::arns("Buckets", at.buckets()),
        Service::Acm => acm(action, use_, at),
        Service::Route53 => route53(action),
    }
}

/// ACM: certificates are read on `*` (AWS lists them only so); one is requested with the
/// stack's tag and deleted only when it carries it.
fn acm(action: &str, use_: Use, at: &Place) -> Scope {
    match (use_, action) {
        (Use::Read, _) => Scope::any("Read"),
        (_, "DeleteCertificate") => {
            Scope::arns("Certificate", vec![at.arn("acm", "certificate/*")]).with(at.tagged())
        }
        _ => Scope::any("CertificateRequest").with(at.tagging()),
    }
}

/// Route 53: zones are found by name (a listing AWS authorises only on `*`); records are
/// read and changed in any hosted zone (the account's, found by the stack's domains).
pub fn route53(action: &str) -> Scope {
    match action {
        "ListHostedZonesByName" => Scope::any("Read"),
        "GetChange" => Scope::arns("DnsChanges", vec!["arn:aws:route53:::change/*".into()]),
        _ => Scope::arns("Dns", vec!["arn:aws:route53:::hostedzone/*".into()]),
    }
}

/// EC2 actions that make a resource, tagged in the same request.
pub fn creates(action: &str) -> bool {
    (action.starts_with("Create") && action != "CreateRoute" && action != "CreateTags")
        || action == "AllocateAddress"
}

/// ECS actions AWS authorises only on `*` (task definitions are not named by the stack's ARN
/// patterns until registered; listing actions).
fn ecs_on_any(action: &str) -> bool {
    action.starts_with("List") || action.ends_with("TaskDefinition")
}

/// The load balancer, its listeners and rules, and the target groups.
fn load_balancing(at: &Place) -> Vec<String> {
    let stack = &at.stack;
    let elb = |rest: String| at.arn("elasticloadbalancing", &rest);
    vec![
        elb(format!("loadbalancer/app/{stack}-alb/*")),
        elb(format!("listener/app/{stack}-alb/*")),
        elb(format!("listener-rule/app/{stack}-alb/*")),
        elb(format!("targetgroup/{stack}-*/*")),
    ]
}

/// The cluster (named as the stack), its services and tasks, the task definitions' families.
fn ecs(at: &Place) -> Vec<String> {
    let stack = &at.stack;
    let ecs = |rest: String| at.arn("ecs", &rest);
    vec![
        ecs(format!("cluster/{stack}")),
        ecs(format!("service/{stack}/*")),
        ecs(format!("task/{stack}/*")),
        ecs(format!("task-definition/{stack}:*")),
        ecs(format!("task-definition/{stack}-*:*")),
    ]
}
