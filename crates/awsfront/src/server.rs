//! Accepts connections and, for each request: picks a fault, waits the call's latency, lets
//! the model refuse it, forwards it to the emulator, and lets the model rewrite the answer. A
//! reset or lost answer closes the connection instead of answering, as a broken network does.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::call::{Call, Protocol};
use crate::config::{Config, Entry};
use crate::faults::Fault;
use crate::model::Model;
use crate::reply;

pub(crate) type Upstream = Client<HttpConnector, Full<Bytes>>;

pub(crate) fn upstream() -> Upstream {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Why a connection was closed instead of answered.
#[derive(Debug)]
struct Closed(&'static str);

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Closed {}

#[derive(Debug)]
/// What the front's connections share: its configuration, its model of AWS, the client to
/// the emulator, and the record of every call.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) model: Option<Model>,
    pub(crate) client: Upstream,
    pub(crate) started: std::time::Instant,
    pub(crate) entries: std::sync::Mutex<Vec<Entry>>,
}

pub(crate) async fn accept(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(request, shared.clone()));
            // A closed connection (a fault) ends this task; the next request opens another.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    request: Request<Incoming>,
    shared: Arc<Shared>,
) -> Result<Response<Full<Bytes>>, Closed> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| Closed("request body"))?
        .to_bytes();
    let call = Call::read(&parts.headers, &body).at(parts.method.as_str(), parts.uri.path());
    let fault = shared
        .config
        .faults
        .as_ref()
        .and_then(|plan| plan.pick(&call))
        .or_else(|| {
            let model = shared.model.as_ref()?;
            model.over_rate(&call).then_some(Fault::OverRate)
        });
    let result = answer(&shared, &call, fault, parts, body).await;
    let status = result.as_ref().map_or(0, |r| r.status().as_u16());
    record(&shared, &call, fault, status);
    result
}

async fn answer(
    shared: &Shared,
    call: &Call,
    fault: Option<Fault>,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Closed> {
    let internal = if call.protocol == Protocol::Json {
        "InternalFailure"
    } else {
        "InternalError"
    };
    match fault {
        Some(Fault::Throttle | Fault::OverRate) => {
            return Ok(reply::throttled(call.protocol, &call.service));
        }
        Some(Fault::Internal) => {
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            return Ok(reply::error(
                call.protocol,
                status,
                internal,
                "We encountered an internal error.",
            ));
        }
        Some(Fault::Unavailable) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            return Ok(reply::error(
                call.protocol,
                status,
                "ServiceUnavailable",
                "Service unavailable.",
            ));
        }
        Some(Fault::PlainUnavailable) => return Ok(reply::plain(StatusCode::SERVICE_UNAVAILABLE)),
        Some(Fault::NotServed) => return Ok(reply::plain(StatusCode::NOT_FOUND)),
        Some(Fault::Denied) => return Ok(reply::denied(call)),
        Some(Fault::Reset) => return Err(Closed("connection reset before the call")),
        Some(Fault::Blackhole) => std::future::pending::<()>().await,
        Some(Fault::Slow) => tokio::time::sleep(slow(shared)).await,
        Some(Fault::Lost) | None => {}
    }
    if let Some(model) = &shared.model {
        tokio::time::sleep(model.latency(call)).await;
        if let Some(refused) = model.refuse(call) {
            return Ok(refused);
        }
        model.request(call);
    }
    let response = forward(shared, parts, body).await?;
    if fault == Some(Fault::Lost) {
        return Err(Closed("the answer was lost after the work was done"));
    }
    Ok(response)
}

fn slow(shared: &Shared) -> std::time::Duration {
    shared
        .config
        .faults
        .as_ref()
        .map_or(std::time::Duration::from_secs(2), |f| f.slow)
}

/// Sends the request to the emulator and returns its answer, rewritten by the model.
async fn forward(
    shared: &Shared,
    parts: hyper::http::request::Parts,
    body: Bytes,
) -> Result<Response<Full<Bytes>>, Closed> {
    let call = Call::read(&parts.headers, &body).at(parts.method.as_str(), parts.uri.path());
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let uri: hyper::Uri = format!("{}{path}", shared.config.upstream.trim_end_matches('/'))
        .parse()
        .map_err(|_| Closed("upstream address"))?;
    // The emulator writes its own address into some answers (queue URLs) from the Host
    // header: it must see its own, so that the front stays invisible.
    let host = uri.authority().map(|a| a.as_str().to_owned());
    let mut request = Request::builder().method(parts.method).uri(uri);
    for (name, value) in parts
        .headers
        .iter()
        .filter(|(n, _)| *n != hyper::header::HOST)
    {
        request = request.header(name, value);
    }
    if let Some(host) = host {
        request = request.header(hyper::header::HOST, host);
    }
    let request = request
        .body(Full::new(body))
        .map_err(|_| Closed("request"))?;
    let response = shared
        .client
        .request(request)
        .await
        .map_err(|_| Closed("upstream unreachable"))?;
    let (mut parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|_| Closed("upstream body"))?
        .to_bytes();
    let rewritten = shared.model.as_ref().and_then(|model| {
        let text = std::str::from_utf8(&body).ok()?;
        model.answer(&call, text)
    });
    let body = rewritten.map_or(body, Bytes::from);
    parts.headers.remove("content-length");
    parts.headers.remove("transfer-encoding");
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn record(shared: &Shared, call: &Call, fault: Option<Fault>, status: u16) {
    let entry = Entry {
        at: shared.started.elapsed(),
        service: call.service.clone(),
        operation: call.operation.clone(),
        fault,
        status,
    };
    if shared.config.log {
        eprintln!(
            "{:>9.3}s {} {} {}{}",
            entry.at.as_secs_f64(),
            entry.service,
            entry.operation,
            if status == 0 {
                "closed".to_owned()
            } else {
                status.to_string()
            },
            fault.map(|f| format!(" [{f:?}]")).unwrap_or_default()
        );
    }
    shared
        .entries
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(entry);
}
