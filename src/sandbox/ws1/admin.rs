//! The token endpoint (§3), OAuth 2.0 clients (§4) and directories (§5) of the WS1 emulator.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{Value, json};

use super::{Directory, Inner, Refusal, answer, check_content_type, token};

const API: &str = "/SAAS/jersey/manager/api";
const CLIENT_TYPE: &str = "application/vnd.vmware.horizon.manager.oauth2client+json";
const CLIENT_LIST_TYPE: &str =
    "application/vnd.vmware.horizon.manager.oauth2clientsummarylist+json";
const SERVICE_CLIENT_TYPE: &str =
    "application/vnd.vmware.horizon.manager.clientcredentialsoauth2client+json";
const CLASSIC_CLIENT_TYPE: &str = "application/vnd.vmware.horizon.manager.classicoauth2client+json";
const DIR_OTHER_TYPE: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.other+json";
const DIR_LIST_TYPE: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.list+json";
const DOMAIN_LIST_TYPE: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.domain.list+json";

const GRANTS: [&str; 4] = [
    "client_credentials",
    "authorization_code",
    "password",
    "refresh_token",
];

pub(crate) fn router(inner: Arc<Inner>) -> Router {
    let refuse_domains = || {
        axum::routing::put(no_domain_write)
            .patch(no_domain_write)
            .post(no_domain_write)
    };
    Router::new()
        .route("/SAAS/auth/oauthtoken", post(token_endpoint))
        .route("/SAAS/API/1.0/oauth2/token", post(token_endpoint))
        .route(
            &format!("{API}/oauth2clients"),
            get(list_clients).post(create_client),
        )
        .route(
            &format!("{API}/oauth2clients/{{id}}"),
            get(get_client).put(update_client).delete(delete_client),
        )
        .route(
            &format!("{API}/connectormanagement/directoryconfigs"),
            get(list_directories).post(create_directory),
        )
        .route(
            &format!("{API}/connectormanagement/directoryconfigs/{{id}}"),
            refuse_domains().get(get_directory).delete(delete_directory),
        )
        .route(
            &format!("{API}/connectormanagement/directoryconfigs/{{id}}/domains"),
            refuse_domains().get(list_domains),
        )
        .with_state(inner)
}

// ---- token endpoint (§3) ----

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn token_endpoint(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let param = |k: &str| form.get(k).or_else(|| query.get(k)).cloned();
    let grant = param("grant_type").unwrap_or_default();
    const KNOWN: [&str; 5] = [
        "client_credentials",
        "authorization_code",
        "password",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ];
    if !KNOWN.contains(&grant.as_str()) {
        // Documented as 500 (§3.3), unusual as it is.
        return oauth_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "grant_type is missing or not supported",
        );
    }
    if grant != "client_credentials" {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "the sandbox issues client_credentials tokens only",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(a, b)| (a.to_string(), b.to_string()))
        });
    let creds = basic.or_else(|| Some((param("client_id")?, param("client_secret")?)));
    let Some((id, secret)) = creds else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    let iat = inner.clock.unix_seconds();
    let mut state = inner.lock();
    let Some(client) = state.clients.get(&id) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    };
    if client.get("secret").and_then(Value::as_str) != Some(secret.as_str()) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let grants = client
        .get("authGrantTypes")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !grants.split(' ').any(|g| g == "client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "the client may not use this grant type",
        );
    }
    let scope = client
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let ttl = client
        .get("accessTokenTTL")
        .and_then(Value::as_u64)
        .unwrap_or(180);
    let jti = token::uuid();
    let claims = token::service_claims(&inner.base_url, &id, &scope, &jti, iat, ttl);
    state.tokens.insert(jti, id);
    drop(state);
    let access = token::sign(&claims);
    Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": (ttl * 60).saturating_sub(1),
        "refresh_token": token::opaque(24),
        "scope": scope,
    }))
    .into_response()
}

// ---- OAuth 2.0 clients (§4) ----

fn valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

