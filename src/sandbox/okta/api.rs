//! The HTTP surface of the Okta emulator: `/api/v1/...` routes with SSWS auth, rate-limit
//! headers per bucket, Okta error bodies and `Link` pagination, and the `/_sandbox/okta/`
//! control routes that stand in for the Admin Console.
//!
//! Handlers lock the state once, change it, and queue provisioning jobs after the lock is
//! released, so a push never sees a half-made change.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::provision::Job;
use super::{
    API_TOKEN, App, AppUser, Connection, Okta, SUPPORTED, State, WS1_SCIM_PATH, base_properties,
    default_mappings, find_user,
};

type Q = Query<HashMap<String, String>>;
/// An Okta error: HTTP status and (code, summary, causes).
pub struct OktaError(pub StatusCode, pub String, &'static str, Vec<String>);

impl OktaError {
    fn new(status: StatusCode, code: &'static str, summary: impl Into<String>) -> Self {
        let summary = summary.into();
        Self(status, summary, code, Vec::new())
    }
    fn cause(mut self, cause: impl Into<String>) -> Self {
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

fn not_found(what: &str) -> OktaError {
    OktaError::new(
        StatusCode::NOT_FOUND,
        "E0000007",
        format!("Not found: Resource not found: {what} ({what})"),
    )
}

fn invalid(what: &str, cause: impl Into<String>) -> OktaError {
    OktaError::new(
        StatusCode::BAD_REQUEST,
        "E0000001",
        format!("Api validation failed: {what}"),
    )
    .cause(cause)
}

type R = Result<Response, OktaError>;

fn ok(v: Value) -> R {
    Ok(axum::Json(v).into_response())
}

fn parse(body: &Bytes) -> Result<Value, OktaError> {
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

/// The vendor routes with auth, rate limits and Okta's 404/405 answers.
pub fn router(okta: Okta) -> Router {
    Router::new()
        .route("/api/v1/apps", get(list_apps).post(create_app_route))
        .route(
            "/api/v1/apps/{app}",
            get(get_app).put(put_app).delete(delete_app),
        )
        .route("/api/v1/apps/{app}/lifecycle/{op}", post(lifecycle))
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
        .route(
            "/api/v1/meta/schemas/apps/{app}/default",
            get(get_schema).post(post_schema),
        )
        .route("/api/v1/mappings", get(list_mappings))
        .route("/api/v1/mappings/{id}", get(get_mapping).post(post_mapping))
        .route(
            "/api/v1/apps/{app}/users",
            get(list_app_users).post(assign_user),
        )
        .route(
            "/api/v1/apps/{app}/users/{user}",
            get(get_app_user).delete(unassign_user),
        )
        .route("/api/v1/apps/{app}/groups", get(list_app_groups))
        .route(
            "/api/v1/apps/{app}/groups/{group}",
            get(get_app_group).put(assign_group).delete(unassign_group),
        )
        .route(
            "/api/v1/apps/{app}/group-push/mappings",
            get(list_pushes).post(create_push),
        )
        .route(
            "/api/v1/apps/{app}/group-push/mappings/{id}",
            get(get_push).patch(patch_push).delete(delete_push),
        )
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/groups/{id}", get(get_group))
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

/// Cursor paging with RFC 8288 `Link` headers: `after` is the last id of the previous page.
fn page<T>(
    items: Vec<(String, T)>,
    render: impl Fn(&T) -> Value,
    q: &HashMap<String, String>,
    default: usize,
    max: usize,
    headers: &HeaderMap,
    path: &str,
) -> Response {
    let limit = q
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(default)
        .clamp(1, max);
    let start = q
        .get("after")
        .and_then(|a| items.iter().position(|(id, _)| id == a).map(|p| p + 1))
        .unwrap_or(0);
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}{path}");
    let mut extra: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "limit")
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "%20").replace('"', "%22")))
        .collect();
    extra.sort();
    extra.push(format!("limit={limit}"));
    let rest = extra.join("&");
    let slice: Vec<Value> = items
        .iter()
        .skip(start)
        .take(limit)
        .map(|(_, v)| render(v))
        .collect();
    let mut resp = axum::Json(&slice).into_response();
    let mut links = vec![format!("<{base}?{rest}>; rel=\"self\"")];
    if start + limit < items.len() {
        let last = &items[start + limit - 1].0;
        links.push(format!("<{base}?after={last}&{rest}>; rel=\"next\""));
    }
    for l in links {
        resp.headers_mut()
            .append("link", HeaderValue::from_str(&l).expect("link is ASCII"));
    }
    resp
}

fn app_view(s: &State, id: &str) -> Value {
    let a = &s.apps[id];
    let mut v = a.json.clone();
    let mut features = Vec::new();
    if let Some(c) = a.connection.as_ref().filter(|c| c.enabled) {
        for (on, f) in [
            (c.create, "PUSH_NEW_USERS"),
            (c.update, "PUSH_PROFILE_UPDATES"),
            (c.deactivate, "PUSH_USER_DEACTIVATION"),
        ] {
            if on {
                features.push(json!(f));
            }
        }
        features.push(json!("GROUP_PUSH"));
    }
    v["features"] = Value::Array(features);
    v
}

