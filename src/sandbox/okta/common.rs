//! What every route of the Okta emulator shares: Okta's error body (`errorCode`,
//! `errorSummary`, `errorLink`, `errorId`, `errorCauses`), cursor paging with RFC 8288 `Link`
//! headers, the `eq` filter subset, and the guard in front of every `/api/v1/...` route (SSWS
//! auth, then the rate limit of the request's bucket). [`router`] puts the resources' routes
//! together behind that guard.
//!
//! What must hold: every vendor answer, a 401 or a 429 included, carries the
//! `X-Rate-Limit-*` headers of its bucket (okta-api.md §3); every error is an [`OktaError`];
//! a list's `rel="next"` link is the only way to the next page (`after` is opaque to clients).
//! Handlers lock the state once, change it, and hand the lock to `Okta::enqueue` with the
//! pushes they queue: it releases the lock first, so a push never sees a half-made change.
//! Each list's page sizes are one line of a table here ([`Sizes`]).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Query, Request, State as AxState};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{API_TOKEN, App, Okta, State};

pub(super) type Q = Query<HashMap<String, String>>;

/// The vendor routes of every resource, behind the guard, with Okta's 404 and 405 answers.
pub(super) fn router(okta: Okta) -> Router {
    Router::new()
        .merge(super::apps::routes())
        .merge(super::provisioning::routes())
        .merge(super::schema::routes())
        .merge(super::mappings::routes())
        .merge(super::assignments::routes())
        .merge(super::group_push::routes())
        .merge(super::directory::routes())
        .fallback(|| async { not_found("path") })
        .method_not_allowed_fallback(|| async {
            OktaError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
            )
        })
        .layer(middleware::from_fn_with_state(okta.clone(), guard))
        .with_state(okta)
}

/// An Okta error: HTTP status and (code, summary, causes).
pub struct OktaError(pub StatusCode, pub String, &'static str, Vec<String>);

impl OktaError {
    pub(super) fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        let summary = summary.into();
        Self(status, summary, code, Vec::new())
    }
    pub(super) fn cause(mut self, cause: impl Into<String>) -> Self {
        self.3.push(cause.into());
        self
    }
}

impl IntoResponse for OktaError {
    fn into_response(self) -> Response {
        let causes: Vec<Value> = self.3.iter().map(|c| json!({"errorSummary": c})).collect();
        let body = json!({"errorCode": self.2, "errorSummary": self.1, "errorLink": self.2,
                          "errorId": format!("oae{:019x}", rand_id()), "errorCauses": causes});
        (self.0, axum::Json(body)).into_response()
    }
}

fn rand_id() -> u128 {
    use std::hash::{BuildHasher, RandomState};
    u128::from(RandomState::new().hash_one(0u8))
}

pub(super) fn not_found(what: &str) -> OktaError {
    OktaError::new(
        StatusCode::NOT_FOUND,
        "E0000007",
        format!("Not found: Resource not found: {what} ({what})"),
    )
}

pub(super) fn invalid(what: &str, cause: impl Into<String>) -> OktaError {
    OktaError::new(
        StatusCode::BAD_REQUEST,
        "E0000001",
        format!("Api validation failed: {what}"),
    )
    .cause(cause)
}

pub(super) type R = Result<Response, OktaError>;

pub(super) fn ok(v: Value) -> R {
    Ok(axum::Json(v).into_response())
}

pub(super) fn parse(body: &Bytes) -> Result<Value, OktaError> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000003",
            "The request body was not well-formed.",
        )
    })
}

/// The rate-limit bucket of a request (okta-api.md §3, TF `rate_limit_lines.go`).
fn bucket(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_start_matches("/api/v1/").split('/').collect();
    match parts.as_slice() {
        ["apps"] => "/api/v1/apps",
        ["apps", _] => "/api/v1/apps/{id}",
        ["apps", ..] => "/api/v1/apps",
        ["users"] => "/api/v1/users",
        ["users", ..] => "/api/v1/users/{id}",
        ["groups", ..] => "/api/v1/groups",
        _ => "/api/v1",
    }
}

