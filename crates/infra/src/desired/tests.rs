//! The default stack and its variants: counts, order, tags, zones.

use super::*;
use crate::graph::Graph;
use crate::id::ResourceId;
use crate::resources::Spec;
use crate::resources::route_table::Target;
use crate::tags;

fn zones() -> Vec<String> {
    vec![
        "us-east-1a".into(),
        "us-east-1b".into(),
        "us-east-1c".into(),
    ]
}

#[test]
fn the_default_stack_has_nineteen_resources_in_a_valid_graph() {
    let resources = desired(&StackSpec::minimal("s"), &zones());
    // Sixteen, the queue's two alarms (oldest message, dead letters) and the dashboard.
    assert_eq!(resources.len(), 19);
    let graph = Graph::new(resources.iter().map(|r| (&r.id, r.deps.as_slice()))).unwrap();
    let order = graph.order();
    let pos = |id: ResourceId| order.iter().position(|x| *x == id).unwrap();
    assert!(pos(ResourceId::VPC) < pos(ResourceId::public_subnet(0)));
    assert!(pos(ResourceId::INTERNET_GATEWAY) < pos(ResourceId::PUBLIC_ROUTE_TABLE));
    assert!(pos(ResourceId::ALB_SECURITY_GROUP) < pos(ResourceId::SERVICE_SECURITY_GROUP));
    assert!(
        pos(ResourceId::DEAD_LETTER_QUEUE) < pos(ResourceId::QUEUE)
            && pos(ResourceId::QUEUE) < pos(ResourceId::TASK_ROLE)
    );
}

#[test]
fn every_resource_is_tagged_with_the_stack_and_its_id() {
    // The kinds AWS takes no tags on are found by name (the dashboard is the stack's name).
    let tagged = desired(&StackSpec::minimal("s"), &zones())
        .into_iter()
        .filter(|r| r.spec.tagging() != crate::contract::Tagging::None);
    for r in tagged {
        assert_eq!(r.tags[tags::STACK_TAG], "s");
        assert_eq!(r.tags[tags::ID_TAG], r.id.as_str());
    }
}

#[test]
fn a_nat_gateway_adds_an_address_and_a_private_default_route() {
    let mut spec = StackSpec::minimal("s");
    spec.network.nat_gateway = true;
    let resources = desired(&spec, &zones());
    assert_eq!(resources.len(), 21);
    let private = resources
        .iter()
        .find(|r| r.id == ResourceId::PRIVATE_ROUTE_TABLE)
        .unwrap();
    assert!(private.deps.contains(&ResourceId::NAT_GATEWAY));
    let Spec::RouteTable(rt) = &private.spec else {
        panic!()
    };
    assert_eq!(
        rt.default_route,
        Some(Target::NatGateway(ResourceId::NAT_GATEWAY))
    );
}

#[test]
fn subnets_are_spread_over_zones_in_order() {
    let resources = desired(&StackSpec::minimal("s"), &zones());
    let zone_of = |id: &str| match &resources.iter().find(|r| r.id == id).unwrap().spec {
        Spec::Subnet(s) => s.zone.clone(),
        _ => panic!(),
    };
    assert_eq!(zone_of("public-subnet-1"), "us-east-1a");
    assert_eq!(zone_of("public-subnet-2"), "us-east-1b");
    assert_eq!(zone_of("private-subnet-2"), "us-east-1b");
}

#[test]
fn an_image_adds_the_load_balancer_and_the_service_in_order() {
    let mut spec = StackSpec::minimal("s");
    spec.services[0].image = Some("repo/app:1".into());
    let resources = desired(&spec, &zones());
    // 22, the alarms on the load balancer's 5xx, unhealthy targets and running tasks, and the
    // dashboard.
    assert_eq!(resources.len(), 28);
    let graph = Graph::new(resources.iter().map(|r| (&r.id, r.deps.as_slice()))).unwrap();
    let pos = |id: ResourceId| graph.order().iter().position(|x| *x == id).unwrap();
    assert!(
        pos(ResourceId::HTTP_LISTENER) < pos(ResourceId::SERVICE),
        "the listener exists before the service"
    );
    assert!(pos(ResourceId::INTERNET_GATEWAY) < pos(ResourceId::LOAD_BALANCER));
    assert!(
        pos(ResourceId::TASK_DEFINITION) < pos(ResourceId::SERVICE)
            && pos(ResourceId::QUEUE) < pos(ResourceId::TASK_DEFINITION)
    );
    let service = resources
        .iter()
        .find(|r| r.id == ResourceId::SERVICE)
        .unwrap();
    let Spec::Service(s) = &service.spec else {
        panic!()
    };
    assert!(
        s.public_ip && s.subnets[0].as_str().starts_with("public"),
        "no NAT: public subnets with a public IP"
    );

    spec.network.nat_gateway = true;
    spec.services[0].certificate_arn = Some("arn:aws:acm:us-east-1:1:certificate/x".into());
    let resources = desired(&spec, &zones());
    let service = resources
        .iter()
        .find(|r| r.id == ResourceId::SERVICE)
        .unwrap();
    let Spec::Service(s) = &service.spec else {
        panic!()
    };
    assert!(!s.public_ip && s.subnets[0].as_str().starts_with("private"));
    assert!(resources.iter().any(|r| r.id == ResourceId::HTTPS_LISTENER));
}

