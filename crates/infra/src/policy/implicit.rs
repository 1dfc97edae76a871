//! What AWS checks beyond the operations stackctl calls: tags written with what EC2 makes, the
//! roles ECS is handed, the service-linked roles ECS, ELB and Application Auto Scaling make on
//! first use, the alarms of target-tracking policies, the tagging API that reads alarms' and
//! queues' tags, the Route 53 zone behind a Cloud Map namespace, and a certificate's
//! validation records. None of these shows in `-v`'s list of calls; each is in AWS's documentation of
//! the call that needs it.

use serde_json::json;

use super::needs::{self, Service};
use super::scope::{self, Place, Scope, Use};
use crate::resources::Kind;

/// The grants `kinds`, used for `use_`, need beyond their own calls.
pub fn of(kinds: &[Kind], use_: Use, at: &Place) -> Vec<(Scope, Vec<String>)> {
    let has = |kind: Kind| kinds.contains(&kind);
    let mut out = Vec::new();
    match use_ {
        // Alarms', queues' and certificates' tags come in bulk from the tagging API (which
        // names no resources in IAM).
        Use::Read if has(Kind::Alarm) || has(Kind::Queue) || has(Kind::Certificate) => {
            out.push((Scope::any("Read"), vec!["tag:GetResources".into()]));
        }
        Use::Read => {}
        Use::Delete => {
            // A certificate's validation records go with it.
            if has(Kind::Certificate) {
                out.extend(dns(&["ListHostedZonesByName", "ListResourceRecordSets"]));
                out.extend(dns(&["ChangeResourceRecordSets", "GetChange"]));
            }
            if has(Kind::ScalingPolicy) {
                out.push((scaling_alarms(at), names("cloudwatch", &["DeleteAlarms"])));
            }
            if has(Kind::Namespace) {
                let actions = ["GetHostedZone", "DeleteHostedZone"];
                out.push((Scope::any("CloudMapDns"), names("route53", &actions)));
            }
        }
        Use::Write => {
            // A certificate's validation records are written as it is validated.
            if has(Kind::Certificate) {
                out.extend(dns(&[
                    "ListHostedZonesByName",
                    "ChangeResourceRecordSets",
                    "GetChange",
                ]));
            }
            out.extend(tags_on_create(kinds, at));
            out.extend(roles(kinds, at));
            if has(Kind::ScalingPolicy) {
                let actions = ["PutMetricAlarm", "DescribeAlarms", "DeleteAlarms"];
                out.push((scaling_alarms(at), names("cloudwatch", &actions)));
            }
            if has(Kind::Namespace) {
                let actions = [
                    "CreateHostedZone",
                    "GetHostedZone",
                    "ListHostedZonesByName",
                    "ChangeResourceRecordSets",
                ];
                out.push((Scope::any("CloudMapDns"), names("route53", &actions)));
            }
        }
    }
    out
}

/// Route 53 `actions`, each in its scope.
fn dns(actions: &[&str]) -> Vec<(Scope, Vec<String>)> {
    actions
        .iter()
        .map(|a| (scope::route53(a), names("route53", &[a])))
        .collect()
}

/// The alarms Application Auto Scaling makes for a target-tracking policy of the stack's
/// cluster (named as the stack).
fn scaling_alarms(at: &Place) -> Scope {
    Scope {
        sid: "ScalingAlarms",
        resources: vec![at.arn(
            "cloudwatch",
            &format!("alarm:TargetTracking-service/{}/*", at.stack),
        )],
        condition: None,
    }
}

/// EC2 checks `ec2:CreateTags` on what a create tags as it makes it.
fn tags_on_create(kinds: &[Kind], at: &Place) -> Option<(Scope, Vec<String>)> {
    let creates = ec2_creates(kinds);
    if creates.is_empty() {
        return None;
    }
    let condition = json!({"StringEquals": {
        "ec2:CreateAction": creates,
        format!("aws:RequestTag/{}", crate::tags::STACK_TAG): at.stack,
    }});
    Some((
        Scope::any("Ec2TagOnCreate").with(condition),
        vec!["ec2:CreateTags".into()],
    ))
}

/// The stack's roles handed to ECS tasks, and the service-linked roles AWS makes on first use.
fn roles(kinds: &[Kind], at: &Place) -> Vec<(Scope, Vec<String>)> {
    let has = |kind: Kind| kinds.contains(&kind);
    let mut out = Vec::new();
    if has(Kind::TaskDefinition) {
        let condition = json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}});
        out.push((
            Scope {
                sid: "PassRoles",
                resources: vec![at.roles()],
                condition: Some(condition),
            },
            vec!["iam:PassRole".into()],
        ));
    }
    let linked: Vec<&str> = [
        (Kind::Cluster, "ecs.amazonaws.com"),
        (Kind::LoadBalancer, "elasticloadbalancing.amazonaws.com"),
        (
            Kind::ScalableTarget,
            "ecs.application-autoscaling.amazonaws.com",
        ),
    ]
    .into_iter()
    .filter(|(kind, _)| has(*kind))
    .map(|(_, service)| service)
    .collect();
    if !linked.is_empty() {
        out.push((
            Scope {
                sid: "ServiceLinkedRoles",
                resources: vec![at.global("iam", "role/aws-service-role/*")],
                condition: Some(json!({"StringEquals": {"iam:AWSServiceName": linked}})),
            },
            vec!["iam:CreateServiceLinkedRole".into()],
        ));
    }
    out
}

/// The EC2 actions among `kinds`' writes that make a resource (and tag it as they do).
fn ec2_creates(kinds: &[Kind]) -> Vec<&'static str> {
    let mut creates: Vec<&str> = kinds
        .iter()
        .map(|k| needs::of(*k))
        .filter(|n| n.service == Service::Ec2)
        .flat_map(|n| n.write.iter().copied())
        .filter(|a| scope::creates(a))
        .collect();
    creates.sort_unstable();
    creates.dedup();
    creates
}

fn names(prefix: &str, actions: &[&str]) -> Vec<String> {
    actions.iter().map(|a| format!("{prefix}:{a}")).collect()
}
