//! AWS's published request rates for the calls a large stack sends in a burst, as token
//! buckets. stackctl takes a token before each such call and, when the bucket is empty, waits
//! for the next one (holding no slot) instead of being throttled and retried: a 50-service
//! `up` registers 50 task definitions, and ECS takes 20 at once, then one a second.
//!
//! The test kit's timing model (awsfront) answers with each service's throttling error from
//! the same table, so the benchmark shows whether a run stays within it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One published limit: a bucket of `burst` tokens refilled at `per_second`.
#[derive(Debug)]
pub struct Limit {
    /// The service's signing name (`ecs`, `monitoring`, `ec2`).
    pub service: &'static str,
    pub operations: &'static [&'static str],
    pub burst: f64,
    pub per_second: f64,
    /// Each operation has a bucket of its own (EC2), or they share one (an ECS group).
    pub per_operation: bool,
}

/// The limits stackctl's calls meet at scale: AWS's documentation of each service's request
/// throttling (docs/benchmarks.md, "Fifty services", names the pages).
pub const LIMITS: &[Limit] = &[
    Limit {
        service: "ecs",
        operations: &["RegisterTaskDefinition", "DeregisterTaskDefinition"],
        burst: 20.0,
        per_second: 1.0,
        per_operation: false,
    },
    Limit {
        service: "ecs",
        operations: &["DescribeClusters", "ListClusters"],
        burst: 50.0,
        per_second: 20.0,
        per_operation: false,
    },
    Limit {
        service: "monitoring",
        operations: &["PutMetricAlarm"],
        burst: 3.0,
        per_second: 3.0,
        per_operation: false,
    },
    Limit {
        service: "ec2",
        operations: &[
            "DescribeVpcs",
            "DescribeSubnets",
            "DescribeSecurityGroups",
            "DescribeRouteTables",
            "DescribeInternetGateways",
            "DescribeNatGateways",
            "DescribeAddresses",
            "DescribeVpcAttribute",
            "DescribeAvailabilityZones",
            "DescribeNetworkInterfaces",
        ],
        burst: 100.0,
        per_second: 20.0,
        per_operation: true,
    },
];

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one account and region (one run of stackctl, or the test kit's model).
#[derive(Debug)]
pub struct Buckets {
    /// Seconds of this clock per second of AWS's (a model played at a quarter of AWS's pace
    /// refills four times as fast).
    scale: f64,
    /// The share of each limit these buckets use: all of it for the model of AWS; a little
    /// less for stackctl, whose calls reach AWS a few milliseconds apart from when they left.
    share: f64,
    buckets: Mutex<HashMap<(usize, &'static str), Bucket>>,
}

/// The share of AWS's rates stackctl paces its calls to: at exactly the published rate, two
/// calls sent a second apart may arrive 990 ms apart and the second be throttled.
pub const STACKCTL_SHARE: f64 = 0.9;

impl Buckets {
    /// All of AWS's rates, on a clock of `scale` (the model of AWS).
    pub fn new(scale: f64) -> Self {
        Self::sharing(scale, 1.0)
    }

    /// `share` of AWS's rates (and of each burst, at least one call).
    pub fn sharing(scale: f64, share: f64) -> Self {
        Self {
            scale: if scale > 0.0 { scale } else { 1.0 },
            share: share.clamp(0.01, 1.0),
            buckets: Mutex::default(),
        }
    }

    /// Takes a token of `operation`'s bucket, or says how long until there is one; `Ok` for a
    /// call no limit covers.
    pub fn try_take(&self, service: &str, operation: &str) -> Result<(), Duration> {
        let Some((index, limit, op)) = LIMITS.iter().enumerate().find_map(|(i, l)| {
            let op = l.operations.iter().find(|o| **o == operation)?;
            (l.service == service).then_some((i, l, *op))
        }) else {
            return Ok(());
        };
        let key = (index, if limit.per_operation { op } else { "" });
        let rate = limit.per_second * self.share / self.scale;
        let burst = (limit.burst * self.share).floor().max(1.0);
        let now = Instant::now();
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * rate;
        bucket.tokens = (bucket.tokens + refilled).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Waits until `operation` may be called, giving the caller's slot back meanwhile.
    pub async fn take(&self, service: &str, operation: &str) {
        while let Err(wait) = self.try_take(service, operation) {
            crate::slots::pause(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_sustained_rate() {
        let buckets = Buckets::new(1.0);
        for _ in 0..20 {
            assert_eq!(buckets.try_take("ecs", "RegisterTaskDefinition"), Ok(()));
        }
        // The group shares its bucket: deregistering is throttled too.
        let wait = buckets
            .try_take("ecs", "DeregisterTaskDefinition")
            .unwrap_err();
        assert!(wait > Duration::from_millis(900) && wait <= Duration::from_secs(1));
        // Another group, and calls no limit covers, are not.
        assert_eq!(buckets.try_take("ecs", "DescribeClusters"), Ok(()));
        assert_eq!(buckets.try_take("ecs", "CreateService"), Ok(()));
    }

    #[test]
    fn ec2_operations_have_buckets_of_their_own_and_a_faster_clock_refills_faster() {
        for (scale, most) in [(1.0, 50), (0.1, 5)] {
            let buckets = Buckets::new(scale);
            for _ in 0..100 {
                assert_eq!(buckets.try_take("ec2", "DescribeVpcs"), Ok(()));
            }
            assert_eq!(buckets.try_take("ec2", "DescribeSubnets"), Ok(()));
            // 20 a second on AWS's clock: the next token in at most 50 ms of it.
            let wait = buckets.try_take("ec2", "DescribeVpcs").unwrap_err();
            assert!(wait <= Duration::from_millis(most), "{scale}: {wait:?}");
        }
    }

    #[test]
    fn stackctl_keeps_under_the_limit_it_paces_to() {
        let buckets = Buckets::sharing(1.0, STACKCTL_SHARE);
        let at_once = (0..25)
            .take_while(|_| buckets.try_take("ecs", "RegisterTaskDefinition").is_ok())
            .count();
        assert_eq!(at_once, 18, "90 % of ECS's burst of 20");
        let wait = buckets
            .try_take("ecs", "RegisterTaskDefinition")
            .unwrap_err();
        assert!(
            wait > Duration::from_secs(1),
            "{wait:?}: slower than one a second"
        );
    }

    /// The `(service, operation)` of every `rates.take(…)` in `dir`'s sources.
    fn paced_in(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                paced_in(&path, out);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for call in text.split("rates.take(").skip(1) {
                let mut quoted = call.split('"').skip(1).step_by(2);
                let (Some(service), Some(operation)) = (quoted.next(), quoted.next()) else {
                    continue;
                };
                out.push((service.to_owned(), operation.to_owned()));
            }
        }
    }

    #[test]
    fn every_call_stackctl_paces_has_its_limit() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paced = Vec::new();
        paced_in(&src.join("resources"), &mut paced);
        paced_in(&src.join("aws"), &mut paced);
        assert!(paced.len() >= 4, "{paced:?}");
        for (service, operation) in paced {
            // A misspelt name would be no limit at all: every call would go unpaced.
            let covered = LIMITS
                .iter()
                .any(|l| l.service == service && l.operations.contains(&operation.as_str()));
            assert!(covered, "{service}:{operation} is paced but has no limit");
        }
    }

    #[tokio::test]
    async fn taking_waits_for_the_next_token() {
        // Three a second at a thousandth of AWS's pace: ten calls wait for seven refills.
        let buckets = Buckets::new(0.001);
        let started = std::time::Instant::now();
        for _ in 0..10 {
            buckets.take("monitoring", "PutMetricAlarm").await;
        }
        assert!(started.elapsed() >= Duration::from_micros(7 * 333));
    }
}
