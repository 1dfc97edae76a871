//! A resource's logical id ([`ResourceId`]): the value of its `stackctl:id` tag, stable across
//! runs, how the plan names it and how dependents refer to it. This module is the only place
//! ids are built (every shape: `vpc`, `public-subnet-1`, `service-api`,
//! `alarm-unhealthy-api`, …) and parsed back from AWS names (a scalable target's resource id,
//! a scaling policy's name); everything else carries them.
//!
//! The service named [`SINGLE_SERVICE`] and the queue named [`SINGLE_QUEUE`] (what the
//! one-service `[service]` / `[queue]` tables make) keep the ids stacks had before there were
//! several: `service`, `task-definition`, `queue`, … instead of `service-app`, `queue-messages`.

use std::borrow::{Borrow, Cow};
use std::fmt;

/// The service of the one-service `[service]` table.
pub const SINGLE_SERVICE: &str = "app";
/// The queue of the one-queue `[queue]` table.
pub const SINGLE_QUEUE: &str = "messages";
/// What the ids of alias records start with: `dns-api.example.com`.
pub const ALIAS_RECORD_PREFIX: &str = "dns-";

/// A resource's logical id. Shown and serialised as the plain string.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId(Cow<'static, str>);

impl ResourceId {
    const fn fixed(id: &'static str) -> Self {
        Self(Cow::Borrowed(id))
    }

    fn made(id: String) -> Self {
        Self(Cow::Owned(id))
    }

    pub const VPC: Self = Self::fixed("vpc");
    pub const INTERNET_GATEWAY: Self = Self::fixed("internet-gateway");
    pub const PUBLIC_ROUTE_TABLE: Self = Self::fixed("public-route-table");
    pub const PRIVATE_ROUTE_TABLE: Self = Self::fixed("private-route-table");
    pub const NAT_EIP: Self = Self::fixed("nat-eip");
    pub const NAT_GATEWAY: Self = Self::fixed("nat-gateway");
    pub const ALB_SECURITY_GROUP: Self = Self::fixed("alb-security-group");
    /// The group every task of a stack with internal services is in: what those admit.
    pub const SERVICES_SECURITY_GROUP: Self = Self::fixed("services-security-group");
    pub const REPOSITORY: Self = Self::fixed("repository");
    /// The execution role the services without secrets share.
    pub const EXECUTION_ROLE: Self = Self::fixed("execution-role");
    pub const LOG_GROUP: Self = Self::fixed("log-group");
    pub const LOAD_BALANCER: Self = Self::fixed("load-balancer");
    pub const HTTP_LISTENER: Self = Self::fixed("http-listener");
    pub const HTTPS_LISTENER: Self = Self::fixed("https-listener");
    /// The certificate of the stack's domains.
    pub const CERTIFICATE: Self = Self::fixed("certificate");
    pub const CLUSTER: Self = Self::fixed("cluster");
    pub const NAMESPACE: Self = Self::fixed("namespace");
    pub const DASHBOARD: Self = Self::fixed("dashboard");
    /// The topic the stack makes for an email address its alarms notify.
    pub const ALARM_TOPIC: Self = Self::fixed("alarm-topic");
    /// The alarm on the load balancer's 5xx rate.
    pub const ALARM_HTTP_5XX: Self = Self::fixed("alarm-http-5xx");
    // The resources of the one-service, one-queue stack, as they were named before there
    // were several (see [`ServiceIds`], [`queue_ids`]).
    pub const SERVICE: Self = Self::fixed("service");
    pub const TASK_DEFINITION: Self = Self::fixed("task-definition");
    pub const TARGET_GROUP: Self = Self::fixed("target-group");
    pub const TASK_ROLE: Self = Self::fixed("task-role");
    pub const SERVICE_SECURITY_GROUP: Self = Self::fixed("service-security-group");
    pub const IMAGE: Self = Self::fixed("image");
    pub const QUEUE: Self = Self::fixed("queue");
    pub const DEAD_LETTER_QUEUE: Self = Self::fixed("dead-letter-queue");

    /// The public subnet of zone `zone` (0-based): `public-subnet-1` for the first.
    pub fn public_subnet(zone: usize) -> Self {
        Self::made(format!("public-subnet-{}", zone + 1))
    }

    pub fn private_subnet(zone: usize) -> Self {
        Self::made(format!("private-subnet-{}", zone + 1))
    }

    /// The alarm `what` (`unhealthy`, `below-desired`, `oldest-message`, `dead-letters`) of a
    /// service or a queue, by its name in the stack file.
    pub fn alarm(what: &str, of: &str) -> Self {
        Self::made(format!("alarm-{what}-{of}"))
    }

    /// A service's scalable target, by the service's name in the stack file.
    pub fn scalable_target(service: &str) -> Self {
        Self::made(format!("scalable-target-{service}"))
    }

    /// A service's scaling policy on `metric` (`cpu`, `requests`, `backlog`).
    pub fn scaling_policy(service: &str, metric: &str) -> Self {
        Self::made(format!("scaling-policy-{service}-{metric}"))
    }

    /// The alias record of a domain (`api.example.com`) to the load balancer.
    pub fn alias_record(domain: &str) -> Self {
        Self::made(format!("{ALIAS_RECORD_PREFIX}{domain}"))
    }

    /// The id a resource carries in its `stackctl:id` tag, as read back from AWS.
    pub fn from_tag(value: &str) -> Self {
        Self::made(value.to_owned())
    }

