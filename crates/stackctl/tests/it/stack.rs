//! The reconciler end to end against the emulator: every test has a stack of its own, and
//! checks what exists through the AWS API directly, not through stackctl's output.

use aws_sdk_ec2::types::Filter;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::helpers::{TestStack, mutating_calls, stderr, stdout};

fn tag(key: &str, value: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{key}"))
        .values(value)
        .build()
}

/// The stack's VPCs (by its tag), read with a plain SDK call.
pub async fn vpcs(stack: &TestStack) -> Vec<aws_sdk_ec2::types::Vpc> {
    let out = stack
        .aws
        .ec2
        .describe_vpcs()
        .filters(tag("stackctl:stack", &stack.name))
        .send()
        .await
        .unwrap();
    out.vpcs().to_vec()
}

/// The stack's ECS service, by its name in the stack's cluster.
pub async fn ecs_service(stack: &TestStack) -> aws_sdk_ecs::types::Service {
    let out = stack
        .aws
        .ecs
        .describe_services()
        .cluster(&stack.name)
        .services(&stack.name)
        .send()
        .await
        .unwrap();
    out.services()[0].clone()
}

/// The stack's load balancer, by its name.
pub async fn load_balancer(
    stack: &TestStack,
) -> aws_sdk_elasticloadbalancingv2::types::LoadBalancer {
    let out = stack
        .aws
        .elb
        .describe_load_balancers()
        .names(format!("{}-alb", stack.name))
        .send()
        .await
        .unwrap();
    out.load_balancers()[0].clone()
}

/// Every resource tagged stackctl:stack=<name>, as `kind/logical-id`, read with plain SDK
/// calls.
pub async fn inventory(stack: &TestStack) -> Vec<String> {
    let aws = &stack.aws;
    let by_stack = || tag("stackctl:stack", &stack.name);
    // moto ignores the tag filter of DescribeNatGateways, so every answer is checked here too.
    let id_of = |tags: &[aws_sdk_ec2::types::Tag]| {
        let value = |key: &str| {
            tags.iter()
                .find(|t| t.key() == Some(key))
                .and_then(|t| t.value())
        };
        match value("stackctl:stack") {
            Some(s) if s == stack.name => value("stackctl:id").unwrap_or("?").to_owned(),
            _ => "(another stack)".to_owned(),
        }
    };
    let mut found = Vec::new();
    let vpcs = aws
        .ec2
        .describe_vpcs()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        vpcs.vpcs()
            .iter()
            .map(|v| format!("vpc/{}", id_of(v.tags()))),
    );
    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        subnets
            .subnets()
            .iter()
            .map(|s| format!("subnet/{}", id_of(s.tags()))),
    );
    let igws = aws
        .ec2
        .describe_internet_gateways()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        igws.internet_gateways()
            .iter()
            .map(|g| format!("igw/{}", id_of(g.tags()))),
    );
    let tables = aws
        .ec2
        .describe_route_tables()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        tables
            .route_tables()
            .iter()
            .map(|t| format!("rt/{}", id_of(t.tags()))),
    );
    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        groups
            .security_groups()
            .iter()
            .map(|g| format!("sg/{}", id_of(g.tags()))),
    );
    let eips = aws
        .ec2
        .describe_addresses()
        .filters(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        eips.addresses()
            .iter()
            .map(|a| format!("eip/{}", id_of(a.tags()))),
    );
    let nats = aws
        .ec2
        .describe_nat_gateways()
        .filter(by_stack())
        .send()
        .await
        .unwrap();
    found.extend(
        nats.nat_gateways()
            .iter()
            .filter(|n| n.state().is_none_or(|s| s.as_str() != "deleted"))
            .map(|n| format!("nat/{}", id_of(n.tags()))),
    );
    let queues = aws
        .sqs
        .list_queues()
        .queue_name_prefix(&stack.name)
        .send()
        .await
        .unwrap();
    for url in queues.queue_urls() {
        let tags = aws
            .sqs
            .list_queue_tags()
            .queue_url(url)
            .send()
            .await
            .unwrap();
        if let Some(id) = tags.tags().and_then(|t| t.get("stackctl:id"))
            && tags.tags().and_then(|t| t.get("stackctl:stack")) == Some(&stack.name)
        {
            found.push(format!("queue/{id}"));
        }
    }
    if let Ok(repos) = aws
        .ecr
        .describe_repositories()
        .repository_names(&stack.name)
        .send()
        .await
    {
        found.extend(
            repos
                .repositories()
                .iter()
                .map(|_| "ecr/repository".to_owned()),
        );
    }
    for role in [
        format!("{}-task-execution", stack.name),
        format!("{}-task", stack.name),
    ] {
        if let Ok(out) = aws.iam.get_role().role_name(&role).send().await {
            found.push(format!(
                "role/{}",
                out.role().map(|r| r.role_name()).unwrap_or("?")
            ));
        }
    }
    let groups = aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/stackctl/{}", stack.name))
        .send()
        .await
        .unwrap();
    found.extend(
        groups
            .log_groups()
            .iter()
            .filter(|g| g.log_group_name() == Some(&format!("/stackctl/{}", stack.name)))
            .map(|_| "logs/log-group".to_owned()),
    );
    found.extend(service_inventory(stack).await);
    found.retain(|r| !r.ends_with("(another stack)"));
    found.sort();
    found
}

