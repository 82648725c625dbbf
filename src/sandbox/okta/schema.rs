//! The app user schema, Okta's Profile Editor for an app (okta-api.md §8): the base
//! attributes each app variant comes with and the custom ones added by partial `POST`.
//!
//! What must hold: a `POST` is a partial update (a property sent as `null` is removed); a
//! custom property needs a title and a known type and may not take a base name; `union` is
//! accepted and not echoed; base properties only change `required`. The attributes'
//! `externalName`/`externalNamespace` are what `provision.rs` builds SCIM bodies from.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::common::{R, invalid, ok, parse, the_app};
use super::{App, Okta, WORKSPACE, provision};

pub(super) fn routes() -> Router<Okta> {
    Router::new().route(
        "/api/v1/meta/schemas/apps/{app}/default",
        get(get_schema).post(post_schema),
    )
}

/// The base attributes of the app user schema per variant (okta-api.md §5, PRODUCT.md).
pub(super) fn base_properties(
    app_name: &str,
    readings: &super::super::alternatives::Readings,
) -> Map<String, Value> {
    let attr = |title: &str, ext: &str, ns: &str, required: bool| {
        json!({"title": title, "type": "string", "required": required, "scope": "NONE",
               "externalName": ext, "externalNamespace": ns,
               "master": {"type": "PROFILE_MASTER"}, "mutability": "READ_WRITE"})
    };
    let core = provision::CORE;
    let mut p = Map::new();
    p.insert("userName".into(), attr("Username", "userName", core, true));
    p.insert(
        "givenName".into(),
        attr("Given name", "name.givenName", core, false),
    );
    p.insert(
        "familyName".into(),
        attr("Family name", "name.familyName", core, false),
    );
    p.insert("email".into(), attr("Email", "emails", core, false));
    p.insert(
        "displayName".into(),
        attr("Display name", "displayName", core, false),
    );
    p.insert("locale".into(), attr("Locale", "locale", core, false));
    if app_name == readings.oin_name {
        p.insert(
            "internalUserType".into(),
            attr("Internal user type", "internalUserType", WORKSPACE, false),
        );
        // Whether the OIN profile carries `domain` is a reading (`okta.oin_profile_has_domain`).
        if readings.oin_profile_has_domain {
            p.insert("domain".into(), attr("Domain", "domain", WORKSPACE, false));
        }
        p.insert(
            "userPrincipalName".into(),
            attr("User principal name", "userPrincipalName", WORKSPACE, false),
        );
    }
    p
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
