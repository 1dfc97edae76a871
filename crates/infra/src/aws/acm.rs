//! ACM, for the stack's domains: the certificates that carry the stack's tag (read once per
//! observation, as the certificate and the alias records both need them), what one
//! certificate says of itself, and the names the account's other certificates hold.
//!
//! ACM lists the account's certificates without their tags; the tagging API says which are
//! the stack's (see [`of_stack`]).

pub use super::certificates::{Certificate, Detail, Validation};
use crate::context::Context;
use crate::contract::Scope;
use crate::error::{Error, Result};
use crate::tags::{self, Tags};

/// Reads one certificate.
pub async fn describe(ctx: &Context, subject: &str, arn: &str) -> Result<Detail> {
    let out = ctx
        .acm
        .describe_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws(subject, "DescribeCertificate", e))?;
    let detail = out
        .certificate()
        .ok_or_else(|| Error::incomplete(subject, "DescribeCertificate", "certificate"))?;
    Ok(Detail::of(detail))
}

/// Every certificate of the account in this region: `(ARN, names)`.
pub async fn listed(ctx: &Context) -> Result<Vec<(String, Vec<String>)>> {
    let summaries = super::all(
        ctx.acm.list_certificates().into_paginator().items().send(),
        |e| Error::aws("certificates", "ListCertificates", e),
    )
    .await?;
    Ok(summaries
        .iter()
        .filter_map(|s| {
            let mut names: Vec<String> = s.domain_name().into_iter().map(str::to_owned).collect();
            names.extend(s.subject_alternative_name_summaries().iter().cloned());
            Some((s.certificate_arn()?.to_owned(), names))
        })
        .collect())
}

/// The stack's certificates, read once per observation. The tagging API names them (the
/// account's other certificates are not read); a certificate for one of `domains` (the names
/// the file wants) is also read on its own, as the API may not know one made seconds ago. When
/// the API cannot answer, every certificate's tags are read.
pub async fn of_stack<'s>(scope: &'s Scope<'_>, domains: &[String]) -> Result<&'s [Certificate]> {
    let ctx = scope.ctx;
    let found = scope
        .certificates
        .get_or_try_init(|| async {
            let answer = super::tagging::answer_of_scope(scope).await;
            let listed = listed(ctx).await?;
            let candidates: Vec<String> = listed
                .into_iter()
                .filter(|(arn, names)| match &answer {
                    Some(tagged) => {
                        tagged.contains_key(arn) || names.iter().any(|n| domains.contains(n))
                    }
                    None => true,
                })
                .map(|(arn, _)| arn)
                .collect();
            let tagged = super::each(candidates, |arn| async move {
                let known = answer.as_ref().and_then(|a| a.get(&arn));
                let tags = match known {
                    Some(tags) => tags.clone(),
                    None => tags_of(ctx, &arn).await?,
                };
                Ok((arn, tags))
            })
            .await?;
            let ours = tagged
                .into_iter()
                .filter(|(_, tags)| tags.get(tags::STACK_TAG) == Some(&ctx.stack));
            super::each(ours, |(arn, tags)| async move {
                let detail = describe(ctx, "certificates", &arn).await?;
                Ok(Certificate { arn, tags, detail })
            })
            .await
        })
        .await?;
    Ok(found.as_slice())
}

async fn tags_of(ctx: &Context, arn: &str) -> Result<Tags> {
    let out = ctx
        .acm
        .list_tags_for_certificate()
        .certificate_arn(arn)
        .send()
        .await
        .map_err(|e| Error::aws("certificates", "ListTagsForCertificate", e))?;
    Ok(tags::collect(
        out.tags().iter().map(|t| (Some(t.key()), t.value())),
    ))
}
