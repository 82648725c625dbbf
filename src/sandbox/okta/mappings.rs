//! Profile mappings (okta-api.md §9): each app has one Okta-user → app-user mapping, with the
//! defaults Okta creates, and one app-user → Okta-user mapping that this sandbox keeps empty.
//!
//! What must hold: there is no create or delete (the mappings come and go with the app); a
//! `POST` is a partial update where `null` or `{"expression": null}` removes a property; a
//! target must exist in the app's schema. Pushes evaluate the mappings stored at push time.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::common::{Listing, MAPPINGS, OktaError, R, invalid, not_found, ok, parse, the_app};
use super::{Okta, State};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route("/api/v1/mappings", get(list_mappings))
        .route("/api/v1/mappings/{id}", get(get_mapping).post(post_mapping))
}

/// The mappings Okta creates with a SCIM app (displayName and locale included).
pub(super) fn default_mappings(
    app_name: &str,
    readings: &super::super::alternatives::Readings,
) -> Map<String, Value> {
    let mut m = Map::new();
    for (target, expr) in [
        ("givenName", "user.firstName"),
        ("familyName", "user.lastName"),
        ("email", "user.email"),
        ("displayName", "user.displayName"),
        ("locale", "user.locale"),
    ] {
        m.insert(
            target.into(),
            json!({"expression": expr, "pushStatus": "PUSH"}),
        );
    }
    if app_name == readings.oin_name {
        m.insert(
            "internalUserType".into(),
            json!({"expression": "\"PROVISIONED\"", "pushStatus": "PUSH"}),
        );
        m.insert(
            "userPrincipalName".into(),
            json!({"expression": "user.login", "pushStatus": "PUSH"}),
        );
    }
    m
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

async fn list_mappings(AxState(okta): AxState<Okta>, list: Listing) -> R {
    let q = &list.q;
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
    list.page(items, Value::clone, MAPPINGS, "/api/v1/mappings")
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
