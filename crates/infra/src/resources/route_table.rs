//! Route tables: the public one sends 0.0.0.0/0 to the internet gateway, the private one to
//! the NAT gateway (when there is one). Each is associated with its zone-subnets. Routes and
//! associations added by hand are drift and are removed.

use aws_sdk_ec2::types::{ResourceType, RouteOrigin};

use crate::aws::ec2;
use crate::change::{Describe, Diff, FieldChange, show_list};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::resource::{Found, New, Resource, Scope, Tagging, Wait, Wanted};
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

impl RouteTable {
    fn wanted(&self, refs: &Outputs) -> (Option<Route>, Vec<Ref>) {
        let route = self.default_route.as_ref().map(|t| Route {
            target: t.clone(),
            to: Ref::new(refs, t.logical_id(), Attr::Id),
        });
        let subnets = self
            .subnets
            .iter()
            .map(|s| Ref::new(refs, s, Attr::Id))
            .collect();
        (route, subnets)
    }
}

impl Resource for RouteTable {
    type State = RouteTableState;
    type Field = Field;
    const LABEL: &'static str = "route table";
    const TAGGING: Tagging = Tagging::StackAndName;

    fn refs(&self) -> Vec<&str> {
        let mut refs = vec![self.vpc.as_str()];
        refs.extend(self.default_route.iter().map(Target::logical_id));
        refs.extend(self.subnets.iter().map(String::as_str));
        refs
    }

    fn binding(&self) -> Vec<&str> {
        vec![&self.vpc]
    }

