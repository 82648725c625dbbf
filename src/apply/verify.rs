//! The proofs after applying: wait for Okta's asynchronous pushes, then check that users really
//! arrived in WS1 as the config says (the data-flow check). `drift` runs the same check on
//! what it read.
//!
//! What must hold: reads only; waiting is bounded (a push that never finishes is reported, not
//! waited for forever); every assigned Okta user is looked for in WS1 by the userName the app's
//! template gives it, and compared on the workspace attributes the config maps. The reads are
//! pages, not one request per user: Okta's app users come with their Okta user embedded
//! (`expand=user`), and past [`LOOKUP_LIMIT`] users WS1's users are listed rather than looked
//! up one by one.

use std::time::{Duration, Instant};

use anyhow::Context;

use super::dataflow::{self, Expected, Found, Problem, UserReport};
use super::expression;
use crate::config::model::{Desired, MappingRule, WORKSPACE_ATTRIBUTES};
use crate::state::read::{self, LOOKUP_LIMIT, Services, each};
use crate::state::{AppUserLive, OktaAppId};

/// Whether Okta still has work queued or running for an app user: `SYNCING` is a running push,
/// `STAGED` a queued one (reference: AppUserStatus) unless its push already failed (`ERROR`).
/// A queued user may show `syncState` `DISABLED` meanwhile, so that is waited for too.
pub fn busy(user: &AppUserLive) -> bool {
    let sync = user.sync_state.as_deref();
    sync == Some("SYNCING") || (user.status.as_deref() == Some("STAGED") && sync != Some("ERROR"))
}

/// Polls the app's users until none is queued or being pushed, or `timeout` passes; returns the
/// last read (with profiles) and whether every push settled.
pub async fn wait_for_pushes(
    services: &Services,
    app: &OktaAppId,
    timeout: Duration,
) -> anyhow::Result<(Vec<AppUserLive>, bool)> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let users = services
            .okta
            .app_users_each(app, read::AppUserRead::of)
            .await
            .context("cannot read the app's users")?;
        let users = read::app_users_live(&services.okta, users, Default::default()).await?;
        if !users.iter().any(busy) {
            return Ok((users, true));
        }
        if started.elapsed() >= timeout {
            return Ok((users, false));
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Compares every user assigned to the app (`app_users`, as read) and every user in
/// `unassigned` (no longer assigned, as read before; each must be inactive in WS1 or absent)
/// with what WS1 holds. `template` is the app's username template. Okta deactivates
/// asynchronously and shows nothing for a user no longer assigned, so an unassigned user still
/// active is looked up again until `deadline`.
pub async fn data_flow(
    desired: &Desired,
    services: &Services,
    template: &str,
    app_users: &[AppUserLive],
    unassigned: &[AppUserLive],
    deadline: Instant,
) -> anyhow::Result<Vec<UserReport>> {
    let mut expected = expected_users(desired, template, app_users, true);
    expected.extend(expected_users(desired, template, unassigned, false));
    let mut found = ws1_users(services, &expected).await?;
    let mut reports = dataflow::check(&expected, &found);
    let mut pause = Duration::from_millis(50);
    loop {
        let lagging: Vec<Expected> = expected
            .iter()
            .filter(|e| {
                !e.assigned
                    && reports.iter().any(|r| {
                        r.login == e.login
                            && r.problems
                                .iter()
                                .any(|p| matches!(p, Problem::StillActive { .. }))
                    })
            })
            .cloned()
            .collect();
        let left = deadline.saturating_duration_since(Instant::now());
        if lagging.is_empty() || left.is_zero() {
            return Ok(reports);
        }
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(Duration::from_secs(2));
        let again = ws1_users_by_name(services, &lagging).await?;
        found.retain(|f| {
            !lagging
                .iter()
                .any(|e| e.user_name.eq_ignore_ascii_case(&f.user_name))
        });
        found.extend(again);
        reports = dataflow::check(&expected, &found);
    }
}

/// What each user should look like in WS1: its userName from the app's template and the
/// workspace attributes the config maps, evaluated on its Okta profile.
fn expected_users(
    desired: &Desired,
    template: &str,
    users: &[AppUserLive],
    assigned: bool,
) -> Vec<Expected> {
    let mappings = workspace_mappings(desired);
    let template = if template.is_empty() {
        "${source.login}"
    } else {
        template
    };
    users
        .iter()
        .map(|user| {
            let attributes = mappings
                .iter()
                .filter_map(|(name, expr)| Some((name.clone(), expression::evaluate(expr, user)?)))
                .collect();
            Expected {
                login: user.login.clone(),
                user_name: expression::evaluate_username(template, user)
                    .unwrap_or_else(|| user.login.clone()),
                attributes,
                assigned,
                okta_sync_state: user.sync_state.as_deref().map(str::to_owned),
                okta_sync_error: None,
            }
        })
        .collect()
}

/// The WS1 users the expected ones could be: looked up by userName one by one, or past
/// [`LOOKUP_LIMIT`] every user listed in pages.
async fn ws1_users(services: &Services, expected: &[Expected]) -> anyhow::Result<Vec<Found>> {
    if expected.len() > LOOKUP_LIMIT {
        let all = services
            .ws1
            .scim_users(None)
            .await
            .context("cannot list the WS1 users")?;
        Ok(found(all))
    } else {
        ws1_users_by_name(services, expected).await
    }
}

/// The WS1 users with the expected users' userNames, looked up one by one.
async fn ws1_users_by_name(
    services: &Services,
    expected: &[Expected],
) -> anyhow::Result<Vec<Found>> {
    let ws1 = &services.ws1;
    let users = each(expected, |want| async move {
        ws1.scim_users_by_username(&want.user_name)
            .await
            .with_context(|| format!("cannot look up the WS1 user {}", want.user_name))
    })
    .await?;
    Ok(found(users))
}

fn found(scim_users: Vec<crate::providers::ws1::ScimUser>) -> Vec<Found> {
    scim_users
        .into_iter()
        .map(|u| {
            let ext = u.workspace.unwrap_or_default();
            let attributes = [
                ("domain", ext.domain),
                ("internalUserType", ext.internal_user_type),
                ("userPrincipalName", ext.user_principal_name),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect();
            Found {
                user_name: u.user_name,
                active: u.active.unwrap_or(true),
                attributes,
            }
        })
        .collect()
}

/// The config's mappings onto WS1 workspace attributes: WS1 attribute name → expression.
fn workspace_mappings(desired: &Desired) -> Vec<(String, String)> {
    let app = &desired.okta.app;
    app.mappings
        .iter()
        .filter_map(|m| {
            let MappingRule::Set { expression, .. } = &m.rule else {
                return None;
            };
            let target = m.target.as_str();
            let ws1_name = app
                .attributes
                .iter()
                .find(|a| a.name.as_str() == target)
                .map(|a| a.external_name.as_str())
                .unwrap_or(target);
            WORKSPACE_ATTRIBUTES
                .contains(&ws1_name)
                .then(|| (ws1_name.to_owned(), expression.clone()))
        })
        .collect()
}
