//! The default alarms on the emulator: made as declared, pointing at the stack's topic (or a
//! given one), in `status` with their state, put back after a hand edit, gone after `down`.

use aws_sdk_cloudwatch::types::{ComparisonOperator, MetricAlarm};

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

const WITH_EMAIL: &str = "\
[service]
image = \"public.ecr.aws/docker/library/nginx:1.27\"
[alarms]
notify = \"ops@example.com\"
oldest_message_secs = 600
";

async fn alarms(stack: &TestStack) -> Vec<MetricAlarm> {
    let client = &stack.aws.cloudwatch;
    let out = client
        .describe_alarms()
        .alarm_name_prefix(format!("{}-", stack.name))
        .send()
        .await
        .unwrap();
    let mut alarms = out.metric_alarms().to_vec();
    alarms.sort_by(|a, b| a.alarm_name().cmp(&b.alarm_name()));
    alarms
}

fn names(alarms: &[MetricAlarm]) -> Vec<String> {
    alarms
        .iter()
        .map(|a| a.alarm_name().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_alarms_notify_the_stack_s_topic_show_in_status_and_are_put_back() {
    let stack = TestStack::new("alarms", WITH_EMAIL).await;
    let up = stack.run(&["up", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let found = alarms(&stack).await;
    let s = &stack.name;
    assert_eq!(
        names(&found),
        [
            format!("{s}-app-below-desired"),
            format!("{s}-app-unhealthy"),
            format!("{s}-http-5xx"),
            format!("{s}-messages-dead-letters"),
            format!("{s}-messages-oldest-message"),
        ]
    );
    // One topic, the address subscribed, every alarm notifying it (and on recovery).
    let topics = stack.aws.sns.list_topics().send().await.unwrap();
    let topic = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|arn| arn.ends_with(&format!(":{s}-alarms")))
        .expect("the stack's topic")
        .to_owned();
    let subs = stack
        .aws
        .sns
        .list_subscriptions_by_topic()
        .topic_arn(&topic)
        .send()
        .await
        .unwrap();
    assert_eq!(subs.subscriptions()[0].endpoint(), Some("ops@example.com"));
    for alarm in &found {
        assert_eq!(
            alarm.alarm_actions(),
            std::slice::from_ref(&topic),
            "{alarm:?}"
        );
        assert_eq!(
            alarm.ok_actions(),
            std::slice::from_ref(&topic),
            "{alarm:?}"
        );
    }
    let oldest = &found[4];
    assert_eq!(oldest.threshold(), Some(600.0));
    let five_xx = &found[2];
    let expression = five_xx.metrics().iter().find_map(|m| m.expression());
    assert_eq!(expression, Some("100 * (FILL(m1, 0) + FILL(m2, 0)) / m3"));
    let lb = five_xx.metrics()[0]
        .metric_stat()
        .unwrap()
        .metric()
        .unwrap()
        .dimensions()[0]
        .value()
        .unwrap();
    assert!(lb.starts_with(&format!("app/{s}-alb/")), "{lb}");

    // The dashboard shows the load balancer, the service's own metrics and the queue.
    let dashboard = stack
        .aws
        .cloudwatch
        .get_dashboard()
        .dashboard_name(s)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value =
        serde_json::from_str(dashboard.dashboard_body().unwrap()).unwrap();
    let titles: Vec<&str> = body["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["properties"]["title"].as_str())
        .collect();
    assert_eq!(
        titles,
        [
            "Requests and errors",
            "Response time (p99, s)",
            "app: request latency (p99, ms)",
            "app: CPU and memory (%)",
            "messages: backlog and oldest message (s)",
        ]
    );

    // `status` shows each alarm's state.
    let status = stack.json(&["status"]);
    let shown: Vec<&serde_json::Value> = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "alarm")
        .collect();
    assert_eq!(shown.len(), 5, "{status}");
    assert!(
        shown
            .iter()
            .all(|r| r["state"].as_str().is_some_and(|s| !s.is_empty()))
    );

    let again = stack.json(&["up", "--yes"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());
    // The five alarms' tags and the queues' came in one call of the tagging API, not one
    // call each.
    let calls = again["aws_calls"].as_object().unwrap();
    assert!(
        !calls.contains_key("CloudWatch:ListTagsForResource"),
        "{again}"
    );
    assert!(!calls.contains_key("SQS:ListQueueTags"), "{again}");
    let bulk: Vec<_> = calls
        .iter()
        .filter(|(op, _)| op.ends_with(":GetResources"))
        .collect();
    assert_eq!(bulk.len(), 1, "{again}");
    assert_eq!(bulk[0].1, 1, "{again}");

    // A hand edit of a threshold shows in the plan and `up` puts it back.
    let edited = &found[3];
    let client = &stack.aws.cloudwatch;
    client
        .put_metric_alarm()
        .alarm_name(edited.alarm_name().unwrap())
        .set_metrics(Some(edited.metrics().to_vec()))
        .evaluation_periods(1)
        .threshold(25.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    let plan = stdout(&stack.run(&["plan"]));
    assert!(
        plan.contains("alarm-dead-letters-messages") && plan.contains("> 25"),
        "{plan}"
    );
    let fix = stack.run(&["up", "--yes"]);
    assert!(fix.status.success(), "{}", stderr(&fix));
    let fixed = alarms(&stack).await;
    assert_eq!(fixed[3].threshold(), Some(0.0));
    assert_eq!(fixed[3].alarm_actions(), std::slice::from_ref(&topic));

    let down = stack.run(&["down", "--yes"]);
    assert!(down.status.success(), "{}", stderr(&down));
    assert!(alarms(&stack).await.is_empty());
    let topics = stack.aws.sns.list_topics().send().await.unwrap();
    assert!(
        !topics
            .topics()
            .iter()
            .any(|t| t.topic_arn() == Some(topic.as_str())),
        "the topic goes with the stack"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_can_notify_a_given_topic_and_be_turned_off() {
    let ops = "arn:aws:sns:us-east-1:123456789012:ops";
    let stack = TestStack::new(
        "alarmsoff",
        &format!("[alarms]\nnotify = \"{ops}\"\ndead_letters = false\n"),
    )
    .await;
    let up = stack.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let found = alarms(&stack).await;
    assert_eq!(
        names(&found),
        [format!("{}-messages-oldest-message", stack.name)]
    );
    assert_eq!(found[0].alarm_actions(), [ops.to_owned()]);

    stack.write("[alarms]\nenabled = false\n[dashboard]\nenabled = false\n");
    let up = stack.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    assert!(alarms(&stack).await.is_empty());
    let dashboards = stack
        .aws
        .cloudwatch
        .list_dashboards()
        .dashboard_name_prefix(&stack.name)
        .send()
        .await
        .unwrap();
    assert!(dashboards.dashboard_entries().is_empty(), "{dashboards:?}");

    stack.write("[alarms]\nnotify = \"ops\"\n");
    let bad = stack.run(&["validate"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("stack.toml:4:10: alarms.notify"),
        "{}",
        stderr(&bad)
    );
    let down = stack.run(&["down", "--yes", "--stack-name", &stack.name]);
    assert!(down.status.success(), "{}", stderr(&down));
}
