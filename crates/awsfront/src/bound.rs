//! The critical-path bound of a stack under the timing model: how long `up` and `down` must
//! take at least, whatever the tool, given the calls each resource needs, the waits AWS
//! imposes, and the dependency graph (as the engine reads it: what a resource needs to exist,
//! and what it needs working).

use std::collections::HashMap;

use infra::ResourceId;
use infra::resources::{Desired, Kind, Spec};

use crate::timings::{
    CERTIFICATE_ISSUED, DNS_IN_SYNC, INTERFACES_RELEASED, LOAD_BALANCER_ACTIVE, NAMESPACE_CREATED,
    NAT_AVAILABLE, NAT_DELETED, SERVICE_DRAINED, TARGETS_HEALTHY, TASKS_STARTED, call_seconds,
};

/// A bound and the resources on the path that makes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub seconds: f64,
    pub path: Vec<String>,
}

/// The calls that make one resource, in order (calls that could run side by side count once).
fn create_calls(spec: &Spec) -> Vec<&'static str> {
    match spec {
        Spec::Vpc(_) => vec!["CreateVpc", "ModifyVpcAttribute"],
        Spec::InternetGateway(_) => vec!["CreateInternetGateway", "AttachInternetGateway"],
        Spec::Subnet(s) if s.public => vec!["CreateSubnet", "ModifySubnetAttribute"],
        Spec::Subnet(_) => vec!["CreateSubnet"],
        Spec::RouteTable(rt) if rt.default_route.is_some() => {
            vec!["CreateRouteTable", "CreateRoute", "AssociateRouteTable"]
        }
        Spec::RouteTable(_) => vec!["CreateRouteTable", "AssociateRouteTable"],
        Spec::ElasticIp(_) => vec!["AllocateAddress"],
        Spec::NatGateway(_) => vec!["CreateNatGateway"],
        Spec::SecurityGroup(_) => vec!["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"],
        Spec::Queue(_) => vec!["CreateQueue", "GetQueueAttributes"],
        Spec::Bucket(b) if b.expire_after_days.is_some() => vec![
            "CreateBucket",
            "PutBucketTagging",
            "PutPublicAccessBlock",
            "PutBucketEncryption",
            "PutBucketLifecycleConfiguration",
        ],
        Spec::Bucket(_) => vec![
            "CreateBucket",
            "PutBucketTagging",
            "PutPublicAccessBlock",
            "PutBucketEncryption",
        ],
        Spec::Repository(_) => vec!["CreateRepository", "PutLifecyclePolicy"],
        Spec::Role(_) => vec!["CreateRole", "PutRolePolicy"],
        Spec::LogGroup(_) => vec!["CreateLogGroup", "PutRetentionPolicy"],
        Spec::LoadBalancer(_) => vec!["CreateLoadBalancer"],
        Spec::TargetGroup(_) => vec!["CreateTargetGroup", "ModifyTargetGroupAttributes"],
        Spec::Certificate(_) => vec![
            "RequestCertificate",
            "DescribeCertificate",
            "ListHostedZonesByName",
            "ChangeResourceRecordSets",
        ],
        Spec::Listener(_) => vec!["CreateListener"],
        Spec::ListenerRule(_) => vec!["CreateRule"],
        Spec::AliasRecord(_) => vec![
            "DescribeLoadBalancers",
            "ListHostedZonesByName",
            "ChangeResourceRecordSets",
        ],
        Spec::Namespace(_) => vec!["CreatePrivateDnsNamespace", "GetOperation", "GetNamespace"],
        Spec::DiscoveryService(_) => vec!["CreateService"],
        Spec::Cluster(_) => vec!["CreateCluster"],
        Spec::TaskDefinition(_) => vec!["RegisterTaskDefinition"],
        Spec::Service(_) => vec!["CreateService"],
        Spec::ScalableTarget(_) => vec!["RegisterScalableTarget"],
        Spec::ScalingPolicy(_) => vec!["PutScalingPolicy"],
        Spec::Topic(_) => vec!["CreateTopic", "Subscribe"],
        Spec::Alarm(_) => vec!["PutMetricAlarm"],
        Spec::Dashboard(_) => vec!["PutDashboard"],
        Spec::Image(_) => Vec::new(),
    }
}

fn seconds(calls: &[&str]) -> f64 {
    calls.iter().map(|c| call_seconds(c)).sum()
}

