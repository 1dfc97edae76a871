//! Entry point: read the environment, start logging, then run one mode until SIGTERM:
//! `app` serves the message API, `app worker` consumes the queue, `app frontend` serves the
//! form in front of a backend.

use std::process::ExitCode;

use app::config::{Config, LogFormat, QueueConfig};
use app::error::error_chain;
use app::startup::{Application, shutdown_signal};

const USAGE: &str = "usage: app [serve | worker | frontend | even-sum FILE [--threads N]]
  serve     the message API on PORT (the default), and even-sum jobs (POST /jobs/even-sum):
            with S3_BUCKET_JOBS (or JOBS_BUCKET) kept in that bucket, their parts sent to
            SQS_QUEUE_URL; else with ENV=devel kept in JOBS_DIR, summed on JOB_THREADS threads
  worker    consume SQS_QUEUE_URL, WORKER_CONCURRENCY messages at once (default 10),
            logging each message's execution_ms and lead_ms; with
            S3_BUCKET_JOBS (or JOBS_BUCKET) also sum the even-sum parts it carries
  frontend  a form on PORT that posts to SERVICE_URL_BACKEND
  even-sum  the exact sum of the even integers in FILE (whitespace-separated), as JSON,
            on N threads (default: one per core)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Serve,
    Worker,
    Frontend,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => Mode::Serve,
        ["worker"] => Mode::Worker,
        ["frontend"] => Mode::Frontend,
        ["even-sum", rest @ ..] => return even_sum(rest),
        ["-h" | "--help"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => {
            eprintln!("error: unknown arguments {other:?}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match mode {
        Mode::Serve => serve().await,
        Mode::Worker => worker().await,
        Mode::Frontend => frontend().await,
    }
}

/// `app even-sum FILE [--threads N]`: prints the totals as JSON, or says which byte is wrong.
fn even_sum(args: &[&str]) -> ExitCode {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let (path, threads) = match args {
        [path] => (*path, cores),
        [path, "--threads", n] | ["--threads", n, path] => match n.parse::<usize>() {
            Ok(n) if n > 0 => (*path, n),
            _ => {
                eprintln!("error: --threads {n:?}: expected a whole number above 0");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("error: even-sum takes a file and, optionally, --threads N\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match app::even_sum::file::sum_file(std::path::Path::new(path), threads) {
        Ok(totals) => match serde_json::to_string(&totals.answer()) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("error: {err}");
                ExitCode::FAILURE
            }
        },
        Err(err) => {
            eprintln!("error: {path}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|err| {
        eprintln!("error: {err}");
        ExitCode::FAILURE
    })
}

async fn serve() -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    app::telemetry::init(config.log_format);
    let app = match Application::build(&config).await {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(error = %error_chain(&err), "start-up failed");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(
        port = app.port(),
        environment = %config.environment,
        queue = %app.queue().describe(),
        jobs = %app.jobs_home(),
        "listening"
    );
    match app.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(err) => {
            tracing::error!(error = %error_chain(&err), "server failed");
            ExitCode::FAILURE
        }
    }
}

async fn worker() -> ExitCode {
    let config = match config() {
        Ok(config) => config,
        Err(code) => return code,
    };
    let QueueConfig::Sqs { url } = &config.queue else {
        eprintln!(
            "error: app worker needs a queue: set SQS_QUEUE_URL (stackctl sets it for a service \
             that consumes one queue)"
        );
        return ExitCode::FAILURE;
    };
    app::telemetry::init(config.log_format);
    let aws = aws_config::load_from_env().await;
    let mut worker = app::worker::Worker::new(aws_sdk_sqs::Client::new(&aws), url.clone())
        .with_concurrency(config.worker_concurrency);
    if let Some(app::config::JobsConfig::Bucket { name, .. }) = &config.jobs {
        worker = worker.with_jobs(app::startup::aws_jobs(name, url).await);
        tracing::info!(bucket = %name, "summing even-sum parts from the bucket");
    }
    tracing::info!(queue = %worker.url(), concurrency = config.worker_concurrency, "consuming");
    let handled = worker.run_until(shutdown_signal()).await;
    tracing::info!(handled, "stopped");
    ExitCode::SUCCESS
}

async fn frontend() -> ExitCode {
    let port = match std::env::var("PORT").ok().filter(|p| !p.trim().is_empty()) {
        None => 8000,
        Some(p) => match p.trim().parse::<u16>() {
            Ok(port) => port,
            Err(_) => {
                eprintln!(
                    "error: PORT={p:?} is not valid: expected a TCP port number from 0 to 65535"
                );
                return ExitCode::FAILURE;
            }
        },
    };
    let Some(backend) = std::env::var(app::frontend::BACKEND_VAR)
        .ok()
        .filter(|b| b.starts_with("http://") || b.starts_with("https://"))
    else {
        eprintln!(
            "error: app frontend needs {}: the backend's URL, like http://backend.shop.internal:8080 \
             (stackctl sets it for a stack with an internal service named backend)",
            app::frontend::BACKEND_VAR
        );
        return ExitCode::FAILURE;
    };
    let devel = std::env::var("ENV").map_or(true, |e| e == app::config::DEVEL);
    app::telemetry::init(if devel {
        LogFormat::Text
    } else {
        LogFormat::Json
    });
    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", port)).await {
        Ok(listener) => listener,
        Err(err) => {
            tracing::error!(error = %err, port, "could not listen");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!(port, backend = %backend, "frontend listening");
    let router = app::frontend::Frontend::new(&backend).router();
    match axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "frontend failed");
            ExitCode::FAILURE
        }
    }
}
