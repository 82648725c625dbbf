//! The Admin Console steps Okta's public API does not offer, as control routes mounted at
//! `/_sandbox/okta/`: the Provisioning screens, "Apply updates now", the sync errors the
//! console shows, a directory change, the apps whose connection API is supported, the rate
//! limit, and waiting for queued pushes.
//!
//! What must hold: these routes are neither guarded, logged nor faulted (they are the control
//! plane, not Okta); their errors are plain `{"error": "..."}`; a new token is saved only after
//! it passed "Test API Credentials" (okta-api.md §12).

use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::super::control::Console;
use super::provision::Job;
use super::provisioning::oin_base;
use super::{Okta, find_user};

/// The control routes with their index entries; errors here are plain `{"error": "..."}`.
pub(super) fn console(okta: Okta) -> Console {
    Console::default()
        .route(
            Method::POST,
            "/apps/{app}/provisioning",
            Some(
                r#"{"baseUrl"?: URL, "token"?: TOKEN, "createUsers"?: BOOL, "updateUsers"?: BOOL, "deactivateUsers"?: BOOL, "enabled"?: BOOL}"#,
            ),
            "the console's Provisioning > Integration and To App step: a new token is tested like Test API Credentials, then saved (an OIN app's baseUrl is its own)",
            ctl_provisioning,
        )
        .route(
            Method::POST,
            "/apps/{app}/apply-updates",
            None,
            "the console's \"Apply updates now\": pushes every assigned user again",
            ctl_apply_updates,
        )
        .route(
            Method::GET,
            "/apps/{app}/errors",
            None,
            "the sync errors the console shows for the app's users and group pushes",
            ctl_errors,
        )
        .route(
            Method::POST,
            "/users/{user}",
            Some(r#"{PROFILE_ATTRIBUTE: VALUE, …}"#),
            "changes an Okta user's profile ({user}: id or login), as the directory would; pushed where Update Users is on",
            ctl_update_user,
        )
        .route(
            Method::POST,
            "/supported-apps",
            Some(r#"{"names": [APP_NAME, …]}"#),
            "lets the connection and features APIs accept apps of these internal names",
            ctl_supported,
        )
        .route(
            Method::POST,
            "/rate-limit",
            Some(r#"{"limit": N}"#),
            "sets every rate-limit bucket's requests per minute",
            ctl_rate_limit,
        )
        .route(
            Method::POST,
            "/wait",
            None,
            "answers once every queued push has run",
            ctl_wait,
        )
        .with_state(okta)
}

fn ctl_err(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({"error": msg.into()}))).into_response()
}

/// The Provisioning → Integration and To App screens: `{"baseUrl"?, "token", "createUsers",
/// "updateUsers", "deactivateUsers", "enabled"?}`. A new token is first tested the way "Test
/// API Credentials" does (okta-api.md §12: a SCIM `/Users` list with it must answer a
/// ListResponse with a `Resources` array; the probe's exact parameters are UNVERIFIED, so
/// `startIndex=1&count=2`, what Okta sends after saving); a refused token is not saved.
/// Saving probes the SCIM server (§12).
async fn ctl_provisioning(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return ctl_err(StatusCode::BAD_REQUEST, "body must be JSON");
    };
    if let Some(token) = body["token"].as_str() {
        let base = {
            let s = okta.lock();
            let Some(app) = s.apps.get(&id) else {
                return ctl_err(StatusCode::NOT_FOUND, "no such app");
            };
            body["baseUrl"]
                .as_str()
                .map(String::from)
                .or(oin_base(app))
                .or(app.connection.as_ref().map(|c| c.base_url.clone()))
                .unwrap_or_default()
        };
        if let Err(why) = okta.test_api_credentials(&base, token).await {
            return ctl_err(
                StatusCode::BAD_REQUEST,
                format!("Test API Credentials failed: {why}; nothing was saved"),
            );
        }
    }
    let mut s = okta.lock();
    let Some(app) = s.apps.get_mut(&id) else {
        return ctl_err(StatusCode::NOT_FOUND, "no such app");
    };
    let mut conn = app.connection.clone().unwrap_or_default();
    if let Some(base) = body["baseUrl"].as_str().map(String::from).or(oin_base(app)) {
        conn.base_url = base;
    }
    if let Some(t) = body["token"].as_str() {
        conn.token = t.to_string();
    }
    if conn.base_url.is_empty() || conn.token.is_empty() {
        return ctl_err(
            StatusCode::BAD_REQUEST,
            "baseUrl (or settings.app.baseUrl) and token are required",
        );
    }
    conn.enabled = body["enabled"].as_bool().unwrap_or(true);
    for (key, flag) in [
        ("createUsers", &mut conn.create),
        ("updateUsers", &mut conn.update),
        ("deactivateUsers", &mut conn.deactivate),
    ] {
        if let Some(b) = body[key].as_bool() {
            *flag = b;
        }
    }
    app.connection = Some(conn);
    okta.enqueue(s, vec![Job::Probe { app: id }]);
    axum::Json(json!({"ok": true})).into_response()
}

