//! The Workspace ONE Access emulator: token endpoint, OAuth 2.0 clients, directories and the
//! SCIM 1.1 API, written from `../shared/reference/ws1-api.md` (section numbers below) and the
//! specs in `../shared/specs/ws1/`.
//!
//! State is one [`State`] behind a mutex; handlers lock it briefly and never across an await.
//! Every `/SAAS/jersey/manager/api/*` call checks the bearer token: its RS256 signature, its
//! `exp` against the sandbox clock, the `admin` scope, and that its client still exists (a
//! deleted client's tokens are revoked, §4.1).
//!
//! Decisions on UNVERIFIED points (each pinned by a test in `tests/it/sandbox_ws1.rs`):
//! - Missing or invalid bearer token → **401** with the SCIM guide's body
//!   `{"errors":[{"code":"forbidden","message":"User is not authorized to perform the task.",
//!   "parameters":null}]}`; a valid token without `admin` scope → **403** with the same body (§7).
//! - Media types (§2.3, KB 6000953): the vendor type of each endpoint and `application/json`
//!   are both accepted; anything else in `Content-Type` is 415. Answers use the vendor type
//!   when the request named one (in `Accept` or `Content-Type`), `application/json` otherwise.
//! - `GET /oauth2clients/{id}` never returns the `secret` (CONFLICT §1.7: the cloud UI shows it
//!   only once); only the create answer carries it. The list follows OA26's paged shape
//!   (`startIndex` 1-based, `pageSize` 50) and its items carry SW18's `mediaType` too.
//! - `PUT /oauth2clients/{id}` keeps tokens already issued (§4.1: effect UNVERIFIED); a token's
//!   `exp` is fixed at minting (§3.4). Default `accessTokenTTL` is 180 minutes (OADOC, 3 h).
//! - Token endpoint: a missing or unknown `grant_type` is 500 (documented, §3.3); a known grant
//!   other than `client_credentials` is 400 `unsupported_grant_type` (the sandbox mints only
//!   service tokens); `expires_in` is TTL − 1 s as observed (§1.2).
//! - Directories (§5): the list carries the System Directory (`LOCAL_DIRECTORY`, domain
//!   `System Domain`); list items carry no `domains` (read them at `{id}/domains`); create
//!   answers 201 with `directoryConfigurationId` (and `directoryConfigId`) while the list says
//!   `directoryId`. A duplicate directory name or a domain already used anywhere is 400. No
//!   write exists on a directory's domains: PUT/PATCH on `{id}` and POST on `{id}/domains` are
//!   405. DELETE answers 200 and removes the directory's users.
//! - SCIM (§6): `userName` is unique tenant-wide, case-insensitively (409); `startIndex` 0 and 1
//!   both mean the first item and the answer echoes what was asked; `count` defaults to 20 and
//!   has no maximum; a non-numeric or negative `startIndex`/`count` is 404 (SW18).
//! - **PUT on `/scim/Users/{id}` and `/scim/Groups/{id}` is 405**: no source documents it, and
//!   the setup guides leave Okta's "Update Users" off, which only makes sense if WS1 refuses
//!   Okta's SCIM 1.1 PUT. PATCH merges (`name` and extensions key by key) and answers 204.
//! - A user create with the workspace extension needs `name.givenName`, `name.familyName`,
//!   exactly one email and `externalId` (§6.3); without the extension only `userName` is needed
//!   and the user becomes a LOCAL user of the System Directory, silently. A `domain` that no
//!   directory has is 400. `active:false` sets `userStatus` "2" (§6.5, UNVERIFIED) and
//!   `active:true` sets it back to "1": Okta deactivates an unassigned user and reactivates a
//!   re-assigned one with exactly this PATCH (okta-api.md §12), and both emulators agree on it.
//! - User and group DELETE answer 204.

// Handlers short-circuit with the vendor's answer; boxing every early `Response` would only add
// noise to code that runs once per request.
#![allow(clippy::result_large_err)]

mod admin;
mod scim;
pub mod token;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Emulator;
use super::clock::Clock;
pub use super::layer::ADMIN_CLIENT_ID;

