//! Planning against hand-made observations: create from empty, no-op, one update, replace
//! cascades, deletes of undeclared resources and duplicates.

use std::collections::BTreeSet;

use super::*;
use crate::change::FieldChange;
use crate::contract::Found;
use crate::desired::{self, desired};
use crate::id::ResourceId;
use crate::outputs::Output;
use crate::resources::{
    Detail, Spec, internet_gateway, log_group, nat_gateway, queue, repository, role, route_table,
    security_group, subnet, vpc,
};
use crate::stack_file::StackSpec;
use crate::tags;

fn zones() -> Vec<String> {
    vec!["us-east-1a".into(), "us-east-1b".into()]
}

/// What AWS would report of a resource created as `spec` says, given its dependencies' ids.
fn state_of(
    spec: &Spec,
    get: &dyn Fn(&ResourceId) -> String,
    arn: &dyn Fn(&ResourceId) -> String,
) -> Detail {
    match spec {
        Spec::Vpc(v) => Detail::Vpc(vpc::VpcState {
            cidr: v.cidr.to_string(),
            dns_support: true,
            dns_hostnames: true,
        }),
        Spec::InternetGateway(_) => {
            Detail::InternetGateway(internet_gateway::InternetGatewayState {
                attached: vec![get(&ResourceId::VPC)],
            })
        }
        Spec::Subnet(s) => Detail::Subnet(subnet::SubnetState {
            vpc_id: get(&ResourceId::VPC),
            cidr: s.cidr.to_string(),
            zone: s.zone.clone(),
            map_public_ip: s.public,
        }),
        Spec::RouteTable(rt) => Detail::RouteTable(route_table::RouteTableState {
            vpc_id: get(&ResourceId::VPC),
            routes: rt
                .default_route
                .iter()
                .map(|t| route_table::RouteState {
                    destination: route_table::DEFAULT_ROUTE.into(),
                    target: get(t.logical_id()),
                })
                .collect(),
            associations: rt
                .subnets
                .iter()
                .map(|s| (format!("assoc-{s}"), get(s)))
                .collect(),
        }),
        Spec::ElasticIp(_) => Detail::ElasticIp(()),
        Spec::NatGateway(n) => Detail::NatGateway(nat_gateway::NatGatewayState {
            subnet_id: get(&n.subnet),
            allocation_id: get(&n.eip),
        }),
        Spec::SecurityGroup(g) => {
            let rule = |port: u16, source: String| security_group::Rule {
                protocol: "tcp".into(),
                from: Some(i32::from(port)),
                to: Some(i32::from(port)),
                source,
            };
            let ingress: BTreeSet<security_group::Rule> = g
                .ingress
                .iter()
                .map(|i| match &i.source {
                    security_group::Source::Anywhere => {
                        rule(i.port, security_group::ANYWHERE.into())
                    }
                    security_group::Source::Group(id) => rule(i.port, get(id)),
                })
                .collect();
            let all_out = security_group::Rule {
                protocol: "-1".into(),
                from: None,
                to: None,
                source: security_group::ANYWHERE.into(),
            };
            Detail::SecurityGroup(security_group::SecurityGroupState {
                vpc_id: get(&ResourceId::VPC),
                name: g.name.clone(),
                description: g.description.clone(),
                ingress,
                egress: [all_out].into(),
            })
        }
        Spec::Queue(q) => {
            let mut attributes: std::collections::BTreeMap<String, String> = [
                ("VisibilityTimeout", q.visibility_timeout_secs),
                ("MessageRetentionPeriod", q.message_retention_secs),
                ("ReceiveMessageWaitTimeSeconds", q.receive_wait_secs),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_string()))
            .collect();
            if let Some(r) = &q.redrive {
                attributes.insert(
                    "RedrivePolicy".into(),
                    serde_json::json!({ "deadLetterTargetArn": arn(&r.dead_letter_queue), "maxReceiveCount": r.max_receives }).to_string(),
                );
            }
            Detail::Queue(queue::QueueState {
                name: q.name.clone(),
                attributes,
            })
        }
        Spec::Repository(r) => Detail::Repository(repository::RepositoryState {
            uri: "uri".into(),
            scan_on_push: r.scan_on_push,
            lifecycle_policy: Some(repository::lifecycle_policy(r.keep_images)),
        }),
        Spec::Role(r) => Detail::Role(role::RoleState {
            trust_policy: Some(role::trust_policy()),
            managed_policies: r.managed_policies.iter().cloned().collect(),
            inline_policies: (!r.policy.is_empty())
                .then(|| {
                    let statements: Vec<(Vec<&str>, String)> = r
                        .policy
                        .iter()
                        .map(|s| match &s.target {
                            role::Target::Resource(id) => (s.actions.clone(), arn(id)),
                            role::Target::Arn(a) => (s.actions.clone(), a.clone()),
                        })
                        .collect();
                    (
                        role::QUEUE_POLICY_NAME.to_owned(),
                        Some(role::document(&statements)),
                    )
                })
                .into_iter()
                .collect(),
        }),
        Spec::LogGroup(l) => Detail::LogGroup(log_group::LogGroupState {
            retention_days: Some(l.retention_days),
        }),
        other => panic!("these plans have no service; got {other:?}"),
    }
}

