//! The stack's default alarms (`[alarms]`), each on what the stack has: the load balancer's
//! 5xx rate, each web service's unhealthy targets, each running service below its desired
//! count, each queue's oldest message and each dead-letter queue; and where they notify. And
//! the dashboard that shows it all.

use super::builder::Builder;
use crate::id::{ResourceId, ServiceIds};
use crate::resources::Spec;
use crate::resources::alarm::{Action, Alarm, Value, Watched};
use crate::resources::dashboard::Dashboard;
use crate::resources::topic::Topic;
use crate::stack_file::{AlarmsSpec, Notify, ServiceKind};

fn metric(id: &str, namespace: &str, name: &str, stat: &str, dims: &[(&str, Value)]) -> Watched {
    Watched {
        id: id.into(),
        namespace: namespace.into(),
        metric: name.into(),
        stat: stat.into(),
        dimensions: dims
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect(),
    }
}

fn text(value: &str) -> Value {
    Value::Text(value.to_owned())
}

/// An alarm when the watched value stays above `threshold` for `periods` of `period_secs`.
fn above(
    name: String,
    description: String,
    watched: Vec<Watched>,
    (period_secs, periods): (u32, u32),
    threshold: f64,
) -> Alarm {
    Alarm {
        name,
        description,
        watched,
        expression: None,
        period_secs,
        periods,
        threshold,
        below: false,
        actions: Vec::new(),
    }
}

type Alarms = Vec<(ResourceId, Alarm)>;

pub(super) fn add(b: &mut Builder<'_>) {
    let a = b.spec.alarms.clone();
    if !a.enabled {
        return;
    }
    let mut alarms = load_balancer(b, &a);
    let insights = services(b, &a, &mut alarms);
    alarms.extend(queues(b, &a));
    if alarms.is_empty() {
        return;
    }
    if insights {
        // Desired and running task counts per service come from Container Insights.
        let cluster = b
            .out
            .iter_mut()
            .find(|d| d.id == ResourceId::CLUSTER)
            .map(|d| &mut d.spec);
        if let Some(Spec::Cluster(cluster)) = cluster {
            cluster.insights = true;
        }
    }
    let actions = match &a.notify {
        None => Vec::new(),
        Some(Notify::Topic(arn)) => vec![Action::Arn(arn.clone())],
        Some(Notify::Email(email)) => {
            let topic = Topic {
                name: format!("{}-alarms", b.spec.name),
                email: email.clone(),
            };
            b.add(ResourceId::ALARM_TOPIC, Spec::Topic(topic), &[]);
            vec![Action::Topic(ResourceId::ALARM_TOPIC)]
        }
    };
    for (id, mut alarm) in alarms {
        alarm.actions.clone_from(&actions);
        b.add(id, Spec::Alarm(alarm), &[]);
    }
}

fn has(b: &Builder<'_>, id: &ResourceId) -> bool {
    b.out.iter().any(|d| &d.id == id)
}

/// The load balancer's 5xx answers as a share of its requests.
fn load_balancer(b: &Builder<'_>, a: &AlarmsSpec) -> Alarms {
    if !has(b, &ResourceId::LOAD_BALANCER) || a.http_5xx_percent == 0 {
        return Vec::new();
    }
    let lb = [(
        "LoadBalancer",
        Value::LoadBalancer(ResourceId::LOAD_BALANCER),
    )];
    let elb = "AWS/ApplicationELB";
    let mut alarm = above(
        format!("{}-http-5xx", b.spec.name),
        format!(
            "More than {}% of the load balancer's requests answered 5xx over 5 minutes",
            a.http_5xx_percent
        ),
        vec![
            metric("m1", elb, "HTTPCode_ELB_5XX_Count", "Sum", &lb),
            metric("m2", elb, "HTTPCode_Target_5XX_Count", "Sum", &lb),
            metric("m3", elb, "RequestCount", "Sum", &lb),
        ],
        (300, 1),
        f64::from(a.http_5xx_percent),
    );
    alarm.expression = Some("100 * (FILL(m1, 0) + FILL(m2, 0)) / m3".into());
    vec![(ResourceId::ALARM_HTTP_5XX, alarm)]
}

