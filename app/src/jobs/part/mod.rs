//! One part of a job kept in a bucket: the message that carries it on the queue, the window of
//! the input a worker sums for it, and the result it leaves in the bucket.
//!
//! Parts are cut at even byte offsets by the API, which never reads the input. A worker reading
//! part `[from, to)` finds the real edges itself, the same way [`crate::even_sum::file::cuts`]
//! does on a local file: a part starts at the first whitespace byte at or after `from` (the
//! input's first byte for the first part) and ends at the first whitespace byte at or after
//! `to` (the input's end for the last). So each number is summed by exactly one part, whichever
//! worker takes which part, and redoing a part gives the same result.

use num_bigint::BigInt;
use serde::{Deserialize, Serialize};

use crate::even_sum::{Answer, BadToken, Summer, Totals};

/// What a part's message says: `{"even_sum_part": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartMessage {
    pub even_sum_part: Part,
}

/// A part of a job's input: bytes `from..to` of the object `key`, which is `len` bytes long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    pub job_id: String,
    pub client: String,
    pub key: String,
    pub index: u64,
    pub parts: u64,
    pub from: u64,
    pub to: u64,
    pub len: u64,
}

impl PartMessage {
    /// The part a queue message carries, or `None` for any other message.
    pub fn parse(body: &str) -> Option<Part> {
        if !body.contains("\"even_sum_part\"") {
            return None;
        }
        serde_json::from_str::<Self>(body)
            .ok()
            .map(|m| m.even_sum_part)
    }
}

/// The parts of an input of `len` bytes, each `part_bytes` long but the last.
pub fn ranges(len: u64, part_bytes: u64) -> Vec<(u64, u64)> {
    let step = part_bytes.max(1);
    (0..len.div_ceil(step))
        .map(|i| (i * step, ((i + 1) * step).min(len)))
        .collect()
}

/// What summing a part came to, as kept in the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartResult {
    pub index: u64,
    pub started_ms: u64,
    pub finished_ms: u64,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A part's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Its numbers, summed.
    Summed { totals: Answer },
    /// It holds a token that is not a number.
    Bad { offset: u64, found: String },
    /// It could not be read (the input is gone, or every attempt failed).
    Failed { reason: String },
    /// Its last attempt is under way: if no other outcome replaces this one by `expires_ms`,
    /// that attempt's worker stopped too, and the part has failed for `reason`.
    LastAttempt { reason: String, expires_ms: u64 },
}

impl Outcome {
    pub fn bad(token: BadToken) -> Self {
        Self::Bad {
            offset: token.offset,
            found: token.found,
        }
    }
}

/// Totals back from their JSON form (the sum is an exact decimal).
pub fn totals(answer: &Answer) -> Option<Totals> {
    Some(Totals {
        sum: answer.sum.parse::<BigInt>().ok()?,
        even_count: answer.even_count,
        numbers: answer.numbers,
        bytes: answer.bytes,
    })
}

/// Where a window is in the bytes it is fed.
#[derive(Debug)]
enum Edge {
    /// Before the part's first whitespace byte: these bytes belong to the part before.
    Skipping,
    /// Inside the part.
    Inside(Summer),
    /// Past `to`, finishing the number that crosses it.
    Tail(Summer),
    /// Every byte of the part seen.
    Done(Totals),
}

/// Sums part `[from, to)` of an input of `len` bytes from a stream of its bytes that starts at
/// `from`; stops wanting bytes once the part's last number has ended.
#[derive(Debug)]
pub struct Window {
    to: u64,
    len: u64,
    /// Offset of the next byte fed.
    at: u64,
    edge: Edge,
}

/// A part's bytes ended before the part did: the object changed while it was read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the input ended at byte {at}, before byte {to}: it changed while it was read")]
pub struct ShortInput {
    pub at: u64,
    pub to: u64,
}

/// Why a window could not be summed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error(transparent)]
    Bad(#[from] BadToken),
    #[error(transparent)]
    Short(#[from] ShortInput),
}

impl Window {
    pub fn new(from: u64, to: u64, len: u64) -> Self {
        let edge = if from == 0 {
            Edge::Inside(Summer::new(0))
        } else {
            Edge::Skipping
        };
        Self {
            to,
            len,
            at: from,
            edge,
        }
    }

    /// Feeds the next bytes; answers true once the part needs no more.
    pub fn feed(&mut self, mut chunk: &[u8]) -> Result<bool, BadToken> {
        while !chunk.is_empty() {
            let edge = std::mem::replace(&mut self.edge, Edge::Skipping);
            let (next, used) = self.step(edge, chunk)?;
            self.edge = next;
            self.at += used as u64;
            chunk = &chunk[used..];
            if matches!(self.edge, Edge::Done(_)) {
                return Ok(true);
            }
        }
        Ok(matches!(self.edge, Edge::Done(_)))
    }

    /// One move through `chunk`: the new edge and the bytes it used.
    fn step(&self, edge: Edge, chunk: &[u8]) -> Result<(Edge, usize), BadToken> {
        let space = chunk.iter().position(u8::is_ascii_whitespace);
        Ok(match edge {
            Edge::Skipping => match space {
                // A number that crosses `to` from before `from` leaves this part empty.
                Some(p) if self.at + p as u64 >= self.to => (Edge::Done(Totals::default()), p),
                Some(p) => (Edge::Inside(Summer::new(self.at + p as u64)), p),
                None if self.at + chunk.len() as u64 >= self.to => {
                    (Edge::Done(Totals::default()), chunk.len())
                }
                None => (Edge::Skipping, chunk.len()),
            },
            Edge::Inside(mut summer) => {
                let room = usize::try_from(self.to - self.at).unwrap_or(usize::MAX);
                let take = room.min(chunk.len());
                summer.feed(&chunk[..take])?;
                let edge = if take == room {
                    Edge::Tail(summer)
                } else {
                    Edge::Inside(summer)
                };
                (edge, take)
            }
            Edge::Tail(mut summer) => {
                let take = space.unwrap_or(chunk.len());
                summer.feed(&chunk[..take])?;
                match space {
                    Some(_) => (Edge::Done(summer.finish()?), take),
                    None => (Edge::Tail(summer), take),
                }
            }
            done @ Edge::Done(_) => (done, chunk.len()),
        })
    }

    /// The part's totals once its stream has ended (or was left once `feed` said done).
    pub fn finish(self) -> Result<Totals, WindowError> {
        match self.edge {
            Edge::Done(totals) => Ok(totals),
            // At the input's end: the number being read ends here.
            Edge::Tail(summer) if self.at >= self.len => Ok(summer.finish()?),
            Edge::Inside(summer) if self.at >= self.to.min(self.len) => Ok(summer.finish()?),
            // No whitespace up to the input's end: the part before has it all.
            Edge::Skipping if self.at >= self.len => Ok(Totals::default()),
            Edge::Tail(_) | Edge::Inside(_) | Edge::Skipping => Err(ShortInput {
                at: self.at,
                to: self.to,
            }
            .into()),
        }
    }
}

#[cfg(test)]
mod tests;