    /// The scalable target of `resource_id` (`service/<cluster>/<service>`), when that is one
    /// of stack `stack`'s services: the one-service stack's service is named after the stack,
    /// the others `<stack>-<name>`.
    pub fn of_scalable_target(stack: &str, resource_id: &str) -> Option<Self> {
        let service = resource_id.strip_prefix(&format!("service/{stack}/"))?;
        let name = if service == stack {
            SINGLE_SERVICE
        } else {
            service.strip_prefix(stack)?.strip_prefix('-')?
        };
        Some(Self::scalable_target(name))
    }

    /// The scaling policy named `<stack>-<service>-<metric>`, when it is stack `stack`'s.
    pub fn of_scaling_policy(stack: &str, name: &str) -> Option<Self> {
        let rest = name.strip_prefix(stack)?.strip_prefix('-')?;
        (!rest.is_empty()).then(|| Self::made(format!("scaling-policy-{rest}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `a, b, c`: ids as a plan shows a list of them.
pub fn joined(ids: &[&ResourceId]) -> String {
    ids.iter()
        .map(|id| id.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The ids of one service's resources, by the service's name in the stack file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceIds {
    pub service: ResourceId,
    pub task_definition: ResourceId,
    pub target_group: ResourceId,
    pub listener_rule: ResourceId,
    pub discovery: ResourceId,
    pub task_role: ResourceId,
    /// Its own execution role: only a service with secrets has one.
    pub execution_role: ResourceId,
    pub security_group: ResourceId,
    pub image: ResourceId,
}

impl ServiceIds {
    pub fn named(service: &str) -> Self {
        let named = |base: &str| ResourceId::made(format!("{base}-{service}"));
        let single = |legacy: ResourceId, base: &str| {
            if service == SINGLE_SERVICE {
                legacy
            } else {
                named(base)
            }
        };
        Self {
            service: single(ResourceId::SERVICE, "service"),
            task_definition: single(ResourceId::TASK_DEFINITION, "task-definition"),
            target_group: single(ResourceId::TARGET_GROUP, "target-group"),
            listener_rule: named("listener-rule"),
            discovery: named("discovery"),
            task_role: single(ResourceId::TASK_ROLE, "task-role"),
            execution_role: named("execution-role"),
            security_group: single(ResourceId::SERVICE_SECURITY_GROUP, "security-group"),
            image: single(ResourceId::IMAGE, "image"),
        }
    }
}

/// The ids of a queue and its dead-letter queue, by the queue's name in the stack file.
pub fn queue_ids(queue: &str) -> (ResourceId, ResourceId) {
    if queue == SINGLE_QUEUE {
        (ResourceId::QUEUE, ResourceId::DEAD_LETTER_QUEUE)
    } else {
        (
            ResourceId::made(format!("queue-{queue}")),
            ResourceId::made(format!("dead-letter-queue-{queue}")),
        )
    }
}

/// The id of a bucket, by its name in the stack file.
pub fn bucket_id(bucket: &str) -> ResourceId {
    ResourceId::made(format!("bucket-{bucket}"))
}

/// As the plain string, honouring width and alignment (`{:<12}`).
impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl serde::Serialize for ResourceId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Maps keyed by id are looked up by `&str` too.
impl Borrow<str> for ResourceId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ResourceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for ResourceId {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for ResourceId {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

/// Tests name ids by their text; the library builds them only through this module.
#[cfg(test)]
impl From<&str> for ResourceId {
    fn from(id: &str) -> Self {
        Self::from_tag(id)
    }
}

impl From<&ResourceId> for String {
    fn from(id: &ResourceId) -> Self {
        id.0.to_string()
    }
}

impl From<ResourceId> for String {
    fn from(id: ResourceId) -> Self {
        id.0.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_one_service_and_queue_keep_their_ids_the_others_are_named() {
        let app = ServiceIds::named(SINGLE_SERVICE);
        assert_eq!(app.service, "service");
        assert_eq!(app.security_group, "service-security-group");
        assert_eq!(app.listener_rule, "listener-rule-app");
        let api = ServiceIds::named("api");
        assert_eq!(api.service, "service-api");
        assert_eq!(api.security_group, "security-group-api");
        assert_eq!(queue_ids(SINGLE_QUEUE).0, "queue");
        assert_eq!(queue_ids("jobs").1, "dead-letter-queue-jobs");
    }

    #[test]
    fn ids_parsed_from_aws_names_are_the_ids_built() {
        assert_eq!(
            ResourceId::of_scalable_target("shop", "service/shop/shop-api"),
            Some(ResourceId::scalable_target("api"))
        );
        assert_eq!(
            ResourceId::of_scalable_target("shop", "service/shop/shop"),
            Some(ResourceId::scalable_target(SINGLE_SERVICE))
        );
        assert_eq!(
            ResourceId::of_scalable_target("shop", "service/other/x"),
            None
        );
        assert_eq!(
            ResourceId::of_scaling_policy("shop", "shop-api-cpu"),
            Some(ResourceId::scaling_policy("api", "cpu"))
        );
        assert_eq!(ResourceId::of_scaling_policy("shop", "shopper-x"), None);
    }

    #[test]
    fn an_id_shows_and_serialises_as_its_string() {
        let id = ResourceId::public_subnet(0);
        assert_eq!(id.to_string(), "public-subnet-1");
        assert_eq!(format!("[{id:<17}]"), "[public-subnet-1  ]");
        assert_eq!(format!("{id:?}"), "\"public-subnet-1\"");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"public-subnet-1\"");
        let map: std::collections::BTreeMap<ResourceId, u8> = [(id, 1)].into();
        assert_eq!(map.get("public-subnet-1"), Some(&1));
    }
}
