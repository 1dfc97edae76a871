//! Security-group rules: as AWS reports them ([`Rule`]), as wanted ([`Grant`], whose group
//! may be made in this run), how they are shown, and how AWS's permissions flatten into them.

use std::collections::BTreeSet;
use std::fmt;

use aws_sdk_ec2::types::{IpPermission, IpRange, UserIdGroupPair};

use crate::error::Result;
use crate::id::ResourceId;
use crate::outputs::{Outputs, Ref};

pub const ANYWHERE: &str = "0.0.0.0/0";

/// One rule as AWS reports it: protocol, port range, and a CIDR or group id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub protocol: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
    pub source: String,
}

/// Where a wanted rule lets traffic come from (or go to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    Cidr(String),
    Group(Ref),
}

/// A rule as wanted: like [`Rule`], with a group that may not exist yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub protocol: String,
    pub from: Option<i32>,
    pub to: Option<i32>,
    pub peer: Peer,
}

impl Grant {
    pub(super) fn tcp(port: u16, peer: Peer) -> Self {
        Self {
            protocol: "tcp".into(),
            from: Some(i32::from(port)),
            to: Some(i32::from(port)),
            peer,
        }
    }

    /// All traffic to anywhere: AWS's default egress rule.
    pub(super) fn all_out() -> Self {
        Self {
            protocol: "-1".into(),
            from: None,
            to: None,
            peer: Peer::Cidr(ANYWHERE.into()),
        }
    }

    pub(super) fn matches(&self, rule: &Rule) -> bool {
        let source = match &self.peer {
            Peer::Cidr(cidr) => cidr == &rule.source,
            Peer::Group(group) => group.is(&rule.source),
        };
        source && (&self.protocol, self.from, self.to) == (&rule.protocol, rule.from, rule.to)
    }

    /// The rule with its group resolved now.
    pub(super) fn resolve(&self, refs: &Outputs, from: &ResourceId) -> Result<Rule> {
        let source = match &self.peer {
            Peer::Cidr(cidr) => cidr.clone(),
            Peer::Group(group) => group.resolve(refs, from)?,
        };
        Ok(Rule {
            protocol: self.protocol.clone(),
            from: self.from,
            to: self.to,
            source,
        })
    }
}

impl Rule {
    pub(super) fn permission(&self) -> IpPermission {
        let builder = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from)
            .set_to_port(self.to);
        if self.source.starts_with("sg-") {
            builder
                .user_id_group_pairs(UserIdGroupPair::builder().group_id(&self.source).build())
                .build()
        } else {
            builder
                .ip_ranges(IpRange::builder().cidr_ip(&self.source).build())
                .build()
        }
    }
}

fn show_rule(
    f: &mut fmt::Formatter<'_>,
    protocol: &str,
    ports: (Option<i32>, Option<i32>),
    source: &dyn fmt::Display,
) -> fmt::Result {
    match (protocol, ports) {
        ("-1", _) => write!(f, "all from {source}"),
        (p, (Some(a), Some(b))) if a == b => write!(f, "{p}/{a} from {source}"),
        (p, (Some(a), Some(b))) => write!(f, "{p}/{a}-{b} from {source}"),
        (p, _) => write!(f, "{p} from {source}"),
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        show_rule(f, &self.protocol, (self.from, self.to), &self.source)
    }
}

impl fmt::Display for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source: &dyn fmt::Display = match &self.peer {
            Peer::Cidr(cidr) => cidr,
            Peer::Group(group) => group,
        };
        show_rule(f, &self.protocol, (self.from, self.to), source)
    }
}

pub(super) fn flatten(permissions: &[IpPermission]) -> BTreeSet<Rule> {
    let mut rules = BTreeSet::new();
    for p in permissions {
        let protocol = p.ip_protocol().unwrap_or("-1").to_owned();
        let (from, to) = if protocol == "-1" {
            (None, None)
        } else {
            (p.from_port(), p.to_port())
        };
        let sources = p
            .ip_ranges()
            .iter()
            .filter_map(|r| r.cidr_ip())
            .chain(p.ipv6_ranges().iter().filter_map(|r| r.cidr_ipv6()))
            .chain(p.user_id_group_pairs().iter().filter_map(|g| g.group_id()))
            .chain(
                p.prefix_list_ids()
                    .iter()
                    .filter_map(|l| l.prefix_list_id()),
            );
        for source in sources {
            rules.insert(Rule {
                protocol: protocol.clone(),
                from,
                to,
                source: source.to_owned(),
            });
        }
    }
    rules
}
