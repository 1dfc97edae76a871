//! The even-sum task's arithmetic: the exact sum of the even integers in a text of decimal
//! integers separated by ASCII whitespace, read as a stream of chunks of any size.
//!
//! A token is an optional sign and one or more digits; anything else fails the input with the
//! byte offset where the first bad token starts. Numbers of up to 19 digits (nearly all) are
//! added in a 128-bit integer: 5 GB of input holds under 2.7 billion numbers, each under
//! 10^19, so that sum stays under 2.7 · 10^28, far from the 1.7 · 10^38 an `i128` holds.
//! Longer numbers (any length: a 10,000-digit token is a valid number) go to an arbitrary
//! precision integer. The result is exact for every input.
//!
//! Three readers share the work: [`blocks`] 64 bytes per step (with AVX2 in `two_pass` and
//! `columns`), [`fast`] a word at a time a chunk's last bytes, [`Summer`] a byte at a time what
//! they leave.
//!
//! [`file`] cuts a file into ranges at whitespace and sums them on several threads, each read
//! through a memory map where it can be.

mod blocks;
#[cfg(target_arch = "x86_64")]
mod columns;
mod fast;
pub mod file;
#[cfg(target_arch = "x86_64")]
mod two_pass;

#[cfg(not(target_arch = "x86_64"))]
use blocks::run_fed as block_run;
#[cfg(target_arch = "x86_64")]
use two_pass::run as block_run;

use num_bigint::BigInt;
use serde::{Deserialize, Serialize};

/// Digits that always fit a `u64` (10^18 < 2^63).
const FAST_DIGITS: usize = 18;

/// Digits that always fit a `u128` and, with a sign, an `i128` (10^38 < 2^127).
const WIDE_DIGITS: usize = 38;

/// What an input (or a part of one) adds up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub sum: BigInt,
    pub even_count: u64,
    pub numbers: u64,
    pub bytes: u64,
}

impl Totals {
    /// Adds the totals of another part of the same input.
    pub fn merge(mut self, other: Totals) -> Totals {
        self.sum += other.sum;
        self.even_count += other.even_count;
        self.numbers += other.numbers;
        self.bytes += other.bytes;
        self
    }

    /// As the API answers it: the sum as an exact decimal string.
    pub fn answer(&self) -> Answer {
        Answer {
            sum: self.sum.to_string(),
            even_count: self.even_count,
            numbers: self.numbers,
            bytes: self.bytes,
        }
    }
}

/// The totals in JSON: `{"sum": "<exact decimal>", "even_count", "numbers", "bytes"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub sum: String,
    pub even_count: u64,
    pub numbers: u64,
    pub bytes: u64,
}

/// An input that is not whitespace-separated integers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "byte {offset}: {found:?} is not an integer (expected an optional sign and digits, separated by spaces, tabs or line breaks)"
)]
pub struct BadToken {
    /// Where the bad token starts, from the start of the whole input.
    pub offset: u64,
    /// The start of what was found there (at most 20 bytes, lossy UTF-8).
    pub found: String,
}

/// The token being read.
#[derive(Debug)]
enum Token {
    Between,
    /// A sign, no digit yet.
    Sign {
        negative: bool,
    },
    /// Up to [`FAST_DIGITS`] digits, as a number.
    Short {
        negative: bool,
        value: u64,
        digits: usize,
    },
    /// Up to [`WIDE_DIGITS`] digits, as a number.
    Wide {
        negative: bool,
        value: u128,
        digits: usize,
    },
    /// More digits than that, as text.
    Long {
        negative: bool,
        digits: Vec<u8>,
    },
}

/// Sums a stream fed chunk by chunk; a token may span chunks.
#[derive(Debug)]
pub struct Summer {
    small: i128,
    /// Numbers of 19 to 38 digits; moved to `large` before it would overflow.
    wide: i128,
    large: BigInt,
    even_count: u64,
    numbers: u64,
    /// Offset of the next byte, from the start of the whole input.
    at: u64,
    started: u64,
    token: Token,
    /// Where the current token starts, and its first bytes (for the error).
    token_at: u64,
    token_start: Vec<u8>,
}

impl Summer {
    /// A summer for the part of an input that starts at byte `offset`.
    pub fn new(offset: u64) -> Self {
        Self {
            small: 0,
            wide: 0,
            large: BigInt::default(),
            even_count: 0,
            numbers: 0,
            at: offset,
            started: offset,
            token: Token::Between,
            token_at: offset,
            token_start: Vec::new(),
        }
    }

