//! Test fixtures for the kind files: contexts whose clients answer from `aws-smithy-mocks`
//! rules (a call no rule matches fails the test), found resources, and outputs.

use std::time::Duration;

use aws_smithy_mocks::{Rule, RuleMode, mock_client};

use crate::context::{Context, Settings};
use crate::contract::{Found, New};
use crate::id::ResourceId;
use crate::outputs::{Output, Outputs};
use crate::tags::Tags;

/// A rule that answers `$op` of `$client` with an empty output.
macro_rules! rule {
    ($client:ident, $op:ident, $out:ty) => {
        aws_smithy_mocks::mock!($client::Client::$op).then_output(|| <$out>::builder().build())
    };
}
macro_rules! ec2_rule {
    ($op:ident, $out:ty) => {
        $crate::resources::testing::rule!(aws_sdk_ec2, $op, $out)
    };
}
/// A rule that fails `$op` of `$client` with the AWS error `$code` (`$error`: the operation's
/// error type), as AWS answers for something that is not there.
macro_rules! fails {
    ($client:ident, $op:ident, $error:ty, $code:expr) => {
        aws_smithy_mocks::mock!($client::Client::$op).then_error(move || {
            <$error>::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code($code)
                    .message("as the test asks")
                    .build(),
            )
        })
    };
}
pub(crate) use {ec2_rule, fails, rule};

/// A context with fast retries whose clients reach nothing; tests swap in mocked clients.
pub fn context() -> Context {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut ctx = Context::from_config("s", "us-east-1", &config);
    ctx.settings = Settings {
        dependency_timeout: Duration::from_secs(60),
        consistency_timeout: Duration::from_secs(60),
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        poll_interval: Duration::from_millis(1),
        wait_timeout: Duration::from_secs(5),
        deploy_timeout: Some(Duration::from_secs(5)),
        ..Settings::default()
    };
    ctx
}

