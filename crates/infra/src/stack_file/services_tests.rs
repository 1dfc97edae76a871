//! `[services.NAME]` and `[queues.NAME]`: what they give, and every kind of bad input with
//! its position, what is wrong and what is allowed.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<StackSpec, SpecErrors> {
    StackSpec::parse(
        Path::new("stack.toml"),
        &format!("[stack]\nname = \"shop\"\n{text}"),
    )
}

/// `(line, key, message)` of every error (lines count the two-line `[stack]` header).
fn errors(text: &str) -> Vec<(usize, String, String)> {
    let err = parse(text).expect_err("the file should be rejected");
    err.errors
        .iter()
        .map(|e| (e.line, e.key.clone(), e.message.clone()))
        .collect()
}

fn one_error(text: &str) -> (usize, String, String) {
    let all = errors(text);
    assert_eq!(all.len(), 1, "{all:#?}");
    all.into_iter().next().unwrap()
}

#[test]
fn services_and_queues_are_read_with_their_kinds_routes_and_access() {
    let spec = parse(
        r#"
[queues.jobs]
visibility_timeout_secs = 60
[services.web]
port = 8000
sends_to = ["jobs"]
[services.Api_V1]
port = 8080
paths = ["/api/*"]
hosts = ["api.example.com"]
[services.worker]
kind = "worker"
consumes = ["jobs"]
command = ["worker"]
secrets = { TOKEN = "arn:aws:ssm:us-east-1:123456789012:parameter/token" }
"#,
    )
    .unwrap();
    let names: Vec<&str> = spec.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["api-v1", "web", "worker"], "normalised and sorted");
    assert_eq!(spec.default_web().unwrap().name, "web");
    let worker = &spec.services[2];
    assert_eq!((worker.kind, worker.port), (ServiceKind::Worker, None));
    assert_eq!(worker.command, ["worker"]);
    assert_eq!(spec.queues.len(), 1);
    assert_eq!(spec.queues[0].visibility_timeout_secs, 60);
    assert!(
        spec.services[1].consumes.is_empty(),
        "nothing unless declared"
    );
}

#[test]
fn the_one_service_table_uses_every_queue_as_it_always_did() {
    let spec = parse("[service]\nport = 5000\n").unwrap();
    let app = &spec.services[0];
    assert_eq!(app.name, SINGLE_SERVICE);
    assert_eq!(
        (app.sends_to.as_slice(), app.consumes.as_slice()),
        (&["messages".to_owned()][..], &["messages".to_owned()][..])
    );
    let many = parse("[services.web]\n").unwrap();
    assert!(
        many.queues.is_empty(),
        "a stack of [services] declares its queues"
    );
}

#[test]
fn two_services_on_the_same_path_and_host_are_refused() {
    let (line, key, message) = one_error(
        "[services.web]\n[services.a]\npaths = [\"/a/*\"]\n[services.b]\npaths = [\"/a/*\"]\n",
    );
    assert_eq!((line, key.as_str()), (7, "services.b"));
    assert!(
        message.contains("same paths and hosts as [services.a]"),
        "{message}"
    );
}

#[test]
fn a_rule_hidden_by_one_tried_first_is_refused() {
    // `wide` sorts first (its longest path is longer) and matches everything `narrow` does.
    let (_, key, message) = one_error(
        "[services.web]\n[services.wide]\npaths = [\"/x/y/z/long/*\", \"/*\"]\n[services.narrow]\npaths = [\"/a/*\"]\n",
    );
    assert_eq!(key, "services.narrow");
    assert!(
        message.contains("never get a request") && message.contains("[services.wide]"),
        "{message}"
    );
}

#[test]
fn an_internal_service_needs_a_port_and_a_worker_has_none() {
    let all = errors(
        "[services.web]\n[services.store]\nkind = \"internal\"\nhealth_check_path = \"/health\"\n[services.jobs]\nkind = \"worker\"\nport = 9000\nconsumes = [\"q\"]\n[queues.q]\n",
    );
    let keys: Vec<&str> = all.iter().map(|(_, k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "services.store.port",
            "services.store.health_check_path",
            "services.jobs.port"
        ],
        "{all:#?}"
    );
    assert!(all[1].2.contains("no port to check"), "{}", all[1].2);
    assert!(all[2].2.contains("a worker has no port"), "{}", all[2].2);
}