/// Observations that match the desired stack exactly, as AWS would report them.
fn matching(spec: &StackSpec) -> Vec<Observed> {
    let resources = desired(spec, &zones());
    let graph = Graph::new(resources.iter().map(|d| (&d.id, d.deps.as_slice()))).unwrap();
    let mut outputs = Outputs::new();
    let mut observed = Vec::new();
    for id in graph.order() {
        let d = resources.iter().find(|r| &r.id == id).unwrap();
        // Rules name other groups by their `sg-` id, as EC2 does.
        let aws_id = match d.spec {
            Spec::SecurityGroup(_) => format!("sg-{id}"),
            _ => format!("aws-{id}"),
        };
        let arn = format!("arn:aws:x:us-east-1:1:{id}");
        outputs.insert(
            id.clone(),
            Output {
                aws_id: aws_id.clone(),
                arn: Some(arn.clone()),
                url: None,
            },
        );
        let get = |dep: &ResourceId| outputs[dep].aws_id.clone();
        let arn_of = |dep: &ResourceId| outputs[dep].arn.clone().unwrap();
        observed.push(Found {
            id: id.clone(),
            detail: match &d.spec {
                // As put: the alarm's definition with the resources it names resolved.
                Spec::Alarm(a) => Detail::Alarm(crate::resources::alarm::AlarmState {
                    definition: a.wanted(&outputs).unwrap(),
                }),
                Spec::Dashboard(dash) => {
                    Detail::Dashboard(crate::resources::dashboard::DashboardState {
                        body: dash.wanted(&outputs).unwrap(),
                    })
                }
                spec => state_of(spec, &get, &arn_of),
            },
            aws_id,
            arn: Some(arn),
            state: "available".into(),
            tags: d.tags.clone(),
        });
    }
    observed
}

#[test]
fn from_empty_everything_is_created_in_dependency_order() {
    let spec = StackSpec::minimal("s");
    let plan = compute("s", &desired(&spec, &zones()), &[]).unwrap();
    assert_eq!(
        plan.summary(),
        Summary {
            create: 19,
            ..Summary::default()
        }
    );
    assert!(!plan.is_destructive());
    assert_eq!(plan.changes[0].id, ResourceId::VPC.as_str());
}

#[test]
fn a_stack_that_matches_is_all_unchanged() {
    let spec = StackSpec::minimal("s");
    let plan = compute("s", &desired(&spec, &zones()), &matching(&spec)).unwrap();
    let changed: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::Unchanged)
        .collect();
    assert!(changed.is_empty(), "{changed:#?}");
    assert!(!plan.has_changes());
}

#[test]
fn one_changed_value_is_exactly_one_update() {
    let spec = StackSpec::minimal("s");
    let observed = matching(&spec);
    let mut changed = spec.clone();
    changed.queues[0].visibility_timeout_secs = 90;
    let plan = compute("s", &desired(&changed, &zones()), &observed).unwrap();
    let updates: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::Unchanged)
        .collect();
    // The dead-letter queue shares the visibility timeout.
    assert_eq!(
        updates.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        [
            ResourceId::DEAD_LETTER_QUEUE.as_str(),
            ResourceId::QUEUE.as_str()
        ]
    );
    assert_eq!(
        updates[1].fields(),
        [FieldChange::new("visibility_timeout", "30", "90")]
    );

    let mut changed = spec.clone();
    changed.logs.retention_days = 30;
    let plan = compute("s", &desired(&changed, &zones()), &observed).unwrap();
    assert_eq!(plan.summary().update, 1);
    assert_eq!(
        plan.get(ResourceId::LOG_GROUP.as_str()).unwrap().fields()[0].to,
        "30"
    );
}

