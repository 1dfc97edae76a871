#![cfg(target_os = "linux")]

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use super::Window;

/// A file of `len` bytes, each its offset's low byte but never 0.
fn file_of(dir: &Path, name: &str, len: usize) -> (std::path::PathBuf, Vec<u8>) {
    let bytes: Vec<u8> = (0..len).map(|i| (i % 255) as u8 + 1).collect();
    let path = dir.join(name);
    File::create(&path).unwrap().write_all(&bytes).unwrap();
    (path, bytes)
}

#[test]
fn a_window_holds_the_file_s_bytes_from_any_offset() {
    if !super::asks_ahead() {
        return; // No map made on this CPU.
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = file_of(dir.path(), "input", 50_000);
    let file = File::open(&path).unwrap();
    for (offset, len) in [
        (0, 50_000),
        (1, 4095),
        (4096, 4096),
        (5_000, 7_000),
        (49_999, 1),
    ] {
        let window = Window::map(&file, offset, len).unwrap();
        assert_eq!(
            window.bytes(),
            &bytes[offset as usize..][..len],
            "{offset}+{len}"
        );
        assert!(!window.cut_short());
    }
    assert!(Window::map(&file, 0, 0).is_none(), "an empty window");
}

#[test]
fn a_file_cut_short_under_its_window_reads_as_zeros_and_says_so() {
    if !super::asks_ahead() {
        return; // No map made on this CPU.
    }
    let dir = tempfile::tempdir().unwrap();
    let (path, bytes) = file_of(dir.path(), "input", 64 * 1024);
    let (other_path, other_bytes) = file_of(dir.path(), "other", 64 * 1024);
    let file = File::open(&path).unwrap();
    let other = File::open(&other_path).unwrap();
    let window = Window::map(&file, 0, bytes.len()).unwrap();
    let untouched = Window::map(&other, 0, other_bytes.len()).unwrap();
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(10_000)
        .unwrap();
    // Without the guard, this read past the new end ends the test process.
    let read = window.bytes().to_vec();
    assert!(window.cut_short());
    assert_eq!(read[..10_000], bytes[..10_000]);
    assert!(read[10_000..].iter().all(|&b| b == 0), "zeros past the cut");
    assert_eq!(untouched.bytes(), &other_bytes[..]);
    assert!(!untouched.cut_short(), "another window is not marked");
    drop(window);
    // The slot freed, and reused clean.
    let again = Window::map(&other, 0, 4096).unwrap();
    assert!(!again.cut_short());
}

const CHILD: &str = "EVEN_SUM_SIGBUS_CHILD";

#[test]
fn a_fault_outside_every_window_still_ends_the_process() {
    if !super::asks_ahead() {
        return; // No map made on this CPU.
    }
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "even_sum::file::mapped::tests::child_reads_past_the_end_of_a_map_of_its_own",
            "--exact",
            "--test-threads=1",
        ])
        .env(CHILD, dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(libc::SIGBUS), "{status}");
}

/// Only in the child of the test above: with the guard installed (a window mapped), reads a
/// page of a map the guard does not know, past its file's end.
#[test]
fn child_reads_past_the_end_of_a_map_of_its_own() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return;
    };
    use std::os::fd::AsRawFd;
    let (path, _) = file_of(Path::new(&dir), "child", 3 * 4096);
    let file = File::open(&path).unwrap();
    let _window = Window::map(&file, 0, 4096).unwrap();
    #[allow(unsafe_code)]
    // SAFETY: maps 3 pages of the file read-only; the read below is meant to fault.
    let at = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            3 * 4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    assert_ne!(at, libc::MAP_FAILED);
    OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(0)
        .unwrap();
    #[allow(unsafe_code)]
    // SAFETY: not safe, on purpose: this read is past the file's new end and must fault.
    let byte = unsafe { std::ptr::read_volatile(at.cast::<u8>().add(2 * 4096)) };
    panic!("read {byte} past the file's end without a fault");
}
