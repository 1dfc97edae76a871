//! `POST /jobs/even-sum` takes a file (streamed to the store, never held whole), `GET
//! /jobs/{id}` says where the job is, `GET /jobs/{id}/result` gives its answer.

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::io::Write;

use crate::error::{error_chain, json_error};
use crate::jobs::dispatch::Dispatcher;
use crate::jobs::store::StoreError;
use crate::jobs::{ClientIdError, Job, Status, client_id, new_job_id};
use crate::state::AppState;

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
        "even-sum jobs run only with ENV=devel for now (a local folder holds inputs and records); \
         on AWS they need the stack's bucket and table, which this version does not use yet"
    )]
    NotHere,
    #[error("{0}")]
    BadJson(String),
    #[error(
        "{0:?} is not in the stack's bucket: an s3_uri must name an object in it (ENV=devel has \
         no bucket: post the file itself as the body)"
    )]
    OutsideBucket(String),
    #[error("the upload was cut off after {bytes} bytes: {reason}")]
    CutOff { bytes: u64, reason: String },
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
            Self::ClientId(_) | Self::BadJson(_) | Self::CutOff { .. } => StatusCode::BAD_REQUEST,
            Self::NotHere => StatusCode::NOT_IMPLEMENTED,
            Self::OutsideBucket(_) => StatusCode::FORBIDDEN,
            Self::Unknown(_) => StatusCode::NOT_FOUND,
            Self::NotDone { .. } | Self::Failed { .. } => StatusCode::CONFLICT,
            Self::Full(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if let Self::Full(cause) | Self::Store(cause) = &self {
            tracing::error!(error = %error_chain(cause), "job store call failed");
        }
        json_error(status, self.to_string())
    }
}

fn dispatcher(state: &AppState) -> Result<&Dispatcher, JobsError> {
    state.jobs.as_ref().ok_or(JobsError::NotHere)
}

/// `POST /jobs/even-sum`: the body is the input (any content type but JSON), or JSON
/// `{"s3_uri": "s3://bucket/key"}` naming an input in the stack's bucket.
pub async fn submit_even_sum(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, JobsError> {
    let dispatcher = dispatcher(&state)?.clone();
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
    if json {
        let uri = s3_uri(body).await?;
        return Err(JobsError::OutsideBucket(uri));
    }
    let id = new_job_id();
    let bytes = match receive(&dispatcher, &id, body).await {
        Ok(bytes) => bytes,
        Err(err) => {
            dispatcher.store().remove_input(&id);
            return Err(err);
        }
    };
    let job = Job::queued(id.clone(), client, bytes);
    blocking(move || dispatcher.submit(job)).await?;
    tracing::info!(job_id = %id, bytes, "job queued");
    let location = format!("/jobs/{id}");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(serde_json::json!({ "job_id": id, "status": Status::Queued, "bytes": bytes })),
    )
        .into_response())
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
    let mut stream = body.into_data_stream();
    let mut pending: Vec<u8> = Vec::with_capacity(WRITE_BYTES);
    let mut bytes = 0u64;
    loop {
        let chunk = match stream.next().await {
            Some(Ok(chunk)) => Some(chunk),
            Some(Err(err)) => {
                return Err(JobsError::CutOff {
                    bytes,
                    reason: error_chain(&err),
                });
            }
            None => None,
        };
        let last = chunk.is_none();
        if let Some(chunk) = chunk {
            bytes += chunk.len() as u64;
            pending.extend_from_slice(&chunk);
        }
        if pending.len() >= WRITE_BYTES || (last && !pending.is_empty()) {
            let path = path.clone();
            (file, pending) = blocking(move || {
                file.write_all(&pending)
                    .map_err(|e| StoreError::io("write", &path, e))?;
                pending.clear();
                Ok((file, pending))
            })
            .await?;
        }
        if last {
            return Ok(bytes);
        }
    }
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
    let store = dispatcher(state)?.store().clone();
    let lookup = id.clone();
    blocking(move || store.get(&lookup))
        .await?
        .ok_or(JobsError::Unknown(id))
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
