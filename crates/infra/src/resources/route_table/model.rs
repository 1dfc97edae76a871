//! What the route-table kind compares and changes: the desired table, what EC2 reports, and
//! the typed field changes with how the plan shows them.

use crate::change::{Describe, FieldChange, show_list};
use crate::id::ResourceId;
use crate::outputs::Ref;

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Logical id of an internet gateway.
    InternetGateway(ResourceId),
    /// Logical id of a NAT gateway.
    NatGateway(ResourceId),
}

impl Target {
    pub fn logical_id(&self) -> &ResourceId {
        match self {
            Self::InternetGateway(id) | Self::NatGateway(id) => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub vpc: ResourceId,
    pub default_route: Option<Target>,
    /// Logical ids of the subnets to associate.
    pub subnets: Vec<ResourceId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteState {
    pub destination: String,
    /// The gateway or NAT gateway id the route points at (or another target's id).
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTableState {
    pub vpc_id: String,
    /// Routes made with CreateRoute (the VPC's own local route is not ours).
    pub routes: Vec<RouteState>,
    /// (association id, subnet id)
    pub associations: Vec<(String, String)>,
}

/// The default route as wanted: to which kind of gateway, and which one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub target: Target,
    pub to: Ref,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// The routes as they are, and the default route wanted (if any); any other route goes.
    Routes {
        have: Vec<RouteState>,
        want: Option<Route>,
    },
    /// The associations as they are, and the subnets wanted.
    Subnets {
        have: Vec<(String, String)>,
        want: Vec<Ref>,
    },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Routes { have, want } => FieldChange::new(
                "routes",
                show_list(
                    have.iter()
                        .map(|r| format!("{}->{}", r.destination, r.target)),
                ),
                show_list(want.iter().map(|w| format!("{DEFAULT_ROUTE}->{}", w.to))),
            ),
            Self::Subnets { have, want } => {
                let mut from: Vec<&String> = have.iter().map(|(_, s)| s).collect();
                from.sort();
                let mut to: Vec<String> = want.iter().map(Ref::to_string).collect();
                to.sort();
                FieldChange::new("subnets", show_list(from), show_list(to))
            }
        }
    }
}
