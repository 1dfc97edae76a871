//! `domain = "api.example.com"` on a web service: the public name it is reached at over HTTPS.
//! The value is a DNS name; across the stack the domains are distinct, at most
//! [`MAX_DOMAINS`] (the names one ACM certificate holds by default), and exclusive with a
//! certificate brought by ARN. A web service with a domain but no paths or hosts, beside the
//! one that takes the requests no rule matches, is reached by its domain (a host rule).

use super::model::{ServiceKind, ServiceSpec};
use super::reader::{Read, Reader, Table, dotted, shown};

/// The names one ACM certificate holds unless the account's quota was raised.
pub const MAX_DOMAINS: usize = 10;

/// The `domain` of one service table, checked.
pub(super) fn read<'a>(reader: &mut Reader<'a>, t: Table<'a>, kind: ServiceKind) -> Option<String> {
    let value = reader.string(t, "domain")?;
    let span = reader.span_of(t, "domain");
    if kind != ServiceKind::Web {
        reader.error_at(
            span.clone(),
            &dotted(t, "domain"),
            format!(
                "only a web service (behind the load balancer) has a public domain; this one is \
                 kind = \"{}\"",
                kind.as_str()
            ),
        );
    }
    if let Some(problem) = check_domain(&value) {
        reader.error_at(span, &dotted(t, "domain"), problem);
    }
    Some(value.to_ascii_lowercase())
}

/// A DNS name a certificate and an alias record can be made for: two labels or more of
/// letters, digits and inner hyphens, at most 63 characters a label and 253 in all.
pub(crate) fn check_domain(domain: &str) -> Option<String> {
    let shown = shown(domain);
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let ok = labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.chars().any(|c| c.is_ascii_alphabetic()));
    (!ok).then(|| {
        format!(
            "{shown:?} is not a domain like \"api.example.com\" (labels of letters, digits and \
             inner hyphens joined by dots, no wildcard, no trailing dot, at most 253 characters)"
        )
    })
}

/// The rules across services: distinct domains, at most [`MAX_DOMAINS`], none beside a
/// `certificate_arn`; and a domain routes a web service that is not the default.
pub(super) fn check(reader: &mut Reader<'_>, services: &mut [Read<'_, ServiceSpec>]) {
    let mut seen: Vec<(&str, String)> = Vec::new();
    let mut count = 0;
    for s in services.iter() {
        let Some(domain) = &s.spec.domain else {
            continue;
        };
        count += 1;
        let key = dotted(s.table, "domain");
        if let Some((_, first)) = seen.iter().find(|(d, _)| *d == domain.as_str()) {
            let span = reader.span_of(s.table, "domain");
            reader.error_at(
                span,
                &key,
                format!("{domain} is already the domain of {first}"),
            );
        } else if count > MAX_DOMAINS {
            let span = reader.span_of(s.table, "domain");
            reader.error_at(
                span,
                &key,
                format!("a stack has at most {MAX_DOMAINS} domains (one certificate holds them)"),
            );
        }
        seen.push((domain, key));
    }
    if let Some(with_arn) = services.iter().find(|s| s.spec.certificate_arn.is_some())
        && count > 0
    {
        let span = reader.span_of(with_arn.table, "certificate_arn");
        reader.error_at(
            span,
            &dotted(with_arn.table, "certificate_arn"),
            "the stack's domains bring their own certificate (made and validated by stackctl); \
             leave out certificate_arn, or the domains"
                .into(),
        );
    }
    route_by_domain(services);
}

/// A service routed by hosts is also routed by its domain. Of the web services without paths
/// or hosts, those with a domain are routed by it when one without a domain is left to take
/// the requests no rule matches.
fn route_by_domain(services: &mut [Read<'_, ServiceSpec>]) {
    let candidate =
        |s: &Read<'_, ServiceSpec>| s.spec.kind == ServiceKind::Web && s.spec.route.is_default();
    let plain = services
        .iter()
        .filter(|s| candidate(s) && s.spec.domain.is_none())
        .count();
    for s in services.iter_mut() {
        let Some(domain) = s.spec.domain.clone() else {
            continue;
        };
        let by_hosts = !s.spec.route.hosts.is_empty();
        if (by_hosts || (plain == 1 && candidate(s))) && !s.spec.route.hosts.contains(&domain) {
            s.spec.route.hosts.push(domain);
        }
    }
}