/// The longest of `candidates` (time, path).
fn latest(candidates: impl Iterator<Item = (f64, Vec<String>)>) -> (f64, Vec<String>) {
    candidates
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .unwrap_or((0.0, Vec::new()))
}

/// When a resource made at `made` works, and the load balancer's path when the service waits
/// for it (`balancer`: when the stack's load balancer is ready, and its path).
fn works_at(
    spec: &Spec,
    made: f64,
    balancer: Option<(f64, Vec<String>)>,
) -> (f64, Option<Vec<String>>) {
    let works = match spec {
        Spec::LoadBalancer(_) => made + LOAD_BALANCER_ACTIVE,
        Spec::NatGateway(_) => made + NAT_AVAILABLE,
        Spec::Certificate(_) => made + CERTIFICATE_ISSUED,
        Spec::AliasRecord(_) => made + DNS_IN_SYNC,
        // Without a load balancer, running is ready.
        Spec::Service(s) if s.target_group.is_none() => made + TASKS_STARTED,
        Spec::Service(_) => {
            return match balancer {
                Some((at, lb_path)) if at > made + TASKS_STARTED => {
                    (at + TARGETS_HEALTHY, Some(lb_path))
                }
                _ => (made + TASKS_STARTED + TARGETS_HEALTHY, None),
            };
        }
        // Every other kind works once it exists: each is named, so a new kind is timed on
        // purpose, never by default.
        Spec::Vpc(_)
        | Spec::InternetGateway(_)
        | Spec::Subnet(_)
        | Spec::RouteTable(_)
        | Spec::ElasticIp(_)
        | Spec::SecurityGroup(_)
        | Spec::Queue(_)
        | Spec::Bucket(_)
        | Spec::Repository(_)
        | Spec::Role(_)
        | Spec::LogGroup(_)
        | Spec::TargetGroup(_)
        | Spec::Listener(_)
        | Spec::ListenerRule(_)
        | Spec::Namespace(_)
        | Spec::DiscoveryService(_)
        | Spec::Cluster(_)
        | Spec::TaskDefinition(_)
        | Spec::ScalableTarget(_)
        | Spec::ScalingPolicy(_)
        | Spec::Topic(_)
        | Spec::Alarm(_)
        | Spec::Dashboard(_)
        | Spec::Image(_) => made,
    };
    (works, None)
}

/// `up` from empty: every resource created and working.
pub fn up(desired: &[Desired]) -> Bound {
    let mut created: HashMap<&ResourceId, (f64, Vec<String>)> = HashMap::new();
    let mut ready: HashMap<&ResourceId, (f64, Vec<String>)> = HashMap::new();
    let balancer = desired.iter().find(|d| d.spec.kind() == Kind::LoadBalancer);
    // The graph's order puts dependencies first; several passes settle any declaration order.
    for _ in 0..desired.len() {
        for d in desired {
            let start = latest(d.deps.iter().filter_map(|dep| {
                let from = if d.ready_deps.contains(dep) {
                    &ready
                } else {
                    &created
                };
                from.get(dep).cloned()
            }));
            let mut path = start.1.clone();
            path.push(d.id.to_string());
            let mut made = start.0 + seconds(&create_calls(&d.spec));
            if matches!(d.spec, Spec::Namespace(_)) {
                // Its create waits for the operation: created means usable.
                made += NAMESPACE_CREATED;
            }
            let lb = balancer.and_then(|b| ready.get(&b.id)).cloned();
            let (works, lb_path) = works_at(&d.spec, made, lb);
            if let Some(lb_path) = lb_path {
                path = lb_path;
            }
            let mut ready_path = path.clone();
            if works > made {
                ready_path.push(format!("{} ready", d.id));
            }
            let path = if matches!(d.spec, Spec::Service(_)) {
                let mut own = start.1.clone();
                own.push(d.id.to_string());
                own
            } else {
                path
            };
            created.insert(&d.id, (made, path));
            ready.insert(&d.id, (works, ready_path));
        }
    }
    let (seconds, path) = latest(ready.into_values());
    Bound { seconds, path }
}

/// What a resource uses, as AWS reports it: what it refers to, except that a service may go
/// after its task definition, and a task definition or a role after what they name.
fn uses(spec: &Spec) -> Vec<&ResourceId> {
    match spec {
        Spec::Service(s) => {
            let mut uses = vec![&s.cluster];
            uses.extend(s.target_group.as_ref());
            uses.extend(s.discovery.as_ref());
            uses.extend(s.security_groups.iter());
            uses.extend(s.subnets.iter());
            uses
        }
        Spec::TaskDefinition(_) | Spec::Role(_) | Spec::ScalableTarget(_) => Vec::new(),
        Spec::ScalingPolicy(p) => vec![&p.target],
        other => other.refs(),
    }
}

