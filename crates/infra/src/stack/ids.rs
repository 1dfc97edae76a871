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
