//! The logical ids of a stack's resources: the values of their `stackctl:id` tags.

pub const VPC: &str = "vpc";
pub const INTERNET_GATEWAY: &str = "internet-gateway";
pub const PUBLIC_ROUTE_TABLE: &str = "public-route-table";
pub const PRIVATE_ROUTE_TABLE: &str = "private-route-table";
pub const NAT_EIP: &str = "nat-eip";
pub const NAT_GATEWAY: &str = "nat-gateway";
pub const ALB_SECURITY_GROUP: &str = "alb-security-group";
pub const SERVICE_SECURITY_GROUP: &str = "service-security-group";
pub const DEAD_LETTER_QUEUE: &str = "dead-letter-queue";
pub const QUEUE: &str = "queue";
pub const REPOSITORY: &str = "repository";
pub const EXECUTION_ROLE: &str = "execution-role";
pub const TASK_ROLE: &str = "task-role";
pub const LOG_GROUP: &str = "log-group";
pub const LOAD_BALANCER: &str = "load-balancer";
pub const TARGET_GROUP: &str = "target-group";
pub const HTTP_LISTENER: &str = "http-listener";
pub const HTTPS_LISTENER: &str = "https-listener";
pub const CLUSTER: &str = "cluster";
pub const TASK_DEFINITION: &str = "task-definition";
pub const SERVICE: &str = "service";
pub const IMAGE: &str = "image";

pub fn public_subnet(zone: usize) -> String {
    format!("public-subnet-{}", zone + 1)
}

pub fn private_subnet(zone: usize) -> String {
    format!("private-subnet-{}", zone + 1)
}

pub const NAMESPACE: &str = "namespace";
pub const DASHBOARD: &str = crate::resources::dashboard::ID;
/// The group every task of a stack with internal services is in: what those admit.
pub const SERVICES_SECURITY_GROUP: &str = "services-security-group";

/// The logical ids of one service's resources. The service of the one-service `[service]`
/// table (`app`) keeps the ids stacks had before there were several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIds {
    pub service: String,
    pub task_definition: String,
    pub target_group: String,
    pub listener_rule: String,
    pub discovery: String,
    pub task_role: String,
    /// Its own execution role: only a service with secrets has one.
    pub execution_role: String,
    pub security_group: String,
    pub image: String,
}

impl ServiceIds {
    pub fn of(service: &crate::stack_file::ServiceSpec) -> Self {
        let named = |base: &str| format!("{base}-{}", service.name);
        let single = |legacy: &str, base: &str| {
            if service.is_single() {
                legacy.to_owned()
            } else {
                named(base)
            }
        };
        Self {
            service: single(SERVICE, "service"),
            task_definition: single(TASK_DEFINITION, "task-definition"),
            target_group: single(TARGET_GROUP, "target-group"),
            listener_rule: named("listener-rule"),
            discovery: named("discovery"),
            task_role: single(TASK_ROLE, "task-role"),
            execution_role: named("execution-role"),
            security_group: single(SERVICE_SECURITY_GROUP, "security-group"),
            image: single(IMAGE, "image"),
        }
    }
}

/// The logical ids of a queue and its dead-letter queue. The queue of the one-queue
/// `[queue]` table (`messages`) keeps the ids stacks had before there were several.
pub fn queue_ids(queue: &crate::stack_file::QueueSpec) -> (String, String) {
    if queue.is_single() {
        (QUEUE.to_owned(), DEAD_LETTER_QUEUE.to_owned())
    } else {
        (
            format!("queue-{}", queue.name),
            format!("dead-letter-queue-{}", queue.name),
        )
    }
}
