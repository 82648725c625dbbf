//! The control plane under `/_sandbox/`: what a test or a demo does to the sandbox that no vendor
//! API offers (reset, seed, clock, faults, request log, mode) plus each emulator's own console
//! steps under `/_sandbox/<name>/`.
//!
//! It answers on every port with the same [`Shared`] state, so a test can drive it through
//! either service's URL. Errors are `{"error": "..."}` with status 400.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Fault, Mode, Shared};

/// The `/_sandbox` routes (without the per-emulator ones, which [`super::server`] adds).
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_sandbox/reset", post(reset))
        .route("/_sandbox/seed", post(seed))
        .route("/_sandbox/clock", get(clock).post(set_clock))
        .route(
            "/_sandbox/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/_sandbox/requests", get(requests).delete(clear_requests))
        .route("/_sandbox/mode", get(mode).put(set_mode).post(set_mode))
        .route(
            "/_sandbox/alternatives",
            get(alternatives).post(set_alternatives),
        )
        .with_state(shared)
}

fn bad(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// The switches for open points of the references, their values and readings.
async fn alternatives(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(shared.alternatives.listing())
}

/// `{"okta.embed_users": false, …}` sets those switches until reset.
async fn set_alternatives(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let changes: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(err) => return bad(format!("body is not JSON: {err}")),
    };
    match shared.alternatives.set(&changes) {
        Ok(_) => Json(shared.alternatives.listing()).into_response(),
        Err(err) => bad(err),
    }
}

async fn reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset();
    StatusCode::NO_CONTENT
}

/// A seed document, or `{"file": PATH}` naming one.
async fn seed(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let doc: Value = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(err) => return bad(format!("seed body is not JSON: {err}")),
    };
    let doc = match doc.get("file").and_then(Value::as_str) {
        Some(path) => match load_seed_file(path) {
            Ok(doc) => doc,
            Err(err) => return bad(err),
        },
        None => doc,
    };
    match shared.seed(&doc) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => bad(err),
    }
}

/// Reads a seed file (JSON, or YAML since JSON is YAML).
pub fn load_seed_file(path: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    parse_seed(&text).map_err(|e| format!("{path} is not a seed document: {e}"))
}

/// Parses a seed document's text (JSON or YAML).
pub fn parse_seed(text: &str) -> Result<Value, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

/// The people and groups both example configs name (`examples/sandbox-seed.yaml`): what
/// `scimbridge sandbox` and `scimbridge demo` start with.
pub fn example_seed() -> Value {
    parse_seed(include_str!("../../examples/sandbox-seed.yaml"))
        .expect("the example seed is a seed document")
}

fn clock_view(shared: &Shared) -> Value {
    json!({
        "now": httpdate::fmt_http_date(shared.clock.now()),
        "unix": shared.clock.unix_seconds(),
        "frozen": shared.clock.is_frozen(),
    })
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(clock_view(&shared))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    #[serde(default)]
    advance_seconds: u64,
    freeze: Option<bool>,
}

/// `{"advance_seconds": N}` moves time on; `{"freeze": true|false}` stops or releases it.
async fn set_clock(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let change: ClockChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(err) => {
            return bad(format!(
                "expected {{\"advance_seconds\": N, \"freeze\": bool}}: {err}"
            ));
        }
    };
    match change.freeze {
        Some(true) => shared.clock.freeze(),
        Some(false) => shared.clock.unfreeze(),
        None => {}
    }
    shared
        .clock
        .advance(Duration::from_secs(change.advance_seconds));
    Json(clock_view(&shared)).into_response()
}

async fn faults(State(shared): State<Arc<Shared>>) -> Json<Vec<Fault>> {
    Json(shared.faults())
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let rule: Fault = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(err) => return bad(format!("not a fault rule: {err}")),
    };
    if !(0.0..=1.0).contains(&rule.error_ratio) {
        return bad("error_ratio must be between 0 and 1");
    }
    if rule.path.is_empty() {
        return bad("path is required (use \"*\" for every path)");
    }
    shared.add_fault(rule);
    (StatusCode::CREATED, Json(shared.faults())).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_faults();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RequestFilter {
    service: Option<String>,
}

async fn requests(
    State(shared): State<Arc<Shared>>,
    Query(filter): Query<RequestFilter>,
) -> Json<Value> {
    let entries: Vec<_> = shared
        .requests()
        .into_iter()
        .filter(|e| filter.service.as_ref().is_none_or(|s| *s == e.service))
        .collect();
    Json(json!({ "requests": entries }))
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_requests();
    StatusCode::NO_CONTENT
}

async fn mode(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "mode": shared.mode() }))
}

#[derive(Deserialize)]
struct ModeChange {
    mode: Mode,
}

async fn set_mode(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<ModeChange>(&body) {
        Ok(change) => {
            shared.set_mode(change.mode);
            Json(json!({ "mode": shared.mode() })).into_response()
        }
        Err(err) => bad(format!(
            "expected {{\"mode\": \"auto\"|\"explicit\"}}: {err}"
        )),
    }
}
