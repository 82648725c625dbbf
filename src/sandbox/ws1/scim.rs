//! SCIM 1.1 Users and Groups of the WS1 emulator (§6): list with `filter`/`startIndex`/`count`,
//! `.search`, get, create, PATCH, DELETE; PUT is refused (see the module decisions in `mod.rs`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value, json};

use super::{Inner, Refusal, SYSTEM_DOMAIN, token};

const SCIM: &str = "/SAAS/jersey/manager/api/scim";
const CORE: &str = "urn:scim:schemas:core:1.0";
const WORKSPACE: &str = "urn:scim:schemas:extension:workspace:1.0";
const ENTERPRISE: &str = "urn:scim:schemas:extension:enterprise:1.0";
/// The built-in "User" role every new user gets (§6.3).
const USER_ROLE: &str = "5b4a3b1e-0c1f-4e0a-9d52-7f1b7c3e2a10";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Users,
    Groups,
}

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    Router::new()
        .route(
            &format!("{SCIM}/Users"),
            get(|s, q, h| list(s, q, h, Kind::Users)).post(create_user),
        )
        .route(
            &format!("{SCIM}/Users/.search"),
            post(|s, h, b| search(s, h, b, Kind::Users)),
        )
        .route(
            &format!("{SCIM}/Users/{{id}}"),
            get(|s, p, h| get_one(s, p, h, Kind::Users))
                .patch(patch_user)
                .put(put_user)
                .delete(|s, p, h| delete(s, p, h, Kind::Users)),
        )
        .route(
            &format!("{SCIM}/Groups"),
            get(|s, q, h| list(s, q, h, Kind::Groups)).post(create_group),
        )
        .route(
            &format!("{SCIM}/Groups/.search"),
            post(|s, h, b| search(s, h, b, Kind::Groups)),
        )
        .route(
            &format!("{SCIM}/Groups/{{id}}"),
            get(|s, p, h| get_one(s, p, h, Kind::Groups))
                .patch(patch_group)
                .put(|s: State<Arc<Inner>>, h: HeaderMap| refuse_put(s, h))
                .delete(|s, p, h| delete(s, p, h, Kind::Groups)),
        )
        .with_state(inner)
}

