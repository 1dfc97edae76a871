//! `POST /jobs/even-sum` takes a file (streamed to the store, never held whole), `GET
//! /jobs/{id}` says where the job is, `GET /jobs/{id}/result` gives its answer.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::io::Write;

use crate::error::{error_chain, json_error};
use crate::jobs::bucket::upload::UploadError;
use crate::jobs::bucket::{BucketError, input_key};
use crate::jobs::dispatch::Dispatcher;
use crate::jobs::on_aws::{AwsJobs, JobError};
use crate::jobs::pieces::{CutOff, Pieces};
use crate::jobs::store::StoreError;
use crate::jobs::{ClientIdError, Job, Status, client_id, is_job_id, new_job_id};
use crate::state::{AppState, Jobs};

/// Bytes gathered before each write to disk.
const WRITE_BYTES: usize = 1 << 20;
/// The largest JSON body (`{"s3_uri": ...}`).
const MAX_JSON_BYTES: usize = 64 * 1024;

/// Why a jobs request failed.
#[derive(Debug, thiserror::Error)]
pub enum JobsError {
    #[error(transparent)]
    ClientId(#[from] ClientIdError),
    #[error(
        "this service takes no even-sum jobs: they need ENV=devel (a local folder) or a bucket \
         (S3_BUCKET_JOBS, set by stackctl for a service that writes the stack's bucket `jobs`)"
    )]
    NotHere,
    #[error("{0}")]
    BadJson(String),
    #[error(
        "{uri:?} is not an input in the stack's bucket: an s3_uri must name an object of \
         s3://{bucket}/ outside jobs/"
    )]
    OutsideBucket { uri: String, bucket: String },
    #[error(
        "{0:?}: ENV=devel keeps jobs in a local folder and has no bucket; post the file itself \
         as the body"
    )]
    NoBucket(String),
    #[error("there is no object at {0}")]
    NoInput(String),
    #[error(transparent)]
    CutOff(#[from] CutOff),
    #[error("no job {0}")]
    Unknown(String),
    #[error("job {id} is {status}: its result is there once it is done")]
    NotDone { id: String, status: &'static str },
    #[error("job {id} failed: {error}")]
    Failed { id: String, error: String },
    #[error("the job store is out of space; try again once jobs have finished")]
    Full(#[source] StoreError),
    #[error("the job store failed")]
    Store(#[source] StoreError),
    #[error("{}", if .0.is_unreachable() {
        "the job store (the stack's bucket and queue) could not be reached; try again"
    } else {
        "the job store (the stack's bucket and queue) answered with an error"
    })]
    Aws(#[source] JobError),
}

impl From<BucketError> for JobsError {
    fn from(err: BucketError) -> Self {
        Self::Aws(err.into())
    }
}

impl From<JobError> for JobsError {
    fn from(err: JobError) -> Self {
        Self::Aws(err)
    }
}

impl From<UploadError> for JobsError {
    fn from(err: UploadError) -> Self {
        match err {
            UploadError::CutOff(cut) => Self::CutOff(cut),
            UploadError::Bucket(err) => err.into(),
        }
    }
}

impl From<StoreError> for JobsError {
    fn from(err: StoreError) -> Self {
        if err.is_disk_full() {
            Self::Full(err)
        } else {
            Self::Store(err)
        }
    }
}

impl IntoResponse for JobsError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::ClientId(_) | Self::BadJson(_) | Self::CutOff(_) | Self::NoInput(_) => {
                StatusCode::BAD_REQUEST
            }
            Self::NotHere => StatusCode::NOT_IMPLEMENTED,
            Self::OutsideBucket { .. } | Self::NoBucket(_) => StatusCode::FORBIDDEN,
            Self::Unknown(_) => StatusCode::NOT_FOUND,
            Self::NotDone { .. } | Self::Failed { .. } => StatusCode::CONFLICT,
            Self::Full(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            // As the message routes do for SQS: 503 when AWS could not be reached, 502 when it
            // answered with an error (the cause is in the log).
            Self::Aws(err) if err.is_unreachable() => StatusCode::SERVICE_UNAVAILABLE,
            Self::Aws(_) => StatusCode::BAD_GATEWAY,
        };
        if let Self::Full(cause) | Self::Store(cause) = &self {
            tracing::error!(error = %error_chain(cause), "job store call failed");
        }
        if let Self::Aws(cause) = &self {
            tracing::error!(error = %error_chain(cause), "job store call failed");
        }
        json_error(status, self.to_string())
    }
}

fn jobs(state: &AppState) -> Result<&Jobs, JobsError> {
    state.jobs.as_ref().ok_or(JobsError::NotHere)
}

fn accepted(job: &Job) -> Response {
    tracing::info!(job_id = %job.job_id, client = %job.client, bytes = job.bytes, "job queued");
    let location = format!("/jobs/{}", job.job_id);
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(serde_json::json!({ "job_id": job.job_id, "status": job.status, "bytes": job.bytes })),
    )
        .into_response()
}

