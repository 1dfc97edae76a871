//! The block path on CPUs with AVX2 (nearly every x86-64 server since 2013): blocks are
//! classified 32 bytes per compare, and even numbers are added by place, never turned into
//! values one by one.
//!
//! A number's 32 bytes that end with its last digit, less `'0'` and with the bytes before its
//! first digit zeroed, are its digits by place (the units in the last byte). Adding those
//! vectors adds all the even numbers' units, tens, hundreds… in one instruction per number;
//! the sum is `Σ 10^place × digits at that place`, worked out once per run. Negative numbers
//! are added a second time into their own columns and subtracted twice. Byte columns take 28
//! numbers (28 × 9 < 256) before they are widened to 16 bits, and those take 256 widenings
//! before they are moved to 64 bits. A number that ends in the chunk's first 32 bytes reads
//! its 32 bytes from a copy of them behind 32 zeros.
//!
//! Two ways in: [`run_avx2`] adds each even number as its block finds it and takes any text;
//! `super::two_pass` first writes down where the even numbers of 4 KiB end, then adds them all
//! in one loop with [`Columns::add_ends`], and gives back what it cannot take.
//!
//! `unsafe` is needed twice over here: to call AVX2 code at all (allowed once the CPU said it
//! has AVX2) and to move 32 bytes between a vector and a 32-byte array (in bounds by type).

use std::arch::x86_64::{
    __m256i, _mm256_add_epi8, _mm256_add_epi16, _mm256_and_si256, _mm256_cmpeq_epi8,
    _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8, _mm256_set1_epi8, _mm256_setr_epi8,
    _mm256_setzero_si256, _mm256_shuffle_epi8, _mm256_slli_epi16, _mm256_storeu_si256,
    _mm256_sub_epi8, _mm256_unpackhi_epi8, _mm256_unpacklo_epi8,
};

use super::blocks::{Evens, Masks, drive};
use super::fast::Run;

/// [`super::blocks::run`] with AVX2, and bits counted in one instruction each (every CPU with AVX2
/// has those too): the one-pass path, which takes any text.
#[target_feature(enable = "avx2,bmi1,lzcnt,popcnt")]
pub(super) fn run_avx2(chunk: &[u8], i: usize, out: &mut Run) -> usize {
    let mut columns = Columns::new(chunk);
    drive(chunk, i, out, |block| masks(block), &mut columns)
}

/// 32 bytes as a vector.
#[target_feature(enable = "avx2")]
#[inline]
fn load(bytes: &[u8; 32]) -> __m256i {
    #[allow(unsafe_code)]
    // SAFETY: reads the 32 bytes of `bytes`; an unaligned load needs no alignment.
    unsafe {
        _mm256_loadu_si256(bytes.as_ptr().cast())
    }
}

/// 32 bytes of a slice that holds them, as a vector.
#[target_feature(enable = "avx2")]
#[inline]
fn load_at(bytes: &[u8], at: usize) -> __m256i {
    let mut copy = [0u8; 32];
    copy.copy_from_slice(&bytes[at..at + 32]);
    load(&copy)
}

/// The masks of a block: `space` and `sign` by table lookup on each byte's low half (a byte
/// is in the set when it equals the table's entry for its low half).
#[target_feature(enable = "avx2")]
#[inline]
pub(super) fn masks(block: &[u8; 64]) -> Masks {
    // Whitespace: ' ' (0x20) at 0, and \t \n \x0C \r at their own values; 0xFF never matches.
    #[rustfmt::skip]
    let spaces = _mm256_setr_epi8(
        0x20, -1, -1, -1, -1, -1, -1, -1, -1, 0x09, 0x0A, -1, 0x0C, 0x0D, -1, -1,
        0x20, -1, -1, -1, -1, -1, -1, -1, -1, 0x09, 0x0A, -1, 0x0C, 0x0D, -1, -1,
    );
    #[rustfmt::skip]
    let signs = _mm256_setr_epi8(
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x2B, -1, 0x2D, -1, -1,
        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0x2B, -1, 0x2D, -1, -1,
    );
    let nine = _mm256_set1_epi8(9);
    let mut m = Masks::default();
    for half in 0..2 {
        let x = load_at(block, 32 * half);
        // A byte at or past 0x80 looks up 0, which only a 0 byte equals, and 0 is in neither.
        let space = _mm256_cmpeq_epi8(x, _mm256_shuffle_epi8(spaces, x));
        let sign = _mm256_cmpeq_epi8(x, _mm256_shuffle_epi8(signs, x));
        // `x - '0' <= 9` unsigned: `max(x - '0', 9) == 9`.
        let from_zero = _mm256_sub_epi8(x, _mm256_set1_epi8(b'0' as i8));
        let digit = _mm256_cmpeq_epi8(_mm256_max_epu8(from_zero, nine), nine);
        // Each byte's lowest bit moved to its highest, where `movemask` reads it.
        let low_bits = _mm256_slli_epi16(x, 7);
        let bits =
            [digit, low_bits, space, sign].map(|v| u64::from(_mm256_movemask_epi8(v) as u32));
        m.lane(32 * half, bits);
    }
    m
}