fn rfc3339(t: SystemTime) -> String {
    // httpdate gives RFC 7231; SCIM `meta` uses ISO 8601, built here from Unix seconds.
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn text<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Validates and stores a user (§6.3); answers the stored user.
pub(crate) fn insert_user(
    state: &mut super::State,
    base: &str,
    now: SystemTime,
    body: Value,
) -> Result<Value, Refusal> {
    let Value::Object(mut user) = body else {
        return Err(Refusal::bad(
            "invalid.request",
            "the body must be a JSON object",
        ));
    };
    let name = text(&Value::Object(user.clone()), &["userName"])
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(Refusal::bad(
            "scim.userName.required",
            "userName is required",
        ));
    }
    let ext = user.get(WORKSPACE).cloned();
    let (directory, ext) = match ext {
        // Without the extension WS1 makes a local user in the System Directory, silently (§1.6).
        None => {
            let system = state
                .directory_of_domain(SYSTEM_DOMAIN)
                .expect("System Directory")
                .clone();
            (
                system,
                json!({"internalUserType": "LOCAL", "domain": SYSTEM_DOMAIN}),
            )
        }
        Some(Value::Object(mut ext)) => {
            let domain = ext
                .get("domain")
                .and_then(Value::as_str)
                .unwrap_or(SYSTEM_DOMAIN)
                .to_string();
            let Some(dir) = state.directory_of_domain(&domain).cloned() else {
                return Err(Refusal::bad(
                    "scim.domain.unknown",
                    format!("No directory has the domain {domain}."),
                ));
            };
            if dir.kind == "OTHER_DIRECTORY" {
                let u = Value::Object(user.clone());
                let emails = u
                    .get("emails")
                    .and_then(Value::as_array)
                    .map_or(0, Vec::len);
                if text(&u, &["name", "givenName"]).is_empty()
                    || text(&u, &["name", "familyName"]).is_empty()
                    || text(&u, &["externalId"]).is_empty()
                    || emails != 1
                {
                    return Err(Refusal::bad(
                        "scim.user.attributes.invalid",
                        "A provisioned user needs name.givenName, name.familyName, externalId and exactly one email.",
                    ));
                }
                ext.entry("internalUserType")
                    .or_insert(json!("PROVISIONED"));
            } else {
                ext.insert("internalUserType".into(), json!("LOCAL"));
            }
            ext.insert("domain".into(), json!(dir.domains[0]));
            (dir, Value::Object(ext))
        }
        Some(_) => {
            return Err(Refusal::bad(
                "invalid.request",
                format!("{WORKSPACE} must be an object"),
            ));
        }
    };
    let key = name.to_lowercase();
    if state.user_names.contains_key(&key) {
        return Err(Refusal(
            StatusCode::CONFLICT,
            "scim.userName.exists",
            format!("User name {name} already exists."),
        ));
    }
    let id = token::uuid();
    let mut ext = ext;
    ext["userStoreUuid"] = json!(dir_store(&directory));
    let active = user.get("active").and_then(Value::as_bool).unwrap_or(true);
    ext["userStatus"] = json!(if active { "1" } else { "2" });
    user.insert(WORKSPACE.into(), ext);
    user.insert("id".into(), json!(id));
    user.insert("userName".into(), json!(name));
    user.insert("active".into(), json!(active));
    user.insert("schemas".into(), json!([CORE, WORKSPACE, ENTERPRISE]));
    user.insert(
        "roles".into(),
        json!([{"value": USER_ROLE, "display": "User"}]),
    );
    user.remove("password");
    user.remove("groups");
    let created = rfc3339(now);
    let version = state.next_version();
    user.insert(
        "meta".into(),
        json!({"created": created, "lastModified": created, "location": format!("{base}{SCIM}/Users/{id}"), "version": version}),
    );
    let user = Value::Object(user);
    state.user_names.insert(key, id.clone());
    state.users.insert(id, user.clone());
    Ok(user)
}

fn dir_store(d: &super::Directory) -> &str {
    &d.userstore_id
}

/// Validates and stores a group; answers it.
pub(crate) fn insert_group(
    state: &mut super::State,
    base: &str,
    now: SystemTime,
    body: Value,
) -> Result<Value, Refusal> {
    let Value::Object(mut group) = body else {
        return Err(Refusal::bad(
            "invalid.request",
            "the body must be a JSON object",
        ));
    };
    let name = group
        .get("displayName")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(Refusal::bad(
            "scim.displayName.required",
            "displayName is required",
        ));
    }
    if state
        .groups
        .values()
        .any(|g| text(g, &["displayName"]).eq_ignore_ascii_case(&name))
    {
        return Err(Refusal(
            StatusCode::CONFLICT,
            "scim.displayName.exists",
            format!("Group {name} already exists."),
        ));
    }
    let members = members_of(state, group.get("members"), &[])?;
    let mut ext = group.get(WORKSPACE).cloned().unwrap_or_else(|| json!({}));
    if !ext.is_object() {
        return Err(Refusal::bad(
            "invalid.request",
            format!("{WORKSPACE} must be an object"),
        ));
    }
    // Without the extension a plain create makes a local group (§6.5).
    ext.as_object_mut()
        .expect("object")
        .entry("internalGroupType")
        .or_insert(json!("INTERNAL"));
    ext.as_object_mut()
        .expect("object")
        .entry("domain")
        .or_insert(json!(SYSTEM_DOMAIN));
    let id = token::uuid();
    let created = rfc3339(now);
    let version = state.next_version();
    group.insert("id".into(), json!(id));
    group.insert("displayName".into(), json!(name));
    group.insert("members".into(), Value::Array(members));
    group.insert(WORKSPACE.into(), ext);
    group.insert("schemas".into(), json!([CORE, WORKSPACE]));
    group.insert(
        "meta".into(),
        json!({"created": created, "lastModified": created, "location": format!("{base}{SCIM}/Groups/{id}"), "version": version}),
    );
    let group = Value::Object(group);
    state.groups.insert(id, group.clone());
    Ok(group)
}

