//! What keeps a file cut short under a memory map from killing the process.
//!
//! Reading a page of a mapped file that no longer reaches that page raises `SIGBUS`, whose
//! default action ends the process: a web server summing a job's input must never die because
//! someone truncated that input. As the JVM does for its mapped buffers (and Go under
//! `debug.SetPanicOnFault`), a handler takes the signal when the faulting address lies in a
//! window registered here: it maps a page of zeros over the missing one, so the read goes on
//! (a zero byte is never a valid token), and marks the window cut short, which its reader
//! checks before it trusts what it read. Any other `SIGBUS` goes to the handler that was there
//! before (the standard library's, which tells a stack overflow), or to the default action.
//!
//! The handler does only what is safe in a signal handler: atomic loads and stores, `mmap`
//! and `sigaction` (plain system calls), and calling the previous handler.

use std::os::raw::{c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Windows mapped at once, over every thread; past that, a reader reads instead of mapping.
const SLOTS: usize = 64;

/// One registered window: `[start, end)` of the address space, and whether a page of it was
/// found missing.
struct Slot {
    taken: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    cut: AtomicBool,
}

impl Slot {
    const fn new() -> Self {
        Self {
            taken: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            cut: AtomicBool::new(false),
        }
    }
}

static WINDOWS: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

/// The `SIGBUS` action before ours, for the handler to pass other faults on to; set before
/// ours is installed.
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

/// The page size, set before the handler is installed.
static PAGE: AtomicUsize = AtomicUsize::new(0);

/// Whether the handler is installed (tried once).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// A window's place among the registered ones; unregistered when dropped.
pub(super) struct Registered(usize);

impl Registered {
    /// Registers `[start, start + len)`; `None` when the handler cannot be installed or every
    /// slot is taken (the caller then reads instead).
    pub(super) fn new(start: usize, len: usize) -> Option<Self> {
        page_size()?;
        let k = WINDOWS.iter().position(|slot| {
            slot.taken
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })?;
        let slot = &WINDOWS[k];
        slot.cut.store(false, Ordering::Release);
        // `end` last: the handler matches a slot only once both are set.
        slot.start.store(start, Ordering::Release);
        slot.end.store(start + len, Ordering::Release);
        Some(Self(k))
    }

    /// True once a read of the window found a page past the file's end.
    pub(super) fn cut_short(&self) -> bool {
        WINDOWS[self.0].cut.load(Ordering::Acquire)
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        let slot = &WINDOWS[self.0];
        slot.end.store(0, Ordering::Release);
        slot.start.store(0, Ordering::Release);
        slot.taken.store(false, Ordering::Release);
    }
}

/// The page size, with the handler installed; `None` when it could not be.
pub(super) fn page_size() -> Option<usize> {
    let installed = *INSTALLED.get_or_init(install);
    Some(PAGE.load(Ordering::Acquire)).filter(|&page| installed && page > 0)
}

#[allow(unsafe_code)]
fn install() -> bool {
    // SAFETY: `sysconf` reads a constant of the system.
    let Ok(page) = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }) else {
        return false;
    };
    PAGE.store(page, Ordering::Release);
    // SAFETY: a zeroed `sigaction` is a valid value of the type (no handler, no flags), and
    // each call gets pointers to live values of the types it expects.
    unsafe {
        let mut before: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut before) != 0 {
            return false;
        }
        PREVIOUS.get_or_init(|| before);
        let mut ours: libc::sigaction = std::mem::zeroed();
        ours.sa_sigaction = on_sigbus as *const () as libc::sighandler_t;
        ours.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut ours.sa_mask);
        libc::sigaction(libc::SIGBUS, &ours, std::ptr::null_mut()) == 0
    }
}

#[allow(unsafe_code)]
extern "C" fn on_sigbus(signal: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel hands a `SA_SIGINFO` handler a valid `siginfo_t`.
    let address = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Acquire);
    let ours = WINDOWS.iter().find(|slot| {
        let start = slot.start.load(Ordering::Acquire);
        let end = slot.end.load(Ordering::Acquire);
        start <= address && address < end
    });
    if let (Some(slot), true) = (ours, page > 0) {
        let at = address & !(page - 1);
        // SAFETY: replaces one page of a registered window (mapped read-only from a file by
        // its reader, and unmapped only after it stops reading) with a page of zeros.
        let zeros = unsafe {
            libc::mmap(
                at as *mut c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if zeros != libc::MAP_FAILED {
            slot.cut.store(true, Ordering::Release);
            return;
        }
    }
    // SAFETY: calls the handler that was installed before ours with the arguments its flags
    // say it takes, or restores the default action, so that the faulting read, run again,
    // ends the process as it would have without us.
    unsafe {
        match PREVIOUS.get() {
            Some(before) if before.sa_sigaction > libc::SIG_IGN => {
                if before.sa_flags & libc::SA_SIGINFO != 0 {
                    let handler: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
                        std::mem::transmute(before.sa_sigaction);
                    handler(signal, info, context);
                } else {
                    let handler: extern "C" fn(c_int) = std::mem::transmute(before.sa_sigaction);
                    handler(signal);
                }
            }
            _ => {
                let mut default: libc::sigaction = std::mem::zeroed();
                default.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(libc::SIGBUS, &default, std::ptr::null_mut());
            }
        }
    }
}