fn the_app<'a>(s: &'a mut State, id: &str) -> Result<&'a mut App, OktaError> {
    s.apps.get_mut(id).ok_or_else(|| not_found("App"))
}

async fn list_apps(AxState(okta): AxState<Okta>, Query(q): Q, headers: HeaderMap) -> R {
    let s = okta.lock();
    let filter = match q.get("filter") {
        Some(f) => Some(parse_filter(f, &["name", "id", "status"])?),
        None => None,
    };
    let prefix = q.get("q").map(|p| p.to_lowercase());
    let items = s
        .apps
        .keys()
        .map(|id| (id.clone(), app_view(&s, id)))
        .filter(|(_, a)| {
            prefix.as_ref().is_none_or(|p| {
                ["name", "label"].iter().any(|k| {
                    a[k].as_str()
                        .is_some_and(|v| v.to_lowercase().starts_with(p))
                })
            }) && filter
                .as_ref()
                .is_none_or(|f| f.iter().all(|(k, v)| a[k.as_str()].as_str() == Some(v)))
        })
        .collect();
    Ok(page(
        items,
        Value::clone,
        &q,
        20,
        200,
        &headers,
        "/api/v1/apps",
    ))
}

/// `attr eq "value" [and ...]` with only the named attributes; else 400 E0000094 (§3).
fn parse_filter(f: &str, allowed: &[&str]) -> Result<Vec<(String, String)>, OktaError> {
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

async fn create_app_route(AxState(okta): AxState<Okta>, Query(q): Q, body: Bytes) -> R {
    let body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    let activate = q.get("activate").map(|a| a != "false").unwrap_or(true);
    let id = create_app(&mut s, body, activate, &now, &okta.readings()).map_err(|(e, _)| e)?;
    ok(app_view(&s, &id))
}

/// Creates an app (shared by the API and the seed); E0000040 on a duplicate label.
pub(super) fn create_app(
    s: &mut State,
    mut body: Value,
    activate: bool,
    now: &str,
    readings: &super::super::alternatives::Readings,
) -> Result<String, (OktaError, String)> {
    let fail = |e: OktaError, m: &str| (e, m.to_string());
    let label = body["label"]
        .as_str()
        .filter(|l| !l.is_empty())
        .map(String::from);
    let label = label.ok_or_else(|| {
        fail(
            invalid("app", "label: The field cannot be left blank"),
            "label missing",
        )
    })?;
    let name = body["name"]
        .as_str()
        .filter(|n| !n.is_empty())
        .map(String::from);
    let name = name.ok_or_else(|| {
        fail(
            invalid("app", "name: The field cannot be left blank"),
            "name missing",
        )
    })?;
    let known =
        super::CATALOG.contains(&name.as_str()) || super::SUPPORTED.contains(&name.as_str());
    if !known && name != readings.oin_name {
        return Err(fail(
            invalid(
                "app",
                format!("name: No application named '{name}' exists in the catalog."),
            ),
            "unknown app name",
        ));
    }
    check_label(s, &label, None).map_err(|e| fail(e, "duplicate label"))?;
    let id = s.id("0oa");
    let obj = body
        .as_object_mut()
        .ok_or_else(|| fail(invalid("app", "body must be an object"), "not an object"))?;
    for ro in ["features", "_links", "_embedded"] {
        obj.remove(ro);
    }
    obj.insert("id".into(), json!(id));
    obj.insert(
        "status".into(),
        json!(if activate { "ACTIVE" } else { "INACTIVE" }),
    );
    obj.insert("created".into(), json!(now));
    obj.insert("lastUpdated".into(), json!(now));
    fill_defaults(obj);
    obj.insert(
        "_links".into(),
        json!({"users": {"href": format!("/api/v1/apps/{id}/users")},
                                        "groups": {"href": format!("/api/v1/apps/{id}/groups")}}),
    );
    let mapping_id = s.id("prm");
    let reverse_mapping_id = s.id("prm");
    let app = App {
        json: body,
        base: base_properties(&name, readings),
        mappings: default_mappings(&name, readings),
        mapping_id,
        reverse_mapping_id,
        ..App::default()
    };
    s.apps.insert(id.clone(), app);
    Ok(id)
}

fn fill_defaults(obj: &mut Map<String, Value>) {
    let vis = obj.entry("visibility").or_insert_with(|| json!({}));
    if vis["hide"].is_null() {
        vis["hide"] = json!({"iOS": false, "web": false});
    }
    let creds = obj.entry("credentials").or_insert_with(|| json!({}));
    if creds["userNameTemplate"].is_null() {
        creds["userNameTemplate"] = json!({"template": "${source.login}", "type": "BUILT_IN"});
    }
    let settings = obj.entry("settings").or_insert_with(|| json!({}));
    if settings["app"].is_null() {
        settings["app"] = json!({});
    }
    if settings["notes"].is_null() {
        settings["notes"] = json!({"admin": null, "enduser": null});
    }
}

fn check_label(s: &State, label: &str, except: Option<&str>) -> Result<(), OktaError> {
    if s.apps
        .iter()
        .any(|(id, a)| Some(id.as_str()) != except && a.json["label"].as_str() == Some(label))
    {
        return Err(OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000040",
            "Application label must not be the same as an existing application label.",
        ));
    }
    Ok(())
}