/// Applies SCIM 1.1 member entries (`operation: "delete"` removes) to `current`.
fn members_of(
    state: &super::State,
    entries: Option<&Value>,
    current: &[Value],
) -> Result<Vec<Value>, Refusal> {
    let mut members: Vec<Value> = current.to_vec();
    let Some(entries) = entries else {
        return Ok(members);
    };
    let Some(entries) = entries.as_array() else {
        return Err(Refusal::bad("invalid.request", "members must be an array"));
    };
    for e in entries {
        let id = text(e, &["value"]).to_string();
        members.retain(|m| text(m, &["value"]) != id);
        if e.get("operation").and_then(Value::as_str) == Some("delete") {
            continue;
        }
        let Some(user) = state.users.get(&id) else {
            return Err(Refusal::bad(
                "scim.member.unknown",
                format!("No user {id}."),
            ));
        };
        members.push(json!({"value": id, "display": user["userName"], "type": "User"}));
    }
    Ok(members)
}

/// Removes every user of a user store (a deleted directory's users go with it).
pub(crate) fn remove_users_of(state: &mut super::State, userstore: &str) {
    let gone: Vec<String> = state
        .users
        .iter()
        .filter(|(_, u)| text(u, &[WORKSPACE, "userStoreUuid"]) == userstore)
        .map(|(id, _)| id.clone())
        .collect();
    for id in gone {
        remove_user(state, &id);
    }
}

fn remove_user(state: &mut super::State, id: &str) -> bool {
    let Some(user) = state.users.remove(id) else {
        return false;
    };
    state
        .user_names
        .remove(&text(&user, &["userName"]).to_lowercase());
    for g in state.groups.values_mut() {
        if let Some(m) = g.get_mut("members").and_then(Value::as_array_mut) {
            m.retain(|m| text(m, &["value"]) != id);
        }
    }
    true
}

/// A user as read: with `groups` from group membership.
fn user_view(state: &super::State, user: &Value) -> Value {
    let id = text(user, &["id"]);
    let groups: Vec<Value> = state
        .groups
        .values()
        .filter(|g| {
            g["members"]
                .as_array()
                .is_some_and(|m| m.iter().any(|m| text(m, &["value"]) == id))
        })
        .map(|g| json!({"value": g["id"], "display": g["displayName"], "type": "direct"}))
        .collect();
    let mut v = user.clone();
    v["groups"] = Value::Array(groups);
    v
}

/// One `attr op value` filter (§6.4: eq, co, sw, gt, ge, lt, le; names case-insensitive).
struct Filter {
    path: Vec<String>,
    op: String,
    value: String,
}

fn parse_filter(f: &str) -> Option<Filter> {
    let f = f.trim();
    let (attr, rest) = f.split_once(char::is_whitespace)?;
    let (op, value) = rest.trim_start().split_once(char::is_whitespace)?;
    let op = op.to_ascii_lowercase();
    if !["eq", "co", "sw", "gt", "ge", "lt", "le"].contains(&op.as_str()) {
        return None;
    }
    let value = value.trim();
    let value = match value.strip_prefix('"') {
        Some(v) => v.strip_suffix('"')?.replace("\\\"", "\""),
        None if ["true", "false"].contains(&value) || value.parse::<f64>().is_ok() => {
            value.to_string()
        }
        None => return None,
    };
    Some(Filter {
        path: attr.split('.').map(str::to_lowercase).collect(),
        op,
        value,
    })
}

