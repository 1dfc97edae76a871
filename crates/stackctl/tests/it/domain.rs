//! `domain = …` against the emulator: a certificate validated by DNS records in the account's
//! hosted zone (the emulator wrapper issues it only once they are there), an HTTPS listener
//! with it, HTTP redirected, an alias record to the load balancer, the HTTPS URL in the
//! outputs; a second domain is a new certificate made before the old goes; `down` removes the
//! records and the certificates and leaves the zone as it found it. A domain no zone holds,
//! and a name held by someone else's record, fail before any change; a certificate not
//! validated by the deadline says so and `down` still removes it all.

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
};

use crate::helpers::{TestStack, front, stderr, stdout};

const IMAGE: &str = "public.ecr.aws/stackctl/app:1";

/// A public zone named after the stack (tests share the emulator): its id.
async fn zone(stack: &TestStack) -> (String, String) {
    let name = format!("{}.test", stack.name);
    let out = stack
        .aws
        .route53
        .create_hosted_zone()
        .name(&name)
        .caller_reference(&stack.name)
        .send()
        .await
        .unwrap();
    let id = out
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/");
    (id.to_owned(), name)
}

/// `(name, type)` of every record in the zone, besides its NS and SOA.
async fn records(stack: &TestStack, zone: &str) -> Vec<(String, String)> {
    let out = stack
        .aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    out.resource_record_sets()
        .iter()
        .filter(|r| !matches!(r.r#type(), RrType::Ns | RrType::Soa))
        .map(|r| (r.name().to_owned(), r.r#type().as_str().to_owned()))
        .collect()
}

/// The certificates of the account that name `domain`.
async fn certificates(stack: &TestStack, domain: &str) -> Vec<String> {
    let out = stack.aws.acm.list_certificates().send().await.unwrap();
    out.certificate_summary_list()
        .iter()
        .filter(|c| c.domain_name() == Some(domain))
        .filter_map(|c| c.certificate_arn().map(str::to_owned))
        .collect()
}

/// Deletes the zone, with the records left in it (the emulator is shared by every test).
async fn drop_zone(stack: &TestStack, zone: &str) {
    let route53 = &stack.aws.route53;
    let out = route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    let left: Vec<Change> = out
        .resource_record_sets()
        .iter()
        .filter(|r| !matches!(r.r#type(), RrType::Ns | RrType::Soa))
        .map(|r| {
            Change::builder()
                .action(ChangeAction::Delete)
                .resource_record_set(r.clone())
                .build()
                .unwrap()
        })
        .collect();
    if !left.is_empty() {
        let batch = ChangeBatch::builder()
            .set_changes(Some(left))
            .build()
            .unwrap();
        route53
            .change_resource_record_sets()
            .hosted_zone_id(zone)
            .change_batch(batch)
            .send()
            .await
            .unwrap();
    }
    route53.delete_hosted_zone().id(zone).send().await.unwrap();
}

/// The listeners of the stack's load balancer.
async fn listeners_of(
    stack: &TestStack,
    balancer: &aws_sdk_elasticloadbalancingv2::types::LoadBalancer,
) -> aws_sdk_elasticloadbalancingv2::operation::describe_listeners::DescribeListenersOutput {
    let arn = balancer.load_balancer_arn().unwrap();
    let elb = &stack.aws.elb;
    elb.describe_listeners()
        .load_balancer_arn(arn)
        .send()
        .await
        .unwrap()
}

fn output<'a>(answer: &'a serde_json::Value, name: &str) -> &'a str {
    answer["outputs"][name]
        .as_str()
        .unwrap_or_else(|| panic!("no output {name}: {answer}"))
}

#[tokio::test]
async fn a_domain_gets_a_validated_certificate_https_and_an_alias_and_down_removes_them() {
    let mut stack = TestStack::new("domain", "").await;
    stack.env = vec![("STACKCTL_POLL_SECONDS".into(), "0.2".into())];
    let (zone_id, zone) = zone(&stack).await;
    let api = format!("api.{zone}");
    stack.write(&format!(
        "[service]\nimage = \"{IMAGE}\"\ndomain = \"{api}\"\n"
    ));

    let plan = stack.run(&["plan"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    assert!(
        stdout(&plan).contains("waits for ACM to issue it"),
        "the plan says validation will wait: {}",
        stdout(&plan)
    );
    let plan = stack.json(&["plan"]);
    let certificate = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "certificate")
        .unwrap_or_else(|| panic!("{plan}"));
    assert!(
        certificate["waits_for"]
            .as_str()
            .is_some_and(|w| w.contains("ACM")),
        "{certificate}"
    );
    let up = stack.json(&["up", "--yes"]);
    assert_eq!(output(&up, "https_url"), format!("https://{api}"));
    let arn = output(&up, "certificate_arn").to_owned();
    let cert = stack
        .aws
        .acm
        .describe_certificate()
        .certificate_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cert.certificate().unwrap().status().unwrap().as_str(),
        "ISSUED",
        "issued once its validation record was in the zone"
    );
    let balancer = crate::stack::load_balancer(&stack).await;
    let listeners = listeners_of(&stack, &balancer).await;
    let https = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(443))
        .expect("an HTTPS listener");
    assert_eq!(
        https.certificates()[0].certificate_arn(),
        Some(arn.as_str())
    );
    let http = listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(80))
        .unwrap();
    let redirect = http.default_actions()[0].redirect_config().unwrap();
    assert_eq!(redirect.protocol(), Some("HTTPS"));
    let held = records(&stack, &zone_id).await;
    assert!(held.contains(&(format!("{api}."), "A".into())), "{held:?}");
    assert!(
        held.iter()
            .any(|(n, t)| t == "CNAME" && n.ends_with(&format!(".{api}."))),
        "the validation record: {held:?}"
    );
    let status = stack.run(&["status"]);
    assert!(
        stdout(&status).contains(&format!("URL:     https://{api}")),
        "{}",
        stdout(&status)
    );
    let again = stack.json(&["up", "--yes"]);
    assert_eq!(crate::helpers::mutating_calls(&again), Vec::<String>::new());

    // A second domain: a new certificate for both, validated before the listener moves to
    // it; the first one's record stays (the new certificate needs it).
    let admin = format!("admin.{zone}");
    stack.write(&format!(
        "[services.web]\nimage = \"{IMAGE}\"\ndomain = \"{api}\"\n\
         [services.admin]\nimage = \"{IMAGE}\"\ndomain = \"{admin}\"\nhosts = [\"{admin}\"]\n"
    ));
    let up = stack.json(&["up", "--yes"]);
    let second = output(&up, "certificate_arn").to_owned();
    assert_ne!(second, arn);
    assert_eq!(
        certificates(&stack, &api).await,
        [second.as_str()],
        "the old one is gone"
    );
    let held = records(&stack, &zone_id).await;
    assert_eq!(
        held.iter().filter(|(_, t)| t == "CNAME").count(),
        2,
        "{held:?}"
    );
    assert!(
        held.contains(&(format!("{admin}."), "A".into())),
        "{held:?}"
    );

    // The domains left out: their records and certificate go, HTTP forwards again.
    stack.write(&format!(
        "[services.web]\nimage = \"{IMAGE}\"\n\
         [services.admin]\nimage = \"{IMAGE}\"\nhosts = [\"{admin}\"]\n"
    ));
    let up = stack.json(&["up", "--yes"]);
    assert!(up["outputs"].get("https_url").is_none(), "{up}");
    assert_eq!(records(&stack, &zone_id).await, Vec::new());
    assert!(certificates(&stack, &api).await.is_empty());
    let listeners = listeners_of(&stack, &balancer).await;
    let ports: Vec<Option<i32>> = listeners.listeners().iter().map(|l| l.port()).collect();
    assert_eq!(ports, [Some(80)]);
    assert!(
        listeners.listeners()[0].default_actions()[0]
            .target_group_arn()
            .is_some()
    );

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(
        records(&stack, &zone_id).await,
        Vec::new(),
        "the zone is as found"
    );
    drop_zone(&stack, &zone_id).await;
}

/// `up` fails saying `why`, and the stack has nothing.
fn refused_before_any_change(stack: &TestStack, why: &str) {
    let up = stack.run(&["up", "--yes"]);
    assert!(!up.status.success());
    assert!(stderr(&up).contains(why), "{}", stderr(&up));
    assert_eq!(stack.json(&["status"])["resources"], serde_json::json!([]));
}

#[tokio::test]
async fn a_domain_no_zone_holds_or_someone_else_s_name_fails_before_any_change() {
    let stack = TestStack::new("nozone", "").await;
    let domain = format!("api.{}.invalid-zone.test", stack.name);
    stack.write(&format!(
        "[service]\nimage = \"{IMAGE}\"\ndomain = \"{domain}\"\n"
    ));
    refused_before_any_change(
        &stack,
        "no public Route 53 hosted zone in this account holds this domain",
    );

    let (zone_id, zone) = zone(&stack).await;
    let taken = format!("www.{zone}");
    let record = ResourceRecordSet::builder()
        .name(&taken)
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let change = Change::builder()
        .action(ChangeAction::Create)
        .resource_record_set(record)
        .build()
        .unwrap();
    stack
        .aws
        .route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
    stack.write(&format!(
        "[service]\nimage = \"{IMAGE}\"\ndomain = \"{taken}\"\n"
    ));
    refused_before_any_change(&stack, "never takes over a name");
    assert_eq!(
        records(&stack, &zone_id).await.len(),
        1,
        "the record is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_not_validated_by_the_deadline_is_named_and_down_removes_it() {
    // ACM takes 120 s under the timing model, 12 s at this scale; stackctl waits 2 s.
    let front = front(Some(0.1), None).await;
    let mut stack = TestStack::new("deadline", "").await;
    let (zone_id, zone) = zone(&stack).await;
    let api = format!("api.{zone}");
    stack.write(&format!(
        "[service]\nimage = \"{IMAGE}\"\ndomain = \"{api}\"\n"
    ));
    stack.endpoint = Some(front.endpoint());
    stack.env = vec![
        ("STACKCTL_POLL_SECONDS".into(), "0.2".into()),
        ("STACKCTL_WAIT_TIMEOUT_SECONDS".into(), "2".into()),
        ("STACKCTL_RATE_SCALE".into(), "0.1".into()),
    ];
    let up = stack.run(&["up", "--yes"]);
    assert!(!up.status.success());
    let err = stderr(&up);
    assert!(
        err.contains(&format!(
            "the certificate for {api} was not validated within 2s"
        )),
        "{err}"
    );
    assert!(err.contains("`down` to remove them"), "{err}");
    assert_eq!(certificates(&stack, &api).await.len(), 1);

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(certificates(&stack, &api).await.is_empty());
    assert_eq!(records(&stack, &zone_id).await, Vec::new());
    drop_zone(&stack, &zone_id).await;
}