async fn queue_attribute(stack: &TestStack, queue: &str, attr: QueueAttributeName) -> String {
    let url = stack
        .aws
        .sqs
        .get_queue_url()
        .queue_name(queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let out = stack
        .aws
        .sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(attr.clone())
        .send()
        .await
        .unwrap();
    out.attributes().unwrap()[&attr].clone()
}

async fn log_retention(stack: &TestStack) -> Option<i32> {
    let out = stack
        .aws
        .logs
        .describe_log_groups()
        .log_group_name_prefix(format!("/stackctl/{}", stack.name))
        .send()
        .await
        .unwrap();
    out.log_groups()[0].retention_in_days()
}

const FULL_STACK: [&str; 16] = [
    "ecr/repository",
    "igw/internet-gateway",
    "logs/log-group",
    "queue/dead-letter-queue",
    "queue/queue",
    "role/{}-task",
    "role/{}-task-execution",
    "rt/private-route-table",
    "rt/public-route-table",
    "sg/alb-security-group",
    "sg/service-security-group",
    "subnet/private-subnet-1",
    "subnet/private-subnet-2",
    "subnet/public-subnet-1",
    "subnet/public-subnet-2",
    "vpc/vpc",
];

pub fn full_stack(name: &str) -> Vec<String> {
    let mut all: Vec<String> = FULL_STACK.iter().map(|s| s.replace("{}", name)).collect();
    all.sort();
    all
}

#[tokio::test]
async fn up_from_empty_creates_every_resource_with_its_attributes_and_tags() {
    let stack = TestStack::new(
        "create",
        "[queue]\nvisibility_timeout_secs = 45\n[logs]\nretention_days = 7\n",
    )
    .await;
    let answer = stack.json(&["up", "--infra-only"]);
    // Sixteen, the queue's two alarms and the dashboard.
    assert_eq!(answer["summary"]["create"], 19);
    assert_eq!(inventory(&stack).await, full_stack(&stack.name));

    let aws = &stack.aws;
    let vpc = &aws
        .ec2
        .describe_vpcs()
        .filters(tag("stackctl:stack", &stack.name))
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .clone();
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    let hostnames = aws
        .ec2
        .describe_vpc_attribute()
        .vpc_id(vpc.vpc_id().unwrap())
        .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hostnames.enable_dns_hostnames().and_then(|v| v.value()),
        Some(true)
    );

    let subnets = aws
        .ec2
        .describe_subnets()
        .filters(tag("stackctl:stack", &stack.name))
        .send()
        .await
        .unwrap();
    let mut cidrs: Vec<(String, bool)> = subnets
        .subnets()
        .iter()
        .map(|s| {
            (
                s.cidr_block().unwrap().to_owned(),
                s.map_public_ip_on_launch().unwrap_or(false),
            )
        })
        .collect();
    cidrs.sort();
    assert_eq!(
        cidrs,
        [
            ("10.0.0.0/24".to_owned(), true),
            ("10.0.1.0/24".to_owned(), true),
            ("10.0.2.0/24".to_owned(), false),
            ("10.0.3.0/24".to_owned(), false)
        ]
    );

    let queue = format!("{}-messages", stack.name);
    assert_eq!(
        queue_attribute(&stack, &queue, QueueAttributeName::VisibilityTimeout).await,
        "45"
    );
    let redrive = queue_attribute(&stack, &queue, QueueAttributeName::RedrivePolicy).await;
    assert!(
        redrive.contains(&format!("{queue}-dlq")) && redrive.contains('5'),
        "{redrive}"
    );
    assert_eq!(log_retention(&stack).await, Some(7));

    let groups = aws
        .ec2
        .describe_security_groups()
        .filters(tag("stackctl:id", "service-security-group"))
        .filters(tag("stackctl:stack", &stack.name))
        .send()
        .await
        .unwrap();
    let rules = groups.security_groups()[0].ip_permissions();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].from_port(), Some(5000));
    assert!(
        rules[0].ip_ranges().is_empty(),
        "the service port is not open to the world"
    );
    assert_eq!(rules[0].user_id_group_pairs().len(), 1);

    let role = aws
        .iam
        .get_role_policy()
        .role_name(format!("{}-task", stack.name))
        .policy_name("queue-access")
        .send()
        .await
        .unwrap();
    let document = role.policy_document();
    assert!(
        document.contains("sqs") && document.contains(&queue),
        "{document}"
    );
    let attached = aws
        .iam
        .list_attached_role_policies()
        .role_name(format!("{}-task-execution", stack.name))
        .send()
        .await
        .unwrap();
    assert_eq!(
        attached.attached_policies()[0].policy_name(),
        Some("AmazonECSTaskExecutionRolePolicy")
    );

    let repo = aws
        .ecr
        .describe_repositories()
        .repository_names(&stack.name)
        .send()
        .await
        .unwrap();
    assert!(
        repo.repositories()[0]
            .image_scanning_configuration()
            .unwrap()
            .scan_on_push()
    );
    let policy = aws
        .ecr
        .get_lifecycle_policy()
        .repository_name(&stack.name)
        .send()
        .await
        .unwrap();
    assert!(
        policy
            .lifecycle_policy_text()
            .unwrap()
            .contains("\"countNumber\":10")
    );

    assert_eq!(
        stack.json(&["down", "--yes"])["remaining"],
        serde_json::json!([])
    );
}

