//! Validation of whole stack files: defaults, and every kind of error with its position.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<StackSpec, SpecErrors> {
    StackSpec::parse(Path::new("stack.toml"), text)
}

/// `(line, column, key)` of every error, and the rendered text for message checks.
fn errors(text: &str) -> (Vec<(usize, usize, String)>, String) {
    let err = parse(text).expect_err("the file should be rejected");
    let positions = err
        .errors
        .iter()
        .map(|e| (e.line, e.column, e.key.clone()))
        .collect();
    (positions, err.to_string())
}

#[test]
fn a_name_alone_gets_every_default() {
    let spec = parse("[stack]\nname = \"messages\"\n").unwrap();
    assert_eq!(spec, StackSpec::minimal("messages"));
    assert_eq!(spec.region, "us-east-1");
    assert_eq!(spec.network.public_subnets.len(), 2);
    assert_eq!(spec.queues[0].visibility_timeout_secs, 30);
    assert_eq!(spec.logs.retention_days, 14);
}

#[test]
fn reads_every_key() {
    let spec = parse(
        r#"
[stack]
name = "shop"
region = "eu-west-1"
[network]
cidr = "10.20.0.0/20"
availability_zones = 3
nat_gateway = true
subnet_prefix = 26
[queue]
visibility_timeout_secs = 60
message_retention_secs = 86400
receive_wait_secs = 10
dead_letter_max_receives = 3
[registry]
keep_images = 5
scan_on_push = false
[logs]
retention_days = 30
[service]
port = 8080
"#,
    )
    .unwrap();
    assert_eq!(spec.region, "eu-west-1");
    assert_eq!(spec.network.availability_zones, 3);
    assert!(spec.network.nat_gateway);
    assert_eq!(spec.network.public_subnets[2].to_string(), "10.20.0.128/26");
    assert_eq!(
        spec.network.private_subnets[0].to_string(),
        "10.20.0.192/26"
    );
    assert_eq!(spec.queues[0].visibility_timeout_secs, 60);
    assert_eq!(spec.queues[0].dead_letter_max_receives, 3);
    assert_eq!(spec.registry.keep_images, 5);
    assert!(!spec.registry.scan_on_push);
    assert_eq!(spec.logs.retention_days, 30);
    assert_eq!(spec.services[0].port, Some(8080));
}

#[test]
fn the_repository_stack_toml_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stack.toml");
    let spec = StackSpec::load(&path).unwrap();
    assert_eq!(spec.name, "messages");
}

#[test]
fn reports_all_errors_at_once_with_line_and_column() {
    let (positions, text) = errors(
        r#"[stack]
name = "messages"
regoin = "us-east-1"
[network]
cidr = "10.0.0.0/33"
[queue]
visibility_timeout_secs = 50000
[logs]
retention_days = 10
[extras]
"#,
    );
    assert_eq!(
        positions,
        vec![
            (3, 1, "stack.regoin".to_owned()),
            (5, 8, "network.cidr".to_owned()),
            (7, 27, "queue.visibility_timeout_secs".to_owned()),
            (9, 18, "logs.retention_days".to_owned()),
            (10, 2, "extras".to_owned()),
        ]
    );
    assert!(
        text.contains("stack.toml:3:1: stack.regoin: unknown key; did you mean `region`?"),
        "{text}"
    );
    assert!(
        text.contains("50000 is out of range; allowed: 0 to 43200"),
        "{text}"
    );
    assert!(text.contains("allowed: 1, 3, 5, 7, 14"), "{text}");
    assert!(text.starts_with("stack.toml has 5 problems:"), "{text}");
}

#[test]
fn a_missing_name_is_required() {
    let (positions, text) = errors("[network]\ncidr = \"10.0.0.0/16\"\n");
    assert_eq!(positions, vec![(1, 1, "stack.name".to_owned())]);
    assert!(text.contains("is required"));
}

#[test]
fn wrong_types_are_named() {
    let (positions, text) =
        errors("[stack]\nname = 7\n[network]\nnat_gateway = \"yes\"\navailability_zones = \"2\"\n");
    assert_eq!(positions.len(), 3, "{text}");
    assert!(
        text.contains("stack.toml:2:8: stack.name: expected a string, found integer"),
        "{text}"
    );
    assert!(
        text.contains("network.nat_gateway: expected true or false, found string"),
        "{text}"
    );
    assert!(
        text.contains("network.availability_zones: expected a whole number, found string"),
        "{text}"
    );
}

#[test]
fn invalid_toml_points_at_the_syntax_error() {
    let (positions, text) = errors("[stack]\nname = \"messages\n");
    assert_eq!(positions[0].0, 2, "{text}");
    assert!(text.contains("invalid TOML"), "{text}");
}

