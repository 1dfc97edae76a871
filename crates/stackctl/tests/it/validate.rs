//! `stackctl validate` and the stack file errors every AWS command shares.

use crate::helpers::{Scratch, stackctl, stderr, stdout};

/// `stackctl validate` of a `stack.toml` holding `text`.
fn validate(text: &str) -> std::process::Output {
    let scratch = Scratch::new();
    scratch.write("stack.toml", text);
    stackctl()
        .arg("validate")
        .current_dir(scratch.path())
        .output()
        .unwrap()
}

#[test]
fn a_valid_file_is_summarised() {
    let output = validate("[stack]\nname = \"shop\"\n");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "stack.toml is valid: stack \"shop\" in us-east-1, 2 availability zones, 4 subnets.\n"
    );
}

#[test]
fn a_file_with_buckets_names_each_with_its_global_name_and_expiry() {
    let output = validate(
        "[stack]\nname = \"shop\"\n[buckets.uploads]\nexpire_after_days = 7\n[buckets.reports]\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).ends_with(
            "Buckets: reports (s3://shop-reports), uploads (s3://shop-uploads, objects expire after 7 days)\n"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn every_problem_is_reported_with_line_and_column_before_any_aws_call() {
    let scratch = Scratch::new();
    let file = scratch.write(
        "broken.toml",
        "[stack]\nname = \"Shop_1\"\n[network]\ncidr = \"10.0.0.0/8\"\navailability_zone = 2\n[queue]\ndead_letter_max_receives = 0\n",
    );
    // No AWS endpoint or credentials at all: validation must not need them.
    let output = stackctl()
        .args(["plan", "-f"])
        .arg(&file)
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    for want in [
        "broken.toml has 4 problems:",
        "broken.toml:2:8: stack.name: \"Shop_1\" is not allowed",
        "broken.toml:4:8: network.cidr: /8 is outside what AWS allows: /16 to /28",
        "broken.toml:5:1: network.availability_zone: unknown key; did you mean `availability_zones`?",
        "broken.toml:7:28: queue.dead_letter_max_receives: 0 is out of range; allowed: 1 to 1000",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    let validate = stackctl()
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(1));
    assert_eq!(stderr(&validate), err);
}

/// `stackctl completions fish | head -1`: a reader that stops early is not a crash.
#[test]
fn completions_to_a_closed_pipe_exit_quietly() {
    for shell in ["bash", "zsh", "fish"] {
        let mut child = stackctl()
            .args(["completions", shell])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reading end goes before the script is written.
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{shell}: {}",
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

#[test]
fn a_missing_stack_file_says_how_to_point_at_one() {
    let scratch = Scratch::new();
    let output = stackctl()
        .arg("plan")
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("no stack file at stack.toml"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn help_version_and_completions_work() {
    for cmd in [
        "plan",
        "up",
        "down",
        "status",
        "validate",
        "ci",
        "completions",
    ] {
        let output = stackctl().args([cmd, "--help"]).output().unwrap();
        assert!(output.status.success());
        assert!(
            stdout(&output).contains("Example"),
            "{cmd} --help has an example"
        );
    }
    let version = stackctl().arg("--version").output().unwrap();
    assert!(stdout(&version).starts_with("stackctl 0."));
    for shell in ["bash", "zsh", "fish"] {
        let output = stackctl().args(["completions", shell]).output().unwrap();
        assert!(
            output.status.success() && stdout(&output).contains("stackctl"),
            "{shell}"
        );
    }
}

#[test]
fn a_bad_image_or_a_file_that_is_not_utf8_is_refused_before_any_aws_call() {
    let scratch = Scratch::new();
    scratch.write("stack.toml", "[stack]\nname = \"shop\"\n");
    let output = stackctl()
        .args(["plan", "--image", "public.ecr😀.aws/app:1"])
        .current_dir(scratch.path())
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("--image \"public.ecr😀.aws/app:1\" has '😀'"),
        "{}",
        stderr(&output)
    );

    let file = scratch.file("latin1.toml");
    std::fs::write(&file, b"[stack]\nname = \"caf\xe9\"\n").unwrap();
    let output = stackctl()
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("latin1.toml:2:12: (encoding): byte 0xE9 is not UTF-8"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn json_is_one_document_on_success_and_on_error_with_each_problem_placed() {
    let scratch = Scratch::new();
    scratch.write("stack.toml", "[stack]\nname = \"shop\"\n");
    let output = stackctl()
        .args(["validate", "--json"])
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["valid"], true);
    assert_eq!(doc["stack"], "shop");

    scratch.write(
        "stack.toml",
        "[stack]\nname = \"Shop_1\"\n[queue]\nbogus = 1\n",
    );
    for command in ["validate", "plan"] {
        let output = stackctl()
            .args([command, "--json"])
            .current_dir(scratch.path())
            .env_clear()
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{command}");
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {}", stdout(&output)));
        assert!(
            doc["error"].as_str().unwrap().contains("2 problems"),
            "{doc}"
        );
        let problems = doc["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 2, "{doc}");
        assert_eq!(
            (
                &problems[1]["line"],
                &problems[1]["column"],
                &problems[1]["key"]
            ),
            (
                &serde_json::json!(4),
                &serde_json::json!(1),
                &serde_json::json!("queue.bogus")
            )
        );
        assert!(
            stderr(&output).starts_with("error: "),
            "people still read stderr"
        );
    }
}

/// An endpoint where nothing answers (a stopped emulator): the credential check tries twice,
/// not six times over 20 s, then says it could not reach the endpoint.
#[test]
fn an_endpoint_that_drops_every_connection_is_given_up_on_after_two_tries() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let tries = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = tries.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    let scratch = Scratch::new();
    scratch.write("stack.toml", "[stack]\nname = \"shop\"\n");
    let output = stackctl()
        .arg("status")
        .current_dir(scratch.path())
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("sts:GetCallerIdentity"),
        "{}",
        stderr(&output)
    );
    assert_eq!(tries.load(Ordering::SeqCst), 2, "{}", stderr(&output));
}

/// `-v` and `--json` are accepted by every command, before or after its name; a usage
/// error under `--json` is still one JSON document on stdout.
#[test]
fn global_flags_and_usage_errors_under_json() {
    let scratch = Scratch::new();
    scratch.write("stack.toml", "[stack]\nname = \"shop\"\n");
    for args in [
        &["validate", "-v"][..],
        &["-v", "validate"],
        &["--json", "validate"],
    ] {
        let output = stackctl()
            .args(args)
            .current_dir(scratch.path())
            .output()
            .unwrap();
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let output = stackctl()
        .args(["plan", "--bogus", "--json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&output)));
    assert!(doc["error"].as_str().unwrap().contains("--bogus"), "{doc}");
    assert!(stderr(&output).contains("--bogus"), "{}", stderr(&output));
}

#[test]
fn policy_prints_the_stack_s_policy_without_aws_and_refuses_bad_input() {
    let scratch = Scratch::new();
    scratch.write(
        "stack.toml",
        "[stack]\nname = \"shop\"\nregion = \"eu-west-1\"\n",
    );
    // No endpoint and no credentials: the policy is made from the file alone.
    let run = |args: &[&str]| {
        stackctl()
            .args(args)
            .current_dir(scratch.path())
            .env_remove("AWS_ENDPOINT_URL")
            .env("AWS_ACCESS_KEY_ID", "")
            .output()
            .unwrap()
    };
    let output = run(&["policy", "--for", "plan"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["Version"], "2012-10-17");
    let text = doc.to_string();
    assert!(text.contains("ec2:DescribeVpcs"), "{text}");
    assert!(!text.contains("ec2:CreateVpc"), "plan only reads: {text}");
    assert!(text.contains("arn:aws:sqs:eu-west-1:*:shop-*"), "{text}");

    let output = run(&["policy", "--for", "deploy"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("possible values: plan, status, up, down, logs, history, all")
    );

    scratch.write(
        "stack.toml",
        "[stack]\nname = \"shop\"\n[queue]\nvisibility = 3\n",
    );
    let output = run(&["policy"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("stack.toml:4:1: queue.visibility"),
        "{}",
        stderr(&output)
    );
    assert!(output.stdout.is_empty());
}
