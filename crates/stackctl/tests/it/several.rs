//! Stacks of several services against the emulator: the examples from empty to running to
//! empty, a stack with every kind of service (rules, an internal service found by name, a
//! worker) put back after drift, and each task role allowed exactly its own queues.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

const IMAGE: &str = "public.ecr.aws/stackctl/app:1";

/// An example's stack file without its `[stack]` table and its build keys (the tests give
/// `--image`: no builder here).
pub fn example(name: &str) -> String {
    let path = format!(
        "{}/../../examples/{name}/stack.toml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = Vec::new();
    let mut in_stack = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with('[') {
            in_stack = trimmed.starts_with("[stack]");
        }
        let build = trimmed.starts_with("dockerfile") || trimmed.starts_with("context");
        if !in_stack && !build {
            out.push(line);
        }
    }
    out.join("\n")
}

/// Every service of the stack's cluster, by name.
async fn ecs_services(stack: &TestStack) -> BTreeMap<String, aws_sdk_ecs::types::Service> {
    let aws = &stack.aws;
    let arns = aws
        .ecs
        .list_services()
        .cluster(&stack.name)
        .send()
        .await
        .unwrap();
    let out = aws
        .ecs
        .describe_services()
        .cluster(&stack.name)
        .set_services(Some(arns.service_arns().to_vec()))
        .send()
        .await
        .unwrap();
    out.services()
        .iter()
        .map(|s| (s.service_name().unwrap().to_owned(), s.clone()))
        .collect()
}

/// Every statement of the inline policies of role `role`, as IAM holds them.
pub async fn inline_statements(iam: &aws_sdk_iam::Client, role: &str) -> Vec<Value> {
    let names = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut out = Vec::new();
    for policy in names.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(policy)
            .send()
            .await
            .unwrap();
        let decoded = urlencoding_decode(doc.policy_document());
        let doc: Value = serde_json::from_str(&decoded).unwrap();
        out.extend(doc["Statement"].as_array().unwrap().iter().cloned());
    }
    out
}

/// Every inline policy statement of the role `name`: (actions, resources).
async fn statements(stack: &TestStack, role: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let mut out = Vec::new();
    for s in inline_statements(&stack.aws.iam, role).await {
        assert_eq!(s["Effect"], "Allow");
        let list = |v: &Value| -> Vec<String> {
            match v {
                Value::String(s) => vec![s.clone()],
                Value::Array(items) => {
                    let mut all: Vec<String> = items
                        .iter()
                        .map(|i| i.as_str().unwrap().to_owned())
                        .collect();
                    all.sort();
                    all
                }
                other => panic!("not an action or resource list: {other}"),
            }
        };
        out.push((list(&s["Action"]), list(&s["Resource"])));
    }
    out.sort();
    out
}

