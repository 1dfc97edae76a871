//! What a stack costs a month while it stands, before any traffic: the hourly list prices of
//! what bills by the hour (load balancer, NAT gateway, Fargate tasks, public IPv4 addresses)
//! and the alarms (by the metric a month), from what was observed. Usage-priced parts (requests, data, storage, logs) are not counted;
//! the estimate says so. Prices are us-east-1 on-demand (Linux/x86), 2026; other regions
//! differ by a few percent.

use serde::Serialize;

use crate::resources::{Detail, Observed};

/// Hours in an average month (AWS's own figure for monthly estimates).
const HOURS: f64 = 730.0;
const LOAD_BALANCER_HOUR: f64 = 0.0225;
const NAT_GATEWAY_HOUR: f64 = 0.045;
const PUBLIC_IPV4_HOUR: f64 = 0.005;
const FARGATE_VCPU_HOUR: f64 = 0.040_48;
const FARGATE_GB_HOUR: f64 = 0.004_445;
/// A standard-resolution alarm bills 0.10 USD a month for each metric it reads.
const ALARM_METRIC_MONTH: f64 = 0.10;

/// One line of the estimate: what, how many, and its monthly price in USD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub what: String,
    pub count: u32,
    pub monthly_usd: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub items: Vec<Item>,
    pub monthly_usd: f64,
}

/// The monthly estimate of the resources `observed`.
pub fn monthly(observed: &[Observed]) -> Estimate {
    let mut items = Vec::new();
    let mut add = |what: String, count: u32, hourly: f64| {
        if count > 0 {
            items.push(Item {
                what,
                count,
                monthly_usd: round(f64::from(count) * hourly * HOURS),
            });
        }
    };
    let count = |f: fn(&Detail) -> bool| {
        u32::try_from(observed.iter().filter(|o| f(&o.detail)).count()).unwrap_or(u32::MAX)
    };
    let lbs: Vec<usize> = observed
        .iter()
        .filter_map(|o| match &o.detail {
            Detail::LoadBalancer(lb) => Some(lb.subnets.len()),
            _ => None,
        })
        .collect();
    add(
        "application load balancer".into(),
        u32::try_from(lbs.len()).unwrap_or(u32::MAX),
        LOAD_BALANCER_HOUR,
    );
    // An internet-facing load balancer has a public address in each of its zones.
    let lb_addresses = u32::try_from(lbs.iter().sum::<usize>()).unwrap_or(u32::MAX);
    add(
        "load balancer public IPv4 address".into(),
        lb_addresses,
        PUBLIC_IPV4_HOUR,
    );
    let nat_gateways = count(|d| matches!(d, Detail::NatGateway(_)));
    add("NAT gateway".into(), nat_gateways, NAT_GATEWAY_HOUR);
    let addresses = count(|d| matches!(d, Detail::ElasticIp(_)));
    add("Elastic IP address".into(), addresses, PUBLIC_IPV4_HOUR);
    for (tasks, public_ip, size) in services(observed) {
        let (vcpu, gb) = size;
        let hourly = vcpu * FARGATE_VCPU_HOUR + gb * FARGATE_GB_HOUR;
        add(
            format!("Fargate task ({vcpu} vCPU, {gb} GB)"),
            tasks,
            hourly,
        );
        if public_ip {
            add("task public IPv4 address".into(), tasks, PUBLIC_IPV4_HOUR);
        }
    }
    add(
        "alarm metric".into(),
        alarm_metrics(observed),
        ALARM_METRIC_MONTH / HOURS,
    );
    let monthly_usd = round(items.iter().map(|i| i.monthly_usd).sum());
    Estimate { items, monthly_usd }
}

/// The metrics the alarms read: each bills on its own.
fn alarm_metrics(observed: &[Observed]) -> u32 {
    let metrics: usize = observed
        .iter()
        .filter_map(|o| match &o.detail {
            Detail::Alarm(a) => Some(a.definition.metrics.len().max(1)),
            _ => None,
        })
        .sum();
    u32::try_from(metrics).unwrap_or(u32::MAX)
}

