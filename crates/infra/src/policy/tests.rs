use std::path::{Path, PathBuf};

use super::*;

fn spec(body: &str) -> StackSpec {
    StackSpec::parse(
        Path::new("stack.toml"),
        &format!("[stack]\nname = \"demo\"\nregion = \"eu-west-1\"\n{body}"),
    )
    .unwrap()
}

const SEVERAL: &str = r#"
[queues.jobs]
[services.api]
kind = "web"
port = 5000
sends_to = ["jobs"]
[services.api.autoscaling]
max = 3
cpu = 60
[services.worker]
kind = "worker"
consumes = ["jobs"]
image = "nginx"
[services.inner]
kind = "internal"
port = 8080
image = "nginx"
[alarms]
notify = "ops@example.com"
"#;

/// IAM's wildcard match: `*` any run of characters, `?` one.
fn matches(pattern: &str, value: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.len() == value.len() && glob_chars(pattern, value),
        Some((head, tail)) => {
            value.len() >= head.len()
                && glob_chars(head, &value[..head.len()])
                && (head.len()..=value.len()).any(|at| matches(tail, &value[at..]))
        }
    }
}

fn glob_chars(pattern: &str, value: &str) -> bool {
    pattern
        .chars()
        .zip(value.chars())
        .all(|(p, v)| p == '?' || p == v)
}

/// The statements that allow `action` on `arn` (conditions aside).
fn allowing<'a>(doc: &'a Document, action: &str, arn: &str) -> Vec<&'a Statement> {
    doc.statements
        .iter()
        .filter(|s| s.actions.iter().any(|a| a == action))
        .filter(|s| s.resources.iter().any(|r| matches(r, arn)))
        .collect()
}

#[test]
fn no_action_is_a_wildcard() {
    let doc = document(&spec(SEVERAL), Command::ALL);
    for action in doc.actions() {
        assert!(!action.contains('*'), "{action}");
        assert!(action.contains(':'), "{action}");
    }
}

#[test]
fn what_changes_a_resource_is_narrowed_to_the_stack() {
    // On `*` without a condition only reads, and the few actions AWS authorises on `*` only.
    let on_any = [
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecr:GetAuthorizationToken",
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "route53:CreateHostedZone",
        "route53:GetHostedZone",
        "route53:ListHostedZonesByName",
        "route53:ChangeResourceRecordSets",
        "route53:DeleteHostedZone",
        "servicediscovery:GetOperation",
    ];
    let doc = document(&spec(SEVERAL), Command::ALL);
    for s in &doc.statements {
        if s.resources != ["*"] || s.condition.is_some() {
            continue;
        }
        for action in &s.actions {
            let op = action.split(':').nth(1).unwrap();
            let reads = ["Describe", "List", "Get"]
                .iter()
                .any(|p| op.starts_with(p));
            assert!(
                reads || on_any.contains(&action.as_str()),
                "{action} may act on any resource ({})",
                s.sid
            );
        }
    }
}

#[test]
fn statements_have_one_sid_each() {
    let doc = document(&spec(SEVERAL), Command::ALL);
    let mut sids: Vec<&str> = doc.statements.iter().map(|s| s.sid).collect();
    let count = sids.len();
    sids.sort_unstable();
    sids.dedup();
    assert_eq!(sids.len(), count, "{sids:?}");
}

#[test]
fn plan_and_status_only_read() {
    for command in [Command::Plan, Command::Status] {
        let doc = document(&spec(SEVERAL), &[command]);
        for action in doc.actions() {
            let op = action.split(':').nth(1).unwrap();
            assert!(
                ["Describe", "List", "Get"]
                    .iter()
                    .any(|p| op.starts_with(p)),
                "{command:?} needs {action}"
            );
        }
        // Alarms' tags are read in bulk through the tagging API.
        assert_eq!(allowing(&doc, "tag:GetResources", "*").len(), 1);
    }
}

#[test]
fn down_deletes_every_kind_and_makes_nothing() {
    let doc = document(&spec(""), &[Command::Down]);
    let actions = doc.actions();
    // A default stack declares no alarms' topic nor autoscaling: an earlier file may have.
    for needed in [
        "ec2:DeleteVpc",
        "sns:DeleteTopic",
        "application-autoscaling:DeregisterScalableTarget",
        "logs:DeleteLogGroup",
        "dynamodb:PutItem",
    ] {
        assert!(actions.contains(needed), "{needed}");
    }
    for made in ["ec2:CreateVpc", "sqs:CreateQueue", "iam:PassRole"] {
        assert!(!actions.contains(made), "{made}");
    }
}