/// The pre-seeded admin client's secret (the sandbox's own fake credential).
pub const ADMIN_CLIENT_SECRET: &str = "sandbox-admin-secret";
/// A shared secret the user would choose for the SCIM client; nothing in WS1 holds it until
/// scimbridge creates that client.
pub const SCIM_SHARED_SECRET: &str = "sandbox-scim-shared-secret";
/// The System Directory's one domain.
pub const SYSTEM_DOMAIN: &str = "System Domain";

/// The WS1 Access emulator. Cloning shares the state.
#[derive(Clone)]
pub struct Ws1 {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    clock: Clock,
    /// The readings in force where the references leave a point open.
    alternatives: super::Alternatives,
    base_url: String,
    state: Mutex<State>,
}

/// One directory (§5).
#[derive(Clone, Debug)]
pub(crate) struct Directory {
    id: String,
    userstore_id: String,
    name: String,
    kind: String,
    domains: Vec<String>,
}

/// Everything the tenant holds.
pub(crate) struct State {
    /// OAuth clients by client id, as stored (secret included).
    clients: BTreeMap<String, Value>,
    /// Issued token ids → client id; deleting a client removes its entries (revocation).
    tokens: HashMap<String, String>,
    directories: Vec<Directory>,
    /// SCIM users by id, rendered without `groups` (computed on read).
    users: BTreeMap<String, Value>,
    user_names: HashMap<String, String>,
    groups: BTreeMap<String, Value>,
    version: u64,
}

impl State {
    fn new() -> Self {
        let mut state = State {
            clients: BTreeMap::new(),
            tokens: HashMap::new(),
            directories: vec![Directory {
                id: token::uuid(),
                userstore_id: token::uuid(),
                name: "System Directory".into(),
                kind: "LOCAL_DIRECTORY".into(),
                domains: vec![SYSTEM_DOMAIN.into()],
            }],
            users: BTreeMap::new(),
            user_names: HashMap::new(),
            groups: BTreeMap::new(),
            version: 0,
        };
        let admin = json!({
            "clientId": ADMIN_CLIENT_ID, "secret": ADMIN_CLIENT_SECRET, "scope": "admin",
            "authGrantTypes": "client_credentials", "rememberAs": ADMIN_CLIENT_ID,
            "accessTokenTTL": 180, "internalSystemClient": false,
        });
        admin::insert_client(&mut state, &admin).expect("the admin client is valid");
        state
    }

    fn next_version(&mut self) -> String {
        self.version += 1;
        format!("W/\"{:x}\"", self.version)
    }

    fn directory_of_domain(&self, domain: &str) -> Option<&Directory> {
        self.directories
            .iter()
            .find(|d| d.domains.iter().any(|x| x.eq_ignore_ascii_case(domain)))
    }
}

impl Ws1 {
    /// A just-started tenant at `base_url` (used for `iss`, `aud` and `Location`).
    pub fn new(clock: Clock, base_url: &str, alternatives: super::Alternatives) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                alternatives,
                base_url: base_url.trim_end_matches('/').to_string(),
                state: Mutex::new(State::new()),
            }),
        }
    }
}

impl Inner {
    /// The readings in force where the references leave a point open.
    fn readings(&self) -> super::alternatives::Readings {
        self.alternatives.get()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("ws1 state lock poisoned")
    }

    /// Checks the bearer token of an API call (§2.2, §7).
    fn authorize(&self, headers: &HeaderMap) -> Result<(), Response> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("HZN ")))
            .map(str::trim)
            .or_else(|| {
                headers
                    .get(header::COOKIE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("HZN=")))
            });
        let readings = self.readings();
        media_types_accepted(&readings, headers)?;
        let denied = |status| {
            error(
                status,
                "forbidden",
                "User is not authorized to perform the task.",
            )
        };
        // 401 or 403 for a bad token: the body is documented, its status is not (§7, §12.8).
        let bad_token =
            StatusCode::from_u16(readings.bad_token_status).unwrap_or(StatusCode::UNAUTHORIZED);
        let Some(claims) = token.and_then(token::verify) else {
            return Err(denied(bad_token));
        };
        let exp = claims.get("exp").and_then(Value::as_u64).unwrap_or(0);
        if exp <= self.clock.unix_seconds() {
            return Err(denied(bad_token));
        }
        let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
        if !self.lock().tokens.contains_key(jti) {
            return Err(denied(bad_token));
        }
        let scopes = claims.get("scp").and_then(Value::as_str).unwrap_or("");
        if !scopes.split(' ').any(|s| s == "admin") {
            return Err(denied(StatusCode::FORBIDDEN));
        }
        Ok(())
    }
}

