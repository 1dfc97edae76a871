use std::time::Duration;

use aws_sdk_acm::operation::describe_certificate::DescribeCertificateOutput;
use aws_sdk_acm::operation::list_certificates::ListCertificatesOutput;
use aws_sdk_acm::operation::request_certificate::RequestCertificateOutput;
use aws_sdk_acm::types::{
    CertificateDetail, CertificateStatus, CertificateSummary, DomainValidation, FailureReason,
    RecordType, ResourceRecord,
};
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{ChangeAction, ResourceRecordSet, RrType};
use aws_smithy_mocks::{Rule, mock};

use super::*;
use crate::resources::testing::{self, Creating};

const ARN: &str = "arn:aws:acm:us-east-1:1:certificate/c1";

fn desired() -> Certificate {
    Certificate {
        domains: vec!["api.example.com".into(), "www.example.com".into()],
    }
}

fn detail(status: &str, validation: bool) -> Detail {
    Detail {
        domains: desired().domains,
        status: status.into(),
        failure: None,
        validation: if validation {
            desired()
                .domains
                .iter()
                .map(|d| acm::Validation {
                    domain: d.clone(),
                    name: format!("_x.{d}."),
                    value: format!("_y.{d}.acm-validations.aws."),
                })
                .collect()
        } else {
            Vec::new()
        },
        in_use_by: Vec::new(),
    }
}

/// DescribeCertificate of `ARN` answering, in turn, `(status, validation records known)`, the
/// last one again and again.
fn described(states: &[(CertificateStatus, bool)]) -> Rule {
    let mut rule = mock!(aws_sdk_acm::Client::describe_certificate)
        .match_requests(|r| r.certificate_arn() == Some(ARN))
        .sequence();
    for (status, records) in states {
        let (status, records) = (status.clone(), *records);
        rule = rule.output(move || certificate(status.clone(), records));
    }
    rule.repeatedly().build()
}

fn certificate(status: CertificateStatus, records: bool) -> DescribeCertificateOutput {
    let options = desired().domains.into_iter().map(|d| {
        let record = records.then(|| {
            ResourceRecord::builder()
                .name(format!("_x.{d}."))
                .r#type(RecordType::Cname)
                .value(format!("_y.{d}.acm-validations.aws."))
                .build()
                .unwrap()
        });
        DomainValidation::builder()
            .domain_name(d)
            .set_resource_record(record)
            .build()
            .unwrap()
    });
    let failed = status == CertificateStatus::Failed;
    DescribeCertificateOutput::builder()
        .certificate(
            CertificateDetail::builder()
                .certificate_arn(ARN)
                .domain_name("api.example.com")
                .subject_alternative_names("api.example.com")
                .subject_alternative_names("www.example.com")
                .status(status)
                .set_failure_reason(failed.then_some(FailureReason::CaaError))
                .set_domain_validation_options(Some(options.collect()))
                .build(),
        )
        .build()
}

fn ready_ctx(describe: &Rule, change: &Rule) -> Context {
    let zone = testing::zone("example.com", "Z1");
    testing::domains(&[describe], &[&zone, change], &[], &[])
}

#[test]
fn the_same_names_are_unchanged_and_other_names_or_a_failed_one_are_a_new_certificate() {
    assert!(
        desired()
            .diff(&detail("ISSUED", true), &Outputs::new())
            .is_empty()
    );
    let fewer = Certificate {
        domains: vec!["api.example.com".into()],
    };
    let diff = fewer.diff(&detail("ISSUED", true), &Outputs::new());
    assert!(diff.replace.unwrap().contains("names cannot change"));
    let mut failed = detail("FAILED", true);
    failed.failure = Some("CAA_ERROR".into());
    let diff = desired().diff(&failed, &Outputs::new());
    assert!(diff.replace.unwrap().contains("FAILED: CAA_ERROR"));
}

#[tokio::test]
async fn create_requests_one_certificate_for_every_name_validated_by_dns() {
    let request = mock!(aws_sdk_acm::Client::request_certificate)
        .match_requests(|r| {
            r.domain_name() == Some("api.example.com")
                && r.subject_alternative_names() == ["www.example.com"]
                && r.validation_method() == Some(&ValidationMethod::Dns)
                && r.idempotency_token() == Some("token-1")
                && r.tags().iter().any(|t| t.key() == "stackctl:stack")
        })
        .then_output(|| {
            RequestCertificateOutput::builder()
                .certificate_arn(ARN)
                .build()
        });
    let ctx = testing::domains(&[&request], &[], &[], &[]);
    let new = Creating::new(ResourceId::CERTIFICATE, Outputs::new());
    let out = desired().create(&ctx, new.get()).await.unwrap();
    assert_eq!(out.arn.as_deref(), Some(ARN));
    assert_eq!(request.num_calls(), 1);
}

