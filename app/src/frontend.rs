//! `app frontend`: a small web page with a form, in front of a backend it reaches by name
//! (the stack's internal service: `SERVICE_URL_BACKEND`, e.g.
//! `http://backend.shop.internal:8080`). Posting the form sends the text to the backend's
//! `POST /message`; the page says what the backend answered.
//!
//! `GET /` the form; `POST /` send it; `GET /healthcheck` the frontend itself.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

/// The variable that names the backend.
pub const BACKEND_VAR: &str = "SERVICE_URL_BACKEND";

#[derive(Debug, Clone)]
pub struct Frontend {
    backend: Arc<str>,
    client: reqwest::Client,
}

#[derive(Debug, Deserialize)]
pub struct Posted {
    message: String,
}

impl Frontend {
    /// `backend`: the backend's base URL, without a trailing `/`.
    pub fn new(backend: &str) -> Self {
        Self {
            backend: backend.trim_end_matches('/').into(),
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
        }
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/", get(form).post(post))
            .route("/healthcheck", get(health))
            .with_state(self)
    }
}

fn page(note: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Orders</title></head><body>\
         <h1>Place an order</h1>{note}\
         <form method=\"post\" action=\"/\"><textarea name=\"message\" rows=\"4\" cols=\"40\" \
         required></textarea><br><button type=\"submit\">Send</button></form></body></html>"
    ))
}

/// Text made safe to put in the page.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn form() -> Html<String> {
    page("")
}

async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "up", "role": "frontend" }))
}

async fn post(State(front): State<Frontend>, Form(posted): Form<Posted>) -> Response {
    let url = format!("{}/message", front.backend);
    let sent = front
        .client
        .post(&url)
        .json(&serde_json::json!({ "message": posted.message }))
        .send()
        .await;
    let (status, note) = match sent {
        Ok(answer) if answer.status().is_success() => {
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            let id = body["message_id"].as_str().unwrap_or("?");
            (
                StatusCode::OK,
                format!("<p>Sent: order {}.</p>", escape(id)),
            )
        }
        Ok(answer) => {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            tracing::warn!(%status, body = %body, "the backend refused the order");
            (
                StatusCode::BAD_GATEWAY,
                format!(
                    "<p>The backend refused it ({status}): {}</p>",
                    escape(&body)
                ),
            )
        }
        Err(err) => {
            tracing::error!(error = %err, backend = %front.backend, "the backend cannot be reached");
            (
                StatusCode::BAD_GATEWAY,
                format!(
                    "<p>The backend cannot be reached at {}.</p>",
                    escape(&front.backend)
                ),
            )
        }
    };
    (status, page(&note)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_from_elsewhere_is_escaped() {
        assert_eq!(escape("<b>\"&"), "&lt;b&gt;&quot;&amp;");
    }
}
