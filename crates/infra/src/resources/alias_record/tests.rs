use aws_sdk_elasticloadbalancingv2::operation::describe_load_balancers::DescribeLoadBalancersOutput;
use aws_sdk_elasticloadbalancingv2::types::LoadBalancer;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_smithy_mocks::{Rule, mock};

use super::*;
use crate::resources::testing::{self, Creating};

const LB_ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/s-alb/1";

fn desired() -> AliasRecord {
    AliasRecord {
        domain: "api.example.com".into(),
        load_balancer: ResourceId::LOAD_BALANCER,
        certificate: ResourceId::CERTIFICATE,
    }
}

/// DescribeLoadBalancers answering the stack's load balancer `s-alb` at `s-alb-1.elb.test`.
fn load_balancers() -> Rule {
    mock!(aws_sdk_elasticloadbalancingv2::Client::describe_load_balancers).then_output(|| {
        DescribeLoadBalancersOutput::builder()
            .load_balancers(
                LoadBalancer::builder()
                    .load_balancer_arn(LB_ARN)
                    .load_balancer_name("s-alb")
                    .dns_name("s-alb-1.elb.test")
                    .canonical_hosted_zone_id("ZLB")
                    .build(),
            )
            .build()
    })
}

/// ListResourceRecordSets answering an A record at api.example.com aliasing `target`.
fn alias_at(target: &'static str) -> Rule {
    mock!(aws_sdk_route53::Client::list_resource_record_sets).then_output(move || {
        let alias = AliasTarget::builder()
            .dns_name(format!("dualstack.{target}."))
            .hosted_zone_id("ZLB")
            .evaluate_target_health(false)
            .build()
            .unwrap();
        ListResourceRecordSetsOutput::builder()
            .resource_record_sets(
                ResourceRecordSet::builder()
                    .name("api.example.com.")
                    .r#type(RrType::A)
                    .alias_target(alias)
                    .build()
                    .unwrap(),
            )
            .is_truncated(false)
            .max_items(1)
            .build()
            .unwrap()
    })
}

fn no_certificates() -> (Rule, Rule) {
    use aws_sdk_acm::operation::list_certificates::ListCertificatesOutput;
    use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
    (
        mock!(aws_sdk_acm::Client::list_certificates)
            .then_output(|| ListCertificatesOutput::builder().build()),
        mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
            .then_output(|| GetResourcesOutput::builder().build()),
    )
}

async fn observe(records: &Rule) -> Result<Vec<Found<AliasRecordState>>> {
    let (list, tagging) = no_certificates();
    let (zone, lbs) = (testing::zone("example.com", "Z1"), load_balancers());
    let ctx = testing::domains(&[&list], &[&zone, records], &[&lbs], &[&tagging]);
    let spec = desired();
    let id = ResourceId::alias_record("api.example.com");
    AliasRecord::observe(
        &Scope::new(&ctx),
        &[Wanted {
            id: &id,
            spec: &spec,
        }],
    )
    .await
}

#[tokio::test]
async fn a_record_aliasing_the_stack_s_load_balancer_is_the_stack_s() {
    let found = observe(&alias_at("s-alb-1.elb.test")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, ResourceId::alias_record("api.example.com"));
    assert_eq!(found[0].detail.target, "s-alb-1.elb.test");
    assert_eq!(found[0].detail.uses, [LB_ARN]);
    assert_eq!(
        AliasRecord::output(&found[0]).url.as_deref(),
        Some("https://api.example.com")
    );
}

#[test]
fn the_stack_s_balancer_names_are_told_from_another_stack_s() {
    assert!(is_stack_balancer(
        "s",
        "s-alb-1.us-east-1.elb.amazonaws.com"
    ));
    assert!(is_stack_balancer(
        "s",
        "s-alb-1234567890.eu-west-1.elb.amazonaws.com"
    ));
    assert!(!is_stack_balancer(
        "s",
        "s-alb-alb-12.us-east-1.elb.amazonaws.com"
    ));
    assert!(!is_stack_balancer("s", "s-alb-1.example.com"));
    assert!(!is_stack_balancer(
        "s",
        "other-alb-1.us-east-1.elb.amazonaws.com"
    ));
}