/// Even numbers longer than this are left to the careful reader (10^19 < 2^64).
const MAX_DIGITS: usize = 19;

/// Byte columns take this many numbers without overflowing (28 × 9 = 252).
const PER_WIDENING: u32 = 28;

/// 16-bit columns take this many widenings (256 × 252 < 65,536).
const WIDENINGS_PER_FLUSH: u32 = 256;

/// 32 zero bytes, then 32 0xFF: the 32 bytes from `len` on keep the last `len` bytes.
const KEEP: [u8; 64] = zeros_then_ff(32);

/// 96 zero bytes, then 32 0xFF: from `len` on, 32 zeros; from `64 + len` on, `KEEP`'s from
/// `len` on. A negative number's digits are picked by where its mask is read from, not by a
/// mask made from its sign.
const KEEP_IF_NEGATIVE: [u8; 128] = zeros_then_ff(96);

/// `N` bytes: zeros, then 0xFF from `from` on.
const fn zeros_then_ff<const N: usize>(from: usize) -> [u8; N] {
    let mut bytes = [0u8; N];
    let mut k = from;
    while k < N {
        bytes[k] = 0xFF;
        k += 1;
    }
    bytes
}

/// The even numbers' digits by place (see the module's comment).
pub(super) struct Columns {
    /// 32 zero bytes, then the chunk's first 32: the 32 bytes up to a number that ends in the
    /// chunk's first 32.
    head: [u8; 64],
    /// In bytes: all even numbers', and the negative ones' again; `bytes_numbers` added.
    bytes: [__m256i; 2],
    bytes_numbers: u32,
    /// In 16 bits: `[all low, all high, negative low, negative high]` bytes as unpacked (each
    /// half of each 16-byte lane); `widenings` added.
    wide: [__m256i; 4],
    widenings: u32,
    /// In 64 bits, by place (index 31 is the units): all, negative.
    flushed: [[u64; 32]; 2],
}

impl Columns {
    #[target_feature(enable = "avx2")]
    pub(super) fn new(chunk: &[u8]) -> Self {
        let mut head = [0u8; 64];
        let first = chunk.len().min(32);
        head[32..32 + first].copy_from_slice(&chunk[..first]);
        Self {
            head,
            bytes: [_mm256_setzero_si256(); 2],
            bytes_numbers: 0,
            wide: [_mm256_setzero_si256(); 4],
            widenings: 0,
            flushed: [[0; 32]; 2],
        }
    }

    #[target_feature(enable = "avx2")]
    #[inline]
    fn add_avx2(&mut self, chunk: &[u8], start: usize, end: usize, negative: bool) {
        if self.bytes_numbers == PER_WIDENING {
            self.widen();
        }
        self.bytes_numbers += 1;
        let last32 = match end.checked_sub(32) {
            Some(from) => load_at(chunk, from),
            None => load_at(&self.head, end),
        };
        let from_zero = _mm256_sub_epi8(last32, _mm256_set1_epi8(b'0' as i8));
        let digits = _mm256_and_si256(from_zero, load_at(&KEEP, end - start));
        let [all, minus] = &mut self.bytes;
        *all = _mm256_add_epi8(*all, digits);
        let sign = _mm256_set1_epi8(-i8::from(negative));
        *minus = _mm256_add_epi8(*minus, _mm256_and_si256(digits, sign));
    }

    /// Adds the even numbers that end at each of `ends` (the whitespace after the last digit,
    /// in ascending order), with no branch that depends on the number: its digits are those
    /// that end its 32 bytes, its sign the byte before them. True when one has over 19
    /// digits: the caller then drops these columns.
    #[target_feature(enable = "avx2,lzcnt")]
    #[inline]
    pub(super) fn add_ends(&mut self, chunk: &[u8], ends: &[u32]) -> bool {
        // Only the first few can end in the chunk's first 32 bytes, which `head` holds.
        let (head_ends, chunk_ends) = ends.split_at(ends.partition_point(|&end| end < 32));
        let head = self.head;
        let too_long = self.add_windows(&head, head_ends, 32);
        self.add_windows(chunk, chunk_ends, 0) | too_long
    }

