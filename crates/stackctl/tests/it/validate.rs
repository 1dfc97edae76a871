//! `stackctl validate` and the stack file errors every AWS command shares.

use crate::helpers::{Scratch, stackctl, stderr, stdout};

#[test]
fn a_valid_file_is_summarised() {
    let scratch = Scratch::new();
    scratch.write("stack.toml", "[stack]\nname = \"shop\"\n");
    let output = stackctl()
        .arg("validate")
        .current_dir(scratch.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "stack.toml is valid: stack \"shop\" in us-east-1, 2 availability zones, 4 subnets.\n"
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