#[test]
fn cidrs_must_be_valid_blocks_within_aws_limits() {
    for (cidr, want) in [
        ("10.0.0.0/33", "not an IPv4 CIDR block"),
        ("10.0.0.1/16", "host bits set; the block is 10.0.0.0/16"),
        ("10.0.0.0/8", "outside what AWS allows: /16 to /28"),
        ("banana", "not an IPv4 CIDR block"),
    ] {
        let (_, text) = errors(&format!(
            "[stack]\nname = \"a1\"\n[network]\ncidr = \"{cidr}\"\n"
        ));
        assert!(text.contains(want), "{cidr}: {text}");
        assert!(
            text.contains("stack.toml:4:8: network.cidr"),
            "{cidr}: {text}"
        );
    }
}

#[test]
fn subnets_that_do_not_fit_are_refused() {
    let (positions, text) = errors(
        "[stack]\nname = \"a1\"\n[network]\ncidr = \"10.0.0.0/24\"\navailability_zones = 3\nsubnet_prefix = 26\n",
    );
    assert_eq!(positions, vec![(6, 17, "network.subnet_prefix".to_owned())]);
    assert!(text.contains("6 subnets of /26"), "{text}");
}

#[test]
fn explicit_subnets_must_fit_the_vpc_and_not_overlap() {
    let (_, text) = errors(
        r#"[stack]
name = "a1"
[network]
cidr = "10.0.0.0/16"
public_subnets = ["10.0.0.0/24", "10.1.0.0/24"]
private_subnets = ["10.0.0.0/25", "10.0.3.0/24", "10.0.4.0/24"]
"#,
    );
    assert!(text.contains("stack.toml:5:34: network.public_subnets: 10.1.0.0/24 is not inside the VPC's 10.0.0.0/16"), "{text}");
    assert!(
        text.contains("network.private_subnets: lists 3 subnets; availability_zones is 2"),
        "{text}"
    );
    assert!(text.contains("10.0.0.0/25 overlaps 10.0.0.0/24"), "{text}");
}

#[test]
fn names_that_aws_would_refuse_are_caught_before_any_call() {
    let (_, text) = errors("[stack]\nname = \"My_Stack\"\n");
    assert!(
        text.contains("stack.toml:2:8: stack.name: \"My_Stack\" is not allowed"),
        "{text}"
    );
    let long = "a".repeat(30);
    let (_, text) = errors(&format!("[stack]\nname = \"{long}\"\n"));
    assert!(text.contains("load balancer name"), "{text}");
    assert!(text.contains("target group name"), "{text}");
    let (_, text) = errors("[stack]\nname = \"ok\"\nregion = \"moon-1\"\n");
    assert!(
        text.contains("stack.region: \"moon-1\" is not an AWS region name"),
        "{text}"
    );
}

#[test]
fn out_of_range_numbers_say_what_is_allowed() {
    for (table, key, value, want) in [
        ("network", "availability_zones", "1", "allowed: 2 to 6"),
        (
            "queue",
            "dead_letter_max_receives",
            "0",
            "allowed: 1 to 1000",
        ),
        ("queue", "receive_wait_secs", "21", "allowed: 0 to 20"),
        ("registry", "keep_images", "0", "allowed: 1 to 1000"),
        ("service", "port", "70000", "allowed: 1 to 65535"),
    ] {
        let (_, text) = errors(&format!(
            "[stack]\nname = \"ok\"\n[{table}]\n{key} = {value}\n"
        ));
        assert!(
            text.contains(&format!(
                "stack.toml:4:{}: {table}.{key}: {value} is out of range; {want}",
                key.len() + 4
            )),
            "{text}"
        );
    }
}