async fn get_app(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let s = okta.lock();
    s.apps.get(&id).ok_or_else(|| not_found("App"))?;
    ok(app_view(&s, &id))
}

/// Full replace: everything but the read-only fields comes from the body (§4).
async fn put_app(AxState(okta): AxState<Okta>, Path(id): Path<String>, body: Bytes) -> R {
    let mut body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    let old = the_app(&mut s, &id)?.json.clone();
    let label = body["label"]
        .as_str()
        .filter(|l| !l.is_empty())
        .map(String::from);
    let label = label.ok_or_else(|| invalid("app", "label: The field cannot be left blank"))?;
    check_label(&s, &label, Some(&id))?;
    let obj = body
        .as_object_mut()
        .ok_or_else(|| invalid("app", "body must be an object"))?;
    for ro in ["id", "name", "status", "created", "_links"] {
        obj.insert(ro.into(), old[ro].clone());
    }
    obj.remove("features");
    obj.insert("lastUpdated".into(), json!(now));
    fill_defaults(obj);
    the_app(&mut s, &id)?.json = body;
    ok(app_view(&s, &id))
}

async fn delete_app(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let mut s = okta.lock();
    if the_app(&mut s, &id)?.json["status"] == "ACTIVE" {
        return Err(OktaError::new(
            StatusCode::FORBIDDEN,
            "E0000056",
            "Delete application forbidden.",
        )
        .cause("The application must be deactivated before it can be deleted."));
    }
    s.apps.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Lifecycle calls have no body but need `Content-Length` (411 otherwise, §3).
fn require_length(headers: &HeaderMap) -> Result<(), OktaError> {
    if headers.contains_key("content-length") || headers.contains_key("transfer-encoding") {
        return Ok(());
    }
    Err(OktaError::new(
        StatusCode::LENGTH_REQUIRED,
        "E0000001",
        "Api validation failed: Content-Length",
    )
    .cause("POST and PUT requests without a body must send Content-Length: 0"))
}

async fn lifecycle(
    AxState(okta): AxState<Okta>,
    Path((id, op)): Path<(String, String)>,
    headers: HeaderMap,
) -> R {
    require_length(&headers)?;
    let now = okta.now();
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    let status = match op.as_str() {
        "activate" => "ACTIVE",
        "deactivate" => "INACTIVE",
        _ => return Err(not_found("lifecycle operation")),
    };
    app.json["status"] = json!(status);
    app.json["lastUpdated"] = json!(now);
    ok(json!({}))
}

fn supported(s: &State, app: &App) -> bool {
    let name = app.json["name"].as_str().unwrap_or_default();
    SUPPORTED.contains(&name) || s.supported.contains(name)
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
fn oin_base(app: &App) -> Option<String> {
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
    let app = the_app(&mut s, &id)?.clone();
    if !supported(&s, &app) {
        return Err(invalid(
            "connection",
            "Provisioning connection is not supported for this application.",
        ));
    }
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
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, vec![Job::Probe { app: id }]);
    ok(view)
}

async fn connection_lifecycle(
    AxState(okta): AxState<Okta>,
    Path((id, op)): Path<(String, String)>,
) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?.clone();
    if !supported(&s, &app) {
        return Err(invalid(
            "connection",
            "Provisioning connection is not supported for this application.",
        ));
    }
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

fn schema_view(app: &App, id: &str) -> Value {
    json!({"id": format!("/meta/schemas/apps/{id}/default"), "$schema": "http://json-schema.org/draft-04/schema#",
           "name": app.json["name"], "title": app.json["label"], "type": "object",
           "created": app.json["created"], "lastUpdated": app.json["lastUpdated"],
           "definitions": {"base": {"id": "#base", "type": "object", "properties": app.base,
                                    "required": ["userName"]},
                           "custom": {"id": "#custom", "type": "object", "properties": app.custom,
                                      "required": app.custom_required}},
           "properties": {"profile": {"allOf": [{"$ref": "#/definitions/base"}, {"$ref": "#/definitions/custom"}]}}})
}

async fn get_schema(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let mut s = okta.lock();
    ok(schema_view(the_app(&mut s, &id)?, &id))
}

/// Partial update: custom properties added, replaced or removed by `null` (§8).
async fn post_schema(AxState(okta): AxState<Okta>, Path(id): Path<String>, body: Bytes) -> R {
    let body = parse(&body)?;
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    let mut custom = app.custom.clone();
    for (name, def) in body["definitions"]["custom"]["properties"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if def.is_null() {
            custom.remove(name);
            continue;
        }
        let title_ok = def["title"].as_str().is_some_and(|t| !t.is_empty());
        let type_ok = ["string", "boolean", "integer", "number", "array"]
            .contains(&def["type"].as_str().unwrap_or(""));
        if !title_ok || !type_ok || app.base.contains_key(name) {
            return Err(invalid(
                "GenericUserSchema",
                format!(
                    "Invalid property definition for {name}: title and a valid type are required, and base names are taken"
                ),
            ));
        }
        let mut def = def.clone();
        if let Some(o) = def.as_object_mut() {
            o.remove("union");
        }
        custom.insert(name.clone(), def);
    }
    for (name, def) in body["definitions"]["base"]["properties"]
        .as_object()
        .into_iter()
        .flatten()
    {
        let Some(existing) = app.base.get_mut(name) else {
            return Err(invalid(
                "GenericUserSchema",
                format!("Property {name} is not a base property"),
            ));
        };
        if let Some(r) = def.get("required") {
            existing["required"] = r.clone();
        }
    }
    app.custom_required = custom
        .iter()
        .filter(|(_, d)| d["required"] == true)
        .map(|(k, _)| k.clone())
        .collect();
    app.custom = custom;
    ok(schema_view(app, &id))
}

fn mapping_summary(s: &State, id: &str, app_id: &str, reverse: bool) -> Value {
    let app = &s.apps[app_id];
    let user = json!({"id": "oty00sandboxdefault", "name": "user", "type": "user"});
    let appuser = json!({"id": app_id, "name": app.json["name"], "type": "appuser"});
    let (source, target) = if reverse {
        (appuser, user)
    } else {
        (user, appuser)
    };
    json!({"id": id, "source": source, "target": target,
           "_links": {"self": {"href": format!("/api/v1/mappings/{id}")}}})
}

fn all_mappings(s: &State) -> Vec<(String, String, bool)> {
    let mut v: Vec<_> = s
        .apps
        .iter()
        .flat_map(|(id, a)| {
            [
                (a.mapping_id.clone(), id.clone(), false),
                (a.reverse_mapping_id.clone(), id.clone(), true),
            ]
        })
        .collect();
    v.sort();
    v
}

async fn list_mappings(AxState(okta): AxState<Okta>, Query(q): Q, headers: HeaderMap) -> R {
    let s = okta.lock();
    let items = all_mappings(&s)
        .into_iter()
        .map(|(id, app, rev)| (id.clone(), mapping_summary(&s, &id, &app, rev)))
        .filter(|(_, m)| {
            q.get("sourceId")
                .is_none_or(|x| m["source"]["id"] == x.as_str())
                && q.get("targetId")
                    .is_none_or(|x| m["target"]["id"] == x.as_str())
        })
        .collect();
    Ok(page(
        items,
        Value::clone,
        &q,
        20,
        200,
        &headers,
        "/api/v1/mappings",
    ))
}

fn mapping_full(s: &State, id: &str) -> Result<Value, OktaError> {
    let (id, app, rev) = all_mappings(s)
        .into_iter()
        .find(|m| m.0 == id)
        .ok_or_else(|| not_found("Mapping"))?;
    let mut v = mapping_summary(s, &id, &app, rev);
    v["properties"] = if rev {
        json!({})
    } else {
        Value::Object(s.apps[&app].mappings.clone())
    };
    Ok(v)
}

async fn get_mapping(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    ok(mapping_full(&okta.lock(), &id)?)
}

/// Partial update; `null` or `{expression:null}` removes (§9). Targets must be in the schema.
async fn post_mapping(AxState(okta): AxState<Okta>, Path(id): Path<String>, body: Bytes) -> R {
    let body = parse(&body)?;
    let mut s = okta.lock();
    let (_, app_id, rev) = all_mappings(&s)
        .into_iter()
        .find(|m| m.0 == id)
        .ok_or_else(|| not_found("Mapping"))?;
    if rev {
        return Err(invalid(
            "mapping",
            "This sandbox keeps no app-to-Okta mappings",
        ));
    }
    let app = the_app(&mut s, &app_id)?;
    let mut mappings = app.mappings.clone();
    let props = body["properties"]
        .as_object()
        .ok_or_else(|| invalid("mapping", "properties is required"))?;
    for (target, rule) in props {
        if rule.is_null() || rule["expression"].is_null() {
            mappings.remove(target);
            continue;
        }
        if !app.base.contains_key(target) && !app.custom.contains_key(target) {
            return Err(invalid(
                "mapping",
                format!("Property '{target}' is not defined in the target profile"),
            ));
        }
        let push = rule["pushStatus"].as_str().unwrap_or("PUSH");
        if !["PUSH", "DONT_PUSH"].contains(&push) || !rule["expression"].is_string() {
            return Err(invalid(
                "mapping",
                format!("Invalid mapping for '{target}'"),
            ));
        }
        mappings.insert(
            target.clone(),
            json!({"expression": rule["expression"], "pushStatus": push}),
        );
    }
    app.mappings = mappings;
    ok(mapping_full(&s, &id)?)
}

/// An app user; with `user` (from `expand=user`), the Okta user embedded in `_embedded`.
fn app_user_view(app: &str, id: &str, au: &AppUser, user: Option<&Value>) -> Value {
    let mut view = json!({"id": id, "externalId": au.external_id, "created": au.created, "lastUpdated": au.last_sync.as_ref().unwrap_or(&au.created),
    "scope": au.scope, "status": au.status, "statusChanged": au.created, "syncState": au.sync_state,
    "lastSync": au.last_sync, "credentials": {"userName": au.user_name}, "profile": au.profile,
    "_links": {"app": {"href": format!("/api/v1/apps/{app}")}, "user": {"href": format!("/api/v1/users/{id}")}},
    });
    if let Some(user) = user {
        view["_embedded"] = json!({"user": user});
    }
    view
}

/// The Okta user to embed in an app user's view, when `expand=user` asks for it and the
/// reading in force honours it (`okta.embed_users`).
fn embedded<'a>(
    okta: &Okta,
    s: &'a State,
    q: &HashMap<String, String>,
    uid: &str,
) -> Option<&'a Value> {
    (q.get("expand").map(String::as_str) == Some("user") && okta.readings().embed_users)
        .then(|| s.users.get(uid))
        .flatten()
}

