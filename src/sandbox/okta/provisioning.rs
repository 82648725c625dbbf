//! The provisioning connection and the features of an app (okta-api.md §1, §6, §7): the
//! capability wall that the public API puts in front of most apps.
//!
//! What must hold: only apps of [`SUPPORTED`] (or named at `/_sandbox/okta/supported-apps`)
//! have these APIs; for any other app the connection reads back `UNKNOWN` (200) and writes and
//! features are 400 E0000001, as for an app without provisioning. The token given to the
//! connection is write-only: no answer carries it. An OIN app's base URL is its General
//! setting plus the SCIM path ([`oin_base`]).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::common::{OktaError, Q, R, invalid, not_found, ok, parse, the_app};
use super::provision::Job;
use super::{App, Connection, Okta, SUPPORTED, State, WS1_SCIM_PATH};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route(
            "/api/v1/apps/{app}/connections/default",
            get(get_connection).post(set_connection),
        )
        .route(
            "/api/v1/apps/{app}/connections/default/lifecycle/{op}",
            post(connection_lifecycle),
        )
        .route("/api/v1/apps/{app}/features", get(list_features))
        .route(
            "/api/v1/apps/{app}/features/{feature}",
            get(get_feature).put(put_feature),
        )
}

fn supported(s: &State, app: &App) -> bool {
    let name = app.json["name"].as_str().unwrap_or_default();
    SUPPORTED.contains(&name) || s.supported.contains(name)
}

/// The app, if its connection API is supported; else 400 E0000001 (okta-api.md §1, §6).
fn connection_app(s: &mut State, id: &str) -> Result<App, OktaError> {
    let app = the_app(s, id)?.clone();
    if !supported(s, &app) {
        return Err(invalid(
            "connection",
            "Provisioning connection is not supported for this application.",
        ));
    }
    Ok(app)
}

fn connection_view(app: &App, id: &str) -> Value {
    let (status, base) = match &app.connection {
        Some(c) => (
            if c.enabled { "ENABLED" } else { "DISABLED" },
            json!(c.base_url),
        ),
        None => ("DISABLED", Value::Null),
    };
    let op = if status == "ENABLED" {
        "deactivate"
    } else {
        "activate"
    };
    json!({"authScheme": "TOKEN", "status": status, "baseUrl": base, "profile": {"authScheme": "TOKEN"},
           "_links": {op: {"href": format!("/api/v1/apps/{id}/connections/default/lifecycle/{op}"), "hints": {"allow": ["POST"]}},
                      "self": {"href": format!("/api/v1/apps/{id}/connections/default"), "hints": {"allow": ["POST", "GET"]}}}})
}

/// Unsupported apps read back `UNKNOWN` (§1, §6).
async fn get_connection(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?.clone();
    if !supported(&s, &app) {
        return ok(
            json!({"authScheme": "UNKNOWN", "status": "UNKNOWN", "profile": {"authScheme": "UNKNOWN"}}),
        );
    }
    ok(connection_view(&app, &id))
}

/// The SCIM base URL an OIN app provisions to: its General setting's base URL plus the SCIM path.
pub(super) fn oin_base(app: &App) -> Option<String> {
    app.json["settings"]["app"]["baseUrl"]
        .as_str()
        .map(|b| format!("{}{WS1_SCIM_PATH}", b.trim_end_matches('/')))
}

async fn set_connection(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    Query(q): Q,
    body: Bytes,
) -> R {
    let body = parse(&body)?;
    let mut s = okta.lock();
    let app = connection_app(&mut s, &id)?;
    if body["profile"]["authScheme"] != "TOKEN" || !body["profile"]["token"].is_string() {
        return Err(invalid(
            "connection",
            "profile: authScheme TOKEN and a token are required",
        ));
    }
    let mut conn = app.connection.clone().unwrap_or_default();
    conn.token = body["profile"]["token"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // An OIN app's base URL is its General setting (reference/okta-api.md §5: the VMware app
    // asks for a Base URL there); `baseUrl` in the body is documented for a few apps only (§6).
    if let Some(base) = body["baseUrl"]
        .as_str()
        .map(String::from)
        .or(oin_base(&app))
    {
        conn.base_url = base;
    }
    conn.enabled = q.get("activate").is_some_and(|a| a == "true") || conn.enabled;
    let app = the_app(&mut s, &id)?;
    app.connection = Some(conn);
    let view = connection_view(app, &id);
    okta.enqueue(s, vec![Job::Probe { app: id }]);
    ok(view)
}

async fn connection_lifecycle(
    AxState(okta): AxState<Okta>,
    Path((id, op)): Path<(String, String)>,
) -> R {
    let mut s = okta.lock();
    connection_app(&mut s, &id)?;
    let app = the_app(&mut s, &id)?;
    let conn = app.connection.get_or_insert_with(Connection::default);
    conn.enabled = op == "activate";
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn feature_view(app: &App, id: &str) -> Value {
    let c = app.connection.clone().unwrap_or_default();
    let st = |b: bool| json!({"status": if b { "ENABLED" } else { "DISABLED" }});
    json!({"name": "USER_PROVISIONING", "status": if c.enabled { "ENABLED" } else { "DISABLED" },
           "description": "User provisioning settings from Okta to a downstream application",
           "capabilities": {"create": {"lifecycleCreate": st(c.create)},
                            "update": {"profile": st(c.update), "lifecycleDeactivate": st(c.deactivate),
                                       "password": {"status": "DISABLED", "seed": "RANDOM", "change": "KEEP_EXISTING"}}},
           "_links": {"self": {"href": format!("/api/v1/apps/{id}/features/USER_PROVISIONING"), "hints": {"allow": ["GET", "PUT"]}}}})
}

/// The wall of §1: 400 E0000001 unless the app is supported and has provisioning.
fn feature_app(s: &mut State, id: &str) -> Result<App, OktaError> {
    let app = the_app(s, id)?.clone();
    if !supported(s, &app) || app.connection.is_none() {
        return Err(invalid(
            "feature",
            "Provisioning is not enabled for the app instance.",
        ));
    }
    Ok(app)
}

async fn list_features(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let app = feature_app(&mut okta.lock(), &id)?;
    ok(json!([feature_view(&app, &id)]))
}

async fn get_feature(AxState(okta): AxState<Okta>, Path((id, f)): Path<(String, String)>) -> R {
    let app = feature_app(&mut okta.lock(), &id)?;
    if f != "USER_PROVISIONING" {
        return Err(not_found("feature"));
    }
    ok(feature_view(&app, &id))
}

async fn put_feature(
    AxState(okta): AxState<Okta>,
    Path((id, f)): Path<(String, String)>,
    body: Bytes,
) -> R {
    let body = parse(&body)?;
    let mut s = okta.lock();
    feature_app(&mut s, &id)?;
    if f != "USER_PROVISIONING" {
        return Err(not_found("feature"));
    }
    let app = the_app(&mut s, &id)?;
    let conn = app.connection.as_mut().expect("checked by feature_app");
    let flag = |v: &Value, cur: bool| v["status"].as_str().map_or(cur, |s| s == "ENABLED");
    conn.create = flag(&body["create"]["lifecycleCreate"], conn.create);
    conn.update = flag(&body["update"]["profile"], conn.update);
    conn.deactivate = flag(&body["update"]["lifecycleDeactivate"], conn.deactivate);
    ok(feature_view(app, &id))
}
