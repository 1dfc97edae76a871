//! The stack's ACM certificate: one for all its domains (`domain = …` of its web services),
//! validated by DNS. stackctl writes the validation records in each domain's hosted zone (found,
//! never made) and waits until ACM issues the certificate; the HTTPS listener uses it.
//!
//! A certificate's names cannot change: another set of domains is a new certificate, requested
//! and validated before the listener moves to it and the old one goes. Deleting it removes its
//! validation records unless another certificate of the account is for the same name (the
//! record is the same for every certificate of a name, and renewals need it).

mod validation;

#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_acm::types::{Tag, ValidationMethod};

use crate::aws::acm::{self, Detail};
use crate::aws::{self, route53};
use crate::change::{Diff, NoField};
use crate::context::Context;
use crate::contract::{Findings, Found, New, Resource, Scope, Wait, Wanted};
use crate::error::{Error, Result, Subject};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::retry::{self, Look};
use crate::tags::Tags;

/// The names one certificate is for, the first its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub domains: Vec<String>,
}

/// What stackctl waits for: ACM issues a certificate minutes after its records are in place.
const WAITING: &str = "be validated";

impl Certificate {
    fn names(&self) -> String {
        self.domains.join(", ")
    }
}

fn sorted(domains: &[String]) -> Vec<String> {
    let mut domains: Vec<String> = domains.iter().map(|d| route53::normal(d)).collect();
    domains.sort();
    domains
}

