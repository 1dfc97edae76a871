//! An upload's body read in pieces of a given size, whatever sizes its chunks come in: the
//! unit both job stores write (1 MiB to a local file, 8 MiB to an S3 upload part), so a body of
//! any size is never held whole.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};

use crate::error::error_chain;

/// The body broke off before its end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the upload was cut off after {bytes} bytes: {reason}")]
pub struct CutOff {
    pub bytes: u64,
    pub reason: String,
}

/// A body read `size` bytes at a time.
#[derive(Debug)]
pub struct Pieces<S> {
    body: S,
    size: usize,
    pending: BytesMut,
    /// The part of the last chunk that did not fit in the piece before.
    left_over: Bytes,
    bytes: u64,
    ended: bool,
}

impl<S, E> Pieces<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::error::Error + 'static,
{
    pub fn new(body: S, size: usize) -> Self {
        Self {
            body,
            size: size.max(1),
            pending: BytesMut::new(),
            left_over: Bytes::new(),
            bytes: 0,
            ended: false,
        }
    }

    /// The next piece: `size` bytes, or what is left at the end (so a piece shorter than
    /// `size` is the last); `None` once the body is all given. Each piece is one allocation
    /// of `size` bytes: a chunk that crosses its end is cut, never grown into.
    pub async fn next(&mut self) -> Result<Option<Bytes>, CutOff> {
        if !self.ended {
            self.pending.reserve(self.size);
        }
        while !self.ended && self.pending.len() < self.size {
            let chunk = if self.left_over.is_empty() {
                match self.body.next().await {
                    Some(Ok(chunk)) => {
                        self.bytes += chunk.len() as u64;
                        chunk
                    }
                    Some(Err(err)) => {
                        return Err(CutOff {
                            bytes: self.bytes,
                            reason: error_chain(&err),
                        });
                    }
                    None => {
                        self.ended = true;
                        break;
                    }
                }
            } else {
                std::mem::take(&mut self.left_over)
            };
            let room = self.size - self.pending.len();
            if chunk.len() > room {
                self.pending.extend_from_slice(&chunk[..room]);
                self.left_over = chunk.slice(room..);
            } else {
                self.pending.extend_from_slice(&chunk);
            }
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        Ok(Some(self.pending.split().freeze()))
    }

    /// The bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(chunks: &[&'static str]) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Unpin {
        futures::stream::iter(chunks.iter().map(|c| Ok(Bytes::from_static(c.as_bytes()))))
    }

    #[tokio::test]
    async fn chunks_of_any_size_come_out_as_pieces_of_the_size() {
        let mut pieces = Pieces::new(body(&["ab", "c", "defghij", "k"]), 3);
        let mut out = Vec::new();
        while let Some(piece) = pieces.next().await.unwrap() {
            out.push(piece);
        }
        assert_eq!(out, vec!["abc", "def", "ghi", "jk"]);
        assert_eq!(pieces.bytes(), 11);
        let mut empty = Pieces::new(body(&[]), 3);
        assert_eq!(empty.next().await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_broken_body_says_how_far_it_came() {
        let chunks = vec![
            Ok(Bytes::from_static(b"12 34")),
            Err(std::io::Error::other("reset")),
        ];
        let mut pieces = Pieces::new(futures::stream::iter(chunks), 100);
        let cut = pieces.next().await.unwrap_err();
        assert_eq!(cut.bytes, 5);
        assert!(cut.reason.contains("reset"), "{cut}");
    }
}