/// Creates an app user (shared by the API, groups and the seed) and says which push it needs.
/// A queued push shows `STAGED` with the `queued` sync state (reading `okta.queued_sync_state`).
pub(super) fn assign(
    s: &mut State,
    app_id: &str,
    user: &str,
    scope: &'static str,
    now: &str,
    queued: &'static str,
) -> Result<Option<Job>, String> {
    let profile = s.users[user]["profile"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let app = s.apps.get_mut(app_id).ok_or("unknown app")?;
    if let Some(au) = app.users.get_mut(user) {
        if scope == "USER" {
            au.scope = "USER";
        }
        return Ok(None);
    }
    let template = app.json["credentials"]["userNameTemplate"]["template"]
        .as_str()
        .unwrap_or("${source.login}");
    let user_name = super::provision::username(template, &profile)?;
    let app_profile = super::provision::app_profile(&app.mappings, &profile).unwrap_or_default();
    let conn = app.connection.clone().filter(|c| c.enabled);
    let provisioning = conn.as_ref().is_some_and(|c| c.create);
    app.users.insert(
        user.to_string(),
        AppUser {
            scope,
            status: if provisioning { "STAGED" } else { "ACTIVE" },
            sync_state: if provisioning { queued } else { "DISABLED" },
            external_id: None,
            user_name,
            profile: app_profile,
            created: now.to_string(),
            last_sync: None,
            error: None,
        },
    );
    Ok(provisioning.then(|| Job::Provision {
        app: app_id.into(),
        user: user.into(),
    }))
}

async fn list_app_users(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> R {
    let s = okta.lock();
    let app = s.apps.get(&id).ok_or_else(|| not_found("App"))?;
    let prefix = q.get("q").map(|p| p.to_lowercase());
    let items = app
        .users
        .iter()
        .filter(|(uid, au)| {
            prefix.as_ref().is_none_or(|p| {
                au.user_name.to_lowercase().starts_with(p)
                    || ["firstName", "lastName", "email"].iter().any(|k| {
                        s.users[*uid]["profile"][k]
                            .as_str()
                            .is_some_and(|v| v.to_lowercase().starts_with(p))
                    })
            })
        })
        .map(|(uid, au)| (uid.clone(), (uid, au)))
        .collect();
    Ok(page(
        items,
        |(uid, au)| app_user_view(&id, uid, au, embedded(&okta, &s, &q, uid)),
        &q,
        50,
        500,
        &headers,
        &format!("/api/v1/apps/{id}/users"),
    ))
}

async fn assign_user(AxState(okta): AxState<Okta>, Path(id): Path<String>, body: Bytes) -> R {
    let body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    the_app(&mut s, &id)?;
    let uid = body["id"]
        .as_str()
        .ok_or_else(|| invalid("appUser", "id: The field cannot be left blank"))?;
    let uid = find_user(&s, uid)
        .filter(|u| s.users[u]["id"] == uid)
        .ok_or_else(|| not_found("User"))?;
    if s.apps[&id]
        .users
        .get(&uid)
        .is_some_and(|au| au.scope == "USER")
    {
        return Err(OktaError::new(
            StatusCode::CONFLICT,
            "E0000062",
            "The specified user is already assigned to the application.",
        ));
    }
    let job = assign(&mut s, &id, &uid, "USER", &now, okta.queued_sync_state())
        .map_err(|e| invalid("appUser", e))?;
    let view = app_user_view(&id, &uid, &s.apps[&id].users[&uid], None);
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, job.into_iter().collect());
    ok(view)
}

async fn get_app_user(
    AxState(okta): AxState<Okta>,
    Path((id, uid)): Path<(String, String)>,
    Query(q): Q,
) -> R {
    let s = okta.lock();
    let app = s.apps.get(&id).ok_or_else(|| not_found("App"))?;
    let au = app.users.get(&uid).ok_or_else(|| not_found("AppUser"))?;
    ok(app_user_view(&id, &uid, au, embedded(&okta, &s, &q, &uid)))
}

/// Removes an app user and queues its deactivation when Deactivate Users is on.
fn unassign(s: &mut State, app_id: &str, uid: &str) -> Option<Job> {
    let app = s.apps.get_mut(app_id)?;
    let au = app.users.remove(uid)?;
    app.connection
        .as_ref()
        .filter(|c| c.enabled && c.deactivate)?;
    au.external_id.map(|scim_id| Job::Deactivate {
        app: app_id.into(),
        user: uid.into(),
        scim_id,
    })
}

async fn unassign_user(AxState(okta): AxState<Okta>, Path((id, uid)): Path<(String, String)>) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?.clone();
    app.users.get(&uid).ok_or_else(|| not_found("AppUser"))?;
    let via_group = app
        .groups
        .keys()
        .any(|g| s.groups.get(g).is_some_and(|(_, m)| m.contains(&uid)));
    if via_group {
        return Err(OktaError::new(
            StatusCode::FORBIDDEN,
            "E0000046",
            "Deactivate application for user forbidden.",
        )
        .cause("The user is assigned to the application through a group."));
    }
    let job = unassign(&mut s, &id, &uid);
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, job.into_iter().collect());
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_app_groups(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?.clone();
    let prefix = q.get("q").map(|p| p.to_lowercase());
    let items = app
        .groups
        .iter()
        .filter(|(gid, _)| {
            prefix.as_ref().is_none_or(|p| {
                s.groups[*gid].0["profile"]["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().starts_with(p))
            })
        })
        .map(|(gid, v)| (gid.clone(), v.clone()))
        .collect();
    Ok(page(
        items,
        Value::clone,
        &q,
        20,
        200,
        &headers,
        &format!("/api/v1/apps/{id}/groups"),
    ))
}

async fn get_app_group(AxState(okta): AxState<Okta>, Path((id, gid)): Path<(String, String)>) -> R {
    let mut s = okta.lock();
    ok(the_app(&mut s, &id)?
        .groups
        .get(&gid)
        .cloned()
        .ok_or_else(|| not_found("AppGroup"))?)
}

/// Assigns a group: every member gets a GROUP-scoped app user (and a push when provisioning).
async fn assign_group(
    AxState(okta): AxState<Okta>,
    Path((id, gid)): Path<(String, String)>,
    body: Bytes,
) -> R {
    let body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    the_app(&mut s, &id)?;
    let members = s
        .groups
        .get(&gid)
        .map(|g| g.1.clone())
        .ok_or_else(|| not_found("Group"))?;
    let view = json!({"id": gid, "priority": body["priority"].as_i64().unwrap_or(0), "profile": body.get("profile").cloned().unwrap_or(json!({})),
                      "lastUpdated": now, "_links": {"app": {"href": format!("/api/v1/apps/{id}")}, "group": {"href": format!("/api/v1/groups/{gid}")},
                                                     "self": {"href": format!("/api/v1/apps/{id}/groups/{gid}")}}});
    the_app(&mut s, &id)?
        .groups
        .insert(gid.clone(), view.clone());
    let mut jobs = Vec::new();
    for uid in members {
        jobs.extend(
            assign(&mut s, &id, &uid, "GROUP", &now, okta.queued_sync_state())
                .map_err(|e| invalid("appGroup", e))?,
        );
    }
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, jobs);
    ok(view)
}