/// Each service's desired task count, whether its tasks get a public address, and the size of
/// the task definition it runs (vCPU, GB).
fn services(observed: &[Observed]) -> Vec<(u32, bool, (f64, f64))> {
    observed
        .iter()
        .filter_map(|o| match &o.detail {
            Detail::Service(s) => Some(s),
            _ => None,
        })
        .map(|s| {
            let size = observed
                .iter()
                .find(|o| o.arn.as_deref() == Some(s.task_definition.as_str()))
                .and_then(|o| match &o.detail {
                    Detail::TaskDefinition(t) => Some(task_size(&t.cpu, &t.memory)),
                    _ => None,
                })
                .unwrap_or((0.25, 0.5));
            let tasks = u32::try_from(s.desired_count.max(0)).unwrap_or(0);
            (tasks, s.public_ip, size)
        })
        .collect()
}

/// ECS's units: CPU in 1/1024 vCPU, memory in MiB.
fn task_size(cpu: &str, memory: &str) -> (f64, f64) {
    let cpu: f64 = cpu.parse().unwrap_or(256.0);
    let memory: f64 = memory.parse().unwrap_or(512.0);
    (cpu / 1024.0, memory / 1024.0)
}

fn round(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Found;
    use crate::resources::load_balancer::LoadBalancerState;
    use crate::resources::nat_gateway::NatGatewayState;

    fn found(id: &str, detail: Detail) -> Observed {
        Found {
            id: id.into(),
            detail,
            aws_id: id.into(),
            arn: Some(format!("arn:{id}")),
            state: "available".into(),
            tags: Default::default(),
        }
    }

    #[test]
    fn a_network_alone_costs_nothing_by_the_hour() {
        assert_eq!(monthly(&[]).monthly_usd, 0.0);
    }

    #[test]
    fn the_load_balancer_its_addresses_and_the_nat_gateway_bill_by_the_hour() {
        let lb = Detail::LoadBalancer(LoadBalancerState {
            dns_name: "lb".into(),
            scheme: "internet-facing".into(),
            subnets: ["subnet-1".to_owned(), "subnet-2".to_owned()].into(),
            security_groups: Default::default(),
        });
        let observed = [
            found("load-balancer", lb),
            found(
                "nat-gateway",
                Detail::NatGateway(NatGatewayState {
                    subnet_id: "subnet-1".into(),
                    allocation_id: "eipalloc-1".into(),
                }),
            ),
            found("nat-eip", Detail::ElasticIp(())),
        ];
        let estimate = monthly(&observed);
        let whats: Vec<&str> = estimate.items.iter().map(|i| i.what.as_str()).collect();
        assert_eq!(
            whats,
            [
                "application load balancer",
                "load balancer public IPv4 address",
                "NAT gateway",
                "Elastic IP address"
            ]
        );
        // 16.43 + 2 × 3.65 + 32.85 + 3.65
        assert_eq!(estimate.monthly_usd, 60.23);
    }

    #[test]
    fn alarms_bill_by_the_metric() {
        use crate::resources::alarm::{AlarmState, Definition};
        let alarm = |metrics: usize| {
            Detail::Alarm(AlarmState {
                definition: Definition {
                    description: String::new(),
                    metrics: vec![Default::default(); metrics],
                    expression: None,
                    period: 60,
                    periods: 1,
                    threshold: 0.0,
                    below: false,
                    actions: Vec::new(),
                },
            })
        };
        let estimate = monthly(&[found("a", alarm(3)), found("b", alarm(1))]);
        assert_eq!(estimate.items[0].count, 4);
        assert_eq!(estimate.monthly_usd, 0.4);
    }

    #[test]
    fn fargate_tasks_are_priced_by_their_size() {
        assert_eq!(task_size("512", "1024"), (0.5, 1.0));
        assert_eq!(task_size("", ""), (0.25, 0.5));
    }
}
