//! The message service that stackctl deploys.
//!
//! A small HTTP API in front of one SQS queue:
//! `GET /healthcheck`, `POST /message` (send to the queue) and `GET /message`
//! (receive one message and delete it, so it is delivered once).
//!
//! # Layout
//! - [`config`]: settings read from the environment (`PORT`, `ENV`, `SQS_QUEUE_URL`, ...).
//! - [`queue`]: the queue behind the API, SQS or an in-memory stand-in for `ENV=devel`.
//! - [`routes`]: the handlers and the input validation they share.
//! - [`error`]: [`error::AppError`], turned into a short JSON error for the client and a full
//!   cause chain in the log.
//! - [`state`]: what every handler shares.
//! - [`startup`]: the router, request logging, and the server with graceful shutdown.
//! - [`metrics`]: request latency and each message's execution and lead time as CloudWatch
//!   Embedded Metric Format lines (JSON logs only).
//! - [`telemetry`]: the `tracing` subscriber (text in `devel`, one JSON object per line elsewhere).
//! - [`worker`]: `app worker`, which consumes the queue and logs each message's execution and
//!   lead time.
//! - [`heartbeat`]: keeps a message hidden while it is worked on, so long work never runs twice.
//! - [`frontend`]: `app frontend`, a page with a form that posts to a backend found by name
//!   (`SERVICE_URL_BACKEND`).
//! - [`jobs`]: even-sum jobs over HTTP: in the stack's bucket with parts on the queue for
//!   `app worker` (on AWS), or in a local folder summed on threads fairly between clients
//!   (`ENV=devel`).
//! - [`even_sum`]: the even-sum task's arithmetic (the exact sum of the even integers of an
//!   input of any size) and `app even-sum FILE`, which sums a file on several threads.

pub mod config;
pub mod error;
pub mod even_sum;
pub mod frontend;
pub mod heartbeat;
pub mod jobs;
pub mod metrics;
pub mod queue;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker;

pub use config::Config;
pub use startup::{Application, router};
