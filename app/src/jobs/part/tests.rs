//! Parts cut at even offsets, summed by windows that find their own edges.

use super::*;
use crate::even_sum::sum_bytes;
use crate::even_sum::tests::random_text;

/// Sums `text` part by part, each window fed from its `from` in chunks of `chunk` bytes
/// until it says done, as a worker reading an S3 range would.
fn by_parts(text: &[u8], part_bytes: u64, chunk: usize) -> Result<Totals, WindowError> {
    let len = text.len() as u64;
    let mut total = Totals::default();
    let mut first_bad: Option<BadToken> = None;
    for (from, to) in ranges(len, part_bytes) {
        let mut window = Window::new(from, to, len);
        let mut fed = Ok(false);
        for piece in text[from as usize..].chunks(chunk) {
            fed = window.feed(piece);
            if !matches!(fed, Ok(false)) {
                break;
            }
        }
        let summed = match fed {
            Err(bad) => Err(WindowError::Bad(bad)),
            Ok(_) => window.finish(),
        };
        match summed {
            Ok(part) => total = total.merge(part),
            Err(WindowError::Bad(bad)) => {
                first_bad.get_or_insert(bad);
            }
            Err(other) => return Err(other),
        }
    }
    match first_bad {
        Some(bad) => Err(bad.into()),
        None => Ok(total),
    }
}

#[test]
fn parts_of_any_size_sum_each_number_once() {
    for seed in 1..=12 {
        let (text, expected, evens) = random_text(seed, 600);
        for part_bytes in [1, 2, 5, 24, 25, 100, 1000, text.len() as u64] {
            for chunk in [1, 7, 64, text.len()] {
                let totals = by_parts(&text, part_bytes, chunk).unwrap();
                let label = format!("seed {seed}, parts of {part_bytes}, chunks of {chunk}");
                assert_eq!(totals.sum, expected, "{label}");
                assert_eq!((totals.numbers, totals.even_count), (600, evens), "{label}");
                assert_eq!(totals.bytes, text.len() as u64, "{label}");
            }
        }
    }
}

#[test]
fn a_long_number_across_many_parts_is_summed_by_the_first() {
    let text = format!("4 {} 6", "8".repeat(10_000));
    let totals = by_parts(text.as_bytes(), 100, 33).unwrap();
    assert_eq!(totals, sum_bytes(text.as_bytes()).unwrap());
    assert_eq!(totals.numbers, 3);
}

#[test]
fn the_first_bad_token_is_named_whichever_part_holds_it() {
    let text = b"1 2 3 4 x5 6 y 8";
    for part_bytes in [1, 3, 4, 16] {
        match by_parts(text, part_bytes, 2) {
            Err(WindowError::Bad(bad)) => assert_eq!(bad.offset, 8, "{part_bytes}"),
            other => panic!("parts of {part_bytes}: {other:?}"),
        }
    }
}

#[test]
fn an_input_shorter_than_its_part_is_an_error() {
    let mut window = Window::new(0, 10, 10);
    assert!(!window.feed(b"12 4").unwrap());
    assert_eq!(
        window.finish().unwrap_err(),
        WindowError::Short(ShortInput { at: 4, to: 10 })
    );
    // Cut inside the number that crosses the part's end: not taken as its end.
    let mut window = Window::new(0, 3, 10);
    assert!(!window.feed(b"12 45").unwrap());
    assert!(matches!(window.finish(), Err(WindowError::Short(_))));
}

#[test]
fn a_part_message_is_told_from_other_messages() {
    let part = Part {
        job_id: "j".into(),
        client: "c".into(),
        key: "inputs/j".into(),
        index: 1,
        parts: 2,
        from: 10,
        to: 20,
        len: 20,
    };
    let body = serde_json::to_string(&PartMessage {
        even_sum_part: part.clone(),
    })
    .unwrap();
    assert_eq!(PartMessage::parse(&body), Some(part));
    assert_eq!(PartMessage::parse(r#"{"work_ms": 5}"#), None);
    assert_eq!(PartMessage::parse("hello"), None);
    assert_eq!(ranges(10, 4), vec![(0, 4), (4, 8), (8, 10)]);
    assert!(ranges(0, 4).is_empty());
}

#[test]
fn a_result_keeps_an_exact_sum() {
    let totals = sum_bytes(format!("{} 2", "4".repeat(60)).as_bytes()).unwrap();
    let result = PartResult {
        index: 0,
        started_ms: 1,
        finished_ms: 2,
        outcome: Outcome::Summed {
            totals: totals.answer(),
        },
    };
    let json = serde_json::to_string(&result).unwrap();
    let back: PartResult = serde_json::from_str(&json).unwrap();
    let Outcome::Summed { totals: answer } = back.outcome else {
        panic!("{json}")
    };
    assert_eq!(super::totals(&answer), Some(totals));
}
