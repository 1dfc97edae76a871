//! Operating a stack: `history` (what each `up` and `down` did, read back from AWS) and
//! `logs` (the services' events, put here with the SDK as the containers would).

use std::io::{BufRead, BufReader};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use serde_json::Value;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

fn history(stack: &TestStack, extra: &[&str]) -> Value {
    let mut args = vec!["history", "--format", "json"];
    args.extend_from_slice(extra);
    let output = stack.run(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn records(answer: &Value) -> Vec<Value> {
    answer["records"].as_array().unwrap().clone()
}

fn field<'a>(record: &'a Value, name: &str) -> &'a str {
    record[name].as_str().unwrap_or_default()
}

async fn history_groups(stack: &TestStack) -> usize {
    stack
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/stackctl-history/{}", stack.name))
        .send()
        .await
        .unwrap()
        .log_groups()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_records_every_step_of_up_and_down_with_its_owner_and_filters() {
    let stack = TestStack::new("hist", "[queue]\n").await;
    let up = stack.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));

    let all = history(&stack, &[]);
    let steps = records(&all);
    let run = &steps[0];
    assert_eq!(field(run, "component"), "run");
    assert_eq!(field(run, "command"), "up");
    assert_eq!(field(run, "status"), "succeeded");
    assert!(field(run, "owner").starts_with("arn:aws:"), "{run}");
    assert!(run["ended"].is_string(), "{run}");
    let vpc: Vec<&Value> = steps
        .iter()
        .filter(|r| field(r, "component") == "vpc")
        .collect();
    assert_eq!(vpc.len(), 1, "one record per step: {steps:?}");
    assert_eq!(field(vpc[0], "action"), "create");
    assert_eq!(field(vpc[0], "status"), "succeeded");
    assert!(
        steps.iter().all(|r| field(r, "status") == "succeeded"),
        "{steps:?}"
    );
    assert!(steps.iter().all(|r| field(r, "run") == field(run, "run")));
    let runs = all["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["steps"].as_u64().unwrap() as usize, steps.len() - 1);
    assert_eq!(runs[0]["slowest"].as_array().unwrap().len(), 3);

    // A second `up` changes nothing, so it records nothing: still no mutating call.
    let again = stack.json(&["up", "--infra-only", "--yes"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());
    assert_eq!(records(&history(&stack, &[])).len(), steps.len());

    // Filters.
    let only = records(&history(&stack, &["--component", "vpc"]));
    assert_eq!(only.len(), 1);
    assert_eq!(field(&only[0], "component"), "vpc");
    assert!(records(&history(&stack, &["--owner", "nobody-like-this"])).is_empty());
    let owner = field(run, "owner").rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        records(&history(&stack, &["--owner", &owner])).len(),
        steps.len()
    );
    assert!(records(&history(&stack, &["--since", "2099-01-01 00:00:00"])).is_empty());
    assert!(records(&history(&stack, &["--until", "2000-01-01"])).is_empty());
    let started = field(run, "started").replace('T', " ");
    let since = &started[..19];
    assert_eq!(
        records(&history(&stack, &["--since", since])).len(),
        steps.len()
    );

    // The run as a picture: a bar per step, the run named in the title.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("up.svg");
    let chart = stack.run(&["history", "--chart", file.to_str().unwrap()]);
    assert!(chart.status.success(), "{}", stderr(&chart));
    assert!(
        stderr(&chart).contains("Wrote the timeline of run"),
        "{}",
        stderr(&chart)
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(
        svg.starts_with("<svg ") && svg.contains(">vpc create</text>"),
        "{svg}"
    );
    assert!(svg.contains(field(run, "run")), "{svg}");
    assert_eq!(svg.matches("<title>").count(), steps.len() - 1);
    let by_id = stack.run(&[
        "history",
        "--chart",
        file.to_str().unwrap(),
        &field(run, "run")[..20],
    ]);
    assert!(by_id.status.success(), "{}", stderr(&by_id));
    let unknown = stack.run(&["history", "--chart", file.to_str().unwrap(), "1999-"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no run \"1999-\""),
        "{}",
        stderr(&unknown)
    );
    let no_chart = stack.run(&["history", "2026-"]);
    assert_eq!(no_chart.status.code(), Some(2), "RUN goes with --chart");

    // CSV: a header row, then one row per step.
    let csv = stack.run(&["history", "--format", "csv"]);
    assert!(csv.status.success(), "{}", stderr(&csv));
    let csv = stdout(&csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "run,command,component,action,version,owner,status,started,ended,seconds,error"
    );
    assert_eq!(lines.len(), steps.len() + 1);

    // `down --keep-history` records its deletes and leaves the history.
    let down = stack.run(&["down", "--yes", "--keep-history"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(
        stdout(&down).contains("/stackctl-history/"),
        "{}",
        stdout(&down)
    );
    let after = history(&stack, &[]);
    let runs = after["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["command"], "down");
    assert_eq!(runs[1]["status"], "succeeded");
    let deletes = records(&after)
        .into_iter()
        .filter(|r| field(r, "command") == "down" && field(r, "component") != "run")
        .collect::<Vec<_>>();
    assert_eq!(deletes.len(), steps.len() - 1);
    assert!(deletes.iter().all(|r| field(r, "action") == "delete"));
    let table = stack.run(&["history", "--format", "table"]);
    let table = stdout(&table);
    assert!(
        table.contains("Runs:") && table.contains("slowest:"),
        "{table}"
    );

    // Nothing left to record a run for: the kept history is still named, as it exists.
    let again = stack.run(&["down", "--yes", "--keep-history"]);
    assert!(
        stdout(&again).contains("/stackctl-history/"),
        "{}",
        stdout(&again)
    );

    // A plain `down` of what is gone removes the history with it.
    assert_eq!(history_groups(&stack).await, 1);
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert_eq!(history_groups(&stack).await, 0);
    assert!(records(&history(&stack, &[])).is_empty());
    // With no history, `--keep-history` names none.
    let none = stack.run(&["down", "--yes", "--keep-history"]);
    assert!(
        !stdout(&none).contains("/stackctl-history/"),
        "{}",
        stdout(&none)
    );
    // No events: `logs` says so, and where local runs log instead.
    let quiet = stack.run(&["logs"]);
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stdout(&quiet), "");
    assert!(
        stderr(&quiet).contains("No log events of its services since"),
        "{}",
        stderr(&quiet)
    );
    assert!(
        stderr(&quiet).contains(".run/ instead"),
        "{}",
        stderr(&quiet)
    );
    // One syntax for every time flag: a duration back from now, a date, a date and time.
    for command in ["history", "logs"] {
        for since in ["1h", "2026-12-05", "2026-12-05 08:00:00"] {
            let ok = stack.run(&[command, "--since", since]);
            assert!(
                ok.status.success(),
                "{command} --since {since}: {}",
                stderr(&ok)
            );
        }
        let bad = stack.run(&[command, "--since", "last tuesday"]);
        assert_eq!(bad.status.code(), Some(2));
        assert!(
            stderr(&bad).contains("a duration back from now (30s, 10m, 2h, 1d), a date"),
            "{}",
            stderr(&bad)
        );
    }
}

const TWO_SERVICES: &str = "\
[queues.jobs]
[services.api]
image = \"registry.example/messages:1\"
[services.worker]
image = \"registry.example/messages:1\"
kind = \"worker\"
consumes = [\"jobs\"]
";

fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Puts `(service, task, seconds ago, message)` events, as the containers' log driver would.
async fn put_events(stack: &TestStack, events: &[(&str, &str, u64, &str)]) {
    let logs = &stack.aws.logs;
    let group = format!("/stackctl/{}", stack.name);
    let _ = logs.create_log_group().log_group_name(&group).send().await;
    for (service, task, ago, message) in events {
        let stream = format!("{service}/app/{task}");
        let _ = logs
            .create_log_stream()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .send()
            .await;
        let at = SystemTime::now() - Duration::from_secs(*ago);
        logs.put_log_events()
            .log_group_name(&group)
            .log_stream_name(&stream)
            .log_events(
                InputLogEvent::builder()
                    .timestamp(millis(at))
                    .message(*message)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_shows_each_service_s_events_oldest_first_with_filters_and_follows() {
    let stack = TestStack::new("logs", TWO_SERVICES).await;
    let none = stack.run(&["logs"]);
    assert!(none.status.success(), "no log group yet: {}", stderr(&none));
    assert_eq!(stdout(&none), "");
    put_events(
        &stack,
        &[
            ("api", "aaaa1111bbbb", 300, "GET /healthcheck 200"),
            ("worker", "cccc2222dddd", 120, "ERROR job 7 failed"),
            ("api", "aaaa1111bbbb", 60, "ERROR POST /message 500"),
            ("api", "aaaa1111bbbb", 7200, "an event from two hours ago"),
        ],
    )
    .await;

    let all = stack.run(&["logs"]);
    assert!(all.status.success(), "{}", stderr(&all));
    let lines: Vec<String> = stdout(&all).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("api/aaaa1111  GET /healthcheck 200"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("worker/cccc2222  ERROR job 7 failed"),
        "{lines:?}"
    );
    assert!(lines[2].ends_with("ERROR POST /message 500"), "{lines:?}");

    let api = stdout(&stack.run(&["logs", "api"]));
    assert_eq!(api.lines().count(), 2, "{api}");
    assert!(!api.contains("worker/"), "{api}");
    let errors = stdout(&stack.run(&["logs", "--filter", "ERROR"]));
    assert_eq!(errors.lines().count(), 2, "{errors}");
    let api_errors = stdout(&stack.run(&["logs", "api", "--filter", "ERROR"]));
    assert_eq!(api_errors.lines().count(), 1, "{api_errors}");
    let longer = stdout(&stack.run(&["logs", "--since", "3h"]));
    assert_eq!(longer.lines().count(), 4, "{longer}");
    assert!(longer.lines().next().unwrap().ends_with("two hours ago"));

    let json = stdout(&stack.run(&["logs", "worker", "--json"]));
    let event: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(event["service"], "worker");
    assert_eq!(event["task"], "cccc2222dddd");
    assert_eq!(event["message"], "ERROR job 7 failed");
    assert!(event["time"].as_str().unwrap().ends_with('Z'));

    let unknown = stack.run(&["logs", "nope"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("api, worker"),
        "{}",
        stderr(&unknown)
    );

    // --follow prints what is there, then what arrives, until interrupted.
    let mut follow = stack
        .command(&["logs", "api", "--follow"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = follow.id();
    // Never a hung test: past a minute the reads below see the end of the output and fail.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(60));
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    });
    let mut out = BufReader::new(follow.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("GET /healthcheck"), "{line}");
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("ERROR POST /message"), "{line}");
    put_events(&stack, &[("api", "aaaa1111bbbb", 0, "a new event")]).await;
    line.clear();
    out.read_line(&mut line).unwrap();
    assert!(line.contains("a new event"), "{line}");
    nix_interrupt(follow.id());
    let status = follow.wait().unwrap();
    assert!(status.success(), "Ctrl-C ends --follow cleanly: {status:?}");
}

fn nix_interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn records_step(stack: &TestStack, args: &[&str]) -> std::process::Output {
    let mut all = vec!["history", "record"];
    all.extend_from_slice(args);
    stack.run(&all)
}

#[tokio::test]
async fn a_pipeline_records_its_steps_beside_up_and_down_and_the_filters_find_them() {
    let stack = TestStack::new("pipe", "[queue]\n").await;
    let step = |args: &[&str]| {
        let output = records_step(&stack, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    let said = step(&[
        "--component",
        "api",
        "--version",
        "1.4.2",
        "--status",
        "started",
        "--owner",
        "ci",
    ]);
    assert!(said.contains("Recorded api 1.4.2 started"), "{said}");
    let said = step(&[
        "--component",
        "api",
        "--version",
        "1.4.2",
        "--status",
        "succeeded",
        "--owner",
        "ci",
    ]);
    assert!(said.contains("after its start"), "{said}");
    step(&[
        "--component",
        "db",
        "--version",
        "42",
        "--status",
        "failed",
        "--owner",
        "alice",
        "--at",
        "10m",
    ]);
    let up = stack.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));

    let all = history(&stack, &[]);
    let api: Vec<Value> = records(&all)
        .into_iter()
        .filter(|r| field(r, "component") == "api")
        .collect();
    assert_eq!(api.len(), 1, "started then succeeded is one step: {api:?}");
    assert_eq!(field(&api[0], "command"), "record");
    assert_eq!(field(&api[0], "status"), "succeeded");
    assert_eq!(field(&api[0], "owner"), "ci");
    assert!(
        field(&api[0], "started") <= field(&api[0], "ended"),
        "{api:?}"
    );
    let runs = all["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "two pipeline steps and an up: {runs:?}");

    // Filters: by status, by owner, by component (its run keeps its own status).
    let failed = records(&history(&stack, &["--status", "failed"]));
    assert_eq!(failed.len(), 1);
    assert_eq!(field(&failed[0], "component"), "db");
    assert_eq!(records(&history(&stack, &["--owner", "alice"])).len(), 1);
    let vpc = history(&stack, &["--component", "vpc"]);
    assert_eq!(vpc["runs"][0]["status"], "succeeded", "{vpc}");
    // --until: a date alone is the whole day; steps that ended by then.
    let today = humantime::format_rfc3339_seconds(SystemTime::now()).to_string()[..10].to_owned();
    let by_today = records(&history(&stack, &["--until", &today]));
    assert_eq!(by_today.len(), records(&all).len());
    assert!(records(&history(&stack, &["--until", "2000-01-01"])).is_empty());
    let started = field(&failed[0], "started").to_owned();
    let second = started[..19].replace('T', " ");
    let same_second = records(&history(
        &stack,
        &["--status", "failed", "--until", &second],
    ));
    assert_eq!(
        same_second.len(),
        1,
        "--until the second a table shows keeps the step"
    );

    // Piped, it is CSV, with RFC 3339 times as in JSON.
    let csv = stack.run(&["history", "--component", "api"]);
    let csv = stdout(&csv);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("run,command,component"), "{csv}");
    assert!(lines[1].contains(field(&api[0], "started")), "{csv}");

    // Bad input: named, and nothing recorded.
    for (args, exit, says) in [
        (
            vec!["--version", "1", "--status", "started"],
            2,
            "--component",
        ),
        (
            vec!["--component", "api", "--version", "1", "--status", "done"],
            2,
            "rolled_back",
        ),
        (
            vec![
                "--component",
                "api",
                "--version",
                "1",
                "--status",
                "failed",
                "--at",
                "2999-01-01",
            ],
            2,
            "in the future",
        ),
        (
            vec![
                "--component",
                "api",
                "--version",
                "1",
                "--status",
                "failed",
                "--at",
                "soon",
            ],
            2,
            "is not a time",
        ),
        (
            vec!["--component", "a b", "--version", "1", "--status", "failed"],
            1,
            "--component",
        ),
    ] {
        let output = records_step(&stack, &args);
        assert_eq!(
            output.status.code(),
            Some(exit),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(says),
            "{args:?}: {}",
            stderr(&output)
        );
    }
    let backwards = stack.run(&["history", "--since", "1h", "--until", "2h"]);
    assert_eq!(backwards.status.code(), Some(1));
    assert!(
        stderr(&backwards).contains("nothing can match"),
        "{}",
        stderr(&backwards)
    );
    assert_eq!(records(&history(&stack, &[])).len(), records(&all).len());
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
}
