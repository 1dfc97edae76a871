//! The soak run (`scripts/soak.sh`, not part of the suite): many seeded `up`/`down` cycles of
//! a whole stack through a hostile network, some killed with SIGKILL at a random call, each
//! checked against the emulator directly. It prints one line per cycle and the tally:
//! converged, duplicates, leaked, panics.
//!
//! A cycle: `up` through the faults (killed first, in some cycles, and then run again); then,
//! fault-free, one `up` and `plan --detailed-exitcode`: converged when the plan is empty and
//! every resource exists once. Then `down` through the faults (killed first, in some cycles);
//! a `down` that says it succeeded while something remains is a silent leak. Then one
//! fault-free `down`: anything still tagged is leaked.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Output;

use crate::crash::kill_after;
use crate::faults::with_service;
use crate::helpers::{TestStack, front, stderr};
use crate::stack::inventory;

fn setting<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Default)]
struct Tally {
    cycles: usize,
    faulted_up_ok: usize,
    converged: usize,
    duplicates: usize,
    silent_leaks: usize,
    leaked: usize,
    panics: usize,
    kills: usize,
    faults: BTreeMap<String, usize>,
}

impl Tally {
    fn crashed(&mut self, output: &Output) -> bool {
        let panicked = stderr(output).contains("panicked") || output.status.code() == Some(101);
        self.panics += usize::from(panicked);
        panicked
    }
}

/// Logical ids found more than once.
fn doubled(found: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    found
        .iter()
        .filter(|r| !seen.insert(r.as_str()))
        .cloned()
        .collect()
}

struct Cycle {
    number: usize,
    kill_up: Option<usize>,
    kill_down: Option<usize>,
    faults: String,
}

async fn cycle(c: &Cycle, tally: &mut Tally) -> String {
    let front = front(None, Some(&c.faults)).await;
    let mut stack = TestStack::new(
        &format!("soak{}", c.number),
        "[service]\nimage = \"registry.example/messages:1\"\n",
    )
    .await;
    stack.env.extend([
        ("STACKCTL_POLL_SECONDS".into(), "0.05".into()),
        ("STACKCTL_LOCK_LEASE_SECONDS".into(), "2".into()),
    ]);
    let expected = with_service(&stack.name);
    let mut notes = Vec::new();

    stack.endpoint = Some(front.endpoint());
    if let Some(after) = c.kill_up {
        let killed = kill_after(&stack, &front, &["up", "--yes"], after).await;
        tally.kills += usize::from(killed);
        notes.push(format!("up killed after call {after}: {killed}"));
    }
    let up = stack.run(&["up", "--yes", "--lock-timeout", "120s"]);
    tally.crashed(&up);
    tally.faulted_up_ok += usize::from(up.status.success());
    if !up.status.success() {
        notes.push(format!(
            "faulted up failed: {}",
            stderr(&up).lines().next().unwrap_or("")
        ));
    }

    stack.endpoint = None;
    let again = stack.run(&["up", "--yes"]);
    tally.crashed(&again);
    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    let found = inventory(&stack).await;
    let doubles = doubled(&found);
    tally.duplicates += doubles.len();
    let converged = again.status.success() && plan.status.code() == Some(0) && found == expected;
    tally.converged += usize::from(converged);
    if !converged {
        notes.push(format!("NOT CONVERGED: {}", stderr(&again)));
    }
    if !doubles.is_empty() {
        notes.push(format!("DUPLICATES: {doubles:?}"));
    }

    stack.endpoint = Some(front.endpoint());
    if let Some(after) = c.kill_down {
        let killed = kill_after(&stack, &front, &["down", "--yes"], after).await;
        tally.kills += usize::from(killed);
        notes.push(format!("down killed after call {after}: {killed}"));
    }
    let down = stack.run(&["down", "--yes", "--lock-timeout", "120s"]);
    tally.crashed(&down);
    let left = inventory(&stack).await;
    if down.status.success() && !left.is_empty() {
        tally.silent_leaks += 1;
        notes.push(format!("SILENT LEAK: down succeeded, left {left:?}"));
    }
    stack.endpoint = None;
    let last = stack.run(&["down", "--yes"]);
    tally.crashed(&last);
    let leaked = inventory(&stack).await;
    if !leaked.is_empty() {
        tally.leaked += 1;
        notes.push(format!("LEAKED: {leaked:?}"));
    }
    for entry in front.entries() {
        if let Some(fault) = entry.fault {
            *tally.faults.entry(format!("{fault:?}")).or_default() += 1;
        }
    }
    tally.cycles += 1;
    notes.join("; ")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the soak run, minutes long: scripts/soak.sh"]
async fn soak() {
    let cycles: usize = setting("SOAK_CYCLES", 100);
    let kills: usize = setting("SOAK_KILLS", 10);
    let rate: f64 = setting("SOAK_RATE", 0.2);
    let seed: u64 = setting("SOAK_SEED", 1);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut killed = BTreeSet::new();
    while killed.len() < kills.min(cycles) {
        killed.insert(rng.usize(..cycles));
    }
    let started = std::time::Instant::now();
    let mut tally = Tally::default();
    for number in 0..cycles {
        let kill = killed.contains(&number);
        let c = Cycle {
            number,
            kill_up: (kill && number % 2 == 0).then(|| rng.usize(1..=40)),
            kill_down: (kill && number % 2 == 1).then(|| rng.usize(1..=20)),
            faults: format!(
                "seed={},rate={rate},kinds=lost+throttle+500+503+reset+slow,calls=mutating,slow=0.5s",
                seed * 10_000 + number as u64
            ),
        };
        let note = cycle(&c, &mut tally).await;
        println!(
            "cycle {number:>3} {:>6.1}s converged {}/{} {note}",
            started.elapsed().as_secs_f64(),
            tally.converged,
            tally.cycles
        );
    }
    println!("\n{tally:#?}");
    println!(
        "\n| cycles | fault rate | kills | converged | duplicates | leaked | silent leaks | panics | faulted `up` succeeded | minutes |\n|---|---|---|---|---|---|---|---|---|---|\n| {} | {rate} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
        tally.cycles,
        tally.kills,
        tally.converged,
        tally.duplicates,
        tally.leaked,
        tally.silent_leaks,
        tally.panics,
        tally.faulted_up_ok,
        started.elapsed().as_secs_f64() / 60.0
    );
    assert_eq!(tally.converged, cycles, "every cycle converges");
    assert_eq!(
        (
            tally.duplicates,
            tally.leaked,
            tally.silent_leaks,
            tally.panics
        ),
        (0, 0, 0, 0)
    );
}