async fn unassign_group(
    AxState(okta): AxState<Okta>,
    Path((id, gid)): Path<(String, String)>,
) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    app.groups
        .remove(&gid)
        .ok_or_else(|| not_found("AppGroup"))?;
    let remaining: Vec<String> = app.groups.keys().cloned().collect();
    let members = s.groups.get(&gid).map(|g| g.1.clone()).unwrap_or_default();
    let mut jobs = Vec::new();
    for uid in members {
        let still = remaining
            .iter()
            .any(|g| s.groups.get(g).is_some_and(|(_, m)| m.contains(&uid)));
        let scope = s.apps[&id].users.get(&uid).map(|au| au.scope);
        if !still && scope == Some("GROUP") {
            jobs.extend(unassign(&mut s, &id, &uid));
        }
    }
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, jobs);
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn push_view(m: &Value) -> Value {
    let mut v = m.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("_targetGroupName");
    }
    v
}

async fn list_pushes(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> R {
    let refused = okta.readings().group_push_before_provisioning == "refused";
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    // Group push needs provisioning (the spec's tag text); one reading refuses even the list.
    if refused && !app.connection.as_ref().is_some_and(|c| c.enabled) {
        return Err(OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000027",
            "Group push bad request",
        )
        .cause("Provisioning is not enabled for the app instance."));
    }
    let items = app
        .pushes
        .iter()
        .filter(|(_, m)| {
            q.get("sourceGroupId")
                .is_none_or(|g| m["sourceGroupId"] == g.as_str())
                && q.get("status").is_none_or(|st| m["status"] == st.as_str())
        })
        .map(|(k, m)| (k.clone(), push_view(m)))
        .collect();
    Ok(page(
        items,
        Value::clone,
        &q,
        100,
        1000,
        &headers,
        &format!("/api/v1/apps/{id}/group-push/mappings"),
    ))
}

