//! The stack lock: runs that change one stack never interleave, a dead run's lock lapses
//! with its lease, and `unlock` removes a stuck one.

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::helpers::{TestStack, front, stderr, stdout};
use crate::stack::{full_stack, inventory};

/// Takes the stack's lock as another run would (owner "alice"), for `lease`.
async fn held_by_alice(stack: &TestStack, lease: Duration) -> infra::lock::Lock {
    let holder = infra::lock::Holder::me("arn:aws:iam::123456789012:user/alice", "up");
    let options = infra::lock::Options {
        lease,
        timeout: Duration::ZERO,
        lost: Arc::new(AtomicBool::new(false)),
    };
    infra::lock::Lock::acquire(&stack.aws, holder, &options, &|_| {})
        .await
        .unwrap()
}

/// After a run that may have been disturbed: one fault-free `up` converges and leaves every
/// resource once, `plan` then has nothing to do, and `down` leaves nothing tagged.
pub async fn converges_and_cleans_up(stack: &TestStack, expected: &[String]) {
    let up = stack.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    assert_eq!(inventory(stack).await, expected, "every resource once");
    let plan = stack.run(&["plan", "--infra-only", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(inventory(stack).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_locked_stack_refuses_naming_the_holder_and_unlock_frees_it() {
    let stack = TestStack::new("locked", "").await;
    let alice = held_by_alice(&stack, Duration::from_secs(300)).await;

    let refused = stack.run(&["up", "--infra-only", "--yes", "--lock-timeout", "0s"]);
    assert_eq!(refused.status.code(), Some(1));
    let message = stderr(&refused);
    assert!(message.contains("is locked by"), "{message}");
    assert!(message.contains("user/alice"), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(message.contains("stackctl unlock"), "{message}");
    assert_eq!(
        inventory(&stack).await,
        Vec::<String>::new(),
        "nothing made"
    );
    let down = stack.run(&["down", "--yes", "--lock-timeout", "1s"]);
    assert_eq!(down.status.code(), Some(1), "{}", stderr(&down));

    // Reading needs no lock.
    let plan = stack.run(&["plan", "--infra-only"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let status = stack.run(&["status"]);
    assert!(status.status.success(), "{}", stderr(&status));

    let unlock = stack.run(&["unlock", "--yes"]);
    assert!(unlock.status.success(), "{}", stderr(&unlock));
    assert!(
        stdout(&unlock).contains("user/alice"),
        "{}",
        stdout(&unlock)
    );
    drop(alice);
    let again = stack.run(&["unlock", "--yes"]);
    assert!(
        stdout(&again).contains("is not locked"),
        "{}",
        stdout(&again)
    );
    converges_and_cleans_up(&stack, &full_stack(&stack.name)).await;
}

#[tokio::test]
async fn unlock_without_yes_and_without_a_terminal_keeps_the_lock() {
    let stack = TestStack::new("keep", "").await;
    let _alice = held_by_alice(&stack, Duration::from_secs(300)).await;
    let unlock = stack.run(&["unlock"]);
    assert!(!unlock.status.success());
    assert!(
        infra::lock::current(&stack.aws).await.unwrap().is_some(),
        "the lock stays"
    );
    infra::lock::remove(&stack.aws).await.unwrap();
}

#[tokio::test]
async fn a_run_waits_for_the_lock_and_takes_it_once_the_holders_lease_lapses() {
    let stack = TestStack::new("lapse", "").await;
    // A holder that stops renewing (as a killed run does): its lease lapses after 2 s.
    let alice = held_by_alice(&stack, Duration::from_secs(2)).await;
    drop(alice);
    let up = stack.run(&["up", "--infra-only", "--yes", "--lock-timeout", "60s"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(
        stderr(&up).contains("is locked by") && stderr(&up).contains("waiting"),
        "{}",
        stderr(&up)
    );
    assert!(
        infra::lock::current(&stack.aws).await.unwrap().is_none(),
        "released"
    );
    converges_and_cleans_up(&stack, &full_stack(&stack.name)).await;
}

// Two runs at once, through an AWS whose CreateVpc answers slowly so that they overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_ups_at_once_make_one_stack() {
    let front = front(None, Some("rate=1,kinds=slow,slow=3s,calls=CreateVpc")).await;
    let mut stack = TestStack::new("twice", "").await;
    stack.endpoint = Some(front.endpoint());
    stack
        .env
        .push(("STACKCTL_POLL_SECONDS".into(), "0.05".into()));
    let spawn = || {
        stack
            .command(&["up", "--infra-only", "--yes"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    let (first, second) = (
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    );
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(second.status.success(), "{}", stderr(&second));
    let waited = [&first, &second]
        .iter()
        .filter(|o| stderr(o).contains("is locked by"))
        .count();
    assert_eq!(waited, 1, "exactly one run waited for the other");
    assert_eq!(inventory(&stack).await, full_stack(&stack.name));
    converges_and_cleans_up(&stack, &full_stack(&stack.name)).await;
}

// A run killed mid-way leaves its lock; the next waits at most one lease, then finishes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_up_blocks_the_next_for_one_lease_and_the_next_converges() {
    // CreateQueue hangs for a while: the run is killed with a call in flight.
    let front = front(None, Some("rate=1,kinds=slow,slow=5s,calls=CreateQueue")).await;
    let mut stack = TestStack::new("killed", "").await;
    stack.endpoint = Some(front.endpoint());
    stack.env.extend([
        ("STACKCTL_POLL_SECONDS".into(), "0.05".into()),
        ("STACKCTL_LOCK_LEASE_SECONDS".into(), "3".into()),
    ]);
    let mut victim = stack
        .command(&["up", "--infra-only", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill it once it holds the lock and has made something.
    let started = std::time::Instant::now();
    while inventory(&stack).await.len() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "up made nothing"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    let made = inventory(&stack).await.len();
    assert!(
        made < full_stack(&stack.name).len(),
        "killed mid-way: {made}"
    );
    assert!(infra::lock::current(&stack.aws).await.unwrap().is_some());

    let next = stack.run(&["up", "--infra-only", "--yes", "--lock-timeout", "60s"]);
    assert!(next.status.success(), "{}", stderr(&next));
    assert!(stderr(&next).contains("is locked by"), "{}", stderr(&next));
    converges_and_cleans_up(&stack, &full_stack(&stack.name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_while_waiting_for_the_lock_stops_the_wait_and_exits_143() {
    let stack = TestStack::new("waitterm", "").await;
    let _alice = held_by_alice(&stack, Duration::from_secs(300)).await;
    let waiting = stack
        .command(&["up", "--infra-only", "--yes", "--lock-timeout", "10m"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Give it time to find the lock taken and start waiting.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pid = nix::unistd::Pid::from_raw(i32::try_from(waiting.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let output = tokio::task::spawn_blocking(move || waiting.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("is locked by"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
    infra::lock::remove(&stack.aws).await.unwrap();
}
