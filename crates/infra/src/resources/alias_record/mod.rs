//! A domain's alias record: `A` at `api.example.com`, an alias of the stack's load balancer,
//! in the public hosted zone that holds the domain (found, never made).
//!
//! Route 53 records carry no tags. A record is the stack's when it aliases one of the stack's
//! load balancers, or a DNS name only the stack's load balancer has (one it replaced); nothing
//! else is ever changed or deleted. Records are looked for at the
//! domains the file wants and at those of the stack's certificate, so a domain the file no
//! longer names is still found (and removed) as long as the certificate that covered it is
//! there, which it is until after the record goes (the record is made after it). A record at a
//! wanted domain that is not the stack's fails the plan: stackctl never takes over a name.

#[cfg(test)]
mod tests;

use aws_sdk_route53::types::{AliasTarget, ChangeAction, ResourceRecordSet, RrType};

use crate::aws::route53::{self, Zone};
use crate::aws::{self, acm, elb};
use crate::change::{Describe, Diff, FieldChange};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Tagging, Wait, Wanted};
use crate::error::{Error, Result};
use crate::id::ResourceId;
use crate::outputs::{Attr, Output, Outputs, Ref};
use crate::tags::Tags;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasRecord {
    pub domain: String,
    pub load_balancer: ResourceId,
    /// Made after it: the name is published once HTTPS works, and the certificate that
    /// covers the name is there as long as the record is (see the module's note).
    pub certificate: ResourceId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AliasRecordState {
    pub zone: Zone,
    /// The load balancer's DNS name it aliases, as compared (lowercase, no `dualstack.`,
    /// no final dot).
    pub target: String,
    /// The record as read: a delete names it exactly (boxed: it is large).
    pub record: Box<ResourceRecordSet>,
    /// What it is deleted before: the load balancer it aliases and the certificates that
    /// cover its name (ARNs).
    pub uses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Target { from: String, to: Ref },
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Target { from, to } => FieldChange::new("alias", from, to),
        }
    }
}

/// A load balancer's DNS name as an alias names it.
pub fn target_name(dns: &str) -> String {
    let dns = route53::normal(dns);
    dns.strip_prefix("dualstack.")
        .map_or(dns.clone(), str::to_owned)
}

/// True for the DNS name of a load balancer named as the stack's (`<stack>-alb`):
/// `<stack>-alb-<digits>.<region>.elb.amazonaws.com` (never another stack's `<stack>-alb-…`
/// load balancer, whose name goes on after `-alb-` with more than digits).
pub fn is_stack_balancer(stack: &str, dns: &str) -> bool {
    let Some(rest) = dns.strip_prefix(&format!("{stack}-alb-")) else {
        return false;
    };
    let (id, host) = rest.split_once('.').unwrap_or((rest, ""));
    !id.is_empty()
        && id.chars().all(|c| c.is_ascii_digit())
        && (host.ends_with("elb.amazonaws.com") || host.ends_with("elb.amazonaws.com.cn"))
}

/// The load balancer's DNS name, from its output's URL (`http://<dns>`).
fn wanted_target(refs: &Outputs, lb: &ResourceId) -> Ref {
    let mut target = Ref::new(refs, lb, Attr::Url);
    target.known = target
        .known
        .map(|url| target_name(url.trim_start_matches("http://")));
    target
}

fn https(domain: &str) -> Output {
    Output {
        aws_id: domain.to_owned(),
        arn: None,
        url: Some(format!("https://{domain}")),
    }
}

impl AliasRecord {
    /// The record that aliases the load balancer `lb` (its ARN).
    async fn record(&self, ctx: &Context, id: &ResourceId, lb: &str) -> Result<ResourceRecordSet> {
        let (dns, zone) = elb::dns_of(ctx, id, lb).await?;
        let alias = AliasTarget::builder()
            .dns_name(dns)
            .hosted_zone_id(zone)
            .evaluate_target_health(false)
            .build()
            .map_err(|e| unexpected(id, &e))?;
        ResourceRecordSet::builder()
            .name(&self.domain)
            .r#type(RrType::A)
            .alias_target(alias)
            .build()
            .map_err(|e| unexpected(id, &e))
    }

    /// Makes the record (`Create`: Route 53 refuses it when the name has one already) or
    /// points the stack's own at the load balancer again (`Upsert`).
    async fn write(
        &self,
        ctx: &Context,
        action: ChangeAction,
        id: &ResourceId,
        refs: &Outputs,
        wait: Wait<'_>,
    ) -> Result<()> {
        let lb = Ref::new(refs, &self.load_balancer, Attr::Id).resolve(refs, id)?;
        let record = self.record(ctx, id, &lb).await?;
        let zone = route53::zone_of(ctx, &self.domain).await?;
        let change = route53::change(action, record)?;
        route53::apply(ctx, id, &zone, vec![change], Some(wait)).await
    }
}

fn unexpected(id: &ResourceId, e: &dyn std::error::Error) -> Error {
    Error::Unexpected {
        resource: id.clone(),
        message: e.to_string(),
    }
}

/// What an observation knows of the stack: its load balancers (DNS name as compared, ARN)
/// and its certificates (ARN, names).
struct Stack {
    load_balancers: Vec<(String, String)>,
    certificates: Vec<(String, Vec<String>)>,
}

