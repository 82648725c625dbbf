//! The control plane under `/_sandbox/`: what a test or a demo does to the sandbox that no vendor
//! API offers (reset, seed, clock, faults, request log, mode, alternatives, the brownfield
//! scenarios of [`super::scenario`]) plus each emulator's
//! own console steps under `/_sandbox/<name>/`, and `GET /_sandbox/`, the index of them all.
//!
//! It answers on every port with the same [`Shared`] state, so a test can drive it through
//! either service's URL. Errors are `{"error": "..."}` with status 400. What must hold: every
//! control route is added through a [`Console`], which records its method, path, body shape
//! and purpose as it adds it, so the index lists every route there is and no other.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::handler::Handler;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, get, on};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Fault, Mode, Shared};

/// One control route as `GET /_sandbox/` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct ControlRoute {
    pub method: String,
    /// The full path, `{…}` marking a path parameter.
    pub path: String,
    /// The JSON body it takes, as a shape (`?` marks what may be left out); `None` for none.
    pub body: Option<&'static str>,
    /// What it is for, in one line.
    pub purpose: &'static str,
}

/// Control routes and their index entries, added together: a route cannot be added without
/// its entry, nor an entry without its route.
pub struct Console<S = ()> {
    router: Router<S>,
    index: Vec<ControlRoute>,
}

