//! The outputs a user wants from a stack, by name.

use crate::id::ResourceId;

/// The outputs a user wants from a stack, by name, from the resources' outputs.
pub fn named_outputs(outputs: &crate::outputs::Outputs) -> Vec<(&'static str, String)> {
    let id = |key: ResourceId| outputs.get(&key).map(|o| o.aws_id.clone());
    let arn = |key: ResourceId| outputs.get(&key).and_then(|o| o.arn.clone());
    let url = |key: ResourceId| outputs.get(&key).and_then(|o| o.url.clone());
    let list_of = |prefix: &str, of: fn(&crate::outputs::Output) -> Option<String>| {
        let ids: Vec<String> = outputs
            .iter()
            .filter(|(k, _)| k.as_str().starts_with(prefix))
            .filter_map(|(_, o)| of(o))
            .collect();
        (!ids.is_empty()).then(|| ids.join(", "))
    };
    let list = |prefix: &str| list_of(prefix, |o| Some(o.aws_id.clone()));
    [
        ("vpc_id", id(ResourceId::VPC)),
        ("public_subnet_ids", list("public-subnet-")),
        ("private_subnet_ids", list("private-subnet-")),
        ("alb_security_group_id", id(ResourceId::ALB_SECURITY_GROUP)),
        (
            "service_security_group_id",
            id(ResourceId::SERVICE_SECURITY_GROUP),
        ),
        ("nat_gateway_id", id(ResourceId::NAT_GATEWAY)),
        ("queue_url", url(ResourceId::QUEUE)),
        ("queue_arn", arn(ResourceId::QUEUE)),
        ("dead_letter_queue_url", url(ResourceId::DEAD_LETTER_QUEUE)),
        ("repository_uri", url(ResourceId::REPOSITORY)),
        ("execution_role_arn", arn(ResourceId::EXECUTION_ROLE)),
        ("task_role_arn", arn(ResourceId::TASK_ROLE)),
        ("log_group", id(ResourceId::LOG_GROUP)),
        ("load_balancer_url", url(ResourceId::LOAD_BALANCER)),
        (
            "https_url",
            list_of(crate::id::ALIAS_RECORD_PREFIX, |o| o.url.clone()),
        ),
        ("certificate_arn", arn(ResourceId::CERTIFICATE)),
        ("cluster_arn", arn(ResourceId::CLUSTER)),
        ("task_definition_arn", arn(ResourceId::TASK_DEFINITION)),
        ("service_arn", arn(ResourceId::SERVICE)),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect()
}
