//! The planner: desired state + live state → [`Plan`], in the guides' dependency order.
//!
//! One method per resource kind diffs it and appends actions, called in the guides' order;
//! dependencies are computed once at the end from the stages (see [`link`]). Nothing here does IO or reads a
//! clock: time comes from `Live::observed_at`, the servers' own.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::token::{self, AdminIntent, SecretCheck, TokenState, TokenStatus};
use super::*;
use crate::config::model::{App, Desired, MappingRule, Mode, Variant};
use crate::config::{Diagnostic, Location, Path};
use crate::state::{self, AppLive, Live, OktaGroupId, OktaUserId};

/// Resolved, non-secret values the planner needs besides the model.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The config file's name, as shown in plans.
    pub config: String,
    /// The base URL Okta provisions to: the SCIM base URL for the SCIM 1.1 app (its
    /// connection), the tenant root for the OIN app (its General settings).
    pub scim_base_url: String,
    /// Whether the configured SCIM client secret is the recorded one (compared by the caller,
    /// which holds the secret; the planner sees only the verdict).
    pub secret: SecretCheck,
    /// What the admin asked for on this run (`--confirm-handover`, `--reissue-token`).
    pub intent: AdminIntent,
}

/// Plans the changes from `live` to `desired`. Fails with located diagnostics when the config
/// names Okta users or groups that do not exist (scimbridge does not create them).
pub fn plan(desired: &Desired, settings: &Settings, live: &Live) -> Result<Plan, Vec<Diagnostic>> {
    let status = token::status_of(desired, live, settings.secret, settings.intent);
    let mut planner = Planner {
        desired,
        settings,
        live,
        app: live.okta.app.as_ref(),
        status,
        fresh_client: false,
        actions: Vec::new(),
        problems: Vec::new(),
    };
    let replacing = planner.scim_client();
    // Decided before the app (whose handover confirmation depends on it), placed after it.
    let (minting, mint) = planner.token(replacing);
    planner.directory();
    planner.app(minting);
    planner.actions.extend(mint);
    planner.connection(minting);
    planner.attributes();
    let mappings_changed = planner.mappings();
    planner.toggles();
    planner.apply_updates_now(mappings_changed);
    planner.assignments();
    planner.group_push();
    if !planner.problems.is_empty() {
        return Err(planner.problems);
    }
    let mut actions = planner.actions;
    let planner_status = planner.status;
    link(&mut actions);
    let plan = Plan {
        format_version: FORMAT_VERSION,
        config: settings.config.clone(),
        observed_at: live.observed_at,
        actions,
        token: planner_status,
        fingerprints: live.fingerprints.clone(),
    };
    // A plan that breaks the lint is never returned; no input or server answer may panic here.
    let violations = super::lint::check(&plan);
    if !violations.is_empty() {
        let at = Location {
            file: settings.config.as_str().into(),
            line: 1,
            column: 1,
        };
        return Err(violations
            .into_iter()
            .map(|v| {
                Diagnostic::error("plan-lint", Path::root(), at.clone(), v.to_string())
                    .why("scimbridge refuses to show or apply a plan that breaks its own rules")
                    .help("this is scimbridge's fault, not the config's: please report it with the plan's input")
            })
            .collect());
    }
    Ok(plan)
}

struct Planner<'a> {
    desired: &'a Desired,
    settings: &'a Settings,
    live: &'a Live,
    app: Option<&'a AppLive>,
    /// The token's state, judged once from the managed block, Okta's evidence and server time.
    status: TokenStatus,
    /// The SCIM client is new or recreated by this plan: no earlier token of it works.
    fresh_client: bool,
    actions: Vec<Action>,
    problems: Vec<Diagnostic>,
}

fn action(resource: Resource, kind: Kind, at: &Location, op: Op) -> Action {
    Action {
        resource,
        kind,
        at: at.clone(),
        reason: None,
        changes: Vec::new(),
        hazard: None,
        notes: Vec::new(),
        depends_on: Vec::new(),
        manual: None,
        op,
    }
}

/// Adds `field: old → new` when they differ.
fn diff(changes: &mut Vec<Change>, field: &str, old: impl Into<String>, new: impl Into<String>) {
    let (old, new) = (old.into(), new.into());
    if old != new {
        changes.push(Change::new(field, Value::Text(old), Value::Text(new)));
    }
}

/// A create (every old value absent) when the object does not exist, an update when something
/// differs, nothing when it is already right.
fn create_or_update(exists: bool, mut changes: Vec<Change>) -> Option<(Kind, Vec<Change>)> {
    if !exists {
        for change in &mut changes {
            change.old = Value::Absent;
        }
        return Some((Kind::Create, changes));
    }
    (!changes.is_empty()).then_some((Kind::Update, changes))
}

fn yes_no(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Why the token needs minting, if it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mint {
    No,
    First,
    Rotate,
    /// A fresh token for a pending handover whose file may be lost (`--reissue-token`).
    Reissue,
    /// The token an interrupted run minted and wrote to its file, taken up instead of a mint.
    Adopt,
}

/// Why the SCIM client is deleted and created again, if it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Replace {
    /// The configured secret is not the one the client was last proven to have.
    Secret,
    /// A re-issue revokes the lost, unconfirmed token; Okta uses no token of the client yet.
    RevokeLost,
}