#[tokio::test]
async fn a_second_up_makes_no_mutating_calls_and_plan_reports_no_changes() {
    let stack = TestStack::new("noop", "").await;
    stack.json(&["up", "--infra-only"]);
    let again = stack.json(&["up", "--infra-only"]);
    assert_eq!(mutating_calls(&again), Vec::<String>::new());
    assert_eq!(again["summary"]["unchanged"], 19);
    // Taking the lock is shown, apart from the stack's calls.
    let own = &again["lock_and_history_calls"];
    assert!(own["DynamoDB:PutItem"].as_u64() >= Some(1), "{own}");
    assert!(
        again["aws_calls"]
            .as_object()
            .unwrap()
            .keys()
            .all(|op| !op.starts_with("DynamoDB")),
        "{again}"
    );
    let verbose = stack.run(&["up", "--infra-only", "-v"]);
    assert!(
        stderr(&verbose).contains("AWS calls for the stack lock and the deploy history: "),
        "{}",
        stderr(&verbose)
    );
    let plan = stack.run(&["plan", "--infra-only", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", stdout(&plan));
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn changing_one_value_updates_exactly_that() {
    let stack = TestStack::new("change", "").await;
    stack.json(&["up", "--infra-only"]);
    stack.write("[logs]\nretention_days = 30\n");
    let plan = stack.run(&["plan", "--infra-only", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2));
    let plan = stack.json(&["plan", "--infra-only"]);
    let changed: Vec<&serde_json::Value> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] != "unchanged")
        .collect();
    assert_eq!(changed.len(), 1, "{changed:#?}");
    assert_eq!(changed[0]["id"], "log-group");
    assert_eq!(
        changed[0]["fields"],
        serde_json::json!([{ "field": "retention_days", "from": "14", "to": "30" }])
    );

    let up = stack.json(&["up", "--infra-only"]);
    assert_eq!(mutating_calls(&up), ["CloudWatch Logs:PutRetentionPolicy"]);
    assert_eq!(log_retention(&stack).await, Some(30));

    stack.write("[queue]\nvisibility_timeout_secs = 120\n[logs]\nretention_days = 30\n");
    let up = stack.json(&["up", "--infra-only"]);
    assert_eq!(mutating_calls(&up), ["SQS:SetQueueAttributes"]);
    let queue = format!("{}-messages", stack.name);
    assert_eq!(
        queue_attribute(&stack, &queue, QueueAttributeName::VisibilityTimeout).await,
        "120"
    );
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn drift_made_outside_stackctl_shows_in_plan_and_up_removes_it() {
    let stack = TestStack::new("drift", "").await;
    stack.json(&["up", "--infra-only"]);
    let aws = &stack.aws;
    let group = aws
        .ec2
        .describe_security_groups()
        .filters(tag("stackctl:stack", &stack.name))
        .filters(tag("stackctl:id", "service-security-group"))
        .send()
        .await
        .unwrap()
        .security_groups()[0]
        .group_id()
        .unwrap()
        .to_owned();
    aws.ec2
        .authorize_security_group_ingress()
        .group_id(&group)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let queue = format!("{}-messages", stack.name);
    let url = aws
        .sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    aws.sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::MessageRetentionPeriod, "60")
        .send()
        .await
        .unwrap();
    aws.iam
        .put_role_policy()
        .role_name(format!("{}-task", stack.name))
        .policy_name("queue-access")
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sqs:*","Resource":"*"}]}"#)
        .send()
        .await
        .unwrap();

    let plan = stack.json(&["plan", "--infra-only"]);
    let mut drifted: Vec<String> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "update")
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    drifted.sort();
    assert_eq!(drifted, ["queue", "service-security-group", "task-role"]);

    stack.json(&["up", "--infra-only"]);
    let rules = aws
        .ec2
        .describe_security_groups()
        .group_ids(&group)
        .send()
        .await
        .unwrap();
    let ports: Vec<Option<i32>> = rules.security_groups()[0]
        .ip_permissions()
        .iter()
        .map(|p| p.from_port())
        .collect();
    assert_eq!(ports, [Some(5000)]);
    assert_eq!(
        queue_attribute(&stack, &queue, QueueAttributeName::MessageRetentionPeriod).await,
        "345600"
    );
    let policy = aws
        .iam
        .get_role_policy()
        .role_name(format!("{}-task", stack.name))
        .policy_name("queue-access")
        .send()
        .await
        .unwrap();
    assert!(!policy.policy_document().contains("sqs:*"));
    assert_eq!(
        stack
            .run(&["plan", "--infra-only", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn an_interrupted_up_is_finished_by_the_next_without_duplicates() {
    let stack = TestStack::new("resume", "").await;
    let stopped = stack.run(&["up", "--infra-only", "--stop-after", "5"]);
    assert_eq!(stopped.status.code(), Some(1));
    assert!(
        stderr(&stopped).contains("stopped after 5 changes"),
        "{}",
        stderr(&stopped)
    );
    let partial = inventory(&stack).await;
    assert_eq!(partial.len(), 5, "{partial:?}");

    let resumed = stack.json(&["up", "--infra-only"]);
    assert_eq!(resumed["summary"]["create"], 14);
    assert_eq!(resumed["summary"]["unchanged"], 5);
    assert_eq!(
        inventory(&stack).await,
        full_stack(&stack.name),
        "every resource once"
    );
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn two_stacks_coexist_and_down_of_one_leaves_the_other() {
    let (a, b) = tokio::join!(TestStack::new("a", ""), TestStack::new("b", ""));
    a.json(&["up", "--infra-only"]);
    b.json(&["up", "--infra-only"]);
    assert_eq!(inventory(&a).await, full_stack(&a.name));
    assert_eq!(inventory(&b).await, full_stack(&b.name));

    let down = a.json(&["down", "--yes"]);
    assert_eq!(down["remaining"], serde_json::json!([]));
    assert_eq!(
        inventory(&a).await,
        Vec::<String>::new(),
        "nothing tagged with a remains"
    );
    assert_eq!(inventory(&b).await, full_stack(&b.name), "b is untouched");
    assert_eq!(
        mutating_calls(&b.json(&["up", "--infra-only"])),
        Vec::<String>::new()
    );

    let again = a.run(&["down", "--yes"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("Nothing to delete"),
        "{}",
        stdout(&again)
    );
    b.json(&["down", "--yes"]);
    assert_eq!(inventory(&b).await, Vec::<String>::new());
}

#[tokio::test]
async fn down_without_yes_and_without_a_terminal_refuses() {
    let stack = TestStack::new("refuse", "").await;
    stack.json(&["up", "--infra-only"]);
    let refused = stack.run(&["down"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("Refusing without --yes"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(inventory(&stack).await.len(), 16, "nothing was deleted");
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn a_nat_gateway_is_added_and_removed_with_its_route_and_address() {
    let stack = TestStack::new("nat", "[network]\nnat_gateway = true\n").await;
    stack.json(&["up", "--infra-only"]);
    let found = inventory(&stack).await;
    assert!(
        found.contains(&"nat/nat-gateway".to_owned()) && found.contains(&"eip/nat-eip".to_owned()),
        "{found:?}"
    );
    let tables = stack
        .aws
        .ec2
        .describe_route_tables()
        .filters(tag("stackctl:stack", &stack.name))
        .filters(tag("stackctl:id", "private-route-table"))
        .send()
        .await
        .unwrap();
    let routes = tables.route_tables()[0].routes();
    assert!(
        routes.iter().any(
            |r| r.destination_cidr_block() == Some("0.0.0.0/0") && r.nat_gateway_id().is_some()
        )
    );

    stack.write("[network]\nnat_gateway = false\n");
    let plan = stack.json(&["plan", "--infra-only"]);
    let deletes: Vec<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "delete")
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(deletes, ["nat-gateway", "nat-eip"]);
    let refused = stack.run(&["up", "--infra-only"]);
    assert_eq!(refused.status.code(), Some(1), "asks before deleting");
    let removed = stack.json(&["up", "--infra-only", "--yes"]);
    assert!(
        removed["outputs"].get("nat_gateway_id").is_none(),
        "a deleted resource has no outputs: {removed:#}"
    );
    assert_eq!(inventory(&stack).await, full_stack(&stack.name));
    assert_eq!(
        stack
            .run(&["plan", "--infra-only", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    stack.json(&["down", "--yes"]);
}

#[tokio::test]
async fn status_lists_resources_and_outputs() {
    let stack = TestStack::new("status", "").await;
    let empty = stack.run(&["status"]);
    assert!(
        stdout(&empty).contains("has no resources"),
        "{}",
        stdout(&empty)
    );
    stack.json(&["up", "--infra-only"]);
    let status = stack.json(&["status"]);
    assert_eq!(status["resources"].as_array().unwrap().len(), 19);
    let url = status["outputs"]["queue_url"].as_str().unwrap();
    assert!(url.ends_with(&format!("/{}-messages", stack.name)), "{url}");
    let text = stdout(&stack.run(&["status"]));
    assert!(
        text.contains("service-security-group") && text.contains("queue_url"),
        "{text}"
    );
    stack.json(&["down", "--yes"]);
}

/// `stackctl plan` with no credentials in the environment or in any profile.
fn plan_without_credentials(stack: &TestStack) -> std::process::Command {
    let mut command = crate::helpers::stackctl();
    command
        .arg("plan")
        .current_dir(stack.scratch.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ENDPOINT_URL", crate::helpers::emulator_endpoint())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    command
}

#[tokio::test]
async fn missing_credentials_are_one_clear_line() {
    let stack = TestStack::new("creds", "").await;
    let output = plan_without_credentials(&stack)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.contains("sts:GetCallerIdentity for AWS credentials failed"),
        "{err}"
    );
    assert!(err.contains("no AWS credentials found"), "{err}");
}

/// In a container or on CI the instance metadata endpoint often answers 403: still "no
/// credentials", not "check your network".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_refused_by_the_metadata_endpoint_are_still_no_credentials() {
    let imds = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let imds_url = format!("http://{}", imds.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = imds.accept().await {
            let mut buf = [0_u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 9\r\n\r\nForbidden")
                .await;
        }
    });
    let stack = TestStack::new("imds", "").await;
    let output = plan_without_credentials(&stack)
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds_url)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let first = err.lines().next().unwrap_or_default();
    assert!(first.contains("no AWS credentials found"), "{err}");
    assert!(!first.contains("check your network"), "{err}");
}

#[tokio::test]
async fn user_tags_go_on_every_resource_and_a_changed_value_is_put_back() {
    let stack = TestStack::new("tags", "[stack.tags]\nteam = \"payments\"\n").await;
    stack.json(&["up", "--infra-only"]);
    let aws = &stack.aws;
    let vpc = aws
        .ec2
        .describe_vpcs()
        .filters(tag("stackctl:stack", &stack.name))
        .send()
        .await
        .unwrap();
    assert!(
        vpc.vpcs()[0]
            .tags()
            .iter()
            .any(|t| t.key() == Some("team") && t.value() == Some("payments"))
    );
    let queue = format!("{}-messages", stack.name);
    let url = aws
        .sqs
        .get_queue_url()
        .queue_name(&queue)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let tags = aws
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("payments")
    );
    let role = aws
        .iam
        .get_role()
        .role_name(format!("{}-task", stack.name))
        .send()
        .await
        .unwrap();
    assert!(
        role.role()
            .unwrap()
            .tags()
            .iter()
            .any(|t| t.key() == "team" && t.value() == "payments")
    );

    stack.write("[stack.tags]\nteam = \"search\"\n");
    let plan = stack.json(&["plan", "--infra-only"]);
    assert_eq!(
        plan["summary"]["update"], 18,
        "every resource gets the new value"
    );
    stack.json(&["up", "--infra-only"]);
    let tags = aws
        .sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags().unwrap().get("team").map(String::as_str),
        Some("search")
    );
    assert_eq!(
        mutating_calls(&stack.json(&["up", "--infra-only"])),
        Vec::<String>::new()
    );
    stack.json(&["down", "--yes"]);
}

/// The load-balancing and ECS resources named after the stack, read with plain SDK calls.
async fn service_inventory(stack: &TestStack) -> Vec<String> {
    let aws = &stack.aws;
    let mut found = Vec::new();
    if let Ok(out) = aws
        .elb
        .describe_load_balancers()
        .names(format!("{}-alb", stack.name))
        .send()
        .await
    {
        for lb in out.load_balancers() {
            found.push("elb/load-balancer".to_owned());
            let listeners = aws
                .elb
                .describe_listeners()
                .load_balancer_arn(lb.load_balancer_arn().unwrap())
                .send()
                .await
                .unwrap();
            found.extend(
                listeners
                    .listeners()
                    .iter()
                    .map(|l| format!("elb/listener-{}", l.port().unwrap_or(0))),
            );
        }
    }
    // Target groups have names with a hash (a replacement is made next to the old one): all
    // of them are listed, and each kept when its tag names this stack.
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    let prefix = format!("{}-", stack.name);
    for tg in groups.target_groups() {
        let (Some(arn), Some(name)) = (tg.target_group_arn(), tg.target_group_name()) else {
            continue;
        };
        if !name.starts_with(&prefix) {
            continue;
        }
        let tags = aws
            .elb
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .unwrap();
        let ours = tags.tag_descriptions().iter().any(|d| {
            d.tags().iter().any(|t| {
                t.key() == Some("stackctl:stack") && t.value() == Some(stack.name.as_str())
            })
        });
        if ours {
            found.push("elb/target-group".to_owned());
        }
    }
    let clusters = aws
        .ecs
        .describe_clusters()
        .clusters(&stack.name)
        .send()
        .await
        .unwrap();
    found.extend(
        clusters
            .clusters()
            .iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .map(|_| "ecs/cluster".to_owned()),
    );
    if let Ok(out) = aws
        .ecs
        .describe_services()
        .cluster(&stack.name)
        .services(&stack.name)
        .send()
        .await
    {
        found.extend(
            out.services()
                .iter()
                .filter(|s| s.status() != Some("INACTIVE"))
                .map(|_| "ecs/service".to_owned()),
        );
    }
    let families = aws
        .ecs
        .list_task_definitions()
        .family_prefix(&stack.name)
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .unwrap();
    found.extend(
        families
            .task_definition_arns()
            .iter()
            .filter(|arn| arn.contains(&format!("task-definition/{}:", stack.name)))
            .map(|_| "ecs/task-definition".to_owned()),
    );
    found
}

#[tokio::test]
async fn ls_lists_every_stack_with_its_resources_and_monthly_cost() {
    let plain = TestStack::new("ls-plain", "").await;
    let nat = TestStack::new("ls-nat", "[network]\nnat_gateway = true\n").await;
    for stack in [&plain, &nat] {
        let up = stack.run(&["up", "--infra-only", "--yes"]);
        assert!(up.status.success(), "{}", stderr(&up));
    }
    let listing = plain.json(&["ls"]);
    assert_eq!(listing["here"], plain.name.as_str());
    let entry = |name: &str| {
        listing["stacks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stack"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} not listed: {listing}"))
    };
    let (a, b) = (entry(&plain.name), entry(&nat.name));
    assert_eq!(a["resources"], 19);
    assert_eq!(
        a["cost"]["monthly_usd"], 0.2,
        "a network alone bills nothing by the hour; its queue's two alarms 0.10 each a month"
    );
    assert_eq!(b["resources"], 21);
    // The NAT gateway (32.85), its address (3.65) and the two alarms.
    assert_eq!(b["cost"]["monthly_usd"], 36.7);
    let text = stdout(&plain.run(&["ls"]));
    let line = text
        .lines()
        .find(|l| l.contains(&plain.name))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("(this directory)"), "{text}");

    for stack in [&plain, &nat] {
        let down = stack.run(&["down", "--yes"]);
        assert!(down.status.success(), "{}", stderr(&down));
    }
    let after = plain.json(&["ls"]);
    let names: Vec<&str> = after["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["stack"].as_str())
        .collect();
    assert!(!names.contains(&plain.name.as_str()) && !names.contains(&nat.name.as_str()));
}

#[tokio::test]
async fn a_renamed_stack_file_warns_that_the_old_stack_still_stands() {
    let old = TestStack::new("named", "").await;
    let up = old.run(&["up", "--infra-only", "--yes"]);
    assert!(up.status.success(), "{}", stderr(&up));
    let unchanged = old.run(&["plan", "--infra-only"]);
    assert!(
        !stderr(&unchanged).contains("warning"),
        "{}",
        stderr(&unchanged)
    );

    // The same file, another name: a new stack, and the old one is named.
    let renamed = format!("{}-new", old.name);
    old.scratch
        .write("stack.toml", &format!("[stack]\nname = \"{renamed}\"\n"));
    let plan = old.run(&["plan", "--infra-only"]);
    assert!(plan.status.success(), "{}", stderr(&plan));
    let warning = stderr(&plan);
    assert!(
        warning.contains(&format!("stack {} was made from this stack file", old.name)),
        "{warning}"
    );
    assert!(
        warning.contains(&format!(
            "stackctl down --stack-name {} --region us-east-1",
            old.name
        )),
        "{warning}"
    );
    let json = old.json(&["plan", "--infra-only"]);
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(1), "{json}");

    let down = old.run(&["down", "--yes", "--stack-name", &old.name]);
    assert!(down.status.success(), "{}", stderr(&down));
    let plan = old.run(&["plan", "--infra-only"]);
    assert!(!stderr(&plan).contains("warning"), "{}", stderr(&plan));
}
