//! The AVX2 path in two passes over each 4 KiB of a chunk: first the blocks' masks are
//! checked and the positions where even numbers end are written down, then those numbers are
//! added by place (`super::columns`).
//!
//! Adding an even number as soon as its block finds it costs a mispredicted branch per block:
//! how many even numbers a block holds is random. Written down first (eight positions stored,
//! sixteen with AVX-512, whether the block has that many or not), they are added in one loop per 4 KiB whose every
//! turn is alike, and a number's first digit and sign are found from the 32 bytes that end
//! with it, not from the block's masks.
//!
//! The first pass comes in two copies of one body (the `two_passes!` macro): with AVX2, and
//! with AVX-512 where the CPU has its byte instructions and byte compress (`wide`: masks
//! straight from 64-byte compares, positions written sixteen at once). The second pass is
//! AVX2's in both.
//!
//! This path takes only what it can take whole: a chunk with a bad byte or an even number of
//! over 19 digits is given back untouched (`None`) to the one-pass path, which stops at that
//! token for the careful reader.

mod wide;

use super::blocks::token_start;
use super::columns::{self, Columns};
use super::fast::{self, Run};

/// Bytes per pass: 64 blocks, whose even numbers' ends stay in the first level cache.
const GROUP: usize = 64 * 64;

/// [`super::blocks::run`] with AVX2 (in two passes while `try_two` holds), or without it on a
/// CPU that lacks it. Once two passes give a chunk back, `try_two` is cleared: the caller
/// keeps it for the rest of the chunk, which then goes one pass (an input of 20-digit numbers
/// would otherwise pay a wasted first pass for each of them).
pub fn run(chunk: &[u8], i: usize, out: &mut Run, try_two: &mut bool) -> usize {
    if !columns::cpu_has_avx2() {
        return super::blocks::run(chunk, i, out);
    }
    #[allow(unsafe_code)]
    // SAFETY: the CPU has every feature `run_avx2` asks.
    unsafe {
        run_avx2(chunk, i, out, try_two)
    }
}

#[target_feature(enable = "avx2,bmi1,lzcnt,popcnt")]
fn run_avx2(chunk: &[u8], i: usize, out: &mut Run, try_two: &mut bool) -> usize {
    if *try_two {
        let taken = if wide::cpu_has_avx512() {
            #[allow(unsafe_code)]
            // SAFETY: the CPU has every feature `two_passes_avx512` enables.
            unsafe {
                two_passes_avx512(chunk, i)
            }
        } else {
            two_passes(chunk, i)
        };
        if let Some((counted, tail)) = taken {
            out.numbers += counted.numbers;
            out.even_count += counted.even_count;
            out.sum += counted.sum;
            return fast::run(chunk, tail, out);
        }
        *try_two = false;
    }
    columns::run_avx2(chunk, i, out)
}

/// How far ahead of the block being classified its bytes are asked for. A mapped file
/// (`super::file`) is read straight from memory, where each block not yet in the cache
/// waited for its bytes: 1 GiB took 0.83 s on one thread, 0.31 s asked for 2 KiB ahead (the
/// same from 1 KiB to 8 KiB, 0.46 s at 512 bytes; 0.38 s read into a buffer).
const AHEAD: usize = 2048;

/// Asks for the cache line of `chunk[at]` (or of whatever lies there: a prefetch never
/// faults, so `at` may be past the chunk).
#[target_feature(enable = "sse")]
#[inline]
fn prefetch(chunk: &[u8], at: usize) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    _mm_prefetch::<_MM_HINT_T0>(chunk.as_ptr().wrapping_add(at).cast());
}

/// Each byte's classes of the block before (each 1 or 0).
struct Before {
    digit: u64,
    even: u64,
    space: u64,
    sign: u64,
}

/// The two passes over whole blocks, a block's masks from `$masks` and its even numbers' ends
/// written down by `$positions` (at most 64 written, the count returned). A macro, not a
/// generic function: each copy takes the CPU features of the function it is written in.
macro_rules! two_passes {
    ($chunk:ident, $i:ident, $masks:path, $positions:path) => {{
        // Positions are kept in 32 bits.
        u32::try_from($chunk.len()).ok()?;
        let mut columns = Columns::new($chunk);
        let mut counted = Run::default();
        // A block has at most 32 even numbers; up to 16 positions are written past the last.
        let mut ends = [0u32; GROUP / 2 + 64];
        // Before `$i` is as good as whitespace.
        let mut before = Before {
            digit: 0,
            even: 0,
            space: 1,
            sign: 0,
        };
        let mut at = $i;
        while at + 64 <= $chunk.len() {
            let group_end = $chunk.len().min(at + GROUP);
            let (mut n, mut bad) = (0, 0);
            while let Some(block) = $chunk.get(at..at + 64).filter(|_| at + 64 <= group_end) {
                let block = <&[u8; 64]>::try_from(block).ok()?;
                prefetch($chunk, at + AHEAD);
                let m = $masks(block);
                let after_digit = (m.digit << 1) | before.digit;
                let after_space = (m.space << 1) | before.space;
                let after_sign = (m.sign << 1) | before.sign;
                bad |= !(m.digit | m.space | m.sign)
                    | (m.sign & !after_space)
                    | (m.space & after_sign);
                let even = m.digit & !m.odd;
                counted.numbers += u64::from((m.space & after_digit).count_ones());
                let even_ends = m.space & ((even << 1) | before.even);
                n += $positions(&mut ends[n..n + 64], at as u32, even_ends);
                before = Before {
                    digit: m.digit >> 63,
                    even: even >> 63,
                    space: m.space >> 63,
                    sign: m.sign >> 63,
                };
                at += 64;
            }
            if bad != 0 || columns.add_ends($chunk, &ends[..n]) {
                return None;
            }
            counted.even_count += n as u64;
        }
        counted.sum = columns.take_sum_avx2();
        Some((counted, token_start($chunk, $i, at)))
    }};
}