impl Resource for Certificate {
    type State = Detail;
    type Field = NoField;
    const LABEL: &'static str = "certificate";
    /// It works once ACM issues it: the listener waits for that.
    const WAITS: bool = true;
    const WAITS_FOR: Option<&'static str> = Some(
        "`up` writes its DNS validation records and waits for ACM to issue it (minutes on AWS)",
    );
    /// A new set of names is a new certificate; the listener moves to it before the old goes.
    const CREATE_FIRST: bool = true;

    fn refs(&self) -> Vec<&ResourceId> {
        Vec::new()
    }

    /// The stack's certificates; and, before any change, the hosted zone of every domain
    /// wanted (a domain no zone of the account holds fails the plan).
    async fn observe(scope: &Scope<'_>, wanted: &[Wanted<'_, Self>]) -> Findings<Self> {
        let ctx = scope.ctx;
        let mut domains = Vec::new();
        for w in wanted {
            aws::each(&w.spec.domains, |d| route53::zone_in(scope, d)).await?;
            domains.extend(w.spec.domains.iter().map(|d| route53::normal(d)));
        }
        Ok(acm::of_stack(scope, &domains)
            .await?
            .iter()
            .filter_map(|c| {
                Some(Found {
                    id: crate::tags::logical_id(&ctx.stack, &c.tags)?,
                    aws_id: c.arn.clone(),
                    arn: Some(c.arn.clone()),
                    state: c.detail.status.clone(),
                    tags: c.tags.clone(),
                    detail: c.detail.clone(),
                })
            })
            .collect())
    }

    fn diff(&self, found: &Detail, _: &Outputs) -> Diff<NoField> {
        let mut diff = Diff::default();
        if sorted(&found.domains) != sorted(&self.domains) {
            diff.replace(format!(
                "it is for {}; a certificate's names cannot change",
                found.domains.join(", ")
            ));
        } else if found.is_dead() {
            diff.replace(format!(
                "it will never be issued ({}{})",
                found.status,
                found
                    .failure
                    .as_deref()
                    .map(|f| format!(": {f}"))
                    .unwrap_or_default()
            ));
        }
        diff
    }

    async fn create(&self, ctx: &Context, new: New<'_>) -> Result<Output> {
        let (first, rest) = self
            .domains
            .split_first()
            .ok_or_else(|| Error::Unexpected {
                resource: new.id.clone(),
                message: "a certificate with no domain".into(),
            })?;
        let tags: Vec<Tag> = new
            .tags
            .iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect();
        let out = aws::once!(
            aws_sdk_acm,
            ctx.acm
                .request_certificate()
                .domain_name(first)
                .set_subject_alternative_names((!rest.is_empty()).then(|| rest.to_vec()))
                .validation_method(ValidationMethod::Dns)
                .idempotency_token(new.token)
                .set_tags(Some(tags))
        )
        .await
        .map_err(|e| Error::aws(new.id, "RequestCertificate", e))?;
        let arn = out
            .certificate_arn()
            .ok_or_else(|| Error::incomplete(new.id, "RequestCertificate", "ARN"))?;
        Ok(Output::arn(arn))
    }

    /// Writes the validation records (again: a run that stopped after the request left none)
    /// and waits until ACM issues the certificate.
    async fn ready(
        &self,
        ctx: &Context,
        id: &ResourceId,
        output: &Output,
        _: &Outputs,
        wait: Wait<'_>,
    ) -> Result<()> {
        let arn = &output.aws_id;
        // Written once a run: ACM gives the records seconds after the request.
        let written = AtomicBool::new(false);
        let written = &written;
        let looked = retry::poll(
            &ctx.settings,
            ctx.settings.wait_timeout,
            (id.as_str(), WAITING),
            wait,
            || async {
                let detail = acm::describe(ctx, id.as_str(), arn).await?;
                if detail.is_issued() {
                    return Ok(Look::Done(()));
                }
                if detail.is_dead() {
                    return Err(failed(id, &detail));
                }
                if !written.load(Ordering::Relaxed) && detail.validation_known() {
                    validation::write(ctx, id, &detail).await?;
                    written.store(true, Ordering::Relaxed);
                }
                Ok(Look::NotYet(pending(
                    &detail,
                    written.load(Ordering::Relaxed),
                )))
            },
        )
        .await;
        match looked {
            Err(Error::Timeout { seconds, .. }) => {
                Err(self.timed_out(id, seconds, written.load(Ordering::Relaxed)))
            }
            other => other,
        }
    }

    async fn retag(ctx: &Context, found: &Found<Detail>, tags: &Tags) -> Result<()> {
        let tags: Vec<Tag> = tags
            .iter()
            .filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok())
            .collect();
        ctx.acm
            .add_tags_to_certificate()
            .certificate_arn(&found.aws_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| Error::aws(&found.id, "AddTagsToCertificate", e))?;
        Ok(())
    }

    /// Removes its validation records (those no other certificate needs), then the
    /// certificate, once the listener that used it has let go of it.
    async fn delete(ctx: &Context, found: &Found<Detail>, wait: Wait<'_>) -> Result<()> {
        validation::remove(ctx, found).await?;
        let on_retry =
            |_: &Error| wait("certificate still in use by a listener being deleted".into());
        let result = retry::while_codes(
            &ctx.settings,
            &["ResourceInUseException"],
            on_retry,
            || async {
                ctx.acm
                    .delete_certificate()
                    .certificate_arn(&found.aws_id)
                    .send()
                    .await
                    .map_err(|e| Error::aws(&found.id, "DeleteCertificate", e))
            },
        )
        .await;
        aws::gone_is_ok(result, |c| c == "ResourceNotFoundException")
    }

    /// Nothing: what uses it (the HTTPS listener, the alias records) names it.
    fn uses(_: &Found<Detail>) -> Vec<String> {
        Vec::new()
    }

    fn unready(found: &Found<Detail>) -> Option<String> {
        (!found.detail.is_issued() && !found.detail.is_dead())
            .then(|| "waits for its validation by DNS".into())
    }

    fn deleting(found: &Found<Detail>) -> Option<String> {
        (!found.detail.validation.is_empty())
            .then(|| "removes its DNS validation records first".into())
    }
}

impl Certificate {
    fn timed_out(&self, id: &ResourceId, seconds: u64, written: bool) -> Error {
        let records = if written {
            "its validation records are in place, so the zone that holds them is probably not \
             the one the domain's name servers point at (check the NS records at the registrar)"
        } else {
            "ACM had not given its validation records yet"
        };
        Error::Failed {
            subject: Subject::Resource(id.clone()),
            message: format!(
                "the certificate for {} was not validated within {seconds}s: {records}. The \
                 certificate and its records stay, tagged: run `up` again to keep waiting, or \
                 `down` to remove them",
                self.names()
            ),
        }
    }
}

fn failed(id: &ResourceId, detail: &Detail) -> Error {
    Error::Failed {
        subject: Subject::Resource(id.clone()),
        message: format!(
            "ACM will not issue the certificate for {}: {}{}; the next `up` requests a new one",
            detail.domains.join(", "),
            detail.status,
            detail
                .failure
                .as_deref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default()
        ),
    }
}

/// What validation waits for, as progress shows it.
fn pending(detail: &Detail, written: bool) -> String {
    let what = if written {
        "ACM validating by DNS"
    } else {
        "waiting for ACM's validation records"
    };
    format!("{what}: {}", detail.domains.join(", "))
}