fn looks_like_uuid(s: &str) -> bool {
    s.len() == 36 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Validates a create body and stores the client (§4.2); answers the stored object.
pub(crate) fn insert_client(state: &mut super::State, body: &Value) -> Result<Value, Refusal> {
    let Some(obj) = body.as_object() else {
        return Err(Refusal::bad(
            "invalid.request",
            "the body must be a JSON object",
        ));
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let id = text("clientId");
    if !valid_client_id(&id) {
        return Err(Refusal::bad(
            "oauth2client.clientId.invalid",
            "clientId is required and may contain only letters, digits and . _ @ -",
        ));
    }
    let scope = text("scope");
    let scope_ok = !scope.trim().is_empty()
        && scope.split_whitespace().all(|s| {
            ["admin", "user", "openid", "profile", "email"].contains(&s) || looks_like_uuid(s)
        });
    if !scope_ok {
        return Err(Refusal::bad(
            "oauth2client.scope.invalid",
            "scope is required: admin, user, openid, profile, email or an app UUID",
        ));
    }
    let grants = text("authGrantTypes");
    if grants.trim().is_empty() || !grants.split_whitespace().all(|g| GRANTS.contains(&g)) {
        return Err(Refusal::bad(
            "oauth2client.authGrantTypes.invalid",
            "authGrantTypes is required: client_credentials, authorization_code, password, refresh_token",
        ));
    }
    if grants.split_whitespace().any(|g| g == "authorization_code")
        && text("redirectUri").is_empty()
    {
        return Err(Refusal::bad(
            "oauth2client.redirectUri.required",
            "redirectUri is required for authorization_code",
        ));
    }
    if state.clients.contains_key(&id) {
        // Documented as 500, not 409 (§4.1).
        return Err(Refusal(
            StatusCode::INTERNAL_SERVER_ERROR,
            "oauth2client.already.exists",
            format!("An OAuth2 client with id {id} already exists."),
        ));
    }
    let mut stored = json!({
        "clientId": id, "secret": token::opaque(32), "scope": scope, "authGrantTypes": grants,
        "tokenType": "Bearer", "tokenLength": 32, "accessTokenTTL": 180,
        "refreshTokenTTL": 129600, "refreshTokenIdleTTL": 5760, "rememberAs": id,
        "redirectUri": null, "displayUserGrant": false, "internalSystemClient": false,
        "inheritanceAllowed": false, "resourceUuid": null, "strData": null,
    });
    merge_client_fields(&mut stored, obj)?;
    state.clients.insert(id, stored.clone());
    Ok(stored)
}

/// Copies the writable fields of a body onto a stored client, checking their types.
fn merge_client_fields(
    stored: &mut Value,
    body: &serde_json::Map<String, Value>,
) -> Result<(), Refusal> {
    const INTS: [&str; 4] = [
        "accessTokenTTL",
        "refreshTokenTTL",
        "refreshTokenIdleTTL",
        "tokenLength",
    ];
    const TEXTS: [&str; 8] = [
        "secret",
        "scope",
        "authGrantTypes",
        "rememberAs",
        "redirectUri",
        "resourceUuid",
        "strData",
        "tokenType",
    ];
    const BOOLS: [&str; 3] = [
        "displayUserGrant",
        "internalSystemClient",
        "inheritanceAllowed",
    ];
    for (k, v) in body {
        let ok = if INTS.contains(&k.as_str()) {
            v.as_u64().is_some_and(|n| n > 0)
        } else if TEXTS.contains(&k.as_str()) {
            v.is_string() || v.is_null()
        } else if BOOLS.contains(&k.as_str()) {
            v.is_boolean()
        } else {
            // Unknown and read-only fields (`_links`, `clientId`) are ignored, as Jersey does.
            continue;
        };
        if !ok {
            return Err(Refusal::bad(
                "invalid.request",
                format!("{k} has the wrong type"),
            ));
        }
        if k == "tokenType" && v.as_str() != Some("Bearer") {
            return Err(Refusal::bad("invalid.request", "tokenType must be Bearer"));
        }
        if k == "secret" && v.is_null() {
            continue;
        }
        stored[k] = v.clone();
    }
    Ok(())
}

/// A client as GET shows it: everything but the secret, with `_links`.
fn shown(client: &Value) -> Value {
    let mut v = client.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("secret");
        let href = format!(
            "{API}/oauth2clients/{}",
            obj["clientId"].as_str().unwrap_or("")
        );
        obj.insert("_links".into(), json!({"self": {"href": href}}));
    }
    v
}

fn client_media_type(client: &Value) -> &'static str {
    let grants = client["authGrantTypes"].as_str().unwrap_or("");
    if grants.split(' ').any(|g| g == "client_credentials") {
        SERVICE_CLIENT_TYPE
    } else {
        CLASSIC_CLIENT_TYPE
    }
}