/// Each running service's: unhealthy targets (web), fewer tasks than desired. True when
/// Container Insights is needed.
fn services(b: &Builder<'_>, a: &AlarmsSpec, alarms: &mut Alarms) -> bool {
    let stack = &b.spec.name;
    let mut insights = false;
    for service in b
        .spec
        .services
        .iter()
        .filter(|s| has(b, &ServiceIds::named(&s.name).service))
    {
        let (ids, name) = (ServiceIds::named(&service.name), &service.name);
        if a.unhealthy_targets && service.kind == ServiceKind::Web {
            let dims = [
                ("TargetGroup", Value::TargetGroup(ids.target_group.clone())),
                (
                    "LoadBalancer",
                    Value::LoadBalancer(ResourceId::LOAD_BALANCER),
                ),
            ];
            let m1 = metric(
                "m1",
                "AWS/ApplicationELB",
                "UnHealthyHostCount",
                "Maximum",
                &dims,
            );
            alarms.push((
                ResourceId::alarm("unhealthy", name),
                above(
                    format!("{stack}-{name}-unhealthy"),
                    format!("Service {name} has an unhealthy target for 2 minutes"),
                    vec![m1],
                    (60, 2),
                    0.0,
                ),
            ));
        }
        if a.running_below_desired {
            insights = true;
            let ecs_name = b.names.service(name).service;
            let dims = [
                ("ClusterName", text(&b.names.cluster)),
                ("ServiceName", text(&ecs_name)),
            ];
            let ns = "ECS/ContainerInsights";
            let mut alarm = above(
                format!("{stack}-{name}-below-desired"),
                format!("Service {name} runs fewer tasks than it wants for 5 minutes"),
                vec![
                    metric("m1", ns, "DesiredTaskCount", "Average", &dims),
                    metric("m2", ns, "RunningTaskCount", "Average", &dims),
                ],
                (60, 5),
                0.0,
            );
            alarm.expression = Some("m1 - m2".into());
            alarms.push((ResourceId::alarm("below-desired", name), alarm));
        }
    }
    insights
}

/// Each queue's oldest message, and its dead-letter queue not empty.
fn queues(b: &Builder<'_>, a: &AlarmsSpec) -> Alarms {
    let stack = &b.spec.name;
    let mut alarms = Vec::new();
    for queue in &b.spec.queues {
        let (queue_name, dead_letters) = b.names.queue(&queue.name);
        let name = &queue.name;
        if a.oldest_message_secs > 0 {
            let dims = [("QueueName", text(&queue_name))];
            let m1 = metric(
                "m1",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "Maximum",
                &dims,
            );
            alarms.push((
                ResourceId::alarm("oldest-message", name),
                above(
                    format!("{stack}-{name}-oldest-message"),
                    format!(
                        "Queue {name}'s oldest message is older than {} s",
                        a.oldest_message_secs
                    ),
                    vec![m1],
                    (300, 1),
                    f64::from(a.oldest_message_secs),
                ),
            ));
        }
        if a.dead_letters {
            let dims = [("QueueName", text(&dead_letters))];
            let m1 = metric(
                "m1",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                "Maximum",
                &dims,
            );
            alarms.push((
                ResourceId::alarm("dead-letters", name),
                above(
                    format!("{stack}-{name}-dead-letters"),
                    format!(
                        "Queue {name}'s dead-letter queue has messages: some could not be handled"
                    ),
                    vec![m1],
                    (300, 1),
                    0.0,
                ),
            ));
        }
    }
    alarms
}

/// The stack's dashboard: what it has, on one page.
pub(super) fn dashboard(b: &mut Builder<'_>) {
    if !b.spec.dashboard {
        return;
    }
    let services = b
        .spec
        .services
        .iter()
        .filter(|s| has(b, &ServiceIds::named(&s.name).service))
        .map(|s| {
            (
                s.name.clone(),
                b.names.service(&s.name).service,
                b.names.cluster.clone(),
                s.kind == ServiceKind::Worker,
            )
        })
        .collect();
    let queues = b
        .spec
        .queues
        .iter()
        .map(|q| (q.name.clone(), b.names.queue(&q.name).0))
        .collect();
    let dashboard = Dashboard {
        name: b.spec.name.clone(),
        stack: b.spec.name.clone(),
        region: b.spec.region.clone(),
        load_balancer: has(b, &ResourceId::LOAD_BALANCER).then_some(ResourceId::LOAD_BALANCER),
        services,
        queues,
    };
    b.add(ResourceId::DASHBOARD, Spec::Dashboard(dashboard), &[]);
}