    /// Reads `chunk`, the bytes that follow what was fed before.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), BadToken> {
        let mut i = 0;
        let mut try_two = true; // Until two passes give the chunk back (`two_pass::run`).
        while let Some(&byte) = chunk.get(i) {
            i = match self.token {
                Token::Short {
                    negative,
                    value,
                    digits,
                } => self.short_run(chunk, i, (negative, value, digits))?,
                Token::Between => {
                    // Whole numbers a block at a time; what it leaves, a byte at a time.
                    let mut run = fast::Run::default();
                    let next = block_run(chunk, i, &mut run, &mut try_two);
                    self.numbers += run.numbers;
                    self.even_count += run.even_count;
                    self.small += run.sum;
                    self.between_run(chunk, next)?
                }
                // Signs and numbers past the fast path, one byte at a time.
                Token::Sign { .. } | Token::Wide { .. } | Token::Long { .. } => {
                    self.byte(byte, chunk, i)?;
                    i + 1
                }
            };
        }
        self.keep_token_start(chunk);
        self.at += chunk.len() as u64;
        Ok(())
    }

    /// The hot path: the digits of a number that fits 64 bits from `chunk[i]` on, and the
    /// whitespace that ends it, on local copies. Returns where to go on.
    #[inline]
    fn short_run(
        &mut self,
        chunk: &[u8],
        mut i: usize,
        (negative, mut value, mut digits): (bool, u64, usize),
    ) -> Result<usize, BadToken> {
        while let Some(digit) = chunk.get(i).map(|b| b.wrapping_sub(b'0')) {
            if digit >= 10 || digits >= FAST_DIGITS {
                break;
            }
            value = value * 10 + u64::from(digit);
            digits += 1;
            i += 1;
        }
        match chunk.get(i) {
            Some(b) if b.is_ascii_whitespace() => {
                self.count_short(negative, value);
                self.token = Token::Between;
                Ok(i + 1)
            }
            other => {
                self.token = Token::Short {
                    negative,
                    value,
                    digits,
                };
                if let Some(&b) = other {
                    self.byte(b, chunk, i)?;
                }
                Ok(i + 1)
            }
        }
    }

    /// Whitespace between numbers from `chunk[i]` on, and the first byte of the next token.
    #[inline]
    fn between_run(&mut self, chunk: &[u8], mut i: usize) -> Result<usize, BadToken> {
        while chunk.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        if let Some(&b) = chunk.get(i) {
            self.byte(b, chunk, i)?;
        }
        Ok(i + 1)
    }

    /// Counts a number of the fast path.
    #[inline]
    fn count_short(&mut self, negative: bool, value: u64) {
        self.numbers += 1;
        if value.is_multiple_of(2) {
            self.even_count += 1;
            let value = i128::from(value);
            self.small += if negative { -value } else { value };
        }
    }

    /// A number still being read when a chunk ends: its first bytes, for an error that the
    /// next chunk may find in it.
    fn keep_token_start(&mut self, chunk: &[u8]) {
        if matches!(self.token, Token::Between) {
            return;
        }
        match self.token_at.checked_sub(self.at) {
            Some(start) => {
                let start = usize::try_from(start)
                    .unwrap_or(chunk.len())
                    .min(chunk.len());
                self.token_start = chunk[start..].iter().copied().take(20).collect();
            }
            None => {
                let room = 20usize.saturating_sub(self.token_start.len());
                self.token_start.extend(chunk.iter().take(room));
            }
        }
    }

    /// The totals, once every byte has been fed.
    pub fn finish(mut self) -> Result<Totals, BadToken> {
        self.end_token(&[], 0)?;
        Ok(Totals {
            sum: BigInt::from(self.small) + BigInt::from(self.wide) + self.large,
            even_count: self.even_count,
            numbers: self.numbers,
            bytes: self.at - self.started,
        })
    }

    /// One byte that is not on the hot path.
    #[inline]
    fn byte(&mut self, byte: u8, chunk: &[u8], i: usize) -> Result<(), BadToken> {
        if byte.is_ascii_digit() {
            self.digit(byte, i);
            return Ok(());
        }
        match (&self.token, byte) {
            (Token::Between, b'+' | b'-') => {
                self.token_at = self.at + i as u64;
                self.token = Token::Sign {
                    negative: byte == b'-',
                };
            }
            (Token::Between, b) if b.is_ascii_whitespace() => {}
            (_, b) if b.is_ascii_whitespace() => self.end_token(chunk, i)?,
            (Token::Between, _) => {
                self.token_at = self.at + i as u64;
                return Err(self.bad(chunk, i));
            }
            _ => return Err(self.bad(chunk, i)),
        }
        Ok(())
    }

    /// A digit at `chunk[i]`: starts a number or makes the one being read longer (wider).
    fn digit(&mut self, byte: u8, i: usize) {
        let d = byte - b'0';
        self.token = match std::mem::replace(&mut self.token, Token::Between) {
            Token::Between => {
                self.token_at = self.at + i as u64;
                Token::Short {
                    negative: false,
                    value: u64::from(d),
                    digits: 1,
                }
            }
            Token::Sign { negative } => Token::Short {
                negative,
                value: u64::from(d),
                digits: 1,
            },
            Token::Short {
                negative,
                value,
                digits,
            } if digits < FAST_DIGITS => Token::Short {
                negative,
                value: value * 10 + u64::from(d),
                digits: digits + 1,
            },
            Token::Short {
                negative,
                value,
                digits,
            } => Token::Wide {
                negative,
                value: u128::from(value) * 10 + u128::from(d),
                digits: digits + 1,
            },
            Token::Wide {
                negative,
                value,
                digits,
            } if digits < WIDE_DIGITS => Token::Wide {
                negative,
                value: value * 10 + u128::from(d),
                digits: digits + 1,
            },
            Token::Wide {
                negative, value, ..
            } => {
                let mut digits = value.to_string().into_bytes();
                digits.push(byte);
                Token::Long { negative, digits }
            }
            Token::Long {
                negative,
                mut digits,
            } => {
                digits.push(byte);
                Token::Long { negative, digits }
            }
        };
    }

    /// Counts the token that ends before `chunk[i]` (or at the end of the input).
    fn end_token(&mut self, chunk: &[u8], i: usize) -> Result<(), BadToken> {
        match std::mem::replace(&mut self.token, Token::Between) {
            Token::Between => {}
            Token::Sign { .. } => return Err(self.bad(chunk, i)),
            Token::Short {
                negative, value, ..
            } => self.count_short(negative, value),
            Token::Wide {
                negative, value, ..
            } => {
                self.numbers += 1;
                if value.is_multiple_of(2) {
                    self.even_count += 1;
                    // Under 10^38, so it fits an i128; the running sum may not.
                    let value = i128::try_from(value).unwrap_or(i128::MAX);
                    let value = if negative { -value } else { value };
                    match self.wide.checked_add(value) {
                        Some(sum) => self.wide = sum,
                        None => {
                            self.large += BigInt::from(self.wide);
                            self.wide = value;
                        }
                    }
                }
            }
            Token::Long { negative, digits } => {
                self.numbers += 1;
                if digits.last().is_some_and(|d| (d - b'0').is_multiple_of(2)) {
                    self.even_count += 1;
                    let value = BigInt::parse_bytes(&digits, 10).unwrap_or_default();
                    self.large += if negative { -value } else { value };
                }
            }
        }
        Ok(())
    }

    /// The error for the token that started at `token_at`, now that `chunk[i]` broke it.
    fn bad(&self, chunk: &[u8], i: usize) -> BadToken {
        // Begun in this chunk: all of it is here; begun before: its start was kept.
        let (mut found, from) = match self.token_at.checked_sub(self.at) {
            Some(start) => (Vec::new(), usize::try_from(start).unwrap_or(i).min(i)),
            None => (self.token_start.clone(), 0),
        };
        let room = 20usize.saturating_sub(found.len());
        let rest = chunk.get(from..).unwrap_or_default();
        found.extend(
            rest.iter()
                .enumerate()
                .take_while(|(k, b)| from + k <= i || !b.is_ascii_whitespace())
                .map(|(_, b)| *b)
                .take(room),
        );
        let found = String::from_utf8_lossy(&found).trim_end().to_owned();
        BadToken {
            offset: self.token_at,
            found,
        }
    }
}

/// The totals of a whole input held in memory (tests, small bodies).
pub fn sum_bytes(input: &[u8]) -> Result<Totals, BadToken> {
    let mut summer = Summer::new(0);
    summer.feed(input)?;
    summer.finish()
}

#[cfg(test)]
pub(crate) mod tests;
