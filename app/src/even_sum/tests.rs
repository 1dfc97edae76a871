use num_bigint::BigInt;

use super::file::{cuts, sum_file};
use super::*;

fn sum(text: &str) -> Totals {
    sum_bytes(text.as_bytes()).unwrap()
}

fn bad(text: &str) -> BadToken {
    sum_bytes(text.as_bytes()).unwrap_err()
}

#[test]
fn only_even_numbers_are_added_and_every_number_is_counted() {
    let t = sum("1 2 3 4\n10");
    assert_eq!(t.sum, BigInt::from(16));
    assert_eq!((t.even_count, t.numbers, t.bytes), (3, 5, 10));
}

#[test]
fn signs_and_every_kind_of_whitespace() {
    let t = sum("  -2\t+4\r\n-3\n\n+0 -0\r\n");
    assert_eq!(t.sum, BigInt::from(2));
    assert_eq!((t.even_count, t.numbers), (4, 5));
}

#[test]
fn an_empty_input_or_one_of_whitespace_sums_to_zero() {
    for text in ["", " \n\t\r\n"] {
        let t = sum(text);
        assert_eq!(t.sum, BigInt::from(0));
        assert_eq!(t.numbers, 0);
        assert_eq!(t.answer().sum, "0");
    }
}

#[test]
fn a_number_of_ten_thousand_digits_is_added_exactly() {
    let huge = format!("2{}", "0".repeat(9_999));
    let t = sum(&format!("{huge} -{huge} {huge} 8 {huge}7"));
    // 2·10^9999 + 8; the last one is odd.
    assert_eq!(t.answer().sum, format!("2{}8", "0".repeat(9_998)));
    assert_eq!((t.even_count, t.numbers), (4, 5));
}

#[test]
fn numbers_past_the_fast_path_are_exact() {
    // 18 digits stay on the fast path, 19 and 20 go past it.
    let text = "999999999999999998 9999999999999999998 99999999999999999998";
    let expected: BigInt = [
        "999999999999999998",
        "9999999999999999998",
        "99999999999999999998",
    ]
    .iter()
    .map(|n| n.parse::<BigInt>().unwrap())
    .sum();
    assert_eq!(sum(text).sum, expected);
}

#[test]
fn sums_of_numbers_near_the_wide_limit_never_overflow() {
    // 38 digits: each fits an i128, two of them do not.
    let n = format!("9{}8", "9".repeat(36));
    let negative = format!("-{n}");
    let text = [n.as_str(); 10].join(" ") + " " + &negative;
    let expected = n.parse::<BigInt>().unwrap() * 9;
    assert_eq!(sum(&text).sum, expected);
    assert_eq!(sum(&text).even_count, 11);
}

#[test]
fn a_token_split_across_chunks_is_one_number() {
    let text = b"12 -3456 +78 90123456789012345678901234 6";
    let whole = sum_bytes(text).unwrap();
    let mut summer = Summer::new(0);
    for byte in text.chunks(1) {
        summer.feed(byte).unwrap();
    }
    assert_eq!(summer.finish().unwrap(), whole);
}

#[test]
fn the_first_bad_token_is_named_with_its_byte_offset() {
    let e = bad("1 2 x3 4");
    assert_eq!((e.offset, e.found.as_str()), (4, "x3"));
    let e = bad("10 20 3.5 y");
    assert_eq!((e.offset, e.found.as_str()), (6, "3.5"));
    // A sign alone, a sign inside a number, a sign at the very end.
    assert_eq!(bad("1 - 2").offset, 2);
    assert_eq!(bad("1 2-3").offset, 2);
    assert_eq!(bad("4 -").offset, 2);
    assert!(bad("1 2 x3").to_string().contains("byte 4"));
    // Bytes that are not text at all.
    assert_eq!(bad("1 \u{00e9}").offset, 2);
}

#[test]
fn a_bad_token_in_a_later_chunk_has_its_offset_in_the_whole_input() {
    let mut summer = Summer::new(0);
    summer.feed(b"1 2 ").unwrap();
    let e = summer.feed(b"3 4a").unwrap_err();
    assert_eq!(e.offset, 6);
    // Begun in one chunk, broken in the next: named whole, from where it began.
    let mut summer = Summer::new(0);
    summer.feed(b"1 2").unwrap();
    summer.feed(b"3").unwrap();
    let e = summer.feed(b"4x 5").unwrap_err();
    assert_eq!((e.offset, e.found.as_str()), (2, "234x"));
    // A sign at the end of the last chunk.
    let mut summer = Summer::new(0);
    summer.feed(b"8 -").unwrap();
    let e = summer.finish().unwrap_err();
    assert_eq!((e.offset, e.found.as_str()), (2, "-"));
}

