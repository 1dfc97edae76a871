//! The registry of resource kinds: one file per kind (each implements
//! [`Resource`](crate::contract::Resource)), listed once in [`kinds!`] below. The list
//! generates the closed enums ([`Kind`], [`Spec`], [`Detail`], [`Fields`]) and every
//! dispatch over them, so a new kind is handled everywhere by adding one line here.
//!
//! Dispatch is over enums, not trait objects, so each `match` names every kind.

pub mod alarm;
pub mod alias_record;
pub mod bucket;
pub mod certificate;
pub mod cluster;
pub mod dashboard;
pub mod discovery_service;
pub mod elastic_ip;
pub mod image;
pub mod internet_gateway;
pub mod listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod log_group;
pub mod namespace;
pub mod nat_gateway;
pub mod queue;
pub mod repository;
pub mod role;
pub mod route_table;
pub mod scalable_target;
pub mod scaling_policy;
pub mod security_group;
pub mod service;
pub mod subnet;
pub mod target_group;
pub mod task_definition;
pub mod topic;
pub mod vpc;

#[cfg(test)]
pub(crate) mod testing;

mod registry;

use crate::change::{Describe, FieldChange};
use crate::context::Context;
use crate::contract::{Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::stack_file::declaring::Part;
use crate::tags::Tags;

/// A resource as `stack.toml` wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Logical id, stable across runs: the value of the `stackctl:id` tag.
    pub id: ResourceId,
    pub spec: Spec,
    pub tags: Tags,
    /// Logical ids it is created after: those it refers to, and any given for order alone.
    pub deps: Vec<ResourceId>,
    /// Of those, the ones it needs working, not merely created (a route to a NAT gateway
    /// needs the gateway available); the others it needs only to exist.
    pub ready_deps: Vec<ResourceId>,
}

impl Desired {
    /// `after`: dependencies for order alone (a load balancer after the internet gateway).
    pub fn new(id: ResourceId, spec: Spec, tags: Tags, after: &[ResourceId]) -> Self {
        let mut deps: Vec<ResourceId> = Vec::new();
        for dep in spec.refs().into_iter().chain(after) {
            if !deps.contains(dep) {
                deps.push(dep.clone());
            }
        }
        Self {
            id,
            spec,
            tags,
            deps,
            ready_deps: Vec::new(),
        }
    }

    /// Makes it wait until `ids` work, not only exist.
    pub fn after_ready(&mut self, ids: &[ResourceId]) {
        for id in ids {
            if !self.deps.contains(id) {
                self.deps.push(id.clone());
            }
            self.ready_deps.push(id.clone());
        }
    }
}

/// A resource as found in AWS, of any kind.
pub type Observed = Found<Detail>;

/// A kind the stack does not declare whose resources could not be read: its service is not
/// served at the endpoint, or the identity may not read it. See docs/decisions.md, "Read
/// only what the stack can own".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unread {
    pub kind: Kind,
    /// What the read answered.
    pub reason: String,
}

/// What one look at the stack found, and the kinds it could not read.
#[derive(Debug, Clone, Default)]
pub struct Observation {
    pub found: Vec<Observed>,
    pub unread: Vec<Unread>,
}

impl serde::Serialize for Detail {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.kind().serialize(serializer)
    }
}

impl Kind {
    /// The part of the stack file that makes the stack need resources of this kind.
    pub fn part(self) -> Part {
        use Kind::*;
        match self {
            Vpc | InternetGateway | Subnet | RouteTable | SecurityGroup | Repository | Image
            | Role | LogGroup | Cluster => Part::Stack,
            TaskDefinition | Service => Part::Service,
            LoadBalancer | TargetGroup | Listener | ListenerRule => Part::WebService,
            Certificate | AliasRecord => Part::Domain,
            Namespace | DiscoveryService => Part::InternalService,
            ScalableTarget | ScalingPolicy => Part::Autoscaling,
            ElasticIp | NatGateway => Part::NatGateway,
            Queue => Part::Queue,
            Bucket => Part::Bucket,
            Alarm => Part::Alarms,
            Topic => Part::AlarmTopic,
            Dashboard => Part::Dashboard,
        }
    }

    /// The label for several: "scaling policies", "SQS queues".
    pub fn plural(self) -> String {
        let label = self.label();
        match label.strip_suffix('y') {
            Some(stem) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{stem}ies"),
            _ => format!("{label}s"),
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

registry::kinds! {
    Vpc => vpc::Vpc,
    InternetGateway => internet_gateway::InternetGateway,
    Subnet => subnet::Subnet,
    RouteTable => route_table::RouteTable,
    ElasticIp => elastic_ip::ElasticIp,
    NatGateway => nat_gateway::NatGateway,
    SecurityGroup => security_group::SecurityGroup,
    Queue => queue::Queue,
    Bucket => bucket::Bucket,
    Repository => repository::Repository,
    Role => role::Role,
    LogGroup => log_group::LogGroup,
    LoadBalancer => load_balancer::LoadBalancer,
    TargetGroup => target_group::TargetGroup,
    Certificate => certificate::Certificate,
    Listener => listener::Listener,
    ListenerRule => listener_rule::ListenerRule,
    AliasRecord => alias_record::AliasRecord,
    Namespace => namespace::Namespace,
    DiscoveryService => discovery_service::DiscoveryService,
    Cluster => cluster::Cluster,
    TaskDefinition => task_definition::TaskDefinition,
    Service => service::Service,
    ScalableTarget => scalable_target::ScalableTarget,
    ScalingPolicy => scaling_policy::ScalingPolicy,
    Topic => topic::Topic,
    Alarm => alarm::Alarm,
    Dashboard => dashboard::Dashboard,
    Image => image::Image,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_say_their_plural() {
        assert_eq!(Kind::ScalingPolicy.plural(), "scaling policies");
        assert_eq!(Kind::Queue.plural(), "SQS queues");
        assert_eq!(Kind::InternetGateway.plural(), "internet gateways");
    }
}