/// Under `ws1.media_types = json_only` (after KB 6000953, §2.3), a vendor type in
/// `Content-Type` is 415 and in `Accept` 406; `application/json` is always fine.
fn media_types_accepted(
    readings: &super::alternatives::Readings,
    headers: &HeaderMap,
) -> Result<(), Response> {
    if readings.media_types != "json_only" {
        return Ok(());
    }
    let names_vendor = |h: header::HeaderName| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("vnd.vmware"))
    };
    if names_vendor(header::CONTENT_TYPE) {
        return Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported.media.type",
            "Content-Type must be application/json",
        ));
    }
    if names_vendor(header::ACCEPT) {
        return Err(error(
            StatusCode::NOT_ACCEPTABLE,
            "not.acceptable",
            "Only application/json is produced",
        ));
    }
    Ok(())
}

/// The `/SAAS/jersey/manager/api` error body (§7).
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message, "parameters": null}]});
    (status, axum::Json(body)).into_response()
}

/// Accepts the endpoint's vendor media type or `application/json` in `Content-Type` (§2.3).
pub(crate) fn check_content_type(headers: &HeaderMap, vendor: &str) -> Result<(), Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") || essence.eq_ignore_ascii_case(vendor) {
        Ok(())
    } else {
        Err(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported.media.type",
            &format!("Content-Type must be {vendor} or application/json"),
        ))
    }
}

/// A JSON answer typed with the vendor media type when the request named a vendor type.
pub(crate) fn answer(
    status: StatusCode,
    headers: &HeaderMap,
    vendor: &str,
    body: Value,
) -> Response {
    let asked_vendor = [header::ACCEPT, header::CONTENT_TYPE].iter().any(|h| {
        headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("vnd.vmware"))
    });
    let ct = if asked_vendor {
        vendor
    } else {
        "application/json"
    };
    let mut r = (status, body.to_string()).into_response();
    if let Ok(v) = HeaderValue::from_str(ct) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

impl Emulator for Ws1 {
    fn name(&self) -> &'static str {
        "ws1"
    }

    fn router(&self) -> Router {
        admin::router(self.inner.clone()).merge(scim::router(self.inner.clone()))
    }

    fn reset(&self) {
        *self.inner.lock() = State::new();
    }

    /// `{"ws1": {"clients": [client bodies], "directories": [{"name","domains"}],
    /// "users": [SCIM user bodies], "groups": [SCIM group bodies]}}`, created in that order
    /// with the same rules as the API.
    fn seed(&self, seed: &Value) -> Result<(), String> {
        let Some(part) = seed.get("ws1") else {
            return Ok(());
        };
        let now = self.inner.clock.now();
        let mut state = self.inner.lock();
        let list = |key: &str| {
            part.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        for client in list("clients") {
            admin::insert_client(&mut state, &client).map_err(|e| format!("ws1 client: {e}"))?;
        }
        for dir in list("directories") {
            admin::insert_directory(&mut state, &dir).map_err(|e| format!("ws1 directory: {e}"))?;
        }
        for user in list("users") {
            scim::insert_user(&mut state, &self.inner.base_url, now, user)
                .map_err(|e| format!("ws1 user: {e}"))?;
        }
        for group in list("groups") {
            scim::insert_group(&mut state, &self.inner.base_url, now, group)
                .map_err(|e| format!("ws1 group: {e}"))?;
        }
        Ok(())
    }
}

/// Why the tenant refused something: status, vendor-style error code, message.
#[derive(Debug)]
pub(crate) struct Refusal(StatusCode, &'static str, String);

impl Refusal {
    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Refusal(StatusCode::BAD_REQUEST, code, message.into())
    }

    fn into_response(self) -> Response {
        error(self.0, self.1, &self.2)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.0.as_u16(), self.1, self.2)
    }
}
