//! The machinery around every emulator's routes: request log, fault injection, latency and the
//! `Date` header, plus the [`Shared`] state the control plane edits.
//!
//! Everything here is deterministic in [`Mode::Explicit`] (the default): a 5xx ratio fails
//! exactly every n-th matching request, bursts count requests, and no latency is added unless a
//! fault asks for it. [`Mode::Auto`] adds a realistic 20–80 ms per vendor request for demos.
//! Control-plane requests (`/_sandbox/...`) are neither logged nor faulted.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::Emulator;
use super::clock::Clock;

/// The client id of the pre-seeded WS1 admin client: its token requests are reads, not writes.
pub const ADMIN_CLIENT_ID: &str = "scimbridge-admin";

/// State shared by every port of one sandbox: clock, log, faults, mode, the emulators.
pub struct Shared {
    pub clock: Clock,
    /// The readings in force where the references leave a point open.
    pub alternatives: super::Alternatives,
    log: Mutex<Vec<LogEntry>>,
    faults: Mutex<Vec<FaultState>>,
    mode: Mutex<Mode>,
    emulators: Mutex<Vec<Arc<dyn Emulator>>>,
    /// Where each service answers, once known ([`super::start`] sets it): the scenarios reach
    /// the services over HTTP, as a person would.
    urls: OnceLock<Urls>,
}

/// The services' base URLs (no trailing slash).
#[derive(Clone, Debug)]
pub struct Urls {
    pub okta: String,
    pub ws1: String,
}

/// How the sandbox behaves without explicit faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deterministic: no added latency (tests).
    #[default]
    Explicit,
    /// Realistic latency on every vendor request (demos).
    Auto,
}

/// One logged vendor request.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LogEntry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// The emulator's name ("ws1", "okta").
    pub service: String,
    pub method: String,
    /// Path with query string.
    pub path: String,
    pub status: u16,
    /// Sandbox time, Unix seconds.
    pub time: u64,
    /// Whether the request counts as a write (PRODUCT.md, "The sandbox"): anything but GET/HEAD,
    /// SCIM `.search` POSTs and token requests of scimbridge's own admin client.
    pub write: bool,
}

/// A fault rule. Requests match on service, method and a path pattern (`*` matches any run of
/// characters, the query string excluded). The first matching rule applies.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Fault {
    /// Only this service ("ws1", "okta"); all when absent.
    pub service: Option<String>,
    /// Only this method; all when absent.
    pub method: Option<String>,
    /// Path pattern, e.g. `/SAAS/jersey/manager/api/scim/*`.
    pub path: String,
    /// Only requests whose `Authorization: Basic` names this user (an OAuth client id): one
    /// client's token requests among others on the same endpoint.
    pub basic_user: Option<String>,
    /// Added latency before the request is served.
    pub latency_ms: u64,
    /// Fraction of matching requests answered with `error_status` (every n-th, deterministic).
    pub error_ratio: f64,
    /// Status for `error_ratio` failures (default 503).
    pub error_status: Option<u16>,
    /// The next N matching requests get 429 with `Retry-After`.
    pub burst_429: u32,
    /// `Retry-After` seconds on 429s (default 1).
    pub retry_after: Option<u64>,
    /// The next N matching requests have their connection dropped without an answer.
    pub drop: u32,
    /// The next N matching requests are served, then their answer is lost (the connection drops
    /// after the change took effect): the case of a create that succeeded unseen.
    pub lose_answer: u32,
}

struct FaultState {
    rule: Fault,
    seen: u64,
    bursts_left: u32,
    drops_left: u32,
    losses_left: u32,
}

impl Shared {
    /// Fresh shared state with the given clock and no emulators yet.
    pub fn new(clock: Clock, alternatives: super::Alternatives) -> Arc<Self> {
        Arc::new(Self {
            clock,
            alternatives,
            log: Mutex::new(Vec::new()),
            faults: Mutex::new(Vec::new()),
            mode: Mutex::new(Mode::default()),
            emulators: Mutex::new(Vec::new()),
            urls: OnceLock::new(),
        })
    }