pub fn ec2(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.ec2 = mock_client!(aws_sdk_ec2, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn ecs(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.ecs = mock_client!(aws_sdk_ecs, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn elb(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.elb = mock_client!(
        aws_sdk_elasticloadbalancingv2,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    ctx
}

pub fn sqs(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.sqs = mock_client!(aws_sdk_sqs, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn s3(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.s3 = mock_client!(aws_sdk_s3, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn iam(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.iam = mock_client!(aws_sdk_iam, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn ecr(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn logs(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.logs = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    ctx
}

pub fn cloudwatch(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.cloudwatch = mock_client!(
        aws_sdk_cloudwatch,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    ctx
}

pub fn sns(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

pub fn autoscaling(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.autoscaling = mock_client!(
        aws_sdk_applicationautoscaling,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    ctx
}

pub fn cloudmap(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.discovery = mock_client!(
        aws_sdk_servicediscovery,
        RuleMode::MatchAny,
        rules.iter().copied()
    );
    ctx
}

pub fn dynamodb(rules: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.dynamodb = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules.iter().copied());
    ctx
}

/// A context whose ACM, Route 53, load-balancing and tagging clients answer from the rules
/// given (the kinds of a stack's domains).
pub fn domains(acm: &[&Rule], route53: &[&Rule], elb: &[&Rule], tagging: &[&Rule]) -> Context {
    let mut ctx = context();
    ctx.acm = mock_client!(aws_sdk_acm, RuleMode::MatchAny, acm.iter().copied());
    ctx.route53 = mock_client!(aws_sdk_route53, RuleMode::MatchAny, route53.iter().copied());
    ctx.elb = mock_client!(
        aws_sdk_elasticloadbalancingv2,
        RuleMode::MatchAny,
        elb.iter().copied()
    );
    ctx.tagging = mock_client!(
        aws_sdk_resourcegroupstagging,
        RuleMode::MatchAny,
        tagging.iter().copied()
    );
    ctx
}

/// What `create` is handed for `id` of the stack `s`: its managed tags, the outputs of what
/// it refers to, a fixed token, and no progress listener.
pub struct Creating {
    pub id: ResourceId,
    pub tags: Tags,
    pub refs: Outputs,
}

impl Creating {
    pub fn new(id: ResourceId, refs: Outputs) -> Self {
        let tags = crate::tags::managed("s", &id, None);
        Self { id, tags, refs }
    }

    pub fn get(&self) -> New<'_> {
        New {
            id: &self.id,
            tags: &self.tags,
            refs: &self.refs,
            wait: &|_| {},
            token: "token-1",
        }
    }
}

/// The tags stackctl puts on `id` of the stack `s`, as `(key, value)` pairs.
pub fn stack_tags(id: &str) -> Vec<(String, String)> {
    crate::tags::managed("s", &ResourceId::from_tag(id), None)
        .into_iter()
        .collect()
}

/// The same, as EC2 tags.
pub fn ec2_tags(id: &str) -> Vec<aws_sdk_ec2::types::Tag> {
    stack_tags(id)
        .into_iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// DescribeTags of load-balancing resources answering, for each `(ARN, logical id)`, the
/// tags of that id in the stack `s`.
pub fn elb_tags(tagged: &[(&str, &str)]) -> Rule {
    use aws_sdk_elasticloadbalancingv2::operation::describe_tags::DescribeTagsOutput;
    use aws_sdk_elasticloadbalancingv2::types::{Tag, TagDescription};
    let tagged: Vec<(String, String)> = tagged
        .iter()
        .map(|(arn, id)| ((*arn).to_owned(), (*id).to_owned()))
        .collect();
    aws_smithy_mocks::mock!(aws_sdk_elasticloadbalancingv2::Client::describe_tags).then_output(
        move || {
            let descriptions = tagged.iter().map(|(arn, id)| {
                let tags = stack_tags(id)
                    .into_iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build());
                TagDescription::builder()
                    .resource_arn(arn)
                    .set_tags(Some(tags.collect()))
                    .build()
            });
            DescribeTagsOutput::builder()
                .set_tag_descriptions(Some(descriptions.collect()))
                .build()
        },
    )
}

/// A resource of the stack `s` as found, with `detail`.
pub fn found<S>(id: &str, aws_id: &str, detail: S) -> Found<S> {
    Found {
        id: id.into(),
        detail,
        aws_id: aws_id.into(),
        arn: None,
        state: "available".into(),
        tags: Tags::new(),
    }
}

/// Outputs with the given AWS ids (and ARNs `arn:<id>`, URLs `url:<id>`).
pub fn refs(pairs: &[(&str, &str)]) -> Outputs {
    pairs
        .iter()
        .map(|(id, aws_id)| {
            (
                ResourceId::from_tag(id),
                Output {
                    aws_id: (*aws_id).to_owned(),
                    arn: Some(format!("arn:{aws_id}")),
                    url: Some(format!("url:{aws_id}")),
                },
            )
        })
        .collect()
}

/// ListHostedZonesByName answering the public zone `name` (id `id`) when asked for it by
/// name, and no zone of that name otherwise.
pub fn zone(name: &str, id: &str) -> Rule {
    use aws_sdk_route53::operation::list_hosted_zones_by_name::ListHostedZonesByNameOutput;
    use aws_sdk_route53::types::HostedZone;
    let (name, id) = (name.to_owned(), id.to_owned());
    aws_smithy_mocks::mock!(aws_sdk_route53::Client::list_hosted_zones_by_name).then_compute_output(
        move |r| {
            let zones = (r.dns_name() == Some(name.as_str())).then(|| {
                HostedZone::builder()
                    .id(format!("/hostedzone/{id}"))
                    .name(format!("{name}."))
                    .caller_reference("ref")
                    .build()
                    .unwrap()
            });
            ListHostedZonesByNameOutput::builder()
                .set_hosted_zones(Some(zones.into_iter().collect()))
                .is_truncated(false)
                .max_items(5)
                .build()
                .unwrap()
        },
    )
}

/// ChangeResourceRecordSets answering that the change is in sync.
pub fn record_change() -> Rule {
    aws_smithy_mocks::mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .then_output(in_sync)
}

/// What ChangeResourceRecordSets answers for a change every server has.
pub fn in_sync()
-> aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput {
    use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
    use aws_sdk_route53::types::{ChangeInfo, ChangeStatus};
    ChangeResourceRecordSetsOutput::builder()
        .change_info(
            ChangeInfo::builder()
                .id("/change/C1")
                .status(ChangeStatus::Insync)
                .submitted_at(aws_smithy_types::DateTime::from_secs(0))
                .build()
                .unwrap(),
        )
        .build()
}
