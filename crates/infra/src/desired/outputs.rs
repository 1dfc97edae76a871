//! The outputs a user wants from a stack, by name.

use super::ids::{
    ALB_SECURITY_GROUP, CLUSTER, DEAD_LETTER_QUEUE, EXECUTION_ROLE, LOAD_BALANCER, LOG_GROUP,
    NAT_GATEWAY, QUEUE, REPOSITORY, SERVICE, SERVICE_SECURITY_GROUP, TASK_DEFINITION, TASK_ROLE,
    VPC,
};

/// The outputs a user wants from a stack, by name, from the resources' outputs.
pub fn named_outputs(outputs: &crate::outputs::Outputs) -> Vec<(&'static str, String)> {
    let id = |key: &str| outputs.get(key).map(|o| o.aws_id.clone());
    let arn = |key: &str| outputs.get(key).and_then(|o| o.arn.clone());
    let url = |key: &str| outputs.get(key).and_then(|o| o.url.clone());
    let list = |prefix: &str| {
        let ids: Vec<String> = outputs
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(_, o)| o.aws_id.clone())
            .collect();
        (!ids.is_empty()).then(|| ids.join(", "))
    };
    [
        ("vpc_id", id(VPC)),
        ("public_subnet_ids", list("public-subnet-")),
        ("private_subnet_ids", list("private-subnet-")),
        ("alb_security_group_id", id(ALB_SECURITY_GROUP)),
        ("service_security_group_id", id(SERVICE_SECURITY_GROUP)),
        ("nat_gateway_id", id(NAT_GATEWAY)),
        ("queue_url", url(QUEUE)),
        ("queue_arn", arn(QUEUE)),
        ("dead_letter_queue_url", url(DEAD_LETTER_QUEUE)),
        ("repository_uri", url(REPOSITORY)),
        ("execution_role_arn", arn(EXECUTION_ROLE)),
        ("task_role_arn", arn(TASK_ROLE)),
        ("log_group", id(LOG_GROUP)),
        ("load_balancer_url", url(LOAD_BALANCER)),
        ("cluster_arn", arn(CLUSTER)),
        ("task_definition_arn", arn(TASK_DEFINITION)),
        ("service_arn", arn(SERVICE)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}