impl Planner<'_> {
    fn app_key(&self) -> String {
        self.desired.okta.app.key.to_string()
    }

    fn app_ref(&self) -> AppRef {
        match self.app {
            Some(app) => AppRef::Existing(app.id.clone()),
            None => AppRef::Created,
        }
    }

    fn push(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// How a console handover will be confirmed: an extra step for the admin, if one is needed,
    /// and the "verified by" line. Provisioning turning on after the mint shows the step done;
    /// when it is on already, only a push after the old token's expiry, or the admin, can tell.
    fn handover_evidence(&self, minting: Mint) -> (Option<String>, String) {
        let seen_by_features = match minting {
            Mint::No => self
                .status
                .newest
                .as_ref()
                .is_some_and(|t| t.provisioning_at_mint == Some(false)),
            _ => !self.app.is_some_and(token::provisioning_on),
        };
        if seen_by_features {
            return (
                None,
                "Okta's features[] turning provisioning on (it was off at the mint), or `scimbridge apply --confirm-handover`".into(),
            );
        }
        let confirm = "`scimbridge apply --confirm-handover`";
        // A push proves the new token only when every other working token is known.
        let others_known = self.status.newest.as_ref().is_some_and(|t| t.others_known)
            || (minting != Mint::No && self.fresh_client);
        if self.fresh_client && minting != Mint::No {
            return (
                Some(format!(
                    "Then run {confirm}, or let Okta's next successful push show it: the client is new, so no other token of it works."
                )),
                format!("a successful push by Okta after the mint, or {confirm}"),
            );
        }
        match self
            .status
            .in_use
            .as_ref()
            .map(|t| t.expires_at)
            .filter(|_| others_known)
        {
            Some(expiry) if self.status.in_use_expired() => (
                Some(format!(
                    "Then run {confirm}, or let Okta's next successful push show it: the old token expired ({expiry}), so only a newer one can push."
                )),
                format!(
                    "a successful push by Okta after the old token's expiry ({expiry}), or {confirm}"
                ),
            ),
            Some(expiry) => (
                Some(format!(
                    "Then run {confirm}: provisioning is on already, so Okta shows nothing that tells which token it holds until the old one expires ({expiry})."
                )),
                format!(
                    "{confirm}, or a successful push by Okta after the old token's expiry ({expiry})"
                ),
            ),
            None => (
                Some(format!(
                    "Then run {confirm}: Okta shows nothing that tells which token it holds: provisioning was already on, and a token of this client that scimbridge did not mint may still work."
                )),
                confirm.to_owned(),
            ),
        }
    }

    /// Why a console handover is still shown: what waits, and what Okta uses meanwhile.
    fn pending_reason(&self) -> String {
        let status = &self.status;
        let Some(newest) = status.newest.as_ref() else {
            return "the console step is not confirmed yet".into();
        };
        let mut reason = format!(
            "the token minted {} waits in your --token-out file; the console step is not confirmed yet",
            newest.minted_at
        );
        match &status.in_use {
            Some(old) if status.in_use_expired() => reason.push_str(&format!(
                "; Okta still uses the token minted {}, which EXPIRED {}: WS1 refuses its pushes",
                old.minted_at, old.expires_at
            )),
            Some(old) => reason.push_str(&format!(
                "; Okta still uses the token minted {}, which expires {}",
                old.minted_at, old.expires_at
            )),
            None => {}
        }
        if self
            .live
            .observed_at
            .is_some_and(|n| newest.expires_at <= n)
        {
            reason.push_str(&format!(
                "; the waiting token itself expired {}: re-issue it with --reissue-token",
                newest.expires_at
            ));
        }
        reason
    }

    /// Whether the SCIM client must be deleted and created again, and why.
    fn replacement(&self) -> Option<Replace> {
        self.live.ws1.scim_client.as_ref()?;
        if self.settings.secret == SecretCheck::Differs {
            return Some(Replace::Secret);
        }
        // A lost, unconfirmed token is revoked (with its client) when that disrupts nothing:
        // Okta uses no working token of the client (none handed over yet, or the old one has
        // expired), and no token scimbridge does not know of can be in use.
        let status = &self.status;
        let newest = status.newest.as_ref()?;
        let nothing_working = status.in_use.is_none() || status.in_use_expired();
        let all_known = newest.others_known || newest.provisioning_at_mint == Some(false);
        (self.settings.intent.reissue_token && status.pending() && nothing_working && all_known)
            .then_some(Replace::RevokeLost)
    }

    /// Plans the SCIM client; returns why it is replaced, if it is.
    fn scim_client(&mut self) -> Option<Replace> {
        let want = &self.desired.ws1.scim_client;
        let resource = Resource::ScimClient(want.client_id.to_string());
        let (client_id, scope, access_token_ttl) = (
            want.client_id.to_string(),
            want.scope.clone(),
            want.access_token_ttl.0,
        );
        let Some(live) = &self.live.ws1.scim_client else {
            let mut a = action(
                resource,
                Kind::Create,
                &want.at,
                Op::CreateScimClient {
                    client_id,
                    scope,
                    access_token_ttl,
                },
            );
            a.changes = vec![
                Change::new(
                    "client_id",
                    Value::Absent,
                    Value::text(want.client_id.as_str()),
                ),
                Change::new("scope", Value::Absent, Value::text(&want.scope)),
                Change::new(
                    "grant_types",
                    Value::Absent,
                    Value::text("client_credentials"),
                ),
                Change::new(
                    "access_token_ttl",
                    Value::Absent,
                    Value::text(want.access_token_ttl.to_string()),
                ),
                Change::new("secret", Value::Absent, Value::Sensitive),
            ];
            self.push(a);
            return None;
        };
        let mut changes = Vec::new();
        diff(&mut changes, "scope", &live.scope, &want.scope);
        // A TTL the tenant did not say (`accessTokenTTL` is optional in ws1-api §4.2) is not
        // taken for a different one: a PUT only to set it might revoke the token Okta holds (its
        // effect on issued tokens is UNVERIFIED, §4.1, §12.5), and it would be planned again on
        // every run. The token's real lifetime is still judged from the minted JWT's `exp`.
        if let Some(ttl) = live.access_token_ttl {
            diff(
                &mut changes,
                "access_token_ttl",
                crate::config::duration::Minutes(ttl).to_string(),
                want.access_token_ttl.to_string(),
            );
        }
        if !live
            .grant_types
            .split_whitespace()
            .any(|g| g == "client_credentials")
        {
            diff(
                &mut changes,
                "grant_types",
                &live.grant_types,
                "client_credentials",
            );
        }
        let replace = self.replacement();
        if let Some(why) = replace {
            let mut a = action(
                resource,
                Kind::Update,
                &want.at,
                Op::ReplaceScimClient {
                    client_id,
                    scope,
                    access_token_ttl,
                },
            );
            a.changes = changes;
            match why {
                Replace::Secret => {
                    a.changes
                        .push(Change::new("secret", Value::Sensitive, Value::Sensitive));
                    a.hazard = Some(Hazard::Disruptive);
                    a.reason = Some("the configured secret is not the one set on the client (its recorded digest differs): the client is deleted and created again with it".into());
                    a.notes.push("deleting the client revokes every token it issued, the one Okta holds included: provisioning stops until the new token below is handed over".into());
                }
                Replace::RevokeLost => {
                    let unconfirmed = 1 + self.status.strays.len();
                    a.changes.push(Change::new(
                        "issued_tokens",
                        Value::text(format!("{unconfirmed} unconfirmed")),
                        Value::text("revoked"),
                    ));
                    a.reason = Some("--reissue-token: the unconfirmed token may sit in a lost file; WS1 revokes a client's tokens only by deleting the client, and Okta uses no working token of it (none handed over yet, or the old one expired)".into());
                }
            }
            a.notes.push("WS1 revokes tokens only by deleting their client (reference: ws1-api §4.1); whether a PUT of a new secret revokes them is not documented, so scimbridge never relies on it".into());
            self.push(a);
            return replace;
        }
        if changes.is_empty() {
            return None;
        }
        let ttl_changed = changes.iter().any(|c| c.field == "access_token_ttl");
        let mut a = action(
            resource,
            Kind::Update,
            &want.at,
            Op::UpdateScimClient {
                client_id,
                scope,
                access_token_ttl,
            },
        );
        a.changes = changes;
        if ttl_changed {
            let expiry = self
                .status
                .in_use
                .as_ref()
                .map(|t| format!(" (it expires {})", t.expires_at))
                .unwrap_or_default();
            a.notes.push(format!(
                "the token Okta holds keeps its old expiry{expiry}: a TTL applies to tokens minted after the change; it is rotated inside the rotation window"
            ));
        }
        self.push(a);
        None
    }

    /// Decides whether to mint the bearer token; returns why, and the action that does it.
    fn token(&mut self, replacing: Option<Replace>) -> (Mint, Option<Action>) {
        let want = &self.desired.ws1.scim_client;
        let client_id = want.client_id.to_string();
        let handover = match self.app {
            None => HandoverVia::Probe,
            Some(app) if app.capabilities.connection_api => HandoverVia::Api,
            Some(_) => HandoverVia::Manual,
        };
        self.fresh_client = replacing.is_some() || self.live.ws1.scim_client.is_none();
        let status = &self.status;
        let reissue = self.settings.intent.reissue_token;
        let newest = status.newest.as_ref();
        let record = self
            .app
            .and_then(|a| a.managed.as_ref())
            .and_then(|m| m.token.as_ref());
        let unfinished = self
            .app
            .and_then(|a| a.managed.as_ref())
            .and_then(|m| m.minting.as_ref());
        // A run that died between writing the token file and recording it: take that token up.
        if let Some(intent) = unfinished
            && let Some(file) = &intent.file
            && replacing.is_none()
            && !reissue
            && self.live.ws1.scim_client.is_some()
            && intent.client_id == client_id
            && self.app.is_some_and(|a| a.minting_file_ready)
        {
            let mut a = action(
                Resource::Token(client_id.clone()),
                Kind::Update,
                &want.at,
                Op::AdoptToken {
                    app: self.app_ref(),
                    client_id,
                    file: file.clone(),
                    started_at: intent.started_at,
                    expires_by: intent.expires_by,
                },
            );
            a.reason = Some(format!(
                "an apply minted a token at {} and wrote it to {file}, but stopped before recording it: that token is recorded (after a test against WS1) instead of minting another",
                intent.started_at
            ));
            a.changes = vec![Change::new("bearer_token", Value::Absent, Value::Sensitive)];
            return (Mint::Adopt, Some(a));
        }
        let (mint, reason) = match (replacing, status.state) {
            _ if self.live.ws1.scim_client.is_none() => {
                (Mint::First, "a new client has no token yet".to_owned())
            }
            (Some(Replace::Secret), _) => (
                Mint::Rotate,
                "the client is recreated with the configured secret, which revokes every earlier token".to_owned(),
            ),
            (Some(Replace::RevokeLost), _) => (
                Mint::Reissue,
                format!(
                    "--reissue-token: replaces the unconfirmed token minted {}, revoked with the client",
                    newest.map(|t| t.minted_at.to_string()).unwrap_or_default()
                ),
            ),
            (None, TokenState::None) => match record {
                Some(other) => (
                    Mint::First,
                    format!(
                        "Okta holds a token of client `{}`, not `{client_id}`",
                        other.client_id
                    ),
                ),
                None => (Mint::First, "never minted".to_owned()),
            },
            (None, TokenState::Pending) if reissue => {
                let stale = newest.map(|t| t.prior());
                (
                    Mint::Reissue,
                    format!(
                        "--reissue-token: supersedes the unconfirmed token minted {}; it stays valid until {} (WS1 revokes a token only by deleting its client, which would also cut off the token Okta uses now)",
                        stale.as_ref().map(|t| t.minted_at.to_string()).unwrap_or_default(),
                        stale.as_ref().map(|t| t.expires_at.to_string()).unwrap_or_default()
                    ),
                )
            }
            // A handover in progress is finished or re-issued on request, never replaced by
            // another token on a plain re-run.
            (None, TokenState::Pending) => (Mint::No, String::new()),
            (None, TokenState::Unknown) if reissue => (
                Mint::Rotate,
                "--reissue-token: replaces the token set up without scimbridge, whose expiry is unknown; it stays valid until it expires (WS1 revokes tokens only by deleting their client)".to_owned(),
            ),
            // A token set up by hand works as far as anyone knows: never replaced unasked.
            (None, TokenState::Unknown) => (Mint::No, String::new()),
            (None, TokenState::Expired) => (
                Mint::Rotate,
                format!(
                    "the token Okta holds expired {}; provisioning is failing",
                    newest.map(|t| t.expires_at.to_string()).unwrap_or_default()
                ),
            ),
            (None, TokenState::Expiring) => (
                Mint::Rotate,
                format!(
                    "the token expires {}, inside the {} rotation window",
                    newest.map(|t| t.expires_at.to_string()).unwrap_or_default(),
                    want.rotation_window
                ),
            ),
            (None, TokenState::Confirmed) if reissue => (
                Mint::Rotate,
                "--reissue-token: a fresh token although Okta holds a valid one; the current one stays valid until the new one is handed over".to_owned(),
            ),
            (None, TokenState::Confirmed) => (Mint::No, String::new()),
        };
        if mint == Mint::No {
            return (Mint::No, None);
        }
        let kind = if mint == Mint::First {
            Kind::Create
        } else {
            Kind::Update
        };
        let mut a = action(
            Resource::Token(client_id.clone()),
            kind,
            &want.at,
            Op::MintToken {
                client_id,
                handover,
                client_recreated: self.fresh_client,
                app: self.app_ref(),
                access_token_ttl: want.access_token_ttl.0,
            },
        );
        a.reason = Some(reason);
        if let Some(intent) = unfinished.filter(|_| !self.fresh_client) {
            a.notes.push(format!(
                "an earlier apply began a mint at {} that was never recorded: if WS1 issued that token, nobody holds it and it stays valid until {} at most; it is recorded as a stray",
                intent.started_at, intent.expires_by
            ));
        }
        a.changes = vec![Change::new(
            "bearer_token",
            if mint == Mint::First {
                Value::Absent
            } else {
                Value::Sensitive
            },
            Value::Sensitive,
        )];
        a.notes.push(match handover {
            HandoverVia::Api => "handed to Okta through the connection API, in memory, after a test like Okta's \"Test API Credentials\"".to_owned(),
            HandoverVia::Manual => "written only to the file named by `apply --token-out FILE` (created new, mode 0600), for the console step below".to_owned(),
            HandoverVia::Probe => "handed to Okta through the connection API if Okta accepts it for the new app, else written only to the file named by `apply --token-out FILE` (created new, mode 0600) for the console step below".to_owned(),
        });
        (mint, Some(a))
    }

    fn directory(&mut self) {
        let want = &self.desired.ws1.directory;
        let resource = Resource::Directory(want.name.to_string());
        let domains: Vec<String> = want.domains.iter().map(|d| d.to_string()).collect();
        match &self.live.ws1.directory {
            None => {
                let mut a = action(
                    resource,
                    Kind::Create,
                    &want.at,
                    Op::CreateDirectory {
                        name: want.name.to_string(),
                        domains: domains.clone(),
                    },
                );
                a.changes = vec![
                    Change::new("name", Value::Absent, Value::text(want.name.as_str())),
                    Change::new("type", Value::Absent, Value::text("OTHER_DIRECTORY")),
                    Change::new("domains", Value::Absent, Value::text(domains.join(", "))),
                ];
                self.push(a);
            }
            Some(live) if live.kind != "OTHER_DIRECTORY" => {
                self.problems.push(
                    Diagnostic::error(
                        "directory-type",
                        Path::parse("ws1.directory.name"),
                        want.at.clone(),
                        format!("a {} directory named `{}` exists, not an Other directory", live.kind, want.name),
                    )
                    .why("provisioned users must land in an Other directory; scimbridge will not reuse or replace another kind")
                    .help("rename one of them"),
                );
            }
            Some(live) => {
                let missing: Vec<&String> = domains
                    .iter()
                    .filter(|d| !live.domains.iter().any(|l| l.eq_ignore_ascii_case(d)))
                    .collect();
                if missing.is_empty() {
                    return;
                }
                let mut a = action(resource, Kind::Manual, &want.at, Op::Manual);
                a.reason = Some("WS1 has no API to change an Other directory's domains".into());
                a.changes = vec![Change::new(
                    "domains",
                    Value::text(live.domains.join(", ")),
                    Value::text(domains.join(", ")),
                )];
                a.manual = Some(ManualStep {
                    title: "Add the directory's missing domains in the WS1 Access console".into(),
                    steps: vec![
                        "In the Workspace ONE Access console, open Identity & Access Management > Directories.".into(),
                        format!("Open the directory `{}` and its Domains.", want.name),
                        "Add each missing domain and save.".into(),
                    ],
                    values: missing.iter().map(|d| ("domain".to_owned(), (*d).clone())).collect(),
                    verified_by: "the directory's domains, read on the next run".into(),
                });
                self.push(a);
            }
        }
    }

    fn settings_base_url(&self) -> Option<String> {
        (self.desired.okta.app.variant == Variant::OinWorkspaceOne)
            .then(|| self.settings.scim_base_url.clone())
    }

    /// The app fields the config sets, as the app should have them.
    fn app_fields(&self) -> AppFields {
        let want = &self.desired.okta.app;
        AppFields {
            label: want.label.clone(),
            username_kind: want.username.kind.into(),
            username_template: want.username.template.clone(),
            hide_web: want.hide_web,
            hide_mobile: want.hide_mobile,
            settings_base_url: self.settings_base_url(),
        }
    }

    fn app(&mut self, minting: Mint) {
        let want: &App = &self.desired.okta.app;
        let key = self.app_key();
        let resource = Resource::App(key.clone());
        let user_note = want.admin_note.clone();
        let Some(live) = self.app else {
            let mut a = action(
                resource,
                Kind::Create,
                &want.at,
                Op::CreateApp {
                    catalog_name: want.catalog_name.clone(),
                    fields: self.app_fields(),
                    key: key.clone(),
                    admin_note: user_note.clone(),
                },
            );
            a.changes = vec![
                Change::new("name", Value::Absent, Value::text(&want.catalog_name)),
                Change::new("label", Value::Absent, Value::text(&want.label)),
                Change::new(
                    "username_template",
                    Value::Absent,
                    Value::text(&want.username.template),
                ),
                Change::new(
                    "hide.web",
                    Value::Absent,
                    Value::text(want.hide_web.to_string()),
                ),
                Change::new(
                    "hide.mobile",
                    Value::Absent,
                    Value::text(want.hide_mobile.to_string()),
                ),
            ];
            if let Some(url) = self.settings_base_url() {
                a.changes.push(Change::new(
                    "settings.app.baseUrl",
                    Value::Absent,
                    Value::text(url),
                ));
            }
            if let Some(note) = &user_note {
                a.changes
                    .push(Change::new("admin_note", Value::Absent, Value::text(note)));
            }
            a.changes.push(Change::new(
                "managed_block.key",
                Value::Absent,
                Value::text(&key),
            ));
            self.push(a);
            return;
        };
        let mut changes = Vec::new();
        diff(&mut changes, "label", &live.label, &want.label);
        diff(
            &mut changes,
            "username_template.type",
            &live.username_kind,
            want.username.kind,
        );
        diff(
            &mut changes,
            "username_template",
            &live.username_template,
            &want.username.template,
        );
        diff(
            &mut changes,
            "hide.web",
            live.hide_web.to_string(),
            want.hide_web.to_string(),
        );
        diff(
            &mut changes,
            "hide.mobile",
            live.hide_mobile.to_string(),
            want.hide_mobile.to_string(),
        );
        if let Some(url) = self.settings_base_url() {
            diff(
                &mut changes,
                "settings.app.baseUrl",
                live.settings_base_url.clone().unwrap_or_default(),
                url,
            );
        }
        diff(&mut changes, "status", &live.status, "ACTIVE");
        diff(
            &mut changes,
            "admin_note",
            live.admin_note.clone().unwrap_or_default(),
            user_note.clone().unwrap_or_default(),
        );
        let mut reason = None;
        match &live.managed {
            None => {
                changes.push(Change::new(
                    "managed_block.key",
                    Value::Absent,
                    Value::text(&key),
                ));
                reason = Some(format!(
                    "adopting the app labelled `{}`: its admin note gets scimbridge's managed block",
                    live.label
                ));
            }
            Some(block) => diff(&mut changes, "managed_block.key", &block.key, &key),
        }
        // A console handover is recorded as confirmed only on evidence made after the mint (or
        // the admin's word); a token minted in this run is recorded by its handover step.
        let confirm_handover: Option<ConfirmHandover> = match (minting, &self.status.newest) {
            (Mint::No, Some(newest)) => self.status.confirms.map(|confirmation| ConfirmHandover {
                minted_at: newest.minted_at,
                confirmation,
            }),
            _ => None,
        };
        if let Some(ConfirmHandover { confirmation, .. }) = confirm_handover {
            changes.push(Change::new(
                "managed_block.token.handover",
                Value::text("pending"),
                Value::text("confirmed"),
            ));
            reason = Some(format!(
                "the console handover is confirmed: {}",
                confirmation.by.describe()
            ));
        }
        if changes.is_empty() {
            return;
        }
        // Nothing but the managed block to add: the app is as the config says, and is adopted.
        let kind = if live.managed.is_none() && changes.len() == 1 {
            reason = Some(format!(
                "adopting the app labelled `{}`, which is as the config says: the first apply records scimbridge's managed block in its admin note and changes nothing else",
                live.label
            ));
            Kind::Adopt
        } else {
            Kind::Update
        };
        let mut a = action(
            resource,
            kind,
            &want.at,
            Op::UpdateApp {
                app: self.app_ref(),
                fields: self.app_fields(),
                key,
                admin_note: user_note,
                activate: live.status != "ACTIVE",
                confirm_handover,
            },
        );
        a.changes = changes;
        a.reason = reason;
        self.push(a);
    }

    fn connection(&mut self, minting: Mint) {
        let want = &self.desired.okta.app;
        let key = self.app_key();
        let base_url = self.settings.scim_base_url.clone();
        // The OIN app's base URL is its General setting (diffed with the app), not the connection's.
        let connection_url = (want.variant == Variant::Scim11Custom).then(|| base_url.clone());
        let api = self.app.is_some_and(|a| a.capabilities.connection_api);
        let pending = self.status.pending();
        if api {
            let live = self.app.and_then(|a| a.connection.as_ref());
            let mut changes = Vec::new();
            if let Some(url) = &connection_url {
                let live_url = live.and_then(|c| c.base_url.clone()).unwrap_or_default();
                diff(&mut changes, "base_url", live_url, url.clone());
            }
            diff(
                &mut changes,
                "status",
                live.map(|c| c.status.clone()).unwrap_or_default(),
                "ENABLED",
            );
            if minting != Mint::No {
                changes.push(Change::new("token", Value::Sensitive, Value::Sensitive));
            } else if !changes.is_empty() {
                // The connection API takes the token with every change; a change means a new one.
                self.problems.push(
                    Diagnostic::error(
                        "connection-drift",
                        Path::parse("okta.app.provisioning"),
                        want.provisioning.at.clone(),
                        "the provisioning connection drifted, and fixing it through the API needs a new token".into(),
                    )
                    .why("Okta never returns the token, so the connection can only be rewritten with a freshly minted one")
                    .help("rotate the token (a new token is minted when the old one is inside its rotation window)"),
                );
                return;
            }
            if changes.is_empty() {
                return;
            }
            let kind = if live.is_some_and(|c| c.status == "ENABLED") {
                Kind::Update
            } else {
                Kind::Create
            };
            let mut a = action(
                Resource::Connection(key),
                kind,
                &want.provisioning.at,
                Op::SetConnection {
                    app: self.app_ref(),
                    base_url: connection_url,
                },
            );
            a.changes = changes;
            if minting != Mint::No {
                a.notes.push(
                    "scimbridge records the new token in the app's managed block as handed over"
                        .into(),
                );
            }
            self.push(a);
            return;
        }
        if minting == Mint::No && !pending {
            return;
        }
        let probe = self.app.is_none();
        let op = match minting {
            Mint::No => Op::Manual,
            _ if probe => Op::ConnectOrHandOver {
                app: self.app_ref(),
                base_url: connection_url.clone(),
            },
            _ => Op::RecordPendingHandover {
                app: self.app_ref(),
                provisioning_before: self.app.is_some_and(token::provisioning_on),
            },
        };
        let mut a = action(
            Resource::Connection(key),
            Kind::Manual,
            &want.provisioning.at,
            op,
        );
        if minting != Mint::No {
            a.notes.push(
                "scimbridge records the new token in the app's managed block (handover pending until the console step is confirmed)"
                    .into(),
            );
        }
        a.reason = Some(if minting == Mint::No {
            self.pending_reason()
        } else if probe {
            "whether Okta's API accepts the provisioning connection is known once the app exists: scimbridge tries the API first, else this is yours to do".into()
        } else {
            "Okta's API refuses the provisioning connection for this app (reference: connections API supports only a few apps)".into()
        });
        let (token_field, steps_tab) = match want.variant {
            Variant::Scim11Custom => (
                "OAuth Bearer Token",
                "Provisioning > Integration > Configure API Integration",
            ),
            Variant::OinWorkspaceOne => ("API Token", "Provisioning > Configure API Integration"),
        };
        let mut values = Vec::new();
        if want.variant == Variant::Scim11Custom {
            values.push(("SCIM 1.1 base URL".to_owned(), base_url));
        }
        values.push((
            token_field.to_owned(),
            "the contents of your --token-out file".to_owned(),
        ));
        let mut steps = vec![
            format!(
                "Open Applications > Applications > `{}` > {steps_tab}.",
                want.label
            ),
            "Tick \"Enable API integration\" (already ticked when replacing a token).".into(),
            "Enter the values below; paste the token from your file, then delete the file.".into(),
            "Click \"Test API Credentials\"; it must succeed. Then Save.".into(),
        ];
        let (extra_step, verified_by) = self.handover_evidence(minting);
        steps.extend(extra_step);
        steps.push("Lost the file? `scimbridge apply --reissue-token --token-out NEW-FILE` mints a fresh token.".into());
        steps.push("No Provisioning tab? The Okta licence lacks provisioning.".into());
        a.manual = Some(ManualStep {
            title: "Connect Okta to Workspace ONE Access in the Okta Admin Console".into(),
            steps,
            values,
            verified_by,
        });
        self.push(a);
    }

    fn attributes(&mut self) {
        let app_ref = self.app_ref();
        for want in &self.desired.okta.app.attributes {
            let live = self.app.and_then(|a| a.attributes.get(want.name.as_str()));
            let mut changes = Vec::new();
            let old = |f: &dyn Fn(&crate::state::AttributeLive) -> String| {
                live.map(f).unwrap_or_default()
            };
            diff(
                &mut changes,
                "title",
                old(&|l| l.title.clone()),
                &want.title,
            );
            diff(
                &mut changes,
                "type",
                old(&|l| l.kind.clone()),
                want.kind.as_okta(),
            );
            diff(
                &mut changes,
                "external_name",
                old(&|l| l.external_name.clone().unwrap_or_default()),
                &want.external_name,
            );
            diff(
                &mut changes,
                "external_namespace",
                old(&|l| l.external_namespace.clone().unwrap_or_default()),
                &want.external_namespace,
            );
            diff(
                &mut changes,
                "required",
                old(&|l| l.required.to_string()),
                want.required.to_string(),
            );
            diff(&mut changes, "scope", old(&|l| l.scope.clone()), want.scope);
            let Some((kind, changes)) = create_or_update(live.is_some(), changes) else {
                continue;
            };
            let mut a = action(
                Resource::Attribute(want.name.to_string()),
                kind,
                &want.at,
                Op::PutAttribute {
                    app: app_ref.clone(),
                    name: want.name.to_string(),
                    title: want.title.clone(),
                    kind: want.kind.as_okta().into(),
                    external_name: want.external_name.clone(),
                    external_namespace: want.external_namespace.clone(),
                    required: want.required,
                    scope: want.scope.into(),
                    if_absent: false,
                },
            );
            a.changes = changes;
            self.push(a);
        }
        self.mapped_workspace_attributes();
    }

    /// A workspace attribute the mappings set must exist in the app's profile. The OIN app's
    /// profile is expected to carry them (PRODUCT.md), but which it has is not documented: one
    /// it lacks is added as a custom attribute, and for an app this plan creates (whose profile
    /// cannot be read yet) it is added unless the new app has it.
    fn mapped_workspace_attributes(&mut self) {
        let app_ref = self.app_ref();
        let want = &self.desired.okta.app;
        for mapping in &want.mappings {
            let name = mapping.target.as_str();
            let declared = want.attributes.iter().any(|a| a.name.as_str() == name);
            if declared
                || !matches!(mapping.rule, MappingRule::Set { .. })
                || !crate::config::model::WORKSPACE_ATTRIBUTES.contains(&name)
            {
                continue;
            }
            let (if_absent, reason) = match self.app {
                Some(app)
                    if app.base_attributes.contains(name) || app.attributes.contains_key(name) =>
                {
                    continue;
                }
                Some(_) => (
                    false,
                    format!(
                        "the app's profile lacks `{name}`, which a mapping sets: added as a custom attribute"
                    ),
                ),
                None => (
                    true,
                    format!(
                        "a mapping sets `{name}`: added to the new app's profile unless it has it already (which attributes the app brings is not documented)"
                    ),
                ),
            };
            let mut a = action(
                Resource::Attribute(name.to_owned()),
                Kind::Create,
                &mapping.at,
                Op::PutAttribute {
                    app: app_ref.clone(),
                    name: name.to_owned(),
                    title: name.to_owned(),
                    kind: "string".into(),
                    external_name: name.to_owned(),
                    external_namespace: crate::config::model::WORKSPACE_NAMESPACE.into(),
                    required: false,
                    scope: "NONE".into(),
                    if_absent,
                },
            );
            a.reason = Some(reason);
            a.changes = vec![Change::new(
                "external_namespace",
                Value::Absent,
                Value::text(crate::config::model::WORKSPACE_NAMESPACE),
            )];
            self.push(a);
        }
    }

    /// Plans mapping changes; returns whether any mapping is set or changed (removals push
    /// nothing to users already provisioned).
    fn mappings(&mut self) -> bool {
        let app_ref = self.app_ref();
        let live = self.app.map(|a| &a.mapping);
        let mapping_id = live.and_then(|m| m.id.clone());
        let mut changed = false;
        for want in &self.desired.okta.app.mappings {
            let target = want.target.to_string();
            let current = live.and_then(|m| m.properties.get(&target));
            let resource = Resource::Mapping(target.clone());
            match (&want.rule, current) {
                (MappingRule::Set { expression, push }, current) => {
                    let mut changes = Vec::new();
                    diff(
                        &mut changes,
                        "expression",
                        current.map(|c| c.expression.clone()).unwrap_or_default(),
                        expression,
                    );
                    diff(
                        &mut changes,
                        "push_status",
                        current.map(|c| c.push_status.clone()).unwrap_or_default(),
                        push.as_okta(),
                    );
                    let Some((kind, changes)) = create_or_update(current.is_some(), changes) else {
                        continue;
                    };
                    let mut a = action(
                        resource,
                        kind,
                        &want.at,
                        Op::SetMapping {
                            app: app_ref.clone(),
                            mapping: mapping_id.clone(),
                            target,
                            expression: expression.clone(),
                            push_status: push.as_okta().into(),
                        },
                    );
                    a.changes = changes;
                    self.push(a);
                    changed = true;
                }
                // A new app gets Okta's default mappings (displayName and locale among them),
                // which this run cannot read yet: plan the removal; removing an absent one is a no-op.
                (MappingRule::Remove, current) if self.app.is_none() || current.is_some() => {
                    let mut a = action(
                        resource,
                        Kind::Delete,
                        &want.at,
                        Op::RemoveMapping {
                            app: app_ref.clone(),
                            mapping: mapping_id.clone(),
                            target,
                        },
                    );
                    a.changes = vec![Change::new(
                        "expression",
                        current
                            .map(|c| Value::text(&c.expression))
                            .unwrap_or(Value::text("(Okta's default)")),
                        Value::Absent,
                    )];
                    self.push(a);
                }
                (MappingRule::Remove, _) => {}
            }
        }
        changed
    }

    fn toggles(&mut self) {
        let want = &self.desired.okta.app.provisioning;
        let live_features = self.app.map(|a| a.features.as_slice()).unwrap_or_default();
        let has = |f: &str| live_features.iter().any(|x| x == f);
        let mut changes = Vec::new();
        diff(
            &mut changes,
            "create_users",
            yes_no(has("PUSH_NEW_USERS")),
            yes_no(want.create_users),
        );
        diff(
            &mut changes,
            "update_users",
            yes_no(has("PUSH_PROFILE_UPDATES")),
            yes_no(want.update_users),
        );
        diff(
            &mut changes,
            "deactivate_users",
            yes_no(has("PUSH_USER_DEACTIVATION")),
            yes_no(want.deactivate_users),
        );
        if changes.is_empty() {
            return;
        }
        let key = self.app_key();
        let op = Op::SetToAppToggles {
            app: self.app_ref(),
            create_users: want.create_users,
            update_users: want.update_users,
            deactivate_users: want.deactivate_users,
        };
        if self.app.is_some_and(|a| a.capabilities.features_api) {
            let mut a = action(Resource::ToAppToggles(key), Kind::Update, &want.at, op);
            a.changes = changes;
            self.push(a);
            return;
        }
        // Okta answers the features API only once provisioning is on: for a new app, or one
        // whose connection this plan sets through the API, the toggles are tried through it.
        let connecting = self.actions.iter().any(|a| {
            matches!(
                a.op,
                Op::SetConnection { .. } | Op::ConnectOrHandOver { .. }
            )
        });
        let attempt = self.app.is_none()
            || (connecting && self.app.is_some_and(|a| a.capabilities.connection_api));
        let mut a = action(
            Resource::ToAppToggles(key),
            Kind::Manual,
            &want.at,
            if attempt { op } else { Op::Manual },
        );
        a.reason = Some(if attempt {
            "Okta's features API answers only once provisioning is on: scimbridge tries it after the connection, else this is yours to do".into()
        } else {
            "Okta's API refuses the To App toggles for this app".into()
        });
        a.changes = changes;
        a.manual = Some(ManualStep {
            title: "Set the To App provisioning toggles in the Okta Admin Console".into(),
            steps: vec![
                format!("Open Applications > Applications > `{}` > Provisioning > To App > Edit.", self.desired.okta.app.label),
                "Set the toggles to the values below and Save.".into(),
                "Do this after the attributes and mappings above exist: users created earlier reach WS1 without the workspace extension and land in the System Directory.".into(),
            ],
            values: vec![
                ("Create Users".into(), yes_no(want.create_users).into()),
                ("Update User Attributes".into(), yes_no(want.update_users).into()),
                ("Deactivate Users".into(), yes_no(want.deactivate_users).into()),
            ],
            verified_by: "the app's features[] (PUSH_NEW_USERS, PUSH_PROFILE_UPDATES, PUSH_USER_DEACTIVATION)".into(),
        });
        self.push(a);
    }

    /// Changed mappings reach users already provisioned only through the console's "Apply
    /// updates now" when Update Users is off; Okta's API has no equivalent.
    fn apply_updates_now(&mut self, mappings_changed: bool) {
        let Some(app) = self.app else { return };
        let provisioned = app
            .users
            .iter()
            .any(|u| matches!(u.status.as_deref(), Some("PROVISIONED")));
        if !mappings_changed || !provisioned || self.desired.okta.app.provisioning.update_users {
            return;
        }
        let want = &self.desired.okta.app;
        let mut a = action(
            Resource::UpdateExistingUsers(self.app_key()),
            Kind::Manual,
            &want.at,
            Op::Manual,
        );
        a.reason = Some(
            "mappings change and Update Users is off: users already in WS1 keep their old values"
                .into(),
        );
        a.manual = Some(ManualStep {
            title: "Push the changed mappings to users already provisioned".into(),
            steps: vec![
                format!(
                    "Open Applications > Applications > `{}` > Provisioning > To App.",
                    want.label
                ),
                "Under the attribute mappings, click \"Apply updates now\".".into(),
            ],
            values: Vec::new(),
            verified_by: "the data-flow check (WS1 users' attributes)".into(),
        });
        self.push(a);
    }

    fn assignments(&mut self) {
        let desired = self.desired;
        let app = &desired.okta.app;
        // Borrowed, not copied: at 100,000 users every copy here was megabytes.
        let live_users: Vec<(&OktaUserId, &str)> = self
            .app
            .map(|a| {
                a.users
                    .iter()
                    .filter(|u| u.scope == "USER")
                    .map(|u| (&u.id, u.login.as_str()))
                    .collect()
            })
            .unwrap_or_default();
        // The config's logins: among the app's users (compared case-insensitively, as Okta
        // compares logins), else looked up.
        let live = self.live;
        let assigned: HashMap<Cow<str>, &OktaUserId> = self
            .app
            .map(|a| {
                a.users
                    .iter()
                    .map(|u| (state::lowercase(&u.login), &u.id))
                    .collect()
            })
            .unwrap_or_default();
        let user_id = |login: &str| {
            live.okta
                .users
                .get(login)
                .or_else(|| assigned.get(&state::lowercase(login)).copied())
        };
        self.members(
            &MemberKind {
                noun: "user",
                code: "unknown-user",
                path: "okta.app.assignments.users.members",
                missing: "Okta has no user with login",
                assigned: "directly",
                removal_note: "Okta deactivates the user in WS1 when Deactivate Users is on",
                resource: Resource::UserAssignment,
                assign: |app, user, login| Op::AssignUser { app, user, login },
                unassign: |app, user, login| Op::UnassignUser { app, user, login },
            },
            app.users
                .members
                .iter()
                .enumerate()
                .map(|(i, m)| (i, m.value.as_str(), &m.at)),
            (app.users.mode, app.users.removal_cap, &app.users.at),
            user_id,
            live_users,
        );
        let mut groups = Vec::new();
        for (i, m) in app.groups.members.iter().enumerate() {
            let name = m.value.as_str();
            if !self.ambiguous_group(name, "okta.app.assignments.groups.members", i, &m.at) {
                groups.push((i, name, &m.at));
            }
        }
        let live_groups: Vec<(&OktaGroupId, &str)> = self
            .app
            .map(|a| a.groups.iter().map(|g| (&g.id, g.name.as_str())).collect())
            .unwrap_or_default();
        self.members(
            &MemberKind {
                noun: "group",
                code: "unknown-group",
                path: "okta.app.assignments.groups.members",
                missing: "Okta has no group named",
                assigned: "yes",
                removal_note: "its members lose the app unless assigned otherwise",
                resource: Resource::GroupAssignment,
                assign: |app, group, name| Op::AssignGroup { app, group, name },
                unassign: |app, group, name| Op::UnassignGroup { app, group, name },
            },
            groups.into_iter(),
            (app.groups.mode, app.groups.removal_cap, &app.groups.at),
            |name: &str| live.okta.groups.get(name),
            live_groups,
        );
    }

    /// Whether several Okta groups share the config's group `name`: then which one is meant
    /// cannot be told, and the config's entry at `path[index]` is a planning problem.
    fn ambiguous_group(&mut self, name: &str, path: &str, index: usize, at: &Location) -> bool {
        let Some(ids) = self.live.okta.ambiguous_groups.get(name) else {
            return false;
        };
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.problems.push(
            Diagnostic::error(
                "ambiguous-group",
                Path::parse(path).join_index(index),
                at.clone(),
                format!(
                    "{} Okta groups are named `{name}` ({})",
                    ids.len(),
                    ids.join(", ")
                ),
            )
            .why("scimbridge finds groups by name and cannot tell which of them the config means")
            .help("rename all but one of them in Okta"),
        );
        true
    }

    /// Diffs one assignment collection: assigns what is missing; under `exact`, removes what
    /// was assigned outside the config (disruptive beyond the removal cap).
    fn members<'m, I: Clone + Ord + std::fmt::Display>(
        &mut self,
        kind: &MemberKind<I>,
        wanted: impl Iterator<Item = (usize, &'m str, &'m Location)>,
        (mode, cap, at): (Mode, u32, &Location),
        lookup: impl Fn(&str) -> Option<&'m I>,
        live: Vec<(&'m I, &'m str)>,
    ) {
        let app_ref = self.app_ref();
        let live_ids: BTreeSet<&I> = live.iter().map(|(id, _)| *id).collect();
        let mut wanted_ids: BTreeSet<&I> = BTreeSet::new();
        for (i, name, member_at) in wanted {
            let Some(id) = lookup(name) else {
                self.problems.push(
                    Diagnostic::error(
                        kind.code,
                        Path::parse(kind.path).join_index(i),
                        member_at.clone(),
                        format!("{} `{name}`", kind.missing),
                    )
                    .why(format!(
                        "scimbridge assigns existing Okta {}s; it does not create them",
                        kind.noun
                    )),
                );
                continue;
            };
            wanted_ids.insert(id);
            if !live_ids.contains(id) {
                let mut a = action(
                    (kind.resource)(name.to_owned()),
                    Kind::Create,
                    member_at,
                    (kind.assign)(app_ref.clone(), id.clone(), name.to_owned()),
                );
                a.changes = vec![Change::new(
                    "assigned",
                    Value::Absent,
                    Value::text(kind.assigned),
                )];
                self.push(a);
            }
        }
        if mode != Mode::Exact {
            return;
        }
        // Names Okta lets several objects share get their id, so each keeps its own address.
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, name) in &live {
            *seen.entry(name).or_default() += 1;
        }
        let extra: Vec<_> = live
            .iter()
            .filter(|(id, _)| !wanted_ids.contains(id))
            .map(|(id, name)| {
                let shown = if seen[name] > 1 {
                    format!("{name} ({id})")
                } else {
                    (*name).to_owned()
                };
                ((*id).clone(), shown)
            })
            .collect();
        let hazard = (extra.len() > cap as usize).then_some(Hazard::Disruptive);
        for (id, name) in extra {
            let mut a = action(
                (kind.resource)(name.clone()),
                Kind::Delete,
                at,
                (kind.unassign)(app_ref.clone(), id, name),
            );
            a.reason = Some("assigned outside the config; `mode: exact` removes it".into());
            a.changes = vec![Change::new(
                "assigned",
                Value::text(kind.assigned),
                Value::Absent,
            )];
            a.hazard = hazard;
            a.notes.push(kind.removal_note.into());
            self.push(a);
        }
    }

    fn group_push(&mut self) {
        let app_ref = self.app_ref();
        let desired = self.desired;
        for (i, member) in desired.okta.app.group_push.iter().enumerate() {
            let name = member.value.as_str();
            if self.ambiguous_group(name, "okta.app.group_push", i, &member.at) {
                continue;
            }
            let Some(id) = self.live.okta.groups.get(name) else {
                self.problems.push(
                    Diagnostic::error(
                        "unknown-group",
                        Path::parse("okta.app.group_push").join_index(i),
                        member.at.clone(),
                        format!("Okta has no group named `{name}`"),
                    )
                    .why("scimbridge pushes existing Okta groups; it does not create them"),
                );
                continue;
            };
            let live = self
                .app
                .and_then(|a| a.group_push.iter().find(|p| &p.source_group_id == id));
            let resource = Resource::GroupPush(name.to_owned());
            match live {
                None => {
                    let mut a = action(
                        resource,
                        Kind::Create,
                        &member.at,
                        Op::PushGroup {
                            app: app_ref.clone(),
                            group: id.clone(),
                            name: name.to_owned(),
                        },
                    );
                    a.changes = vec![Change::new("status", Value::Absent, Value::text("ACTIVE"))];
                    self.push(a);
                }
                Some(push) if push.status != "ACTIVE" => {
                    let mut a = action(
                        resource,
                        Kind::Update,
                        &member.at,
                        Op::ActivatePush {
                            app: app_ref.clone(),
                            mapping: push.id.clone(),
                            name: name.to_owned(),
                        },
                    );
                    a.changes = vec![Change::new(
                        "status",
                        Value::text(&push.status),
                        Value::text("ACTIVE"),
                    )];
                    self.push(a);
                }
                Some(_) => {}
            }
        }
    }
}

