//! A hostile network between stackctl and AWS (awsfront's seeded faults in front of the
//! emulator): whatever is injected, the run itself copes, the next fault-free `up` has
//! nothing left to repair, no logical id has two resources, and `down` leaves nothing.

use crate::helpers::{TestStack, front, stderr, stdout};
use crate::stack::{full_stack, inventory};

const IMAGE: &str = "registry.example/messages:1";

/// The whole stack with its service: 22 resources, each once.
pub fn with_service(name: &str) -> Vec<String> {
    let mut all = full_stack(name);
    all.extend(
        [
            "ecs/cluster",
            "ecs/service",
            "ecs/task-definition",
            "elb/listener-80",
            "elb/load-balancer",
            "elb/target-group",
        ]
        .map(str::to_owned),
    );
    all.sort();
    all
}

fn assert_no_panic(what: &str, output: &std::process::Output) {
    let err = stderr(output);
    assert!(
        !err.contains("panicked") && output.status.code().is_some_and(|c| c <= 2),
        "{what} crashed: {err}"
    );
}

/// `up` and then `down` through `faults`, each followed by a fault-free check.
async fn survives(label: &str, faults: &str) {
    let front = front(None, Some(faults)).await;
    let mut stack = TestStack::new(label, &format!("[service]\nimage = \"{IMAGE}\"\n")).await;
    stack
        .env
        .push(("STACKCTL_POLL_SECONDS".into(), "0.05".into()));
    let expected = with_service(&stack.name);

    stack.endpoint = Some(front.endpoint());
    let up = stack.run(&["up", "--yes"]);
    assert!(
        up.status.success(),
        "up through {faults}: {}\n{}",
        stderr(&up),
        stdout(&up)
    );
    assert_eq!(
        inventory(&stack).await,
        expected,
        "after up through {faults}"
    );

    stack.endpoint = None;
    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "nothing left to repair after up through {faults}: {}",
        stdout(&plan)
    );
    let again = stack.run(&["up", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(inventory(&stack).await, expected);

    stack.endpoint = Some(front.endpoint());
    let down = stack.run(&["down", "--yes"]);
    assert_no_panic("down", &down);
    stack.endpoint = None;
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(
        inventory(&stack).await,
        Vec::<String>::new(),
        "nothing tagged after down through {faults}"
    );
    let injected = front.entries().iter().filter(|e| e.fault.is_some()).count();
    assert!(injected > 0, "the plan {faults} injected nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_after_the_work_was_done_make_no_second_copy() {
    for seed in [1, 2, 3] {
        survives(
            &format!("lost{seed}"),
            &format!("seed={seed},rate=0.2,kinds=lost,calls=mutating"),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_in_each_protocols_shape_is_waited_out() {
    survives("throttle", "seed=4,rate=0.2,kinds=throttle,calls=all").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    survives("errors", "seed=5,rate=0.2,kinds=500+503,calls=mutating").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_text_503_on_the_first_of_every_create_is_looked_at_and_retried() {
    survives(
        "plain503",
        "rate=1,kinds=503-plain,calls=mutating,each=first",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_reset_before_the_call_are_retried() {
    survives("reset", "seed=6,rate=0.2,kinds=reset,calls=mutating").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_at_once() {
    survives(
        "mixed",
        "seed=7,rate=0.2,kinds=lost+throttle+500+503+reset+slow,calls=all,slow=0.3s",
    )
    .await;
}

// What `down` cannot delete fails it, by name, and the next `down` finishes the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_load_balancer_that_will_not_go_fails_down_by_name() {
    let front = front(None, Some("rate=1,kinds=500,calls=DeleteLoadBalancer")).await;
    let mut stack = TestStack::new("stays", &format!("[service]\nimage = \"{IMAGE}\"\n")).await;
    stack
        .env
        .push(("STACKCTL_POLL_SECONDS".into(), "0.05".into()));
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));

    stack.endpoint = Some(front.endpoint());
    let down = stack.run(&["down", "--yes"]);
    assert_eq!(down.status.code(), Some(1), "{}", stdout(&down));
    assert!(
        stderr(&down).contains("load-balancer"),
        "the error names what stays: {}",
        stderr(&down)
    );
    assert!(
        inventory(&stack)
            .await
            .contains(&"elb/load-balancer".to_owned())
    );
    // The history keeps the failed step and its error, and stays while resources remain.
    let history = stack.json(&["history", "--component", "load-balancer"]);
    let failed: Vec<&serde_json::Value> = history["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["command"] == "down")
        .collect();
    assert_eq!(failed.len(), 1, "{history}");
    assert_eq!(failed[0]["status"], "failed");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("DeleteLoadBalancer"),
        "{history}"
    );
    let runs = stack.json(&["history", "--component", "run"]);
    assert_eq!(runs["runs"][1]["status"], "failed", "{runs}");

    stack.endpoint = None;
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}

// A call that AWS never answers fails within the deadlines, naming the call and the endpoint,
// instead of hanging the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_never_answered_fails_in_time_naming_the_call_and_the_endpoint() {
    let front = front(None, Some("rate=1,kinds=blackhole,calls=DescribeVpcs")).await;
    let mut stack = TestStack::new("blackhole", "").await;
    stack.endpoint = Some(front.endpoint());
    stack
        .env
        .push(("STACKCTL_CALL_TIMEOUT_SECONDS".into(), "0.5".into()));
    let plan = stack.run(&["plan"]);
    assert_eq!(plan.status.code(), Some(1));
    let err = stderr(&plan);
    assert!(err.contains("DescribeVpcs"), "{err}");
    assert!(err.contains(&front.endpoint()), "{err}");
    assert!(err.contains("no answer"), "{err}");
    // Black-holed calls are never answered, so never logged as answered.
    assert!(
        front
            .entries()
            .iter()
            .all(|e| e.operation != "DescribeVpcs"),
        "{:?}",
        front.entries()
    );
    eprintln!("{err}");
}