/// Every value at a case-insensitive path; arrays fan out, the workspace extension is searched
/// when the core resource lacks the first name.
fn values_at(v: &Value, path: &[String]) -> Vec<String> {
    fn walk(v: &Value, path: &[String], out: &mut Vec<String>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| walk(i, path, out)),
            _ if path.is_empty() => match v {
                Value::String(s) => out.push(s.clone()),
                Value::Bool(b) => out.push(b.to_string()),
                Value::Number(n) => out.push(n.to_string()),
                Value::Object(o) => walk(o.get("value").unwrap_or(&Value::Null), path, out),
                _ => {}
            },
            Value::Object(o) => {
                if let Some((_, child)) = o.iter().find(|(k, _)| k.to_lowercase() == path[0]) {
                    walk(child, &path[1..], out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, path, &mut out);
    if out.is_empty()
        && let Some(ext) = v.get(WORKSPACE)
    {
        walk(ext, path, &mut out);
    }
    out
}

fn matches(f: &Filter, v: &Value) -> bool {
    values_at(v, &f.path).iter().any(|x| {
        let (a, b) = (x.to_lowercase(), f.value.to_lowercase());
        match f.op.as_str() {
            "eq" => a == b,
            "co" => a.contains(&b),
            "sw" => a.starts_with(&b),
            "gt" => a > b,
            "ge" => a >= b,
            "lt" => a < b,
            _ => a <= b,
        }
    })
}

fn scim_error(r: Refusal) -> Response {
    r.into_response()
}

fn list_response(
    inner: &Inner,
    kind: Kind,
    filter: Option<&str>,
    start: i64,
    count: i64,
) -> Response {
    let filter = match filter.filter(|f| !f.trim().is_empty()) {
        Some(f) => match parse_filter(f) {
            Some(f) => Some(f),
            None => {
                return scim_error(Refusal::bad(
                    "scim.filter.invalid",
                    format!("Invalid filter: {f}"),
                ));
            }
        },
        None => None,
    };
    let state = inner.lock();
    let all = match kind {
        Kind::Users => &state.users,
        Kind::Groups => &state.groups,
    };
    // Under `one_based`, startIndex 0 and 1 both mean the first item; under `zero_based` it is
    // an offset from 0, as SW18 calls it (CONFLICT §6.4).
    let skip = if inner.readings().start_index == "zero_based" {
        start.max(0) as usize
    } else {
        (start.max(1) - 1) as usize
    };
    let take = count as usize;
    let (total, hits): (usize, Vec<&Value>) = match &filter {
        // `userName eq`, which Okta sends before every push, answers from the name index.
        Some(f) if kind == Kind::Users && f.op == "eq" && f.path == ["username"] => {
            let hit = (state.user_names.get(&f.value.to_lowercase())).and_then(|id| all.get(id));
            let total = usize::from(hit.is_some());
            (total, hit.into_iter().skip(skip).take(take).collect())
        }
        Some(f) => {
            let hits: Vec<&Value> = all.values().filter(|v| matches(f, v)).collect();
            (hits.len(), hits.into_iter().skip(skip).take(take).collect())
        }
        None => (all.len(), all.values().skip(skip).take(take).collect()),
    };
    let page: Vec<Value> = hits
        .into_iter()
        .map(|v| {
            if kind == Kind::Users {
                user_view(&state, v)
            } else {
                (*v).clone()
            }
        })
        .collect();
    Json(json!({
        "schemas": [CORE], "totalResults": total, "itemsPerPage": page.len(),
        "startIndex": start, "Resources": page,
    }))
    .into_response()
}

fn bad_paging(what: &str) -> Response {
    super::error(
        StatusCode::NOT_FOUND,
        "scim.paging.invalid",
        &format!("Invalid {what}."),
    )
}

async fn list(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    kind: Kind,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let num = |k: &str, d: i64| {
        q.get(k).map_or(Some(d), |v| {
            v.trim().parse::<i64>().ok().filter(|n| *n >= 0)
        })
    };
    let readings = inner.readings();
    let first = if readings.start_index == "zero_based" {
        0
    } else {
        1
    };
    let Some(start) = num("startIndex", first) else {
        return bad_paging("startIndex");
    };
    let Some(count) =
        num("count", 20).filter(|c| readings.max_count == 0 || *c as usize <= readings.max_count)
    else {
        return bad_paging("count");
    };
    list_response(
        &inner,
        kind,
        q.get("filter").map(String::as_str),
        start,
        count,
    )
}

async fn search(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
    kind: Kind,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return scim_error(Refusal::bad("invalid.request", "malformed JSON body"));
    };
    let readings = inner.readings();
    let first = if readings.start_index == "zero_based" {
        0
    } else {
        1
    };
    let start = body
        .get("startIndex")
        .and_then(Value::as_i64)
        .unwrap_or(first);
    let count = body.get("count").and_then(Value::as_i64).unwrap_or(20);
    let too_many = readings.max_count > 0 && count as usize > readings.max_count;
    if start < 0 || count < 0 || too_many {
        return bad_paging("startIndex or count");
    }
    list_response(
        &inner,
        kind,
        body.get("filter").and_then(Value::as_str),
        start,
        count,
    )
}

fn not_found(kind: Kind, id: &str) -> Response {
    let what = if kind == Kind::Users { "User" } else { "Group" };
    super::error(
        StatusCode::NOT_FOUND,
        "scim.resource.not.found",
        &format!("{what} {id} not found."),
    )
}

async fn get_one(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    kind: Kind,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let state = inner.lock();
    let found = match kind {
        Kind::Users => state.users.get(&id).map(|u| user_view(&state, u)),
        Kind::Groups => state.groups.get(&id).cloned(),
    };
    match found {
        Some(v) => with_etag(StatusCode::OK, v),
        None => not_found(kind, &id),
    }
}

fn with_etag(status: StatusCode, v: Value) -> Response {
    let etag = text(&v, &["meta", "version"]).to_string();
    let location = text(&v, &["meta", "location"]).to_string();
    let mut r = (status, Json(v)).into_response();
    if let Ok(e) = HeaderValue::from_str(&etag) {
        r.headers_mut().insert(header::ETAG, e);
    }
    if status == StatusCode::CREATED
        && let Ok(l) = HeaderValue::from_str(&location)
    {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r
}

fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    super::check_content_type(headers, "application/json")?;
    serde_json::from_slice(body)
        .map_err(|_| scim_error(Refusal::bad("invalid.request", "malformed JSON body")))
}

async fn create_user(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let body = match json_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = inner.clock.now();
    let result = insert_user(&mut inner.lock(), &inner.base_url, now, body);
    match result {
        Ok(user) => with_etag(StatusCode::CREATED, user),
        Err(r) => scim_error(r),
    }
}

async fn create_group(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let body = match json_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = inner.clock.now();
    let result = insert_group(&mut inner.lock(), &inner.base_url, now, body);
    match result {
        Ok(group) => with_etag(StatusCode::CREATED, group),
        Err(r) => scim_error(r),
    }
}

/// Merges a PATCH body into a stored user: `name` and extensions key by key, the rest replaced.
fn patch_user_value(
    state: &mut super::State,
    id: &str,
    patch: Map<String, Value>,
    now: SystemTime,
) -> Result<(), Refusal> {
    let Some(mut user) = state.users.get(id).cloned() else {
        return Err(Refusal(
            StatusCode::NOT_FOUND,
            "scim.resource.not.found",
            format!("User {id} not found."),
        ));
    };
    let old_name = text(&user, &["userName"]).to_lowercase();
    for (k, v) in patch {
        match k.as_str() {
            "id" | "meta" | "schemas" | "groups" | "roles" => {}
            "name" | ENTERPRISE | WORKSPACE => {
                let Value::Object(fields) = v else {
                    return Err(Refusal::bad(
                        "invalid.request",
                        format!("{k} must be an object"),
                    ));
                };
                for (fk, fv) in fields {
                    if k == WORKSPACE && fk == "domain" {
                        let domain = fv.as_str().unwrap_or("");
                        let Some(dir) = state.directory_of_domain(domain) else {
                            return Err(Refusal::bad(
                                "scim.domain.unknown",
                                format!("No directory has the domain {domain}."),
                            ));
                        };
                        user[WORKSPACE]["userStoreUuid"] = json!(dir.userstore_id);
                    }
                    if !user.get(&k).is_some_and(Value::is_object) {
                        user[&k] = json!({});
                    }
                    user[&k][&fk] = fv;
                }
            }
            "userName" => {
                let new = v.as_str().unwrap_or("").trim().to_string();
                if new.is_empty() {
                    return Err(Refusal::bad(
                        "scim.userName.required",
                        "userName cannot be empty",
                    ));
                }
                let key = new.to_lowercase();
                if key != old_name && state.user_names.contains_key(&key) {
                    return Err(Refusal(
                        StatusCode::CONFLICT,
                        "scim.userName.exists",
                        format!("User name {new} already exists."),
                    ));
                }
                user["userName"] = json!(new);
            }
            "active" => {
                let active = v
                    .as_bool()
                    .ok_or_else(|| Refusal::bad("invalid.request", "active must be a boolean"))?;
                user["active"] = json!(active);
                user[WORKSPACE]["userStatus"] = json!(if active { "1" } else { "2" });
            }
            "password" => {}
            _ => user[&k] = v,
        }
    }
    let new_name = text(&user, &["userName"]).to_lowercase();
    if new_name != old_name {
        state.user_names.remove(&old_name);
        state.user_names.insert(new_name, id.to_string());
    }
    user["meta"]["lastModified"] = json!(rfc3339(now));
    user["meta"]["version"] = json!(state.next_version());
    state.users.insert(id.to_string(), user);
    Ok(())
}

async fn patch_user(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let body = match json_body(&headers, &body) {
        Ok(Value::Object(b)) => b,
        Ok(_) => {
            return scim_error(Refusal::bad(
                "invalid.request",
                "the body must be a JSON object",
            ));
        }
        Err(r) => return r,
    };
    let now = inner.clock.now();
    match patch_user_value(&mut inner.lock(), &id, body, now) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(r) => scim_error(r),
    }
}