#[tokio::test]
async fn ready_writes_the_validation_records_once_acm_gives_them_and_waits_until_issued() {
    let describe = described(&[
        (CertificateStatus::PendingValidation, false),
        (CertificateStatus::PendingValidation, true),
        (CertificateStatus::PendingValidation, true),
        (CertificateStatus::Issued, true),
    ]);
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            r.hosted_zone_id() == Some("Z1")
                && changes.len() == 2
                && changes.iter().all(|c| {
                    c.action() == &ChangeAction::Upsert
                        && c.resource_record_set().is_some_and(|s| {
                            s.r#type() == &RrType::Cname && s.name().starts_with("_x.")
                        })
                })
        })
        .then_output(testing::in_sync);
    let ctx = ready_ctx(&describe, &change);
    let heard = std::sync::Mutex::new(Vec::new());
    let wait = |s: String| heard.lock().unwrap().push(s);
    desired()
        .ready(
            &ctx,
            &ResourceId::CERTIFICATE,
            &Output::arn(ARN),
            &Outputs::new(),
            &wait,
        )
        .await
        .unwrap();
    assert_eq!(change.num_calls(), 1, "the records are written once");
    assert_eq!(describe.num_calls(), 4);
    let heard = heard.into_inner().unwrap();
    assert!(
        heard
            .iter()
            .any(|s| s.contains("waiting for ACM's validation records"))
    );
    assert!(
        heard
            .iter()
            .any(|s| s.contains("ACM validating by DNS: api.example.com"))
    );
}

/// What `ready` fails with.
async fn ready_err(ctx: &Context) -> String {
    let (id, output, refs) = (ResourceId::CERTIFICATE, Output::arn(ARN), Outputs::new());
    let certificate = desired();
    let ready = certificate.ready(ctx, &id, &output, &refs, &|_| {});
    ready.await.unwrap_err().to_string()
}

#[tokio::test]
async fn a_certificate_not_validated_by_the_deadline_says_what_to_check_and_what_stays() {
    let describe = described(&[(CertificateStatus::PendingValidation, true)]);
    let change = testing::record_change();
    let mut ctx = ready_ctx(&describe, &change);
    ctx.settings.wait_timeout = Duration::from_millis(30);
    let err = ready_err(&ctx).await;
    assert!(err.contains("not validated within"), "{err}");
    assert!(err.contains("NS records"), "{err}");
    assert!(err.contains("`down` to remove them"), "{err}");
}

#[tokio::test]
async fn a_certificate_acm_will_not_issue_fails_at_once_with_the_reason() {
    let describe = described(&[(CertificateStatus::Failed, true)]);
    let change = testing::record_change();
    let ctx = ready_ctx(&describe, &change);
    let err = ready_err(&ctx).await;
    assert!(err.contains("FAILED (CAA_ERROR)"), "{err}");
    assert_eq!(change.num_calls(), 0);
}

fn listed(certificates: &[(&str, &str)]) -> Rule {
    let certificates: Vec<(String, String)> = certificates
        .iter()
        .map(|(a, d)| ((*a).to_owned(), (*d).to_owned()))
        .collect();
    mock!(aws_sdk_acm::Client::list_certificates).then_output(move || {
        let summaries = certificates.iter().map(|(arn, domain)| {
            CertificateSummary::builder()
                .certificate_arn(arn)
                .domain_name(domain)
                .build()
        });
        ListCertificatesOutput::builder()
            .set_certificate_summary_list(Some(summaries.collect()))
            .build()
    })
}

/// ListResourceRecordSets answering the validation CNAME asked for, holding its value.
fn validation_records() -> Rule {
    mock!(aws_sdk_route53::Client::list_resource_record_sets).then_compute_output(|r| {
        let name = r.start_record_name().unwrap_or_default().to_owned();
        let domain = name
            .trim_start_matches("_x.")
            .trim_end_matches('.')
            .to_owned();
        let record = ResourceRecordSet::builder()
            .name(&name)
            .r#type(RrType::Cname)
            .ttl(300)
            .resource_records(
                aws_sdk_route53::types::ResourceRecord::builder()
                    .value(format!("_y.{domain}.acm-validations.aws."))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        ListResourceRecordSetsOutput::builder()
            .resource_record_sets(record)
            .is_truncated(false)
            .max_items(1)
            .build()
            .unwrap()
    })
}

#[tokio::test]
async fn delete_removes_the_records_no_other_certificate_needs_then_waits_for_the_listener() {
    // www.example.com has another certificate in the account: its record stays.
    let list = listed(&[(ARN, "api.example.com"), ("arn:other", "www.example.com")]);
    let records = validation_records();
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            changes.len() == 1
                && changes[0].action() == &ChangeAction::Delete
                && changes[0]
                    .resource_record_set()
                    .is_some_and(|s| s.name() == "_x.api.example.com.")
        })
        .then_output(testing::in_sync);
    let delete = mock!(aws_sdk_acm::Client::delete_certificate)
        .sequence()
        .error(|| {
            aws_sdk_acm::operation::delete_certificate::DeleteCertificateError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("ResourceInUseException")
                    .build(),
            )
        })
        .output(|| {
            aws_sdk_acm::operation::delete_certificate::DeleteCertificateOutput::builder().build()
        })
        .build();
    let zone = testing::zone("example.com", "Z1");
    let ctx = testing::domains(&[&list, &delete], &[&zone, &records, &change], &[], &[]);
    let mut found = testing::found("certificate", ARN, detail("ISSUED", true));
    found.arn = Some(ARN.into());
    Certificate::delete(&ctx, &found, &|_| {}).await.unwrap();
    assert_eq!(change.num_calls(), 1);
    assert_eq!(delete.num_calls(), 2, "retried while in use");
}

#[test]
fn the_plan_says_a_pending_certificate_waits_and_a_delete_removes_its_records() {
    let found = testing::found("certificate", ARN, detail("PENDING_VALIDATION", true));
    assert_eq!(
        Certificate::unready(&found).as_deref(),
        Some("waits for its validation by DNS")
    );
    assert!(
        Certificate::deleting(&found)
            .unwrap()
            .contains("validation records")
    );
    let issued = testing::found("certificate", ARN, detail("ISSUED", true));
    assert_eq!(Certificate::unready(&issued), None);
}
