//! A file's even sum on several threads: the file is cut into ranges that start at whitespace
//! (so no number is split), each range is read (through a memory map where it can be, see
//! `mapped`) and summed on a thread of its own, and the totals are added. The cutting takes
//! any positioned read, so ranges of an object in S3 can be cut the same way.

mod mapped;

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::{BadToken, Summer, Totals};
use mapped::Window;

/// Bytes read at a time: small enough that the kernel's copy and the summing both stay in the
/// core's own cache (1 MiB was 4 % slower), large enough that syscalls cost nothing measurable.
/// A mapped window is fed in pieces of the same size: the two passes, once a piece gives them
/// back, leave the rest of that piece to one pass (`Summer::feed`), not the whole window.
const CHUNK: usize = 1 << 17;

/// Bytes mapped at a time: the mapped pages count in the process's memory (its resident set),
/// so windows are kept small; 1 MiB to 32 MiB summed 1 GiB in the same time.
const WINDOW: u64 = 4 << 20;

/// Why a file could not be summed.
#[derive(Debug, thiserror::Error)]
pub enum SumError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Bad(#[from] BadToken),
}

/// Where each of at most `parts` ranges of an input of `len` bytes starts: the first at 0, each
/// other at the first whitespace byte at or after an even cut. `read_at(offset, buf)` reads
/// the input from `offset` (0 bytes at its end).
pub fn cuts(
    len: u64,
    parts: usize,
    read_at: impl Fn(u64, &mut [u8]) -> io::Result<usize>,
) -> io::Result<Vec<u64>> {
    let parts = parts.max(1) as u64;
    let mut starts = vec![0u64];
    let mut buf = vec![0u8; 4096];
    for k in 1..parts {
        let last = starts.last().copied().unwrap_or(0);
        let mut at = (len * k / parts).max(last);
        while at < len {
            let n = read_at(at, &mut buf)?;
            if n == 0 {
                at = len;
                break;
            }
            match buf[..n].iter().position(u8::is_ascii_whitespace) {
                Some(p) => {
                    at += p as u64;
                    break;
                }
                None => at += n as u64,
            }
        }
        if at < len && at > last {
            starts.push(at);
        }
    }
    Ok(starts)
}

/// The error for a failed read of `path`.
fn read_error(path: &Path) -> impl Fn(io::Error) -> SumError + Copy + '_ {
    move |source| SumError::Read {
        path: path.display().to_string(),
        source,
    }
}

/// The totals of the file at `path`, summed on `threads` threads.
pub fn sum_file(path: &Path, threads: usize) -> Result<Totals, SumError> {
    let read_error = read_error(path);
    let file = File::open(path).map_err(read_error)?;
    let len = file.metadata().map_err(read_error)?.len();
    let starts = cuts(len, threads, |at, buf| file.read_at(buf, at)).map_err(read_error)?;
    let ends = starts.iter().skip(1).copied().chain([len]);
    let ranges: Vec<(u64, u64)> = starts.iter().copied().zip(ends).collect();
    let results: Vec<Result<Totals, SumError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|&(from, to)| {
                let file = &file;
                scope.spawn(move || sum_range(file, path, from, to))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle.join().unwrap_or_else(|_| {
                    Err(read_error(io::Error::other("a summing thread stopped")))
                })
            })
            .collect()
    });
    let mut totals = Totals::default();
    let mut first_bad: Option<BadToken> = None;
    for result in results {
        match result {
            Ok(part) => totals = totals.merge(part),
            Err(SumError::Bad(bad)) => {
                // The file's first bad token, whichever thread met it.
                if first_bad.as_ref().is_none_or(|b| bad.offset < b.offset) {
                    first_bad = Some(bad);
                }
            }
            Err(other) => return Err(other),
        }
    }
    match first_bad {
        Some(bad) => Err(SumError::Bad(bad)),
        None => Ok(totals),
    }
}

/// The totals of bytes `from..to` of `file` (read from `path`); `from` must be the input's
/// start or a whitespace byte (see [`cuts`]). Read through a memory map where it can be
/// (`mapped`), else into a buffer.
pub fn sum_range(file: &File, path: &Path, from: u64, to: u64) -> Result<Totals, SumError> {
    sum_range_in(file, path, from, to, WINDOW)
}

/// [`sum_range`], mapping `window` bytes at a time.
pub(super) fn sum_range_in(
    file: &File,
    path: &Path,
    from: u64,
    to: u64,
    window: u64,
) -> Result<Totals, SumError> {
    let mut summer = Summer::new(from);
    let mut buf = Vec::new();
    let mut at = from;
    while at < to {
        let end = to.min(at.saturating_add(window));
        let mapped = usize::try_from(end - at)
            .ok()
            .and_then(|len| Window::map(file, at, len));
        match mapped {
            Some(mapped) => {
                let fed = mapped
                    .bytes()
                    .chunks(CHUNK)
                    .try_for_each(|piece| summer.feed(piece));
                // A file cut inside a page reads as zeros up to that page's end, with no
                // fault: the zeros stop the summing, and the file's length tells why.
                if mapped.cut_short() || fed.is_err() {
                    let now = file.metadata().map_or(end, |m| m.len());
                    if mapped.cut_short() || now < end {
                        return Err(changed(path, now.min(end), to));
                    }
                }
                fed?;
            }
            None => read_into(&mut summer, &mut buf, (file, path), at, end)?,
        }
        at = end;
    }
    Ok(summer.finish()?)
}

/// Feeds bytes `from..to` of `file` to `summer`, read into `buf` (a chunk's room made there
/// the first time).
pub(super) fn read_into(
    summer: &mut Summer,
    buf: &mut Vec<u8>,
    (file, path): (&File, &Path),
    from: u64,
    to: u64,
) -> Result<(), SumError> {
    buf.resize(CHUNK, 0);
    let mut at = from;
    while at < to {
        let want = usize::try_from(to - at).unwrap_or(CHUNK).min(CHUNK);
        let n = file
            .read_at(&mut buf[..want], at)
            .map_err(read_error(path))?;
        if n == 0 {
            return Err(changed(path, at, to));
        }
        summer.feed(&buf[..n])?;
        at += n as u64;
    }
    Ok(())
}

/// The error for a file that ended at byte `end`, short of the `to` it had when measured.
fn changed(path: &Path, end: u64, to: u64) -> SumError {
    read_error(path)(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the file ended at byte {end}, before byte {to}: it changed while read"),
    ))
}