fn push_job(app: &str, m: &Value) -> Option<Job> {
    (m["status"] == "ACTIVE").then(|| Job::PushGroup {
        app: app.into(),
        mapping: m["id"].as_str().unwrap_or_default().into(),
    })
}

/// Group push needs provisioning on the app and exactly one target (§11); answers 200.
async fn create_push(AxState(okta): AxState<Okta>, Path(id): Path<String>, body: Bytes) -> R {
    let body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?.clone();
    let bad = |c: &str| {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000027",
            "Group push bad request",
        )
        .cause(c.to_string())
    };
    if app.connection.as_ref().is_none_or(|c| !c.enabled) {
        return Err(bad("Provisioning is not enabled for the app instance."));
    }
    let source = body["sourceGroupId"]
        .as_str()
        .filter(|g| s.groups.contains_key(*g))
        .ok_or_else(|| bad("sourceGroupId must name an existing group"))?;
    if body["targetGroupName"].is_string() == body["targetGroupId"].is_string() {
        return Err(bad(
            "Exactly one of targetGroupName and targetGroupId is required",
        ));
    }
    if app.pushes.values().any(|m| m["sourceGroupId"] == source) {
        return Err(bad("The group is already pushed to this app"));
    }
    let status = body["status"].as_str().unwrap_or("ACTIVE");
    if !["ACTIVE", "INACTIVE"].contains(&status) {
        return Err(bad("status must be ACTIVE or INACTIVE"));
    }
    let mid = s.id("gPm");
    let m = json!({"id": mid, "sourceGroupId": source, "targetGroupId": body["targetGroupId"], "status": status,
                   "created": now, "lastUpdated": now, "lastPush": null, "errorSummary": null,
                   "_targetGroupName": body["targetGroupName"],
                   "_links": {"app": {"href": format!("/api/v1/apps/{id}")}, "sourceGroup": {"href": format!("/api/v1/groups/{source}")}}});
    the_app(&mut s, &id)?.pushes.insert(mid, m.clone());
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, push_job(&id, &m).into_iter().collect());
    ok(push_view(&m))
}

