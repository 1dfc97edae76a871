//! What AWS refuses only once a stack is large: more Fargate tasks than the subnets they run
//! in have addresses for. Each task takes an address of its own (awsvpc networking), a rollout
//! runs up to `max_percent` of a service's tasks at once, and autoscaling may start up to its
//! `max`; AWS keeps five addresses of every subnet, and the load balancer needs eight free in
//! each of its subnets. Said before `up`, not as tasks that never start.

use toml_edit::TableLike;

use super::model::{NetworkSpec, ServiceSpec};
use super::reader::Reader;

/// Addresses AWS keeps in every subnet (network, router, DNS, future use, broadcast).
const KEPT_PER_SUBNET: u64 = 5;
/// Free addresses an Application Load Balancer needs in each of its subnets.
const LOAD_BALANCER_PER_SUBNET: u64 = 8;

/// The most tasks `service` may run at once: autoscaling's max (or the desired count), with a
/// rollout's extra.
fn peak_tasks(service: &ServiceSpec) -> u64 {
    let most = service
        .autoscaling
        .as_ref()
        .map_or(service.desired_count, |a| a.max.max(service.desired_count));
    (u64::from(most) * u64::from(service.max_percent.max(100))).div_ceil(100)
}

/// Reports a stack whose services may run more tasks than their subnets hold.
pub(super) fn check<'a>(
    reader: &mut Reader<'a>,
    root: &'a dyn TableLike,
    services: &[ServiceSpec],
    network: &NetworkSpec,
) {
    let peak: u64 = services.iter().map(peak_tasks).sum();
    // Without a NAT gateway tasks run in the public subnets, beside the load balancer.
    let (subnets, beside) = if network.nat_gateway {
        (&network.private_subnets, 0)
    } else {
        (&network.public_subnets, LOAD_BALANCER_PER_SUBNET)
    };
    if subnets.is_empty() {
        // A [network] that could not be carved is reported on its own.
        return;
    }
    let room: u64 = subnets
        .iter()
        .map(|s| {
            (1u64 << (32 - u32::from(s.prefix_len()))).saturating_sub(KEPT_PER_SUBNET + beside)
        })
        .sum();
    if peak <= room {
        return;
    }
    let mut biggest: Vec<(&str, u64)> = services
        .iter()
        .map(|s| (s.name.as_str(), peak_tasks(s)))
        .collect();
    biggest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let shown: Vec<String> = biggest
        .iter()
        .take(3)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let table = reader.named_tables(root, "network");
    let span = reader.span_of(table, "");
    reader.error_at(
        span,
        "network",
        format!(
            "the services may run {peak} tasks at once (autoscaling's max or the desired count, \
             times max_percent during a rollout; most: {}), but the {} {} subnets they run in \
             have addresses for {room} (each task takes one; AWS keeps {KEPT_PER_SUBNET} per \
             subnet{}): give [network] a larger cidr or more availability_zones, or lower the \
             services' max",
            shown.join(", "),
            subnets.len(),
            if network.nat_gateway {
                "private"
            } else {
                "public"
            },
            if beside > 0 {
                ", the load balancer needs 8"
            } else {
                ""
            },
        ),
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::stack_file::StackSpec;

    fn errors(body: &str) -> String {
        let text = format!("[stack]\nname = \"demo\"\n{body}");
        match StackSpec::parse(Path::new("stack.toml"), &text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    const TWO: &str = "[services.api]\nkind = \"web\"\n[services.api.autoscaling]\nmax = MAX\ncpu = 60\n\
                       [services.worker]\nkind = \"worker\"\nconsumes = [\"jobs\"]\n[queues.jobs]\n";

    #[test]
    fn tasks_that_fit_the_subnets_pass() {
        let body = format!(
            "[network]\ncidr = \"10.0.0.0/22\"\n{}",
            TWO.replace("MAX", "100")
        );
        assert_eq!(errors(&body), "");
    }

    #[test]
    fn more_tasks_than_addresses_is_said_at_the_network_table() {
        let body = format!(
            "[network]\ncidr = \"10.0.0.0/22\"\n{}",
            TWO.replace("MAX", "1000")
        );
        let message = errors(&body);
        assert!(message.contains("stack.toml:3:"), "{message}");
        assert!(message.contains("may run 2002 tasks at once"), "{message}");
        assert!(message.contains("most: api 2000, worker 2"), "{message}");
        assert!(
            message.contains("give [network] a larger cidr"),
            "{message}"
        );
    }
}
