//! The bearer token's life, judged from the managed block, Okta's evidence and server time.
//!
//! [`assess`] is pure: it takes the token record scimbridge keeps in the app's managed block,
//! what Okta shows now (its provisioning features, its app users' sync outcomes), the servers'
//! time and the admin's explicit word, and says which state the token Okta holds is in:
//!
//! ```text
//! none → minted → handed over ─ API: confirmed by the API's answer ─────────┐
//!                             └ console: pending ─ evidence or admin ─→ confirmed → expiring → expired
//! ```
//!
//! What must hold: a console handover is confirmed only by evidence made after the mint. Okta's
//! provisioning features count only when the block recorded them off at the mint (otherwise they
//! predate it); a successful push counts only when it happened after the previous token expired
//! (before that, the previous token could have made it). Without such evidence the handover
//! stays pending until the admin says `apply --confirm-handover`, and every plan says so and when
//! the token Okta still uses expires. Time is the servers' (`Live::observed_at`), never ours.

use serde::{Deserialize, Serialize};

use crate::config::duration::Minutes;
use crate::state::note::{
    Confirmation, ConfirmedBy, Handover, ManagedBlock, PriorToken, TokenRecord, Via,
};
use crate::state::{AppLive, Timestamp};

/// Whether the configured SCIM client secret is the one recorded in the managed block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretCheck {
    /// No digest recorded (older block, or never minted): unknown until the next mint proves it.
    #[default]
    Unknown,
    Same,
    /// The configured secret is not the one the client was last proven to have.
    Differs,
}

/// The state of the token Okta holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    /// No token of the configured client was ever handed to Okta by scimbridge.
    None,
    /// Okta's provisioning is on with a token scimbridge never recorded (set up by hand, or an
    /// imported setup): no API tells its expiry, so it is neither fine nor expiring, but unknown.
    Unknown,
    /// The newest token went to the console step, which is not confirmed yet.
    Pending,
    /// Okta holds the newest token, and it is outside its rotation window.
    Confirmed,
    /// Okta holds the newest token, and it expires inside the rotation window.
    Expiring,
    /// The token Okta holds has expired: WS1 refuses Okta's pushes.
    Expired,
}

/// The token as plans, `apply` and `drift` show it. Holds no secret: only times and states.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatus {
    pub client_id: String,
    pub state: TokenState,
    /// The newest token minted for Okta.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest: Option<TokenRecord>,
    /// The token Okta is believed to use now: the newest once confirmed, else the previous one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_use: Option<PriorToken>,
    /// Days until `in_use` expires (negative once expired), by server time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    /// Evidence found in this read that confirms a pending console handover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirms: Option<Confirmation>,
    /// Superseded, unconfirmed tokens still valid.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub strays: Vec<PriorToken>,
    /// Whether the configured secret is the client's.
    pub secret: SecretCheck,
    /// Okta app users whose last push failed (`syncState` ERROR), by login.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub sync_errors: Vec<String>,
    /// The servers' time of the observation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<Timestamp>,
}

/// What the admin asked for on this run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdminIntent {
    /// `apply --confirm-handover`: the console step was done with the newest token.
    pub confirm_handover: bool,
    /// `apply --reissue-token`: mint a fresh token although one is pending or held.
    pub reissue_token: bool,
}

/// Judges the token of `desired`'s SCIM client from `live`.
pub fn status_of(
    desired: &crate::config::Desired,
    live: &crate::state::Live,
    secret: SecretCheck,
    intent: AdminIntent,
) -> TokenStatus {
    let want = &desired.ws1.scim_client;
    assess(
        want.client_id.as_str(),
        want.rotation_window,
        live.okta.app.as_ref(),
        live.ws1.scim_client.is_some(),
        secret,
        live.observed_at,
        intent,
    )
}

/// Judges the token's state. `client_exists` is whether the WS1 SCIM client exists now.
pub fn assess(
    client_id: &str,
    rotation_window: Minutes,
    app: Option<&AppLive>,
    client_exists: bool,
    secret: SecretCheck,
    now: Option<Timestamp>,
    intent: AdminIntent,
) -> TokenStatus {
    let block = app.and_then(|a| a.managed.as_ref());
    let newest = block
        .and_then(|b| b.token.clone())
        .filter(|t| t.client_id == client_id && client_exists);
    let sync_errors = app
        .map(|a| {
            a.users
                .iter()
                .filter(|u| u.sync_state.as_deref() == Some("ERROR"))
                .map(|u| u.login.clone())
                .collect()
        })
        .unwrap_or_default();
    // A mint that was never recorded may have left a live token: it counts as a stray.
    let strays = block
        .map(|b| {
            let mut strays = b.strays.clone();
            strays.extend(b.minting.as_ref().map(|m| m.prior()));
            strays
        })
        .unwrap_or_default()
        .into_iter()
        .filter(|s| s.client_id == client_id && now.is_none_or(|n| s.expires_at > n))
        .collect();
    let mut status = TokenStatus {
        client_id: client_id.to_owned(),
        state: TokenState::None,
        newest: newest.clone(),
        in_use: None,
        days_left: None,
        confirms: None,
        strays,
        secret,
        sync_errors,
        observed_at: now,
    };
    let Some(newest) = newest else {
        // Provisioning on while the block records no token (nor a mint of one): Okta holds a
        // token scimbridge never saw. Its expiry cannot be read from Okta or WS1.
        let recorded = block.is_some_and(|b| b.token.is_some() || b.minting.is_some());
        // Where Okta's connection API answers, its status says; else the features do.
        let connected = app.is_some_and(|a| match a.capabilities.connection_api {
            true => a.connection.as_ref().is_some_and(|c| c.status == "ENABLED"),
            false => provisioning_on(a),
        });
        if !recorded && client_exists && connected {
            status.state = TokenState::Unknown;
        }
        return status;
    };
    let confirms = match newest.handover {
        Handover::Confirmed => None,
        Handover::Pending => evidence(&newest, block, app, now, intent),
    };
    let held_newest = newest.handover == Handover::Confirmed || confirms.is_some();
    status.confirms = confirms;
    status.in_use = if held_newest {
        Some(newest.prior())
    } else {
        block
            .and_then(|b| b.previous.clone())
            .filter(|p| p.client_id == client_id)
    };
    status.days_left = match (status.in_use.as_ref(), now) {
        // Whole days left, rounded up while valid ("in 365 days" right after a 365-day mint);
        // whole days since, once expired (0 on the day it expired).
        (Some(token), Some(now)) => {
            let secs = token.expires_at.0 - now.0;
            Some(if secs > 0 {
                (secs + 86_399) / 86_400
            } else {
                secs / 86_400
            })
        }
        _ => None,
    };
    let expired = |t: &PriorToken| now.is_some_and(|n| t.expires_at <= n);
    status.state = if !held_newest {
        TokenState::Pending
    } else if expired(&newest.prior()) {
        TokenState::Expired
    } else if now.is_some_and(|n| newest.expires_at <= n.plus_minutes(rotation_window.0)) {
        TokenState::Expiring
    } else {
        TokenState::Confirmed
    };
    status
}