    /// Records where the services answer; only the first call counts.
    pub fn set_urls(&self, urls: Urls) {
        let _ = self.urls.set(urls);
    }

    /// Where the services answer, if [`Shared::set_urls`] was called.
    pub fn urls(&self) -> Option<&Urls> {
        self.urls.get()
    }

    /// Registers an emulator so reset and seed reach it from any port.
    pub fn register(&self, emulator: Arc<dyn Emulator>) {
        let mut all = self.emulators.lock().expect("lock");
        if !all.iter().any(|e| e.name() == emulator.name()) {
            all.push(emulator);
        }
    }

    /// The registered emulators.
    pub fn emulators(&self) -> Vec<Arc<dyn Emulator>> {
        self.emulators.lock().expect("lock").clone()
    }

    /// The request log so far.
    pub fn requests(&self) -> Vec<LogEntry> {
        self.log.lock().expect("lock").clone()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.log.lock().expect("lock").clear();
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: Fault) {
        let state = FaultState {
            bursts_left: rule.burst_429,
            drops_left: rule.drop,
            losses_left: rule.lose_answer,
            seen: 0,
            rule,
        };
        self.faults.lock().expect("lock").push(state);
    }

    /// The fault rules, with bursts and drops still pending.
    pub fn faults(&self) -> Vec<Fault> {
        let faults = self.faults.lock().expect("lock");
        faults
            .iter()
            .map(|f| Fault {
                burst_429: f.bursts_left,
                drop: f.drops_left,
                lose_answer: f.losses_left,
                ..f.rule.clone()
            })
            .collect()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.faults.lock().expect("lock").clear();
    }

    pub fn mode(&self) -> Mode {
        *self.mode.lock().expect("lock")
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.mode.lock().expect("lock") = mode;
    }

    /// Back to the just-started state: emulators, clock, log, faults, mode.
    pub fn reset(&self) {
        for emulator in self.emulators() {
            emulator.reset();
        }
        self.clock.reset();
        self.alternatives.reset();
        self.clear_requests();
        self.clear_faults();
        self.set_mode(Mode::default());
    }

    /// Seeds every registered emulator from one document.
    pub fn seed(&self, doc: &serde_json::Value) -> Result<(), String> {
        for emulator in self.emulators() {
            emulator.seed(doc)?;
        }
        Ok(())
    }

    fn record(&self, service: &str, method: &Method, path: String, status: u16, write: bool) {
        let mut log = self.log.lock().expect("lock");
        let seq = log.len() as u64;
        log.push(LogEntry {
            seq,
            service: service.to_string(),
            method: method.to_string(),
            path,
            status,
            time: self.clock.unix_seconds(),
            write,
        });
    }

    /// What the first matching fault rule says to do with this request.
    fn decide(
        &self,
        service: &str,
        method: &Method,
        path: &str,
        headers: &axum::http::HeaderMap,
    ) -> Action {
        let user = basic_user(headers);
        let mut faults = self.faults.lock().expect("lock");
        let Some(f) = faults.iter_mut().find(|f| {
            f.rule.service.as_deref().is_none_or(|s| s == service)
                && f.rule
                    .basic_user
                    .as_deref()
                    .is_none_or(|u| user.as_deref() == Some(u))
                && f.rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && glob(&f.rule.path, path)
        }) else {
            return Action::default();
        };
        let latency = Duration::from_millis(f.rule.latency_ms);
        if f.drops_left > 0 {
            f.drops_left -= 1;
            return Action {
                latency,
                outcome: Outcome::Drop,
            };
        }
        if f.losses_left > 0 {
            f.losses_left -= 1;
            return Action {
                latency,
                outcome: Outcome::LoseAnswer,
            };
        }
        if f.bursts_left > 0 {
            f.bursts_left -= 1;
            let after = f.rule.retry_after.unwrap_or(1);
            return Action {
                latency,
                outcome: Outcome::TooMany(after),
            };
        }
        // Every n-th request fails: the failure count after this request is floor(seen * ratio).
        let before = (f.seen as f64 * f.rule.error_ratio).floor();
        f.seen += 1;
        let after = (f.seen as f64 * f.rule.error_ratio).floor();
        if after > before {
            let status = f.rule.error_status.unwrap_or(503);
            return Action {
                latency,
                outcome: Outcome::Error(status),
            };
        }
        Action {
            latency,
            outcome: Outcome::Pass,
        }
    }
}

