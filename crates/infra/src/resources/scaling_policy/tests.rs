use super::*;
use crate::outputs::Output;

fn tracking(tracked: Tracked) -> Tracking {
    Tracking {
        tracked,
        target_value: 60,
        scale_in_cooldown_secs: 300,
        scale_out_cooldown_secs: 60,
    }
}

#[test]
fn what_is_put_reads_back_as_the_same_tracking() {
    for tracked in [
        Tracked::Cpu,
        Tracked::Requests {
            label: "app/s-alb/50dc6c495c0c9188/targetgroup/s-api/73e2d6bc24d8a067".into(),
        },
        Tracked::Backlog {
            queue: "s-jobs".into(),
            cluster: "s".into(),
            service: "s-worker".into(),
        },
    ] {
        let want = tracking(tracked);
        let put = configuration(&"p".into(), &want).unwrap();
        assert_eq!(read_tracking(&put), want);
    }
}

#[test]
fn the_backlog_is_visible_messages_over_running_tasks() {
    let put = configuration(
        &"p".into(),
        &tracking(Tracked::Backlog {
            queue: "s-jobs".into(),
            cluster: "s".into(),
            service: "s-worker".into(),
        }),
    )
    .unwrap();
    let metrics = put.customized_metric_specification().unwrap().metrics();
    let returned: Vec<&str> = metrics
        .iter()
        .filter(|q| q.return_data() == Some(true))
        .map(|q| q.id())
        .collect();
    assert_eq!(returned, ["e1"]);
    let m1 = metrics[0].metric_stat().unwrap();
    assert_eq!(
        m1.metric().unwrap().metric_name(),
        Some("ApproximateNumberOfMessagesVisible")
    );
    assert_eq!(m1.stat(), "Sum");
}

#[test]
fn the_request_label_is_cut_from_the_two_arns() {
    assert_eq!(
        resource_label(
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/s-alb/50dc6c495c0c9188",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/s-api/73e2d6bc24d8a067",
        )
        .as_deref(),
        Some("app/s-alb/50dc6c495c0c9188/targetgroup/s-api/73e2d6bc24d8a067")
    );
    assert_eq!(resource_label("nonsense", "also"), None);
}

#[test]
fn policies_of_the_stack_are_found_by_name() {
    assert_eq!(
        logical_id("shop", "shop-api-cpu")
            .map(String::from)
            .as_deref(),
        Some("scaling-policy-api-cpu")
    );
    assert_eq!(logical_id("shop", "shopping-cpu"), None);
}

fn policy(metric: Metric) -> ScalingPolicy {
    ScalingPolicy {
        name: "s-api-requests".into(),
        target: "scalable-target-api".into(),
        resource_id: "service/s/s-api".into(),
        metric,
        target_value: 60,
        scale_in_cooldown_secs: 300,
        scale_out_cooldown_secs: 60,
    }
}

#[test]
fn a_changed_target_value_is_one_field_and_unknown_references_are_no_change() {
    let requests = policy(Metric::Requests {
        load_balancer: "load-balancer".into(),
        target_group: "target-group-api".into(),
    });
    let found = ScalingPolicyState {
        resource_id: "service/s/s-api".into(),
        tracking: Some(tracking(Tracked::Cpu)),
    };
    // The load balancer is made anew in this run: the policy follows it.
    assert_eq!(requests.diff(&found, &Outputs::new()).fields.len(), 1);

    let mut refs = Outputs::new();
    refs.insert(
        "load-balancer".into(),
        Output::arn("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/s-alb/1"),
    );
    refs.insert(
        "target-group-api".into(),
        Output::arn("arn:aws:elasticloadbalancing:r:1:targetgroup/s-api/2"),
    );
    let diff = requests.diff(&found, &refs);
    assert_eq!(diff.fields.len(), 1);
    let cpu = policy(Metric::Cpu);
    assert!(cpu.diff(&found, &refs).is_empty());
    let mut faster = cpu.clone();
    faster.scale_out_cooldown_secs = 30;
    let Field::Tracking { from, to } = &faster.diff(&found, &refs).fields[0];
    assert!(
        from.contains("out 60 s") && to.contains("out 30 s"),
        "{from} -> {to}"
    );
}

mod calls {
    use aws_sdk_applicationautoscaling::operation::delete_scaling_policy::{
        DeleteScalingPolicyError, DeleteScalingPolicyOutput,
    };
    use aws_sdk_applicationautoscaling::operation::describe_scaling_policies::DescribeScalingPoliciesOutput;
    use aws_sdk_applicationautoscaling::operation::put_scaling_policy::PutScalingPolicyOutput;
    use aws_sdk_applicationautoscaling::types::ScalingPolicy as AwsPolicy;
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::resources::testing::{self, fails};

    const ARN: &str = "arn:aws:autoscaling:r:1:scalingPolicy:abc:resource/ecs/service/s/s-api:policyName/s-api-cpu";

