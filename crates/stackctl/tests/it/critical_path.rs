//! `up` and `down` at the critical path, against a scaled model of AWS's timings (awsfront):
//! what must overlap does, and `up` still waits for everything to work. Order, not time.

use std::time::Duration;

use nix::sys::signal::Signal::{self, SIGINT, SIGTERM};

use crate::helpers::{TestStack, front, stderr};

/// When the model's timeline first has an event starting with `prefix`.
fn at(timeline: &[(Duration, String)], prefix: &str) -> Duration {
    timeline
        .iter()
        .find(|(_, e)| e.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {timeline:#?}"))
        .0
}

/// A stack with a service behind a front that plays AWS's timings at `scale`, polling every
/// `poll` seconds.
async fn behind_front(label: &str, scale: f64, poll: &str) -> (awsfront::Front, TestStack) {
    let front = front(Some(scale), None).await;
    let mut stack = TestStack::new(
        label,
        "[service]\nimage = \"registry.example/messages:1\"\n",
    )
    .await;
    stack.endpoint = Some(front.endpoint());
    stack
        .env
        .push(("STACKCTL_POLL_SECONDS".into(), poll.into()));
    stack
        .env
        .push(("STACKCTL_RATE_SCALE".into(), scale.to_string()));
    (front, stack)
}

/// Runs `args`, sends `signal` once the front has answered `operation`, and waits for the
/// run to end: its output, and when (on the front's clock) the signal went.
async fn signal_after(
    stack: &TestStack,
    front: &awsfront::Front,
    args: &[&str],
    operation: &str,
    signal: Signal,
) -> (std::process::Output, Duration) {
    let run = stack
        .command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !front.entries().iter().any(|e| e.operation == operation) {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no {operation}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = front.now();
    let pid = nix::unistd::Pid::from_raw(i32::try_from(run.id()).unwrap());
    nix::sys::signal::kill(pid, signal).unwrap();
    let output = tokio::task::spawn_blocking(move || run.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    (output, signalled)
}

// The front serves on this test's runtime while stackctl runs as a child process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_starts_while_the_load_balancer_provisions_and_down_overlaps_the_drain() {
    let (front, stack) = behind_front("crit", 0.02, "0.05").await;

    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let returned = front.now();
    let timeline = front.timeline();
    let active = at(&timeline, "load balancer active");
    assert!(
        at(&timeline, "CreateService") < active,
        "the service was created before the load balancer was active: {timeline:#?}"
    );
    assert!(
        at(&timeline, "CreateListener") < active,
        "the listener too: {timeline:#?}"
    );
    let ready = at(&timeline, "service ready");
    assert!(
        returned >= ready,
        "up returned at {returned:?}, before the rollout completed at {ready:?}"
    );

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    let timeline = front.timeline();
    assert!(
        at(&timeline, "DeleteLoadBalancer") < at(&timeline, "service drained"),
        "the load balancer went while the service drained: {timeline:#?}"
    );
}

/// The first SIGTERM while `up` waits for the load balancer and the rollout stops the wait at
/// once: `up` exits 143 long before the wait would have ended, and the next `up` finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_wait_stops_it_at_once_and_exits_143() {
    let (front, stack) = behind_front("term", 0.1, "0.2").await;
    // Once the service exists, up only waits (the load balancer provisions for ~18 s here).
    let (output, signalled) =
        signal_after(&stack, &front, &["up", "--yes"], "CreateService", SIGTERM).await;
    let exited = front.now();
    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("run `stackctl up` again to finish"),
        "{}",
        stderr(&output)
    );
    let timeline = front.timeline();
    assert!(
        timeline
            .iter()
            .all(|(_, e)| !e.starts_with("load balancer active"))
            || at(&timeline, "load balancer active") > exited,
        "up waited for the load balancer: signalled at {signalled:?}, exited at {exited:?}"
    );

    let again = stack.run(&["up", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
}

/// Ctrl-C while `down` waits for the service to drain: `down` exits 130 at once, names what it
/// stopped waiting for (not "finished"), and the next `down` finishes with nothing left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_down_waits_exits_130_naming_what_it_left_and_the_next_down_finishes() {
    let (front, mut stack) = behind_front("downint", 0.05, "0.2").await;
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    // The service drains for 3 s here: down waits for it.
    let (output, _) =
        signal_after(&stack, &front, &["down", "--yes"], "DeleteService", SIGINT).await;
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted: stopped waiting for ") && err.contains("service"),
        "{err}"
    );
    assert!(!err.contains("under way were finished"), "{err}");
    assert!(
        err.contains("stopped service: interrupted while it waited; AWS goes on"),
        "{err}"
    );
    assert!(err.contains("down --yes` again to finish"), "{err}");

    stack.endpoint = None;
    let again = stack.run(&["down", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(
        crate::stack::inventory(&stack).await,
        Vec::<String>::new(),
        "nothing tagged after the second down"
    );
}
