//! The default stack and its variants: counts, order, tags, zones.

use super::*;
use crate::graph::Graph;
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
    let graph = Graph::new(resources.iter().map(|r| (r.id.as_str(), r.deps.as_slice()))).unwrap();
    let order = graph.order();
    let pos = |id: &str| order.iter().position(|x| x == id).unwrap();
    assert!(pos(VPC) < pos("public-subnet-1"));
    assert!(pos(INTERNET_GATEWAY) < pos(PUBLIC_ROUTE_TABLE));
    assert!(pos(ALB_SECURITY_GROUP) < pos(SERVICE_SECURITY_GROUP));
    assert!(pos(DEAD_LETTER_QUEUE) < pos(QUEUE) && pos(QUEUE) < pos(TASK_ROLE));
}

#[test]
fn every_resource_is_tagged_with_the_stack_and_its_id() {
    // The kinds AWS takes no tags on are found by name (the dashboard is the stack's name).
    let tagged = desired(&StackSpec::minimal("s"), &zones())
        .into_iter()
        .filter(|r| r.spec.tagging() != crate::contract::Tagging::None);
    for r in tagged {
        assert_eq!(r.tags[tags::STACK_TAG], "s");
        assert_eq!(r.tags[tags::ID_TAG], r.id);
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
        .find(|r| r.id == PRIVATE_ROUTE_TABLE)
        .unwrap();
    assert!(private.deps.contains(&NAT_GATEWAY.to_owned()));
    let Spec::RouteTable(rt) = &private.spec else {
        panic!()
    };
    assert_eq!(
        rt.default_route,
        Some(Target::NatGateway(NAT_GATEWAY.into()))
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
    let graph = Graph::new(resources.iter().map(|r| (r.id.as_str(), r.deps.as_slice()))).unwrap();
    let pos = |id: &str| graph.order().iter().position(|x| x == id).unwrap();
    assert!(
        pos(HTTP_LISTENER) < pos(SERVICE),
        "the listener exists before the service"
    );
    assert!(pos(INTERNET_GATEWAY) < pos(LOAD_BALANCER));
    assert!(pos(TASK_DEFINITION) < pos(SERVICE) && pos(QUEUE) < pos(TASK_DEFINITION));
    let service = resources.iter().find(|r| r.id == SERVICE).unwrap();
    let Spec::Service(s) = &service.spec else {
        panic!()
    };
    assert!(
        s.public_ip && s.subnets[0].starts_with("public"),
        "no NAT: public subnets with a public IP"
    );

    spec.network.nat_gateway = true;
    spec.services[0].certificate_arn = Some("arn:aws:acm:us-east-1:1:certificate/x".into());
    let resources = desired(&spec, &zones());
    let service = resources.iter().find(|r| r.id == SERVICE).unwrap();
    let Spec::Service(s) = &service.spec else {
        panic!()
    };
    assert!(!s.public_ip && s.subnets[0].starts_with("private"));
    assert!(resources.iter().any(|r| r.id == HTTPS_LISTENER));
}
