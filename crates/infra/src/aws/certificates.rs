//! What stackctl reads of an ACM certificate: its names, its status, its validation records.
//! A leaf module: the observation's shared reads ([`crate::contract::Scope`]) hold them.

use aws_sdk_acm::types::{CertificateDetail, CertificateStatus};

use crate::tags::Tags;

/// A certificate of the stack, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub arn: String,
    pub tags: Tags,
    pub detail: Detail,
}

/// What a certificate says of itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    /// Its names, the primary first.
    pub domains: Vec<String>,
    /// `PENDING_VALIDATION`, `ISSUED`, `FAILED`, `VALIDATION_TIMED_OUT` …
    pub status: String,
    /// Why it failed, as ACM says (`CAA_ERROR` …).
    pub failure: Option<String>,
    /// The records that validate it, once ACM has made them up (seconds after the request).
    pub validation: Vec<Validation>,
    /// What uses it (a load balancer's ARN).
    pub in_use_by: Vec<String>,
}

/// One CNAME record that proves control of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub domain: String,
    pub name: String,
    pub value: String,
}

impl Detail {
    pub fn of(c: &CertificateDetail) -> Self {
        let mut domains: Vec<String> = c.domain_name().into_iter().map(str::to_owned).collect();
        for name in c.subject_alternative_names() {
            if !domains.contains(name) {
                domains.push(name.clone());
            }
        }
        let validation = c
            .domain_validation_options()
            .iter()
            .filter_map(|o| {
                let r = o.resource_record()?;
                Some(Validation {
                    domain: o.domain_name().to_owned(),
                    name: r.name().to_owned(),
                    value: r.value().to_owned(),
                })
            })
            .collect();
        Self {
            domains,
            status: c.status().map_or(String::new(), |s| s.as_str().to_owned()),
            failure: c.failure_reason().map(|r| r.as_str().to_owned()),
            validation,
            in_use_by: c.in_use_by().to_vec(),
        }
    }

    pub fn is_issued(&self) -> bool {
        self.status == CertificateStatus::Issued.as_str()
    }

    /// True when it will never be issued (it failed, timed out, expired or was revoked).
    pub fn is_dead(&self) -> bool {
        !matches!(self.status.as_str(), "ISSUED" | "PENDING_VALIDATION" | "")
    }

    /// Every domain has its validation record.
    pub fn validation_known(&self) -> bool {
        self.domains
            .iter()
            .all(|d| self.validation.iter().any(|v| &v.domain == d))
    }
}