async fn get_push(AxState(okta): AxState<Okta>, Path((id, mid)): Path<(String, String)>) -> R {
    let mut s = okta.lock();
    ok(push_view(
        the_app(&mut s, &id)?
            .pushes
            .get(&mid)
            .ok_or_else(|| not_found("GroupPushMapping"))?,
    ))
}

async fn patch_push(
    AxState(okta): AxState<Okta>,
    Path((id, mid)): Path<(String, String)>,
    body: Bytes,
) -> R {
    let body = parse(&body)?;
    let now = okta.now();
    let mut s = okta.lock();
    let m = the_app(&mut s, &id)?
        .pushes
        .get_mut(&mid)
        .ok_or_else(|| not_found("GroupPushMapping"))?;
    let status = body["status"]
        .as_str()
        .filter(|st| ["ACTIVE", "INACTIVE"].contains(st));
    let status = status.ok_or_else(|| {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000027",
            "Group push bad request",
        )
        .cause("status must be ACTIVE or INACTIVE")
    })?;
    let was_active = m["status"] == "ACTIVE";
    m["status"] = json!(status);
    m["lastUpdated"] = json!(now);
    let job = if was_active { None } else { push_job(&id, m) };
    let view = push_view(m);
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, job.into_iter().collect());
    ok(view)
}

