//! The fastest path: sixty-four bytes at a time, several numbers per step.
//!
//! Each block of 64 bytes is classified at once (vector compares on x86-64, a byte loop
//! elsewhere) into bit masks: digits, odd digits, whitespace, signs. From those masks alone:
//! - a number ends where whitespace follows a digit, so the block's numbers are one
//!   `count_ones`, and its even numbers (the last digit even) another: an odd number is never
//!   looked at again;
//! - the text is valid when every byte is a digit, whitespace or a sign, every sign follows
//!   whitespace, and no whitespace follows a sign (a sign always starts a token and is
//!   followed by digits).
//!
//! Only even numbers are read: each one's first digit comes from the digit mask, and its up
//! to 19 digits are added by [`Evens`] (here as a value read sixteen digits at a time, see
//! [`value`]; with AVX2 by place, see `super::columns`). What only the careful reader takes
//! stops a block at its token: a bad byte before the block counts anything (from the token
//! in progress when the block began), an even number of 20 digits or more once the numbers
//! before it are counted. The chunk's last bytes (under 64) go to the word-at-a-time path in
//! [`super::fast`]. A number is counted in the block where its ending whitespace is.

use super::fast::{self, Run};

/// Digits that always fit a `u64` here (under 10^19 < 2^64).
const MAX_DIGITS: usize = 19;

/// One bit per byte of a block, the first byte lowest.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Masks {
    pub digit: u64,
    /// Odd digits only.
    pub odd: u64,
    pub space: u64,
    pub sign: u64,
}

impl Masks {
    /// Adds one lane's bits, `at` bits up: digits, each byte's lowest bit, whitespace, signs.
    #[inline(always)]
    pub(super) fn lane(&mut self, at: usize, [digit, low_bit, space, sign]: [u64; 4]) {
        self.digit |= digit << at;
        self.odd |= (digit & low_bit) << at;
        self.space |= space << at;
        self.sign |= sign << at;
    }
}

/// The masks of a block, sixteen bytes per compare.
#[cfg(target_arch = "x86_64")]
#[inline]
fn masks(block: &[u8; 64]) -> Masks {
    #[allow(unsafe_code)]
    // SAFETY: SSE2 is part of the x86-64 baseline: every x86-64 CPU has it.
    unsafe {
        masks_sse2(block)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn masks_sse2(block: &[u8; 64]) -> Masks {
    use std::arch::x86_64::{
        _mm_andnot_si128, _mm_cmpeq_epi8, _mm_max_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set_epi64x, _mm_set1_epi8, _mm_slli_epi16, _mm_sub_epi8,
    };
    let mut m = Masks::default();
    for (k, lane) in block.chunks_exact(16).enumerate() {
        let half = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&lane[at..at + 8]);
            i64::from_le_bytes(b)
        };
        let x = _mm_set_epi64x(half(8), half(0));
        let byte = |b: u8| _mm_set1_epi8(b as i8);
        // `x - low <= span` unsigned: `max(x - low, span) == span`.
        let within = |low: u8, span: u8| {
            let v = _mm_sub_epi8(x, byte(low));
            _mm_cmpeq_epi8(_mm_max_epu8(v, byte(span)), byte(span))
        };
        let digit = within(b'0', 9);
        // ASCII whitespace: ' ', and \t \n \x0C \r (9 to 13 without the vertical tab, 11).
        let controls = _mm_andnot_si128(_mm_cmpeq_epi8(x, byte(11)), within(9, 4));
        let space = _mm_or_si128(_mm_cmpeq_epi8(x, byte(b' ')), controls);
        let sign = _mm_or_si128(_mm_cmpeq_epi8(x, byte(b'+')), _mm_cmpeq_epi8(x, byte(b'-')));
        // Each byte's lowest bit moved to its highest, where `movemask` reads it.
        let low_bits = _mm_slli_epi16(x, 7);
        let bits = [digit, low_bits, space, sign].map(|v| u64::from(_mm_movemask_epi8(v) as u16));
        m.lane(16 * k, bits);
    }
    m
}