async fn patch_group(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let body = match json_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = inner.clock.now();
    let mut state = inner.lock();
    let Some(mut group) = state.groups.get(&id).cloned() else {
        return not_found(Kind::Groups, &id);
    };
    if let Some(name) = body.get("displayName").and_then(Value::as_str) {
        let taken = state.groups.values().any(|g| {
            text(g, &["id"]) != id && text(g, &["displayName"]).eq_ignore_ascii_case(name)
        });
        if taken {
            return scim_error(Refusal(
                StatusCode::CONFLICT,
                "scim.displayName.exists",
                format!("Group {name} already exists."),
            ));
        }
        group["displayName"] = json!(name);
    }
    let current = group["members"].as_array().cloned().unwrap_or_default();
    match members_of(&state, body.get("members"), &current) {
        Ok(members) => group["members"] = Value::Array(members),
        Err(r) => return scim_error(r),
    }
    group["meta"]["lastModified"] = json!(rfc3339(now));
    group["meta"]["version"] = json!(state.next_version());
    state.groups.insert(id, group);
    StatusCode::NO_CONTENT.into_response()
}

async fn delete(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    kind: Kind,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let mut state = inner.lock();
    let removed = match kind {
        Kind::Users => remove_user(&mut state, &id),
        Kind::Groups => state.groups.remove(&id).is_some(),
    };
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found(kind, &id)
    }
}

/// `PUT /Users/{id}` (§6.1, UNVERIFIED): refused with 405 by default; under the reading
/// `ws1.scim_put = accepted`, it sets the user from the body as PATCH does and answers 200 with
/// the user.
async fn put_user(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if inner.readings().scim_put != "accepted" {
        return refuse_put(State(inner), headers).await;
    }
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let Ok(Value::Object(mut body)) = json_body(&headers, &body) else {
        return scim_error(Refusal::bad(
            "invalid.request",
            "the body must be a JSON object",
        ));
    };
    body.remove("id");
    let now = inner.clock.now();
    let mut state = inner.lock();
    match patch_user_value(&mut state, &id, body, now) {
        Ok(()) => match state.users.get(&id) {
            Some(user) => Json(user_view(&state, user)).into_response(),
            None => not_found(Kind::Users, &id),
        },
        Err(r) => scim_error(r),
    }
}

/// PUT is not documented anywhere (§6.1, UNVERIFIED); the sandbox refuses it (see `mod.rs`).
async fn refuse_put(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    super::error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        "HTTP 405 Method Not Allowed",
    )
}