#[test]
fn user_tags_are_read_and_checked() {
    let spec =
        parse("[stack]\nname = \"ok\"\ntags = { team = \"payments\", \"cost-centre\" = \"42\" }\n")
            .unwrap();
    assert_eq!(spec.tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(spec.tags.len(), 2);

    let (positions, text) = errors(
        "[stack]\nname = \"ok\"\n[stack.tags]\n\"aws:owner\" = \"x\"\n\"stackctl:id\" = \"y\"\nteam = 5\nok = \"a#b\"\n",
    );
    assert_eq!(positions.len(), 4, "{text}");
    assert!(
        text.contains(
            "stack.toml:4:1: stack.tags.aws:owner: tag keys starting with \"aws:\" are reserved"
        ),
        "{text}"
    );
    assert!(
        text.contains("stack.tags.stackctl:id: \"stackctl:id\" is set by stackctl itself"),
        "{text}"
    );
    assert!(
        text.contains("stack.tags.team: expected a string, found integer"),
        "{text}"
    );
    assert!(text.contains("'#' is not allowed in tags"), "{text}");
}

#[test]
fn service_settings_are_read_and_fargate_pairs_checked() {
    let spec = parse(
        "[stack]\nname = \"ok\"\n[service]\nimage = \"repo/app:1\"\ncpu = 512\nmemory = 2048\ndesired_count = 2\nenvironment = { ENV = \"staging\", LOG_LEVEL = \"debug\" }\ncertificate_arn = \"arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d\"\n",
    )
    .unwrap();
    assert_eq!(spec.services[0].image.as_deref(), Some("repo/app:1"));
    assert_eq!(
        (
            spec.services[0].cpu,
            spec.services[0].memory,
            spec.services[0].desired_count
        ),
        (512, 2048, 2)
    );
    assert_eq!(spec.services[0].environment["ENV"], "staging");
    assert_eq!(spec.services[0].deregistration_delay_secs, 30);

    let (_, text) = errors("[stack]\nname = \"ok\"\n[service]\ncpu = 256\nmemory = 4096\n");
    assert!(text.contains("stack.toml:5:10: service.memory: 4096 MiB does not go with cpu = 256 on Fargate; allowed: 512, 1024, 2048"), "{text}");
    let (_, text) = errors("[stack]\nname = \"ok\"\n[service]\ncpu = 300\n");
    assert!(text.contains("300 is not a Fargate CPU size"), "{text}");
    let (_, text) = errors(
        "[stack]\nname = \"ok\"\n[service.environment]\nSQS_QUEUE_URL = \"x\"\n1BAD = \"y\"\n",
    );
    assert!(
        text.contains("service.environment.SQS_QUEUE_URL: is set by stackctl"),
        "{text}"
    );
    assert!(
        text.contains("service.environment.1BAD: is not a variable name"),
        "{text}"
    );
}

#[test]
fn image_references_aws_would_refuse_are_caught_with_their_position() {
    let (positions, text) = errors(
        "[stack]\nname = \"ok\"\n[service]\nimage = \"public.ecr😀.aws/nginx:1\"\nhealth_check_path = \"/health check\"\n",
    );
    assert_eq!(
        positions,
        [
            (4, 9, "service.image".to_owned()),
            (5, 21, "service.health_check_path".to_owned())
        ]
    );
    assert!(text.contains("which no image reference can have"), "{text}");
    let (_, text) = errors(&format!(
        "[stack]\nname = \"ok\"\n[service]\nimage = \"{}\"\n",
        "a".repeat(1_000_000)
    ));
    assert!(text.contains("is 1000000 characters long"), "{text}");
    assert!(text.len() < 500, "the message does not echo a huge value");
    let (_, text) =
        errors("[stack]\nname = \"ok\"\n[service]\nenvironment = { A = \"x\\u0000y\" }\n");
    assert!(text.contains("service.environment.A: has a NUL"), "{text}");
}

#[test]
fn a_file_that_is_not_utf8_is_refused_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stack.toml");
    std::fs::write(&path, b"[stack]\nname = \"ok\"\n# caf\xe9 \xff\n").unwrap();
    let err = StackSpec::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("stack.toml:3:6: (encoding): byte 0xE9 is not UTF-8"),
        "{err}"
    );
}

/// Every problem of a file with thousands is reported, each at its own line, with hints; the
/// time this takes is in docs/benchmarks.md (scripts/bench-validate.sh).
#[test]
fn twenty_thousand_problems_are_each_reported_at_their_line() {
    let mut text = String::from("[stack]\nname = \"ok\"\n[service]\n");
    for i in 0..20_000 {
        text.push_str(&format!("unknown_key_{i} = 1\n"));
    }
    let err = parse(&text).unwrap_err();
    assert_eq!(err.errors.len(), 20_000);
    assert_eq!(err.errors[0].line, 4);
    assert_eq!(err.errors[19_999].line, 20_003);
    assert!(err.errors.iter().all(|e| e.column == 1));
    let long = format!("[stack]\nname = \"ok\"\n{} = 1\n", "k".repeat(1_000_000));
    let err = parse(&long).unwrap_err().to_string();
    assert!(err.contains("(1000006 characters): unknown key"), "{err}");
    assert!(err.len() < 300, "the key is cut: {err}");
}

#[test]
fn a_table_or_key_given_twice_is_named() {
    let err =
        parse("[stack]\nname = \"s\"\n[service]\nport = 80\n[service]\nport = 81\n").unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("[service] appears twice"), "{shown}");
    assert!(shown.contains("stack.toml:5:"), "{shown}");
    let err = parse("[stack]\nname = \"s\"\nname = \"t\"\n").unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("the key `name` is given twice"), "{shown}");
}

#[test]
fn stack_keys_above_any_table_are_placed_under_stack() {
    let (positions, text) = errors("name = \"messages\"\nregion = \"us-east-1\"\n[extras]\n");
    assert_eq!(positions[0], (1, 1, "name".to_owned()));
    assert!(
        text.contains(
            "stack.toml:1:1: name: unknown key; it belongs in the [stack] table: write it under a `[stack]` line"
        ),
        "{text}"
    );
    assert!(
        text.contains("stack.toml:2:1: region: unknown key; it belongs in the [stack] table"),
        "{text}"
    );
    assert!(text.contains("extras: unknown table"), "{text}");
}
