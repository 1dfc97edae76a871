//! The local stand-in for the load balancer of `up --local`: one port on loopback that sends
//! each request to a web service's local port by the stack's listener rules (tried in the
//! order the load balancer tries them, the default service taking the rest). It runs as the
//! hidden `stackctl local-router` process, detached like the services, so it outlives `up`.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// What the router listens on and where it sends requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    pub listen: u16,
    /// The default web service's local port: requests no rule matches.
    pub default: u16,
    /// In the order the load balancer tries them.
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub service: String,
    pub paths: Vec<String>,
    pub hosts: Vec<String>,
    pub port: u16,
}

/// An ALB wildcard match: `*` any run of characters, `?` exactly one.
fn wildcard(pattern: &[u8], value: &[u8]) -> bool {
    match (pattern.split_first(), value.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => {
            wildcard(rest, value)
                || value
                    .split_first()
                    .is_some_and(|(_, v)| wildcard(pattern, v))
        }
        (Some((b'?', rest)), Some((_, v))) => wildcard(rest, v),
        (Some((p, rest)), Some((c, v))) if p == c => wildcard(rest, v),
        _ => false,
    }
}

impl Rule {
    fn matches(&self, host: Option<&str>, path: &str) -> bool {
        let path_ok = self.paths.is_empty()
            || self
                .paths
                .iter()
                .any(|p| wildcard(p.as_bytes(), path.as_bytes()));
        // Host names are not case-sensitive; the port is not part of the match.
        let host = host.map(|h| h.split(':').next().unwrap_or(h).to_ascii_lowercase());
        let host_ok = self.hosts.is_empty()
            || host.is_some_and(|h| {
                self.hosts
                    .iter()
                    .any(|p| wildcard(p.to_ascii_lowercase().as_bytes(), h.as_bytes()))
            });
        path_ok && host_ok
    }
}

impl Routes {
    /// The local port a request goes to.
    pub fn pick(&self, host: Option<&str>, path: &str) -> u16 {
        self.rules
            .iter()
            .find(|r| r.matches(host, path))
            .map_or(self.default, |r| r.port)
    }

    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(self)?;
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a routes file", path.display()))
    }
}

#[derive(Clone)]
struct Proxy {
    routes: std::sync::Arc<Routes>,
    client: reqwest::Client,
}

/// Serves `routes` until SIGTERM or Ctrl-C.
pub async fn serve(routes: Routes) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", routes.listen))
        .await
        .with_context(|| {
            format!(
                "the local router cannot listen on 127.0.0.1:{}",
                routes.listen
            )
        })?;
    let proxy = Proxy {
        routes: std::sync::Arc::new(routes),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
    };
    let app = axum::Router::new().fallback(forward).with_state(proxy);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
        })
        .await
        .context("the local router failed")
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let host = parts
        .headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok());
    let port = proxy.routes.pick(host, parts.uri.path());
    let target = format!(
        "http://127.0.0.1:{port}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    // Streamed both ways, as the load balancer does: a 5 GB upload is never held here.
    let body = reqwest::Body::wrap_stream(body.into_data_stream());
    let mut headers = parts.headers.clone();
    if let Some(host) = headers.remove(axum::http::header::HOST) {
        headers.insert("x-forwarded-host", host);
    }
    headers.insert("x-forwarded-for", HeaderValue::from_static("127.0.0.1"));
    let sent = proxy
        .client
        .request(parts.method, &target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(err) => {
            tracing::warn!(%err, %target, "no answer from the service");
            let body = serde_json::json!({
                "error": format!("the local service on port {port} did not answer: {err}")
            });
            return (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response();
        }
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    headers.remove(axum::http::header::TRANSFER_ENCODING);
    headers.remove(axum::http::header::CONNECTION);
    let mut response = Response::new(Body::from_stream(answer.bytes_stream()));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        let rule = |service: &str, paths: &[&str], hosts: &[&str], port| Rule {
            service: service.into(),
            paths: paths.iter().map(|s| (*s).to_owned()).collect(),
            hosts: hosts.iter().map(|s| (*s).to_owned()).collect(),
            port,
        };
        Routes {
            listen: 0,
            default: 5000,
            rules: vec![
                rule("admin", &["/admin/*"], &["admin.example.com"], 9000),
                rule("api", &["/api/*"], &[], 8080),
                rule("img", &["/img/?.png"], &[], 7000),
            ],
        }
    }

    #[test]
    fn requests_go_by_the_rules_in_order_and_the_rest_to_the_default() {
        let r = routes();
        assert_eq!(r.pick(None, "/api/orders"), 8080);
        assert_eq!(r.pick(Some("ADMIN.example.com:8088"), "/admin/users"), 9000);
        assert_eq!(r.pick(Some("other.example.com"), "/admin/users"), 5000);
        assert_eq!(r.pick(None, "/img/a.png"), 7000);
        assert_eq!(r.pick(None, "/img/ab.png"), 5000);
        assert_eq!(r.pick(None, "/"), 5000);
        assert_eq!(
            r.pick(None, "/API/orders"),
            5000,
            "paths are case-sensitive"
        );
    }
}
