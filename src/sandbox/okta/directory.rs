//! The org's directory (okta-api.md §10): users and groups, looked up by id or login, listed
//! with `filter`, `search` and `q`; a group's members listed as user objects.
//!
//! What must hold: the directory is read-only through the API (the seed and the console route
//! `/_sandbox/okta/users/{user}` change it); only the documented filter attributes and `eq`
//! are accepted (400 E0000094 otherwise); a lookup by login uses the login index, so it stays
//! cheap with tens of thousands of users.

use axum::Router;
use axum::extract::{Path, State as AxState};
use axum::routing::get;
use serde_json::Value;

use super::common::{
    GROUP_MEMBERS, GROUPS, Listing, NamePrefix, R, USERS, meets, not_found, ok, parse_filter,
};
use super::{Okta, find_user};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/groups/{id}", get(get_group))
        .route("/api/v1/groups/{id}/users", get(list_group_users))
}

/// `filter`/`search` (`eq` joined by `and`) and `q` (prefix) over users (§10).
async fn list_users(AxState(okta): AxState<Okta>, list: Listing) -> R {
    let q = &list.q;
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
    let prefix = NamePrefix::of(q);
    let items: Vec<(String, &Value)> = match terms.as_slice() {
        // The common lookup by login uses the index instead of scanning every user.
        [(k, v)] if k == "profile.login" && !q.contains_key("q") => find_user(&s, v)
            .filter(|id| s.users[id]["profile"]["login"] == v.as_str())
            .map(|id| (id.clone(), &s.users[&id]))
            .into_iter()
            .collect(),
        _ => s
            .users
            .iter()
            .filter(|(_, u)| {
                meets(u, &terms)
                    && prefix.fits(|| {
                        ["login", "firstName", "lastName", "email"]
                            .map(|k| u["profile"][k].as_str())
                    })
            })
            .map(|(id, u)| (id.clone(), u))
            .collect(),
    };
    list.page(items, |u| Value::clone(u), USERS, "/api/v1/users")
}

async fn get_user(AxState(okta): AxState<Okta>, Path(key): Path<String>) -> R {
    let s = okta.lock();
    let id = find_user(&s, &key).ok_or_else(|| not_found("User"))?;
    ok(s.users[&id].clone())
}

async fn list_groups(AxState(okta): AxState<Okta>, list: Listing) -> R {
    let q = &list.q;
    let s = okta.lock();
    let mut terms = Vec::new();
    if let Some(f) = q.get("filter") {
        terms.extend(parse_filter(f, &["id", "type"])?);
    }
    if let Some(f) = q.get("search") {
        terms.extend(parse_filter(f, &["id", "type", "profile.name"])?);
    }
    let prefix = NamePrefix::of(q);
    let items = s
        .groups
        .iter()
        .filter(|(_, (g, _))| meets(g, &terms) && prefix.fits(|| [g["profile"]["name"].as_str()]))
        .map(|(id, (g, _))| (id.clone(), g.clone()))
        .collect();
    list.page(items, Value::clone, GROUPS, "/api/v1/groups")
}

async fn get_group(AxState(okta): AxState<Okta>, Path(id): Path<String>) -> R {
    let s = okta.lock();
    ok(s.groups
        .get(&id)
        .map(|g| g.0.clone())
        .ok_or_else(|| not_found("Group"))?)
}

/// A group's members as user objects (the spec's `listGroupUsers`), in the order they joined,
/// paged like every list; 404 E0000007 for an unknown group.
async fn list_group_users(
    AxState(okta): AxState<Okta>,
    Path(id): Path<String>,
    list: Listing,
) -> R {
    let s = okta.lock();
    let (_, members) = s.groups.get(&id).ok_or_else(|| not_found("Group"))?;
    let items = members
        .iter()
        .filter_map(|uid| s.users.get(uid).map(|u| (uid.clone(), u)))
        .collect();
    list.page(
        items,
        |u| Value::clone(u),
        GROUP_MEMBERS,
        &format!("/api/v1/groups/{id}/users"),
    )
}