/// The alias record at `domain`, when it is one of the stack's (it aliases one of its load
/// balancers); an error when a record there is someone else's and `wanted`.
async fn find(
    scope: &Scope<'_>,
    domain: &str,
    stack: &Stack,
    wanted: bool,
) -> Result<Option<Found<AliasRecordState>>> {
    let ctx = scope.ctx;
    let zone = match route53::zone_in(scope, domain).await {
        Ok(zone) => zone,
        // A domain only a certificate still names, whose zone is gone: nothing to remove.
        Err(Error::Failed { .. }) if !wanted => return Ok(None),
        Err(err) => return Err(err),
    };
    let Some(record) = route53::record(ctx, &zone, domain, RrType::A).await? else {
        return Ok(None);
    };
    let target = record.alias_target().map(|a| target_name(a.dns_name()));
    let lb = target
        .as_ref()
        .and_then(|t| stack.load_balancers.iter().find(|(dns, _)| dns == t))
        .map(|(_, arn)| arn.clone());
    // One of the stack's load balancers, or one it had: a run cut short between replacing the
    // load balancer and pointing the record at the new one leaves it on the old one's name.
    let had = target
        .as_deref()
        .is_some_and(|t| is_stack_balancer(&ctx.stack, t));
    match (target, lb) {
        (Some(target), lb) if lb.is_some() || had => Ok(Some(Found {
            id: ResourceId::alias_record(domain),
            aws_id: domain.to_owned(),
            arn: None,
            state: "in sync".into(),
            tags: Tags::new(),
            detail: AliasRecordState {
                zone,
                target,
                record: Box::new(record),
                uses: lb
                    .into_iter()
                    .chain(
                        stack
                            .certificates
                            .iter()
                            .filter(|(_, names)| names.iter().any(|n| n == domain))
                            .map(|(arn, _)| arn.clone()),
                    )
                    .collect(),
            },
        })),
        _ if !wanted => Ok(None),
        (other, _) => Err(Error::Conflict {
            resource: domain.to_owned(),
            message: format!(
                "the zone {} already has an A record for it ({}) that this stack did not make; \
                 stackctl never takes over a name: remove that record, or choose another domain",
                zone.name,
                other.map_or_else(|| "not an alias".into(), |t| format!("an alias of {t}"))
            ),
        }),
    }
}

impl Resource for AliasRecord {
    type State = AliasRecordState;
    type Field = Field;
    const LABEL: &'static str = "DNS alias record";
    const TAGGING: Tagging = Tagging::None;
    const WAITS_FOR: Option<&'static str> =
        Some("`up` waits until every Route 53 server answers with it (about a minute on AWS)");

    fn refs(&self) -> Vec<&ResourceId> {
        vec![&self.load_balancer, &self.certificate]
    }

    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let load_balancers: Vec<(String, String)> = elb::load_balancers(scope)
            .await?
            .iter()
            .filter_map(|lb| {
                Some((
                    target_name(lb.dns_name()?),
                    lb.load_balancer_arn()?.to_owned(),
                ))
            })
            .collect();
        let mut domains: Vec<(String, bool)> = wanted
            .iter()
            .map(|w| (route53::normal(&w.spec.domain), true))
            .collect();
        // Without a load balancer no record is the stack's: only the wanted names are looked
        // at (one that is someone else's fails the plan).
        let certificates: Vec<(String, Vec<String>)> = if load_balancers.is_empty() {
            Vec::new()
        } else {
            let wanted: Vec<String> = domains.iter().map(|(d, _)| d.clone()).collect();
            acm::of_stack(scope, &wanted)
                .await?
                .iter()
                .map(|c| {
                    (
                        c.arn.clone(),
                        c.detail
                            .domains
                            .iter()
                            .map(|d| route53::normal(d))
                            .collect(),
                    )
                })
                .collect()
        };
        for (_, names) in &certificates {
            for domain in names {
                if !domains.iter().any(|(d, _)| d == domain) {
                    domains.push((domain.clone(), false));
                }
            }
        }
        let stack = Stack {
            load_balancers,
            certificates,
        };
        let found = aws::each(&domains, |(d, wanted)| find(scope, d, &stack, *wanted)).await?;
        Ok(found.into_iter().flatten().collect())
    }

    fn diff(&self, found: &AliasRecordState, refs: &Outputs) -> Diff<Field> {
        let mut diff = Diff::default();
        let to = wanted_target(refs, &self.load_balancer);
        diff.push_if(!to.is(&found.target), || Field::Target {
            from: found.target.clone(),
            to,
        });
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        self.write(ctx, ChangeAction::Create, new.id, new.refs, new.wait)
            .await?;
        Ok(https(&self.domain))
    }

    async fn update(
        &self,
        ctx: &Context,
        found: &Found<AliasRecordState>,
        _: &[Field],
        refs: &Outputs,
        wait: Wait<'_>,
    ) -> Result<Output> {
        self.write(ctx, ChangeAction::Upsert, &found.id, refs, wait)
            .await?;
        Ok(Self::output(found))
    }

    async fn retag(_: &Context, _: &Found<AliasRecordState>, _: &Tags) -> Result<()> {
        Ok(())
    }

    async fn delete(ctx: &Context, found: &Found<AliasRecordState>, _: Wait<'_>) -> Result<()> {
        let state = &found.detail;
        let change = route53::change(ChangeAction::Delete, (*state.record).clone())?;
        let result = route53::apply(ctx, &found.id, &state.zone, vec![change], None).await;
        match result {
            // Gone already: "Tried to delete resource record set … but it was not found".
            Err(err)
                if err.code() == Some("InvalidChangeBatch")
                    && err.to_string().contains("not found") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    fn uses(found: &Found<AliasRecordState>) -> Vec<String> {
        found.detail.uses.clone()
    }

    fn output(found: &Found<AliasRecordState>) -> Output {
        https(&found.aws_id)
    }
}