#[test]
fn up_writes_only_the_kinds_the_file_declares() {
    let bare = document(&spec("[alarms]\nenabled = false\n"), &[Command::Up]);
    let actions = bare.actions();
    assert!(!actions.contains("cloudwatch:PutMetricAlarm"));
    assert!(!actions.contains("application-autoscaling:RegisterScalableTarget"));
    // What an earlier file made may go.
    assert!(actions.contains("cloudwatch:DeleteAlarms"));
    let several = document(&spec(SEVERAL), &[Command::Up]);
    let actions = several.actions();
    for needed in [
        "cloudwatch:PutMetricAlarm",
        "sns:Subscribe",
        "application-autoscaling:RegisterScalableTarget",
        "servicediscovery:CreatePrivateDnsNamespace",
        "iam:PassRole",
        "ecr:PutImage",
    ] {
        assert!(actions.contains(needed), "{needed}");
    }
}

#[test]
fn the_stack_s_resources_are_in_scope_and_another_stack_s_are_not() {
    let doc = document(&spec(SEVERAL), Command::ALL);
    let ours = [
        (
            "sqs:DeleteQueue",
            "arn:aws:sqs:eu-west-1:123456789012:demo-jobs-dlq",
        ),
        (
            "iam:DeleteRole",
            "arn:aws:iam::123456789012:role/demo-api-exec",
        ),
        (
            "iam:PassRole",
            "arn:aws:iam::123456789012:role/demo-api-task",
        ),
        (
            "ecs:DeleteService",
            "arn:aws:ecs:eu-west-1:123456789012:service/demo/demo-api",
        ),
        (
            "ecs:TagResource",
            "arn:aws:ecs:eu-west-1:1:task-definition/demo-worker:3",
        ),
        (
            "logs:DeleteLogGroup",
            "arn:aws:logs:eu-west-1:1:log-group:/stackctl/demo",
        ),
        (
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:1:log-group:/stackctl-history/demo:log-stream:x",
        ),
        (
            "elasticloadbalancing:DeleteTargetGroup",
            "arn:aws:elasticloadbalancing:eu-west-1:1:targetgroup/demo-api/0123abcd",
        ),
        (
            "elasticloadbalancing:DeleteRule",
            "arn:aws:elasticloadbalancing:eu-west-1:1:listener-rule/app/demo-alb/1/2/3",
        ),
        (
            "cloudwatch:DeleteAlarms",
            "arn:aws:cloudwatch:eu-west-1:1:alarm:demo-api-unhealthy",
        ),
        (
            "cloudwatch:DeleteDashboards",
            "arn:aws:cloudwatch::1:dashboard/demo",
        ),
        ("sns:DeleteTopic", "arn:aws:sns:eu-west-1:1:demo-alarms"),
        (
            "ecr:DeleteRepository",
            "arn:aws:ecr:eu-west-1:1:repository/demo",
        ),
        (
            "dynamodb:UpdateItem",
            "arn:aws:dynamodb:eu-west-1:1:table/stackctl-locks",
        ),
    ];
    for (action, arn) in ours {
        assert!(!allowing(&doc, action, arn).is_empty(), "{action} on {arn}");
    }
    let theirs = [
        ("sqs:DeleteQueue", "arn:aws:sqs:eu-west-1:1:other-jobs"),
        ("sqs:DeleteQueue", "arn:aws:sqs:us-east-1:1:demo-jobs"),
        ("iam:DeleteRole", "arn:aws:iam::1:role/admin"),
        (
            "iam:PassRole",
            "arn:aws:iam::1:role/OrganizationAccountAccessRole",
        ),
        (
            "ecs:DeleteService",
            "arn:aws:ecs:eu-west-1:1:service/prod/web",
        ),
        (
            "logs:DeleteLogGroup",
            "arn:aws:logs:eu-west-1:1:log-group:/aws/lambda/x",
        ),
        (
            "cloudwatch:DeleteDashboards",
            "arn:aws:cloudwatch::1:dashboard/prod",
        ),
        (
            "dynamodb:DeleteItem",
            "arn:aws:dynamodb:eu-west-1:1:table/orders",
        ),
    ];
    for (action, arn) in theirs {
        assert!(allowing(&doc, action, arn).is_empty(), "{action} on {arn}");
    }
}

#[test]
fn ec2_changes_only_what_is_tagged_for_the_stack() {
    let doc = document(&spec(""), &[Command::Up]);
    for s in doc
        .statements
        .iter()
        .filter(|s| s.actions.iter().any(|a| a.starts_with("ec2:")))
    {
        if s.sid == "Read" {
            continue;
        }
        let condition = s
            .condition
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(
            condition.contains("stackctl:stack") && condition.contains("\"demo\""),
            "{}",
            s.sid
        );
    }
}