    async fn observe(
        scope: &Scope<'_>,
        _: &[Wanted<'_, Self>],
    ) -> Result<Vec<Found<RouteTableState>>> {
        let ctx = scope.ctx;
        let pages = ctx
            .ec2
            .describe_route_tables()
            .filters(ec2::stack_filter(ctx))
            .into_paginator()
            .items()
            .send();
        ec2::observe(ctx, pages, ("route tables", "DescribeRouteTables"), |rt| {
            let seen = ec2::Seen {
                tags: rt.tags(),
                aws_id: rt.route_table_id(),
                arn: None,
                state: "available".into(),
            };
            (seen, state_of(rt))
        })
        .await
    }

    fn diff(&self, found: &RouteTableState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let vpc = Ref::new(refs, &self.vpc, Attr::Id);
        if vpc.known.is_some() && !vpc.is(&found.vpc_id) {
            diff.replace(format!(
                "it is in {} instead of the stack's VPC {vpc}",
                found.vpc_id
            ));
        }
        let (route, subnets) = self.wanted(refs);
        let routes_right = match &route {
            Some(r) => {
                found.routes.len() == 1
                    && found.routes[0].destination == DEFAULT_ROUTE
                    && r.to.is(&found.routes[0].target)
            }
            None => found.routes.is_empty(),
        };
        if !routes_right {
            diff.push(Field::Routes {
                have: found.routes.clone(),
                want: route,
            });
        }
        let mut have: Vec<&str> = found.associations.iter().map(|(_, s)| s.as_str()).collect();
        have.sort_unstable();
        let mut want: Vec<Option<&str>> = subnets.iter().map(|s| s.known.as_deref()).collect();
        want.sort_unstable();
        if want.iter().any(Option::is_none)
            || have != want.into_iter().flatten().collect::<Vec<_>>()
        {
            diff.push(Field::Subnets {
                have: found.associations.clone(),
                want: subnets,
            });
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let vpc = Ref::new(new.refs, &self.vpc, Attr::Id).resolve(new.refs, new.id)?;
        let out = retry::until_visible(&ctx.settings, || async {
            ctx.ec2
                .create_route_table()
                .vpc_id(&vpc)
                .tag_specifications(ec2::tag_spec(ResourceType::RouteTable, new.tags))
                .send()
                .await
                .map_err(|e| Error::aws(new.id, "CreateRouteTable", e))
        })
        .await?;
        let table = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| Error::unexpected(new.id, "CreateRouteTable returned no id"))?
            .to_owned();
        let (route, subnets) = self.wanted(new.refs);
        let fields = [
            Field::Routes {
                have: Vec::new(),
                want: route,
            },
            Field::Subnets {
                have: Vec::new(),
                want: subnets,
            },
        ];
        for field in &fields {
            apply(ctx, new.id, &table, field, new.refs).await?;
        }
        Ok(Output::id(table))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<RouteTableState>,
        fields: &[Field],
        refs: &Outputs,
        _: Wait<'_>,
    ) -> Result<Output> {
        for field in fields {
            apply(ctx, &found.id, &found.aws_id, field, refs).await?;
        }
        Ok(Self::output(found))
    }

    async fn retag(ctx: &Context, found: &Found<RouteTableState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<RouteTableState>, wait: Wait<'_>) -> Result<()> {
        for (association, _) in &found.detail.associations {
            disassociate(ctx, &found.id, association).await?;
        }
        ec2::delete_retrying(ctx, wait, "associations to go", || async {
            ctx.ec2
                .delete_route_table()
                .route_table_id(&found.aws_id)
                .send()
                .await
                .map_err(|e| Error::aws(&found.id, "DeleteRouteTable", e))
        })
        .await
    }

    fn uses(found: &Found<RouteTableState>) -> Vec<String> {
        let state = &found.detail;
        let mut uses = vec![state.vpc_id.clone()];
        uses.extend(state.routes.iter().map(|r| r.target.clone()));
        uses.extend(state.associations.iter().map(|(_, s)| s.clone()));
        uses
    }
}

fn state_of(rt: &aws_sdk_ec2::types::RouteTable) -> RouteTableState {
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
    RouteTableState {
        vpc_id: rt.vpc_id().unwrap_or_default().to_owned(),
        routes,
        associations,
    }
}

/// Brings the routes or the associations of `table` in line with `field`. Calls that name a
/// gateway or subnet made moments ago wait for EC2 to know it.
async fn apply(ctx: &Context, id: &str, table: &str, field: &Field, refs: &Outputs) -> Result<()> {
    match field {
        Field::Routes { have, want } => {
            let want = match want {
                Some(route) => Some((&route.target, route.to.resolve(refs, id)?)),
                None => None,
            };
            for route in have {
                if want.is_none() || route.destination != DEFAULT_ROUTE {
                    delete_route(ctx, id, table, &route.destination).await?;
                }
            }
            let Some((target, gateway)) = want else {
                return Ok(());
            };
            match have.iter().find(|r| r.destination == DEFAULT_ROUTE) {
                Some(r) if r.target == gateway => Ok(()),
                existing => {
                    let replace = existing.is_some();
                    retry::until_visible(&ctx.settings, || {
                        set_default_route(ctx, id, table, target, &gateway, replace)
                    })
                    .await
                }
            }
        }
        Field::Subnets { have, want } => {
            let want = crate::outputs::resolve_all(refs, id, want)?;
            for (association, subnet) in have {
                if !want.contains(subnet) {
                    disassociate(ctx, id, association).await?;
                }
            }
            for subnet in want.iter().filter(|s| !have.iter().any(|(_, h)| h == *s)) {
                retry::until_visible(&ctx.settings, || associate(ctx, id, table, subnet)).await?;
            }
            Ok(())
        }
    }
}

async fn delete_route(ctx: &Context, id: &str, table: &str, destination: &str) -> Result<()> {
    ctx.ec2
        .delete_route()
        .route_table_id(table)
        .destination_cidr_block(destination)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DeleteRoute", e))?;
    Ok(())
}

async fn set_default_route(
    ctx: &Context,
    id: &str,
    table: &str,
    target: &Target,
    gateway: &str,
    replace: bool,
) -> Result<()> {
    // CreateRoute and ReplaceRoute take the same arguments through different builders.
    macro_rules! send {
        ($call:expr, $operation:literal) => {{
            let call = $call
                .route_table_id(table)
                .destination_cidr_block(DEFAULT_ROUTE);
            let call = match target {
                Target::InternetGateway(_) => call.gateway_id(gateway),
                Target::NatGateway(_) => call.nat_gateway_id(gateway),
            };
            call.send()
                .await
                .map(|_| ())
                .map_err(|e| Error::aws(id, $operation, e))
        }};
    }
    if replace {
        send!(ctx.ec2.replace_route(), "ReplaceRoute")
    } else {
        send!(ctx.ec2.create_route(), "CreateRoute")
    }
}

async fn associate(ctx: &Context, id: &str, table: &str, subnet: &str) -> Result<()> {
    ctx.ec2
        .associate_route_table()
        .route_table_id(table)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AssociateRouteTable", e))?;
    Ok(())
}

async fn disassociate(ctx: &Context, id: &str, association: &str) -> Result<()> {
    let result = ctx
        .ec2
        .disassociate_route_table()
        .association_id(association)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DisassociateRouteTable", e));
    crate::aws::gone_is_ok(result, ec2::is_not_found)
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::operation::associate_route_table::AssociateRouteTableOutput;
    use aws_sdk_ec2::operation::create_route::CreateRouteOutput;
    use aws_sdk_ec2::operation::delete_route::DeleteRouteOutput;
    use aws_sdk_ec2::operation::disassociate_route_table::DisassociateRouteTableOutput;
    use aws_sdk_ec2::operation::replace_route::ReplaceRouteOutput;

    use super::*;
    use crate::resources::testing::{self, ec2_rule};

    fn refs() -> Outputs {
        testing::refs(&[
            ("vpc", "vpc-1"),
            ("igw", "igw-1"),
            ("public-subnet-1", "subnet-1"),
            ("public-subnet-2", "subnet-2"),
        ])
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
        let found = state(&[("0.0.0.0/0", "igw-1")], &["subnet-2", "subnet-1"]);
        assert!(desired().diff(&found, &refs()).is_empty());
    }

    #[test]
    fn a_route_added_by_hand_is_drift() {
        let found = state(
            &[("0.0.0.0/0", "igw-1"), ("192.168.0.0/16", "pcx-9")],
            &["subnet-1", "subnet-2"],
        );
        let d = desired().diff(&found, &refs());
        assert_eq!(d.fields.len(), 1);
        let shown = d.fields[0].describe();
        assert_eq!(shown.field, "routes");
        assert_eq!(shown.to, "0.0.0.0/0->igw-1");
    }

    #[test]
    fn missing_associations_and_new_targets_show_up() {
        let mut refs = refs();
        refs.remove("igw");
        let d = desired().diff(&state(&[], &["subnet-1"]), &refs);
        let fields: Vec<(String, String)> = d
            .fields
            .iter()
            .map(|f| (f.describe().field, f.describe().to))
            .collect();
        assert_eq!(
            fields,
            [
                ("routes".into(), "0.0.0.0/0->(new igw)".into()),
                ("subnets".into(), "subnet-1, subnet-2".into())
            ]
        );
    }

    #[tokio::test]
    async fn each_field_makes_exactly_its_calls() {
        let delete = ec2_rule!(delete_route, DeleteRouteOutput);
        let create = ec2_rule!(create_route, CreateRouteOutput);
        let replace = ec2_rule!(replace_route, ReplaceRouteOutput);
        let associate = ec2_rule!(associate_route_table, AssociateRouteTableOutput);
        let disassociate = ec2_rule!(disassociate_route_table, DisassociateRouteTableOutput);
        let ctx = testing::ec2(&[&delete, &create, &replace, &associate, &disassociate]);
        // A route by hand, the default route to another gateway, one subnet too many and one
        // missing.
        let found = testing::found(
            "public-route-table",
            "rtb-1",
            state(
                &[("0.0.0.0/0", "igw-old"), ("192.168.0.0/16", "pcx-9")],
                &["subnet-1", "subnet-9"],
            ),
        );
        let fields = desired().diff(&found.detail, &refs()).fields;
        assert_eq!(fields.len(), 2);
        desired()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        let calls = [
            delete.num_calls(),
            create.num_calls(),
            replace.num_calls(),
            associate.num_calls(),
            disassociate.num_calls(),
        ];
        assert_eq!(calls, [1, 0, 1, 1, 1]);
    }
}
