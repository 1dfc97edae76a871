//! `GET /healthcheck`: liveness for the load balancer and for people.

use std::time::SystemTime;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Health {
    /// RFC 1123 in GMT, e.g. `Tue, 04 Aug 2020 23:04:35 GMT`.
    datetime: String,
    environment: String,
    status: &'static str,
}

pub async fn healthcheck(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        datetime: httpdate::fmt_http_date(SystemTime::now()),
        environment: state.environment.to_string(),
        status: "up",
    })
}