#[derive(Default)]
struct Action {
    latency: Duration,
    outcome: Outcome,
}

#[derive(Default)]
enum Outcome {
    #[default]
    Pass,
    Error(u16),
    TooMany(u64),
    Drop,
    LoseAnswer,
}

/// The user named by an `Authorization: Basic` header, if any.
fn basic_user(headers: &axum::http::HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(
        text.split_once(':')
            .map_or(text.clone(), |(u, _)| u.to_owned()),
    )
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether a request is a write in the sense of PRODUCT.md ("The sandbox").
fn is_write(method: &Method, path: &str, headers: &axum::http::HeaderMap) -> bool {
    if method == Method::GET || method == Method::HEAD {
        return false;
    }
    if path.ends_with("/.search") {
        return false;
    }
    if path.ends_with("/oauthtoken") || path.ends_with("/oauth2/token") {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "))
            .and_then(|b| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD
                    .decode(b.trim())
                    .ok()
            })
            .and_then(|b| String::from_utf8(b).ok());
        return basic.is_none_or(|b| b.split(':').next() != Some(ADMIN_CLIENT_ID));
    }
    true
}

/// The state the middleware needs: which service it wraps and the shared sandbox.
#[derive(Clone)]
pub struct LayerState {
    pub service: &'static str,
    pub shared: Arc<Shared>,
}

/// Middleware around an emulator's routes: faults, latency, `Date`, request log.
pub async fn vendor_layer(State(st): State<LayerState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let full = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_else(|| path.clone());
    let write = is_write(&method, &path, req.headers());
    let action = st.shared.decide(st.service, &method, &path, req.headers());
    let mut latency = action.latency;
    if st.shared.mode() == Mode::Auto {
        // Realistic, varied latency for demos; the jitter needs no randomness to look natural.
        latency += Duration::from_millis(20 + (st.shared.requests().len() as u64 * 37) % 60);
    }
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut response = match action.outcome {
        Outcome::Pass => next.run(req).await,
        Outcome::LoseAnswer => {
            let served = next.run(req).await;
            st.shared.record(st.service, &method, full, 0, write);
            // The change is made; only the answer never arrives.
            drop(served);
            return dropped();
        }
        Outcome::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            (status, "injected fault\n").into_response()
        }
        Outcome::TooMany(after) => {
            let mut r = (
                StatusCode::TOO_MANY_REQUESTS,
                "Received too many requests. Please try after some time.\n",
            )
                .into_response();
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(after));
            r
        }
        Outcome::Drop => {
            st.shared.record(st.service, &method, full, 0, write);
            return dropped();
        }
    };
    let date = httpdate::fmt_http_date(st.shared.clock.now());
    if let Ok(value) = HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    st.shared
        .record(st.service, &method, full, response.status().as_u16(), write);
    response
}

/// A response whose body fails at once: the server aborts the connection before a complete
/// answer reaches the client, which sees a closed connection (logged with status 0).
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::other("injected drop"))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("1000"));
    r
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_stars_and_literals() {
        assert!(glob("/a/*", "/a/b/c"));
        assert!(glob("*", "/x"));
        assert!(glob("/a/*/c", "/a/b/c"));
        assert!(!glob("/a/*/c", "/a/b/d"));
        assert!(glob("/a", "/a"));
        assert!(!glob("/a", "/ab"));
    }
}
