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

/// An alarm on one metric, no math: the unhealthy hosts of a target group.
fn unhealthy(stat: &str) -> Alarm {
    Alarm {
        name: "s-app-unhealthy".into(),
        description: "unhealthy".into(),
        watched: vec![Watched {
            id: "m1".into(),
            namespace: "AWS/ApplicationELB".into(),
            metric: "UnHealthyHostCount".into(),
            stat: stat.into(),
            dimensions: vec![(
                "LoadBalancer".into(),
                Value::LoadBalancer("load-balancer".into()),
            )],
        }],
        expression: None,
        period_secs: 60,
        periods: 2,
        threshold: 0.0,
        below: false,
        actions: Vec::new(),
    }
}

#[test]
fn one_metric_reads_back_the_same_in_the_plain_form_and_in_metric_math() {
    use aws_sdk_cloudwatch::types::{Dimension, Statistic};
    let spec = unhealthy("Maximum");
    let wanted = spec.wanted(&refs()).unwrap();
    let plain = MetricAlarm::builder()
        .alarm_description("unhealthy")
        .namespace("AWS/ApplicationELB")
        .metric_name("UnHealthyHostCount")
        .statistic(Statistic::Maximum)
        .dimensions(
            Dimension::builder()
                .name("LoadBalancer")
                .value("app/s-alb/50dc")
                .build(),
        )
        .period(60)
        .evaluation_periods(2)
        .threshold(0.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .build();
    let found = AlarmState {
        definition: definition::read(&plain),
    };
    assert!(spec.diff(&found, &refs()).is_empty(), "{found:?}");
    // The same alarm as an endpoint may answer it: one query returning its metric.
    let math = MetricAlarm::builder()
        .set_metrics(Some(definition::queries(&Definition {
            metrics: vec![(
                "m1".into(),
                wanted.metrics[0].1.clone(),
                wanted.metrics[0].2.clone(),
                "Maximum".into(),
                wanted.metrics[0].4.clone(),
            )],
            ..wanted.clone()
        })))
        .alarm_description("unhealthy")
        .evaluation_periods(2)
        .threshold(0.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .build();
    let found = AlarmState {
        definition: definition::read(&math),
    };
    assert!(spec.diff(&found, &refs()).is_empty(), "{found:?}");
    // Another statistic is a change.
    let found = AlarmState {
        definition: definition::read(&plain),
    };
    assert!(!unhealthy("Sum").diff(&found, &refs()).is_empty());
}

mod calls {
    use aws_sdk_cloudwatch::operation::delete_alarms::{DeleteAlarmsError, DeleteAlarmsOutput};
    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::operation::list_tags_for_resource::ListTagsForResourceOutput;
    use aws_sdk_cloudwatch::operation::put_metric_alarm::PutMetricAlarmOutput;
    use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
    use aws_smithy_mocks::{Rule, mock};

    use super::*;
    use crate::resources::testing::{self, fails};

    const ARN: &str = "arn:aws:cloudwatch:r:1:alarm:s-http-5xx";

    fn found() -> Found<AlarmState> {
        let definition = five_xx().wanted(&refs()).unwrap();
        let mut found = testing::found("alarm-http-5xx", "s-http-5xx", AlarmState { definition });
        found.arn = Some(ARN.into());
        found
    }

    /// PutMetricAlarm of the 5xx alarm as wanted, with tags or without.
    fn put_rule(tagged: bool) -> Rule {
        mock!(aws_sdk_cloudwatch::Client::put_metric_alarm)
            .match_requests(move |r| {
                r.alarm_name() == Some("s-http-5xx")
                    && r.threshold() == Some(5.0)
                    && r.comparison_operator() == Some(&ComparisonOperator::GreaterThanThreshold)
                    && r.treat_missing_data() == Some("notBreaching")
                    && r.alarm_actions() == ["arn:aws:sns:r:1:s-alarms"]
                    && r.ok_actions() == ["arn:aws:sns:r:1:s-alarms"]
                    && r.metrics().len() == 3
                    && r.metric_name().is_none()
                    && r.tags().is_empty() != tagged
            })
            .then_output(|| PutMetricAlarmOutput::builder().build())
    }

    #[tokio::test]
    async fn create_puts_the_tagged_alarm_once() {
        let put = put_rule(true);
        let ctx = testing::cloudwatch(&[&put]);
        let creating = testing::Creating::new("alarm-http-5xx".into(), refs());
        let output = five_xx().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(output.aws_id, "s-http-5xx");
        assert_eq!(put.num_calls(), 1);
    }

    #[tokio::test]
    async fn one_metric_is_put_in_the_plain_form_and_math_only_where_needed() {
        use aws_sdk_cloudwatch::types::Statistic;
        let plain = mock!(aws_sdk_cloudwatch::Client::put_metric_alarm)
            .match_requests(|r| {
                r.metrics().is_empty()
                    && r.namespace() == Some("AWS/ApplicationELB")
                    && r.metric_name() == Some("UnHealthyHostCount")
                    && r.statistic() == Some(&Statistic::Maximum)
                    && r.extended_statistic().is_none()
                    && r.period() == Some(60)
                    && r.dimensions()[0].value() == Some("app/s-alb/50dc")
            })
            .then_output(|| PutMetricAlarmOutput::builder().build());
        let ctx = testing::cloudwatch(&[&plain]);
        let creating = testing::Creating::new("alarm-unhealthy-app".into(), refs());
        unhealthy("Maximum")
            .create(&ctx, creating.get())
            .await
            .unwrap();
        assert_eq!(plain.num_calls(), 1);

        let percentile = mock!(aws_sdk_cloudwatch::Client::put_metric_alarm)
            .match_requests(|r| r.statistic().is_none() && r.extended_statistic() == Some("p99"))
            .then_output(|| PutMetricAlarmOutput::builder().build());
        let ctx = testing::cloudwatch(&[&percentile]);
        unhealthy("p99").create(&ctx, creating.get()).await.unwrap();
        assert_eq!(percentile.num_calls(), 1);

        // The 5xx rate needs math: three queries, no plain metric (put_rule checks).
        let math = put_rule(true);
        let ctx = testing::cloudwatch(&[&math]);
        five_xx().create(&ctx, creating.get()).await.unwrap();
        assert_eq!(math.num_calls(), 1);
    }

    #[tokio::test]
    async fn an_alarm_on_a_resource_without_an_arn_is_refused_before_any_call() {
        let ctx = testing::cloudwatch(&[]);
        let creating = testing::Creating::new("alarm-http-5xx".into(), Outputs::new());
        let err = five_xx().create(&ctx, creating.get()).await.unwrap_err();
        assert!(err.to_string().contains("no ARN yet"), "{err}");
    }

    #[tokio::test]
    async fn an_update_puts_the_whole_definition_back_without_tags() {
        let put = put_rule(false);
        let ctx = testing::cloudwatch(&[&put]);
        let mut found = found();
        found.detail.definition.threshold = 50.0;
        let fields = five_xx().diff(&found.detail, &refs()).fields;
        five_xx()
            .update(&ctx, &found, &fields, &refs(), &|_| {})
            .await
            .unwrap();
        assert_eq!(put.num_calls(), 1);
    }

    fn listing() -> Rule {
        mock!(aws_sdk_cloudwatch::Client::describe_alarms)
            .match_requests(|r| r.alarm_name_prefix() == Some("s-"))
            .then_output(|| {
                let wanted = five_xx().wanted(&refs()).unwrap();
                let put = as_put(&wanted);
                let ours = MetricAlarm::builder()
                    .alarm_name("s-http-5xx")
                    .alarm_arn(ARN)
                    .state_value(StateValue::Ok)
                    .set_metrics(put.metrics.clone())
                    .set_alarm_description(put.alarm_description.clone())
                    .set_evaluation_periods(put.evaluation_periods)
                    .set_threshold(put.threshold)
                    .set_comparison_operator(put.comparison_operator.clone())
                    .set_alarm_actions(put.alarm_actions.clone())
                    .build();
                let by_hand = MetricAlarm::builder()
                    .alarm_name("s-cpu")
                    .alarm_arn("arn:aws:cloudwatch:r:1:alarm:s-cpu")
                    .build();
                DescribeAlarmsOutput::builder()
                    .metric_alarms(ours)
                    .metric_alarms(by_hand)
                    .build()
            })
    }

    fn tags_rule() -> Rule {
        mock!(aws_sdk_cloudwatch::Client::list_tags_for_resource).then_output(|| {
            let tags = testing::stack_tags("alarm-http-5xx")
                .into_iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build());
            ListTagsForResourceOutput::builder()
                .set_tags(Some(tags.collect()))
                .build()
        })
    }

    #[tokio::test]
    async fn observe_reads_back_the_definition_and_leaves_untagged_alarms_alone() {
        let list = listing();
        let tags = tags_rule();
        let untagged = mock!(aws_sdk_cloudwatch::Client::list_tags_for_resource)
            .match_requests(|r| r.resource_arn() == Some("arn:aws:cloudwatch:r:1:alarm:s-cpu"))
            .then_output(|| ListTagsForResourceOutput::builder().build());
        let ctx = testing::cloudwatch(&[&list, &untagged, &tags]);
        let spec = five_xx();
        let id = ResourceId::from("alarm-http-5xx");
        let found = Alarm::observe(
            &Scope::new(&ctx),
            &[Wanted {
                id: &id,
                spec: &spec,
            }],
        )
        .await
        .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].state, "OK");
        assert!(spec.diff(&found[0].detail, &refs()).is_empty());
    }

    #[tokio::test]
    async fn a_wanted_name_held_by_an_untagged_alarm_is_refused() {
        let list = listing();
        let untagged = mock!(aws_sdk_cloudwatch::Client::list_tags_for_resource)
            .then_output(|| ListTagsForResourceOutput::builder().build());
        let ctx = testing::cloudwatch(&[&list, &untagged]);
        let spec = five_xx();
        let id = ResourceId::from("alarm-http-5xx");
        let err = Alarm::observe(
            &Scope::new(&ctx),
            &[Wanted {
                id: &id,
                spec: &spec,
            }],
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("will not take over"), "{err}");
    }

    #[tokio::test]
    async fn delete_is_one_call_and_an_alarm_already_gone_is_success() {
        let delete = mock!(aws_sdk_cloudwatch::Client::delete_alarms)
            .match_requests(|r| r.alarm_names() == ["s-http-5xx"])
            .then_output(|| DeleteAlarmsOutput::builder().build());
        let ctx = testing::cloudwatch(&[&delete]);
        Alarm::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!(delete.num_calls(), 1);
        assert_eq!(Alarm::uses(&found()), ["arn:aws:sns:r:1:s-alarms"]);

        let gone = fails!(
            aws_sdk_cloudwatch,
            delete_alarms,
            DeleteAlarmsError,
            "ResourceNotFound"
        );
        let ctx = testing::cloudwatch(&[&gone]);
        Alarm::delete(&ctx, &found(), &|_| {}).await.unwrap();
        assert_eq!(gone.num_calls(), 1);
    }
}
