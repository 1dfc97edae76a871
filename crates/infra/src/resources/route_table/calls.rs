//! The calls that bring a route table's routes and associations in line.

use super::model::{DEFAULT_ROUTE, Field, Target};
use crate::aws::ec2;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::Outputs;
use crate::retry;

/// Brings the routes or the associations of `table` in line with `field`. Calls that name a
/// gateway or subnet made moments ago wait for EC2 to know it.
pub(super) async fn apply(
    ctx: &Context,
    id: &ResourceId,
    table: &str,
    field: &Field,
    refs: &Outputs,
) -> Result<()> {
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

async fn delete_route(
    ctx: &Context,
    id: &ResourceId,
    table: &str,
    destination: &str,
) -> Result<()> {
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
    id: &ResourceId,
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
        // There already: a retry whose first attempt's answer was lost.
        crate::aws::done_is_ok(
            send!(ctx.ec2.create_route(), "CreateRoute"),
            &["RouteAlreadyExists"],
        )
    }
}

async fn associate(ctx: &Context, id: &ResourceId, table: &str, subnet: &str) -> Result<()> {
    let associated = ctx
        .ec2
        .associate_route_table()
        .route_table_id(table)
        .subnet_id(subnet)
        .send()
        .await
        .map_err(|e| Error::aws(id, "AssociateRouteTable", e));
    crate::aws::done_is_ok(associated, &["Resource.AlreadyAssociated"])
}

pub(super) async fn disassociate(ctx: &Context, id: &ResourceId, association: &str) -> Result<()> {
    let result = ctx
        .ec2
        .disassociate_route_table()
        .association_id(association)
        .send()
        .await
        .map_err(|e| Error::aws(id, "DisassociateRouteTable", e));
    crate::aws::gone_is_ok(result, ec2::is_not_found)
}
