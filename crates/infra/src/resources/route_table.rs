//! Route tables: the public one sends 0.0.0.0/0 to the internet gateway, the private one to
//! the NAT gateway (when there is one). Each is associated with its zone-subnets. Routes and
//! associations added by hand are drift and are removed.

use aws_sdk_ec2::types::{ResourceType, RouteOrigin};

use super::{Detail, Diff, Kind, Observed, Output, Outputs, ec2, resolve};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::retry;
use crate::tags::Tags;

pub const DEFAULT_ROUTE: &str = "0.0.0.0/0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Logical id of an internet gateway.
    InternetGateway(String),
    /// Logical id of a NAT gateway.
    NatGateway(String),
}

impl Target {
    pub fn logical_id(&self) -> &str {
        match self {
            Self::InternetGateway(id) | Self::NatGateway(id) => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTable {
    pub vpc: String,
    pub default_route: Option<Target>,
    /// Logical ids of the subnets to associate.
    pub subnets: Vec<String>,
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

fn show_routes(routes: &[RouteState]) -> String {
    if routes.is_empty() {
        return "(none)".into();
    }
    routes
        .iter()
        .map(|r| format!("{}->{}", r.destination, r.target))
        .collect::<Vec<_>>()
        .join(", ")
}

fn show_list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".into()
    } else {
        items.join(", ")
    }
}

/// The routes and subnet ids wanted, with ids that do not exist yet shown as `(new …)`.
fn wanted(desired: &RouteTable, refs: &Outputs) -> (Vec<RouteState>, Vec<String>) {
    let id_of = |logical: &str| {
        refs.get(logical)
            .map_or_else(|| format!("(new {logical})"), |o| o.aws_id.clone())
    };
    let routes = desired
        .default_route
        .iter()
        .map(|t| RouteState {
            destination: DEFAULT_ROUTE.into(),
            target: id_of(t.logical_id()),
        })
        .collect();
    let mut subnets: Vec<String> = desired.subnets.iter().map(|s| id_of(s)).collect();
    subnets.sort();
    (routes, subnets)
}

pub fn diff(desired: &RouteTable, observed: &RouteTableState, refs: &Outputs) -> Diff {
    let mut diff = Diff::default();
    if let Some(vpc) = refs.get(&desired.vpc)
        && vpc.aws_id != observed.vpc_id
    {
        diff.replace(format!(
            "it is in {} instead of the stack's VPC {}",
            observed.vpc_id, vpc.aws_id
        ));
    }
    let (routes, subnets) = wanted(desired, refs);
    let mut have_routes = observed.routes.clone();
    have_routes.sort_by(|a, b| a.destination.cmp(&b.destination));
    if have_routes != routes {
        diff.field("routes", show_routes(&have_routes), show_routes(&routes));
    }
    let mut have_subnets: Vec<String> = observed
        .associations
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    have_subnets.sort();
    if have_subnets != subnets {
        diff.field("subnets", show_list(&have_subnets), show_list(&subnets));
    }
    diff
}

pub async fn observe(ctx: &Context) -> Result<Vec<Observed>> {
    let out = ctx
        .ec2
        .describe_route_tables()
        .filters(ec2::stack_filter(ctx))
        .send()
        .await
        .map_err(|e| Error::aws("route tables", "DescribeRouteTables", e))?;
    Ok(out
        .route_tables()
        .iter()
        .filter_map(|rt| {
            let tags = ec2::to_map(rt.tags());
            let routes = rt
                .routes()
                .iter()
                // Only routes made with CreateRoute are anyone's to manage: the local route and
                // routes propagated from a VPN gateway are AWS's.
                .filter(|r| r.origin().is_none_or(|o| *o == RouteOrigin::CreateRoute))
                .filter(|r| r.gateway_id() != Some("local"))
                .filter_map(|r| {
                    let target = r
                        .gateway_id()
                        .or(r.nat_gateway_id())
                        .or(r.vpc_peering_connection_id())
                        .or(r.transit_gateway_id())
                        .or(r.network_interface_id())
                        .or(r.instance_id())
                        .unwrap_or("(other)");
                    Some(RouteState {
                        destination: r.destination_cidr_block()?.to_owned(),
                        target: target.to_owned(),
                    })
                })
                .collect();
            let associations = rt
                .associations()
                .iter()
                .filter(|a| !a.main().unwrap_or(false))
                .filter_map(|a| {
                    Some((
                        a.route_table_association_id()?.to_owned(),
                        a.subnet_id()?.to_owned(),
                    ))
                })
                .collect();
            Some(Observed {
                id: ec2::logical_id(ctx, &tags)?,
                kind: Kind::RouteTable,
                aws_id: rt.route_table_id()?.to_owned(),
                arn: None,
                state: "available".into(),
                tags,
                detail: Detail::RouteTable(RouteTableState {
                    vpc_id: rt.vpc_id().unwrap_or_default().to_owned(),
                    routes,
                    associations,
                }),
            })
        })
        .collect())
}

pub async fn create(
    ctx: &Context,
    id: &str,
    desired: &RouteTable,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    let vpc = resolve(refs, id, &desired.vpc)?;
    let out = retry::until_visible(&ctx.settings, || async {
        ctx.ec2
            .create_route_table()
            .vpc_id(&vpc.aws_id)
            .tag_specifications(ec2::tag_spec(ResourceType::RouteTable, tags))
            .send()
            .await
            .map_err(|e| Error::aws(id, "CreateRouteTable", e))
    })
    .await?;
    let table_id = out
        .route_table()
        .and_then(|t| t.route_table_id())
        .ok_or_else(|| Error::unexpected(id, "CreateRouteTable returned no id"))?
        .to_owned();
    let empty = RouteTableState {
        vpc_id: vpc.aws_id.clone(),
        routes: Vec::new(),
        associations: Vec::new(),
    };
    converge(ctx, id, &table_id, desired, &empty, refs).await?;
    Ok(Output {
        aws_id: table_id,
        ..Output::default()
    })
}

pub async fn update(
    ctx: &Context,
    observed: &Observed,
    desired: &RouteTable,
    state: &RouteTableState,
    tags: &Tags,
    refs: &Outputs,
) -> Result<Output> {
    converge(ctx, &observed.id, &observed.aws_id, desired, state, refs).await?;
    ec2::retag(ctx, observed, tags).await
}

/// Adds, replaces and removes routes and associations until the table matches `desired`.
/// Calls that name a gateway or subnet made moments ago wait for EC2 to know it.
async fn converge(
    ctx: &Context,
    id: &str,
    table: &str,
    desired: &RouteTable,
    state: &RouteTableState,
    refs: &Outputs,
) -> Result<()> {
    let want = match &desired.default_route {
        Some(target) => Some((
            target,
            resolve(refs, id, target.logical_id())?.aws_id.clone(),
        )),
        None => None,
    };
    for route in &state.routes {
        let keep = want.is_some() && route.destination == DEFAULT_ROUTE;
        if !keep {
            ctx.ec2
                .delete_route()
                .route_table_id(table)
                .destination_cidr_block(&route.destination)
                .send()
                .await
                .map_err(|e| Error::aws(id, "DeleteRoute", e))?;
        }
    }
    if let Some((target, target_id)) = &want {
        let existing = state.routes.iter().find(|r| r.destination == DEFAULT_ROUTE);
        match existing {
            Some(r) if &r.target == target_id => {}
            Some(_) => {
                retry::until_visible(&ctx.settings, || async {
                    let call = ctx
                        .ec2
                        .replace_route()
                        .route_table_id(table)
                        .destination_cidr_block(DEFAULT_ROUTE);
                    let call = match target {
                        Target::InternetGateway(_) => call.gateway_id(target_id),
                        Target::NatGateway(_) => call.nat_gateway_id(target_id),
                    };
                    call.send()
                        .await
                        .map_err(|e| Error::aws(id, "ReplaceRoute", e))
                })
                .await?;
            }
            None => {
                retry::until_visible(&ctx.settings, || async {
                    let call = ctx
                        .ec2
                        .create_route()
                        .route_table_id(table)
                        .destination_cidr_block(DEFAULT_ROUTE);
                    let call = match target {
                        Target::InternetGateway(_) => call.gateway_id(target_id),
                        Target::NatGateway(_) => call.nat_gateway_id(target_id),
                    };
                    call.send()
                        .await
                        .map_err(|e| Error::aws(id, "CreateRoute", e))
                })
                .await?;
            }
        }
    }
    let mut subnets = Vec::new();
    for logical in &desired.subnets {
        subnets.push(resolve(refs, id, logical)?.aws_id.clone());
    }
    for (association, subnet) in &state.associations {
        if !subnets.contains(subnet) {
            ctx.ec2
                .disassociate_route_table()
                .association_id(association)
                .send()
                .await
                .map_err(|e| Error::aws(id, "DisassociateRouteTable", e))?;
        }
    }
    for subnet in &subnets {
        if !state.associations.iter().any(|(_, s)| s == subnet) {
            retry::until_visible(&ctx.settings, || async {
                ctx.ec2
                    .associate_route_table()
                    .route_table_id(table)
                    .subnet_id(subnet)
                    .send()
                    .await
                    .map_err(|e| Error::aws(id, "AssociateRouteTable", e))
            })
            .await?;
        }
    }
    Ok(())
}

pub async fn delete(
    ctx: &Context,
    observed: &Observed,
    state: &RouteTableState,
    on_wait: &(dyn Fn(String) + Send + Sync),
) -> Result<()> {
    for (association, _) in &state.associations {
        let result = ctx
            .ec2
            .disassociate_route_table()
            .association_id(association)
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "DisassociateRouteTable", e));
        match result {
            Err(err) if !ec2::is_not_found(&err) => return Err(err),
            _ => {}
        }
    }
    ec2::delete_retrying(ctx, on_wait, "associations to go", || async {
        ctx.ec2
            .delete_route_table()
            .route_table_id(&observed.aws_id)
            .send()
            .await
            .map_err(|e| Error::aws(&observed.id, "DeleteRouteTable", e))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> Outputs {
        [
            ("vpc", "vpc-1"),
            ("igw", "igw-1"),
            ("public-subnet-1", "subnet-1"),
            ("public-subnet-2", "subnet-2"),
        ]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_owned(),
                Output {
                    aws_id: v.into(),
                    ..Output::default()
                },
            )
        })
        .collect()
    }

    fn desired() -> RouteTable {
        RouteTable {
            vpc: "vpc".into(),
            default_route: Some(Target::InternetGateway("igw".into())),
            subnets: vec!["public-subnet-1".into(), "public-subnet-2".into()],
        }
    }

    fn state(routes: &[(&str, &str)], subnets: &[&str]) -> RouteTableState {
        RouteTableState {
            vpc_id: "vpc-1".into(),
            routes: routes
                .iter()
                .map(|(d, t)| RouteState {
                    destination: (*d).into(),
                    target: (*t).into(),
                })
                .collect(),
            associations: subnets
                .iter()
                .map(|s| (format!("a-{s}"), (*s).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn a_matching_table_is_unchanged() {
        let d = diff(
            &desired(),
            &state(&[("0.0.0.0/0", "igw-1")], &["subnet-2", "subnet-1"]),
            &refs(),
        );
        assert_eq!(d, Diff::default());
    }

    #[test]
    fn a_route_added_by_hand_is_drift() {
        let d = diff(
            &desired(),
            &state(
                &[("0.0.0.0/0", "igw-1"), ("192.168.0.0/16", "pcx-9")],
                &["subnet-1", "subnet-2"],
            ),
            &refs(),
        );
        assert_eq!(d.fields.len(), 1);
        assert_eq!(d.fields[0].field, "routes");
        assert_eq!(d.fields[0].to, "0.0.0.0/0->igw-1");
    }

    #[test]
    fn missing_associations_and_new_targets_show_up() {
        let mut refs = refs();
        refs.remove("igw");
        let d = diff(&desired(), &state(&[], &["subnet-1"]), &refs);
        let fields: Vec<_> = d
            .fields
            .iter()
            .map(|f| (f.field.as_str(), f.to.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("routes", "0.0.0.0/0->(new igw)"),
                ("subnets", "subnet-1, subnet-2")
            ]
        );
    }
}