async fn list_clients(
    State(inner): State<Arc<Inner>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let num = |k: &str, d: usize| q.get(k).and_then(|v| v.parse::<usize>().ok()).unwrap_or(d);
    let start = num("startIndex", 1).max(1);
    let page_size = num("pageSize", 50).max(1);
    let state = inner.lock();
    let total = state.clients.len();
    let items: Vec<Value> = state
        .clients
        .values()
        .skip(start - 1)
        .take(page_size)
        .map(|c| {
            let s = shown(c);
            json!({
                "clientId": s["clientId"], "scope": s["scope"], "rememberAs": s["rememberAs"],
                "mediaType": client_media_type(c), "grantTypes": s["authGrantTypes"],
                "accessTokenTTL": s["accessTokenTTL"], "refreshTokenTTL": s["refreshTokenTTL"],
                "refreshTokenIdleTTL": s["refreshTokenIdleTTL"],
                "displayUserGrant": s["displayUserGrant"], "redirectUri": s["redirectUri"],
                "internal": s["internalSystemClient"], "_links": s["_links"],
            })
        })
        .collect();
    let body = json!({
        "items": items, "totalCount": total, "pageNumber": (start - 1) / page_size + 1,
        "totalPages": total.div_ceil(page_size), "pageSize": page_size,
        "_links": {"self": {"href": format!("{API}/oauth2clients")}},
    });
    answer(StatusCode::OK, &headers, CLIENT_LIST_TYPE, body)
}

fn parse_body(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|_| {
        super::error(
            StatusCode::BAD_REQUEST,
            "invalid.request",
            "malformed JSON body",
        )
    })
}

async fn create_client(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner
        .authorize(&headers)
        .and_then(|()| check_content_type(&headers, CLIENT_TYPE))
    {
        return r;
    }
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = insert_client(&mut inner.lock(), &body);
    match result {
        Ok(stored) => {
            // Only the create answer carries the secret (generated when none was sent).
            let mut shown = shown(&stored);
            shown["secret"] = stored["secret"].clone();
            answer(StatusCode::CREATED, &headers, CLIENT_TYPE, shown)
        }
        Err(refusal) => refusal.into_response(),
    }
}

async fn get_client(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    match inner.lock().clients.get(&id) {
        Some(c) => answer(StatusCode::OK, &headers, CLIENT_TYPE, shown(c)),
        None => super::error(
            StatusCode::NOT_FOUND,
            "oauth2client.not.found",
            &format!("No OAuth2 client {id}."),
        ),
    }
}

async fn update_client(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner
        .authorize(&headers)
        .and_then(|()| check_content_type(&headers, CLIENT_TYPE))
    {
        return r;
    }
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let Some(obj) = body.as_object() else {
        return super::error(
            StatusCode::BAD_REQUEST,
            "invalid.request",
            "the body must be a JSON object",
        );
    };
    let mut state = inner.lock();
    let Some(current) = state.clients.get(&id) else {
        return super::error(
            StatusCode::NOT_FOUND,
            "oauth2client.not.found",
            &format!("No OAuth2 client {id}."),
        );
    };
    if let Some(new_id) = obj.get("clientId").and_then(Value::as_str)
        && new_id != id
    {
        // The client id is the key and cannot change: documented as 500 (§4.1).
        return super::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "oauth2client.clientId.immutable",
            "clientId cannot be changed.",
        );
    }
    let mut updated = current.clone();
    if let Err(r) = merge_client_fields(&mut updated, obj) {
        return r.into_response();
    }
    state.clients.insert(id, updated.clone());
    answer(StatusCode::CREATED, &headers, CLIENT_TYPE, shown(&updated))
}

async fn delete_client(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let mut state = inner.lock();
    if state.clients.remove(&id).is_none() {
        return super::error(
            StatusCode::NOT_FOUND,
            "oauth2client.not.found",
            &format!("No OAuth2 client {id}."),
        );
    }
    // Every token the client issued is revoked with it (§4.1).
    state.tokens.retain(|_, owner| *owner != id);
    StatusCode::NO_CONTENT.into_response()
}

// ---- directories (§5) ----

/// Validates and stores an `OTHER_DIRECTORY`; answers it.
pub(crate) fn insert_directory(
    state: &mut super::State,
    body: &Value,
) -> Result<Directory, Refusal> {
    let kind = body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("OTHER_DIRECTORY");
    if kind != "OTHER_DIRECTORY" {
        return Err(Refusal::bad(
            "directory.type.unsupported",
            format!("the sandbox creates OTHER_DIRECTORY only, not {kind}"),
        ));
    }
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(Refusal::bad("directory.name.required", "name is required"));
    }
    let domains: Vec<String> = body
        .get("domains")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if domains.is_empty() || domains.iter().any(|d| d.trim().is_empty()) {
        return Err(Refusal::bad(
            "directory.domains.required",
            "a directory needs at least one domain",
        ));
    }
    if state
        .directories
        .iter()
        .any(|d| d.name.eq_ignore_ascii_case(&name))
    {
        return Err(Refusal::bad(
            "directory.name.exists",
            format!("A directory named {name} already exists."),
        ));
    }
    if let Some(d) = domains
        .iter()
        .find(|d| state.directory_of_domain(d).is_some())
    {
        return Err(Refusal::bad(
            "directory.domain.exists",
            format!("The domain {d} belongs to another directory."),
        ));
    }
    let dir = Directory {
        id: token::uuid(),
        userstore_id: token::uuid(),
        name,
        kind: kind.to_string(),
        domains,
    };
    state.directories.push(dir.clone());
    Ok(dir)
}

