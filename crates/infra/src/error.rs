//! The library's error type: each AWS failure names the resource and the operation, keeps its
//! source, and carries a hint for the errors users actually meet.

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::id::ResourceId;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What an error is about: one of the stack's resources, by its logical id, or something
/// else by name (a kind's listing such as `VPCs`, the credentials, the lock table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    Resource(ResourceId),
    Named(String),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Resource(id) => write!(f, "{id}"),
            Self::Named(name) => f.write_str(name),
        }
    }
}

impl From<&ResourceId> for Subject {
    fn from(id: &ResourceId) -> Self {
        Self::Resource(id.clone())
    }
}

impl From<ResourceId> for Subject {
    fn from(id: ResourceId) -> Self {
        Self::Resource(id)
    }
}

impl From<&str> for Subject {
    fn from(name: &str) -> Self {
        Self::Named(name.to_owned())
    }
}

impl From<String> for Subject {
    fn from(name: String) -> Self {
        Self::Named(name)
    }
}

impl From<&String> for Subject {
    fn from(name: &String) -> Self {
        Self::Named(name.clone())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Spec(#[from] crate::stack_file::LoadError),

    #[error("{operation} for {subject} failed{}{}", code_suffix(code.as_deref()), hint_suffix(hint.as_deref()))]
    Aws {
        subject: Subject,
        operation: &'static str,
        code: Option<String>,
        hint: Option<String>,
        outcome: Outcome,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// AWS answered without what the call promises (an id, an ARN).
    #[error("{subject}: {operation} returned no {missing}")]
    Incomplete {
        subject: Subject,
        operation: &'static str,
        missing: &'static str,
    },

    /// A request could not be made of what the stack gives (a tag, a configuration).
    #[error("{subject}: {what}")]
    Request {
        subject: Subject,
        what: &'static str,
        #[source]
        source: aws_smithy_types::error::operation::BuildError,
    },

    /// A reference to another resource whose output is not known yet (the engine makes
    /// dependencies first: this is a broken order).
    #[error("{resource}: {message}")]
    Unresolved {
        resource: ResourceId,
        message: String,
    },

    #[error("{resource}: {message}")]
    Conflict { resource: String, message: String },

    /// What was created or watched is gone (deleted by hand, or by another run).
    #[error("{subject}: {message}")]
    Vanished { subject: Subject, message: String },

    /// AWS reports that work it took on failed (a Cloud Map operation, a NAT gateway).
    #[error("{subject}: {message}")]
    Failed { subject: Subject, message: String },

    #[error("{resource}: {message}")]
    Deployment {
        resource: ResourceId,
        message: String,
    },

    /// A program stackctl runs (the image builder, git) could not be run, or failed.
    #[error("{resource}: {message}")]
    Program {
        resource: ResourceId,
        message: String,
        #[source]
        source: Option<std::io::Error>,
    },

    /// The registry images are pushed to cannot be reached.
    #[error("image: cannot reach the registry {registry}")]
    Registry {
        registry: String,
        #[source]
        source: reqwest::Error,
    },

    /// The deploy history could not be written.
    #[error("the deploy history in {group}: {message}")]
    History {
        group: String,
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// The region offers fewer availability zones than the stack file asks for.
    #[error(
        "network.availability_zones: {stack} asks for {wanted} zones but region {region} offers {} ({})",
        offered.len(),
        offered.join(", ")
    )]
    Zones {
        stack: String,
        wanted: usize,
        region: String,
        offered: Vec<String>,
    },

    #[error("{resource}: depends on unknown resource {dependency}")]
    UnknownDependency {
        resource: ResourceId,
        dependency: ResourceId,
    },

    /// A resource found after a lost answer is not what the stack file asks for.
    #[error(
        "{resource}: {aws_id} was found after a lost answer, but it is not what the stack file asks for; the next run replaces it"
    )]
    NotAsAsked {
        resource: ResourceId,
        aws_id: String,
    },

    /// stackctl broke one of its own rules: a bug to report.
    #[error("{resource}: {message}")]
    Unexpected {
        resource: ResourceId,
        message: String,
    },

    #[error("stack {stack} is locked by {holder}: another run is changing it")]
    Locked { stack: String, holder: String },

    #[error("dependency cycle between resources: {0}")]
    Cycle(String),

