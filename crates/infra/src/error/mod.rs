//! The library's error type: each AWS failure names the resource and the operation, keeps its
//! source, and carries a hint for the errors users actually meet.

mod aws;

pub use aws::{Outcome, chain};

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
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

    #[error("{operation} for {subject} failed{}{}", answer_suffix(code.as_deref(), answer.as_deref()), hint_suffix(hint.as_deref()))]
    Aws {
        subject: Subject,
        operation: &'static str,
        code: Option<String>,
        /// What came back: the HTTP status and AWS's message, or the start of the body.
        answer: Option<Box<str>>,
        hint: Option<Box<str>>,
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

    /// The run was interrupted: nothing new was started. `cut_short`: the resources whose
    /// wait (until it works, until it is gone) was stopped; AWS goes on with what it was asked.
    #[error("interrupted: {}", interrupted(cut_short))]
    Interrupted { cut_short: Vec<ResourceId> },

    #[error("{} of the changes failed:\n{}", .0.len(), list(.0))]
    Many(Vec<Error>),

    /// The stack file declares a kind (`what`: "scalable targets") by `part`, and its
    /// resources could not be read (a denied read, an endpoint that does not serve the API):
    /// said as the read's own error, so that the command line can name the line of the file
    /// that needs the kind.
    #[error("{source}")]
    Needed {
        part: crate::stack_file::declaring::Part,
        what: String,
        #[source]
        source: Box<Error>,
    },
}

fn interrupted(cut_short: &[ResourceId]) -> String {
    if cut_short.is_empty() {
        return "the changes under way were finished and nothing new was started".into();
    }
    let ids: Vec<&str> = cut_short.iter().map(ResourceId::as_str).collect();
    format!(
        "stopped waiting for {} (AWS goes on with what it was asked), finished the other \
         changes under way and started nothing new",
        ids.join(", ")
    )
}

impl Error {
    /// An interrupt before anything was under way.
    pub fn interrupted() -> Self {
        Self::Interrupted {
            cut_short: Vec::new(),
        }
    }
}

fn list(errors: &[Error]) -> String {
    errors
        .iter()
        .map(|e| format!("  - {}", chain(e)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// ` (Code, HTTP 400: message)`, ` (HTTP 503, not an AWS answer: "…")`, or nothing.
fn answer_suffix(code: Option<&str>, answer: Option<&str>) -> String {
    match (code, answer) {
        (Some(code), Some(answer)) => format!(" ({code}, {answer})"),
        (Some(one), None) | (None, Some(one)) => format!(" ({one})"),
        (None, None) => String::new(),
    }
}

fn hint_suffix(hint: Option<&str>) -> String {
    hint.map(|h| format!(": {h}")).unwrap_or_default()
}

impl Error {
    /// Wraps an SDK error with the resource and operation it concerns.
    pub fn aws<E>(
        subject: impl Into<Subject>,
        operation: &'static str,
        err: SdkError<E, HttpResponse>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let code = err
            .code()
            .map(str::to_owned)
            .or_else(|| aws::tag_in_body(&err, "Code"));
        let hint = aws::hint_for(&err, code.as_deref(), operation).map(String::into_boxed_str);
        Self::Aws {
            subject: subject.into(),
            operation,
            outcome: aws::outcome_of(&err, code.as_deref()),
            answer: aws::answer_of(&err, code.as_deref()).map(String::into_boxed_str),
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
            answer: None,
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
            Self::Needed { source, .. } => source.outcome(),
            _ => Outcome::Refused,
        }
    }

    /// A read that says nothing about what exists: the identity may not make it, or the
    /// endpoint does not serve the API (a 404 or 501 that is not AWS's answer).
    pub fn is_unreadable(&self) -> bool {
        match self {
            Self::Aws { code, answer, .. } => match code.as_deref() {
                Some(code) => aws::DENIED.contains(&code) || aws::UNSERVED.contains(&code),
                None => answer
                    .as_deref()
                    .is_some_and(|a| a.starts_with("HTTP 404,") || a.starts_with("HTTP 501,")),
            },
            Self::Needed { source, .. } => source.is_unreadable(),
            _ => false,
        }
    }

    /// The AWS error code, if this is an AWS error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Aws { code, .. } => code.as_deref(),
            Self::Needed { source, .. } => source.code(),
            _ => None,
        }
    }
}