#[test]
fn a_queue_named_but_not_declared_is_refused_with_the_declared_ones() {
    let (line, key, message) = one_error("[queues.jobs]\n[services.web]\nsends_to = [\"jbos\"]\n");
    assert_eq!((line, key.as_str()), (5, "services.web.sends_to"));
    assert!(
        message.contains("\"jbos\"") && message.contains("declared: jobs"),
        "{message}"
    );
}

#[test]
fn a_secret_must_be_an_arn() {
    let (_, key, message) = one_error("[services.web]\nsecrets = { DB = \"hunter2\" }\n");
    assert_eq!(key, "services.web.secrets.DB");
    assert!(message.contains("not a secret ARN"), "{message}");
}

#[test]
fn more_rules_than_a_listener_takes_are_refused() {
    let mut text = String::from("[services.web]\n");
    for i in 0..101 {
        text.push_str(&format!("[services.s{i}]\npaths = [\"/{i}/*\"]\n"));
    }
    let (_, key, message) = one_error(&text);
    assert_eq!(key, "services");
    assert!(
        message.contains("101 web services") && message.contains("at most 100"),
        "{message}"
    );
}

#[test]
fn names_alike_once_normalised_are_refused() {
    let (_, key, message) = one_error("[services.my_api]\n[services.my-api]\npaths = [\"/a\"]\n");
    assert_eq!(key, "services.my-api");
    assert!(
        message.contains("same service as [services.my_api]"),
        "{message}"
    );
}

#[test]
fn one_and_only_one_web_service_takes_the_rest() {
    let (_, _, message) = one_error("[services.a]\n[services.b]\n");
    assert!(
        message.contains("second web service without paths or hosts"),
        "{message}"
    );
    let (_, _, message) = one_error("[services.a]\npaths = [\"/a\"]\n");
    assert!(
        message.contains("no web service takes the requests"),
        "{message}"
    );
}

#[test]
fn the_one_service_and_several_service_tables_do_not_mix() {
    let (_, key, message) = one_error("[service]\n[services.web]\n");
    assert_eq!(key, "services");
    assert!(
        message.contains("[service] is the same as [services.app]"),
        "{message}"
    );
}

#[test]
fn a_name_too_long_for_aws_says_how_long_it_may_be() {
    let (_, key, message) = one_error(&format!("[services.{}]\n", "a".repeat(30)));
    assert!(key.starts_with("services.aaa"), "{key}");
    assert!(message.contains("at most 23 characters"), "{message}");
}

