//! What an AWS call's failure says: whether AWS may have done the work (`Outcome`), what
//! came back (status, code and message, or the start of a body that is not AWS's), and the
//! fix for the failures a user can act on.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// `outer: inner: innermost`, skipping causes whose text the outer one already ends with.
pub fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// The IAM action of `operation` on the service whose SDK error `E` is:
/// `ecs:CreateService`, not only `CreateService` (Cloud Map has one too).
pub(super) fn iam_action<E>(operation: &str) -> String {
    let prefix = match sdk_crate::<E>() {
        Some("elasticloadbalancingv2") => "elasticloadbalancing",
        Some("servicediscovery") => "servicediscovery",
        Some("cloudwatchlogs") => "logs",
        Some("applicationautoscaling") => "application-autoscaling",
        Some(name) => name,
        None => return operation.to_owned(),
    };
    format!("{prefix}:{operation}")
}

/// What a failed call says about whether AWS did the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// AWS refused it: nothing was done (a bad request, a missing permission).
    Refused,
    /// Throttled: nothing was done; the same call may be made again later.
    Throttled,
    /// No answer, a broken connection, a timeout or a server error: AWS may have done the
    /// work, so a create must look before it tries again.
    Unknown,
}

/// Codes of a call the identity may not make.
pub(super) const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
];

/// Codes of an operation the endpoint does not serve.
pub(super) const UNSERVED: &[&str] = &[
    "UnknownOperationException",
    "InvalidAction",
    "NotImplemented",
    "UnsupportedOperation",
];

/// Codes AWS uses for throttling (the SDK's own list).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
];

/// Codes of server errors, after which the work may or may not have been done.
const SERVER_ERRORS: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServerException",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "Unavailable",
];

/// Whether AWS did the work, from what came back. A server error (a 5xx status, whatever
/// its body: load balancers and proxies answer in plain text) may have come after the work
/// was done; a 429 is throttling.
pub(super) fn outcome_of<E>(err: &SdkError<E, HttpResponse>, code: Option<&str>) -> Outcome {
    let status = err.raw_response().map(|r| r.status().as_u16());
    match (err, code) {
        (SdkError::ServiceError(_), Some(c)) if THROTTLING.contains(&c) => Outcome::Throttled,
        (SdkError::ServiceError(_), _) if status == Some(429) => Outcome::Throttled,
        (SdkError::ServiceError(_), Some(c)) if SERVER_ERRORS.contains(&c) => Outcome::Unknown,
        (SdkError::ServiceError(_), _) if status.is_some_and(|s| s >= 500) => Outcome::Unknown,
        (
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_),
            _,
        ) => Outcome::Unknown,
        _ => Outcome::Refused,
    }
}

/// How much of a body that is not AWS's format a message quotes.
const QUOTED_BYTES: usize = 200;

/// What came back, for the message: the HTTP status with AWS's message, or with the start of
/// a body that is not AWS's format (a proxy's error page, an endpoint that does not serve the
/// API). `None` when nothing came back.
pub(super) fn answer_of<E: ProvideErrorMetadata>(
    err: &SdkError<E, HttpResponse>,
    code: Option<&str>,
) -> Option<String> {
    let response = err.raw_response()?;
    let status = response.status().as_u16();
    if code.is_some() {
        let in_body = || tag_in_body(err, "Message");
        return Some(
            match err
                .message()
                .map(str::to_owned)
                .or_else(in_body)
                .filter(|m| !m.is_empty())
            {
                Some(message) => format!("HTTP {status}: {message}"),
                None => format!("HTTP {status}"),
            },
        );
    }
    let body = response.body().bytes().unwrap_or_default();
    if body.is_empty() {
        return Some(format!("HTTP {status}, with no body"));
    }
    let end = body.len().min(QUOTED_BYTES);
    let text = String::from_utf8_lossy(&body[..end]);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let more = if body.len() > end { "…" } else { "" };
    Some(format!(
        "HTTP {status}, not an AWS answer: \"{text}{more}\""
    ))
}

/// The text of the first `<tag>` of an XML error body the SDK did not parse: an endpoint (or a
/// proxy) that answers a JSON service in the query protocol's XML still says what went wrong.
pub(super) fn tag_in_body<E>(err: &SdkError<E, HttpResponse>, tag: &str) -> Option<String> {
    let body = err.raw_response()?.body().bytes()?;
    let text = std::str::from_utf8(body).ok()?;
    let (_, rest) = text.split_once(&format!("<{tag}>"))?;
    let (value, _) = rest.split_once(&format!("</{tag}>"))?;
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The innermost cause's text.
fn last_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Where calls go, for messages: the endpoint override (an emulator), or AWS's own.
fn endpoint_name() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => "AWS's endpoint for the region".to_owned(),
    }
}

/// The endpoint does not serve the API `operation` belongs to.
fn unserved<E>(operation: &str) -> String {
    let service = match sdk_crate::<E>() {
        Some("elasticloadbalancingv2") => "Elastic Load Balancing",
        Some("servicediscovery") => "Cloud Map",
        Some("cloudwatch") => "CloudWatch",
        Some("cloudwatchlogs") => "CloudWatch Logs",
        Some("applicationautoscaling") => "Application Auto Scaling",
        Some("dynamodb") => "DynamoDB",
        Some(other) => return unserved_named(&other.to_ascii_uppercase(), operation),
        None => "this AWS service",
    };
    unserved_named(service, operation)
}

