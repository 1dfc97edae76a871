//! Autoscaling end to end on the emulator: scalable targets and target-tracking policies as
//! declared, put back after hand edits, the autoscaler's count left alone, nothing after `down`.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

const IMAGE: &str = "public.ecr.aws/docker/library/nginx:1.27";

const STACK: &str = "\
[queues.jobs]
[services.web]
image = \"public.ecr.aws/docker/library/nginx:1.27\"
sends_to = [\"jobs\"]
[services.web.autoscaling]
min = 2
max = 10
cpu = 60
requests_per_target = 500
[services.worker]
image = \"public.ecr.aws/docker/library/nginx:1.27\"
kind = \"worker\"
consumes = [\"jobs\"]
[services.worker.autoscaling]
max = 20
backlog_per_task = 10
scale_in_cooldown_secs = 120
";

/// `(resource id, min, max)` of the stack's scalable targets.
async fn targets(stack: &TestStack) -> Vec<(String, i32, i32)> {
    let out = stack
        .aws
        .autoscaling
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let mut targets: Vec<_> = out
        .scalable_targets()
        .iter()
        .filter(|t| {
            t.resource_id()
                .starts_with(&format!("service/{}/", stack.name))
        })
        .map(|t| {
            (
                t.resource_id().to_owned(),
                t.min_capacity(),
                t.max_capacity(),
            )
        })
        .collect();
    targets.sort();
    targets
}

async fn policies(stack: &TestStack) -> Vec<aws_sdk_applicationautoscaling::types::ScalingPolicy> {
    let out = stack
        .aws
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Ecs)
        .send()
        .await
        .unwrap();
    let mut policies: Vec<_> = out
        .scaling_policies()
        .iter()
        .filter(|p| {
            p.resource_id()
                .starts_with(&format!("service/{}/", stack.name))
        })
        .cloned()
        .collect();
    policies.sort_by(|a, b| a.policy_name().cmp(b.policy_name()));
    policies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scalable_targets_and_policies_are_made_kept_and_put_back() {
    let stack = TestStack::new("scale", STACK).await;
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let (web, worker) = (
        format!("service/{0}/{0}-web", stack.name),
        format!("service/{0}/{0}-worker", stack.name),
    );
    assert_eq!(
        targets(&stack).await,
        [(web.clone(), 2, 10), (worker.clone(), 1, 20)]
    );
    let found = policies(&stack).await;
    let names: Vec<&str> = found.iter().map(|p| p.policy_name()).collect();
    let name = |suffix: &str| format!("{}-{suffix}", stack.name);
    assert_eq!(
        names,
        [
            name("web-cpu"),
            name("web-requests"),
            name("worker-backlog")
        ]
    );
    let cpu = found[0]
        .target_tracking_scaling_policy_configuration()
        .unwrap();
    assert_eq!(cpu.target_value(), 60.0);
    assert_eq!(
        (cpu.scale_in_cooldown(), cpu.scale_out_cooldown()),
        (Some(300), Some(60))
    );
    let requests = found[1]
        .target_tracking_scaling_policy_configuration()
        .unwrap();
    let label = requests
        .predefined_metric_specification()
        .unwrap()
        .resource_label()
        .unwrap();
    assert!(
        label.starts_with(&format!("app/{}-alb/", stack.name)) && label.contains("/targetgroup/"),
        "{label}"
    );
    let backlog = found[2]
        .target_tracking_scaling_policy_configuration()
        .unwrap();
    assert_eq!(backlog.scale_in_cooldown(), Some(120));
    let metrics = backlog.customized_metric_specification().unwrap().metrics();
    let queue = metrics[0]
        .metric_stat()
        .unwrap()
        .metric()
        .unwrap()
        .dimensions()[0]
        .value();
    assert_eq!(queue, format!("{}-jobs", stack.name));
    assert_eq!(metrics[2].expression(), Some("m1 / m2"));
    // Running tasks per service come from Container Insights.
    let cluster = stack
        .aws
        .ecs
        .describe_clusters()
        .clusters(&stack.name)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .send()
        .await
        .unwrap();
    let settings = cluster.clusters()[0].settings();
    assert!(
        settings.iter().any(|s| s.value() == Some("enabled")),
        "{settings:?}"
    );

    let again = stack.json(&["up", "--yes"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());

    // The autoscaler moves the web service to 7 tasks: not drift, and the plan says so.
    stack
        .aws
        .ecs
        .update_service()
        .cluster(&stack.name)
        .service(format!("{}-web", stack.name))
        .desired_count(7)
        .send()
        .await
        .unwrap();
    let plan = stack.json(&["plan"]);
    assert_eq!(plan["summary"]["update"], 0, "{plan}");
    let note = plan["notes"][0].as_str().unwrap();
    assert!(note.contains("service-web runs 7 task(s)"), "{note}");
    // A new minimum above what runs: the note says the count rises, not that it stays.
    stack.write(&STACK.replace("min = 2", "min = 8"));
    let plan = stack.json(&["plan"]);
    let note = plan["notes"][0].as_str().unwrap();
    assert!(
        note.contains("runs 7 task(s), below its autoscaling minimum of 8")
            && note.contains("raises it to 8"),
        "{note}"
    );
    stack.write(STACK);

    // Hand edits: the bounds and a policy's target value are put back.
    stack
        .aws
        .autoscaling
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&web)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .min_capacity(1)
        .max_capacity(3)
        .send()
        .await
        .unwrap();
    stack
        .aws
        .autoscaling
        .put_scaling_policy()
        .policy_name(name("web-cpu"))
        .service_namespace(ServiceNamespace::Ecs)
        .resource_id(&web)
        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
        .policy_type(aws_sdk_applicationautoscaling::types::PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            aws_sdk_applicationautoscaling::types::TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(90.0)
                .predefined_metric_specification(
                    aws_sdk_applicationautoscaling::types::PredefinedMetricSpecification::builder()
                        .predefined_metric_type(
                            aws_sdk_applicationautoscaling::types::MetricType::EcsServiceAverageCpuUtilization,
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let plan = stack.run(&["plan"]);
    let text = stdout(&plan);
    assert!(
        text.contains("scalable-target-web") && text.contains("min..max: 1..3 -> 2..10"),
        "{text}"
    );
    assert!(text.contains("scaling-policy-web-cpu"), "{text}");
    let fix = stack.run(&["up", "--yes"]);
    assert!(fix.status.success(), "{}", stderr(&fix));
    assert_eq!(targets(&stack).await[0], (web.clone(), 2, 10));
    let cpu = policies(&stack).await[0].clone();
    assert_eq!(
        cpu.target_tracking_scaling_policy_configuration()
            .unwrap()
            .target_value(),
        60.0
    );
    let again = stack.json(&["up", "--yes"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(targets(&stack).await.is_empty());
    assert!(policies(&stack).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autoscaling_taken_out_of_the_file_goes_from_aws() {
    let stack = TestStack::new("unscale", STACK).await;
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    stack.write(&STACK.replace(
        "[services.worker.autoscaling]\nmax = 20\nbacklog_per_task = 10\nscale_in_cooldown_secs = 120\n",
        "",
    ));
    let up = stack.run(&["up", "--yes", "--image", IMAGE]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert_eq!(targets(&stack).await.len(), 1);
    let names: Vec<String> = policies(&stack)
        .await
        .iter()
        .map(|p| p.policy_name().to_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with("worker-backlog")),
        "{names:?}"
    );
    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
}
