//! Test fixtures for the kind files: contexts whose clients answer from `aws-smithy-mocks`
//! rules (a call no rule matches fails the test), found resources, and outputs.

use std::time::Duration;

use aws_smithy_mocks::{Rule, RuleMode, mock_client};

use crate::context::{Context, Settings};
use crate::contract::Found;
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
pub(crate) use {ec2_rule, rule};

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
