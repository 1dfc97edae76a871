//! What an alarm watches, in stackctl's terms: metrics (some with dimensions that are other
//! resources of the stack, resolved once they exist), an optional metric-math expression, and
//! the threshold; and the same read back from CloudWatch, so a hand edit shows as a change.
//!
//! An alarm on one metric is written in CloudWatch's plain form (namespace, metric, statistic),
//! metric math only where an expression needs it; either form reads back as the same
//! definition, so an endpoint that answers in the other form is no change.

use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::{
    ComparisonOperator, Dimension, Metric, MetricAlarm, MetricDataQuery, MetricStat, Statistic,
};

use crate::id::ResourceId;
use crate::outputs::{Attr, Outputs, Ref};

/// A dimension's value: given, or the CloudWatch name of another resource of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    /// A load balancer (logical id): `app/<name>/<id>`.
    LoadBalancer(ResourceId),
    /// A target group (logical id): `targetgroup/<name>/<id>`.
    TargetGroup(ResourceId),
}

/// One metric the alarm reads (`id` is the name the expression uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub id: String,
    pub namespace: String,
    pub metric: String,
    pub stat: String,
    pub dimensions: Vec<(String, Value)>,
}

/// A metric as CloudWatch names it: `(id, namespace, metric, stat, dimensions)`.
pub type Resolved = (String, String, String, String, Vec<(String, String)>);

/// An alarm as CloudWatch has it (or as wanted, references resolved): comparable as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub description: String,
    /// In order.
    pub metrics: Vec<Resolved>,
    /// The expression whose value is compared, if not the one metric itself.
    pub expression: Option<String>,
    pub period: i32,
    pub periods: i32,
    pub threshold: f64,
    /// `true`: alarm when below the threshold (else above).
    pub below: bool,
    pub actions: Vec<String>,
}

impl std::fmt::Display for Definition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let watched = self.expression.clone().unwrap_or_else(|| {
            self.metrics
                .first()
                .map(|m| format!("{} {}", m.3, m.2))
                .unwrap_or_default()
        });
        write!(
            f,
            "{watched} {} {} for {}×{} s, {} action(s)",
            if self.below { "<" } else { ">" },
            self.threshold,
            self.periods,
            self.period,
            self.actions.len()
        )
    }
}

/// The part of an ARN CloudWatch names a load balancer or target group by.
pub fn cloudwatch_name(arn: &str, marker: &str) -> Option<String> {
    arn.split_once(marker).map(|(_, rest)| rest.to_owned())
}

impl Value {
    /// The value, once the resource it names exists (`None` before).
    fn resolve(&self, refs: &Outputs) -> Option<String> {
        match self {
            Self::Text(text) => Some(text.clone()),
            Self::LoadBalancer(id) => {
                let arn = Ref::new(refs, id, Attr::Arn).known?;
                cloudwatch_name(&arn, ":loadbalancer/")
            }
            Self::TargetGroup(id) => {
                let arn = Ref::new(refs, id, Attr::Arn).known?;
                cloudwatch_name(&arn, ":targetgroup/").map(|rest| format!("targetgroup/{rest}"))
            }
        }
    }

    pub fn refs(&self) -> Option<&ResourceId> {
        match self {
            Self::Text(_) => None,
            Self::LoadBalancer(id) | Self::TargetGroup(id) => Some(id),
        }
    }
}

/// The metrics with their dimensions resolved; `None` while a referred resource is not made.
pub fn resolve(watched: &[Watched], refs: &Outputs) -> Option<Vec<Resolved>> {
    watched
        .iter()
        .map(|w| {
            let dims = w
                .dimensions
                .iter()
                .map(|(name, value)| Some((name.clone(), value.resolve(refs)?)))
                .collect::<Option<Vec<_>>>()?;
            Some((
                w.id.clone(),
                w.namespace.clone(),
                w.metric.clone(),
                w.stat.clone(),
                dims,
            ))
        })
        .collect()
}

/// CloudWatch's own statistics; any other (`p99`, `tm90`) is an extended statistic.
const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

impl Definition {
    /// The one metric, when no expression needs metric math.
    fn plain(&self) -> Option<&Resolved> {
        match self.metrics.as_slice() {
            [one] if self.expression.is_none() => Some(one),
            _ => None,
        }
    }

