//! `stackctl status`: the stack's resources as AWS reports them, its outputs, the service's
//! deployment, and a live health check through the load balancer.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use infra::CallCounts;
use infra::engine;
use infra::resources::{Detail, Observed};
use serde::Serialize;

use super::stack::{Named, Where, connect, load, report_calls};
use crate::cli::StatusArgs;
use crate::output::{Printer, Report};
use crate::render;

/// A live `GET` of the health-check path through the load balancer.
#[derive(Debug, Serialize)]
struct Health {
    url: String,
    up: bool,
    status: Option<u16>,
    latency_ms: Option<u128>,
    error: Option<String>,
}

async fn check(url: String) -> Health {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            return Health {
                url,
                up: false,
                status: None,
                latency_ms: None,
                error: Some(e.to_string()),
            };
        }
    };
    let started = Instant::now();
    match client.get(&url).send().await {
        Ok(response) => Health {
            up: response.status().is_success(),
            status: Some(response.status().as_u16()),
            latency_ms: Some(started.elapsed().as_millis()),
            error: None,
            url,
        },
        Err(e) => Health {
            url,
            up: false,
            status: None,
            latency_ms: None,
            error: Some(infra::error_chain(&e)),
        },
    }
}

/// The service's deployment, in a line: counts, rollout, revision, image.
/// One ECS service's deployment, as `status` shows it.
#[derive(Debug, Serialize)]
struct ServiceLine {
    /// The service's logical id (`service`, `service-api`).
    id: String,
    desired: i32,
    running: i32,
    pending: i32,
    rollout: String,
    revision: String,
    image: String,
}

impl ServiceLine {
    fn text(&self) -> String {
        format!(
            "{} desired, {} running, {} pending; rollout {}; task definition revision {}; image {}",
            self.desired, self.running, self.pending, self.rollout, self.revision, self.image
        )
    }
}

/// Every ECS service of the stack, with the image of its task definition.
fn service_lines(observed: &[Observed]) -> Vec<ServiceLine> {
    observed
        .iter()
        .filter_map(|o| match &o.detail {
            Detail::Service(s) => Some((o, s)),
            _ => None,
        })
        .map(|(o, service)| {
            let image = observed.iter().find_map(|t| match &t.detail {
                Detail::TaskDefinition(td)
                    if service.task_definition.starts_with(&t.aws_id)
                        || t.aws_id == service.task_definition =>
                {
                    Some(td.image.clone())
                }
                _ => None,
            });
            ServiceLine {
                id: o.id.clone(),
                desired: service.desired_count,
                running: service.running_count,
                pending: service.pending_count,
                rollout: if service.rollout.is_empty() {
                    "unknown".into()
                } else {
                    service.rollout.clone()
                },
                revision: service
                    .task_definition
                    .rsplit(':')
                    .next()
                    .unwrap_or("?")
                    .to_owned(),
                image: image.unwrap_or_else(|| "?".into()),
            }
        })
        .collect()
}

/// `status --json`: every resource as AWS reports it, the outputs, the service's deployment
/// and a live health check through the load balancer.
#[derive(Debug, Serialize)]
struct StatusReport<'a> {
    #[serde(flatten)]
    at: &'a Where,
    resources: &'a [Observed],
    outputs: Named,
    /// Each ECS service's deployment.
    services: Vec<ServiceLine>,
    health: Option<Health>,
    aws_calls: CallCounts,
    #[serde(skip)]
    url: Option<String>,
}

impl Report for StatusReport<'_> {
    fn text(&self) -> String {
        if self.resources.is_empty() {
            return format!(
                "Stack {} has no resources in {} (account {}). Run `stackctl up` to create it.",
                self.at.stack, self.at.region, self.at.account
            );
        }
        let mut lines = vec![
            format!("{}\n", self.at.heading()),
            render::resources(self.resources),
            format!("\nOutputs:\n{}", self.outputs.text()),
        ];
        match self.services.as_slice() {
            [] => {}
            [one] => lines.push(format!("\nService: {}", one.text())),
            several => {
                lines.push("\nServices:".into());
                let width = several.iter().map(|s| s.id.len()).max().unwrap_or(0);
                for s in several {
                    lines.push(format!("  {:width$}  {}", s.id, s.text()));
                }
            }
        }
        match (&self.url, &self.health) {
            (Some(url), Some(h)) => {
                lines.push(format!("URL:     {url}"));
                lines.push(format!("Health:  {} {}", h.url, h.verdict()));
            }
            (Some(url), None) => {
                lines.push(format!("URL:     {url}"));
                lines.push("Health:  not checked (AWS_ENDPOINT_URL is set: the DNS name is the emulator's)".into());
            }
            _ => lines.push("\nNo load balancer: the stack has no image to run yet (service.image or `up --image`).".into()),
        }
        lines.join("\n")
    }
}

impl Health {
    /// `up (HTTP 200 in 12 ms)`, `down (HTTP 503)`, `down (the reason)`.
    fn verdict(&self) -> String {
        match (self.up, self.status, self.latency_ms, &self.error) {
            (true, Some(code), Some(ms), _) => format!("up (HTTP {code} in {ms} ms)"),
            (false, Some(code), _, _) => format!("down (HTTP {code})"),
            (_, _, _, Some(e)) => format!("down ({e})"),
            _ => "down".into(),
        }
    }
}

pub async fn run(args: &StatusArgs, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = load(&args.stack.file)?;
    let (ctx, at) = connect(&spec.name, &spec.region).await?;
    let observed = engine::remaining(&ctx)
        .await
        .context("while reading the stack's resources from AWS")?;
    let url = observed.iter().find_map(|o| match &o.detail {
        Detail::LoadBalancer(lb) => Some(format!("http://{}", lb.dns_name)),
        _ => None,
    });
    // On an emulator the load balancer's DNS name is made up: do not send anything to it.
    let emulated = std::env::var_os("AWS_ENDPOINT_URL").is_some();
    let health = match &url {
        Some(url) if !emulated => {
            let path = spec
                .default_web()
                .map_or("/", |s| s.health_check_path.as_str());
            Some(check(format!("{url}{path}")).await)
        }
        _ => None,
    };
    printer.report(&StatusReport {
        at: &at,
        resources: &observed,
        outputs: Named::of(&engine::outputs_of(&observed)),
        services: service_lines(&observed),
        health,
        aws_calls: ctx.calls.snapshot(),
        url,
    });
    report_calls(printer, &ctx, args.output.verbose);
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A one-shot HTTP server on loopback answering with `status`.
    async fn serve_once(status: &'static str) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let body = r#"{"status":"up"}"#;
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.unwrap();
        });
        format!("http://{address}/healthcheck")
    }

    #[tokio::test]
    async fn a_200_is_up_with_a_latency() {
        let health = check(serve_once("200 OK").await).await;
        assert!(health.up);
        assert_eq!(health.status, Some(200));
        assert!(health.latency_ms.is_some());
    }

    #[tokio::test]
    async fn a_503_or_no_answer_is_down_with_the_reason() {
        let health = check(serve_once("503 Service Unavailable").await).await;
        assert!(!health.up);
        assert_eq!(health.status, Some(503));

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/healthcheck", closed.local_addr().unwrap());
        drop(closed);
        let health = check(url).await;
        assert!(!health.up);
        assert!(health.error.is_some());
    }
}
