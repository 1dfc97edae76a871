//! `stackctl status`: the stack's resources as AWS reports them, its outputs, the service's
//! deployment, and a live health check through the load balancer.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use infra::CallCounts;
use infra::engine;
use infra::resources::{Detail, Observation, Observed, Unread};
use infra::stack_file::{ServiceSpec, StackSpec, rule_order};
use serde::Serialize;

use crate::output::{Printer, Report};
use crate::render;
use crate::render::Named;
use crate::session::{Naming, Session, Where};

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
    check_as(url, None).await
}

/// A `GET` of `url`, with `host` as the Host header when given (a rule on host names).
async fn check_as(url: String, host: Option<&str>) -> Health {
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
    let mut request = client.get(&url);
    if let Some(host) = host {
        request = request.header(reqwest::header::HOST, host);
    }
    match request.send().await {
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

/// A web service's live check through the load balancer, or why there is none.
#[derive(Debug, Serialize)]
struct WebCheck {
    service: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<Health>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_checked: Option<String>,
}

/// The Host header and path that reach `service`'s health check through the load balancer,
/// by the stack's rules in their order; why not, when its own rule does not route its health
/// path to it.
fn route_to(spec: &StackSpec, service: &ServiceSpec) -> Result<(Option<String>, String), String> {
    use crate::local::router::{Routes, Rule};
    let web: Vec<&ServiceSpec> = spec.web().collect();
    let index = |s: &ServiceSpec| {
        web.iter()
            .position(|w| w.name == s.name)
            .map_or(0, |i| i as u16)
    };
    let mut ruled: Vec<&ServiceSpec> = web
        .iter()
        .copied()
        .filter(|s| !s.route.is_default())
        .collect();
    ruled.sort_by(|a, b| rule_order(&a.route, &a.name).cmp(&rule_order(&b.route, &b.name)));
    let routes = Routes {
        listen: 0,
        default: spec.default_web().map_or(u16::MAX, &index),
        rules: ruled
            .iter()
            .map(|s| Rule {
                service: s.name.clone(),
                paths: s.route.paths.clone(),
                hosts: s.route.hosts.clone(),
                port: index(s),
            })
            .collect(),
    };
    let host = service
        .route
        .hosts
        .iter()
        .find(|h| !h.contains(['*', '?']))
        .cloned();
    let path = service.health_check_path.clone();
    if routes.pick(host.as_deref(), &path) == index(service) {
        Ok((host, path))
    } else {
        Err(format!(
            "the load balancer's rules send {path} elsewhere; the target group still checks it \
             directly"
        ))
    }
}

/// Each web service's live check through the load balancer at `url`.
async fn web_checks(spec: &StackSpec, url: &str) -> Vec<WebCheck> {
    let mut checks = Vec::new();
    for service in spec.web() {
        let (health, not_checked) = match route_to(spec, service) {
            Ok((host, path)) => (
                Some(check_as(format!("{url}{path}"), host.as_deref()).await),
                None,
            ),
            Err(why) => (None, Some(why)),
        };
        checks.push(WebCheck {
            service: service.name.clone(),
            health,
            not_checked,
        });
    }
    checks
}

/// One ECS service's deployment, as `status` shows it.
#[derive(Debug, Serialize)]
struct ServiceLine {
    /// The service's logical id (`service`, `service-api`).
    id: infra::ResourceId,
    desired: i32,
    running: i32,
    pending: i32,
    rollout: String,
    revision: String,
    image: String,
}

impl ServiceLine {
    /// Two lines: the counts and the rollout, then what it runs (indented by `indent`).
    fn text(&self, indent: usize) -> String {
        format!(
            "{} desired, {} running, {} pending; rollout {}\n{:indent$}task definition revision {}, image {}",
            self.desired, self.running, self.pending, self.rollout, "", self.revision, self.image
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
                // AWS never reports fewer than none pending; an emulator may.
                pending: service.pending_count.max(0),
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
    /// Each web service's live check (with several web services).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    web: Vec<WebCheck>,
    /// Kinds the stack does not declare that could not be read (denied, or not served).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    unread: &'a [Unread],
    aws_calls: CallCounts,
    #[serde(skip)]
    url: Option<String>,
}

impl Report for StatusReport<'_> {
    fn text(&self) -> String {
        if self.resources.is_empty() {
            return format!(
                "Stack {} has no resources in {} (account {}). Run `{}` to create it.",
                self.at.stack,
                self.at.region,
                self.at.account,
                self.at.command("up")
            );
        }
        let mut lines = vec![
            format!("{}\n", self.at.heading()),
            render::resources(self.resources, render::width()),
            format!("\nOutputs:\n{}", self.outputs.text()),
        ];
        match self.services.as_slice() {
            [] => {}
            [one] => lines.push(format!("\nService: {}", one.text(9))),
            several => {
                lines.push("\nServices:".into());
                let width = several
                    .iter()
                    .map(|s| s.id.as_str().len())
                    .max()
                    .unwrap_or(0);
                for s in several {
                    lines.push(format!("  {:width$}  {}", s.id, s.text(width + 4)));
                }
            }
        }
        match (&self.url, &self.health) {
            (Some(url), Some(h)) => {
                lines.push(format!("URL:     {url}"));
                lines.push(format!("Health:  {} {}", h.url, h.verdict()));
                for w in &self.web {
                    lines.push(match (&w.health, &w.not_checked) {
                        (Some(h), _) => format!("  {:12} {} {}", w.service, h.url, h.verdict()),
                        (None, why) => format!(
                            "  {:12} not checked: {}",
                            w.service,
                            why.as_deref().unwrap_or("")
                        ),
                    });
                }
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

/// Where users reach the stack: its default web service's domain over HTTPS once the alias
/// record is there, else the load balancer's own name.
fn url_of(spec: &infra::StackSpec, observed: &[infra::resources::Observed]) -> Option<String> {
    let domain = spec.default_web().and_then(|s| s.domain.as_deref());
    let alias = observed
        .iter()
        .find(|o| matches!(o.detail, Detail::AliasRecord(_)) && Some(o.aws_id.as_str()) == domain);
    alias.map(|o| format!("https://{}", o.aws_id)).or_else(|| {
        observed.iter().find_map(|o| match &o.detail {
            Detail::LoadBalancer(lb) => Some(format!("http://{}", lb.dns_name)),
            _ => None,
        })
    })
}

pub async fn run(file: &Path, printer: &Printer) -> anyhow::Result<ExitCode> {
    let spec = crate::stack_file::load(file)?;
    let naming = Naming::File(file.to_owned());
    let session = Session::open(&spec.name, &spec.region, naming, printer).await?;
    let observation = engine::remaining(&session.ctx)
        .await
        .context("while reading the stack's resources from AWS")?;
    for note in render::unread_notes(&observation.unread, "shown") {
        printer.note(&format!("note: {note}"));
    }
    let Observation {
        found: observed,
        unread,
    } = observation;
    let url = url_of(&spec, &observed);
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
    let web = match &url {
        Some(url) if !emulated && spec.web().count() > 1 => web_checks(&spec, url).await,
        _ => Vec::new(),
    };
    printer.report(&StatusReport {
        at: &session.at,
        resources: &observed,
        outputs: Named::of(&engine::outputs_of(&observed)),
        services: service_lines(&observed),
        health,
        web,
        unread: &unread,
        aws_calls: session.ctx.calls.snapshot(),
        url,
    });
    session.report_calls();
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    fn several_web() -> StackSpec {
        let text = "[stack]\nname = \"shop\"\n[services.web]\n[services.api]\npaths = [\"/api/*\"]\n\
                    [services.admin]\nhosts = [\"admin.example.com\"]\n";
        StackSpec::parse(std::path::Path::new("stack.toml"), text).unwrap()
    }

    #[test]
    fn a_web_service_is_checked_only_where_its_rule_sends_its_health_path() {
        let spec = several_web();
        let by = |name: &str| spec.services.iter().find(|s| s.name == name).unwrap();
        assert_eq!(
            route_to(&spec, by("web")),
            Ok((None, "/healthcheck".into()))
        );
        assert_eq!(
            route_to(&spec, by("admin")),
            Ok((Some("admin.example.com".into()), "/healthcheck".into()))
        );
        assert!(
            route_to(&spec, by("api")).is_err(),
            "/healthcheck is not under /api/"
        );
    }

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
