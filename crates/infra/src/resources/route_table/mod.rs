//! Route tables: the public one sends 0.0.0.0/0 to the internet gateway, the private one to
//! the NAT gateway (when there is one). Each is associated with its zone-subnets. Routes and
//! associations added by hand are drift and are removed.

mod calls;
mod model;

use aws_sdk_ec2::types::{ResourceType, RouteOrigin};
use calls::{apply, disassociate};
pub use model::{DEFAULT_ROUTE, Field, Route, RouteState, RouteTable, RouteTableState, Target};

use crate::aws::ec2;
use crate::change::Diff;
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::retry;
use crate::tags::Tags;

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

    fn refs(&self) -> Vec<&ResourceId> {
        let mut refs = vec![&self.vpc];
        refs.extend(self.default_route.iter().map(Target::logical_id));
        refs.extend(self.subnets.iter());
        refs
    }

    fn binding(&self) -> Vec<&ResourceId> {
        vec![&self.vpc]
    }

    async fn observe(scope: &Scope<'_>, _: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let what = ("route tables", "DescribeRouteTables");
        let items = ec2::describe_stack!(ctx, describe_route_tables, filters, what)?;
        Ok(ec2::found(ctx, &items, |rt| {
            let seen = ec2::Seen::new(rt.tags(), rt.route_table_id());
            (seen, state_of(rt))
        }))
    }

    fn diff(&self, found: &RouteTableState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        diff.replace_if(Ref::new(refs, &self.vpc, Attr::Id).moved_from(&found.vpc_id));
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
            crate::aws::once!(
                aws_sdk_ec2,
                ctx.ec2
                    .create_route_table()
                    .client_token(new.token)
                    .vpc_id(&vpc)
                    .tag_specifications(ec2::tag_spec(ResourceType::RouteTable, new.tags))
            )
            .await
            .map_err(|e| Error::aws(new.id, "CreateRouteTable", e))
        })
        .await?;
        let table = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| Error::incomplete(new.id, "CreateRouteTable", "id"))?
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

    async fn apply(
        &self,
        ctx: &Context,
        found: &Found<RouteTableState>,
        field: &Field,
        refs: &Outputs,
    ) -> Result<()> {
        apply(ctx, &found.id, &found.aws_id, field, refs).await
    }

    async fn retag(ctx: &Context, found: &Found<RouteTableState>, tags: &Tags) -> Result<()> {
        ec2::retag(ctx, found, tags).await
    }

    async fn delete(ctx: &Context, found: &Found<RouteTableState>, wait: Wait<'_>) -> Result<()> {
        for (association, _) in &found.detail.associations {
            disassociate(ctx, &found.id, association).await?;
        }
        let (waiting_for, op) = ("associations to go", "DeleteRouteTable");
        ec2::delete_found!(
            ctx,
            wait,
            found,
            waiting_for,
            delete_route_table.route_table_id,
            op
        )
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

#[cfg(test)]
mod tests {
    use crate::change::Describe;
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

    mod calls {
        use aws_sdk_ec2::operation::create_route_table::CreateRouteTableOutput;
        use aws_sdk_ec2::operation::delete_route_table::{
            DeleteRouteTableError, DeleteRouteTableOutput,
        };
        use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
        use aws_sdk_ec2::types::{Route, RouteTableAssociation};
        use aws_smithy_mocks::mock;

        use super::*;
        use crate::resources::testing::fails;

        #[tokio::test]
        async fn create_makes_the_table_its_default_route_and_its_associations() {
            let create = mock!(aws_sdk_ec2::Client::create_route_table)
                .match_requests(|r| {
                    r.vpc_id() == Some("vpc-1") && r.client_token() == Some("token-1")
                })
                .then_output(|| {
                    let table = aws_sdk_ec2::types::RouteTable::builder().route_table_id("rtb-1");
                    CreateRouteTableOutput::builder()
                        .route_table(table.build())
                        .build()
                });
            let route = mock!(aws_sdk_ec2::Client::create_route)
                .match_requests(|r| {
                    r.route_table_id() == Some("rtb-1")
                        && r.destination_cidr_block() == Some(DEFAULT_ROUTE)
                        && r.gateway_id() == Some("igw-1")
                })
                .then_output(|| CreateRouteOutput::builder().build());
            let associate = mock!(aws_sdk_ec2::Client::associate_route_table)
                .match_requests(|r| r.route_table_id() == Some("rtb-1"))
                .then_output(|| AssociateRouteTableOutput::builder().build());
            let ctx = testing::ec2(&[&create, &route, &associate]);
            let creating = testing::Creating::new(ResourceId::PUBLIC_ROUTE_TABLE, refs());
            let output = desired().create(&ctx, creating.get()).await.unwrap();
            assert_eq!(output.aws_id, "rtb-1");
            assert_eq!((route.num_calls(), associate.num_calls()), (1, 2));
        }

        #[tokio::test]
        async fn observe_reads_routes_made_by_calls_and_subnet_associations_only() {
            let describe = mock!(aws_sdk_ec2::Client::describe_route_tables).then_output(|| {
                let table = aws_sdk_ec2::types::RouteTable::builder()
                    .route_table_id("rtb-1")
                    .vpc_id("vpc-1")
                    .routes(
                        Route::builder()
                            .destination_cidr_block("10.0.0.0/16")
                            .gateway_id("local")
                            .origin(RouteOrigin::CreateRouteTable)
                            .build(),
                    )
                    .routes(
                        Route::builder()
                            .destination_cidr_block(DEFAULT_ROUTE)
                            .gateway_id("igw-1")
                            .origin(RouteOrigin::CreateRoute)
                            .build(),
                    )
                    .associations(RouteTableAssociation::builder().main(true).build())
                    .associations(
                        RouteTableAssociation::builder()
                            .route_table_association_id("a-subnet-1")
                            .subnet_id("subnet-1")
                            .build(),
                    )
                    .associations(
                        RouteTableAssociation::builder()
                            .route_table_association_id("a-subnet-2")
                            .subnet_id("subnet-2")
                            .build(),
                    )
                    .set_tags(Some(testing::ec2_tags("public-route-table")))
                    .build();
                DescribeRouteTablesOutput::builder()
                    .route_tables(table)
                    .build()
            });
            let ctx = testing::ec2(&[&describe]);
            let found = RouteTable::observe(&Scope::new(&ctx), &[]).await.unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(
                found[0].detail,
                state(&[(DEFAULT_ROUTE, "igw-1")], &["subnet-1", "subnet-2"])
            );
            assert!(desired().diff(&found[0].detail, &refs()).is_empty());
        }

        #[tokio::test]
        async fn delete_disassociates_then_deletes_and_a_table_already_gone_is_success() {
            let disassociate = mock!(aws_sdk_ec2::Client::disassociate_route_table)
                .then_output(|| DisassociateRouteTableOutput::builder().build());
            let delete = mock!(aws_sdk_ec2::Client::delete_route_table)
                .match_requests(|r| r.route_table_id() == Some("rtb-1"))
                .then_output(|| DeleteRouteTableOutput::builder().build());
            let ctx = testing::ec2(&[&disassociate, &delete]);
            let found = testing::found(
                "public-route-table",
                "rtb-1",
                state(&[(DEFAULT_ROUTE, "igw-1")], &["subnet-1", "subnet-2"]),
            );
            RouteTable::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!((disassociate.num_calls(), delete.num_calls()), (2, 1));

            let gone = fails!(
                aws_sdk_ec2,
                delete_route_table,
                DeleteRouteTableError,
                "InvalidRouteTableID.NotFound"
            );
            let ctx = testing::ec2(&[&gone]);
            let found = testing::found("public-route-table", "rtb-1", state(&[], &[]));
            RouteTable::delete(&ctx, &found, &|_| {}).await.unwrap();
            assert_eq!(gone.num_calls(), 1);
        }
    }
}
