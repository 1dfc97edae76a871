//! How a job ends from its parts' outcomes.

use super::*;
use crate::even_sum::sum_bytes;

fn part(index: u64, outcome: Outcome) -> PartResult {
    PartResult {
        index,
        started_ms: 1,
        finished_ms: 2,
        outcome,
    }
}

fn summed(text: &str) -> Outcome {
    Outcome::Summed {
        totals: sum_bytes(text.as_bytes()).unwrap().answer(),
    }
}

fn last_attempt(expires_ms: u64) -> Outcome {
    Outcome::LastAttempt {
        reason: "part 2 of 2: its worker stopped".into(),
        expires_ms,
    }
}

#[test]
fn a_job_is_done_when_every_part_is_summed_and_not_before() {
    let parts = vec![part(1, summed("4 5")), part(0, summed("2 2 "))];
    let answer = ending(parts.clone(), 2, 10).unwrap().unwrap();
    assert_eq!(answer, sum_bytes(b"2 2 4 5").unwrap().answer());
    assert_eq!(ending(parts, 3, 10), None, "a part is missing");
}

#[test]
fn a_failed_part_fails_the_job_at_once_and_a_bad_token_names_the_first() {
    let failed = Outcome::Failed {
        reason: "the input is gone".into(),
    };
    let parts = vec![part(0, summed("2")), part(3, failed)];
    assert_eq!(ending(parts, 9, 10), Some(Err("the input is gone".into())));
    let bad = |offset| Outcome::Bad {
        offset,
        found: "x".into(),
    };
    let parts = vec![part(2, bad(300)), part(1, bad(120)), part(0, summed("2"))];
    let error = ending(parts.clone(), 3, 10).unwrap().unwrap_err();
    assert!(error.starts_with("byte 120:"), "{error}");
    // An earlier part still out may hold an earlier bad token: not decided yet.
    assert_eq!(ending(parts[..1].to_vec(), 3, 10), None);
}

#[test]
fn a_silent_last_attempt_fails_the_job_once_its_time_is_up() {
    let parts = vec![part(0, summed("2")), part(1, last_attempt(100))];
    assert_eq!(ending(parts.clone(), 2, 99), None, "it may still finish");
    let error = ending(parts, 2, 100).unwrap().unwrap_err();
    assert!(error.contains("its worker stopped"), "{error}");
}