    #[error("timed out after {seconds}s waiting for {subject} to {what}")]
    Timeout {
        subject: Subject,
        what: &'static str,
        seconds: u64,
    },

    #[error("stopped after {0} changes, as asked (--stop-after)")]
    Stopped(usize),

    #[error("interrupted: the changes under way were finished and nothing new was started")]
    Interrupted,

    #[error("{} of the changes failed:\n{}", .0.len(), list(.0))]
    Many(Vec<Error>),
}

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

fn outcome_of<E, R>(err: &SdkError<E, R>, code: Option<&str>) -> Outcome {
    match (err, code) {
        (SdkError::ServiceError(_), Some(c)) if THROTTLING.contains(&c) => Outcome::Throttled,
        (SdkError::ServiceError(_), Some(c)) if SERVER_ERRORS.contains(&c) => Outcome::Unknown,
        (
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_),
            _,
        ) => Outcome::Unknown,
        _ => Outcome::Refused,
    }
}

fn list(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| format!("  - {}", chain(e)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn code_suffix(code: Option<&str>) -> String {
    code.map(|c| format!(" ({c})")).unwrap_or_default()
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!(": {h}")).unwrap_or_default()
}

impl Error {
    /// Wraps an SDK error with the resource and operation it concerns.
    pub fn aws<E, R>(
        subject: impl Into<Subject>,
        operation: &'static str,
        err: SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_owned);
        let hint = hint_for(&err, code.as_deref(), operation);
        Self::Aws {
            subject: subject.into(),
            operation,
            outcome: outcome_of(&err, code.as_deref()),
            code,
            hint,
            source: Box::new(err),
        }
    }

    /// A waiter that failed or timed out.
    pub fn waiter(
        subject: impl Into<Subject>,
        operation: &'static str,
        err: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Aws {
            subject: subject.into(),
            operation,
            code: None,
            hint: None,
            outcome: Outcome::Refused,
            source: Box::new(err),
        }
    }

    /// AWS answered `operation` without the `missing` part it promises.
    pub fn incomplete(
        subject: impl Into<Subject>,
        operation: &'static str,
        missing: &'static str,
    ) -> Self {
        Self::Incomplete {
            subject: subject.into(),
            operation,
            missing,
        }
    }

    /// A request that could not be built of what the stack gives.
    pub fn request(
        subject: impl Into<Subject>,
        what: &'static str,
    ) -> impl FnOnce(aws_smithy_types::error::operation::BuildError) -> Self {
        let subject = subject.into();
        move |source| Self::Request {
            subject,
            what,
            source,
        }
    }

    /// Whether AWS may have done the work of the failed call.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Aws { outcome, .. } => *outcome,
            _ => Outcome::Refused,
        }
    }

    /// The AWS error code, if this is an AWS error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// The fix for the failures a user can act on: credentials, permissions, region.
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

fn hint_for<E, R>(err: &SdkError<E, R>, code: Option<&str>, operation: &str) -> Option<String>
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
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
                "the AWS identity in use may not call {operation}; grant it that permission (see docs/stack-toml.md, \"Permissions\"), or use another profile"
            ))
        }
        Some("InvalidClientTokenId" | "SignatureDoesNotMatch" | "ExpiredToken" | "ExpiredTokenException") => Some(
            "the AWS credentials are invalid or expired; refresh them (`aws sso login`, or new access keys)".into(),
        ),
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
    use aws_smithy_runtime_api::http::Response;
    use aws_smithy_types::body::SdkBody;

    use super::*;

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
    fn access_denied_names_the_resource_the_operation_and_the_fix() {
        let text = denied("UnauthorizedOperation").to_string();
        assert_eq!(
            text,
            "DescribeVpcs for VPCs failed (UnauthorizedOperation): the AWS identity in use may not call \
             DescribeVpcs; grant it that permission (see docs/stack-toml.md, \"Permissions\"), or use another profile"
        );
    }

    #[test]
    fn expired_credentials_say_how_to_refresh() {
        assert!(denied("ExpiredToken").to_string().contains("refresh them"));
    }

    #[test]
    fn other_codes_keep_the_code_without_a_guess() {
        assert_eq!(
            denied("InvalidVpcID.Malformed").to_string(),
            "DescribeVpcs for VPCs failed (InvalidVpcID.Malformed)"
        );
    }
}