/// What the whole blocks from `chunk[i]` on count, and where the token in progress after them
/// starts; `None` when they hold a bad byte or an even number of over 19 digits.
#[target_feature(enable = "avx2,bmi1,lzcnt,popcnt")]
fn two_passes(chunk: &[u8], i: usize) -> Option<(Run, usize)> {
    two_passes!(chunk, i, columns::masks, write_positions)
}

/// [`two_passes`] with the first pass in AVX-512 (`wide`).
#[target_feature(enable = "avx2,bmi1,lzcnt,popcnt,avx512f,avx512bw,avx512vbmi2")]
fn two_passes_avx512(chunk: &[u8], i: usize) -> Option<(Run, usize)> {
    two_passes!(chunk, i, wide::masks, wide::positions)
}

/// Writes the positions of `bits` (from `at` on) to `to`; returns how many there are.
#[inline(always)]
fn write_positions(to: &mut [u32], at: u32, mut bits: u64) -> usize {
    let count = bits.count_ones() as usize;
    // Nearly every block has at most eight: written without a branch on how many.
    for slot in &mut to[..8] {
        *slot = at + bits.trailing_zeros();
        bits &= bits.wrapping_sub(1);
    }
    if count > 8 {
        for slot in &mut to[8..count] {
            *slot = at + bits.trailing_zeros();
            bits &= bits.wrapping_sub(1);
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::super::blocks;
    use super::super::columns::one_pass;
    use super::super::tests::random_text;
    use super::*;

    /// Every run of `path` over `text`, each from where the last stopped, past the token it
    /// left (as `Summer::feed` goes on): what each counted, and where it stopped.
    fn runs(
        text: &[u8],
        mut path: impl FnMut(&[u8], usize, &mut Run) -> usize,
    ) -> Vec<(Run, usize)> {
        let (mut all, mut i) = (Vec::new(), 0);
        while i < text.len() {
            let mut out = Run::default();
            let stopped = path(text, i, &mut out);
            all.push((out, stopped));
            let token = text[stopped..].iter().position(u8::is_ascii_whitespace);
            i = stopped + token.map_or(text.len(), |n| n + 1);
        }
        all
    }

    fn one(text: &[u8], i: usize, out: &mut Run) -> usize {
        one_pass(text, i, out).expect("the CPU has AVX2")
    }

    /// Two passes tried on every call.
    fn two(text: &[u8], i: usize, out: &mut Run) -> usize {
        run(text, i, out, &mut true)
    }

    #[test]
    fn both_avx2_paths_count_as_the_portable_blocks_do_and_stop_at_the_same_tokens() {
        if !columns::cpu_has_avx2() {
            return;
        }
        for seed in 1..=10 {
            // Up to 24 digits: some even numbers are left to the careful reader.
            let (text, ..) = random_text(seed, 3000);
            let portable = runs(&text, blocks::run);
            assert_eq!(runs(&text, one), portable, "one pass, seed {seed}");
            assert_eq!(runs(&text, two), portable, "two passes, seed {seed}");
            for (name, passes) in variants() {
                let each = |text: &[u8], i, out: &mut Run| match passes(text, i) {
                    Some((counted, tail)) => {
                        *out = counted;
                        fast::run(text, tail, out)
                    }
                    None => one(text, i, out),
                };
                assert_eq!(runs(&text, each), portable, "{name}, seed {seed}");
            }
            // As `Summer::feed` calls it: once given back, one pass for the rest.
            let mut try_two = true;
            let as_fed = |text: &[u8], i, out: &mut Run| run(text, i, out, &mut try_two);
            assert_eq!(runs(&text, as_fed), portable, "as fed, seed {seed}");
            assert!(
                !try_two,
                "a long even number gave the text back, seed {seed}"
            );
        }
    }

    #[test]
    fn two_passes_take_a_text_of_short_numbers_whole_from_any_start() {
        if !columns::cpu_has_avx2() {
            return;
        }
        // Tokens of up to 19 digits, a group and more, started at each token of the first 64
        // bytes (no token ends in the chunk's first 32 bytes unless it starts there).
        let mut text = Vec::new();
        for k in 0..2000u64 {
            let sign = ["", "-", "+"][(k % 3) as usize];
            let digits = 1 + (k * 7) % 19;
            let number = (k * 2_654_435_761).to_string().repeat(4);
            text.extend_from_slice(format!("{sign}{} ", &number[..digits as usize]).as_bytes());
        }
        for (name, passes) in variants() {
            for i in (0..64).filter(|&i| i == 0 || text[i - 1] == b' ') {
                let mut expected = Run::default();
                let stop = blocks::run(&text, i, &mut expected);
                assert_eq!(stop, text.len());
                let Some((counted, tail)) = passes(&text, i) else {
                    panic!("{name} refused short numbers from {i}");
                };
                let mut out = counted;
                assert_eq!(fast::run(&text, tail, &mut out), text.len());
                assert_eq!(out, expected, "{name} from {i}");
            }
        }
    }

    type Passes = fn(&[u8], usize) -> Option<(Run, usize)>;

    /// Each way the two passes can run on this CPU (called once `cpu_has_avx2` said it has
    /// AVX2), with its name.
    fn variants() -> Vec<(&'static str, Passes)> {
        #[allow(unsafe_code)]
        // SAFETY: the CPU has AVX2 (checked by every caller) and the rest `two_passes` enables.
        let avx2 = |text: &[u8], i| unsafe { two_passes(text, i) };
        #[allow(unsafe_code)]
        // SAFETY: only listed when `cpu_has_avx512` said the CPU has what it enables.
        let avx512 = |text: &[u8], i| unsafe { two_passes_avx512(text, i) };
        let mut all: Vec<(&'static str, Passes)> = vec![("AVX2", avx2)];
        if wide::cpu_has_avx512() {
            all.push(("AVX-512", avx512));
        }
        all
    }

    #[test]
    fn the_token_cut_by_the_last_block_is_left_to_the_word_path_from_its_start() {
        if !columns::cpu_has_avx2() {
            return;
        }
        for token in ["-1234", "+56", "78", "-9"] {
            for pad in 50..70 {
                let mut text = b"2 ".repeat(pad / 2);
                text.resize(pad, b' ');
                text.extend_from_slice(token.as_bytes());
                text.extend_from_slice(b" 4 ");
                let mut expected = Run::default();
                assert_eq!(blocks::run(&text, 0, &mut expected), text.len());
                let mut out = Run::default();
                assert_eq!(two(&text, 0, &mut out), text.len(), "{token} at {pad}");
                assert_eq!(out, expected, "{token} at {pad}");
            }
        }
    }

    #[test]
    fn two_passes_give_back_a_long_even_number_or_a_bad_byte_and_take_a_long_odd_one() {
        if !columns::cpu_has_avx2() {
            return;
        }
        let head = b"12 -34 +56 ".repeat(500);
        for (token, taken) in [
            (&b"1234567890123456789"[..], true),
            (b"-1234567890123456780", true),
            (b"12345678901234567890", false),
            (b"+123456789012345678901234567890123456", false),
            (b"1234567890123456789012345678901234567", true),
            (b"12x4", false),
            (b"- 4", false),
            (b"4-4", false),
        ] {
            let mut text = head.clone();
            text.extend_from_slice(token);
            text.extend_from_slice(&b" 8 ".repeat(100));
            for (name, passes) in variants() {
                let taken_here = passes(&text, 0).is_some();
                let token = String::from_utf8_lossy(token);
                assert_eq!(taken_here, taken, "{name}: {token}");
            }
        }
    }

    #[test]
    fn columns_never_overflow_on_the_largest_digits_nor_the_most_numbers() {
        if !columns::cpu_has_avx2() {
            return;
        }
        // 19 nines (but even) fill every place; "8 " puts 32 numbers in a block; a 98 per
        // block fills a place one number at a time up to the widening.
        let one_per_block = format!("98{:62}", "");
        for (token, count) in [
            (&b"-9999999999999999998 "[..], 200_000),
            (b"8 ", 1_000_000),
            (one_per_block.as_bytes(), 10_000),
        ] {
            let text = token.repeat(count);
            let number: i128 = std::str::from_utf8(token).unwrap().trim().parse().unwrap();
            for (name, path) in [
                ("one pass", one as fn(&[u8], usize, &mut Run) -> usize),
                ("two passes", two),
            ] {
                let mut out = Run::default();
                assert_eq!(path(&text, 0, &mut out), text.len(), "{name}");
                assert_eq!(out.sum, number * count as i128, "{name}");
                assert_eq!((out.numbers, out.even_count), (count as u64, count as u64));
            }
        }
    }
}
