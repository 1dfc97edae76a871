//! The network: VPC, internet gateway, a public and a private subnet per zone, their route
//! tables, the NAT gateway when asked for, and the security groups the services share.

use super::builder::Builder;
use crate::id::ResourceId;
use ipnet::Ipv4Net;

use crate::resources::elastic_ip::ElasticIp;
use crate::resources::internet_gateway::InternetGateway;
use crate::resources::nat_gateway::NatGateway;
use crate::resources::route_table::{RouteTable, Target};
use crate::resources::security_group::{Ingress, SecurityGroup, Source};
use crate::resources::subnet::Subnet;
use crate::resources::vpc::Vpc;
use crate::resources::{Desired, Detail, Observed, Spec};
use crate::stack_file::{NetworkSpec, ServiceKind};

/// The logical ids of the subnets, by kind.
pub(super) struct Subnets {
    pub public: Vec<ResourceId>,
    pub private: Vec<ResourceId>,
}

pub(super) fn add(b: &mut Builder<'_>, zones: &[String]) -> Subnets {
    let net = &b.spec.network;
    b.add(ResourceId::VPC, Spec::Vpc(Vpc { cidr: net.cidr }), &[]);
    b.add(
        ResourceId::INTERNET_GATEWAY,
        Spec::InternetGateway(InternetGateway {
            vpc: ResourceId::VPC,
        }),
        &[],
    );
    let region = b.spec.region.clone();
    let zone = |i: usize| {
        zones
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("{region}{}", char::from(b'a' + (i % 26) as u8)))
    };
    let mut subnets = Subnets {
        public: Vec::new(),
        private: Vec::new(),
    };
    let blocks = [
        (true, net.public_subnets.clone()),
        (false, net.private_subnets.clone()),
    ];
    for (public, cidrs) in blocks {
        for (i, cidr) in cidrs.into_iter().enumerate() {
            let id = if public {
                ResourceId::public_subnet(i)
            } else {
                ResourceId::private_subnet(i)
            };
            let subnet = Subnet {
                vpc: ResourceId::VPC,
                cidr,
                zone: zone(i),
                public,
            };
            b.add(id.clone(), Spec::Subnet(subnet), &[]);
            if public {
                subnets.public.push(id);
            } else {
                subnets.private.push(id);
            }
        }
    }
    route_tables(b, &subnets);
    security_groups(b);
    subnets
}

fn route_tables(b: &mut Builder<'_>, subnets: &Subnets) {
    let public = RouteTable {
        vpc: ResourceId::VPC,
        default_route: Some(Target::InternetGateway(ResourceId::INTERNET_GATEWAY)),
        subnets: subnets.public.clone(),
    };
    b.add(
        ResourceId::PUBLIC_ROUTE_TABLE,
        Spec::RouteTable(public),
        &[],
    );
    let nat = b.spec.network.nat_gateway;
    let default_route = if nat {
        let first_public = subnets
            .public
            .first()
            .cloned()
            .unwrap_or_else(|| ResourceId::public_subnet(0));
        b.add(ResourceId::NAT_EIP, Spec::ElasticIp(ElasticIp), &[]);
        let nat = NatGateway {
            subnet: first_public,
            eip: ResourceId::NAT_EIP,
        };
        // A NAT gateway in a subnet without a way out never becomes available.
        b.add(
            ResourceId::NAT_GATEWAY,
            Spec::NatGateway(nat),
            &[ResourceId::INTERNET_GATEWAY],
        );
        Some(Target::NatGateway(ResourceId::NAT_GATEWAY))
    } else {
        None
    };
    let private = RouteTable {
        vpc: ResourceId::VPC,
        default_route,
        subnets: subnets.private.clone(),
    };
    let table = b.add(
        ResourceId::PRIVATE_ROUTE_TABLE,
        Spec::RouteTable(private),
        &[],
    );
    if nat {
        // A route may only point at an available NAT gateway.
        table.after_ready(&[ResourceId::NAT_GATEWAY]);
    }
}

/// The load balancer's group (when the stack has a web service), and the group every task
/// is in when there are internal services (what they admit).
fn security_groups(b: &mut Builder<'_>) {
    let stack = &b.spec.name;
    if b.spec.web().next().is_some() {
        let alb = SecurityGroup {
            vpc: ResourceId::VPC,
            name: format!("{stack}-alb"),
            description: format!("stackctl {stack}: load balancer, HTTP and HTTPS from anywhere"),
            ingress: [80, 443]
                .into_iter()
                .map(|port| Ingress {
                    port,
                    source: Source::Anywhere,
                    description: "HTTP(S) from anywhere".into(),
                })
                .collect(),
        };
        b.add(
            ResourceId::ALB_SECURITY_GROUP,
            Spec::SecurityGroup(alb),
            &[],
        );
    }
    if b.spec
        .services
        .iter()
        .any(|s| s.kind == ServiceKind::Internal)
    {
        let services = SecurityGroup {
            vpc: ResourceId::VPC,
            name: format!("{stack}-services"),
            description: format!(
                "stackctl {stack}: every task of the stack; internal services admit this group"
            ),
            ingress: Vec::new(),
        };
        b.add(
            ResourceId::SERVICES_SECURITY_GROUP,
            Spec::SecurityGroup(services),
            &[],
        );
    }
}

/// Keeps the blocks of the subnets that exist when stackctl carved them (the file lists
/// none): carving from scratch gives every block anew when the zone count changes, which
/// would replace subnets that stay. Subnets that exist keep their block; new ones take the
/// lowest blocks free of every subnet found (a leftover one is deleted only after).
pub fn keep_subnet_blocks(desired: &mut [Desired], network: &NetworkSpec, found: &[Observed]) {
    let Some(prefix) = network.carved_prefix else {
        return;
    };
    let usable = |cidr: &str| {
        cidr.parse::<Ipv4Net>()
            .ok()
            .filter(|b| b.prefix_len() == prefix && network.cidr.contains(b))
    };
    let existing: Vec<(&ResourceId, Ipv4Net)> = found
        .iter()
        .filter_map(|o| match &o.detail {
            Detail::Subnet(s) => Some((&o.id, usable(&s.cidr)?)),
            _ => None,
        })
        .collect();
    let mut taken: Vec<Ipv4Net> = Vec::new();
    let mut unplaced = Vec::new();
    for (i, d) in desired.iter_mut().enumerate() {
        let Spec::Subnet(_) = &d.spec else { continue };
        let kept = existing
            .iter()
            .find(|(id, block)| **id == d.id && !taken.iter().any(|t| overlaps(t, block)));
        match kept {
            Some((_, block)) => {
                taken.push(*block);
                set_block(d, *block);
            }
            None => unplaced.push(i),
        }
    }
    let occupied: Vec<Ipv4Net> = existing.iter().map(|(_, b)| *b).chain(taken).collect();
    let Ok(blocks) = network.cidr.subnets(prefix) else {
        return;
    };
    let mut free = blocks.filter(|b| !occupied.iter().any(|o| overlaps(o, b)));
    for i in unplaced {
        // Too few free blocks: the carving from scratch stands, and AWS names the clash.
        let Some(block) = free.next() else { return };
        set_block(&mut desired[i], block);
    }
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(b) || b.contains(a)
}

fn set_block(d: &mut Desired, block: Ipv4Net) {
    if let Spec::Subnet(s) = &mut d.spec {
        s.cidr = block;
    }
}
