//! Group push mappings (okta-api.md §11): which Okta group is pushed to the app's SCIM server,
//! and the push an ACTIVE mapping queues.
//!
//! What must hold: a mapping needs provisioning on the app (400 E0000027 otherwise) and exactly
//! one of `targetGroupName`/`targetGroupId`; create answers 200 and delete 204 (decided in
//! `mod.rs`); `PATCH` only changes `status`; only an INACTIVE mapping may be deleted, and only
//! with `deleteTargetGroup`. Whether the list is refused before provisioning is the reading
//! `okta.group_push_before_provisioning`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};

use super::Okta;
use super::common::{GROUP_PUSHES, Listing, OktaError, Q, R, not_found, ok, parse, the_app};
use super::provision::Job;

pub(super) fn routes() -> Router<Okta> {
    Router::new()
        .route(
            "/api/v1/apps/{app}/group-push/mappings",
            get(list_pushes).post(create_push),
        )
        .route(
            "/api/v1/apps/{app}/group-push/mappings/{id}",
            get(get_push).patch(patch_push).delete(delete_push),
        )
}

/// 400 E0000027 "Group push bad request", with `cause` (okta-api.md §3, §11).
fn bad_push(cause: &str) -> OktaError {
    OktaError::new(
        StatusCode::BAD_REQUEST,
        "E0000027",
        "Group push bad request",
    )
    .cause(cause)
}

fn push_view(m: &Value) -> Value {
    let mut v = m.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("_targetGroupName");
    }
    v
}

async fn list_pushes(AxState(okta): AxState<Okta>, Path(id): Path<String>, list: Listing) -> R {
    let q = &list.q;
    let refused = okta.readings().group_push_before_provisioning == "refused";
    let mut s = okta.lock();
    let app = the_app(&mut s, &id)?;
    // Group push needs provisioning (the spec's tag text); one reading refuses even the list.
    if refused && !app.connection.as_ref().is_some_and(|c| c.enabled) {
        return Err(bad_push(
            "Provisioning is not enabled for the app instance.",
        ));
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
    list.page(
        items,
        Value::clone,
        GROUP_PUSHES,
        &format!("/api/v1/apps/{id}/group-push/mappings"),
    )
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
    if app.connection.as_ref().is_none_or(|c| !c.enabled) {
        return Err(bad_push(
            "Provisioning is not enabled for the app instance.",
        ));
    }
    let source = body["sourceGroupId"]
        .as_str()
        .filter(|g| s.groups.contains_key(*g))
        .ok_or_else(|| bad_push("sourceGroupId must name an existing group"))?;
    if body["targetGroupName"].is_string() == body["targetGroupId"].is_string() {
        return Err(bad_push(
            "Exactly one of targetGroupName and targetGroupId is required",
        ));
    }
    if app.pushes.values().any(|m| m["sourceGroupId"] == source) {
        return Err(bad_push("The group is already pushed to this app"));
    }
    let status = body["status"].as_str().unwrap_or("ACTIVE");
    if !["ACTIVE", "INACTIVE"].contains(&status) {
        return Err(bad_push("status must be ACTIVE or INACTIVE"));
    }
    let mid = s.id("gPm");
    let m = json!({"id": mid, "sourceGroupId": source, "targetGroupId": body["targetGroupId"], "status": status,
                   "created": now, "lastUpdated": now, "lastPush": null, "errorSummary": null,
                   "_targetGroupName": body["targetGroupName"],
                   "_links": {"app": {"href": format!("/api/v1/apps/{id}")}, "sourceGroup": {"href": format!("/api/v1/groups/{source}")}}});
    the_app(&mut s, &id)?.pushes.insert(mid, m.clone());
    okta.enqueue(s, push_job(&id, &m));
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
    let status = status.ok_or_else(|| bad_push("status must be ACTIVE or INACTIVE"))?;
    let was_active = m["status"] == "ACTIVE";
    m["status"] = json!(status);
    m["lastUpdated"] = json!(now);
    let job = if was_active { None } else { push_job(&id, m) };
    let view = push_view(m);
    okta.enqueue(s, job);
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
    if m["status"] == "ACTIVE" {
        return Err(bad_push(
            "The mapping must be INACTIVE before it can be deleted",
        ));
    }
    if !q
        .get("deleteTargetGroup")
        .is_some_and(|d| d == "true" || d == "false")
    {
        return Err(bad_push("deleteTargetGroup is required"));
    }
    app.pushes.remove(&mid);
    Ok(StatusCode::NO_CONTENT.into_response())
}