#[test]
fn a_new_vpc_cidr_replaces_the_network_and_says_why() {
    let spec = StackSpec::minimal("s");
    let observed = matching(&spec);
    let mut changed = spec.clone();
    changed.network.cidr = "10.1.0.0/16".parse().unwrap();
    changed.network.public_subnets = vec![
        "10.1.0.0/24".parse().unwrap(),
        "10.1.1.0/24".parse().unwrap(),
    ];
    changed.network.private_subnets = vec![
        "10.1.2.0/24".parse().unwrap(),
        "10.1.3.0/24".parse().unwrap(),
    ];
    let plan = compute("s", &desired(&changed, &zones()), &observed).unwrap();
    let vpc = plan.get(ResourceId::VPC.as_str()).unwrap();
    assert_eq!(vpc.action(), Action::Replace);
    assert!(vpc.reason().unwrap().contains("cannot be changed in place"));
    for id in [
        ResourceId::INTERNET_GATEWAY.as_str(),
        "public-subnet-1",
        ResourceId::ALB_SECURITY_GROUP.as_str(),
        ResourceId::PRIVATE_ROUTE_TABLE.as_str(),
    ] {
        assert_eq!(plan.get(id).unwrap().action(), Action::Replace, "{id}");
    }
    assert_eq!(
        plan.get(ResourceId::QUEUE.as_str()).unwrap().action(),
        Action::Unchanged
    );
    assert!(plan.is_destructive());
    // A network cannot be in two places: every replacement deletes first.
    for c in plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Replace)
    {
        assert_eq!(c.removal(), Some(Removal::First), "{}", c.id);
    }
}

#[test]
fn undeclared_resources_and_duplicates_are_deleted() {
    let spec = StackSpec::minimal("s");
    let mut observed = matching(&spec);
    let mut extra = observed
        .iter()
        .find(|o| o.id == "public-subnet-2")
        .unwrap()
        .clone();
    extra.id = "public-subnet-3".into();
    extra.aws_id = "subnet-3".into();
    extra
        .tags
        .insert(tags::ID_TAG.into(), "public-subnet-3".into());
    observed.push(extra);
    let mut dup = observed
        .iter()
        .find(|o| o.id == ResourceId::VPC.as_str())
        .unwrap()
        .clone();
    dup.aws_id = "vpc-dup".into();
    observed.push(dup);
    let plan = compute("s", &desired(&spec, &zones()), &observed).unwrap();
    let deletes: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Delete)
        .collect();
    assert_eq!(deletes.len(), 2);
    assert_eq!(deletes[0].id, "public-subnet-3", "subnets go before VPCs");
    assert!(deletes[1].reason().unwrap().contains("duplicate"));
}

#[test]
fn destroy_deletes_everything_dependents_first() {
    let spec = StackSpec::minimal("s");
    let plan = destroy("s", &matching(&spec));
    assert_eq!(plan.summary().delete, 19);
    let pos = |id: &str| plan.changes.iter().position(|c| c.id == id).unwrap();
    assert!(pos(ResourceId::PUBLIC_ROUTE_TABLE.as_str()) < pos("public-subnet-1"));
    assert!(pos("public-subnet-1") < pos(ResourceId::VPC.as_str()));
    assert!(pos(ResourceId::INTERNET_GATEWAY.as_str()) < pos(ResourceId::VPC.as_str()));
    assert!(
        pos(ResourceId::SERVICE_SECURITY_GROUP.as_str())
            < pos(ResourceId::ALB_SECURITY_GROUP.as_str()),
        "the group whose rule points at the other goes first"
    );
    let observed = matching(&spec);
    let found: Vec<&Observed> = observed.iter().collect();
    let before = deleted_before(&found);
    let index = |id: &str| found.iter().position(|o| o.id == id).unwrap();
    assert_eq!(
        before[index(ResourceId::ALB_SECURITY_GROUP.as_str())],
        [index(ResourceId::SERVICE_SECURITY_GROUP.as_str())]
    );
}

#[test]
fn of_two_vpcs_the_one_holding_the_subnets_is_kept_whatever_its_id() {
    let spec = StackSpec::minimal("s");
    let mut observed = matching(&spec);
    // A second VPC from a lost answer: nothing uses it, and its id sorts first.
    let mut dup = observed
        .iter()
        .find(|o| o.id == ResourceId::VPC.as_str())
        .unwrap()
        .clone();
    dup.aws_id = "aaa-vpc".into();
    observed.push(dup);
    assert_eq!(primaries(&observed)[&ResourceId::VPC].aws_id, "aws-vpc");
    let plan = compute("s", &desired(&spec, &zones()), &observed).unwrap();
    let vpc = plan
        .changes
        .iter()
        .find(|c| c.id == ResourceId::VPC.as_str() && c.action() != Action::Delete)
        .unwrap();
    assert_eq!(
        (vpc.action(), vpc.aws_id()),
        (Action::Unchanged, Some("aws-vpc"))
    );
    let gone: Vec<_> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Delete)
        .collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(gone[0].aws_id(), Some("aaa-vpc"));
    assert_eq!(
        gone[0].reason(),
        Some("a duplicate of vpc: aws-vpc is kept, as the rest of the stack uses it")
    );
    assert_eq!(
        observed_outputs(&observed)[ResourceId::VPC.as_str()].aws_id,
        "aws-vpc",
        "outputs agree"
    );
}

