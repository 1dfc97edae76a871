//! `stackctl ci`: the documented output byte for byte, shell semantics, bad files, timeouts and
//! signals.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Scratch, stackctl, stderr, stdout};

fn run_ci(scratch: &Scratch, yaml: &str) -> std::process::Output {
    let file = scratch.write("ci.yml", yaml);
    stackctl()
        .arg("ci")
        .arg("--file")
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn all_stages_succeed_prints_exactly_the_documented_lines() {
    let scratch = Scratch::new();
    let output = run_ci(
        &scratch,
        r#"stages:
  - name: "Lint"
    command: "test -d ."
  - name: "More lint"
    command: "true"
  - name: "Unit tests"
    command: "exit 0"
"#,
    );
    assert_eq!(
        stdout(&output),
        "Running stage \"Lint\"\nSuccess!\nRunning stage \"More lint\"\nSuccess!\n\
         Running stage \"Unit tests\"\nSuccess!\nAll stages completed!\n"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_failure_stops_the_pipeline_with_the_command_s_exit_code() {
    let scratch = Scratch::new();
    let output = run_ci(
        &scratch,
        r#"stages:
  - name: "Lint"
    command: "true"
  - name: "More lint"
    command: "exit 3"
  - name: "Unit tests"
    command: "touch must-not-exist"
"#,
    );
    assert_eq!(
        stdout(&output),
        "Running stage \"Lint\"\nSuccess!\nRunning stage \"More lint\"\nFailed!\n\
         Skipping all other stages and exiting.\n"
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(
        !scratch.file("must-not-exist").exists(),
        "a stage after the failure ran"
    );
}

#[test]
fn a_command_killed_by_a_signal_exits_1() {
    let scratch = Scratch::new();
    let output = run_ci(&scratch, "stages:\n  - name: k\n    command: kill -9 $$\n");
    assert!(stdout(&output).ends_with("Failed!\nSkipping all other stages and exiting.\n"));
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn commands_get_globs_quotes_pipes_and_multiple_lines_from_the_shell() {
    let scratch = Scratch::new();
    scratch.write("a.txt", "");
    scratch.write("b.txt", "");
    scratch.write("sub/c.py", "");
    let output = run_ci(
        &scratch,
        r#"stages:
  - name: "Globs and pipes"
    command: "ls *.txt | wc -l | tr -d ' ' > count"
  - name: 'Quotes'
    command: echo "it's \"quoted\"" > quotes
  - name: Multi-line
    command: |
      set -e
      for f in sub/*.py; do
        echo "found $f"
      done > found
  - name: Env
    command: echo "$GREETING $NUMBER" > env
    env:
      GREETING: hello world
      NUMBER: 42
"#,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let read = |name: &str| std::fs::read_to_string(scratch.file(name)).unwrap();
    assert_eq!(read("count"), "2\n");
    assert_eq!(read("quotes"), "it's \"quoted\"\n");
    assert_eq!(read("found"), "found sub/c.py\n");
    assert_eq!(read("env"), "hello world 42\n");
}

#[test]
fn commands_run_in_the_file_s_directory_and_their_output_streams_between_the_lines() {
    let scratch = Scratch::new();
    scratch.write("project/marker", "");
    let file = scratch.write(
        "project/ci.yml",
        "stages:\n  - name: Where\n    command: ls marker && echo from-the-command\n",
    );
    let output = stackctl()
        .arg("ci")
        .arg("-f")
        .arg(&file)
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert_eq!(
        stdout(&output),
        "Running stage \"Where\"\nmarker\nfrom-the-command\nSuccess!\nAll stages completed!\n"
    );
}

#[test]
fn malformed_files_exit_2_with_line_and_column_and_run_nothing() {
    let cases = [
        ("stages: [\n  - name: a\n", "ci.yml:"),
        (
            "stages:\n  - name: a\n    command: touch ran\n  -\n",
            "ci.yml:4",
        ),
        ("jobs:\n  - name: a\n", "ci.yml:1:1: unknown field `jobs`"),
        ("# nothing\n", "ci.yml"),
        (
            "stages:\n  - command: touch ran\n",
            "ci.yml:2:5: stages[0]: missing field `name`",
        ),
        (
            "stages:\n  - name: a\n",
            "ci.yml:2:5: stages[0]: missing field `command`",
        ),
        (
            "stages:\n  - name: a\n    command: touch ran\n    timeout: 5s\n    retries: 2\n",
            "ci.yml:5:5: stages[0]: unknown field `retries`",
        ),
    ];
    for (yaml, want) in cases {
        let scratch = Scratch::new();
        let output = run_ci(&scratch, yaml);
        assert_eq!(output.status.code(), Some(2), "{yaml:?}");
        let err = stderr(&output);
        assert!(err.starts_with("error: "), "{err}");
        assert!(
            err.contains(want),
            "{yaml:?}: {err:?} should contain {want:?}"
        );
        assert_eq!(stdout(&output), "", "no stage output for {yaml:?}");
        assert!(!scratch.file("ran").exists());
    }
}

#[test]
fn a_missing_file_is_named() {
    let scratch = Scratch::new();
    let output = stackctl()
        .args(["ci", "--file"])
        .arg(scratch.file("nope.yml"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("nope.yml: cannot read the pipeline file"),
        "{err}"
    );
}

#[test]
fn a_stage_over_its_timeout_fails_and_stops_the_whole_group() {
    let scratch = Scratch::new();
    let started = Instant::now();
    let output = run_ci(
        &scratch,
        "stages:\n  - name: Slow\n    command: (sleep 60; touch late) & sleep 60\n    timeout: 1s\n  - name: After\n    command: touch after\n",
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(output.status.code(), Some(124));
    assert_eq!(
        stdout(&output),
        "Running stage \"Slow\"\nFailed!\nSkipping all other stages and exiting.\n"
    );
    assert!(stderr(&output).contains("timed out after 1.00s"));
    assert!(!scratch.file("after").exists());
}

fn process_alive(pid: i32) -> bool {
    // Signal 0 checks for existence without touching the process; a zombie counts as gone.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    !stat.is_empty() && !stat.contains(") Z ")
}

#[test]
fn sigterm_stops_the_running_stage_and_its_children_and_exits_143() {
    stop_by_signal("TERM", 143);
}

#[test]
fn ctrl_c_stops_the_running_stage_and_its_children_and_exits_130() {
    stop_by_signal("INT", 130);
}

fn stop_by_signal(signal: &str, want_code: i32) {
    let scratch = Scratch::new();
    let file = scratch.write(
        "ci.yml",
        "stages:\n  - name: Long\n    command: |\n      sleep 300 &\n      echo $! > bg.pid\n      echo $$ > sh.pid\n      wait\n  - name: After\n    command: touch after\n",
    );
    let child = stackctl()
        .arg("ci")
        .arg("-f")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let read_pid = |name: &str| -> Option<i32> {
        std::fs::read_to_string(scratch.file(name))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    };
    while read_pid("sh.pid").is_none() || read_pid("bg.pid").is_none() {
        assert!(Instant::now() < deadline, "the stage never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (sh, bg) = (read_pid("sh.pid").unwrap(), read_pid("bg.pid").unwrap());
    assert!(process_alive(sh) && process_alive(bg));

    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();

    assert_eq!(output.status.code(), Some(want_code));
    assert!(stdout(&output).ends_with("Failed!\nSkipping all other stages and exiting.\n"));
    assert!(!process_alive(sh), "the stage's shell still runs");
    assert!(
        !process_alive(bg),
        "the stage's background child still runs"
    );
    assert!(!scratch.file("after").exists());
}

#[test]
fn list_prints_the_stages_without_running_them() {
    let scratch = Scratch::new();
    let output = run_ci(
        &scratch,
        "stages:\n  - name: One\n    command: touch one\n  - name: Two\n    command: touch two\n",
    );
    assert_eq!(output.status.code(), Some(0));
    let file = scratch.file("ci.yml");
    std::fs::remove_file(scratch.file("one")).unwrap();
    std::fs::remove_file(scratch.file("two")).unwrap();
    let output = stackctl()
        .args(["ci", "--list", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(stdout(&output), "1. One: touch one\n2. Two: touch two\n");
    assert!(!scratch.file("one").exists());
}

#[test]
fn timings_add_a_duration_line_after_each_result() {
    let scratch = Scratch::new();
    let file = scratch.write("ci.yml", "stages:\n  - name: A\n    command: 'true'\n");
    let output = stackctl()
        .args(["ci", "--timings", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Running stage \"A\"");
    assert_eq!(lines[1], "Success!");
    assert!(
        lines[2].starts_with("Stage \"A\" took ") && lines[2].ends_with('s'),
        "{text}"
    );
    assert_eq!(lines[3], "All stages completed!");
}

#[test]
fn json_reports_every_stage_and_keeps_the_stages_output_off_stdout() {
    let scratch = Scratch::new();
    let file = scratch.write(
        "ci.yml",
        "stages:\n  - name: a\n    command: echo from-a\n  - name: b\n    command: exit 3\n  - name: c\n    command: echo never\n",
    );
    let output = stackctl()
        .args(["ci", "--json", "--file"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", stdout(&output)));
    assert_eq!(doc["exit_code"], 3);
    let results: Vec<(&str, &str)> = doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["result"].as_str().unwrap()))
        .collect();
    assert_eq!(
        results,
        [("a", "success"), ("b", "failed"), ("c", "skipped")]
    );
    assert!(stderr(&output).contains("from-a"), "{}", stderr(&output));

    let bad = scratch.write("bad.yml", "stages:\n  - name: a\n    command: 42\n");
    let output = stackctl()
        .args(["ci", "--json", "--file"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        doc["error"]
            .as_str()
            .unwrap()
            .contains("`command` must be a string"),
        "{doc}"
    );
}