const AUTOSCALED: &str = "\
[queues.jobs]
[services.web]
[services.web.autoscaling]
min = 2
max = 10
cpu = 60
requests_per_target = 500
[services.worker]
kind = \"worker\"
consumes = [\"jobs\"]
[services.worker.autoscaling]
max = 20
backlog_per_task = 10
scale_in_cooldown_secs = 120
";

#[test]
fn autoscaling_is_read_with_its_defaults_and_the_consumed_queue() {
    let spec = parse(AUTOSCALED).unwrap();
    let web = spec.services[0].autoscaling.as_ref().unwrap();
    assert_eq!(
        (web.min, web.max, web.cpu, web.requests_per_target),
        (2, 10, Some(60), Some(500))
    );
    assert_eq!(
        (web.scale_in_cooldown_secs, web.scale_out_cooldown_secs),
        (300, 60)
    );
    let worker = spec.services[1].autoscaling.as_ref().unwrap();
    assert_eq!((worker.min, worker.max), (1, 20));
    assert_eq!(worker.backlog_per_task, Some(10));
    assert_eq!(worker.queue.as_deref(), Some("jobs"));
    assert_eq!(worker.scale_in_cooldown_secs, 120);
    assert!(
        parse("[service]\n[service.autoscaling]\ncpu = 50\n")
            .unwrap()
            .services[0]
            .autoscaling
            .is_some()
    );
}

#[test]
fn bad_autoscaling_is_placed_and_says_what_is_allowed() {
    let (line, key, message) = one_error("[service.autoscaling]\nmin = 5\nmax = 2\ncpu = 50\n");
    assert_eq!((line, key.as_str()), (5, "service.autoscaling.max"));
    assert!(message.contains("below min (5)"), "{message}");

    let (line, key, message) =
        one_error("[service]\ndesired_count = 9\n[service.autoscaling]\nmax = 4\ncpu = 50\n");
    assert_eq!((line, key.as_str()), (4, "service.desired_count"));
    assert!(
        message.contains("outside autoscaling's min 1 and max 4"),
        "{message}"
    );

    let (_, key, message) = one_error("[service.autoscaling]\nmax = 4\n");
    assert_eq!(key, "service.autoscaling");
    assert!(message.contains("has no policy"), "{message}");

    let (_, key, message) = one_error(
        "[queues.jobs]\n[services.w]\nkind = \"worker\"\nconsumes = [\"jobs\"]\n\
         [services.w.autoscaling]\nrequests_per_target = 10\n",
    );
    assert_eq!(key, "services.w.autoscaling.requests_per_target");
    assert!(message.contains("only a web service"), "{message}");

    let (_, key, message) = one_error("[services.web.autoscaling]\nbacklog_per_task = 5\n");
    assert_eq!(key, "services.web.autoscaling.queue");
    assert!(
        message.contains("needs a queue this service consumes"),
        "{message}"
    );

    let (_, _, message) = one_error(
        "[queues.a]\n[queues.b]\n[services.w]\nkind = \"worker\"\nconsumes = [\"a\", \"b\"]\n\
         [services.w.autoscaling]\nbacklog_per_task = 5\n",
    );
    assert!(
        message.contains("say which one's backlog counts"),
        "{message}"
    );

    let (_, _, message) = one_error(
        "[queues.a]\n[queues.b]\n[services.w]\nkind = \"worker\"\nconsumes = [\"a\"]\n\
         [services.w.autoscaling]\nbacklog_per_task = 5\nqueue = \"b\"\n",
    );
    assert!(
        message.contains("does not consume; it consumes: a"),
        "{message}"
    );

    let (_, key, message) = one_error("[service.autoscaling]\ncpu = 95\n");
    assert_eq!(key, "service.autoscaling.cpu");
    assert!(message.contains("allowed: 10 to 90"), "{message}");
    let (_, key, _) = one_error("[service.autoscaling]\ncpu = 50\ncooldown = 3\n");
    assert_eq!(key, "service.autoscaling.cooldown");
}

#[test]
fn buckets_are_read_with_their_expiry_and_the_services_that_use_them() {
    let spec = parse(
        "[buckets.Job_Inputs]\nexpire_after_days = 7\n[buckets.results]\n\
         [services.api]\nwrites = [\"job_inputs\"]\nreads = [\"results\"]\n",
    )
    .unwrap();
    assert_eq!(
        spec.buckets,
        [
            BucketSpec {
                name: "job-inputs".into(),
                expire_after_days: Some(7)
            },
            BucketSpec {
                name: "results".into(),
                expire_after_days: None
            }
        ]
    );
    assert_eq!(spec.names().bucket("results"), "shop-results");
    let api = &spec.services[0];
    assert_eq!(
        (api.writes.as_slice(), api.reads.as_slice()),
        (&["job-inputs".to_owned()][..], &["results".to_owned()][..])
    );
    assert!(parse("[service]\n").unwrap().buckets.is_empty());
}

#[test]
fn bad_buckets_and_undeclared_ones_are_refused_by_position() {
    let all = errors(
        "[buckets.ok]\nexpire_after_days = 0\nsize = 3\n[buckets.\"no.dots\"]\n\
         [buckets.OK]\n[services.api]\nreads = [\"inptus\"]\n",
    );
    let keys: Vec<&str> = all.iter().map(|e| e.1.as_str()).collect();
    assert!(keys.contains(&"buckets.ok.expire_after_days"), "{all:#?}");
    assert!(keys.contains(&"buckets.ok.size"), "{all:#?}");
    assert!(keys.iter().any(|k| k.contains("no.dots")), "{all:#?}");
    assert!(
        all.iter().any(|e| e.2.contains("same bucket as another")),
        "{all:#?}"
    );
    let undeclared = all
        .iter()
        .find(|e| e.1 == "services.api.reads")
        .expect("the undeclared bucket");
    assert_eq!(undeclared.0, 9);
    assert!(
        undeclared.2.contains("\"inptus\"") && undeclared.2.contains("declared: no.dots, ok"),
        "{}",
        undeclared.2
    );
    let (_, key, message) = one_error(&format!("[buckets.{}]\n", "b".repeat(60)));
    assert!(
        key.starts_with("buckets.") && message.contains("too long"),
        "{message}"
    );
}
