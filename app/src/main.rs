//! Entry point: read the environment, start logging, serve until SIGTERM.

use std::process::ExitCode;

use app::config::Config;
use app::error::error_chain;
use app::startup::{Application, shutdown_signal};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
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