/// "Apply updates now": provisions unprovisioned users and re-pushes the rest.
async fn ctl_apply_updates(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> Response {
    let s = okta.lock();
    let Some(app) = s.apps.get(&id) else {
        return ctl_err(StatusCode::NOT_FOUND, "no such app");
    };
    let jobs: Vec<Job> = app
        .users
        .iter()
        .map(|(uid, au)| match au.external_id {
            Some(_) => Job::Update {
                app: id.clone(),
                user: uid.clone(),
            },
            None => Job::Provision {
                app: id.clone(),
                user: uid.clone(),
            },
        })
        .collect();
    let count = jobs.len();
    okta.enqueue(s, jobs);
    axum::Json(json!({"queued": count})).into_response()
}

async fn ctl_errors(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> Response {
    let s = okta.lock();
    let Some(app) = s.apps.get(&id) else {
        return ctl_err(StatusCode::NOT_FOUND, "no such app");
    };
    let errors: Vec<Value> = app
        .users
        .iter()
        .filter_map(|(uid, au)| {
            au.error
                .as_ref()
                .map(|e| json!({"userId": uid, "userName": au.user_name, "error": e}))
        })
        .chain(
            app.pushes
                .values()
                .filter(|m| m["status"] == "ERROR")
                .map(|m| json!({"groupPushId": m["id"], "error": m["errorSummary"]})),
        )
        .collect();
    axum::Json(errors).into_response()
}

/// Changes an Okta user's profile (as the directory would); pushed where Update Users is on.
async fn ctl_update_user(
    AxState(okta): AxState<Okta>,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(Value::Object(changes)) = serde_json::from_slice::<Value>(&body) else {
        return ctl_err(
            StatusCode::BAD_REQUEST,
            "body must be a JSON object of profile changes",
        );
    };
    let now = okta.now();
    let mut s = okta.lock();
    let Some(uid) = find_user(&s, &key) else {
        return ctl_err(StatusCode::NOT_FOUND, "no such user");
    };
    let user = s.users.get_mut(&uid).expect("found");
    let old_login = user["profile"]["login"].as_str().map(String::from);
    for (k, v) in changes {
        user["profile"][k] = v;
    }
    if let Some(new) = user["profile"]["login"].as_str().map(String::from) {
        old_login.map(|l| s.logins.remove(&l));
        s.logins.insert(new, uid.clone());
    }
    let user = s.users.get_mut(&uid).expect("found");
    user["lastUpdated"] = json!(now);
    let profile = user["profile"].as_object().cloned().unwrap_or_default();
    let mut jobs = Vec::new();
    for (app_id, app) in s.apps.iter_mut() {
        let Some(au) = app.users.get_mut(&uid) else {
            continue;
        };
        au.profile = super::provision::app_profile(&app.mappings, &profile).unwrap_or_default();
        if app
            .connection
            .as_ref()
            .is_some_and(|c| c.enabled && c.update)
            && au.external_id.is_some()
        {
            jobs.push(Job::Update {
                app: app_id.clone(),
                user: uid.clone(),
            });
        }
    }
    okta.enqueue(s, jobs);
    axum::Json(json!({"ok": true})).into_response()
}

/// Makes the connection/features APIs supported for the named app `name`s: `{"names":[...]}`.
async fn ctl_supported(AxState(okta): AxState<Okta>, body: Bytes) -> Response {
    let names: Option<Vec<String>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v["names"].clone()).ok());
    let Some(names) = names else {
        return ctl_err(StatusCode::BAD_REQUEST, "expected {\"names\": [..]}");
    };
    okta.lock().supported.extend(names);
    axum::Json(json!({"ok": true})).into_response()
}

/// Sets the per-bucket limit per minute: `{"limit": N}`.
async fn ctl_rate_limit(AxState(okta): AxState<Okta>, body: Bytes) -> Response {
    let limit = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["limit"].as_u64());
    let Some(limit) = limit.and_then(|l| u32::try_from(l).ok()) else {
        return ctl_err(StatusCode::BAD_REQUEST, "expected {\"limit\": N}");
    };
    let mut s = okta.lock();
    s.rate_limit = limit;
    s.buckets.clear();
    axum::Json(json!({"ok": true})).into_response()
}

/// Returns once every queued push has run.
async fn ctl_wait(AxState(okta): AxState<Okta>) -> Response {
    okta.wait_idle().await;
    axum::Json(json!({"ok": true})).into_response()
}