#[test]
fn a_duplicate_subnet_follows_its_kept_vpc() {
    let spec = StackSpec::minimal("s");
    let mut observed = matching(&spec);
    // A whole second VPC with its own first subnet (two runs at once).
    let mut vpc = observed
        .iter()
        .find(|o| o.id == ResourceId::VPC.as_str())
        .unwrap()
        .clone();
    vpc.aws_id = "vpc-other".into();
    let mut subnet = observed
        .iter()
        .find(|o| o.id == "public-subnet-1")
        .unwrap()
        .clone();
    subnet.aws_id = "aaa-subnet".into();
    if let Detail::Subnet(s) = &mut subnet.detail {
        s.vpc_id = "vpc-other".into();
    }
    observed.extend([vpc, subnet]);
    let kept = primaries(&observed);
    assert_eq!(kept[&ResourceId::VPC].aws_id, "aws-vpc");
    assert_eq!(
        kept[&ResourceId::public_subnet(0)].aws_id,
        "aws-public-subnet-1"
    );
    let plan = compute("s", &desired(&spec, &zones()), &observed).unwrap();
    let gone: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Delete)
        .filter_map(|c| c.aws_id())
        .collect();
    assert_eq!(
        gone,
        ["aaa-subnet", "vpc-other"],
        "the subnet before its VPC"
    );
}

fn blocks(list: &[&str]) -> Vec<ipnet::Ipv4Net> {
    list.iter().map(|b| b.parse().unwrap()).collect()
}

fn with_zones(n: usize) -> StackSpec {
    let mut spec = StackSpec::minimal("s");
    spec.network.availability_zones = n;
    // As `carve` lays them out from scratch: every public block, then every private one.
    let all: Vec<String> = (0..2 * n).map(|i| format!("10.0.{i}.0/24")).collect();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    spec.network.public_subnets = blocks(&all[..n]);
    spec.network.private_subnets = blocks(&all[n..]);
    spec
}

fn cidr_of(plan_desired: &[Desired], id: &str) -> String {
    match &plan_desired.iter().find(|d| d.id == id).unwrap().spec {
        Spec::Subnet(s) => s.cidr.to_string(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn adding_a_zone_keeps_every_subnet_and_only_creates_the_new_ones() {
    let observed = matching(&with_zones(2));
    let mut wanted = desired(&with_zones(3), &zones());
    desired::keep_subnet_blocks(&mut wanted, &with_zones(3).network, &observed);
    assert_eq!(cidr_of(&wanted, "private-subnet-1"), "10.0.2.0/24");
    assert_eq!(cidr_of(&wanted, "public-subnet-3"), "10.0.4.0/24");
    assert_eq!(cidr_of(&wanted, "private-subnet-3"), "10.0.5.0/24");
    let plan = compute("s", &wanted, &observed).unwrap();
    assert!(!plan.is_destructive(), "{plan:#?}");
    let created: Vec<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action() == Action::Create)
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(created, ["public-subnet-3", "private-subnet-3"]);
}

#[test]
fn removing_a_zone_deletes_its_subnets_last_and_keeps_the_others() {
    let observed = matching(&with_zones(3));
    let mut wanted = desired(&with_zones(2), &zones());
    desired::keep_subnet_blocks(&mut wanted, &with_zones(2).network, &observed);
    assert_eq!(cidr_of(&wanted, "private-subnet-1"), "10.0.3.0/24");
    let plan = compute("s", &wanted, &observed).unwrap();
    let removed: Vec<(&str, Action, Option<Removal>)> = plan
        .changes
        .iter()
        .filter(|c| c.action() != Action::Unchanged && c.action() != Action::Update)
        .map(|c| (c.id.as_str(), c.action(), c.removal()))
        .collect();
    let last = Some(Removal::Last);
    assert_eq!(
        removed,
        [
            ("public-subnet-3", Action::Delete, last),
            ("private-subnet-3", Action::Delete, last)
        ]
    );
}

#[test]
fn a_file_that_lists_its_subnets_gets_exactly_those() {
    let observed = matching(&with_zones(2));
    let mut spec = with_zones(2);
    spec.network.carved_prefix = None;
    spec.network.private_subnets = blocks(&["10.0.8.0/24", "10.0.9.0/24"]);
    let mut wanted = desired(&spec, &zones());
    desired::keep_subnet_blocks(&mut wanted, &spec.network, &observed);
    assert_eq!(cidr_of(&wanted, "private-subnet-1"), "10.0.8.0/24");
    let plan = compute("s", &wanted, &observed).unwrap();
    let private = plan.get("private-subnet-1").unwrap();
    assert_eq!(
        (private.action(), private.removal()),
        (Action::Replace, Some(Removal::First))
    );
}
