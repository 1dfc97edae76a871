//! Seeded faults: before a call reaches the emulator (throttling in the protocol's own shape,
//! 500, 503, a plain-text 503 as load balancers and proxies send, a reset connection, a slow
//! answer, no answer at all), or after it did the work (the answer lost, so the caller cannot
//! know it happened). Off unless asked for.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use crate::call::Call;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Throttled, in the protocol's shape (EC2 `RequestLimitExceeded`, `Throttling`, …).
    Throttle,
    /// HTTP 500 `InternalError` (the work not done).
    Internal,
    /// HTTP 503 `ServiceUnavailable` (the work not done).
    Unavailable,
    /// HTTP 503 with the plain-text body `Service Unavailable`, not in AWS's format (what a
    /// load balancer or proxy in front of the endpoint sends; the work not done).
    PlainUnavailable,
    /// HTTP 404 with a plain-text body: an endpoint that does not serve the API at all.
    NotServed,
    /// The identity may not make the call: AWS's access-denied error in the protocol's shape.
    Denied,
    /// The connection closed before the call reached the emulator.
    Reset,
    /// The answer comes, late.
    Slow,
    /// The work is done, the answer lost: the connection closes instead.
    Lost,
    /// No answer at all, ever (for timeouts).
    Blackhole,
    /// Not injected: the timing model's rate limit ([`infra::rates`]) was over, and the call
    /// is throttled as AWS throttles it.
    OverRate,
}

impl FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "throttle" => Self::Throttle,
            "500" => Self::Internal,
            "503" => Self::Unavailable,
            "503-plain" => Self::PlainUnavailable,
            "404-plain" => Self::NotServed,
            "denied" => Self::Denied,
            "reset" => Self::Reset,
            "slow" => Self::Slow,
            "lost" => Self::Lost,
            "blackhole" => Self::Blackhole,
            other => {
                return Err(format!(
                    "unknown fault {other:?}; known: throttle, 500, 503, 503-plain, 404-plain, denied, reset, slow, lost, blackhole"
                ));
            }
        })
    }
}

/// Which calls may be faulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Calls {
    All,
    /// Every call that is not a describe, get or list.
    Mutating,
    /// These operations only (`CreateVpc`, `DescribeVpcs`, …).
    Only(Vec<String>),
}

/// What to inject: `seed=7,rate=0.2,kinds=lost+throttle,calls=mutating,slow=2s`, and
/// `each=first` to fault only the first call of each operation (every create once).
#[derive(Debug)]
pub struct Plan {
    rng: Mutex<fastrand::Rng>,
    pub rate: f64,
    pub kinds: Vec<Fault>,
    pub calls: Calls,
    /// How late a slow answer is.
    pub slow: Duration,
    /// The operations already faulted, when only the first call of each may be.
    first_only: Option<Mutex<HashSet<String>>>,
}

impl Plan {
    /// The fault for this call, if it gets one.
    pub fn pick(&self, call: &Call) -> Option<Fault> {
        let eligible = match &self.calls {
            Calls::All => true,
            Calls::Mutating => !call.is_read(),
            Calls::Only(ops) => ops.contains(&call.operation),
        };
        // STS's credential check is how a run starts; faulting it tests nothing of ours.
        if !eligible || self.kinds.is_empty() || call.operation == "GetCallerIdentity" {
            return None;
        }
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if rng.f64() >= self.rate {
            return None;
        }
        if let Some(seen) = &self.first_only {
            let mut seen = seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if !seen.insert(call.operation.clone()) {
                return None;
            }
        }
        Some(self.kinds[rng.usize(..self.kinds.len())])
    }
}

impl FromStr for Plan {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let mut plan = Plan {
            rng: Mutex::new(fastrand::Rng::with_seed(0)),
            rate: 0.1,
            kinds: vec![Fault::Lost],
            calls: Calls::Mutating,
            slow: Duration::from_secs(2),
            first_only: None,
        };
        for part in text.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?} is not key=value"))?;
            match key {
                "seed" => {
                    let seed = value
                        .parse()
                        .map_err(|_| format!("seed {value:?} is not a number"))?;
                    plan.rng = Mutex::new(fastrand::Rng::with_seed(seed));
                }
                "rate" => {
                    plan.rate = value
                        .parse()
                        .ok()
                        .filter(|r| (0.0..=1.0).contains(r))
                        .ok_or_else(|| format!("rate {value:?} is not between 0 and 1"))?;
                }
                "kinds" => {
                    plan.kinds = value.split('+').map(str::parse).collect::<Result<_, _>>()?
                }
                "calls" => {
                    plan.calls = match value {
                        "all" => Calls::All,
                        "mutating" => Calls::Mutating,
                        ops => Calls::Only(ops.split('+').map(str::to_owned).collect()),
                    }
                }
                "slow" => {
                    let secs: f64 = value
                        .trim_end_matches('s')
                        .parse()
                        .map_err(|_| format!("slow {value:?} is not seconds like 2s"))?;
                    plan.slow = Duration::from_secs_f64(secs);
                }
                "each" => plan.first_only = first_only(value)?,
                other => {
                    return Err(format!(
                        "unknown fault setting {other:?}; known: seed, rate, kinds, calls, slow, each"
                    ));
                }
            }
        }
        Ok(plan)
    }
}

/// `each=first`: only the first call of each operation; `each=call`: any call.
fn first_only(value: &str) -> Result<Option<Mutex<HashSet<String>>>, String> {
    match value {
        "first" => Ok(Some(Mutex::new(HashSet::new()))),
        "call" => Ok(None),
        other => Err(format!("each {other:?} is not first or call")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Protocol;

    fn call(op: &str) -> Call {
        Call {
            service: "ec2".into(),
            operation: op.into(),
            protocol: Protocol::Ec2,
            form: Vec::new(),
            json: None,
        }
    }

    #[test]
    fn a_plan_reads_its_settings_and_faults_only_the_calls_it_names() {
        let plan: Plan = "seed=3,rate=1,kinds=lost+throttle,calls=CreateVpc"
            .parse()
            .unwrap();
        assert!(matches!(
            plan.pick(&call("CreateVpc")),
            Some(Fault::Lost | Fault::Throttle)
        ));
        assert_eq!(plan.pick(&call("CreateSubnet")), None);
        let none: Plan = "rate=0".parse().unwrap();
        assert_eq!(none.pick(&call("CreateVpc")), None);
        assert!("kinds=gremlins".parse::<Plan>().is_err());
    }

    #[test]
    fn each_first_faults_only_the_first_call_of_each_operation() {
        let plan: Plan = "rate=1,kinds=503-plain,calls=mutating,each=first"
            .parse()
            .unwrap();
        assert_eq!(plan.pick(&call("CreateVpc")), Some(Fault::PlainUnavailable));
        assert_eq!(plan.pick(&call("CreateVpc")), None);
        assert_eq!(
            plan.pick(&call("CreateSubnet")),
            Some(Fault::PlainUnavailable)
        );
        assert_eq!(
            plan.pick(&call("DescribeVpcs")),
            None,
            "reads are not mutating"
        );
        assert!("each=second".parse::<Plan>().is_err());
    }

    #[test]
    fn the_same_seed_faults_the_same_calls() {
        let picks = |seed: u64| {
            let plan: Plan = format!("seed={seed},rate=0.5,kinds=lost+500")
                .parse()
                .unwrap();
            (0..50)
                .map(|_| plan.pick(&call("CreateVpc")))
                .collect::<Vec<_>>()
        };
        assert_eq!(picks(9), picks(9));
        assert_ne!(picks(9), picks(10));
    }
}