/// Evidence, made after the mint, that Okta holds the newest (pending) token.
fn evidence(
    newest: &TokenRecord,
    block: Option<&ManagedBlock>,
    app: Option<&AppLive>,
    now: Option<Timestamp>,
    intent: AdminIntent,
) -> Option<Confirmation> {
    let confirmation = |by| Some(Confirmation { by, at: now });
    if intent.confirm_handover {
        return confirmation(ConfirmedBy::Admin);
    }
    let app = app?;
    if newest.via == Via::Console
        && newest.provisioning_at_mint == Some(false)
        && provisioning_on(app)
    {
        return confirmation(ConfirmedBy::FeaturesAfterMint);
    }
    // A push that succeeded once every other token of the client could no longer authenticate
    // was made with the newest. Other tokens stop at their expiry (the previous one, strays),
    // or all at the mint when the client was new or recreated; a token scimbridge knows
    // nothing of (set up by hand) may work any time, so then a push proves nothing.
    let block = block?;
    let after = block
        .others()
        .map(|t| t.expires_at)
        .chain([newest.minted_at])
        .max()
        .filter(|_| newest.others_known)?;
    let pushed_after = app.users.iter().any(|u| {
        u.sync_state.as_deref() == Some("SYNCHRONIZED") && u.last_sync.is_some_and(|t| t > after)
    });
    pushed_after.then_some(Confirmation {
        by: ConfirmedBy::PushAfterOthersEnded,
        at: now,
    })
}

/// Whether Okta shows provisioning on for the app (its read-only `features[]`).
pub fn provisioning_on(app: &AppLive) -> bool {
    crate::providers::okta::provisioning_on(&app.features)
}

impl TokenStatus {
    /// Whether a console handover waits for the admin (after this read's evidence).
    pub fn pending(&self) -> bool {
        self.state == TokenState::Pending
    }

    /// Whether the token Okta is believed to use has expired.
    pub fn in_use_expired(&self) -> bool {
        matches!((&self.in_use, self.observed_at), (Some(t), Some(n)) if t.expires_at <= n)
    }

    /// One line for plans and reports: the state, the dates, the next step.
    pub fn summary(&self) -> String {
        let client = &self.client_id;
        if self.state == TokenState::Unknown {
            return format!(
                "Okta's provisioning uses a token of `{client}` that scimbridge did not mint (set up by hand, or imported): no API tells when it expires; `scimbridge apply --reissue-token --token-out FILE` hands over one whose expiry scimbridge tracks"
            );
        }
        let Some(newest) = &self.newest else {
            return format!("no token of `{client}` was handed to Okta by scimbridge yet");
        };
        let lifetime = format!(
            "minted {}, expires {}",
            newest.minted_at.date(),
            newest.expires_at.date()
        );
        let expired = self.in_use_expired();
        let days = |d: i64| match d {
            0 if expired => "expired today".to_owned(),
            d if expired => format!("expired {} day(s) ago", -d),
            d => format!("expires in {d} day(s)"),
        };
        match self.state {
            TokenState::None | TokenState::Unknown => format!("no token of `{client}` yet"),
            TokenState::Pending => {
                let old = match (&self.in_use, self.days_left) {
                    (Some(old), Some(d)) => format!(
                        "; until it is done Okta uses the token minted {}, which {} ({})",
                        old.minted_at.date(),
                        if d < 0 {
                            "has expired"
                        } else {
                            "is still valid"
                        },
                        days(d)
                    ),
                    _ => "; until it is done Okta has no working token of scimbridge's".to_owned(),
                };
                format!(
                    "the token of `{client}` {lifetime} waits for its console handover (pending since {}){old}",
                    newest.minted_at
                )
            }
            TokenState::Confirmed | TokenState::Expiring | TokenState::Expired => {
                let how = self
                    .confirms
                    .or(newest.confirmed)
                    .map(|c| format!("; handed over: {}", c.by.describe()))
                    .unwrap_or_default();
                let left = self.days_left.map(days).unwrap_or_default();
                format!("Okta holds the token of `{client}` {lifetime} ({left}){how}")
            }
        }
    }
}