/// Auth (SSWS), then the rate limit of the request's bucket; headers go on every answer.
async fn guard(AxState(okta): AxState<Okta>, req: Request, next: Next) -> Response {
    let b = bucket(req.uri().path());
    let now = okta.inner.clock.unix_seconds();
    let (limit, remaining, reset) = {
        let mut s = okta.lock();
        let limit = s.rate_limit;
        let entry = s.buckets.entry(b).or_insert((now, 0));
        if now >= entry.0 + 60 {
            *entry = (now, 0);
        }
        entry.1 += 1;
        (limit, limit.saturating_sub(entry.1), entry.0 + 60)
    };
    let authorized = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("SSWS "))
        == Some(API_TOKEN);
    let mut resp = if !authorized {
        OktaError::new(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        )
        .into_response()
    } else if remaining == 0 && okta.lock().buckets[b].1 > limit {
        OktaError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "E0000047",
            "API call exceeded rate limit due to too many requests.",
        )
        .into_response()
    } else {
        next.run(req).await
    };
    let h = resp.headers_mut();
    for (name, v) in [
        ("x-rate-limit-limit", limit as u64),
        ("x-rate-limit-remaining", remaining as u64),
        ("x-rate-limit-reset", reset),
    ] {
        h.insert(name, HeaderValue::from(v));
    }
    resp
}

/// A list's page sizes: `limit` when none is given, and the largest honoured (a larger one is
/// clamped to it).
#[derive(Clone, Copy)]
pub(super) struct Sizes {
    default: usize,
    max: usize,
}

impl Sizes {
    const fn new(default: usize, max: usize) -> Self {
        Self { default, max }
    }
}

// The page sizes of each list (okta-api.md §3 and the spec's `limit` parameters).
pub(super) const APPS: Sizes = Sizes::new(20, 200);
pub(super) const APP_USERS: Sizes = Sizes::new(50, 500);
pub(super) const APP_GROUPS: Sizes = Sizes::new(20, 200);
pub(super) const MAPPINGS: Sizes = Sizes::new(20, 200);
pub(super) const GROUP_PUSHES: Sizes = Sizes::new(100, 1000);
pub(super) const USERS: Sizes = Sizes::new(200, 200);
pub(super) const GROUPS: Sizes = Sizes::new(300, 10_000);
// The spec gives the default (1000, "a very high number due to historical reasons") and no
// maximum; the sandbox honours no more than the default (decided in `mod.rs`).
pub(super) const GROUP_MEMBERS: Sizes = Sizes::new(1000, 1000);

/// A list request: its query parameters and the host its `Link` headers point back to.
pub(super) struct Listing {
    pub(super) q: HashMap<String, String>,
    host: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Listing {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        let Query(q) = Q::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let host = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost")
            .to_string();
        Ok(Self { q, host })
    }
}

impl Listing {
    /// The page size asked for, within the endpoint's bounds.
    pub(super) fn limit(&self, sizes: Sizes) -> usize {
        self.q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(sizes.default)
            .clamp(1, sizes.max)
    }

