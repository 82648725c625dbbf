//! The proofs after applying: wait for Okta's asynchronous pushes, then check that users really
//! arrived in WS1 as the config says (the data-flow check).
//!
//! What must hold: reads only; waiting is bounded (a push that never finishes is reported, not
//! waited for forever); every assigned Okta user is looked for in WS1 by the userName the app's
//! template gives it, and compared on the workspace attributes the config maps.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::dataflow::{self, Expected, Found, UserReport};
use super::expression::{self, Profile};
use crate::config::model::{Desired, MappingRule};
use crate::providers::okta::{self, AppId};
use crate::state::read::{LOOKUP_LIMIT, Services, each};

/// The WS1 workspace extension's attributes the data-flow check compares.
const WORKSPACE_ATTRIBUTES: [&str; 3] = ["domain", "internalUserType", "userPrincipalName"];

/// Polls the app's users until none is still being pushed, or `timeout` passes; returns whether
/// they all settled.
pub async fn wait_for_pushes(
    services: &Services,
    app: &AppId,
    timeout: Duration,
) -> anyhow::Result<bool> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(50);
    loop {
        let users = services
            .okta
            .app_users(app)
            .await
            .context("cannot read the app's users")?;
        let busy = users
            .iter()
            .any(|u| matches!(u.sync_state.as_deref(), Some("SYNCING")));
        if !busy {
            return Ok(true);
        }
        if started.elapsed() >= timeout {
            return Ok(false);
        }
        tokio::time::sleep(pause.min(timeout.saturating_sub(started.elapsed()))).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Compares every user assigned to the app (and every login in `unassigned`, which must be
/// inactive) with WS1.
pub async fn data_flow(
    desired: &Desired,
    services: &Services,
    app: &AppId,
    unassigned: &[okta::UserId],
) -> anyhow::Result<Vec<UserReport>> {
    let okta = &services.okta;
    let app_users = okta
        .app_users(app)
        .await
        .context("cannot read the app's users")?;
    let template = okta
        .get_app(app)
        .await
        .context("cannot read the app")?
        .user_name_template
        .unwrap_or_else(|| "${source.login}".into());
    let ids: Vec<okta::UserId> = app_users
        .iter()
        .map(|u| u.id.clone())
        .chain(unassigned.iter().cloned())
        .collect();
    let users: Vec<okta::User> = each(&ids, |id| async move {
        okta.user_by_login(id.as_str())
            .await
            .with_context(|| format!("cannot read the Okta user {id}"))
    })
    .await?;
    let sync: BTreeMap<&str, Option<String>> = app_users
        .iter()
        .map(|u| (u.id.as_str(), u.sync_state.clone()))
        .collect();
    let mappings = workspace_mappings(desired);
    let expected: Vec<Expected> = users
        .iter()
        .map(|user| {
            let profile = profile_of(user);
            let attributes = mappings
                .iter()
                .filter_map(|(name, expr)| {
                    Some((name.clone(), expression::evaluate(expr, &profile)?))
                })
                .collect();
            Expected {
                login: user.profile.login.clone(),
                user_name: expression::evaluate_username(&template, &profile)
                    .unwrap_or_else(|| user.profile.login.clone()),
                attributes,
                assigned: sync.contains_key(user.id.as_str()),
                okta_sync_state: sync.get(user.id.as_str()).cloned().flatten(),
                okta_sync_error: None,
            }
        })
        .collect();
    let ws1 = &services.ws1;
    let scim_users = if expected.len() > LOOKUP_LIMIT {
        ws1.scim_users(None)
            .await
            .context("cannot list the WS1 users")?
    } else {
        each(&expected, |want| async move {
            ws1.scim_users_by_username(&want.user_name)
                .await
                .with_context(|| format!("cannot look up the WS1 user {}", want.user_name))
        })
        .await?
    };
    let found: Vec<Found> = scim_users
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
        .collect();
    Ok(dataflow::check(&expected, &found))
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

fn profile_of(user: &okta::User) -> Profile {
    let p = &user.profile;
    [
        ("login", Some(p.login.clone())),
        ("email", p.email.clone()),
        ("firstName", p.first_name.clone()),
        ("lastName", p.last_name.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k.to_owned(), v?)))
    .collect()
}