#[tokio::test]
async fn a_record_left_on_a_load_balancer_the_stack_replaced_is_still_the_stack_s() {
    // The stack is `s`: its load balancer `s-alb` had the DNS name `s-alb-9….elb.amazonaws.com`.
    let found = observe(&alias_at("s-alb-9.us-east-1.elb.amazonaws.com"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(found[0].detail.uses.is_empty(), "its load balancer is gone");
}

#[tokio::test]
async fn the_certificate_and_the_records_look_a_domain_s_zone_up_once() {
    use crate::resources::certificate::Certificate;
    let (list, tagging) = no_certificates();
    let (zone, lbs, records) = (
        testing::zone("example.com", "Z1"),
        load_balancers(),
        alias_at("s-alb-1.elb.test"),
    );
    let ctx = testing::domains(&[&list], &[&zone, &records], &[&lbs], &[&tagging]);
    let scope = Scope::new(&ctx);
    let certificate = Certificate {
        domains: vec!["api.example.com".into()],
    };
    let id = ResourceId::CERTIFICATE;
    let wanted = [Wanted {
        id: &id,
        spec: &certificate,
    }];
    Certificate::observe(&scope, &wanted).await.unwrap();
    let (spec, id) = (desired(), ResourceId::alias_record("api.example.com"));
    AliasRecord::observe(
        &scope,
        &[Wanted {
            id: &id,
            spec: &spec,
        }],
    )
    .await
    .unwrap();
    // api.example.com (no such zone), then example.com: once for both kinds.
    assert_eq!(zone.num_calls(), 2);
}

#[tokio::test]
async fn someone_else_s_record_at_a_wanted_name_fails_the_plan() {
    let err = observe(&alias_at("elsewhere.example.net"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("api.example.com"), "{err}");
    assert!(err.contains("never takes over a name"), "{err}");
    assert!(err.contains("elsewhere.example.net"), "{err}");
}

#[test]
fn a_record_aliasing_another_load_balancer_is_pointed_back() {
    let refs = testing::refs(&[("load-balancer", LB_ARN)]);
    let mut refs = refs;
    refs.get_mut(&ResourceId::LOAD_BALANCER).unwrap().url = Some("http://s-alb-1.elb.test".into());
    let found = |target: &str| AliasRecordState {
        zone: Zone {
            id: "Z1".into(),
            name: "example.com".into(),
        },
        target: target.into(),
        record: Box::new(
            ResourceRecordSet::builder()
                .name("api.example.com.")
                .r#type(RrType::A)
                .build()
                .unwrap(),
        ),
        uses: Vec::new(),
    };
    assert!(desired().diff(&found("s-alb-1.elb.test"), &refs).is_empty());
    let diff = desired().diff(&found("old.elb.test"), &refs);
    assert_eq!(diff.fields.len(), 1);
    assert!(diff.replace.is_none());
}

#[tokio::test]
async fn create_makes_the_alias_and_never_overwrites_a_record() {
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(|r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            r.hosted_zone_id() == Some("Z1")
                && changes.len() == 1
                && changes[0].action() == &ChangeAction::Create
                && changes[0].resource_record_set().is_some_and(|s| {
                    s.name() == "api.example.com"
                        && s.alias_target().is_some_and(|a| {
                            a.dns_name() == "s-alb-1.elb.test" && a.hosted_zone_id() == "ZLB"
                        })
                })
        })
        .then_output(testing::in_sync);
    let (zone, lbs) = (testing::zone("example.com", "Z1"), load_balancers());
    let ctx = testing::domains(&[], &[&zone, &change], &[&lbs], &[]);
    let refs = testing::refs(&[("load-balancer", LB_ARN), ("certificate", "arn:cert")]);
    let new = Creating::new(ResourceId::alias_record("api.example.com"), refs);
    let out = desired().create(&ctx, new.get()).await.unwrap();
    assert_eq!(out.url.as_deref(), Some("https://api.example.com"));
    assert_eq!(change.num_calls(), 1);
}

#[tokio::test]
async fn delete_names_the_record_exactly_as_found_and_gone_is_done() {
    let found_record = ResourceRecordSet::builder()
        .name("api.example.com.")
        .r#type(RrType::A)
        .build()
        .unwrap();
    let expected = found_record.clone();
    let change = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(move |r| {
            let changes = r.change_batch().map(|b| b.changes()).unwrap_or_default();
            changes.len() == 1
                && changes[0].action() == &ChangeAction::Delete
                && changes[0].resource_record_set() == Some(&expected)
        })
        .then_error(|| {
            aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("InvalidChangeBatch")
                    .message("it was not found")
                    .build(),
            )
        });
    let ctx = testing::domains(&[], &[&change], &[], &[]);
    let state = AliasRecordState {
        zone: Zone {
            id: "Z1".into(),
            name: "example.com".into(),
        },
        target: "s-alb-1.elb.test".into(),
        record: Box::new(found_record),
        uses: Vec::new(),
    };
    let found = testing::found("dns-api.example.com", "api.example.com", state);
    AliasRecord::delete(&ctx, &found, &|_| {}).await.unwrap();
    assert_eq!(change.num_calls(), 1);
}