    /// The items of `map` after the `after` cursor, in order: a large list need not be scanned
    /// from its start for every page, and a cursor whose item is gone still resumes in place.
    /// Take `limit + 1` of them (filtered as the list is) and give those to [`Listing::page`],
    /// which then finds no cursor among them and starts at the first.
    pub(super) fn rest<'a, V>(
        &self,
        map: &'a std::collections::BTreeMap<String, V>,
    ) -> impl Iterator<Item = (&'a String, &'a V)> {
        use std::ops::Bound::{Excluded, Unbounded};
        let after = self.q.get("after").map(String::as_str);
        match after {
            Some(after) => map.range::<str, _>((Excluded(after), Unbounded)),
            None => map.range::<str, _>((Unbounded, Unbounded)),
        }
    }

    /// The page `limit` and `after` ask for, with RFC 8288 `Link` headers: `self`, and `next`
    /// unless this is the last page (`after` there is the last id of this page).
    pub(super) fn page<K: AsRef<str>, T, V: serde::Serialize>(
        &self,
        items: Vec<(K, T)>,
        render: impl Fn(&T) -> V,
        sizes: Sizes,
        path: &str,
    ) -> R {
        let q = &self.q;
        let host = &self.host;
        let limit = self.limit(sizes);
        let start = q
            .get("after")
            .and_then(|a| {
                items
                    .iter()
                    .position(|(id, _)| id.as_ref() == a)
                    .map(|p| p + 1)
            })
            .unwrap_or(0);
        let base = format!("http://{host}{path}");
        let mut extra: Vec<String> = q
            .iter()
            .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "limit")
            .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20").replace('"', "%22")))
            .collect();
        extra.sort();
        extra.push(format!("limit={limit}"));
        let rest = extra.join("&");
        let slice: Vec<V> = items
            .iter()
            .skip(start)
            .take(limit)
            .map(|(_, v)| render(v))
            .collect();
        let mut resp = axum::Json(&slice).into_response();
        let mut links = vec![format!("<{base}?{rest}>; rel=\"self\"")];
        if start + limit < items.len() {
            let last = items[start + limit - 1].0.as_ref();
            links.push(format!("<{base}?after={last}&{rest}>; rel=\"next\""));
        }
        for l in links {
            resp.headers_mut()
                .append("link", HeaderValue::from_str(&l).expect("link is ASCII"));
        }
        Ok(resp)
    }
}

pub(super) fn the_app<'a>(s: &'a mut State, id: &str) -> Result<&'a mut App, OktaError> {
    s.apps.get_mut(id).ok_or_else(|| not_found("App"))
}

/// The value at `attr` of an Okta object; `profile.x` is `x` of its profile.
fn field<'a>(item: &'a Value, attr: &str) -> &'a Value {
    attr.strip_prefix("profile.")
        .map_or(&item[attr], |p| &item["profile"][p])
}

/// Whether `item` meets every term [`parse_filter`] gave (all of them when there are none).
pub(super) fn meets(item: &Value, terms: &[(String, String)]) -> bool {
    terms
        .iter()
        .all(|(attr, v)| field(item, attr).as_str() == Some(v.as_str()))
}

/// The `q` parameter of a list: a case-insensitive prefix of a name (okta-api.md §4, §10).
pub(super) struct NamePrefix(Option<String>);

impl NamePrefix {
    pub(super) fn of(q: &HashMap<String, String>) -> Self {
        Self(q.get("q").map(|p| p.to_lowercase()))
    }

    /// Whether one of the `names` starts with the prefix; without a prefix, every item fits
    /// and `names` is not called (a list scans every item on each page).
    pub(super) fn fits<'a, I>(&self, names: impl FnOnce() -> I) -> bool
    where
        I: IntoIterator<Item = Option<&'a str>>,
    {
        let Some(prefix) = &self.0 else {
            return true;
        };
        names()
            .into_iter()
            .flatten()
            .any(|n| n.to_lowercase().starts_with(prefix))
    }
}

/// `attr eq "value" [and ...]` with only the named attributes; else 400 E0000094 (§3).
pub(super) fn parse_filter(f: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, OktaError> {
    f.split(" and ")
        .map(|term| {
            let mut it = term.trim().splitn(3, ' ');
            match (it.next(), it.next(), it.next()) {
                (Some(attr), Some("eq"), Some(v)) if allowed.contains(&attr) => {
                    Ok((attr.to_string(), v.trim_matches('"').to_string()))
                }
                _ => Err(
                    OktaError::new(StatusCode::BAD_REQUEST, "E0000094", "Filter unsupported")
                        .cause(format!("Unsupported filter: {term}")),
                ),
            }
        })
        .collect()
}
