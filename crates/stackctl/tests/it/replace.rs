//! Edits that replace resources, applied to a running stack: the port (a new target group is
//! made next to the old one, the listener and the service move to it, the old one goes last),
//! the zone count (subnets that stay keep their blocks) and the VPC's block (the network, the
//! load balancer and the service are replaced, deleting first). Each converges: the next
//! `plan` is empty and every resource exists once.

use crate::crash::kill_after;
use crate::helpers::{TestStack, front, stderr, stdout};
use crate::stack::inventory;

const IMAGE: &str = "registry.example/messages:1";

fn body(network: &str, port: u16) -> String {
    format!("{network}[service]\nimage = \"{IMAGE}\"\nport = {port}\n")
}

/// `(id, action, delete)` of every change that is not "unchanged".
fn changes(plan: &serde_json::Value) -> Vec<(String, String, String)> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .map(|c| {
            let s = |k: &str| c[k].as_str().unwrap_or("").to_owned();
            (s("id"), s("action"), s("delete"))
        })
        .collect()
}

fn change_of<'a>(all: &'a [(String, String, String)], id: &str) -> (&'a str, &'a str) {
    all.iter()
        .find(|c| c.0 == id)
        .map(|c| (c.1.as_str(), c.2.as_str()))
        .unwrap_or(("unchanged", ""))
}

/// `up`, then the plan is empty and every logical id exists once.
async fn converges(stack: &TestStack) -> Vec<String> {
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}\nafter up:\n{}",
        stdout(&plan),
        stderr(&up)
    );
    let mut found = inventory(stack).await;
    // The revision before the one deployed stays registered, for a rollback.
    let revisions = found.iter().filter(|r| *r == "ecs/task-definition").count();
    assert!(revisions <= 2, "{found:?}");
    found.dedup_by(|a, b| a == b && a == "ecs/task-definition");
    let mut unique = found.clone();
    unique.dedup();
    assert_eq!(found, unique, "every resource once");
    found
}

/// The target group the listener forwards to, the one the service registers in, and its port.
async fn serving_target_group(stack: &TestStack) -> (String, String, i32) {
    let aws = &stack.aws;
    let lb = crate::stack::load_balancer(stack).await;
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let forward = listeners.listeners()[0].default_actions()[0]
        .target_group_arn()
        .unwrap()
        .to_owned();
    let service = crate::stack::ecs_service(stack).await;
    let registration = &service.load_balancers()[0];
    let tgs = aws
        .elb
        .describe_target_groups()
        .target_group_arns(&forward)
        .send()
        .await
        .unwrap();
    let port = tgs.target_groups()[0].port().unwrap();
    assert_eq!(registration.container_port(), Some(port));
    let registered = registration.target_group_arn().unwrap().to_owned();
    (forward, registered, port)
}

#[tokio::test]
async fn port_zone_count_and_cidr_change_on_a_running_stack_and_converge() {
    let stack = TestStack::new("replace", &body("", 5000)).await;
    let first = converges(&stack).await;
    assert_eq!(first.len(), 22, "{first:?}");
    let (old_tg, _, _) = serving_target_group(&stack).await;

    // The port: the target group is made anew first and the old one deleted last.
    stack.write(&body("", 9090));
    let plan = changes(&stack.json(&["plan"]));
    assert_eq!(change_of(&plan, "target-group"), ("replace", "last"));
    assert_eq!(change_of(&plan, "http-listener").0, "update");
    assert_eq!(change_of(&plan, "service").0, "update");
    assert!(
        plan.iter().all(|c| c.2 != "first"),
        "nothing is deleted first: {plan:?}"
    );
    let text = stdout(&stack.run(&["plan"]));
    assert!(text.contains("+/- target-group"), "{text}");
    assert_eq!(converges(&stack).await, first);
    let (forward, registered, port) = serving_target_group(&stack).await;
    assert_eq!((forward.as_str(), port), (registered.as_str(), 9090));
    assert_ne!(forward, old_tg, "a new target group serves");

    // A third zone: two subnets more, nothing replaced.
    let three = "[network]\navailability_zones = 3\n";
    stack.write(&body(three, 9090));
    let plan = changes(&stack.json(&["plan"]));
    assert!(
        plan.iter().all(|c| c.1 == "create" || c.1 == "update"),
        "{plan:?}"
    );
    assert_eq!(change_of(&plan, "public-subnet-3").0, "create");
    assert_eq!(change_of(&plan, "load-balancer").0, "update");
    assert_eq!(converges(&stack).await.len(), 24);

    // Back to two: the third zone's subnets go last, once nothing is in them.
    stack.write(&body("", 9090));
    let plan = changes(&stack.json(&["plan"]));
    assert_eq!(change_of(&plan, "private-subnet-3"), ("delete", "last"));
    assert!(plan.iter().all(|c| c.1 != "replace"), "{plan:?}");
    assert_eq!(converges(&stack).await, first);

    // Another VPC block: the network and what is in it are replaced, deleting first.
    stack.write(&body("[network]\ncidr = \"10.1.0.0/16\"\n", 9090));
    let plan = changes(&stack.json(&["plan"]));
    for id in [
        "vpc",
        "public-subnet-1",
        "load-balancer",
        "service",
        "target-group",
    ] {
        assert_eq!(change_of(&plan, id), ("replace", "first"), "{id}: {plan:?}");
    }
    assert_eq!(change_of(&plan, "queue").0, "unchanged");
    assert_eq!(converges(&stack).await, first);
    let vpcs = crate::stack::vpcs(&stack).await;
    assert_eq!(vpcs[0].cidr_block(), Some("10.1.0.0/16"));

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_change_through_lost_answers_or_killed_midway_converges() {
    let mut stack = TestStack::new("replace-faults", &body("", 5000)).await;
    stack.env.extend([
        ("STACKCTL_POLL_SECONDS".into(), "0.05".into()),
        ("STACKCTL_LOCK_LEASE_SECONDS".into(), "2".into()),
    ]);
    let first = converges(&stack).await;

    // Answers lost after AWS did the work: the new target group is found, not made twice,
    // and the old one is never taken for it.
    let lost = front(None, Some("seed=11,rate=0.3,kinds=lost,calls=mutating")).await;
    stack.write(&body("", 9090));
    stack.endpoint = Some(lost.endpoint());
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    stack.endpoint = None;
    assert_eq!(converges(&stack).await, first);
    assert_eq!(serving_target_group(&stack).await.2, 9090);

    // Killed after the new group is made (1), after the listener moved (the 6th mutating
    // call), and after the service moved too (7th): the next `up` serves from one group.
    let slow = front(None, Some("rate=1,kinds=slow,slow=0.1s,calls=mutating")).await;
    for (port, after) in [(5000, 1), (9090, 6), (5000, 7)] {
        stack.write(&body("", port));
        stack.endpoint = Some(slow.endpoint());
        let killed = kill_after(&stack, &slow, &["up", "--yes"], after).await;
        assert!(
            killed,
            "up to port {port} ended before {after} mutating calls"
        );
        stack.endpoint = None;
        assert_eq!(
            converges(&stack).await,
            first,
            "after a kill at call {after}"
        );
        let (forward, registered, serving) = serving_target_group(&stack).await;
        assert_eq!((forward, serving), (registered, i32::from(port)));
    }

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}