#[test]
fn a_bucket_is_made_before_the_roles_of_its_services_which_may_use_exactly_it() {
    let spec = StackSpec::parse(
        std::path::Path::new("stack.toml"),
        "[stack]\nname = \"sk\"\n[buckets.inputs]\nexpire_after_days = 3\n[buckets.other]\n\
         [queues.jobs]\n[services.api]\nwrites = [\"inputs\"]\nsends_to = [\"jobs\"]\nimage = \"r/a:1\"\n\
         [services.worker]\nkind = \"worker\"\nconsumes = [\"jobs\"]\nreads = [\"inputs\"]\n\
         image = \"r/a:1\"\n",
    )
    .unwrap();
    let resources = desired(&spec, &zones());
    let find = |id: &str| resources.iter().find(|r| r.id.as_str() == id).unwrap();
    let Spec::Bucket(bucket) = &find("bucket-inputs").spec else {
        panic!()
    };
    assert_eq!(
        (bucket.name.as_str(), bucket.expire_after_days),
        ("sk-inputs", Some(3))
    );
    let role = |service: &str| {
        let r = find(&format!("task-role-{service}"));
        let Spec::Role(role) = &r.spec else { panic!() };
        (r.deps.clone(), role.policy.clone())
    };
    let (deps, api) = role("api");
    assert!(deps.contains(&ResourceId::from("bucket-inputs")));
    assert!(!deps.contains(&ResourceId::from("bucket-other")));
    let on = |policy: &[crate::resources::role::Statement], arn: &str| {
        policy
            .iter()
            .find(|s| s.target == crate::resources::role::Target::Arn(arn.into()))
            .map(|s| s.actions.clone())
    };
    assert_eq!(
        on(&api, "arn:aws:s3:::sk-inputs"),
        Some(vec!["s3:ListBucket"])
    );
    assert_eq!(
        on(&api, "arn:aws:s3:::sk-inputs/*"),
        Some(vec![
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:ListMultipartUploadParts",
            "s3:PutObject"
        ])
    );
    let (_, worker) = role("worker");
    assert_eq!(
        on(&worker, "arn:aws:s3:::sk-inputs/*"),
        Some(vec!["s3:GetObject"])
    );
    assert!(on(&worker, "arn:aws:s3:::sk-other").is_none());
    let Spec::TaskDefinition(td) = &find("task-definition-worker").spec else {
        panic!()
    };
    assert_eq!(td.environment["S3_BUCKET_INPUTS"], "sk-inputs");
}

#[test]
fn domains_get_one_certificate_https_once_it_is_issued_and_an_alias_each() {
    let spec = StackSpec::parse(
        std::path::Path::new("stack.toml"),
        "[stack]\nname = \"sk\"\n[services.web]\nimage = \"r/a:1\"\ndomain = \"example.com\"\n\
         [services.admin]\nimage = \"r/a:1\"\ndomain = \"admin.example.com\"\n\
         hosts = [\"admin.example.com\"]\n",
    )
    .unwrap();
    let resources = desired(&spec, &zones());
    let find = |id: &ResourceId| resources.iter().find(|r| r.id == *id).unwrap();
    let Spec::Certificate(certificate) = &find(&ResourceId::CERTIFICATE).spec else {
        panic!()
    };
    assert_eq!(
        certificate.domains,
        ["example.com", "admin.example.com"],
        "the default's domain first"
    );
    let https = find(&ResourceId::HTTPS_LISTENER);
    let Spec::Listener(listener) = &https.spec else {
        panic!()
    };
    assert_eq!(
        listener.certificate,
        Some(crate::resources::listener::Tls::Made(
            ResourceId::CERTIFICATE
        ))
    );
    assert!(
        https.ready_deps.contains(&ResourceId::CERTIFICATE),
        "a load balancer takes an issued certificate only"
    );
    for domain in ["example.com", "admin.example.com"] {
        let alias = find(&ResourceId::alias_record(domain));
        assert!(alias.deps.contains(&ResourceId::HTTPS_LISTENER), "{domain}");
        assert!(alias.deps.contains(&ResourceId::LOAD_BALANCER), "{domain}");
        assert!(alias.tags.is_empty(), "Route 53 records take no tags");
    }
    let Spec::ListenerRule(rule) = &find(&ResourceId::from_tag("listener-rule-admin")).spec else {
        panic!()
    };
    assert_eq!(rule.hosts, ["admin.example.com"]);
}