/// The operation names (`"CreateVpc"`) a source file gives its errors, outside its tests.
fn operations_named_in(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let verbs = [
        "Create",
        "Delete",
        "Describe",
        "List",
        "Get",
        "Put",
        "Modify",
        "Update",
        "Register",
        "Deregister",
        "Attach",
        "Detach",
        "Associate",
        "Disassociate",
        "Authorize",
        "Revoke",
        "Replace",
        "Set",
        "Tag",
        "Allocate",
        "Release",
        "Subscribe",
        "Add",
    ];
    let mut found = Vec::new();
    for quoted in code.split('"').skip(1).step_by(2) {
        let op_like = quoted.chars().all(|c| c.is_ascii_alphanumeric())
            && verbs.iter().any(|v| {
                quoted
                    .strip_prefix(v)
                    .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
            });
        if op_like {
            found.push(quoted.to_owned());
        }
    }
    found
}

fn sources(rel: &str) -> Vec<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(rel);
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .flat_map(|p| {
                if p.is_dir() {
                    sources(p.to_str().unwrap())
                } else {
                    vec![p]
                }
            })
            .filter(|p| !p.ends_with("tests.rs") && !p.to_string_lossy().ends_with("_tests.rs"))
            .collect();
        files.sort();
        files
    } else {
        vec![path.with_extension("rs")]
    }
}

#[test]
fn every_operation_a_kind_calls_is_in_its_needs() {
    for &kind in Kind::ALL {
        let name = serde_json::to_value(kind).unwrap();
        let name = name.as_str().unwrap();
        let needs = needs::of(kind);
        let all: Vec<&str> = [needs.read, needs.write, needs.delete].concat();
        for file in sources(&format!("resources/{name}")) {
            for op in operations_named_in(&file) {
                assert!(
                    all.contains(&op.as_str()),
                    "{kind:?} calls {op} ({})",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn every_operation_a_shared_helper_calls_is_needed_by_a_kind_of_its_service() {
    let helpers = [
        ("aws/ec2.rs", Service::Ec2),
        ("aws/ecs.rs", Service::Ecs),
        ("aws/elb.rs", Service::Elb),
        ("aws/cloudmap.rs", Service::CloudMap),
    ];
    for (file, service) in helpers {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(file);
        for op in operations_named_in(&path) {
            // EC2's tags are granted apart, with the stack's tag as condition.
            if op == "CreateTags" {
                continue;
            }
            let needed = Kind::ALL.iter().map(|k| needs::of(*k)).any(|n| {
                n.service == service && [n.read, n.write, n.delete].concat().contains(&op.as_str())
            });
            assert!(
                needed,
                "{file} calls {op}, which no kind of its service needs"
            );
        }
    }
}

#[test]
fn every_kind_has_its_line_in_the_table() {
    for &kind in Kind::ALL {
        assert_eq!(
            needs::TABLE.iter().filter(|(k, _)| *k == kind).count(),
            1,
            "{kind:?}"
        );
    }
}

#[test]
fn the_scan_finds_operations() {
    // The two tests above would pass on any file if the scan found nothing.
    let ops = operations_named_in(&sources("resources/vpc")[0]);
    assert!(ops.contains(&"CreateVpc".to_owned()), "{ops:?}");
}

#[test]
fn a_domain_s_certificate_is_requested_tagged_and_deleted_only_if_the_stack_s() {
    let plain = document(&spec("[service]\nimage = \"nginx\"\n"), &[Command::Up]);
    assert!(!plain.actions().contains("acm:RequestCertificate"));
    assert!(
        plain.actions().contains("acm:DeleteCertificate"),
        "an earlier file's certificate may go"
    );
    let doc = document(
        &spec("[service]\nimage = \"nginx\"\ndomain = \"api.example.com\"\n"),
        &[Command::Up],
    );
    let cert = "arn:aws:acm:eu-west-1:1:certificate/abc";
    let request = allowing(&doc, "acm:RequestCertificate", cert);
    assert_eq!(request.len(), 1);
    assert!(
        request[0]
            .condition
            .as_ref()
            .unwrap()
            .to_string()
            .contains("aws:RequestTag/stackctl:stack"),
        "requested only tagged for the stack"
    );
    let delete = allowing(&doc, "acm:DeleteCertificate", cert);
    assert!(
        delete[0]
            .condition
            .as_ref()
            .unwrap()
            .to_string()
            .contains("aws:ResourceTag/stackctl:stack"),
        "deleted only when the stack's"
    );
    for needed in [
        "route53:ListHostedZonesByName",
        "route53:ListResourceRecordSets",
        "route53:ChangeResourceRecordSets",
        "route53:GetChange",
        "tag:GetResources",
    ] {
        assert!(doc.actions().contains(needed), "{needed}");
    }
    let zone = allowing(
        &doc,
        "route53:ChangeResourceRecordSets",
        "arn:aws:route53:::hostedzone/Z1",
    );
    assert!(!zone.is_empty());
}