/// Only INACTIVE mappings may go, and `deleteTargetGroup` must be given (§11).
async fn delete_push(
    AxState(okta): AxState<Okta>,
    Path((id, mid)): Path<(String, String)>,
    Query(q): Q,
) -> R {
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    let m = app
        .pushes
        .get(&mid)
        .ok_or_else(|| not_found("GroupPushMapping"))?;
    let bad = |c: &str| {
        OktaError::new(
            StatusCode::BAD_REQUEST,
            "E0000027",
            "Group push bad request",
        )
        .cause(c.to_string())
    };
    if m["status"] == "ACTIVE" {
        return Err(bad("The mapping must be INACTIVE before it can be deleted"));
    }
    if !q
        .get("deleteTargetGroup")
        .is_some_and(|d| d == "true" || d == "false")
    {
        return Err(bad("deleteTargetGroup is required"));
    }
    app.pushes.remove(&mid);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `filter`/`search` (`eq` joined by `and`) and `q` (prefix) over users (§10).
async fn list_users(AxState(okta): AxState<Okta>, Query(q): Q, headers: HeaderMap) -> R {
    let s = okta.lock();
    let allowed = [
        "status",
        "id",
        "profile.login",
        "profile.email",
        "profile.firstName",
        "profile.lastName",
    ];
    let mut terms = Vec::new();
    for key in ["filter", "search"] {
        if let Some(f) = q.get(key) {
            terms.extend(parse_filter(f, &allowed)?);
        }
    }
    let prefix = q.get("q").map(|p| p.to_lowercase());
    // The common lookup by login uses the index instead of scanning every user.
    let by_login: Option<Vec<(String, &Value)>> = match terms.as_slice() {
        [(k, v)] if k == "profile.login" && prefix.is_none() => Some(
            find_user(&s, v)
                .filter(|id| s.users[id]["profile"]["login"] == v.as_str())
                .map(|id| (id.clone(), &s.users[&id]))
                .into_iter()
                .collect(),
        ),
        _ => None,
    };
    if let Some(items) = by_login {
        return Ok(page(
            items,
            |u| Value::clone(u),
            &q,
            200,
            200,
            &headers,
            "/api/v1/users",
        ));
    }
    let items = s
        .users
        .iter()
        .filter(|(_, u)| {
            terms.iter().all(|(k, v)| {
                let field = k
                    .strip_prefix("profile.")
                    .map_or(&u[k.as_str()], |p| &u["profile"][p]);
                field.as_str() == Some(v.as_str())
            }) && prefix.as_ref().is_none_or(|p| {
                ["login", "firstName", "lastName", "email"].iter().any(|k| {
                    u["profile"][k]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().starts_with(p))
                })
            })
        })
        .map(|(id, u)| (id.clone(), u))
        .collect();
    Ok(page(
        items,
        |u| Value::clone(u),
        &q,
        200,
        200,
        &headers,
        "/api/v1/users",
    ))
}

async fn get_user(AxState(okta): AxState<Okta>, Path(key): Path<String>) -> R {
    let s = okta.lock();
    let id = find_user(&s, &key).ok_or_else(|| not_found("User"))?;
    ok(s.users[&id].clone())
}

async fn list_groups(AxState(okta): AxState<Okta>, Query(q): Q, headers: HeaderMap) -> R {
    let s = okta.lock();
    let mut terms = Vec::new();
    if let Some(f) = q.get("filter") {
        terms.extend(parse_filter(f, &["id", "type"])?);
    }
    if let Some(f) = q.get("search") {
        terms.extend(parse_filter(f, &["id", "type", "profile.name"])?);
    }
    let prefix = q.get("q").map(|p| p.to_lowercase());
    let items = s
        .groups
        .iter()
        .filter(|(_, (g, _))| {
            terms.iter().all(|(k, v)| {
                let field = k
                    .strip_prefix("profile.")
                    .map_or(&g[k.as_str()], |p| &g["profile"][p]);
                field.as_str() == Some(v.as_str())
            }) && prefix.as_ref().is_none_or(|p| {
                g["profile"]["name"]
                    .as_str()
                    .is_some_and(|n| n.to_lowercase().starts_with(p))
            })
        })
        .map(|(id, (g, _))| (id.clone(), g.clone()))
        .collect();
    Ok(page(
        items,
        Value::clone,
        &q,
        300,
        10_000,
        &headers,
        "/api/v1/groups",
    ))
}

async fn get_group(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let s = okta.lock();
    ok(s.groups
        .get(&id)
        .map(|g| g.0.clone())
        .ok_or_else(|| not_found("Group"))?)
}

// ---- Control routes: the Admin Console steps (mounted at /_sandbox/okta/). ----

/// The control routes; errors here are plain `{"error": "..."}`.
pub fn control_router(okta: Okta) -> Router {
    Router::new()
        .route("/apps/{app}/provisioning", post(ctl_provisioning))
        .route("/apps/{app}/apply-updates", post(ctl_apply_updates))
        .route("/apps/{app}/errors", get(ctl_errors))
        .route("/users/{user}", post(ctl_update_user))
        .route("/supported-apps", post(ctl_supported))
        .route("/rate-limit", post(ctl_rate_limit))
        .route("/wait", post(ctl_wait))
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
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, vec![Job::Probe { app: id }]);
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
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, jobs);
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
    let epoch = s.epoch;
    drop(s);
    okta.enqueue(epoch, jobs);
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