/// What differs between user and group assignments.
struct MemberKind<I> {
    noun: &'static str,
    code: &'static str,
    path: &'static str,
    missing: &'static str,
    assigned: &'static str,
    removal_note: &'static str,
    resource: fn(String) -> Resource,
    assign: fn(AppRef, I, String) -> Op,
    unassign: fn(AppRef, I, String) -> Op,
}

/// Fills in `depends_on`: each action needs exactly the earlier actions it builds on
/// ([`needs`]), so an unrelated pending step (a directory's domain, say) holds up only what
/// really needs it.
fn link(actions: &mut [Action]) {
    let deps: Vec<Vec<usize>> = (0..actions.len())
        .map(|i| {
            (0..i)
                .filter(|&j| needs(&actions[i], &actions[j]))
                .collect()
        })
        .collect();
    for (action, deps) in actions.iter_mut().zip(deps) {
        action.depends_on = deps;
    }
}

/// Whether action `a` builds on action `b`: the setup guides' order (PRODUCT.md, "The plan"),
/// kept to true dependencies. Work inside the app needs the app only when this plan creates it
/// (or activates it, for what provisions); users may only be pushed once the connection,
/// attributes, mappings, toggles and directory are right, or they land wrong.
fn needs(a: &Action, b: &Action) -> bool {
    use Resource::*;
    let creates_app = matches!(b.op, Op::CreateApp { .. });
    let readies_app = creates_app || matches!(b.op, Op::UpdateApp { activate: true, .. });
    match (&a.resource, &b.resource) {
        (Token(_), ScimClient(_)) => true,
        // Minted only once the app that records it is right: a token is never asked for while
        // a step it depends on may still fail.
        (Token(_), App(_)) => true,
        (Connection(_), Token(_)) => true,
        (Connection(_), App(_)) => readies_app,
        (Attribute(_), App(_)) => creates_app,
        (Mapping(_), App(_)) => creates_app,
        (Mapping(target), Attribute(name)) => target == name,
        (ToAppToggles(_), Directory(_) | Connection(_) | Attribute(_) | Mapping(_)) => true,
        (ToAppToggles(_), App(_)) => readies_app,
        (UpdateExistingUsers(_), Mapping(_)) => true,
        (
            UserAssignment(_) | GroupAssignment(_),
            Directory(_) | Connection(_) | Attribute(_) | Mapping(_) | ToAppToggles(_),
        ) => true,
        (UserAssignment(_) | GroupAssignment(_) | GroupPush(_), App(_)) => readies_app,
        (GroupPush(_), Connection(_) | ToAppToggles(_)) => true,
        _ => false,
    }
}
