//! What a target-tracking policy tracks, in stackctl's terms, and its translation to and from
//! Application Auto Scaling's configuration (so what is put reads back equal).

use aws_sdk_applicationautoscaling::types::{
    CustomizedMetricSpecification, MetricType, PredefinedMetricSpecification, TargetTrackingMetric,
    TargetTrackingMetricDataQuery, TargetTrackingMetricDimension, TargetTrackingMetricStat,
    TargetTrackingScalingPolicyConfiguration,
};

use crate::error::{Error, Result};
use crate::id::ResourceId;

/// What a policy tracks, as AWS has it (or as wanted, once references are resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tracked {
    Cpu,
    Requests {
        label: String,
    },
    Backlog {
        queue: String,
        cluster: String,
        service: String,
    },
    /// Anything else (a policy changed by hand to another metric).
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    pub tracked: Tracked,
    pub target_value: u32,
    pub scale_in_cooldown_secs: u32,
    pub scale_out_cooldown_secs: u32,
}

impl std::fmt::Display for Tracking {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match &self.tracked {
            Tracked::Cpu => "CPU %".to_owned(),
            Tracked::Requests { .. } => "requests per target".to_owned(),
            Tracked::Backlog { queue, .. } => format!("backlog of {queue} per task"),
            Tracked::Other(what) => what.clone(),
        };
        write!(
            f,
            "{what} at {} (cooldowns: in {} s, out {} s)",
            self.target_value, self.scale_in_cooldown_secs, self.scale_out_cooldown_secs
        )
    }
}

/// The load balancer's resource label of a target group: `app/<lb>/<id>/targetgroup/<tg>/<id>`.
pub fn resource_label(load_balancer_arn: &str, target_group_arn: &str) -> Option<String> {
    let lb = load_balancer_arn.split_once(":loadbalancer/")?.1;
    let tg = target_group_arn.split_once(":targetgroup/")?.1;
    Some(format!("{lb}/targetgroup/{tg}"))
}

fn secs(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(super) fn configuration(
    id: &ResourceId,
    t: &Tracking,
) -> Result<TargetTrackingScalingPolicyConfiguration> {
    let bad = |e| Error::request(id, "its target tracking configuration")(e);
    let builder = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(f64::from(t.target_value))
        .scale_in_cooldown(int(t.scale_in_cooldown_secs))
        .scale_out_cooldown(int(t.scale_out_cooldown_secs));
    let predefined = |kind: MetricType, label: Option<&str>| {
        PredefinedMetricSpecification::builder()
            .predefined_metric_type(kind)
            .set_resource_label(label.map(str::to_owned))
            .build()
            .map_err(bad)
    };
    let builder = match &t.tracked {
        Tracked::Cpu => builder.predefined_metric_specification(predefined(
            MetricType::EcsServiceAverageCpuUtilization,
            None,
        )?),
        Tracked::Requests { label } => builder.predefined_metric_specification(predefined(
            MetricType::AlbRequestCountPerTarget,
            Some(label),
        )?),
        Tracked::Backlog {
            queue,
            cluster,
            service,
        } => {
            builder.customized_metric_specification(backlog(queue, cluster, service).map_err(bad)?)
        }
        Tracked::Other(what) => {
            return Err(Error::Unexpected {
                resource: id.clone(),
                message: format!("cannot make a policy on {what}"),
            });
        }
    };
    builder.build().map_err(bad)
}

/// Visible messages / running tasks, by metric math (AWS's documented recipe; running tasks
/// come from Container Insights, which the cluster turns on for it).
fn backlog(
    queue: &str,
    cluster: &str,
    service: &str,
) -> std::result::Result<
    CustomizedMetricSpecification,
    aws_smithy_types::error::operation::BuildError,
> {
    let dimension = |name: &str, value: &str| {
        TargetTrackingMetricDimension::builder()
            .name(name)
            .value(value)
            .build()
    };
    let stat = |id: &str, namespace: &str, metric: &str, dims, stat: &str| {
        let metric = TargetTrackingMetric::builder()
            .namespace(namespace)
            .metric_name(metric)
            .set_dimensions(Some(dims))
            .build();
        TargetTrackingMetricDataQuery::builder()
            .id(id)
            .return_data(false)
            .metric_stat(
                TargetTrackingMetricStat::builder()
                    .metric(metric)
                    .stat(stat)
                    .build()?,
            )
            .build()
    };
    let messages = stat(
        "m1",
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        vec![dimension("QueueName", queue)?],
        "Sum",
    )?;
    let tasks = stat(
        "m2",
        "ECS/ContainerInsights",
        "RunningTaskCount",
        vec![
            dimension("ClusterName", cluster)?,
            dimension("ServiceName", service)?,
        ],
        "Average",
    )?;
    let per_task = TargetTrackingMetricDataQuery::builder()
        .id("e1")
        .expression("m1 / m2")
        .label("backlog per task")
        .return_data(true)
        .build()?;
    Ok(CustomizedMetricSpecification::builder()
        .metrics(messages)
        .metrics(tasks)
        .metrics(per_task)
        .build())
}

/// What a policy AWS has tracks, read back into the same terms as the wanted one.
pub(super) fn read_tracking(c: &TargetTrackingScalingPolicyConfiguration) -> Tracking {
    let tracked = if let Some(p) = c.predefined_metric_specification() {
        match p.predefined_metric_type() {
            MetricType::EcsServiceAverageCpuUtilization => Tracked::Cpu,
            MetricType::AlbRequestCountPerTarget => Tracked::Requests {
                label: p.resource_label().unwrap_or_default().to_owned(),
            },
            other => Tracked::Other(other.as_str().to_owned()),
        }
    } else if let Some(m) = c.customized_metric_specification() {
        read_backlog(m).unwrap_or_else(|| Tracked::Other("a customized metric".into()))
    } else {
        Tracked::Other("no metric".into())
    };
    Tracking {
        tracked,
        // Targets are whole numbers here; AWS keeps them as given.
        target_value: c.target_value().round() as u32,
        scale_in_cooldown_secs: secs(c.scale_in_cooldown()),
        scale_out_cooldown_secs: secs(c.scale_out_cooldown()),
    }
}

fn read_backlog(m: &CustomizedMetricSpecification) -> Option<Tracked> {
    let dimension = |id: &str, name: &str| {
        let query = m.metrics().iter().find(|q| q.id() == id)?;
        let metric = query.metric_stat()?.metric()?;
        metric
            .dimensions()
            .iter()
            .find(|d| d.name() == name)
            .map(|d| d.value().to_owned())
    };
    let expression = m.metrics().iter().find(|q| q.id() == "e1")?.expression()?;
    (expression == "m1 / m2").then_some(())?;
    Some(Tracked::Backlog {
        queue: dimension("m1", "QueueName")?,
        cluster: dimension("m2", "ClusterName")?,
        service: dimension("m2", "ServiceName")?,
    })
}
