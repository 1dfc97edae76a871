//! The policy documents of the task roles: who may assume them, what a task role may do with
//! its queues and an execution role with its secrets, and how documents are compared (IAM's
//! equivalent forms are the same).

use serde_json::{Value, json};

pub const ECS_TASKS: &str = "ecs-tasks.amazonaws.com";
pub const TASK_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy";
/// The name of stackctl's one inline policy on a role.
pub const QUEUE_POLICY_NAME: &str = "queue-access";
pub const QUEUE_ACTIONS: [&str; 4] = [
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
    "sqs:SendMessage",
];
/// What sending to a queue needs.
pub const SEND_ACTIONS: [&str; 2] = ["sqs:GetQueueAttributes", "sqs:SendMessage"];
/// What consuming a queue needs; `ChangeMessageVisibility` keeps a message hidden while a
/// long job works on it (the app's worker heartbeat).
pub const CONSUME_ACTIONS: [&str; 4] = [
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
];
/// What reading or writing a bucket's objects needs on the bucket itself: listing them.
pub const BUCKET_ACTIONS: [&str; 1] = ["s3:ListBucket"];
/// Reading a bucket's objects (ranges included).
pub const READ_OBJECT_ACTIONS: [&str; 1] = ["s3:GetObject"];
/// Writing a bucket's objects: multipart uploads, and deleting what was written.
pub const WRITE_OBJECT_ACTIONS: [&str; 4] = [
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
];
/// What ECS needs to read a secret into a container at start.
pub const SECRETS_MANAGER_ACTIONS: [&str; 1] = ["secretsmanager:GetSecretValue"];
pub const SSM_ACTIONS: [&str; 1] = ["ssm:GetParameters"];

/// A document allowing each (actions, resource ARN) statement, in order.
pub fn document(statements: &[(Vec<&str>, String)]) -> Value {
    let statements: Vec<Value> = statements
        .iter()
        .map(|(actions, resource)| {
            json!({ "Effect": "Allow", "Action": actions, "Resource": resource })
        })
        .collect();
    json!({ "Version": "2012-10-17", "Statement": statements })
}

pub fn trust_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": ECS_TASKS },
            "Action": "sts:AssumeRole"
        }]
    })
}

pub fn queue_policy(queue_arn: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": QUEUE_ACTIONS,
            "Resource": queue_arn
        }]
    })
}

/// IAM returns documents URL-encoded; some emulators do not.
pub(super) fn parse_document(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok().or_else(|| {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .ok()?;
        serde_json::from_str(&decoded).ok()
    })
}

/// A policy document in a canonical form: one-element lists and bare strings are the same
/// to IAM, and so is the order of actions.
fn normalize(value: &Value) -> Value {
    const LISTS: [&str; 4] = ["Action", "Resource", "NotAction", "Service"];
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) if LISTS.contains(&k.as_str()) => {
                            Value::Array(vec![Value::String(s.clone())])
                        }
                        Value::Array(items) if LISTS.contains(&k.as_str()) => {
                            let mut items = items.clone();
                            items.sort_by_key(|a| a.to_string());
                            Value::Array(items)
                        }
                        _ => normalize(v),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

pub(super) fn same_policy(a: Option<&Value>, b: &Value) -> bool {
    a.is_some_and(|a| normalize(a) == normalize(b))
}