/// `down` of the whole stack: users deleted before what they use; the network waits for the
/// interfaces the load balancer and the service release.
pub fn down(desired: &[Desired]) -> Bound {
    let mut done: HashMap<&ResourceId, (f64, Vec<String>)> = HashMap::new();
    // Deletes follow what each resource uses as AWS reports it (the engine reads it from
    // AWS), not the creation-order dependencies given for order alone.
    let users = |id: ResourceId| desired.iter().filter(move |d| uses(&d.spec).contains(&&id));
    for _ in 0..desired.len() {
        for d in desired {
            let start = latest(users(d.id.clone()).filter_map(|u| done.get(&u.id).cloned()));
            // Interfaces go 60 s after a load balancer's delete, and as a service finishes
            // draining (60 s after its delete).
            let released = latest(desired.iter().filter_map(|x| {
                let (t, p) = done.get(&x.id)?.clone();
                match x.spec.kind() {
                    Kind::LoadBalancer => Some((t + INTERFACES_RELEASED, p)),
                    Kind::Service => Some((t, p)),
                    _ => None,
                }
            }));
            let (calls, floor) = match d.spec.kind() {
                Kind::Service => (1.0 + SERVICE_DRAINED, None),
                Kind::NatGateway => (1.0 + NAT_DELETED, None),
                Kind::RouteTable | Kind::Role => (2.0, None),
                // Emptied (a list, and nothing to delete for a new stack's), then deleted.
                Kind::Bucket => (3.0, None),
                // Its validation records removed (a change), then the certificate.
                Kind::Certificate => (2.0, None),
                Kind::InternetGateway => (2.0, Some(released)),
                Kind::SecurityGroup | Kind::Subnet | Kind::Vpc => (1.0, Some(released)),
                Kind::Image => (0.0, None),
                // One delete call each, gone when it answers: named, never by default.
                Kind::ElasticIp
                | Kind::Queue
                | Kind::Repository
                | Kind::LogGroup
                | Kind::LoadBalancer
                | Kind::TargetGroup
                | Kind::Listener
                | Kind::ListenerRule
                | Kind::AliasRecord
                | Kind::Namespace
                | Kind::DiscoveryService
                | Kind::Cluster
                | Kind::TaskDefinition
                | Kind::ScalableTarget
                | Kind::ScalingPolicy
                | Kind::Topic
                | Kind::Alarm
                | Kind::Dashboard => (1.0, None),
            };
            let (begin, mut path) = match floor {
                Some(floor) if floor.0 > start.0 => floor,
                _ => start,
            };
            path.push(d.id.to_string());
            done.insert(&d.id, (begin + calls, path));
        }
    }
    let (seconds, path) = latest(done.into_values());
    Bound { seconds, path }
}

#[cfg(test)]
mod tests {
    use infra::StackSpec;

    use super::*;

    fn stack(nat: bool) -> Vec<Desired> {
        let mut spec = StackSpec::minimal("s");
        spec.services[0].image = Some("repo/app:1".into());
        spec.network.nat_gateway = nat;
        infra::desired::desired(&spec, &["us-east-1a".into(), "us-east-1b".into()])
    }

    #[test]
    fn up_is_bound_by_the_load_balancer_becoming_active() {
        let bound = up(&stack(false));
        // VPC 3 s, its security group 3 s, load balancer 3 s, active 135 s, healthy 10 s.
        assert_eq!(bound.seconds, 154.0);
        assert_eq!(
            bound.path,
            [
                "vpc",
                "alb-security-group",
                "load-balancer",
                "load-balancer ready",
                "service ready"
            ]
            .map(str::to_owned)
        );
    }

    #[test]
    fn with_a_nat_gateway_the_tasks_start_after_the_route_through_it() {
        let bound = up(&stack(true));
        assert!(
            bound.path.contains(&"nat-gateway ready".to_owned()),
            "{bound:?}"
        );
        assert!(bound.seconds > 153.0);
    }

    #[test]
    fn down_waits_for_the_interfaces_of_the_load_balancer_and_the_service() {
        let bound = down(&stack(false));
        assert!(bound.seconds >= 60.0 && bound.seconds < 75.0, "{bound:?}");
        assert_eq!(bound.path.last().map(String::as_str), Some("vpc"));
    }
}
