//! What the services share besides the network: the queues with their dead-letter queues,
//! the buckets, the image repository, the execution role of the services without secrets, and
//! the log group.

use super::builder::Builder;
use crate::id::{ResourceId, bucket_id, queue_ids};
use crate::resources::Spec;
use crate::resources::bucket::Bucket;
use crate::resources::log_group::LogGroup;
use crate::resources::queue::{DEAD_LETTER_RETENTION_SECS, Queue, Redrive};
use crate::resources::repository::Repository;
use crate::resources::role::{Role, TASK_EXECUTION_POLICY};

pub(super) fn add(b: &mut Builder<'_>) {
    let (spec, names) = (b.spec, b.names.clone());
    for queue in &spec.queues {
        let (queue_id, dead_letter_id) = queue_ids(&queue.name);
        let (name, dead_letter_name) = names.queue(&queue.name);
        let dead_letters = Queue {
            name: dead_letter_name,
            visibility_timeout_secs: queue.visibility_timeout_secs,
            message_retention_secs: DEAD_LETTER_RETENTION_SECS,
            receive_wait_secs: 0,
            redrive: None,
        };
        b.add(dead_letter_id.clone(), Spec::Queue(dead_letters), &[]);
        let messages = Queue {
            name,
            visibility_timeout_secs: queue.visibility_timeout_secs,
            message_retention_secs: queue.message_retention_secs,
            receive_wait_secs: queue.receive_wait_secs,
            redrive: Some(Redrive {
                dead_letter_queue: dead_letter_id,
                max_receives: queue.dead_letter_max_receives,
            }),
        };
        b.add(queue_id, Spec::Queue(messages), &[]);
    }
    for bucket in &spec.buckets {
        let made = Bucket {
            name: names.bucket(&bucket.name),
            expire_after_days: bucket.expire_after_days,
        };
        b.add(bucket_id(&bucket.name), Spec::Bucket(made), &[]);
    }
    let repository = Repository {
        name: names.repository.clone(),
        scan_on_push: spec.registry.scan_on_push,
        keep_images: spec.registry.keep_images,
    };
    b.add(ResourceId::REPOSITORY, Spec::Repository(repository), &[]);
    let execution = Role {
        name: names.execution_role.clone(),
        description: format!(
            "stackctl {}: lets ECS pull the image and write logs",
            spec.name
        ),
        managed_policies: vec![TASK_EXECUTION_POLICY.into()],
        policy: Vec::new(),
    };
    b.add(ResourceId::EXECUTION_ROLE, Spec::Role(execution), &[]);
    let logs = LogGroup {
        name: names.log_group.clone(),
        retention_days: spec.logs.retention_days,
    };
    b.add(ResourceId::LOG_GROUP, Spec::LogGroup(logs), &[]);
}
