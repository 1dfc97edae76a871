//! The fair queue's order and jobs run to the end on a store in a temporary folder.

use std::time::Duration;

use super::*;
use crate::even_sum::sum_bytes;
use crate::jobs::new_job_id;

struct Setup {
    _dir: tempfile::TempDir,
    dispatcher: Dispatcher,
}

fn setup(threads: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    Setup {
        dispatcher: Dispatcher::start(store, threads).unwrap(),
        _dir: dir,
    }
}

impl Setup {
    fn submit(&self, client: &str, input: &[u8]) -> String {
        let id = new_job_id();
        std::fs::write(self.dispatcher.store().input_path(&id), input).unwrap();
        let job = Job::queued(id.clone(), client.into(), input.len() as u64);
        self.dispatcher.submit(job).unwrap();
        id
    }

    fn finished(&self, id: &str) -> Job {
        for _ in 0..2000 {
            let job = self.dispatcher.store().get(id).unwrap().unwrap();
            if job.status.is_finished() {
                return job;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("job {id} did not finish in 10 s");
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.dispatcher.close();
    }
}

/// `n` numbers in lines, about `bytes` long, with both signs and many digits.
fn numbers(bytes: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(bytes + 64);
    let mut x: u64 = 7;
    while text.len() < bytes {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let sign = if x.is_multiple_of(3) { "-" } else { "" };
        text.extend_from_slice(format!("{sign}{}\n", x >> 4).as_bytes());
    }
    text
}

#[test]
fn a_job_of_many_parts_sums_exactly_and_removes_its_input() {
    let setup = setup(2);
    let input = numbers(3 * PART_BYTES as usize + 12_345);
    let id = setup.submit("a", &input);
    let job = setup.finished(&id);
    assert_eq!(job.status, Status::Done, "{job:?}");
    assert_eq!(job.result, Some(sum_bytes(&input).unwrap().answer()));
    assert_eq!(job.progress, 1.0);
    assert!(job.started_ms.is_some() && job.finished_ms >= job.started_ms);
    assert!(!setup.dispatcher.store().input_path(&id).exists());
}

#[test]
fn an_empty_input_sums_to_zero() {
    let setup = setup(1);
    let job = setup.finished(&setup.submit("a", b""));
    assert_eq!(job.status, Status::Done);
    let result = job.result.unwrap();
    assert_eq!((result.sum.as_str(), result.numbers), ("0", 0));
}

#[test]
fn the_first_bad_token_fails_the_job_whichever_part_meets_it() {
    let setup = setup(2);
    let mut input = numbers(3 * PART_BYTES as usize);
    let (early, late) = (PART_BYTES as usize + 100, 2 * PART_BYTES as usize + 100);
    for at in [late, early] {
        let start = at + input[at..].iter().position(|b| *b == b'\n').unwrap() + 1;
        input[start] = b'x';
    }
    let job = setup.finished(&setup.submit("a", &input));
    assert_eq!(job.status, Status::Failed);
    let error = job.error.unwrap();
    let first = early + input[early..].iter().position(|b| *b == b'x').unwrap();
    assert!(error.starts_with(&format!("byte {first}:")), "{error}");
    assert!(job.result.is_none());
}

#[test]
fn an_input_gone_before_its_job_runs_fails_it_with_why() {
    let setup = setup(1);
    let id = new_job_id();
    setup
        .dispatcher
        .submit(Job::queued(id.clone(), "a".into(), 10))
        .unwrap();
    let job = setup.finished(&id);
    assert_eq!(job.status, Status::Failed);
    assert!(job.error.unwrap().contains("cannot read the input"));
}

#[test]
fn a_small_job_is_not_stuck_behind_another_clients_big_one() {
    let setup = setup(1);
    let big = setup.submit("big", &numbers(16 * PART_BYTES as usize));
    let small = setup.submit("small", b"2 4 5\n");
    let (small, big) = (setup.finished(&small), setup.finished(&big));
    assert_eq!(small.result.unwrap().sum, "6");
    assert!(
        small.finished_ms < big.finished_ms,
        "the small job finished after the big one"
    );
}

#[test]
fn jobs_left_unfinished_by_a_stopped_process_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let id = new_job_id();
    std::fs::write(store.input_path(&id), "10 -4 7").unwrap();
    let mut job = Job::queued(id.clone(), "a".into(), 7);
    job.status = Status::Running;
    job.started_ms = Some(1);
    job.progress = 0.5;
    store.put(&job).unwrap();
    let setup = Setup {
        dispatcher: Dispatcher::start(store, 1).unwrap(),
        _dir: dir,
    };
    let job = setup.finished(&id);
    assert_eq!(job.status, Status::Done);
    assert_eq!(job.result.unwrap().sum, "6");
    assert_ne!(job.started_ms, Some(1), "started again");
}

/// The nice value in a `/proc/.../stat` file (its 19th field, the 17th after the name).
#[cfg(target_os = "linux")]
fn nice_in(stat: &std::path::Path) -> Option<i64> {
    let text = std::fs::read_to_string(stat).ok()?;
    text.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(16)?
        .parse()
        .ok()
}

#[cfg(target_os = "linux")]
#[test]
fn the_summing_threads_run_below_the_rest_of_the_process() {
    let own = || nice_in(std::path::Path::new("/proc/thread-self/stat")).unwrap();
    let before = own();
    let setup = setup(2);
    // Every summing thread of the process (other tests' too: each lowers itself as it starts).
    let summing_nice = || -> Vec<i64> {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        tasks
            .filter_map(|task| {
                let task = task.ok()?.path();
                let name = std::fs::read_to_string(task.join("comm")).ok()?;
                name.starts_with("even-sum-")
                    .then(|| nice_in(&task.join("stat")))
                    .flatten()
            })
            .collect()
    };
    let mut seen = Vec::new();
    for _ in 0..200 {
        seen = summing_nice();
        if !seen.is_empty() && seen.iter().all(|&n| n >= before.max(10)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !seen.is_empty() && seen.iter().all(|&n| n >= before.max(10)),
        "{seen:?}"
    );
    assert_eq!(own(), before, "the other threads keep their own");
    drop(setup);
}