    /// As compared: a plain alarm's metric has no query id (CloudWatch keeps none).
    pub fn normalized(mut self) -> Self {
        if self.plain().is_some() {
            self.metrics[0].0.clear();
        }
        self
    }

    /// What the alarm watches, on a `PutMetricAlarm` call: the plain form for one metric,
    /// metric data queries otherwise.
    pub fn watch(&self, call: PutMetricAlarmFluentBuilder) -> PutMetricAlarmFluentBuilder {
        let Some((_, namespace, metric, stat, dims)) = self.plain() else {
            return call.set_metrics(Some(queries(self)));
        };
        let call = call
            .namespace(namespace)
            .metric_name(metric)
            .set_dimensions(Some(dimensions(dims)))
            .period(self.period);
        if STATISTICS.contains(&stat.as_str()) {
            call.statistic(Statistic::from(stat.as_str()))
        } else {
            call.extended_statistic(stat)
        }
    }
}

fn dimensions(dims: &[(String, String)]) -> Vec<Dimension> {
    dims.iter()
        .map(|(n, v)| Dimension::builder().name(n).value(v).build())
        .collect()
}

/// The metric data queries CloudWatch takes for `d`: each metric, then the expression.
pub fn queries(d: &Definition) -> Vec<MetricDataQuery> {
    let mut out = Vec::new();
    for (query, namespace, metric, stat, dims) in &d.metrics {
        let metric = Metric::builder()
            .namespace(namespace)
            .metric_name(metric)
            .set_dimensions(Some(dimensions(dims)))
            .build();
        let stat = MetricStat::builder()
            .metric(metric)
            .period(d.period)
            .stat(stat)
            .build();
        out.push(
            MetricDataQuery::builder()
                .id(query)
                .metric_stat(stat)
                .return_data(d.expression.is_none())
                .build(),
        );
    }
    if let Some(expression) = &d.expression {
        out.push(
            MetricDataQuery::builder()
                .id("e1")
                .expression(expression)
                .return_data(true)
                .build(),
        );
    }
    out
}

/// The metric of an alarm in the plain form, if it is one.
fn plain_metric(alarm: &MetricAlarm) -> Option<Resolved> {
    let metric = alarm.metric_name()?;
    let stat = alarm
        .statistic()
        .map(|s| s.as_str().to_owned())
        .or_else(|| alarm.extended_statistic().map(str::to_owned))
        .unwrap_or_default();
    let dims = alarm
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_owned(),
                d.value().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let namespace = alarm.namespace().unwrap_or_default().to_owned();
    Some((String::new(), namespace, metric.to_owned(), stat, dims))
}

/// What CloudWatch has, in the same terms (either form).
pub fn read(alarm: &MetricAlarm) -> Definition {
    let mut metrics: Vec<Resolved> = plain_metric(alarm).into_iter().collect();
    let mut expression = None;
    let mut period = alarm.period().unwrap_or_default();
    for q in alarm.metrics() {
        if let Some(e) = q.expression() {
            expression = Some(e.to_owned());
        }
        let Some(stat) = q.metric_stat() else {
            continue;
        };
        period = stat.period().unwrap_or(period);
        let metric = stat.metric();
        let dims = metric
            .map(|m| {
                m.dimensions()
                    .iter()
                    .map(|d| {
                        (
                            d.name().unwrap_or_default().to_owned(),
                            d.value().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        metrics.push((
            q.id().unwrap_or_default().to_owned(),
            metric
                .and_then(|m| m.namespace())
                .unwrap_or_default()
                .to_owned(),
            metric
                .and_then(|m| m.metric_name())
                .unwrap_or_default()
                .to_owned(),
            stat.stat().unwrap_or_default().to_owned(),
            dims,
        ));
    }
    Definition {
        description: alarm.alarm_description().unwrap_or_default().to_owned(),
        metrics,
        expression,
        period,
        periods: alarm.evaluation_periods().unwrap_or_default(),
        threshold: alarm.threshold().unwrap_or_default(),
        below: alarm.comparison_operator() == Some(&ComparisonOperator::LessThanThreshold),
        actions: alarm.alarm_actions().to_vec(),
    }
    .normalized()
}
