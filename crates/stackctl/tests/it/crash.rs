//! `kill -9` of `up` or `down` right after one of its mutating calls, then the same command
//! again: it converges, makes nothing twice, leaves nothing, and the dead run's lock holds it
//! up for one lease at most.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::faults::with_service;
use crate::helpers::{TestStack, front, stderr, stdout};
use crate::lock::converges_and_cleans_up;
use crate::stack::inventory;

const IMAGE: &str = "registry.example/messages:1";

/// Mutating calls to the stack's resources that the front has answered. The lock's own are
/// not counted, nor the deploy history's writes (the stack never writes log events), which
/// run beside the stack's calls and would move the kill before them.
fn mutations(front: &awsfront::Front) -> usize {
    front
        .entries()
        .iter()
        .filter(|e| e.service != "dynamodb" && !infra::CallCounts::is_read(&e.operation))
        .filter(|e| !matches!(e.operation.as_str(), "CreateLogStream" | "PutLogEvents"))
        .count()
}

/// Runs `args` and kills it (SIGKILL) once the front has answered `after` mutating calls;
/// false if it ended before that.
pub async fn kill_after(
    stack: &TestStack,
    front: &awsfront::Front,
    args: &[&str],
    after: usize,
) -> bool {
    let before = mutations(front);
    let mut run = stack
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while mutations(front) < before + after {
        if run.try_wait().unwrap().is_some() {
            return false;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{args:?} hung"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    run.kill().unwrap();
    run.wait().unwrap();
    true
}

/// A stack with a service behind a front that answers each mutating call after 0.1 s, so
/// that a kill lands between two calls.
async fn slowed(label: &str) -> (TestStack, awsfront::Front) {
    let front = front(None, Some("rate=1,kinds=slow,slow=0.1s,calls=mutating")).await;
    let mut stack = TestStack::new(label, &format!("[service]\nimage = \"{IMAGE}\"\n")).await;
    stack.endpoint = Some(front.endpoint());
    stack.env.extend([
        ("STACKCTL_POLL_SECONDS".into(), "0.05".into()),
        ("STACKCTL_LOCK_LEASE_SECONDS".into(), "2".into()),
    ]);
    (stack, front)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_killed_after_any_mutating_call_is_finished_by_the_next_up() {
    for after in [1, 6, 14, 25] {
        let (stack, front) = slowed(&format!("kup{after}")).await;
        assert!(kill_after(&stack, &front, &["up", "--yes"], after).await);
        let next = stack.run(&["up", "--yes", "--lock-timeout", "60s"]);
        assert!(
            next.status.success(),
            "after a kill at call {after}: {}\n{}",
            stderr(&next),
            stdout(&next)
        );
        assert_eq!(inventory(&stack).await, with_service(&stack.name));
        converges_and_cleans_up(&stack, &with_service(&stack.name)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_killed_after_any_mutating_call_is_finished_by_the_next_down() {
    for after in [1, 5, 12] {
        let (stack, front) = slowed(&format!("kdown{after}")).await;
        let up = stack.run(&["up", "--yes"]);
        assert!(up.status.success(), "{}", stderr(&up));
        // Killed after `after` deletions were answered: mid-way, though the first ones may
        // have been alarms or the dashboard, which the inventory does not list.
        assert!(kill_after(&stack, &front, &["down", "--yes"], after).await);
        let left = inventory(&stack).await.len();
        assert!(left > 0 && left <= 22, "killed mid-way: {left} left");
        let next = stack.run(&["down", "--yes", "--lock-timeout", "60s"]);
        assert!(
            next.status.success(),
            "after a kill at call {after}: {}",
            stderr(&next)
        );
        assert_eq!(inventory(&stack).await, Vec::<String>::new());
    }
}