fn unserved_named(service: &str, operation: &str) -> String {
    format!(
        "{} does not serve {operation} ({service}); with an emulator or a proxy, check that it \
         serves {service} (and AWS_ENDPOINT_URL), or take what needs it out of the stack file",
        endpoint_name()
    )
}

/// `ecs` of `aws_sdk_ecs::operation::create_service::CreateServiceError`.
fn sdk_crate<E>() -> Option<&'static str> {
    std::any::type_name::<E>()
        .split("::")
        .next()
        .and_then(|c| c.strip_prefix("aws_sdk_"))
}

/// The fix for the failures a user can act on: credentials, permissions, region.
pub(super) fn hint_for<E>(
    err: &SdkError<E, HttpResponse>,
    code: Option<&str>,
    operation: &str,
) -> Option<String>
where
    E: std::error::Error + 'static,
{
    let text = chain(err);
    // However the chain's last link failed (no profile, or an instance metadata endpoint that
    // answered 403 or not at all), no credentials were found: that is what the user must fix.
    if [
        "no credentials",
        "No credentials",
        "credentials provider",
        "loading credentials",
    ]
    .iter()
    .any(|needle| text.contains(needle))
    {
        let last = last_cause(err);
        return Some(format!(
            "no AWS credentials found (the last place tried said: {last}); set AWS_PROFILE or \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`"
        ));
    }
    match code {
        Some("AccessDenied" | "AccessDeniedException" | "UnauthorizedOperation" | "UnrecognizedClientException" | "AuthFailure") => {
            Some(format!(
                "the AWS identity in use may not call {}; `stackctl policy` prints the IAM policy \
                 this stack needs (docs/permissions.md), or use another profile",
                iam_action::<E>(operation)
            ))
        }
        Some("InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" | "ExpiredTokenException") => Some(
            "the AWS credentials are invalid or expired; refresh them (`aws sso login`, or new access keys)".into(),
        ),
        Some(c) if UNSERVED.contains(&c) => Some(unserved::<E>(operation)),
        None if err
            .raw_response()
            .is_some_and(|r| matches!(r.status().as_u16(), 404 | 501)) =>
        {
            Some(unserved::<E>(operation))
        }
        _ if matches!(err, SdkError::TimeoutError(_)) => Some(format!(
            "no answer from {} in time ({text}); AWS or the network is slow or unreachable. \
             Running the command again is safe",
            endpoint_name()
        )),
        _ if matches!(err, SdkError::DispatchFailure(_)) && (text.contains("dns") || text.contains("resolve")) => Some(
            "could not reach the AWS endpoint; check stack.region and your network (and AWS_ENDPOINT_URL if you use an emulator)".into(),
        ),
        _ if matches!(err, SdkError::DispatchFailure(_)) => Some(
            "could not reach the AWS endpoint; check your network (and AWS_ENDPOINT_URL if you use an emulator)".into(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::error::ErrorMetadata;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_mocks::mock;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::error::Error;
    use crate::resources::testing;

    fn denied(code: &str) -> Error {
        let err =
            DescribeVpcsError::generic(ErrorMetadata::builder().code(code).message("no").build());
        let response = Response::new(403.try_into().unwrap(), SdkBody::empty());
        Error::aws(
            "VPCs",
            "DescribeVpcs",
            SdkError::service_error(err, response),
        )
    }

    fn answer(status: u16, body: &'static str) -> impl Fn() -> Response + Send + Sync {
        move || Response::new(StatusCode::try_from(status).unwrap(), SdkBody::from(body))
    }

    /// CreateVpc (EC2's XML protocol), sent once, answered with `status` and `body`.
    async fn create_vpc(status: u16, body: &'static str) -> Error {
        let rule = mock!(aws_sdk_ec2::Client::create_vpc).then_http_response(answer(status, body));
        let ctx = testing::ec2(&[&rule]);
        let call = ctx.ec2.create_vpc().cidr_block("10.0.0.0/16");
        let err = crate::aws::once!(aws_sdk_ec2, call).await.unwrap_err();
        Error::aws("vpc", "CreateVpc", err)
    }

    #[test]
    fn a_call_without_an_answer_in_time_names_the_operation_and_the_endpoint() {
        let err: SdkError<DescribeVpcsError, Response> =
            SdkError::timeout_error("operation timeout occurred after 90s");
        let err = Error::aws("VPCs", "DescribeVpcs", err);
        let text = err.to_string();
        assert!(
            text.starts_with("DescribeVpcs for VPCs failed: no answer from "),
            "{text}"
        );
        assert!(text.contains("after 90s"), "{text}");
        assert_eq!(err.outcome(), Outcome::Unknown);
    }

    #[test]
    fn access_denied_names_the_resource_the_operation_what_aws_said_and_the_fix() {
        let text = denied("UnauthorizedOperation").to_string();
        assert_eq!(
            text,
            "DescribeVpcs for VPCs failed (UnauthorizedOperation, HTTP 403: no): the AWS identity in use may not call \
             ec2:DescribeVpcs; `stackctl policy` prints the IAM policy this stack needs (docs/permissions.md), or use another profile"
        );
    }

    #[test]
    fn expired_credentials_say_how_to_refresh() {
        assert!(denied("ExpiredToken").to_string().contains("refresh them"));
    }

    #[test]
    fn other_codes_keep_the_code_and_message_without_a_guess() {
        assert_eq!(
            denied("InvalidVpcID.Malformed").to_string(),
            "DescribeVpcs for VPCs failed (InvalidVpcID.Malformed, HTTP 403: no)"
        );
    }

    #[tokio::test]
    async fn a_plain_text_server_error_on_a_create_is_an_unknown_outcome_that_says_what_came_back()
    {
        let err = create_vpc(503, "Service Unavailable").await;
        assert_eq!(err.outcome(), Outcome::Unknown, "look, then retry");
        assert_eq!(
            err.to_string(),
            "CreateVpc for vpc failed (HTTP 503, not an AWS answer: \"Service Unavailable\")"
        );
        // The same from a JSON service.
        let rule = mock!(aws_sdk_ecs::Client::create_cluster)
            .then_http_response(answer(502, "<html><body>Bad Gateway</body></html>"));
        let ctx = testing::ecs(&[&rule]);
        let err = crate::aws::once!(aws_sdk_ecs, ctx.ecs.create_cluster())
            .await
            .unwrap_err();
        let err = Error::aws("cluster", "CreateCluster", err);
        assert_eq!(err.outcome(), Outcome::Unknown);
        assert!(
            err.to_string()
                .contains("HTTP 502, not an AWS answer: \"<html><body>Bad Gateway"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_denial_in_xml_from_a_json_service_is_still_a_denial_named_by_its_iam_action() {
        let rule = mock!(aws_sdk_ecs::Client::create_service).then_http_response(answer(
            403,
            "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: u is not \
             authorized to perform: ecs:CreateService</Message></Error></Errors></ErrorResponse>",
        ));
        let ctx = testing::ecs(&[&rule]);
        let err = crate::aws::once!(aws_sdk_ecs, ctx.ecs.create_service())
            .await
            .unwrap_err();
        let err = Error::aws("service", "CreateService", err);
        assert_eq!(err.outcome(), Outcome::Refused);
        assert!(err.is_unreadable(), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(
                "CreateService for service failed (AccessDenied, HTTP 403: User: u is not \
                 authorized to perform: ecs:CreateService): the AWS identity in use may not call \
                 ecs:CreateService; `stackctl policy` prints"
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn an_endpoint_that_does_not_serve_the_api_is_refused_with_the_start_of_its_body() {
        let page = "<html>\n  <body>\n    <h1>Not Found</h1> The requested URL was not found on this server. \
                    Additional text that goes on and on so that the body is longer than two hundred bytes, \
                    which a message must not print whole.</body></html>";
        let err = create_vpc(404, page).await;
        assert_eq!(err.outcome(), Outcome::Refused);
        let text = err.to_string();
        assert!(
            text.contains("HTTP 404, not an AWS answer: \"<html> <body> <h1>Not Found</h1>"),
            "{text}"
        );
        assert!(text.contains("…\"): ") && !text.contains("whole"), "{text}");
        assert!(
            text.contains("does not serve CreateVpc (EC2); with an emulator or a proxy, check that it serves EC2"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn too_many_requests_is_throttling_and_an_aws_error_keeps_its_code_and_message() {
        assert_eq!(
            create_vpc(429, "Too Many Requests").await.outcome(),
            Outcome::Throttled
        );
        let xml = "<Response><Errors><Error><Code>VpcLimitExceeded</Code>\
                   <Message>The maximum number of VPCs has been reached.</Message></Error></Errors></Response>";
        let err = create_vpc(400, xml).await;
        assert_eq!(err.outcome(), Outcome::Refused);
        assert_eq!(
            err.to_string(),
            "CreateVpc for vpc failed (VpcLimitExceeded, HTTP 400: The maximum number of VPCs has been reached.)"
        );
        let xml = "<Response><Errors><Error><Code>InternalError</Code></Error></Errors></Response>";
        assert_eq!(create_vpc(500, xml).await.outcome(), Outcome::Unknown);
    }

    #[tokio::test]
    async fn only_a_denied_or_unserved_read_says_nothing_about_what_exists() {
        assert!(denied("AccessDenied").is_unreadable());
        assert!(denied("UnauthorizedOperation").is_unreadable());
        assert!(
            !denied("InvalidVpcID.NotFound").is_unreadable(),
            "a not-found is an answer"
        );
        assert!(
            create_vpc(404, "<html>Not Found</html>")
                .await
                .is_unreadable()
        );
        assert!(!create_vpc(503, "Service Unavailable").await.is_unreadable());
        let xml = "<Response><Errors><Error><Code>InvalidAction</Code></Error></Errors></Response>";
        assert!(create_vpc(400, xml).await.is_unreadable());
    }
}
