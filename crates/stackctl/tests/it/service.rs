//! The deployed service end to end on the emulator: load balancer, ECS cluster, task
//! definition and service, checked through the AWS API.

use aws_sdk_ecs::types::TaskDefinitionStatus;

use crate::helpers::{TestStack, mutating_calls, stdout};
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

#[tokio::test]
async fn without_an_image_the_plan_says_how_to_add_the_service() {
    let stack = TestStack::new("noimg", "").await;
    let plan = stdout(&stack.run(&["up"]));
    assert!(
        plan.contains(
            "No image and no Dockerfile: the load balancer and the ECS service are not part of"
        ),
        "{plan}"
    );
    let with = stack.json(&["plan", "--image", IMAGE_1]);
    assert_eq!(
        with["summary"]["create"], 9,
        "load balancer, target group, listener, cluster, task definition, service, and the alarms on the 5xx rate, unhealthy targets and running tasks"
    );
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
