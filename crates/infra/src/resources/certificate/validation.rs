//! A certificate's DNS validation records: one CNAME a name, written in the hosted zone of the
//! domain it proves, and removed with the certificate unless another certificate of the account
//! is for the same name.

use std::collections::BTreeMap;

use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};

use crate::aws::acm::{self, Detail, Validation};
use crate::aws::route53::{self, Zone};
use crate::context::Context;
use crate::contract::Found;
use crate::error::{Error, Result};
use crate::id::ResourceId;

/// How long resolvers keep a validation record.
const TTL: i64 = 300;

/// The records by zone, each name once (a name and its wildcard share one).
async fn by_zone<'v>(
    ctx: &Context,
    records: impl Iterator<Item = &'v Validation>,
) -> Result<BTreeMap<String, (Zone, Vec<&'v Validation>)>> {
    let mut zones: BTreeMap<String, (Zone, Vec<&Validation>)> = BTreeMap::new();
    let mut seen: Vec<String> = Vec::new();
    for v in records {
        if seen.contains(&route53::normal(&v.name)) {
            continue;
        }
        seen.push(route53::normal(&v.name));
        let zone = route53::zone_of(ctx, &v.domain).await?;
        zones
            .entry(zone.id.clone())
            .or_insert_with(|| (zone, Vec::new()))
            .1
            .push(v);
    }
    Ok(zones)
}

fn cname(v: &Validation) -> Result<ResourceRecordSet> {
    let value = ResourceRecord::builder()
        .value(&v.value)
        .build()
        .map_err(|e| unexpected(&e))?;
    ResourceRecordSet::builder()
        .name(&v.name)
        .r#type(RrType::Cname)
        .ttl(TTL)
        .resource_records(value)
        .build()
        .map_err(|e| unexpected(&e))
}

fn unexpected(e: &dyn std::error::Error) -> Error {
    Error::Unexpected {
        resource: ResourceId::from_tag("certificate"),
        message: e.to_string(),
    }
}

/// Writes (or rewrites: the same record each time) every validation record of `detail`.
/// ACM looks for them itself: nothing waits for Route 53 to have them everywhere.
pub async fn write(ctx: &Context, id: &ResourceId, detail: &Detail) -> Result<()> {
    for (zone, records) in by_zone(ctx, detail.validation.iter()).await?.into_values() {
        let changes = records
            .into_iter()
            .map(|v| route53::change(ChangeAction::Upsert, cname(v)?))
            .collect::<Result<Vec<_>>>()?;
        route53::apply(ctx, id, &zone, changes, None).await?;
    }
    Ok(())
}

/// Removes the validation records of `found` that no other certificate of the account needs
/// and that still hold its value. A zone that is gone has nothing left to remove.
pub async fn remove(ctx: &Context, found: &Found<Detail>) -> Result<()> {
    let others = acm::listed(ctx).await?;
    let needed = |domain: &str| {
        others
            .iter()
            .any(|(arn, names)| arn != &found.aws_id && names.iter().any(|n| n == domain))
    };
    let ours = found
        .detail
        .validation
        .iter()
        .filter(|v| !needed(&v.domain));
    let mut zones = BTreeMap::new();
    for v in ours {
        match by_zone(ctx, std::iter::once(v)).await {
            Ok(found) => {
                for (id, (zone, records)) in found {
                    zones
                        .entry(id)
                        .or_insert_with(|| (zone, Vec::new()))
                        .1
                        .extend(records);
                }
            }
            Err(Error::Failed { .. }) => {}
            Err(err) => return Err(err),
        }
    }
    for (zone, records) in zones.into_values() {
        let mut changes = Vec::new();
        for v in records {
            let Some(record) = route53::record(ctx, &zone, &v.name, RrType::Cname).await? else {
                continue;
            };
            let holds = record
                .resource_records()
                .iter()
                .any(|r| route53::normal(r.value()) == route53::normal(&v.value));
            if holds {
                changes.push(route53::change(ChangeAction::Delete, record)?);
            }
        }
        if !changes.is_empty() {
            route53::apply(ctx, &found.id, &zone, changes, None).await?;
        }
    }
    Ok(())
}