/// `POST /jobs/even-sum`: the body is the input (any content type but JSON), or JSON
/// `{"s3_uri": "s3://bucket/key"}` naming an input in the stack's bucket.
pub async fn submit_even_sum(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, JobsError> {
    let jobs = jobs(&state)?.clone();
    let client = client_id(
        headers
            .get("x-client-id")
            .map(|v| v.to_str().unwrap_or("\u{fffd}")),
    )?;
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| {
            ct.trim()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    let id = new_job_id();
    let job = match (jobs, json) {
        (Jobs::Local(_), true) => return Err(JobsError::NoBucket(s3_uri(body).await?)),
        (Jobs::Local(dispatcher), false) => {
            let bytes = match receive(&dispatcher, &id, body).await {
                Ok(bytes) => bytes,
                Err(err) => {
                    dispatcher.store().remove_input(&id);
                    return Err(err);
                }
            };
            let job = Job::queued(id, client, bytes);
            let queued = job.clone();
            blocking(move || dispatcher.submit(queued)).await?;
            job
        }
        (Jobs::Aws(aws), true) => {
            let uri = s3_uri(body).await?;
            let key = key_in(&uri, aws.store().bucket())?;
            let Some(bytes) = aws.store().size(&key).await? else {
                return Err(JobsError::NoInput(uri));
            };
            let job = Job {
                input: Some(key),
                ..Job::queued(id, client, bytes)
            };
            aws.queue(job).await?
        }
        (Jobs::Aws(aws), false) => upload(&aws, id, client, body).await?,
    };
    Ok(accepted(&job))
}

/// Streams `body` into the bucket as the input of job `id` of `client`, and queues the job.
async fn upload(aws: &AwsJobs, id: String, client: String, body: Body) -> Result<Job, JobsError> {
    let key = input_key(&id);
    let bytes = aws.store().upload(&key, body.into_data_stream()).await?;
    let job = Job {
        input: Some(key),
        ..Job::queued(id, client, bytes)
    };
    match aws.queue(job.clone()).await {
        Ok(job) => Ok(job),
        Err(err) => {
            // Nobody will sum it: the upload is not left to the bucket's expiry.
            aws.store().clean_up(&job, None).await;
            Err(err.into())
        }
    }
}

/// The key of `uri` when it names an input in `bucket`: anything but the jobs' own records.
fn key_in(uri: &str, bucket: &str) -> Result<String, JobsError> {
    let Some((in_bucket, key)) = uri.strip_prefix("s3://").and_then(|r| r.split_once('/')) else {
        return Err(JobsError::BadJson(format!(
            "s3_uri {uri:?} is not of the form s3://bucket/key"
        )));
    };
    if in_bucket != bucket || key.is_empty() || key.starts_with("jobs/") {
        return Err(JobsError::OutsideBucket {
            uri: uri.to_owned(),
            bucket: bucket.to_owned(),
        });
    }
    Ok(key.to_owned())
}

/// The `s3_uri` of a JSON body.
async fn s3_uri(body: Body) -> Result<String, JobsError> {
    let bytes = axum::body::to_bytes(body, MAX_JSON_BYTES)
        .await
        .map_err(|e| JobsError::BadJson(format!("the JSON body could not be read: {e}")))?;
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| JobsError::BadJson(format!("the request body is not valid JSON: {e}")))?;
    match value.get("s3_uri").and_then(serde_json::Value::as_str) {
        Some(uri) => Ok(uri.to_owned()),
        None => Err(JobsError::BadJson(
            "a JSON body must be {\"s3_uri\": \"s3://bucket/key\"}; to send the file itself, \
             use another Content-Type (text/plain or application/octet-stream)"
                .into(),
        )),
    }
}

/// Streams `body` into the input of job `id`; answers its length.
async fn receive(dispatcher: &Dispatcher, id: &str, body: Body) -> Result<u64, JobsError> {
    let path = dispatcher.store().input_path(id);
    let mut file = {
        let path = path.clone();
        blocking(move || {
            std::fs::File::create(&path).map_err(|e| StoreError::io("create", &path, e))
        })
        .await?
    };
    let mut pieces = Pieces::new(body.into_data_stream(), WRITE_BYTES);
    while let Some(piece) = pieces.next().await? {
        let path = path.clone();
        file = blocking(move || {
            file.write_all(&piece)
                .map_err(|e| StoreError::io("write", &path, e))?;
            Ok(file)
        })
        .await?;
    }
    Ok(pieces.bytes())
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, JobsError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(JobsError::from),
        Err(err) => Err(JobsError::Store(StoreError::io(
            "use",
            std::path::Path::new("the job store"),
            std::io::Error::other(err),
        ))),
    }
}

async fn find(state: &AppState, id: String) -> Result<Job, JobsError> {
    let found = match jobs(state)? {
        Jobs::Local(dispatcher) => {
            let store = dispatcher.store().clone();
            let lookup = id.clone();
            blocking(move || store.get(&lookup)).await?
        }
        Jobs::Aws(_) if !is_job_id(&id) => None,
        Jobs::Aws(aws) => aws.status(&id).await?,
    };
    found.ok_or(JobsError::Unknown(id))
}

/// `GET /jobs/{id}`.
pub async fn job_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, JobsError> {
    Ok(Json(find(&state, id).await?.view()))
}

/// `GET /jobs/{id}/result`: 409 until the job is done.
pub async fn job_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, JobsError> {
    let job = find(&state, id).await?;
    match (job.status, job.result) {
        (Status::Done, Some(answer)) => Ok(Json(answer).into_response()),
        (Status::Failed, _) => Err(JobsError::Failed {
            id: job.job_id,
            error: job.error.unwrap_or_default(),
        }),
        (status, _) => Err(JobsError::NotDone {
            id: job.job_id,
            status: match status {
                Status::Queued => "queued",
                _ => "running",
            },
        }),
    }
}
