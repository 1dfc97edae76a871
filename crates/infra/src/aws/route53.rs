//! Route 53, for the stack's domains: the public hosted zone that holds a domain (found, never
//! made: the zone and its delegation are the account's), one record set read by name and type,
//! and changes sent and waited on until every Route 53 server has them (`INSYNC`).

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecordSet, RrType,
};

use crate::context::Context;
use crate::contract::{Scope, Wait};
use crate::error::{Error, Result, Subject};
use crate::retry::{self, Look};

/// A public hosted zone: its id without the `/hostedzone/` prefix, and its name without the
/// final dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub id: String,
    pub name: String,
}

/// A DNS name as compared: lowercase, without the final dot.
pub fn normal(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The names a zone of `domain` can have, the most specific first: `api.example.com`,
/// `example.com` (never the top-level domain alone).
pub fn candidates(domain: &str) -> Vec<String> {
    let domain = normal(domain);
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .map(|i| labels[i..].join("."))
        .collect()
}

/// The public hosted zone that holds `domain`: the one with the longest name `domain` ends
/// with. Reads only the zones named like one of its candidates.
pub async fn zone_of(ctx: &Context, domain: &str) -> Result<Zone> {
    for name in candidates(domain) {
        let out = ctx
            .route53
            .list_hosted_zones_by_name()
            .dns_name(&name)
            .max_items(5)
            .send()
            .await
            .map_err(|e| Error::aws(domain, "ListHostedZonesByName", e))?;
        let found = out
            .hosted_zones()
            .iter()
            .find(|z| normal(z.name()) == name && !z.config().is_some_and(|c| c.private_zone()));
        if let Some(zone) = found {
            return Ok(Zone {
                id: zone.id().trim_start_matches("/hostedzone/").to_owned(),
                name,
            });
        }
    }
    Err(Error::Failed {
        subject: Subject::Named(domain.to_owned()),
        message: format!(
            "no public Route 53 hosted zone in this account holds this domain (looked for {}); \
             create the zone and point the domain's name servers at it, or choose a domain of \
             a zone the account has",
            candidates(domain).join(", ")
        ),
    })
}

/// [`zone_of`], once per observation: the kinds that need a domain's zone share one lookup.
pub async fn zone_in(scope: &Scope<'_>, domain: &str) -> Result<Zone> {
    let domain = normal(domain);
    // Held while looking: the kinds look at once, and the second waits for the first's answer.
    let mut zones = scope.zones.lock().await;
    if let Some((id, name)) = zones.get(&domain) {
        return Ok(Zone {
            id: id.clone(),
            name: name.clone(),
        });
    }
    let zone = zone_of(scope.ctx, &domain).await?;
    zones.insert(domain, (zone.id.clone(), zone.name.clone()));
    Ok(zone)
}

/// The record set of `zone` named `name` of type `kind`, if there is one.
pub async fn record(
    ctx: &Context,
    zone: &Zone,
    name: &str,
    kind: RrType,
) -> Result<Option<ResourceRecordSet>> {
    let out = ctx
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(&zone.id)
        .start_record_name(name)
        .start_record_type(kind.clone())
        .max_items(1)
        .send()
        .await
        .map_err(|e| Error::aws(name, "ListResourceRecordSets", e))?;
    Ok(out
        .resource_record_sets()
        .iter()
        .find(|r| normal(r.name()) == normal(name) && *r.r#type() == kind)
        .cloned())
}

/// One change of a record set.
pub fn change(action: ChangeAction, record: ResourceRecordSet) -> Result<Change> {
    Change::builder()
        .action(action)
        .resource_record_set(record)
        .build()
        .map_err(|e| Error::Unexpected {
            resource: crate::id::ResourceId::from_tag("route53"),
            message: e.to_string(),
        })
}

/// Sends `changes` to `zone` as one batch (all or none). With `wait`, waits until every Route
/// 53 server has them (`INSYNC`, about a minute on AWS), telling `wait` meanwhile: what is
/// published waits; what is removed, or a record another service polls for, need not.
pub async fn apply(
    ctx: &Context,
    subject: impl Into<Subject>,
    zone: &Zone,
    changes: Vec<Change>,
    wait: Option<Wait<'_>>,
) -> Result<()> {
    let subject = subject.into();
    let batch = ChangeBatch::builder()
        .comment(format!("stackctl: stack {}", ctx.stack))
        .set_changes(Some(changes))
        .build()
        .map_err(|e| Error::Unexpected {
            resource: crate::id::ResourceId::from_tag("route53"),
            message: e.to_string(),
        })?;
    let out = ctx
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone.id)
        .change_batch(batch)
        .send()
        .await
        .map_err(|e| Error::aws(subject.clone(), "ChangeResourceRecordSets", e))?;
    let (Some(info), Some(wait)) = (out.change_info(), wait) else {
        return Ok(());
    };
    if *info.status() == ChangeStatus::Insync {
        return Ok(());
    }
    let shown = subject.to_string();
    let what = (shown.as_str(), "reach every Route 53 server");
    let note = format!("DNS change in {} pending", zone.name);
    retry::poll(
        &ctx.settings,
        ctx.settings.wait_timeout,
        what,
        wait,
        || async {
            let out = ctx
                .route53
                .get_change()
                .id(info.id())
                .send()
                .await
                .map_err(|e| Error::aws(subject.clone(), "GetChange", e))?;
            let synced = out
                .change_info()
                .is_none_or(|c| *c.status() == ChangeStatus::Insync);
            Ok(if synced {
                Look::Done(())
            } else {
                Look::NotYet(note.clone())
            })
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
    use aws_sdk_route53::operation::get_change::GetChangeOutput;
    use aws_sdk_route53::types::ChangeInfo;
    use aws_smithy_mocks::mock;

    use super::*;
    use crate::resources::testing;

    fn info(status: ChangeStatus) -> ChangeInfo {
        ChangeInfo::builder()
            .id("/change/C1")
            .status(status)
            .submitted_at(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    #[tokio::test]
    async fn what_is_published_waits_until_every_server_has_it_and_says_so() {
        let change =
            mock!(aws_sdk_route53::Client::change_resource_record_sets).then_output(|| {
                ChangeResourceRecordSetsOutput::builder()
                    .change_info(info(ChangeStatus::Pending))
                    .build()
            });
        let get = mock!(aws_sdk_route53::Client::get_change)
            .match_requests(|r| r.id().is_some_and(|id| id.ends_with("C1")))
            .sequence()
            .output(|| {
                GetChangeOutput::builder()
                    .change_info(info(ChangeStatus::Pending))
                    .build()
            })
            .output(|| {
                GetChangeOutput::builder()
                    .change_info(info(ChangeStatus::Insync))
                    .build()
            })
            .build();
        let ctx = testing::domains(&[], &[&change, &get], &[], &[]);
        let zone = Zone {
            id: "Z1".into(),
            name: "example.com".into(),
        };
        let heard = std::sync::Mutex::new(Vec::new());
        let wait = |s: String| heard.lock().unwrap().push(s);
        apply(&ctx, "dns-api.example.com", &zone, Vec::new(), Some(&wait))
            .await
            .unwrap();
        assert_eq!(get.num_calls(), 2);
        assert_eq!(
            heard.into_inner().unwrap(),
            ["DNS change in example.com pending"]
        );
        // What is removed does not wait.
        let ctx = testing::domains(&[], &[&change], &[], &[]);
        apply(&ctx, "dns-api.example.com", &zone, Vec::new(), None)
            .await
            .unwrap();
    }

    #[test]
    fn a_domain_is_held_by_a_zone_of_its_own_name_or_a_parent() {
        assert_eq!(
            candidates("API.Shop.example.com."),
            ["api.shop.example.com", "shop.example.com", "example.com"]
        );
        assert_eq!(candidates("example.com"), ["example.com"]);
    }
}
