use aws_sdk_cloudwatch::types::MetricAlarm;

use super::*;
use crate::outputs::Output;

fn five_xx() -> Alarm {
    let lb = || {
        vec![(
            "LoadBalancer".to_owned(),
            Value::LoadBalancer("load-balancer".into()),
        )]
    };
    let watched = |id: &str, name: &str| Watched {
        id: id.into(),
        namespace: "AWS/ApplicationELB".into(),
        metric: name.into(),
        stat: "Sum".into(),
        dimensions: lb(),
    };
    Alarm {
        name: "s-http-5xx".into(),
        description: "5xx".into(),
        watched: vec![
            watched("m1", "HTTPCode_ELB_5XX_Count"),
            watched("m3", "RequestCount"),
        ],
        expression: Some("100 * FILL(m1, 0) / m3".into()),
        period_secs: 300,
        periods: 1,
        threshold: 5.0,
        below: false,
        actions: vec![Action::Topic("alarm-topic".into())],
    }
}

fn refs() -> Outputs {
    let mut refs = Outputs::new();
    refs.insert(
        "load-balancer".into(),
        Output::arn("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/s-alb/50dc"),
    );
    refs.insert(
        "alarm-topic".into(),
        Output::arn("arn:aws:sns:r:1:s-alarms"),
    );
    refs
}

/// What CloudWatch would answer for the alarm put from `d`.
fn as_put(d: &Definition) -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_description(&d.description)
        .set_metrics(Some(definition::queries(d)))
        .evaluation_periods(d.periods)
        .threshold(d.threshold)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .set_alarm_actions(Some(d.actions.clone()))
        .build()
}

#[test]
fn what_is_put_reads_back_as_the_same_definition() {
    let wanted = five_xx().wanted(&refs()).unwrap();
    assert_eq!(
        wanted.metrics[0].4,
        [("LoadBalancer".to_owned(), "app/s-alb/50dc".to_owned())]
    );
    assert_eq!(wanted.actions, ["arn:aws:sns:r:1:s-alarms"]);
    assert_eq!(definition::read(&as_put(&wanted)), wanted);
    let found = AlarmState { definition: wanted };
    assert!(five_xx().diff(&found, &refs()).is_empty());
}

#[test]
fn a_changed_threshold_is_a_change_and_unmade_references_are_none() {
    let mut found = AlarmState {
        definition: five_xx().wanted(&refs()).unwrap(),
    };
    found.definition.threshold = 50.0;
    let diff = five_xx().diff(&found, &refs());
    let Field::Definition { from, to } = &diff.fields[0];
    assert!(
        from.contains("> 50") && to.contains("> 5 "),
        "{from} -> {to}"
    );
    // The load balancer is made anew in this run: the alarm follows it.
    let follows = five_xx().diff(&found, &Outputs::new());
    let Field::Definition { to, .. } = &follows.fields[0];
    assert!(to.contains("new load-balancer"), "{to}");
    assert_eq!(five_xx().refs(), ["load-balancer", "alarm-topic"]);
}

#[test]
fn target_groups_are_named_as_cloudwatch_names_them() {
    let mut refs = refs();
    refs.insert(
        "target-group".into(),
        Output::arn("arn:aws:elasticloadbalancing:r:1:targetgroup/s-tg/73e2"),
    );
    let watched = [Watched {
        id: "m1".into(),
        namespace: "AWS/ApplicationELB".into(),
        metric: "UnHealthyHostCount".into(),
        stat: "Maximum".into(),
        dimensions: vec![(
            "TargetGroup".into(),
            Value::TargetGroup("target-group".into()),
        )],
    }];
    let resolved = definition::resolve(&watched, &refs).unwrap();
    assert_eq!(resolved[0].4[0].1, "targetgroup/s-tg/73e2");
}
