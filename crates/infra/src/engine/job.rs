//! The engine's units of work: what the scheduler runs, blocks on and reports.

use std::fmt;

use crate::id::ResourceId;

/// One unit of work of a run.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Job {
    /// Create, update, or create the replacement of a resource.
    Apply(ResourceId),
    /// Wait until a resource works (a load balancer active, a rollout done).
    Ready(ResourceId),
    /// Delete one resource found in AWS: its logical id and its AWS id (duplicates share a
    /// logical id).
    Delete(ResourceId, String),
}

impl Job {
    /// The resource it is about.
    pub fn id(&self) -> &ResourceId {
        match self {
            Self::Apply(id) | Self::Ready(id) | Self::Delete(id, _) => id,
        }
    }

    /// Whether it counts against the limit of work at once: calls that change something
    /// do; waits that mostly sleep do not.
    pub fn is_work(&self) -> bool {
        !matches!(self, Self::Ready(_))
    }
}

/// As progress lines name it: `vpc`, `service#ready`, `vpc@vpc-0abc`.
impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Apply(id) => write!(f, "{id}"),
            Self::Ready(id) => write!(f, "{id}#ready"),
            Self::Delete(id, aws_id) => write!(f, "{id}@{aws_id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_show_as_progress_names_them_and_waits_are_not_work() {
        let id = ResourceId::LOAD_BALANCER;
        assert_eq!(Job::Apply(id.clone()).to_string(), "load-balancer");
        assert_eq!(Job::Ready(id.clone()).to_string(), "load-balancer#ready");
        assert_eq!(
            Job::Delete(id.clone(), "arn:lb".into()).to_string(),
            "load-balancer@arn:lb"
        );
        assert!(Job::Apply(id.clone()).is_work());
        assert!(!Job::Ready(id).is_work());
    }
}
