//! Wiring: the router with request logging, and a server that drains in-flight requests on
//! SIGTERM (ECS sends it on every deploy) or Ctrl-C before it exits.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::config::{Config, JobsConfig, QueueConfig};
use crate::error::AppError;
use crate::jobs::bucket::BucketStore;
use crate::jobs::dispatch::Dispatcher;
use crate::jobs::on_aws::AwsJobs;
use crate::jobs::store::LocalStore;
use crate::queue::{MemoryQueue, Queue, SqsQueue};
use crate::routes;
pub use crate::state::{AppState, Jobs};

/// Bodies above this are refused before they are read in full. Larger than the SQS limit,
/// since JSON escaping can make a body longer than the message it carries.
const BODY_LIMIT_BYTES: usize = 1024 * 1024;

/// The service's routes; every response, errors included, is JSON.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthcheck", get(routes::healthcheck))
        .route(
            "/message",
            get(routes::receive_message).post(routes::send_message),
        )
        .route(
            "/jobs/even-sum",
            // The input is streamed to the store: no limit but the disk's.
            post(routes::submit_even_sum).layer(DefaultBodyLimit::disable()),
        )
        .route("/jobs/{id}", get(routes::job_status))
        .route("/jobs/{id}/result", get(routes::job_result))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn no_route(method: Method, uri: Uri) -> AppError {
    AppError::NoRoute {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed(method: Method, uri: Uri, State(_): State<AppState>) -> AppError {
    AppError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

/// One log line per request: method, path, status and latency.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        latency_ms,
        "request"
    );
    crate::metrics::record(&[("latency_ms", latency_ms)]);
    response.into_response()
}

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on port {port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("could not serve HTTP")]
    Serve(#[source] std::io::Error),
    #[error("could not open the job store")]
    Jobs(#[source] crate::jobs::store::StoreError),
    #[error("jobs in a bucket send their parts to SQS_QUEUE_URL, which is not set")]
    NoPartQueue,
}

/// Jobs in bucket `bucket`, parts on the queue at `url`, through the standard AWS chain.
pub async fn aws_jobs(bucket: &str, url: &str) -> AwsJobs {
    let aws = aws_config::load_from_env().await;
    // The emulator (and other S3 stand-ins) serve buckets by path, not by host name.
    let path_style = aws.endpoint_url().is_some();
    let s3 = aws_sdk_s3::config::Builder::from(&aws)
        .force_path_style(path_style)
        .build();
    let store = BucketStore::new(aws_sdk_s3::Client::from_conf(s3), bucket);
    AwsJobs::new(store, aws_sdk_sqs::Client::new(&aws), url)
}

/// A bound, not yet running, server.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Builds the queue client from `config` (the standard AWS chain for SQS) and binds the port.
    pub async fn build(config: &Config) -> Result<Self, StartupError> {
        let queue = match &config.queue {
            QueueConfig::Sqs { url } => {
                let aws = aws_config::load_from_env().await;
                let client = aws_sdk_sqs::Client::new(&aws);
                Queue::Sqs(SqsQueue::new(client, url.clone(), config.receive_wait))
            }
            QueueConfig::InMemory => Queue::Memory(MemoryQueue::new(config.receive_wait)),
        };
        Self::build_with_queue(config, queue).await
    }

    /// Binds the port for a queue the caller made (tests pass their own clients).
    pub async fn build_with_queue(config: &Config, queue: Queue) -> Result<Self, StartupError> {
        let listener = TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], config.port)))
            .await
            .map_err(|source| StartupError::Bind {
                port: config.port,
                source,
            })?;
        let jobs = match &config.jobs {
            Some(JobsConfig::Local { dir, threads }) => {
                let store = LocalStore::open(dir).map_err(StartupError::Jobs)?;
                let dispatcher = Dispatcher::start(store, *threads).map_err(StartupError::Jobs)?;
                Some(Jobs::Local(dispatcher))
            }
            Some(JobsConfig::Bucket { name, part_bytes }) => {
                let QueueConfig::Sqs { url } = &config.queue else {
                    return Err(StartupError::NoPartQueue);
                };
                Some(Jobs::Aws(
                    aws_jobs(name, url).await.with_part_bytes(*part_bytes),
                ))
            }
            None => None,
        };
        Ok(Self {
            listener,
            state: AppState {
                environment: config.environment.as_str().into(),
                queue,
                jobs,
            },
        })
    }

    /// The port actually bound (useful with `PORT=0`).
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn queue(&self) -> &Queue {
        &self.state.queue
    }

    /// Where even-sum jobs are kept, for the start-up log line.
    pub fn jobs_home(&self) -> String {
        match &self.state.jobs {
            Some(Jobs::Local(dispatcher)) => dispatcher.store().dir().display().to_string(),
            Some(Jobs::Aws(jobs)) => format!("s3://{}", jobs.store().bucket()),
            None => "off (ENV=devel, or a bucket: S3_BUCKET_JOBS)".into(),
        }
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let jobs = self.state.jobs.clone();
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(StartupError::Serve);
        if let Some(Jobs::Local(dispatcher)) = jobs {
            dispatcher.close();
        }
        served
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight requests");
}
