//! From a validated [`StackSpec`] to the list of desired resources with their logical ids and
//! dependencies: the one place that says what a stack is made of. Split by area, as `spec/`
//! is: the network, what the service shares (queues, registry, roles, logs), the service.

mod network;
mod outputs;
mod service;
mod shared;

pub use outputs::named_outputs;

use crate::resource::Tagging;
use crate::resources::{Desired, Spec};
use crate::spec::{Names, StackSpec};
use crate::tags;

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

/// Collects the desired resources, tagging each as its kind wants.
struct Builder<'a> {
    spec: &'a StackSpec,
    /// The stack's AWS names, derived once from its name.
    names: Names,
    out: Vec<Desired>,
}

impl Builder<'_> {
    /// Adds a resource created after what it refers to and after `after`.
    fn add(&mut self, id: &str, spec: Spec, after: &[&str]) {
        let tags = match spec.tagging() {
            Tagging::None => tags::Tags::new(),
            tagging => {
                let name = format!("{}-{id}", self.spec.name);
                let name = (tagging == Tagging::StackAndName).then_some(name.as_str());
                let mut tags = self.spec.tags.clone();
                tags.extend(tags::managed(&self.spec.name, id, name));
                tags
            }
        };
        self.out.push(Desired::new(id, spec, tags, after));
    }
}

/// Every resource of the stack. `zones` are the region's availability zones in name order.
pub fn desired(spec: &StackSpec, zones: &[String]) -> Vec<Desired> {
    let mut b = Builder {
        spec,
        names: spec.names(),
        out: Vec::new(),
    };
    let subnets = network::add(&mut b, zones);
    shared::add(&mut b);
    if let Some(image) = service::image(&mut b) {
        service::add(&mut b, image, &subnets);
    }
    b.out
}

#[cfg(test)]
mod tests;
