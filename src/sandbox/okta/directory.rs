//! The org's directory (okta-api.md §10): users and groups, looked up by id or login, listed
//! with `filter`, `search` and `q`.
//!
//! What must hold: the directory is read-only through the API (the seed and the console route
//! `/_sandbox/okta/users/{user}` change it); only the documented filter attributes and `eq`
//! are accepted (400 E0000094 otherwise); a lookup by login uses the login index, so it stays
//! cheap with tens of thousands of users.

use axum::Router;
use axum::extract::{Path, Query, State as AxState};
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::Value;

use super::common::{Q, R, not_found, ok, page, parse_filter};
use super::{Okta, find_user};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/groups/{id}", get(get_group))
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
