//! `app even-sum FILE`: the totals as JSON on stdout, the first bad token's byte on stderr.

use std::process::Command;

fn run(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_app"))
        .arg("even-sum")
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("app-even-sum-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_file_s_even_sum_is_printed_as_json_on_any_number_of_threads() {
    let path = file("ok.txt", "1 2 3 4\n-6 7 123456789012345678901234567890\n");
    for threads in ["1", "3"] {
        let (ok, stdout, stderr) = run(&[path.to_str().unwrap(), "--threads", threads]);
        assert!(ok, "{stderr}");
        let answer: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(answer["sum"], "123456789012345678901234567890");
        assert_eq!(answer["even_count"], 4);
        assert_eq!(answer["numbers"], 7);
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn a_bad_token_a_missing_file_and_bad_arguments_are_named() {
    let path = file("bad.txt", "10 20 3,5 40");
    let (ok, _, stderr) = run(&[path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stderr.contains("byte 6") && stderr.contains("3,5"),
        "{stderr}"
    );
    std::fs::remove_file(path).unwrap();

    let (ok, _, stderr) = run(&["/nonexistent/numbers.txt"]);
    assert!(!ok);
    assert!(
        stderr.contains("cannot read /nonexistent/numbers.txt"),
        "{stderr}"
    );

    let (ok, _, stderr) = run(&["x.txt", "--threads", "0"]);
    assert!(!ok);
    assert!(stderr.contains("--threads"), "{stderr}");
    let (ok, _, stderr) = run(&[]);
    assert!(!ok);
    assert!(stderr.contains("usage"), "{stderr}");
}