impl<S: Clone + Send + Sync + 'static> Default for Console<S> {
    fn default() -> Self {
        Self {
            router: Router::new(),
            index: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> Console<S> {
    /// Adds `handler` at `method path`, listed with the body it takes and what it is for.
    pub fn route<H, T>(
        mut self,
        method: Method,
        path: &str,
        body: Option<&'static str>,
        purpose: &'static str,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a routable method");
        self.router = self.router.route(path, on(filter, handler));
        self.index.push(ControlRoute {
            method: method.to_string(),
            path: path.to_string(),
            body,
            purpose,
        });
        self
    }

    /// The routes with their state given.
    pub fn with_state<S2>(self, state: S) -> Console<S2> {
        Console {
            router: self.router.with_state(state),
            index: self.index,
        }
    }

    /// The index entries, their paths under `prefix` (where the routes are nested).
    pub fn index_under(&self, prefix: &str) -> Vec<ControlRoute> {
        self.index
            .iter()
            .map(|r| ControlRoute {
                path: format!("{prefix}{}", r.path),
                ..r.clone()
            })
            .collect()
    }
}

impl Console {
    /// The routes, to serve.
    pub fn into_router(self) -> Router {
        self.router
    }
}

/// The generic control routes, `GET /_sandbox/` included.
fn console() -> Console<Arc<Shared>> {
    Console::default()
        .route(
            Method::GET,
            "/_sandbox/",
            None,
            "this index: every control route with its body and purpose (plain text with Accept: text/plain)",
            index,
        )
        .route(
            Method::POST,
            "/_sandbox/reset",
            None,
            "back to the just-started state: every emulator, the clock, alternatives, log, faults, mode",
            reset,
        )
        .route(
            Method::POST,
            "/_sandbox/seed",
            Some(r#"{"ws1"?: {"clients"?, "directories"?, "users"?, "groups"?}, "okta"?: {"users"?, "groups"?, "apps"?}} | {"file": PATH}"#),
            "loads a seed document (or a JSON/YAML file holding one) into every emulator",
            seed,
        )
        .route(
            Method::GET,
            "/_sandbox/clock",
            None,
            "the sandbox time every service answers with (Date headers, token expiry)",
            clock,
        )
        .route(
            Method::POST,
            "/_sandbox/clock",
            Some(r#"{"advance_seconds"?: N, "freeze"?: BOOL}"#),
            "moves the sandbox time on, freezes or releases it",
            set_clock,
        )
        .route(
            Method::GET,
            "/_sandbox/faults",
            None,
            "the fault rules, with bursts, drops and lost answers still pending",
            faults,
        )
        .route(
            Method::POST,
            "/_sandbox/faults",
            Some(r#"{"service"?: "ws1"|"okta", "method"?: M, "path": PATTERN, "basic_user"?: CLIENT_ID, "latency_ms"?: N, "error_ratio"?: 0..1, "error_status"?: N, "burst_429"?: N, "retry_after"?: N, "drop"?: N, "lose_answer"?: N}"#),
            "adds a fault rule for vendor requests (`*` in path matches any run of characters)",
            add_fault,
        )
        .route(
            Method::DELETE,
            "/_sandbox/faults",
            None,
            "removes every fault rule",
            clear_faults,
        )
        .route(
            Method::GET,
            "/_sandbox/requests",
            None,
            "the request log of vendor requests, writes marked (`?service=ws1|okta` filters)",
            requests,
        )
        .route(
            Method::DELETE,
            "/_sandbox/requests",
            None,
            "empties the request log",
            clear_requests,
        )
        .route(
            Method::GET,
            "/_sandbox/mode",
            None,
            "explicit (deterministic, no added latency) or auto (realistic latency)",
            mode,
        )
        .route(
            Method::PUT,
            "/_sandbox/mode",
            Some(r#"{"mode": "explicit"|"auto"}"#),
            "sets the mode",
            set_mode,
        )
        .route(
            Method::POST,
            "/_sandbox/mode",
            Some(r#"{"mode": "explicit"|"auto"}"#),
            "sets the mode (as PUT)",
            set_mode,
        )
        .route(
            Method::GET,
            "/_sandbox/alternatives",
            None,
            "the switches for open points of the references, their values and readings",
            alternatives,
        )
        .route(
            Method::POST,
            "/_sandbox/alternatives",
            Some(r#"{SWITCH: VALUE, …}"#),
            "sets switches until the next reset",
            set_alternatives,
        )
        .route(
            Method::POST,
            "/_sandbox/scenario",
            Some(r#"{"name": "brownfield-scim11"|"brownfield-oin"}"#),
            "builds a hand-made integration through the vendor APIs and the console step, as an admin would; answers what was made",
            scenario,
        )
}

/// The `/_sandbox` routes (without the per-emulator ones, which [`super::server`] adds).
pub fn router(shared: Arc<Shared>) -> Router {
    console()
        .router
        .route("/_sandbox", get(index))
        .with_state(shared)
}

/// Every control route: the generic ones, then each emulator's under `/_sandbox/<name>`.
pub fn index_of(shared: &Shared) -> Vec<ControlRoute> {
    let mut routes = console().index_under("");
    for emulator in shared.emulators() {
        routes.extend(
            emulator
                .console()
                .index_under(&format!("/_sandbox/{}", emulator.name())),
        );
    }
    routes
}

/// `GET /_sandbox/`: JSON `{"routes": [{method, path, body, purpose}]}`, or plain text, one
/// route a paragraph, when the request's `Accept` names `text/plain` and not JSON.
async fn index(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let routes = index_of(&shared);
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("text/plain") || accept.contains("json") {
        return Json(json!({ "routes": routes })).into_response();
    }
    let mut text =
        String::from("The sandbox's control routes (as JSON unless Accept names text/plain)\n");
    for r in routes {
        text.push_str(&format!("\n{:<6} {}\n", r.method, r.path));
        if let Some(body) = r.body {
            text.push_str(&format!("       body: {body}\n"));
        }
        text.push_str(&format!("       {}\n", r.purpose));
    }
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response()
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioAsk {
    name: String,
}

/// `{"name": NAME}` builds that scenario through the sandbox's own URLs; answers [`Built`].
///
/// [`Built`]: super::scenario::Built
async fn scenario(State(shared): State<Arc<Shared>>, body: axum::body::Bytes) -> Response {
    let ask: ScenarioAsk = match serde_json::from_slice(&body) {
        Ok(ask) => ask,
        Err(err) => return bad(format!("expected {{\"name\": SCENARIO}}: {err}")),
    };
    let scenario = match ask.name.parse::<super::scenario::Scenario>() {
        Ok(scenario) => scenario,
        Err(err) => return bad(err),
    };
    match super::scenario::build_on(&shared, scenario).await {
        Ok(built) => Json(built).into_response(),
        Err(err) => bad(format!("scenario {scenario} failed at {err}")),
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
