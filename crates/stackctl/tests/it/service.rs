//! The deployed service end to end on the emulator: load balancer, ECS cluster, task
//! definition and service, checked through the AWS API.

use aws_sdk_ecs::types::TaskDefinitionStatus;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};
use crate::stack::inventory;

const IMAGE_1: &str = "registry.example/messages:1";
const IMAGE_2: &str = "registry.example/messages:2";

#[tokio::test]
async fn the_service_lifecycle_from_empty_to_empty() {
    let stack = TestStack::new(
        "svc",
        &format!("[service]\nimage = \"{IMAGE_1}\"\nenvironment = {{ LOG_LEVEL = \"debug\" }}\n"),
    )
    .await;
    let up = stack.json(&["up"]);
    // 22, five alarms (5xx, unhealthy targets, tasks below desired, the queue's two) and the
    // dashboard.
    assert_eq!(up["summary"]["create"], 28);
    let found = inventory(&stack).await;
    for want in [
        "elb/load-balancer",
        "elb/listener-80",
        "elb/target-group",
        "ecs/cluster",
        "ecs/service",
        "ecs/task-definition",
    ] {
        assert!(
            found.contains(&want.to_owned()),
            "{want} missing from {found:?}"
        );
    }
    let aws = &stack.aws;

    // The load balancer: internet-facing, in the two public subnets, behind its own group.
    let lb = &crate::stack::load_balancer(&stack).await;
    assert_eq!(lb.scheme().map(|s| s.as_str()), Some("internet-facing"));
    assert_eq!(lb.availability_zones().len(), 2);
    let tg = aws
        .elb
        .describe_target_groups()
        .load_balancer_arn(lb.load_balancer_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(tg.target_groups().len(), 1);
    let tg = &tg.target_groups()[0];
    assert_eq!(tg.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(tg.health_check_path(), Some("/healthcheck"));
    assert_eq!(tg.matcher().and_then(|m| m.http_code()), Some("200"));
    let attrs = aws
        .elb
        .describe_target_group_attributes()
        .target_group_arn(tg.target_group_arn().unwrap())
        .send()
        .await
        .unwrap();
    let delay = attrs
        .attributes()
        .iter()
        .find(|a| a.key() == Some("deregistration_delay.timeout_seconds"))
        .unwrap();
    assert_eq!(delay.value(), Some("30"));

    // The task definition: Fargate, the image, the queue from the stack, logs to its group.
    let td = aws
        .ecs
        .describe_task_definition()
        .task_definition(&stack.name)
        .send()
        .await
        .unwrap();
    let td = td.task_definition().unwrap();
    assert_eq!((td.cpu(), td.memory()), (Some("256"), Some("512")));
    assert_eq!(td.network_mode().map(|m| m.as_str()), Some("awsvpc"));
    let container = &td.container_definitions()[0];
    assert_eq!(container.image(), Some(IMAGE_1));
    let env: std::collections::BTreeMap<&str, &str> = container
        .environment()
        .iter()
        .map(|kv| (kv.name().unwrap(), kv.value().unwrap()))
        .collect();
    assert!(
        env["SQS_QUEUE_URL"].ends_with(&format!("/{}-messages", stack.name)),
        "{env:?}"
    );
    assert_eq!(
        (env["ENV"], env["PORT"], env["LOG_LEVEL"]),
        ("prod", "5000", "debug")
    );
    let log = container.log_configuration().unwrap();
    assert_eq!(
        log.options().unwrap()["awslogs-group"],
        format!("/stackctl/{}", stack.name)
    );
    assert!(
        td.task_role_arn()
            .unwrap()
            .ends_with(&format!("role/{}-task", stack.name))
    );

    // The service: one task, circuit breaker with rollback, registered in the target group.
    let svc = &crate::stack::ecs_service(&stack).await;
    assert_eq!(svc.desired_count(), 1);
    let breaker = svc
        .deployment_configuration()
        .unwrap()
        .deployment_circuit_breaker()
        .unwrap();
    assert!(breaker.enable() && breaker.rollback());
    assert_eq!(svc.load_balancers()[0].container_port(), Some(5000));
    let network = svc
        .network_configuration()
        .unwrap()
        .awsvpc_configuration()
        .unwrap();
    assert_eq!(
        network.assign_public_ip().map(|a| a.as_str()),
        Some("ENABLED")
    );

    // status shows the URL and the deployment.
    let status = stdout(&stack.run(&["status"]));
    assert!(
        status.contains("URL:     http://") && status.contains("1 desired, "),
        "{status}"
    );
    assert!(status.contains(&format!("image {IMAGE_1}")), "{status}");

    // A second up changes nothing and registers no new revision.
    let again = stack.json(&["up"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());
    let revisions = |aws: &infra::Context| {
        let aws = aws.clone();
        let name = stack.name.clone();
        async move {
            aws.ecs
                .list_task_definitions()
                .family_prefix(&name)
                .status(TaskDefinitionStatus::Active)
                .send()
                .await
                .unwrap()
                .task_definition_arns()
                .len()
        }
    };
    assert_eq!(revisions(aws).await, 1);

    // A new image and count: exactly a new revision and a service update.
    stack.write(&format!("[service]\nimage = \"{IMAGE_2}\"\ndesired_count = 2\nenvironment = {{ LOG_LEVEL = \"debug\" }}\n"));
    let plan = stack.json(&["plan"]);
    let changed: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["task-definition", "service"]);
    let up = stack.json(&["up"]);
    let mut calls = mutating_calls(&up);
    calls.sort();
    assert_eq!(calls, ["ECS:RegisterTaskDefinition", "ECS:UpdateService"]);
    let svc = crate::stack::ecs_service(&stack).await;
    assert_eq!(svc.desired_count(), 2);
    assert!(svc.task_definition().unwrap().ends_with(":2"));
    assert_eq!(mutating_calls(&stack.json(&["up"])), Vec::<String>::new());

    // down leaves nothing tagged, service resources included.
    let down = stack.json(&["down", "--yes"]);
    assert_eq!(down["remaining"], serde_json::json!([]));
    assert_eq!(inventory(&stack).await, Vec::<String>::new());
}

/// A service that does not run yet and is given no image is refused before any change, with
/// the three ways to give it one; `--infra-only` makes the rest of the stack.
#[tokio::test]
async fn a_new_service_without_an_image_is_refused_before_any_change() {
    let stack = TestStack::new("noimg", "").await;
    for command in [&["plan"][..], &["up", "--yes"]] {
        let refused = stack.run(command);
        assert_eq!(
            refused.status.code(),
            Some(1),
            "{command:?}: {}",
            stdout(&refused)
        );
        let err = stderr(&refused);
        for way in [
            "image = \"REPOSITORY:TAG\"",
            "--image",
            "Dockerfile at ./Dockerfile",
        ] {
            assert!(err.contains(way), "{command:?}: {way} not in {err}");
        }
        assert!(err.contains("stackctl up --infra-only"), "{err}");
    }
    assert_eq!(
        inventory(&stack).await,
        Vec::<String>::new(),
        "nothing made"
    );

    let infra = stack.json(&["up", "--infra-only", "--yes"]);
    let notes = infra["notes"].to_string();
    assert!(
        notes.contains("not deployed (--infra-only; no image yet): app"),
        "{notes}"
    );
    let found = inventory(&stack).await;
    assert!(found.contains(&"ecr/repository".to_owned()), "{found:?}");
    assert!(!found.iter().any(|f| f.starts_with("ecs/")), "{found:?}");
    let with = stack.json(&["plan", "--image", IMAGE_1]);
    assert_eq!(
        with["summary"]["create"], 9,
        "load balancer, target group, listener, cluster, task definition, service, and the alarms on the 5xx rate, unhealthy targets and running tasks"
    );
    stack.json(&["down", "--yes"]);
}

/// `up` without `--image` after a deploy with one keeps what runs: the service, its load
/// balancer and its alarms stay, and nothing is called that changes anything.
#[tokio::test]
async fn forgetting_the_image_keeps_the_running_service() {
    let stack = TestStack::new("keep", "").await;
    stack.json(&["up", "--image", IMAGE_1, "--yes"]);
    let plan = stack.json(&["plan"]);
    assert_eq!(plan["summary"]["delete"], 0, "{plan:#}");
    let notes = plan["notes"].to_string();
    assert!(
        notes.contains(&format!("service app keeps the image it runs, {IMAGE_1}")),
        "{notes}"
    );
    let again = stack.json(&["up", "--yes"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new(), "{again:#}");
    assert!(again["outputs"]["service_arn"].is_string(), "{again:#}");
    let svc = crate::stack::ecs_service(&stack).await;
    let td = stack
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(svc.task_definition().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        td.task_definition().unwrap().container_definitions()[0].image(),
        Some(IMAGE_1)
    );
    // A new image still rolls out, and a later run without one keeps that.
    stack.json(&["up", "--image", IMAGE_2, "--yes"]);
    let kept = stack.json(&["plan"]);
    assert!(kept["notes"].to_string().contains(IMAGE_2), "{kept:#}");
    assert_eq!(
        kept["summary"]["unchanged"],
        kept["changes"].as_array().unwrap().len()
    );
    stack.json(&["down", "--yes"]);
}

/// A deploy that `up` stopped waiting for is not done: the next `plan` shows the rollout
/// under way, and the next `up` waits for it instead of saying "No changes".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_rollout_is_a_change_the_next_up_waits_for() {
    // A worker: no load balancer for `up` to wait on, so its tasks start (9 s) well after
    // the first `up` gave up on them (1 s).
    let front = crate::helpers::front(Some(0.2), None).await;
    let body = format!(
        "[queues.jobs]\n[services.worker]\nkind = \"worker\"\nconsumes = [\"jobs\"]\nimage = \"{IMAGE_1}\"\n"
    );
    let mut stack = TestStack::new("unfin", &body).await;
    stack.endpoint = Some(front.endpoint());
    stack
        .env
        .push(("STACKCTL_POLL_SECONDS".into(), "0.1".into()));

    let cut = stack.run(&["up", "--yes", "--wait-timeout", "1"]);
    assert_eq!(cut.status.code(), Some(1), "{}", stderr(&cut));
    assert!(
        stderr(&cut).contains("did not finish within 1s"),
        "{}",
        stderr(&cut)
    );

    let plan = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{}", stdout(&plan));
    let text = stdout(&plan);
    assert!(text.contains("  ~ service-worker"), "{text}");
    assert!(text.contains("rollout in progress since "), "{text}");
    assert!(text.contains("0 of 1 running"), "{text}");
    assert!(text.contains("1 to wait for"), "{text}");

    let up = stack.json(&["up", "--yes"]);
    assert_eq!(up["summary"]["wait"], 1, "{up:#}");
    assert_eq!(
        mutating_calls(&up),
        Vec::<String>::new(),
        "waiting changes nothing"
    );
    let returned = front.now();
    let ready = front
        .timeline()
        .into_iter()
        .find(|(_, e)| e.starts_with("service ready"))
        .map(|(at, _)| at)
        .unwrap();
    assert!(
        returned >= ready,
        "up returned at {returned:?}, before the rollout at {ready:?}"
    );
    let settled = stack.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(settled.status.code(), Some(0), "{}", stdout(&settled));
    stack.json(&["down", "--yes"]);
}

/// A service of several tasks finishes its rollout on the project's emulator, and `up` waits
/// for it (it used to wait out its whole timeout).
#[tokio::test]
async fn a_new_service_of_three_tasks_completes_its_rollout() {
    let stack = TestStack::new(
        "three",
        &format!("[service]\nimage = \"{IMAGE_1}\"\ndesired_count = 3\nwait_timeout_secs = 60\n"),
    )
    .await;
    let up = stack.json(&["up"]);
    // 22, five alarms (5xx, unhealthy targets, tasks below desired, the queue's two) and the
    // dashboard.
    assert_eq!(up["summary"]["create"], 28);
    let svc = crate::stack::ecs_service(&stack).await;
    assert_eq!(svc.desired_count(), 3);
    stack.json(&["down", "--yes"]);
}
