//! Assignments (okta-api.md §10): app users (direct `USER` and group-derived `GROUP` scope)
//! and app groups, and the pushes an assignment or unassignment queues.
//!
//! What must hold: assigning answers 200 with the app user (never 201); a second direct
//! assignment is 409 E0000062; a direct unassignment while a group still grants the app is 403
//! E0000046; a queued push shows `STAGED` with the `syncState` of the reading in force; an
//! unassignment with Deactivate Users on queues a deactivation, never a delete.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::common::{
    APP_GROUPS, APP_USERS, Listing, NamePrefix, OktaError, Q, R, invalid, not_found, ok, parse,
    the_app,
};
use super::provision::Job;
use super::{AppUser, Okta, State, find_user};

pub(super) fn routes() -> Router<Okta> {
    Router::new()
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
}

/// An app user; with `user` (from `expand=user`), the Okta user embedded in `_embedded`.
fn app_user_view(app: &str, id: &str, au: &AppUser, user: Option<&Value>) -> Value {
    serde_json::to_value(AppUserView::new(app, id, au, user)).expect("an app user serializes")
}

/// An app user as Okta answers it, borrowed from the state: a page of them is serialized
/// straight to its body, with no tree of values built per user (a 500-user page with users
/// embedded took 8 ms that way, a sixth of the latency the benchmarks emulate). Fields in
/// the order the built view had (alphabetical).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AppUserView<'a> {
    #[serde(rename = "_embedded", skip_serializing_if = "Option::is_none")]
    embedded: Option<Embedded<'a>>,
    #[serde(rename = "_links")]
    links: Links,
    created: &'a str,
    credentials: Credentials<'a>,
    external_id: &'a Option<String>,
    id: &'a str,
    last_sync: &'a Option<String>,
    last_updated: &'a str,
    profile: &'a Map<String, Value>,
    scope: &'a str,
    status: &'a str,
    status_changed: &'a str,
    sync_state: &'a str,
}

#[derive(Serialize)]
struct Embedded<'a> {
    user: &'a Value,
}

#[derive(Serialize)]
struct Links {
    app: Href,
    user: Href,
}

#[derive(Serialize)]
struct Href {
    href: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Credentials<'a> {
    user_name: &'a str,
}

impl<'a> AppUserView<'a> {
    fn new(app: &str, id: &'a str, au: &'a AppUser, user: Option<&'a Value>) -> Self {
        AppUserView {
            embedded: user.map(|user| Embedded { user }),
            links: Links {
                app: Href {
                    href: format!("/api/v1/apps/{app}"),
                },
                user: Href {
                    href: format!("/api/v1/users/{id}"),
                },
            },
            created: &au.created,
            credentials: Credentials {
                user_name: &au.user_name,
            },
            external_id: &au.external_id,
            id,
            last_sync: &au.last_sync,
            last_updated: au.last_sync.as_deref().unwrap_or(&au.created),
            profile: &au.profile,
            scope: au.scope,
            status: au.status,
            status_changed: &au.created,
            sync_state: au.sync_state,
        }
    }
}

/// The Okta user to embed in an app user's view, when `expand=user` asks for it and the
/// reading in force honours it (`okta.embed_users`).
fn embedded<'a>(expand: bool, s: &'a State, uid: &str) -> Option<&'a Value> {
    expand.then(|| s.users.get(uid)).flatten()
}

/// Whether `expand=user` is asked for and honoured (decided once a request: the readings are
/// read under a lock, not once per item of a page).
fn expands_user(okta: &Okta, q: &HashMap<String, String>) -> bool {
    q.get("expand").map(String::as_str) == Some("user") && okta.readings().embed_users
}

/// Creates an app user (shared by the API, groups and the seed) and says which push it needs:
/// a reactivation of the SCIM user Okta deactivated when the user was unassigned, else a
/// lookup and create (Create Users on). A queued push shows `STAGED` with the `queued` sync
/// state (reading `okta.queued_sync_state`).
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
    // Reactivation goes with either toggle: Deactivate Users, which deactivated the user, and
    // Create Users, under which an assignment is pushed (decided in `provision.rs`).
    let reactivated = conn
        .as_ref()
        .filter(|c| c.create || c.deactivate)
        .and_then(|_| app.deactivated.remove(user));
    let job = match &reactivated {
        Some(scim_id) => Some(Job::Reactivate {
            app: app_id.into(),
            user: user.into(),
            scim_id: scim_id.clone(),
        }),
        None => conn.filter(|c| c.create).map(|_| Job::Provision {
            app: app_id.into(),
            user: user.into(),
        }),
    };
    let provisioning = job.is_some();
    app.users.insert(
        user.to_string(),
        AppUser {
            scope,
            status: if provisioning { "STAGED" } else { "ACTIVE" },
            sync_state: if provisioning { queued } else { "DISABLED" },
            external_id: reactivated,
            user_name,
            profile: app_profile,
            created: now.to_string(),
            last_sync: None,
            error: None,
        },
    );
    Ok(job)
}

async fn list_app_users(AxState(okta): AxState<Okta>, Path(id): Path<String>, list: Listing) -> R {
    let q = &list.q;
    let s = okta.lock();
    let app = s.apps.get(&id).ok_or_else(|| not_found("App"))?;
    let prefix = NamePrefix::of(q);
    let expand = expands_user(&okta, q);
    let items = list
        .rest(&app.users)
        .filter(|(uid, au)| {
            prefix.fits(|| {
                let profile = &s.users[*uid]["profile"];
                [
                    Some(au.user_name.as_str()),
                    profile["firstName"].as_str(),
                    profile["lastName"].as_str(),
                    profile["email"].as_str(),
                ]
            })
        })
        .map(|(uid, au)| (uid.as_str(), (uid, au)))
        .take(list.limit(APP_USERS) + 1)
        .collect();
    list.page(
        items,
        |(uid, au)| AppUserView::new(&id, uid, au, embedded(expand, &s, uid)),
        APP_USERS,
        &format!("/api/v1/apps/{id}/users"),
    )
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
    okta.enqueue(s, job);
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
    ok(app_user_view(
        &id,
        &uid,
        au,
        embedded(expands_user(&okta, &q), &s, &uid),
    ))
}

/// Removes an app user and queues its deactivation when Deactivate Users is on; the app keeps
/// the SCIM id it deactivated, for a reactivation when the user is assigned again.
fn unassign(s: &mut State, app_id: &str, uid: &str) -> Option<Job> {
    let app = s.apps.get_mut(app_id)?;
    let au = app.users.remove(uid)?;
    app.connection
        .as_ref()
        .filter(|c| c.enabled && c.deactivate)?;
    let scim_id = au.external_id?;
    app.deactivated.insert(uid.into(), scim_id.clone());
    Some(Job::Deactivate {
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
    okta.enqueue(s, job);
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_app_groups(AxState(okta): AxState<Okta>, Path(id): Path<String>, list: Listing) -> R {
    let q = &list.q;
    let s = okta.lock();
    let app = s.apps.get(&id).ok_or_else(|| not_found("App"))?;
    let prefix = NamePrefix::of(q);
    let items = app
        .groups
        .iter()
        .filter(|(gid, _)| prefix.fits(|| [s.groups[*gid].0["profile"]["name"].as_str()]))
        .map(|(gid, v)| (gid.clone(), v.clone()))
        .collect();
    list.page(
        items,
        Value::clone,
        APP_GROUPS,
        &format!("/api/v1/apps/{id}/groups"),
    )
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
    okta.enqueue(s, jobs);
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
    okta.enqueue(s, jobs);
    Ok(StatusCode::NO_CONTENT.into_response())
}