/// The masks of a block, a byte at a time (other CPUs; on x86-64, the tests' reference).
#[cfg(any(test, not(target_arch = "x86_64")))]
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
pub(super) fn masks_bytewise(block: &[u8; 64]) -> Masks {
    let mut bits = [0u64; 4];
    for (k, &b) in block.iter().enumerate() {
        let classes = [
            b.is_ascii_digit(),
            b & 1 == 1,
            b.is_ascii_whitespace(),
            matches!(b, b'+' | b'-'),
        ];
        for (bits, on) in bits.iter_mut().zip(classes) {
            *bits |= u64::from(on) << k;
        }
    }
    let mut m = Masks::default();
    m.lane(0, bits);
    m
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn masks(block: &[u8; 64]) -> Masks {
    masks_bytewise(block)
}

/// What the blocks before the current one leave it: their last byte's classes, and where the
/// digits that run up to the block began.
#[derive(Debug, Clone, Copy)]
struct Carry {
    /// Each 1 or 0: the last byte's classes.
    digit: u64,
    even: u64,
    space: u64,
    sign: u64,
    /// Where digits that reach the block's start would begin.
    digits_from: usize,
}

/// Counts the whole numbers from `chunk[i]` on, where `i` is the chunk's start or follows
/// whitespace; returns where it stopped, as [`fast::run`] does. On any CPU; with AVX2,
/// `super::two_pass::run` does the same faster.
pub fn run(chunk: &[u8], i: usize, out: &mut Run) -> usize {
    drive(chunk, i, out, masks, &mut OneByOne::default())
}

/// [`run`] as `Summer::feed` calls the block path (the two passes' flag is for x86-64 alone).
#[cfg(not(target_arch = "x86_64"))]
pub(super) fn run_fed(chunk: &[u8], i: usize, out: &mut Run, _try_two: &mut bool) -> usize {
    run(chunk, i, out)
}

/// Where a block path adds its even numbers.
pub(super) trait Evens {
    /// A block is about to add up to `numbers` numbers.
    fn block(&mut self, numbers: u32);
    /// Adds the 1 to 19 digits `chunk[start..end]`, negated if `negative`.
    fn add(&mut self, chunk: &[u8], start: usize, end: usize, negative: bool);
    /// What was added, since the start or the last call.
    fn take_sum(&mut self) -> i128;
}

/// Each even number's value, one at a time.
#[derive(Debug, Default)]
struct OneByOne {
    sum: i128,
}

impl Evens for OneByOne {
    fn block(&mut self, _: u32) {}

    #[inline]
    fn add(&mut self, chunk: &[u8], start: usize, end: usize, negative: bool) {
        let v = i128::from(value(chunk, start, end));
        let negative = i128::from(negative);
        self.sum += (v ^ -negative) + negative;
    }

    fn take_sum(&mut self) -> i128 {
        std::mem::take(&mut self.sum)
    }
}

/// What a block's step counted: all of it, or up to a token left to the careful reader.
enum Counted {
    Block {
        numbers: u64,
        even_count: u64,
    },
    Until {
        stop: usize,
        numbers: u64,
        even_count: u64,
    },
}

/// The block loop of [`run`], for a way to classify blocks and a way to add even numbers.
#[inline(always)]
pub(super) fn drive(
    chunk: &[u8],
    i: usize,
    out: &mut Run,
    classify: impl Fn(&[u8; 64]) -> Masks,
    evens: &mut impl Evens,
) -> usize {
    // Before `i` is as good as whitespace.
    let mut carry = Carry {
        digit: 0,
        even: 0,
        space: 1,
        sign: 0,
        digits_from: i,
    };
    let mut at = i;
    while let Some(block) = chunk.get(at..at + 64) {
        let Ok(block) = <&[u8; 64]>::try_from(block) else {
            break;
        };
        match step(chunk, i, at, &classify(block), &mut carry, evens) {
            Counted::Block {
                numbers,
                even_count,
            } => {
                out.numbers += numbers;
                out.even_count += even_count;
                at += 64;
            }
            Counted::Until {
                stop,
                numbers,
                even_count,
            } => {
                out.numbers += numbers;
                out.even_count += even_count;
                out.sum += evens.take_sum();
                return stop;
            }
        }
    }
    out.sum += evens.take_sum();
    fast::run(chunk, token_start(chunk, i, at), out)
}

/// Where the token in progress at `chunk[at]` began (its sign or first digit; not before
/// `i`), or `at` when none is.
pub(super) fn token_start(chunk: &[u8], i: usize, at: usize) -> usize {
    let digits = chunk[i..at].iter().rev().take_while(|b| b.is_ascii_digit());
    let start = at - digits.count();
    let signed = start > i && matches!(chunk[start - 1], b'+' | b'-');
    start - usize::from(signed)
}

/// Counts the numbers and even numbers that end in the block at `chunk[at..at + 64]` (its
/// masks `m`) and adds the even ones to `evens`, up to the first token only the careful reader
/// takes: a bad byte is found before anything is counted, an even number of 20 digits or more
/// after the numbers before it are.
#[inline(always)]
fn step(
    chunk: &[u8],
    i: usize,
    at: usize,
    m: &Masks,
    carry: &mut Carry,
    evens: &mut impl Evens,
) -> Counted {
    let after_digit = (m.digit << 1) | carry.digit;
    let after_space = (m.space << 1) | carry.space;
    let after_sign = (m.sign << 1) | carry.sign;
    let bad = !(m.digit | m.space | m.sign) | (m.sign & !after_space) | (m.space & after_sign);
    if bad != 0 {
        let stop = token_start(chunk, i, at);
        return Counted::Until {
            stop,
            numbers: 0,
            even_count: 0,
        };
    }
    let even = m.digit & !m.odd;
    let ends = m.space & after_digit;
    let all_even_ends = m.space & ((even << 1) | carry.even);
    evens.block(all_even_ends.count_ones());
    let mut even_ends = all_even_ends;
    while even_ends != 0 {
        let t = even_ends.trailing_zeros();
        even_ends &= even_ends - 1;
        let below = (1u64 << t) - 1;
        // The last non-digit before the end, in this block; none: the digits began before it.
        let start = match !m.digit & below {
            0 => carry.digits_from,
            before => at + 64 - before.leading_zeros() as usize,
        };
        let end = at + t as usize;
        let sign = chunk.get(start.wrapping_sub(1)).filter(|_| start > i);
        if end - start > MAX_DIGITS {
            return Counted::Until {
                stop: start - usize::from(sign.is_some_and(|s| matches!(s, b'+' | b'-'))),
                numbers: u64::from((ends & below).count_ones()),
                even_count: u64::from((all_even_ends & below).count_ones()),
            };
        }
        evens.add(chunk, start, end, sign == Some(&b'-'));
    }
    let top = |mask: u64| mask >> 63;
    carry.digits_from = match (m.digit >> 63, !m.digit) {
        // Digits up to its end: since the last non-digit, or all of it (from before).
        (1, 0) => carry.digits_from,
        (1, not_digit) => at + 64 - not_digit.leading_zeros() as usize,
        // Any digits that reach the next block begin with it.
        _ => at + 64,
    };
    *carry = Carry {
        digit: top(m.digit),
        even: top(even),
        space: top(m.space),
        sign: top(m.sign),
        ..*carry
    };
    Counted::Block {
        numbers: u64::from(ends.count_ones()),
        even_count: u64::from(all_even_ends.count_ones()),
    }
}

/// The value of the 1 to 19 digits `chunk[start..end]`.
#[inline]
pub(super) fn value(chunk: &[u8], start: usize, end: usize) -> u64 {
    let len = end - start;
    let Some(from) = end.checked_sub(24) else {
        return chunk[start..end]
            .iter()
            .fold(0, |v, d| v * 10 + u64::from(d - b'0'));
    };
    let mut last16 = [0u8; 16];
    last16.copy_from_slice(&chunk[end - 16..end]);
    let mut first8 = [0u8; 8];
    first8.copy_from_slice(&chunk[from..from + 8]);
    // The bytes before the digits become '0's: the digits are the top `len` bytes.
    let zeros = u128::from_le_bytes([b'0'; 16]);
    let keep = u128::MAX << (8 * (16 - len.min(16)));
    let w = (u128::from_le_bytes(last16) & keep) | (zeros & !keep);
    let low = fast::eight(w as u64) * 100_000_000 + fast::eight((w >> 64) as u64);
    let high_len = len.saturating_sub(16);
    let keep = u64::MAX.checked_shl(8 * (8 - high_len) as u32).unwrap_or(0);
    let high = fast::eight((u64::from_le_bytes(first8) & keep) | (zeros as u64 & !keep));
    high * 10_000_000_000_000_000 + low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_masks_match_the_bytewise_ones_for_every_byte() {
        for first in (0..=255u8).step_by(64) {
            let block: [u8; 64] = std::array::from_fn(|k| first.wrapping_add(k as u8));
            assert_eq!(masks(&block), masks_bytewise(&block), "bytes {first}..");
        }
        let text: [u8; 64] =
            *b"-12 +7\t\n\r\x0b\x0c 9x0 123456789 -0 +00 8\r\n 13579 2468 999 1 +-:/ 24680";
        assert_eq!(masks(&text), masks_bytewise(&text));
    }

    #[test]
    fn values_of_1_to_19_digits_near_and_far_from_the_chunk_start() {
        let digits = b"9876543210123456789";
        for len in 1..=19 {
            let number = &digits[19 - len..];
            let expected: u64 = std::str::from_utf8(number).unwrap().parse().unwrap();
            for pad in [0, 5, 30] {
                let mut text = vec![b' '; pad];
                text.extend_from_slice(number);
                assert_eq!(
                    value(&text, pad, pad + len),
                    expected,
                    "{len} digits at {pad}"
                );
            }
        }
    }

    #[test]
    fn a_block_run_counts_what_the_word_path_counts_and_stops_at_the_same_tokens() {
        let mut text = Vec::new();
        for k in 0..40u64 {
            text.extend_from_slice(format!("{} -{} +{}\n", k * 7919, k * 104_729, k).as_bytes());
        }
        let stop = text.len();
        text.extend_from_slice(b"12345678901234567890 4");
        let (mut blocks, mut words) = (Run::default(), Run::default());
        assert_eq!(run(&text, 0, &mut blocks), stop, "20 digits, even");
        assert_eq!(fast::run(&text, 0, &mut words), stop);
        assert_eq!(blocks, words);
    }

    #[test]
    fn a_long_odd_number_is_counted_and_a_bad_byte_stops_at_its_token() {
        let mut text = b"2 ".repeat(40);
        text.extend_from_slice(&[b'7'; 100]);
        text.extend_from_slice(b" -4 ");
        text.extend_from_slice(&b"6 ".repeat(40));
        let mut out = Run::default();
        // Blocks take the 100-digit odd number; the word path takes the tail.
        assert_eq!(run(&text, 0, &mut out), text.len());
        assert_eq!((out.numbers, out.even_count, out.sum), (82, 81, 316));
        let mut text = b"-8 ".repeat(30);
        text.extend_from_slice(b"+1x2 3 ");
        text.extend_from_slice(&b"4 ".repeat(40));
        let mut out = Run::default();
        let stopped = run(&text, 0, &mut out);
        // The block with the bad byte is left from the token in progress when it began.
        assert_eq!(&text[stopped - 1..stopped + 3], b" -8 ");
        assert!(stopped <= 90, "at or before the bad token");
        let before = (stopped / 3) as u64;
        assert_eq!((out.numbers, out.sum), (before, -8 * i128::from(before)));
    }
}
