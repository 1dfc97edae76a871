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