fn urlencoding_decode(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn queue_arn(stack: &TestStack, queue: &str) -> String {
    let sqs = &stack.aws.sqs;
    let url = sqs
        .get_queue_url()
        .queue_name(format!("{}-{queue}", stack.name))
        .send()
        .await
        .unwrap();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(url.queue_url().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone()
}

fn actions(list: &[&str]) -> Vec<String> {
    let mut all: Vec<String> = list.iter().map(|a| (*a).to_owned()).collect();
    all.sort();
    all
}

/// `up`, then a second `up` that changes nothing, then `down`; nothing left.
fn converges(stack: &TestStack) {
    let second = stack.json(&["up", "--image", IMAGE, "--yes"]);
    assert_eq!(mutating_calls(&second), Vec::<String>::new());
}

fn down_leaves_nothing(stack: &TestStack) {
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    let status = stack.json(&["status"]);
    assert_eq!(status["resources"], Value::Array(Vec::new()), "{status}");
}

#[tokio::test]
async fn the_api_and_workers_example_runs_with_three_workers_on_one_queue() {
    let stack = TestStack::new("jobs", &example("api-and-workers")).await;
    let up = stack.json(&["up", "--image", IMAGE, "--yes"]);
    assert_eq!(up["summary"]["create"], 33, "{up}");
    let services = ecs_services(&stack).await;
    let worker = &services[&format!("{}-worker", stack.name)];
    assert_eq!(worker.desired_count(), 3);
    assert!(
        worker.load_balancers().is_empty(),
        "a worker has no load balancer"
    );
    let api = &services[&format!("{}-api", stack.name)];
    assert_eq!(api.load_balancers().len(), 1);
    // The worker runs the same image as `app worker`, with the queue's URL.
    let td = stack
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(worker.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let container = &td.task_definition().unwrap().container_definitions()[0];
    assert_eq!(container.command(), ["worker"]);
    assert!(container.port_mappings().is_empty());
    // Its log streams are `worker/app/<task>`: `stackctl logs worker` finds them.
    let log = container.log_configuration().unwrap().options().unwrap();
    assert_eq!(log["awslogs-stream-prefix"], "worker");
    assert_eq!(log["awslogs-group"], format!("/stackctl/{}", stack.name));
    let env: BTreeMap<&str, &str> = container
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
        .collect();
    assert!(env["SQS_QUEUE_URL_JOBS"].ends_with(&format!("{}-jobs", stack.name)));
    assert_eq!(env["SQS_QUEUE_URL"], env["SQS_QUEUE_URL_JOBS"]);
    // Its metrics name the stack and the service.
    assert_eq!(env["STACKCTL_STACK"], stack.name);
    assert_eq!(env["STACKCTL_SERVICE"], "worker");
    converges(&stack);
    down_leaves_nothing(&stack);
}

#[tokio::test]
async fn the_web_and_backend_example_finds_its_backend_by_name() {
    let stack = TestStack::new("shop", &example("web-and-backend")).await;
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    let services = ecs_services(&stack).await;
    let backend = &services[&format!("{}-backend", stack.name)];
    assert!(backend.load_balancers().is_empty(), "no public route");
    assert_eq!(backend.service_registries().len(), 1);
    // The backend's group admits its port from the stack's services only.
    let groups = stack
        .aws
        .ec2
        .describe_security_groups()
        .group_names(format!("{}-backend-tasks", stack.name))
        .send()
        .await;
    let groups = match groups {
        Ok(out) => out.security_groups().to_vec(),
        Err(_) => Vec::new(),
    };
    let backend_group = groups
        .iter()
        .find(|g| g.group_name() == Some(format!("{}-backend-tasks", stack.name).as_str()))
        .expect("the backend's group");
    let rule = &backend_group.ip_permissions()[0];
    assert_eq!(rule.from_port(), Some(8080));
    assert!(
        rule.ip_ranges().is_empty(),
        "no address range: only a group"
    );
    assert_eq!(rule.user_id_group_pairs().len(), 1);
    let frontend = &services[&format!("{}-frontend", stack.name)];
    let td = stack
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(frontend.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    let container = &td.task_definition().unwrap().container_definitions()[0];
    let url = container
        .environment()
        .iter()
        .find(|kv| kv.name() == Some("SERVICE_URL_BACKEND"))
        .and_then(|kv| kv.value());
    assert_eq!(
        url,
        Some(format!("http://backend.{}.internal:8080", stack.name).as_str())
    );
    converges(&stack);
    down_leaves_nothing(&stack);
    let namespaces = stack.aws.discovery.list_namespaces().send().await.unwrap();
    let domain = format!("{}.internal", stack.name);
    assert!(
        namespaces
            .namespaces()
            .iter()
            .all(|n| n.name() != Some(domain.as_str())),
        "the namespace is gone"
    );
}

const EVERY_KIND: &str = r#"
[queues.jobs]
[queues.events]

[services.web]
port = 5000
sends_to = ["jobs"]

[services.api]
port = 8080
paths = ["/api/*"]
consumes = ["events"]

[services.admin]
port = 9000
paths = ["/admin/*"]
hosts = ["admin.example.com"]

[services.store]
kind = "internal"
port = 7000
secrets = { DB_PASSWORD = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf" }

[services.worker]
kind = "worker"
consumes = ["jobs"]
sends_to = ["events"]
"#;

#[tokio::test]
async fn every_kind_of_service_is_put_back_after_drift_and_removed_by_down() {
    let stack = TestStack::new("kinds", EVERY_KIND).await;
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    let elb = &stack.aws.elb;
    let lb = crate::stack::load_balancer(&stack).await;
    let listeners = elb
        .describe_listeners()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    let listener = listeners.listeners()[0].listener_arn().unwrap().to_owned();
    let rules = elb
        .describe_rules()
        .listener_arn(&listener)
        .send()
        .await
        .unwrap();
    let ruled: Vec<_> = rules
        .rules()
        .iter()
        .filter(|r| !r.is_default().unwrap_or(false))
        .collect();
    assert_eq!(ruled.len(), 2, "{ruled:?}");
    // Host and path first, then the path alone.
    let by_priority: BTreeMap<&str, &aws_sdk_elasticloadbalancingv2::types::Rule> =
        ruled.iter().map(|r| (r.priority().unwrap(), *r)).collect();
    assert_eq!(by_priority.keys().copied().collect::<Vec<_>>(), ["1", "2"]);
    // Drift: a rule's path edited by hand, and a rule added to the internal service's group.
    let api_rule = by_priority["2"].rule_arn().unwrap();
    elb.modify_rule()
        .rule_arn(api_rule)
        .conditions(
            aws_sdk_elasticloadbalancingv2::types::RuleCondition::builder()
                .field("path-pattern")
                .values("/everything/*")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let groups = stack
        .aws
        .ec2
        .describe_security_groups()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("group-name")
                .values(format!("{}-store-tasks", stack.name))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let store_group = groups.security_groups()[0].group_id().unwrap().to_owned();
    stack
        .aws
        .ec2
        .authorize_security_group_ingress()
        .group_id(&store_group)
        .ip_protocol("tcp")
        .from_port(7000)
        .to_port(7000)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let plan = stack.json(&["plan", "--image", IMAGE]);
    let mut updated: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "update")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    updated.sort_unstable();
    assert_eq!(
        updated,
        ["listener-rule-api", "security-group-store"],
        "{plan}"
    );
    let up = stack.run(&["up", "--image", IMAGE, "--yes"]);
    assert!(up.status.success(), "{}\n{}", stderr(&up), stdout(&up));
    let rules = elb
        .describe_rules()
        .listener_arn(&listener)
        .send()
        .await
        .unwrap();
    let paths: Vec<String> = rules
        .rules()
        .iter()
        .filter(|r| r.rule_arn() == Some(api_rule))
        .flat_map(|r| r.conditions().iter())
        .flat_map(|c| {
            c.path_pattern_config()
                .map(|p| p.values().to_vec())
                .unwrap_or_else(|| c.values().to_vec())
        })
        .collect();
    assert_eq!(paths, ["/api/*"]);
    converges(&stack);
    down_leaves_nothing(&stack);
}

#[tokio::test]
async fn each_task_role_may_use_only_its_own_queues_and_secrets() {
    let stack = TestStack::new("least", EVERY_KIND).await;
    stack.json(&["up", "--image", IMAGE, "--yes"]);
    let (jobs, events) = (
        queue_arn(&stack, "jobs").await,
        queue_arn(&stack, "events").await,
    );
    let send = actions(&["sqs:SendMessage", "sqs:GetQueueAttributes"]);
    let consume = actions(&[
        "sqs:ChangeMessageVisibility",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
    ]);
    let role = |service: &str| format!("{}-{service}-task", stack.name);
    assert_eq!(
        statements(&stack, &role("web")).await,
        [(send.clone(), vec![jobs.clone()])]
    );
    assert_eq!(
        statements(&stack, &role("api")).await,
        [(consume.clone(), vec![events.clone()])]
    );
    assert_eq!(statements(&stack, &role("admin")).await, []);
    assert_eq!(statements(&stack, &role("store")).await, []);
    let mut worker = vec![(consume, vec![jobs]), (send, vec![events])];
    worker.sort();
    assert_eq!(statements(&stack, &role("worker")).await, worker);
    // Only the service with secrets has an execution role of its own, reading exactly those.
    let exec = format!("{}-store-exec", stack.name);
    assert_eq!(
        statements(&stack, &exec).await,
        [(
            actions(&["secretsmanager:GetSecretValue"]),
            vec!["arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf".to_owned()]
        )]
    );
    let attached = stack
        .aws
        .iam
        .list_attached_role_policies()
        .role_name(&exec)
        .send()
        .await
        .unwrap();
    assert_eq!(attached.attached_policies().len(), 1);
    let shared = stack
        .aws
        .iam
        .get_role()
        .role_name(format!("{}-web-exec", stack.name))
        .send()
        .await;
    assert!(
        shared.is_err(),
        "a service without secrets uses the stack's execution role"
    );
    down_leaves_nothing(&stack);
}

/// Stops what `up --local` started even when the test fails half-way, so no process of a
/// failed test holds a port the next run wants.
struct StopsLocal<'a>(&'a TestStack);

impl Drop for StopsLocal<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["down", "--local", "--yes"]);
    }
}

/// The port the local router listens on, from `up --local`'s output.
fn router_port(out: &str) -> u16 {
    let at = out
        .split("here: http://127.0.0.1:")
        .nth(1)
        .unwrap_or_else(|| panic!("no router in: {out}"));
    at.split('/').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn up_local_runs_every_service_behind_the_local_router_and_down_local_stops_them() {
    let app = crate::local::app_binary();
    let stack = TestStack::new("lshop", &example("web-and-backend")).await;
    let app_bin = app.display().to_string();
    let _stops = StopsLocal(&stack);
    // Run from the folder above, as the quick start runs an example: the printed stop
    // command names the stack file, and works from there as printed.
    let above = stack.scratch.path().parent().unwrap().to_owned();
    let file = format!(
        "{}/stack.toml",
        stack.scratch.path().file_name().unwrap().to_string_lossy()
    );
    let up = stack
        .command(&["up", "--local", "--yes", "--app-bin", &app_bin, "-f", &file])
        .current_dir(&above)
        .output()
        .unwrap();
    let out = stdout(&up);
    assert!(up.status.success(), "{}\n{out}", stderr(&up));
    let hint = format!("Stop them and remove the stack: stackctl down --local --yes -f {file}");
    assert!(out.contains(&hint), "{out}");
    let port = router_port(&out);
    // Through the router to the frontend, by name to the backend, and onto the queue.
    let sent = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/"))
        .form(&[("message", "two coffees")])
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 200);
    assert!(sent.text().await.unwrap().contains("Sent: order"));
    let queue = format!("{}-orders", stack.name);
    assert_eq!(crate::local::queued(&stack, &queue).await, "1");
    let down = stack
        .command(&["down", "--local", "--yes", "-f", &file])
        .current_dir(&above)
        .output()
        .unwrap();
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(
        stderr(&down).contains("Stopped the local services and router"),
        "{}",
        stderr(&down)
    );
    let gone = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/healthcheck"))
        .send()
        .await;
    assert!(gone.is_err(), "the router stopped");
}

#[tokio::test]
async fn up_local_runs_as_many_workers_as_the_service_has_tasks() {
    let app = crate::local::app_binary();
    let stack = TestStack::new("ljobs", &example("api-and-workers")).await;
    let app_bin = app.display().to_string();
    let _stops = StopsLocal(&stack);
    let up = stack.run(&["up", "--local", "--yes", "--app-bin", &app_bin]);
    let out = stdout(&up);
    assert!(up.status.success(), "{}\n{out}", stderr(&up));
    for copy in 1..=3 {
        assert!(out.contains(&format!("worker-{copy} ")), "{out}");
    }
    let port = router_port(&out);
    let http = reqwest::Client::new();
    for _ in 0..6 {
        let sent = http
            .post(format!("http://127.0.0.1:{port}/message"))
            .json(&serde_json::json!({ "message": "{\"work_ms\": 50}" }))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), 200);
    }
    // The workers take them all off the queue, each logging its times.
    let logs = || -> String {
        (1..=3)
            .map(|copy| {
                let log = stack
                    .scratch
                    .path()
                    .join(format!(".run/local-{}/worker-{copy}.log", stack.name));
                std::fs::read_to_string(log).unwrap_or_default()
            })
            .collect()
    };
    let handled = |logs: &str| logs.lines().filter(|l| l.contains("\"handled\"")).count();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while handled(&logs()) < 6 {
        assert!(
            std::time::Instant::now() < deadline,
            "not all handled: {}",
            logs()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let logs = logs();
    assert!(
        logs.contains("execution_ms") && logs.contains("lead_ms"),
        "{logs}"
    );
    let queue = format!("{}-jobs", stack.name);
    assert_eq!(crate::local::queued(&stack, &queue).await, "0");
    let down = stack.run(&["down", "--local", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
}

/// Each logical id the stack's resources carry more than once, as `status` finds them.
fn duplicates(status: &Value) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut twice = Vec::new();
    for r in status["resources"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap().to_owned();
        if !seen.insert(id.clone()) {
            twice.push(id);
        }
    }
    twice
}

// Lost answers on every mutating call of the new kinds too (CreateRule, the namespace's
// operation, Cloud Map's CreateService): the run copes, nothing is made twice, the next
// fault-free `up` has nothing to repair, and `down` leaves nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_service_survives_lost_answers_without_a_second_copy() {
    // Two seeds over every mutating call, then every answer of the new kinds' creates lost.
    let plans = [
        "seed=11,rate=0.25,kinds=lost,calls=mutating",
        "seed=12,rate=0.25,kinds=lost,calls=mutating",
        "seed=13,rate=1,kinds=lost,calls=CreateRule+CreatePrivateDnsNamespace+CreateService",
    ];
    for (seed, faults) in (11..).zip(plans) {
        let front = crate::helpers::front(None, Some(faults)).await;
        let mut stack = TestStack::new(&format!("klost{seed}"), EVERY_KIND).await;
        stack
            .env
            .push(("STACKCTL_POLL_SECONDS".into(), "0.05".into()));
        stack.endpoint = Some(front.endpoint());
        let up = stack.run(&["up", "--image", IMAGE, "--yes"]);
        assert!(
            up.status.success(),
            "up through {faults}: {}\n{}",
            stderr(&up),
            stdout(&up)
        );
        stack.endpoint = None;
        let status = stack.json(&["status"]);
        assert_eq!(duplicates(&status), Vec::<String>::new(), "{status}");
        let plan = stack.run(&["plan", "--image", IMAGE, "--detailed-exitcode"]);
        assert_eq!(
            plan.status.code(),
            Some(0),
            "nothing to repair: {}",
            stdout(&plan)
        );
        stack.endpoint = Some(front.endpoint());
        let _ = stack.run(&["down", "--yes"]);
        stack.endpoint = None;
        down_leaves_nothing(&stack);
        let injected = front.entries().iter().filter(|e| e.fault.is_some()).count();
        assert!(injected > 0, "the plan {faults} injected nothing");
    }
}

#[test]
fn validate_lists_each_service_with_its_kind_and_route() {
    let scratch = crate::helpers::Scratch::new();
    let file = scratch.write(
        "stack.toml",
        &format!("[stack]\nname = \"kinds\"\n{EVERY_KIND}"),
    );
    let out = crate::helpers::stackctl()
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "  admin (web, port 9000, routed by admin.example.com /admin/*, 1 task)",
        "  store (internal, port 7000, 1 task)",
        "  web (web, port 5000, takes what no rule matches, 1 task)",
        "  worker (worker, 1 task)",
        "Queues: events, jobs",
    ] {
        assert!(text.contains(line), "{line:?} in {text}");
    }
    let json = crate::helpers::stackctl()
        .args(["validate", "--json", "-f"])
        .arg(&file)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["services"][1]["kind"], "web");
    assert_eq!(json["services"][1]["paths"][0], "/api/*");
}
