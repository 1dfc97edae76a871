//! A stack of 25 services (every other one a web service with a path of its own, the rest
//! workers, a queue each) from empty to running to empty on the emulator: every service
//! runs, a second `up` changes nothing and reads in bulk where AWS allows it, and `down`
//! leaves nothing. The timing of the same stacks at AWS's pace is scripts/bench-scale.sh's.

use serde_json::Value;

use crate::helpers::{TestStack, mutating_calls};

const SERVICES: usize = 25;

/// The body of a stack of `n` services, as scripts/bench-scale.sh makes it.
fn stack_of(n: usize) -> String {
    let mut body = String::new();
    for i in 1..=n {
        body.push_str(&format!("\n[queues.q{i}]\n\n[services.s{i}]\n"));
        if i % 2 == 1 {
            body.push_str(&format!("kind = \"web\"\nsends_to = [\"q{i}\"]\n"));
            if i > 1 {
                body.push_str(&format!("paths = [\"/s{i}/*\"]\n"));
            }
        } else {
            body.push_str(&format!(
                "kind = \"worker\"\nconsumes = [\"q{i}\"]\ncommand = [\"worker\"]\n"
            ));
        }
    }
    body
}

/// How many calls of `operation` (`ECS:DescribeServices`) a `--json` answer reports.
fn calls(answer: &Value, operation: &str) -> u64 {
    answer["aws_calls"][operation].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn twenty_five_services_go_up_change_nothing_the_second_time_and_go_down() {
    let stack = TestStack::new("scale", &stack_of(SERVICES)).await;
    let image = ["--image", "public.ecr.aws/stackctl/app:1"];
    stack.json(&[&["up", "--yes"][..], &image].concat());

    let status = stack.json(&["status"]);
    let services = status["services"].as_array().unwrap();
    assert_eq!(services.len(), SERVICES, "{status}");
    assert!(services.iter().all(|s| s["running"] == 1), "{status}");
    let rules = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "listener_rule")
        .count();
    assert_eq!(
        rules,
        SERVICES / 2,
        "a rule for each web service but the first"
    );

    let again = stack.json(&[&["up", "--yes"][..], &image].concat());
    assert_eq!(mutating_calls(&again), Vec::<String>::new());
    // Services are described ten to a call, alarms' tags come a page of them to a call.
    assert!(
        calls(&again, "ECS:DescribeServices") <= SERVICES.div_ceil(10) as u64,
        "{again}"
    );
    assert_eq!(
        calls(&again, "CloudWatch:ListTagsForResource"),
        0,
        "{again}"
    );

    stack.json(&["down", "--yes"]);
    let after = stack.json(&["status"]);
    assert_eq!(
        after["resources"].as_array().map(Vec::len),
        Some(0),
        "{after}"
    );
}