/// A directory as the list shows it; its `domains` only under the reading that lists them
/// (`ws1.directory_list_has_domains`, §5 UNVERIFIED).
fn list_item(inner: &Inner, d: &Directory) -> Value {
    let mut item = json!({
        "type": d.kind, "name": d.name, "directoryId": d.id, "userstoreId": d.userstore_id,
        "countDomains": d.domains.len(), "deleteInProgress": false,
        "syncConfigurationEnabled": false, "migratedToEnterpriseService": false,
        "_links": {"self": {"href": format!("{API}/connectormanagement/directoryconfigs/{}", d.id)}},
    });
    if inner.readings().directory_list_has_domains {
        item["domains"] = json!(d.domains);
    }
    item
}

async fn list_directories(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let items: Vec<Value> = inner
        .lock()
        .directories
        .iter()
        .map(|d| list_item(&inner, d))
        .collect();
    answer(
        StatusCode::OK,
        &headers,
        DIR_LIST_TYPE,
        json!({"items": items, "_links": {}}),
    )
}

async fn create_directory(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = inner
        .authorize(&headers)
        .and_then(|()| check_content_type(&headers, DIR_OTHER_TYPE))
    {
        return r;
    }
    let body = match parse_body(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = insert_directory(&mut inner.lock(), &body);
    match result {
        // The create answer names the id differently from the list (§5).
        Ok(d) => answer(
            StatusCode::CREATED,
            &headers,
            DIR_OTHER_TYPE,
            json!({
                "type": d.kind, "name": d.name, "domains": d.domains,
                "directoryConfigurationId": d.id, "directoryConfigId": d.id,
                "userStoreId": d.userstore_id,
            }),
        ),
        Err(refusal) => refusal.into_response(),
    }
}

fn no_directory(id: &str) -> Response {
    super::error(
        StatusCode::NOT_FOUND,
        "directory.not.found",
        &format!("No directory {id}."),
    )
}

async fn get_directory(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    match inner.lock().directories.iter().find(|d| d.id == id) {
        Some(d) => answer(
            StatusCode::OK,
            &headers,
            DIR_OTHER_TYPE,
            list_item(&inner, d),
        ),
        None => no_directory(&id),
    }
}

async fn list_domains(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let state = inner.lock();
    let Some(d) = state.directories.iter().find(|d| d.id == id) else {
        return no_directory(&id);
    };
    // Only `_links` under the reading that shows no more than §5 does (`ws1.domain_items`).
    let named = inner.readings().domain_items == "named";
    let items: Vec<Value> = d
        .domains
        .iter()
        .map(|name| {
            let mut item = json!({"_links": {"self": {"href": format!("{API}/connectormanagement/directoryconfigs/{id}/domains/{name}")}}});
            if named {
                item["name"] = json!(name);
            }
            item
        })
        .collect();
    answer(
        StatusCode::OK,
        &headers,
        DOMAIN_LIST_TYPE,
        json!({"items": items, "_links": {}}),
    )
}

async fn delete_directory(
    State(inner): State<Arc<Inner>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    let mut state = inner.lock();
    let Some(pos) = state.directories.iter().position(|d| d.id == id) else {
        return no_directory(&id);
    };
    if state.directories[pos].kind == "LOCAL_DIRECTORY" {
        return super::error(
            StatusCode::BAD_REQUEST,
            "directory.system.undeletable",
            "The System Directory cannot be deleted.",
        );
    }
    let dir = state.directories.remove(pos);
    // A directory's users go with it.
    super::scim::remove_users_of(&mut state, &dir.userstore_id);
    StatusCode::OK.into_response()
}

/// No API changes an Other directory's domains (§5): Jersey answers 405 on such a route.
async fn no_domain_write(State(inner): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if let Err(r) = inner.authorize(&headers) {
        return r;
    }
    super::error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method.not.allowed",
        "HTTP 405 Method Not Allowed",
    )
}
