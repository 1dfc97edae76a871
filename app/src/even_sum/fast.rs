//! The fast path over whole numbers inside one chunk: eight bytes at a time.
//!
//! Most tokens are a sign or none, up to 18 digits, and one whitespace byte, all inside the
//! chunk being read. For those, the end of the digits is found a word (eight bytes) at a time,
//! the parity is read off the last digit (an odd number is counted and never parsed), and an
//! even number's digits are turned into a value eight at a time with shifts and multiplies.
//! Anything else (a longer number, a token cut by the chunk's end, a bad byte) stops the run
//! at that token's first byte, for the byte-at-a-time reader to take over.

/// What a run counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub numbers: u64,
    pub even_count: u64,
    /// The sum of the even numbers: 18-digit numbers, at most one per two bytes of input
    /// (a run covers at most one chunk), so far from overflowing.
    pub sum: i128,
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// Digits fit a `u64` up to this many.
const MAX_DIGITS: usize = 18;

fn word(bytes: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = bytes.get(at..at + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

fn wide_word(bytes: &[u8], at: usize) -> Option<u128> {
    let b: [u8; 16] = bytes.get(at..at + 16)?.try_into().ok()?;
    Some(u128::from_le_bytes(b))
}

/// How many digits start at `chunk[at]` (stopping at 32), sixteen bytes at a time: one step
/// for nearly every number.
#[inline]
fn digits_from(chunk: &[u8], at: usize) -> usize {
    const ONES: u128 = 0x0101_0101_0101_0101_0101_0101_0101_0101;
    const HIGH: u128 = ONES * 0x80;
    let mut n = 0;
    while n < 32 {
        let Some(w) = wide_word(chunk, at + n) else {
            // The chunk's last bytes, one at a time.
            return n + chunk[at + n..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
        };
        // A byte is not a digit when below '0' or above '9'. Borrows and carries run only
        // from such a byte to later ones, so the first one flagged is the first non-digit.
        let below = w.wrapping_sub(ONES * u128::from(b'0'));
        let above = w.wrapping_add(ONES * (0x7F - u128::from(b'9')));
        let not_digit = (below | above | w) & HIGH;
        if not_digit != 0 {
            return n + (not_digit.trailing_zeros() / 8) as usize;
        }
        n += 16;
    }
    n
}

/// The value of eight ASCII digits in a little-endian word (the first digit lowest).
#[inline]
pub(super) fn eight(w: u64) -> u64 {
    let w = w & 0x0F0F_0F0F_0F0F_0F0F;
    let w = (w & 0x000F_000F_000F_000F) * 10 + ((w >> 8) & 0x000F_000F_000F_000F);
    let w = (w & 0x0000_00FF_0000_00FF) * 100 + ((w >> 16) & 0x0000_00FF_0000_00FF);
    (w & 0x0000_0000_0000_FFFF) * 10_000 + ((w >> 32) & 0x0000_0000_0000_FFFF)
}

/// The value of the `len` (at most 8) digits that end at `chunk[end]`, when the eight bytes
/// before `end` are in the chunk.
#[inline]
fn up_to_eight(chunk: &[u8], end: usize, len: usize) -> Option<u64> {
    if len == 0 {
        return Some(0);
    }
    let w = word(chunk, end.checked_sub(8)?)?;
    // Bytes before the digits become '0's (the top `len` bytes are the digits).
    let keep = u64::MAX << (8 * (8 - len));
    Some(eight((w & keep) | ((ONES * u64::from(b'0')) & !keep)))
}

/// The value of the digits `chunk[start..end]` (1 to 18 of them).
#[inline]
fn value(chunk: &[u8], start: usize, end: usize) -> u64 {
    // Eight digits at a time from the end: 18 digits are groups of 2, 8 and 8.
    let fast = (|| {
        let (mut v, mut scale, mut at) = (0u64, 1u64, end);
        while at > start {
            let len = (at - start).min(8);
            v += up_to_eight(chunk, at, len)? * scale;
            scale = scale.saturating_mul(100_000_000);
            at -= len;
        }
        Some(v)
    })();
    fast.unwrap_or_else(|| {
        chunk[start..end]
            .iter()
            .fold(0, |v, d| v * 10 + u64::from(d - b'0'))
    })
}

/// Counts the whole numbers from `chunk[i]` on (whitespace first); returns where it stopped:
/// the end of the chunk, or the first byte of a token it leaves to the careful reader.
pub fn run(chunk: &[u8], mut i: usize, out: &mut Run) -> usize {
    loop {
        while chunk.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let Some(&first) = chunk.get(i) else {
            return i;
        };
        let signed = matches!(first, b'-' | b'+');
        let start = i + usize::from(signed);
        let len = digits_from(chunk, start);
        let end = start + len;
        let ended = chunk.get(end).is_some_and(u8::is_ascii_whitespace);
        if len == 0 || len > MAX_DIGITS || !ended {
            return i;
        }
        out.numbers += 1;
        // '0' is even, so a digit's parity is its byte's.
        if chunk[end - 1] & 1 == 0 {
            out.even_count += 1;
            let v = i128::from(value(chunk, start, end));
            out.sum += if first == b'-' { -v } else { v };
        }
        i = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_counted_a_word_at_a_time_and_at_the_end() {
        assert_eq!(digits_from(b"1234567890123 x", 0), 13);
        assert_eq!(digits_from(b"12/45", 0), 2);
        assert_eq!(digits_from(b"12:45", 0), 2);
        assert_eq!(
            digits_from(b"\xb1\xb2345678", 0),
            0,
            "high bytes are not digits"
        );
        assert_eq!(digits_from(b"987", 0), 3);
        assert_eq!(digits_from(&[b'7'; 40], 0), 32);
    }

    #[test]
    fn values_of_every_length_match_the_slow_reading() {
        let text = b"        123456789012345678 ";
        for len in 1..=18 {
            let end = 26;
            let digits = &text[end - len..end];
            let slow: u64 = std::str::from_utf8(digits).unwrap().parse().unwrap();
            assert_eq!(value(text, end - len, end), slow, "{len} digits");
        }
        // Too near the chunk's start for a word: one digit at a time.
        assert_eq!(value(b"42 ", 0, 2), 42);
    }

    #[test]
    fn a_run_counts_whole_numbers_and_stops_at_what_it_leaves_alone() {
        let mut out = Run::default();
        let text = b"  12 -7\t+40\r\n-1000000000000000000 5 x";
        let stopped = run(text, 0, &mut out);
        assert_eq!(
            &text[stopped..stopped + 4],
            b"-100",
            "19 digits: the careful reader's"
        );
        assert_eq!(
            out,
            Run {
                numbers: 3,
                even_count: 2,
                sum: 52
            }
        );
        let mut out = Run::default();
        assert_eq!(
            run(b"1 22", 0, &mut out),
            2,
            "a number cut by the chunk's end"
        );
        assert_eq!(out.numbers, 1);
    }
}
