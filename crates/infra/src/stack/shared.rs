//! What the service uses besides the network: its queue and dead-letter queue, the image
//! repository, the execution and task roles, and the log group.

use super::builder::Builder;
use super::ids::{DEAD_LETTER_QUEUE, EXECUTION_ROLE, LOG_GROUP, QUEUE, REPOSITORY, TASK_ROLE};
use crate::resources::Spec;
use crate::resources::ecr::Repository;
use crate::resources::iam::{InlineQueuePolicy, Role, TASK_EXECUTION_POLICY};
use crate::resources::logs::LogGroup;
use crate::resources::sqs::{DEAD_LETTER_RETENTION_SECS, Queue, Redrive};

pub(super) fn add(b: &mut Builder<'_>) {
    let (spec, names) = (b.spec, b.names.clone());
    let queue = &spec.queue;
    let dead_letters = Queue {
        name: names.dead_letter_queue.clone(),
        visibility_timeout_secs: queue.visibility_timeout_secs,
        message_retention_secs: DEAD_LETTER_RETENTION_SECS,
        receive_wait_secs: 0,
        redrive: None,
    };
    b.add(DEAD_LETTER_QUEUE, Spec::Queue(dead_letters), &[]);
    let messages = Queue {
        name: names.queue.clone(),
        visibility_timeout_secs: queue.visibility_timeout_secs,
        message_retention_secs: queue.message_retention_secs,
        receive_wait_secs: queue.receive_wait_secs,
        redrive: Some(Redrive {
            dead_letter_queue: DEAD_LETTER_QUEUE.into(),
            max_receives: queue.dead_letter_max_receives,
        }),
    };
    b.add(QUEUE, Spec::Queue(messages), &[]);
    let repository = Repository {
        name: names.repository.clone(),
        scan_on_push: spec.registry.scan_on_push,
        keep_images: spec.registry.keep_images,
    };
    b.add(REPOSITORY, Spec::Repository(repository), &[]);
    let execution = Role {
        name: names.execution_role.clone(),
        description: format!(
            "stackctl {}: lets ECS pull the image and write logs",
            spec.name
        ),
        managed_policies: vec![TASK_EXECUTION_POLICY.into()],
        queue_policy: None,
    };
    b.add(EXECUTION_ROLE, Spec::Role(execution), &[]);
    let task = Role {
        name: names.task_role.clone(),
        description: format!(
            "stackctl {}: the service's own permissions (its queue only)",
            spec.name
        ),
        managed_policies: Vec::new(),
        queue_policy: Some(InlineQueuePolicy {
            queue: QUEUE.into(),
        }),
    };
    b.add(TASK_ROLE, Spec::Role(task), &[]);
    let logs = LogGroup {
        name: names.log_group.clone(),
        retention_days: spec.logs.retention_days,
    };
    b.add(LOG_GROUP, Spec::LogGroup(logs), &[]);
}