    fn cpu() -> ScalingPolicy {
        ScalingPolicy {
            name: "s-api-cpu".into(),
            ..policy(Metric::Cpu)
        }
    }

    fn found() -> Found<ScalingPolicyState> {
        testing::found(
            "scaling-policy-api-cpu",
            "s-api-cpu",
            ScalingPolicyState {
                resource_id: "service/s/s-api".into(),
                tracking: Some(tracking(Tracked::Cpu)),
            },
        )
    }

    fn put_rule() -> Rule {
        mock!(aws_sdk_applicationautoscaling::Client::put_scaling_policy)
            .match_requests(|r| {
                let config = r.target_tracking_scaling_policy_configuration();
                r.policy_name() == Some("s-api-cpu")
                    && r.resource_id() == Some("service/s/s-api")
                    && r.policy_type() == Some(&PolicyType::TargetTrackingScaling)
                    && config.map(|c| (c.target_value(), c.scale_out_cooldown()))
                        == Some((60.0, Some(60)))
            })
            .then_output(|| {
                PutScalingPolicyOutput::builder()
                    .policy_arn(ARN)
                    .build()
                    .unwrap()
            })
    }

    #[tokio::test]
    async fn create_and_update_put_the_tracking_configuration() {
        let put = put_rule();
        let ctx = testing::autoscaling(&[&put]);
        let id = ResourceId::scaling_policy("api", "cpu");
        let creating = testing::Creating::new(id, Outputs::new());
        let output = cpu().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "s-api-cpu");
        assert_eq!(output.arn.as_deref(), Some(ARN));
        let mut drifted = found();
        drifted.detail.tracking = None;
        let fields = cpu().diff(&drifted.detail, &Outputs::new()).fields;
        cpu()
            .update(&ctx, &drifted, &fields, &Outputs::new(), &|_| {})
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_requests_policy_waits_for_its_load_balancer_s_arn() {
        let ctx = testing::autoscaling(&[]);
        let requests = policy(Metric::Requests {
            load_balancer: "load-balancer".into(),
            target_group: "target-group-api".into(),
        });
        let id = ResourceId::scaling_policy("api", "requests");
        let creating = testing::Creating::new(id, Outputs::new());
        let err = requests.create(&ctx, creating.get()).await.unwrap_err();
        assert!(err.to_string().contains("no ARN yet"), "{err}");
    }

    #[tokio::test]
    async fn observe_reads_policies_on_the_stack_s_targets_only() {
        let describe = mock!(aws_sdk_applicationautoscaling::Client::describe_scaling_policies)
            .then_output(|| {
                let config = configuration(&"p".into(), &tracking(Tracked::Cpu)).unwrap();
                let policy = |name: &str, resource_id: &str| {
                    AwsPolicy::builder()
                        .policy_arn(format!("arn:policy/{name}"))
                        .policy_name(name)
                        .service_namespace(ServiceNamespace::Ecs)
                        .resource_id(resource_id)
                        .scalable_dimension(ScalableDimension::EcsServiceDesiredCount)
                        .policy_type(PolicyType::TargetTrackingScaling)
                        .target_tracking_scaling_policy_configuration(config.clone())
                        .creation_time(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap()
                };
                DescribeScalingPoliciesOutput::builder()
                    .scaling_policies(policy("s-api-cpu", "service/s/s-api"))
                    .scaling_policies(policy("s-eu-api-cpu", "service/s-eu/s-eu-api"))
                    .build()
            });
        let ctx = testing::autoscaling(&[&describe]);
        let found = ScalingPolicy::observe(&Scope::new(&ctx), &[])
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, ResourceId::scaling_policy("api", "cpu"));
        assert!(cpu().diff(&found[0].detail, &Outputs::new()).is_empty());
    }

    #[tokio::test]
    async fn delete_names_the_target_and_a_policy_already_gone_is_success() {
        let delete = mock!(aws_sdk_applicationautoscaling::Client::delete_scaling_policy)
            .match_requests(|r| {
                r.policy_name() == Some("s-api-cpu") && r.resource_id() == Some("service/s/s-api")
            })
            .then_output(|| DeleteScalingPolicyOutput::builder().build());
        let ctx = testing::autoscaling(&[&delete]);
        ScalingPolicy::delete(&ctx, &found(), &|_| {})
            .await
            .unwrap();
        assert_eq!(delete.num_calls(), 1);
        assert_eq!(ScalingPolicy::uses(&found()), ["service/s/s-api"]);

        let gone = fails!(
            aws_sdk_applicationautoscaling,
            delete_scaling_policy,
            DeleteScalingPolicyError,
            "ObjectNotFoundException"
        );
        let ctx = testing::autoscaling(&[&gone]);
        ScalingPolicy::delete(&ctx, &found(), &|_| {})
            .await
            .unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
