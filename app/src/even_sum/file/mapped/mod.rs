//! A window of a file read through a memory map, so that the summing reads the page cache
//! where it lies: read into a buffer of ours, a third of a summing thread's time went to the
//! kernel's copy (`docs/benchmarks.md`).
//!
//! The window is read ahead into memory when it is mapped (`MAP_POPULATE`, one system call
//! per window instead of a page fault per 64 KiB), and `crate::even_sum::two_pass` asks for
//! the bytes a few blocks ahead of those it reads. A file cut short under the map never ends the process
//! ([`guard`]): the missing pages read as zeros and [`Window::cut_short`] says so.
//!
//! Linux on x86-64 with AVX2 only: without the two passes' requests ahead, a block read
//! straight from memory waits for its bytes and a map is twice as slow as reading. Elsewhere,
//! and whenever a window cannot be mapped (a file system without memory maps, every guard slot
//! taken), [`Window::map`] says `None` and the caller reads.
//!
//! A byte of the file written while it is mapped may be seen half way through a window's
//! summing; a file changed while summed has no meaningful sum either way, read or mapped.

#[cfg(target_os = "linux")]
mod guard;
#[cfg(test)]
mod tests;

use std::fs::File;

/// Bytes `[offset, offset + len)` of a file, mapped read-only.
#[cfg(target_os = "linux")]
pub struct Window {
    /// Declared first, so dropped first: the window leaves the guard before it is unmapped.
    registered: guard::Registered,
    map: Map,
    /// From the start of the map (at a page boundary) to `offset`.
    skip: usize,
    len: usize,
}

/// A region of the address space mapped from a file, unmapped when dropped.
#[cfg(target_os = "linux")]
struct Map {
    at: *mut std::os::raw::c_void,
    len: usize,
}

#[cfg(target_os = "linux")]
impl Drop for Map {
    fn drop(&mut self) {
        #[allow(unsafe_code)]
        // SAFETY: unmaps a region that `Window::map` mapped and nothing reads any more (the
        // window's slices borrow it).
        unsafe {
            libc::munmap(self.at, self.len);
        }
    }
}

#[cfg(target_os = "linux")]
impl Window {
    /// Maps bytes `[offset, offset + len)` of `file` and reads them into memory; `None` when
    /// it cannot (the caller then reads them).
    pub fn map(file: &File, offset: u64, len: usize) -> Option<Self> {
        use std::os::fd::AsRawFd;
        if !asks_ahead() {
            return None;
        }
        let page = guard::page_size()?;
        let skip = usize::try_from(offset % page as u64).ok()?;
        let from = libc::off_t::try_from(offset - skip as u64).ok()?;
        let map_len = skip.checked_add(len).filter(|&n| n > 0)?;
        #[allow(unsafe_code)]
        // SAFETY: a new read-only shared mapping chosen by the kernel; nothing else is
        // touched, and the returned address is checked before it is used.
        let at = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                file.as_raw_fd(),
                from,
            )
        };
        if at == libc::MAP_FAILED {
            return None;
        }
        let map = Map { at, len: map_len };
        let registered = guard::Registered::new(at as usize, map_len)?;
        Some(Self {
            registered,
            map,
            skip,
            len,
        })
    }

    /// The window's bytes (zeros where the file was found cut short).
    pub fn bytes(&self) -> &[u8] {
        #[allow(unsafe_code)]
        // SAFETY: `skip + len` bytes are mapped readable at `map.at` for as long as `self`
        // lives; a page the file no longer backs reads as zeros (`guard`), never faults.
        unsafe {
            std::slice::from_raw_parts(self.map.at.cast::<u8>().add(self.skip), self.len)
        }
    }

    /// True when a read of [`Self::bytes`] met a page past the file's end: the file was cut
    /// short after it was measured, and the bytes are not all its own.
    pub fn cut_short(&self) -> bool {
        self.registered.cut_short()
    }
}

/// Whether the summing asks for a mapped window's bytes ahead of reading them
/// (`crate::even_sum::two_pass`).
#[cfg(target_os = "linux")]
fn asks_ahead() -> bool {
    #[cfg(target_arch = "x86_64")]
    return crate::even_sum::columns::cpu_has_avx2();
    #[cfg(not(target_arch = "x86_64"))]
    return false;
}

/// Never made: there is no map off Linux.
#[cfg(not(target_os = "linux"))]
pub struct Window(std::convert::Infallible);

#[cfg(not(target_os = "linux"))]
impl Window {
    pub fn map(_file: &File, _offset: u64, _len: usize) -> Option<Self> {
        None
    }

    pub fn bytes(&self) -> &[u8] {
        match self.0 {}
    }

    pub fn cut_short(&self) -> bool {
        match self.0 {}
    }
}
