//! Apps (okta-api.md §4, §5): list with `q`/`filter`, create (also used by the seed), get,
//! full-replace `PUT`, delete, and the activate/deactivate lifecycle.
//!
//! What must hold: an app's `features[]` is never stored, only computed from its provisioning
//! connection ([`app_view`]); read-only fields in a `PUT` body are ignored; labels are unique
//! (E0000040); names outside the catalog are refused (E0000001); only an INACTIVE app may be
//! deleted (E0000056, decided in `mod.rs`); a lifecycle call without `Content-Length` is 411.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use super::common::{
    APPS, Listing, NamePrefix, OktaError, Q, R, invalid, meets, not_found, ok, parse, parse_filter,
    the_app,
};
use super::mappings::default_mappings;
use super::schema::base_properties;
use super::{App, Okta, State};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route("/api/v1/apps", get(list_apps).post(create_app_route))
        .route(
            "/api/v1/apps/{app}",
            get(get_app).put(put_app).delete(delete_app),
        )
        .route("/api/v1/apps/{app}/lifecycle/{op}", post(lifecycle))
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

async fn list_apps(AxState(okta): AxState<Okta>, list: Listing) -> R {
    let q = &list.q;
    let s = okta.lock();
    let terms = match q.get("filter") {
        Some(f) => parse_filter(f, &["name", "id", "status"])?,
        None => Vec::new(),
    };
    let prefix = NamePrefix::of(q);
    let items = s
        .apps
        .keys()
        .map(|id| (id.clone(), app_view(&s, id)))
        .filter(|(_, a)| {
            prefix.fits(|| [a["name"].as_str(), a["label"].as_str()]) && meets(a, &terms)
        })
        .collect();
    list.page(items, Value::clone, APPS, "/api/v1/apps")
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