    /// [`Self::add_ends`] where the 32 bytes that end at `end` are `bytes[end + shift - 32..]`.
    #[target_feature(enable = "avx2,lzcnt")]
    #[inline]
    fn add_windows(&mut self, bytes: &[u8], ends: &[u32], shift: usize) -> bool {
        let nine = _mm256_set1_epi8(9);
        let mut too_long = false;
        for piece in ends.chunks(PER_WIDENING as usize) {
            if self.bytes_numbers + piece.len() as u32 > PER_WIDENING {
                self.widen();
            }
            self.bytes_numbers += piece.len() as u32;
            // In locals, so that they stay in registers through the loop.
            let [mut all, mut negative] = self.bytes;
            for &end in piece {
                let at = end as usize + shift - 32;
                let last32 = load_at(bytes, at);
                let from_zero = _mm256_sub_epi8(last32, _mm256_set1_epi8(b'0' as i8));
                let digit = _mm256_cmpeq_epi8(_mm256_max_epu8(from_zero, nine), nine);
                let len = (!(_mm256_movemask_epi8(digit) as u32)).leading_zeros() as usize;
                too_long |= len > MAX_DIGITS;
                all = _mm256_add_epi8(all, _mm256_and_si256(from_zero, load_at(&KEEP, len)));
                // The byte before the digits (none when all 32 are digits).
                let minus = bytes.get((at + 31).wrapping_sub(len)) == Some(&b'-');
                let keep = load_at(&KEEP_IF_NEGATIVE, len + 64 * usize::from(minus));
                negative = _mm256_add_epi8(negative, _mm256_and_si256(from_zero, keep));
            }
            self.bytes = [all, negative];
        }
        too_long
    }

    /// Moves the byte columns into the 16-bit ones.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn widen(&mut self) {
        let zero = _mm256_setzero_si256();
        for (k, bytes) in self.bytes.iter_mut().enumerate() {
            let wide = &mut self.wide[2 * k..2 * k + 2];
            wide[0] = _mm256_add_epi16(wide[0], _mm256_unpacklo_epi8(*bytes, zero));
            wide[1] = _mm256_add_epi16(wide[1], _mm256_unpackhi_epi8(*bytes, zero));
            *bytes = zero;
        }
        self.bytes_numbers = 0;
        self.widenings += 1;
        if self.widenings == WIDENINGS_PER_FLUSH {
            self.flush();
        }
    }

    /// Moves the 16-bit columns into the 64-bit ones.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn flush(&mut self) {
        for (k, wide) in self.wide.iter_mut().enumerate() {
            let mut lanes = [0u16; 16];
            #[allow(unsafe_code)]
            // SAFETY: writes the 32 bytes of `lanes`; an unaligned store needs no alignment.
            unsafe {
                _mm256_storeu_si256(lanes.as_mut_ptr().cast(), *wide)
            };
            // Unpacking took bytes 0-7 and 16-23 (low) or 8-15 and 24-31 (high).
            let first = if k % 2 == 0 { 0 } else { 8 };
            for (lane, &n) in lanes.iter().enumerate() {
                let place = first + lane % 8 + if lane < 8 { 0 } else { 16 };
                self.flushed[k / 2][place] += u64::from(n);
            }
            *wide = _mm256_setzero_si256();
        }
        self.widenings = 0;
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn take_sum_avx2(&mut self) -> i128 {
        self.widen();
        self.flush();
        let mut sum = 0;
        let mut ten_to = 1i128;
        // Numbers of up to 19 digits: the last 19 places.
        for place in (13..32).rev() {
            let [all, minus] = [0, 1].map(|k| i128::from(self.flushed[k][place]));
            sum += ten_to * (all - 2 * minus);
            ten_to *= 10;
        }
        self.flushed = [[0; 32]; 2];
        sum
    }
}

// SAFETY (each method): a `Columns` is only made by `Columns::new`, an AVX2 function, which
// safe code can only call from functions that enable AVX2 themselves; those here and in
// `super::two_pass` only run once the CPU said it has AVX2.
#[allow(unsafe_code)]
impl Evens for Columns {
    #[inline(always)]
    fn block(&mut self, numbers: u32) {
        if self.bytes_numbers + numbers > PER_WIDENING {
            unsafe { self.widen() }
        }
    }

    #[inline(always)]
    fn add(&mut self, chunk: &[u8], start: usize, end: usize, negative: bool) {
        unsafe { self.add_avx2(chunk, start, end, negative) }
    }

    #[inline(always)]
    fn take_sum(&mut self) -> i128 {
        unsafe { self.take_sum_avx2() }
    }
}

/// The CPU has every feature the AVX2 paths enable (`avx2,bmi1,lzcnt,popcnt`).
pub(super) fn cpu_has_avx2() -> bool {
    use std::arch::is_x86_feature_detected as has;
    has!("avx2") && has!("bmi1") && has!("lzcnt") && has!("popcnt")
}

/// [`run_avx2`] where the CPU has AVX2 (the tests' way to the one-pass path alone).
#[cfg(test)]
pub(super) fn one_pass(chunk: &[u8], i: usize, out: &mut Run) -> Option<usize> {
    if !cpu_has_avx2() {
        return None;
    }
    #[allow(unsafe_code)]
    // SAFETY: the CPU has every feature `run_avx2` asks.
    Some(unsafe { run_avx2(chunk, i, out) })
}
