//! AWS's own timings, as the model plays them: every figure is in seconds at scale 1.0.
//!
//! | what | seconds |
//! |---|---|
//! | CreateVpc, CreateSecurityGroup, CreateTargetGroup, CreateService | 2 |
//! | CreateCluster | 8 |
//! | CreateLoadBalancer (the call) / until `active` | 3 / 135 |
//! | any other mutating call (creates, attaches, puts, deletes) | 1 |
//! | describe, get and list calls; writes of items and log events (the lock, the history) | 0.05 |
//! | NAT gateway until `available` / until deleted | 100 / 60 |
//! | Fargate tasks starting (network interface, small image, start) | 45 |
//! | targets healthy (two checks 5 s apart) | 10 |
//! | network interfaces released after a load balancer or service is deleted | 60 |
//! | a deleted service draining (30 s deregistration delay + 30 s stop timeout) | 60 |
//! | a Cloud Map private DNS namespace's operation (it makes a Route 53 hosted zone) | 40 |
//! | an ACM certificate validated by DNS (records written at once) until `ISSUED` | 120 |
//! | a Route 53 change until `INSYNC` on every server | 60 |
//!
//! From AWS documentation, issue trackers and published apply logs.

pub const LOAD_BALANCER_ACTIVE: f64 = 135.0;
pub const NAT_AVAILABLE: f64 = 100.0;
pub const NAT_DELETED: f64 = 60.0;
pub const TASKS_STARTED: f64 = 45.0;
pub const TARGETS_HEALTHY: f64 = 10.0;
pub const INTERFACES_RELEASED: f64 = 60.0;
pub const SERVICE_DRAINED: f64 = 60.0;
pub const NAMESPACE_CREATED: f64 = 40.0;
pub const CERTIFICATE_ISSUED: f64 = 120.0;
pub const DNS_IN_SYNC: f64 = 60.0;

/// Seconds a call takes at scale 1.0.
pub fn call_seconds(operation: &str) -> f64 {
    let read = ["Describe", "Get", "List"]
        .iter()
        .any(|p| operation.starts_with(p));
    // DynamoDB's items and CloudWatch Logs' events are data, not resources to provision: AWS
    // writes them in milliseconds, so they cost a round trip like a read.
    let data = matches!(
        operation,
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "PutLogEvents"
    );
    match operation {
        _ if read || data => 0.05,
        "CreateVpc" | "CreateSecurityGroup" | "CreateTargetGroup" | "CreateService" => 2.0,
        "CreateCluster" => 8.0,
        "CreateLoadBalancer" => 3.0,
        _ => 1.0,
    }
}
