//! From a validated [`StackSpec`] to the list of desired resources with their logical ids and
//! dependencies: the one place that says what a stack is made of. Split by area, as `stack_file/`
//! is: the network, what the services share (queues, registry, logs), the services, and the
//! load balancer in front of the web ones.

mod alarms;
mod autoscaling;
mod builder;
mod load_balancing;
mod network;
mod outputs;
mod service;
mod shared;

pub use network::keep_subnet_blocks;
pub use outputs::named_outputs;

use crate::id::ResourceId;
use crate::resources::Desired;
use crate::stack_file::StackSpec;
use builder::Builder;

/// Tags the VPC with the stack file it is made from ([`crate::tags::SOURCE_TAG`]).
pub fn mark_source(desired: &mut [Desired], source: &str) {
    if let Some(vpc) = desired.iter_mut().find(|d| d.id == ResourceId::VPC) {
        vpc.tags
            .insert(crate::tags::SOURCE_TAG.to_owned(), source.to_owned());
    }
}

/// Every resource of the stack as the file alone says it, with no AWS call: the region's first
/// zones by name, and a stand-in image for a service that has none yet (`up` builds and pushes
/// one). For what is made without AWS: the policy, the diagram.
pub fn from_file(spec: &StackSpec) -> Vec<Desired> {
    let zones: Vec<String> = (0..spec.network.availability_zones)
        .map(|i| format!("{}{}", spec.region, char::from(b'a' + (i % 26) as u8)))
        .collect();
    let mut given = spec.clone();
    for service in &mut given.services {
        service.image.get_or_insert_with(|| "image".into());
    }
    desired(&given, &zones)
}

/// Every resource of the stack. `zones` are the region's availability zones in name order.
pub fn desired(spec: &StackSpec, zones: &[String]) -> Vec<Desired> {
    let mut b = Builder::new(spec);
    let subnets = network::add(&mut b, zones);
    shared::add(&mut b);
    service::add(&mut b, &subnets);
    alarms::add(&mut b);
    alarms::dashboard(&mut b);
    b.out
}

#[cfg(test)]
mod tests;