/// A file of `n` numbers (some long, some negative) with its totals computed the slow way.
fn numbers_file(n: usize) -> (tempfile_path::TempPath, Totals) {
    let mut text = String::new();
    let mut expected = Totals::default();
    let mut seed = 7u64;
    for i in 0..n {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let digits = 1 + (seed >> 59) as usize + if i.is_multiple_of(97) { 30 } else { 0 };
        let mut number: String = (0..digits)
            .map(|d| char::from(b'0' + ((seed >> (d % 50)) % 10) as u8))
            .collect();
        if seed.is_multiple_of(3) {
            number.insert(0, '-');
        }
        let value: BigInt = number.parse().unwrap();
        expected.numbers += 1;
        if number.ends_with(['0', '2', '4', '6', '8']) {
            expected.even_count += 1;
            expected.sum += value;
        }
        text.push_str(&number);
        text.push_str(if i % 10 == 9 { "\n" } else { " " });
    }
    expected.bytes = text.len() as u64;
    (tempfile_path::write(&text), expected)
}

mod tempfile_path {
    use std::path::{Path, PathBuf};

    /// A file removed when dropped.
    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    pub fn write(text: &str) -> TempPath {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("even-sum-{}-{n}.txt", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempPath(path)
    }
}

#[test]
fn a_file_on_any_number_of_threads_sums_as_on_one() {
    let (file, expected) = numbers_file(20_000);
    for threads in [1, 2, 3, 7, 64] {
        assert_eq!(
            sum_file(file.path(), threads).unwrap(),
            expected,
            "{threads} threads"
        );
    }
}

#[test]
fn cuts_fall_on_whitespace_and_never_repeat() {
    let text = b"1234 56 7 8901234567 8";
    let read_at = |at: u64, buf: &mut [u8]| {
        let rest = text.get(at as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    };
    let starts = cuts(text.len() as u64, 8, read_at).unwrap();
    assert_eq!(starts[0], 0);
    for s in &starts[1..] {
        assert!(text[*s as usize].is_ascii_whitespace(), "{starts:?}");
    }
    assert!(starts.windows(2).all(|w| w[0] < w[1]), "{starts:?}");
    // One long token: nowhere to cut.
    let one = b"123456789";
    let read_one = |at: u64, buf: &mut [u8]| {
        let rest = one.get(at as usize..).unwrap_or_default();
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    };
    assert_eq!(cuts(9, 4, read_one).unwrap(), [0]);
}

#[test]
fn the_first_bad_token_of_a_file_wins_whichever_thread_meets_it() {
    let mut text = "2 ".repeat(50_000);
    text.replace_range(30_000..30_001, "z");
    text.replace_range(90_000..90_001, "y");
    let file = tempfile_path::write(&text);
    for threads in [1, 4] {
        match sum_file(file.path(), threads) {
            Err(file::SumError::Bad(bad)) => assert_eq!(bad.offset, 30_000, "{threads}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_missing_file_is_named() {
    let err = sum_file(std::path::Path::new("/nonexistent/input.txt"), 2).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/input.txt"), "{err}");
}

/// Random tokens of 1 to 24 digits, signed or not, between every kind of whitespace.
pub(crate) fn random_text(seed: u64, tokens: usize) -> (Vec<u8>, BigInt, u64) {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        x >> 33
    };
    let (mut text, mut expected, mut evens) = (Vec::new(), BigInt::default(), 0);
    for _ in 0..tokens {
        let len = 1 + (next() % 24) as usize;
        let digits: String = (0..len)
            .map(|_| char::from(b'0' + (next() % 10) as u8))
            .collect();
        let sign = ["", "-", "+"][(next() % 3) as usize];
        let token = format!("{sign}{digits}");
        let value: BigInt = token.trim_start_matches('+').parse().unwrap();
        if digits.ends_with(['0', '2', '4', '6', '8']) {
            expected += value;
            evens += 1;
        }
        text.extend_from_slice(token.as_bytes());
        text.extend_from_slice([" ", "\n", "\t", "\r\n", "  "][(next() % 5) as usize].as_bytes());
    }
    (text, expected, evens)
}

#[test]
fn the_word_at_a_time_path_agrees_with_exact_arithmetic_in_chunks_of_any_size() {
    for seed in 1..=20 {
        let (text, expected, evens) = random_text(seed, 2000);
        for chunk in [1, 3, 7, 8, 9, 64, 4096, text.len()] {
            let mut summer = Summer::new(0);
            for part in text.chunks(chunk) {
                summer.feed(part).unwrap();
            }
            let totals = summer.finish().unwrap();
            assert_eq!(totals.sum, expected, "seed {seed}, chunks of {chunk}");
            assert_eq!((totals.numbers, totals.even_count), (2000, evens));
        }
    }
}

/// The even sum of whitespace-separated integers, the slow and obvious way.
fn reference(text: &[u8]) -> (BigInt, u64, u64) {
    let (mut sum, mut evens, mut numbers) = (BigInt::default(), 0, 0);
    for token in text
        .split(u8::is_ascii_whitespace)
        .filter(|t| !t.is_empty())
    {
        let token = std::str::from_utf8(token).unwrap().trim_start_matches('+');
        let value: BigInt = token.parse().unwrap();
        numbers += 1;
        if token.ends_with(['0', '2', '4', '6', '8']) {
            sum += value;
            evens += 1;
        }
    }
    (sum, evens, numbers)
}

#[test]
fn numbers_long_and_short_at_every_offset_of_a_block_sum_exactly() {
    // Each shape starts at every offset of a 64-byte block, with blocks of digits that begin
    // right after a block's last whitespace and even numbers of 16 to 21 digits.
    let shapes: [&[u8]; 6] = [
        b"1234567890123456 -12345678901234568 +123456789012345670 -1234567890123456782 ",
        b"12345678901234567892 -123456789012345678904 3 ",
        &[b'8'; 70],
        &[b'7'; 130],
        b"+0 -0 00 -00000000000000000000000000002 1 ",
        b"5\t6\r\n7\x0c8 ",
    ];
    for (k, shape) in shapes.iter().enumerate() {
        for pad in 0..70 {
            let mut text = b"2 ".repeat(pad / 2);
            text.extend_from_slice(&b" ".repeat(pad % 2));
            text.extend_from_slice(shape);
            text.extend_from_slice(b" -6 ");
            text.extend_from_slice(&b"44 ".repeat(50));
            let totals = sum_bytes(&text).unwrap();
            let (sum, evens, numbers) = reference(&text);
            let got = (totals.sum, totals.even_count, totals.numbers);
            assert_eq!(got, (sum, evens, numbers), "shape {k} after {pad} bytes");
        }
    }
}

#[test]
fn a_bad_token_is_named_at_every_offset_of_a_block() {
    for pad in 0..70 {
        for bad in [
            &b"1-2"[..],
            b"--3",
            b"- 4",
            b"5+",
            b"x",
            b"+",
            b"6\x0b7",
            b"\xff",
        ] {
            let mut text = b"12 ".repeat(pad / 3);
            text.extend_from_slice(&b" ".repeat(pad % 3));
            let offset = text.len() as u64;
            text.extend_from_slice(bad);
            text.extend_from_slice(&b" 8".repeat(60));
            let err = sum_bytes(&text).unwrap_err();
            assert_eq!(err.offset, offset, "{:?} after {pad} bytes", bad);
        }
    }
}

#[test]
fn a_file_mapped_in_windows_of_any_size_or_read_sums_as_in_memory() {
    let (file, expected) = numbers_file(20_000);
    let opened = std::fs::File::open(file.path()).unwrap();
    let len = expected.bytes;
    // Windows that end inside a page, on one, and a window larger than the file.
    for window in [4095, 4096, 10_001, 1 << 20] {
        let totals = file::sum_range_in(&opened, file.path(), 0, len, window).unwrap();
        assert_eq!(totals, expected, "windows of {window}");
    }
    let mut summer = Summer::new(0);
    file::read_into(&mut summer, &mut Vec::new(), (&opened, file.path()), 0, len).unwrap();
    assert_eq!(summer.finish().unwrap(), expected, "read");
}

#[test]
fn a_file_cut_short_after_it_was_measured_fails_mapped_or_read() {
    // Cut inside a page (the rest of it reads as zeros) and at a page's end (the next page
    // faults, and the guard maps zeros there).
    for cut_at in [|len: u64| len / 2, |_| 8192] {
        let (file, expected) = numbers_file(20_000);
        let opened = std::fs::File::open(file.path()).unwrap();
        let len = expected.bytes;
        let cut = std::fs::OpenOptions::new().write(true).open(file.path());
        cut.unwrap().set_len(cut_at(len)).unwrap();
        let mapped = file::sum_range_in(&opened, file.path(), 0, len, 1 << 20).unwrap_err();
        let mapped = mapped.to_string();
        assert!(mapped.contains("it changed while read"), "{mapped}");
        let ended = format!("ended at byte {}, before byte {len}", cut_at(len));
        assert!(mapped.contains(&ended), "{mapped}");
        let mut summer = Summer::new(0);
        let read = file::read_into(&mut summer, &mut Vec::new(), (&opened, file.path()), 0, len);
        let read = read.unwrap_err().to_string();
        assert!(read.contains("it changed while read"), "{read}");
        assert!(read.contains(&ended), "{read}");
    }
}
