//! What the task-definition kind compares and changes: the desired container, what ECS
//! reports of a revision, and the typed field changes with how the plan shows them.

use std::collections::BTreeMap;

use crate::aws::ecs;
use crate::change::{Describe, FieldChange};
use crate::id::ResourceId;

pub const CONTAINER: &str = "app";

/// Where the container's image comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageRef {
    /// A prebuilt image, used as is.
    Given(String),
    /// The image resource (logical id) that stackctl builds and pushes.
    Built(ResourceId),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinition {
    pub family: String,
    pub image: ImageRef,
    pub cpu: u32,
    pub memory: u32,
    /// None for a worker: no port mapping.
    pub port: Option<u16>,
    /// Environment besides `PORT` and the queues' URLs.
    pub environment: BTreeMap<String, String>,
    /// The queues it uses: (`SQS_QUEUE_URL_<suffix>`, queue's logical id); with exactly one,
    /// `SQS_QUEUE_URL` too.
    pub queues: Vec<(String, ResourceId)>,
    /// Variables read from Secrets Manager or SSM at start, by ARN.
    pub secrets: BTreeMap<String, String>,
    /// The container's command, when it overrides the image's.
    pub command: Vec<String>,
    pub log_group: ResourceId,
    pub log_group_name: String,
    /// The first part of each task's log stream name (`<prefix>/app/<task id>`): the
    /// service's name, so its events can be told from the other services'.
    pub log_stream_prefix: String,
    pub region: String,
    pub execution_role: ResourceId,
    pub task_role: ResourceId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionState {
    pub revision: i32,
    /// The family's other ACTIVE revisions, newest first.
    pub older: Vec<String>,
    pub image: String,
    pub cpu: String,
    pub memory: String,
    pub port: Option<i32>,
    pub environment: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub command: Vec<String>,
    pub log_group: String,
    pub log_stream_prefix: String,
    pub execution_role_arn: String,
    pub task_role_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// A setting of the container that differs; any of them means a new revision.
    Container {
        name: &'static str,
        from: String,
        to: String,
    },
    /// ACTIVE revisions older than the previous one (kept for a rollback), to deregister.
    OldRevisions(Vec<String>),
}

impl Describe for Field {
    fn describe(&self) -> FieldChange {
        match self {
            Self::Container { name, from, to } => FieldChange::new(name, from, to),
            Self::OldRevisions(arns) => {
                let revisions: Vec<&str> = arns.iter().map(|a| revision_of(a)).collect();
                FieldChange::new("old_revisions", revisions.join(", "), "(deregistered)")
            }
        }
    }
}

/// The revision number at the end of a task definition ARN.
pub fn revision_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

pub fn family_of(arn: &str) -> &str {
    ecs::name_of(arn).rsplit_once(':').map_or("", |(f, _)| f)
}
