//! The applier: performs one plan action against the services ([`Runner`] for the executor).
//!
//! What must hold: every action does exactly what its [`Op`] says, nothing it decides itself;
//! a create whose answer was lost (a dropped connection, a 5xx, a duplicate refused) is
//! recovered by looking the object up by its natural key, never by sending it again blindly;
//! Okta's app `PUT` replaces the whole object, so app changes are read-modify-write of the raw
//! object as read just before; the managed block is the only part of the admin note written.
//! The bearer token lives in memory from minting to handover: it goes to Okta's API or to the
//! `--token-out` file (created new, mode 0600), never anywhere else. A token is asked for once,
//! after the managed block records the mint ([`note::MintIntent`]), so a lost answer or a run
//! killed before the token is recorded leaves an account of it. Under a lease, every write of
//! the managed block first checks that the lease is still this run's.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};

use super::executor::{Ran, Runner};
use super::token_file::TokenFile;
use crate::ids::{MappingId, OktaAppId};
use crate::plan::{Action, AppRef, ConfirmHandover, HandoverVia, Op};
use crate::providers::okta::{self, Capability, MappingProperty, SchemaAttribute, ToAppToggles};
use crate::providers::ws1::OAuth2ClientSpec;
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::state::Timestamp;
use crate::state::note::{
    self, Confirmation, ConfirmedBy, Handover, Lease, ManagedBlock, MintIntent, TokenRecord, Via,
};
use crate::state::read::Services;

/// The token minted in this run, until it is handed over.
struct Minted {
    token: Secret,
    record: TokenRecord,
    /// The client was recreated in this run: every earlier token is revoked.
    client_recreated: bool,
    /// The digest of the secret this mint proved to be the client's (none for a token taken
    /// up from a file: that proves nothing of the secret configured now).
    secret_digest: Option<String>,
    /// Already in the `--token-out` file (taken up from it), so not written again.
    in_file: bool,
}

/// Runs plan actions against Okta and WS1 Access.
pub struct Applier {
    services: Services,
    /// The SCIM client's shared secret (for creating the client and minting its token).
    scim_secret: Secret,
    /// Where a token for a manual handover goes, reserved before the first write.
    token_out: Mutex<Option<TokenFile>>,
    /// The app this run created, for actions that refer to it.
    created_app: Mutex<Option<OktaAppId>>,
    minted: Mutex<Option<Minted>>,
    /// The lease this run holds (or puts into the app it creates), if it runs under one.
    lease: Option<Lease>,
}

impl Applier {
    pub fn new(
        services: Services,
        scim_secret: Secret,
        token_out: Option<TokenFile>,
        lease: Option<Lease>,
    ) -> Self {
        Self {
            services,
            scim_secret,
            token_out: Mutex::new(token_out),
            created_app: Mutex::new(None),
            minted: Mutex::new(None),
            lease,
        }
    }

    /// The app this run created, if it did.
    pub fn created_app(&self) -> Option<OktaAppId> {
        lock(&self.created_app).clone()
    }

    fn app_id(&self, app: &AppRef) -> anyhow::Result<OktaAppId> {
        match app {
            AppRef::Existing(id) => Ok(id.clone()),
            AppRef::Created => lock(&self.created_app)
                .clone()
                .ok_or_else(|| anyhow!("the app this plan creates does not exist")),
        }
    }

    /// Reads the app, lets `change` edit it, its user note and its managed block, and writes
    /// the whole object back.
    async fn rewrite_app(
        &self,
        id: &OktaAppId,
        change: impl FnOnce(&mut okta::App, &mut String, &mut ManagedBlock),
    ) -> anyhow::Result<()> {
        rewrite_app(&self.services.okta, id, self.lease.as_ref(), change).await
    }

    /// Takes the token minted earlier in this run.
    fn take_minted(&self) -> anyhow::Result<Minted> {
        lock(&self.minted)
            .take()
            .ok_or_else(|| anyhow!("no token was minted in this run"))
    }

    /// Hands the minted token to Okta through the connection API and records it as confirmed
    /// by the API's answer.
    async fn connect(&self, id: &OktaAppId, base_url: Option<&str>) -> anyhow::Result<Ran> {
        let minted = self.take_minted()?;
        self.services
            .okta
            .set_token_connection(id, base_url, &minted.token, true)
            .await
            .context("cannot set the provisioning connection")?;
        let at = self.services.okta.server_now().map(Timestamp);
        let mut record = minted.record;
        record.handover = Handover::Confirmed;
        record.via = Via::Api;
        record.confirmed = Some(Confirmation {
            by: ConfirmedBy::Api,
            at,
        });
        let (recreated, digest) = (minted.client_recreated, minted.secret_digest);
        self.rewrite_app(id, |_, _, block| {
            block.record_new_token(record, recreated);
            block.secret_digest = digest.or(block.secret_digest.take());
        })
        .await?;
        Ok(Ran::Done)
    }

    /// Writes the minted token to the `--token-out` file and records it as pending.
    /// `provisioning_before` is what the plan saw before the mint; the app read here, after
    /// it, adds what Okta shows now: provisioning counts as off at the mint only if both say off.
    async fn hand_over_by_file(
        &self,
        id: &OktaAppId,
        provisioning_before: bool,
    ) -> anyhow::Result<Ran> {
        let minted = self.take_minted()?;
        if !minted.in_file {
            lock(&self.token_out)
                .as_mut()
                .ok_or_else(|| {
                    anyhow!("the token must be handed over by hand: give --token-out FILE")
                })?
                .write(&minted.token)?;
        }
        let mut record = minted.record;
        record.handover = Handover::Pending;
        record.via = Via::Console;
        let (recreated, digest) = (minted.client_recreated, minted.secret_digest);
        self.rewrite_app(id, |app, _, block| {
            let provisioning_after = okta::provisioning_on(&app.features);
            record.provisioning_at_mint = Some(provisioning_before || provisioning_after);
            block.record_new_token(record, recreated);
            block.secret_digest = digest.or(block.secret_digest.take());
        })
        .await
        .context("the token is in the --token-out file, but recording it failed: the next apply takes it up from there")?;
        Ok(Ran::ManualPending)
    }

    /// Records the mint in the managed block, asks WS1 for the token once, and tests it the way
    /// Okta's "Test API Credentials" does. A request that may have reached WS1 is never sent
    /// again: the record says a token may be live until the next run accounts for it.
    async fn mint(
        &self,
        app: &OktaAppId,
        client_id: String,
        client_recreated: bool,
        handover: HandoverVia,
        ttl_minutes: u64,
    ) -> anyhow::Result<Ran> {
        let ws1 = &self.services.ws1;
        let now = ws1
            .server_now()
            .or(self.services.okta.server_now())
            .unwrap_or_default();
        let file = match handover {
            HandoverVia::Api => None,
            HandoverVia::Manual | HandoverVia::Probe => lock(&self.token_out)
                .as_ref()
                .and_then(|f| std::path::absolute(f.path()).ok())
                .map(|p| p.display().to_string())
                .filter(|p| note::fits_a_line(p)),
        };
        let intent = MintIntent {
            client_id: client_id.clone(),
            started_at: Timestamp(now),
            expires_by: Timestamp(now).plus_minutes(ttl_minutes),
            file,
        };
        let expires_by = intent.expires_by;
        self.rewrite_app(app, |_, _, block| {
            block.begin_mint(intent, client_recreated)
        })
        .await
        .context("cannot record the mint in the app's managed block, so no token was asked for")?;
        let minted = match ws1.mint_token(&client_id, &self.scim_secret).await {
            Ok(minted) => minted,
            Err(e) if e.kind() == ErrorKind::Auth => {
                self.forget_mint(app).await;
                return Err(e).context(format!(
                    "WS1 refused the SCIM client's secret (ws1.scim_client.secret, WS1_SCIM_CLIENT_SECRET in the examples): it is not the secret set on the client `{client_id}`; set the right one, or change it on purpose (scimbridge then recreates the client, --allow-destroy)"
                ));
            }
            Err(e) if maybe_issued(e.kind()) => {
                return Err(e).context(format!(
                    "the token request reached WS1 but its answer was lost, so WS1 may have issued a token nobody holds (valid until {expires_by} at most); it is not asked for again: the app's managed block records the unfinished mint and the next plan accounts for it"
                ));
            }
            Err(e) => {
                self.forget_mint(app).await;
                return Err(e).context("cannot mint the bearer token");
            }
        };
        ws1.test_api_credentials(&minted.token)
            .await
            .context("the new token fails the SCIM credentials test; it stays recorded as an unfinished mint")?;
        let minted_at = Timestamp(minted.issued_at.unwrap_or(now));
        let expires_at = Timestamp(
            minted
                .expires_at
                .unwrap_or(minted_at.0 + minted.expires_in.as_secs() as i64),
        );
        // The mint proved the secret; its slow digest is worked out off the runtime.
        let secret = self.scim_secret.clone();
        let secret_digest = tokio::task::spawn_blocking(move || secret.digest())
            .await
            .context("cannot digest the SCIM client secret")?;
        *lock(&self.minted) = Some(Minted {
            token: minted.token,
            record: pending(client_id, minted_at, expires_at),
            client_recreated,
            secret_digest: Some(secret_digest),
            in_file: false,
        });
        Ok(Ran::Done)
    }

    /// Takes up the token an interrupted run wrote to `file`: it must authenticate as the SCIM
    /// client now (the test Okta runs), and its lifetime is read from it.
    async fn adopt(
        &self,
        client_id: String,
        file: &str,
        started_at: Timestamp,
        expires_by: Timestamp,
    ) -> anyhow::Result<()> {
        let text = read_token_file(std::path::Path::new(file))?;
        let token = Secret::new(text);
        self.services
            .ws1
            .test_api_credentials(&token)
            .await
            .with_context(|| format!("the token in {file} (written by an interrupted apply) fails the SCIM credentials test: remove the file, and the next plan mints a new token and counts that one as a stray"))?;
        let (iat, exp) = crate::providers::ws1::jwt_times(token.expose());
        let minted_at = Timestamp(iat.unwrap_or(started_at.0));
        let expires_at = Timestamp(exp.unwrap_or(expires_by.0));
        *lock(&self.minted) = Some(Minted {
            token,
            record: pending(client_id, minted_at, expires_at),
            client_recreated: false,
            secret_digest: None,
            in_file: true,
        });
        Ok(())
    }

    /// Clears the mint record after WS1 refused the request (no token was issued). Best
    /// effort: if it fails, the record stays and is reported as a token that may be live.
    async fn forget_mint(&self, app: &OktaAppId) {
        if let Err(e) = self
            .rewrite_app(app, |_, _, block| block.minting = None)
            .await
        {
            tracing::warn!("cannot clear the refused mint from the managed block: {e:#}");
        }
    }

    async fn mapping_id(
        &self,
        app: &AppRef,
        known: &Option<MappingId>,
    ) -> anyhow::Result<MappingId> {
        if let Some(id) = known {
            return Ok(id.clone());
        }
        let app = self.app_id(app)?;
        let mapping = self
            .services
            .okta
            .user_to_app_mapping(&app)
            .await
            .context("cannot find the app's profile mapping")?;
        Ok(mapping.id)
    }

    async fn run_op(&self, op: Op) -> anyhow::Result<Ran> {
        let okta = &self.services.okta;
        let ws1 = &self.services.ws1;
        let replace = matches!(op, Op::ReplaceScimClient { .. });
        match op {
            Op::CreateScimClient {
                client_id,
                scope,
                access_token_ttl,
            }
            | Op::ReplaceScimClient {
                client_id,
                scope,
                access_token_ttl,
            } => {
                if replace {
                    // Deleting revokes every token the client issued (reference §4.1).
                    ws1.delete_oauth2_client(&client_id)
                        .await
                        .context("cannot delete the OAuth client to recreate it")?;
                }
                let spec = OAuth2ClientSpec {
                    client_id: client_id.clone(),
                    secret: Some(self.scim_secret.clone()),
                    scope,
                    access_token_ttl,
                    remember_as: None,
                };
                create_or_recover(
                    "the OAuth client",
                    ws1.create_oauth2_client(&spec).await,
                    || async { ws1.get_oauth2_client(&client_id).await.ok().flatten() },
                )
                .await?;
            }
            Op::UpdateScimClient {
                client_id,
                scope,
                access_token_ttl,
            } => {
                let spec = OAuth2ClientSpec {
                    client_id,
                    secret: None,
                    scope,
                    access_token_ttl,
                    remember_as: None,
                };
                ws1.update_oauth2_client(&spec)
                    .await
                    .context("cannot update the OAuth client")?;
            }
            Op::MintToken {
                client_id,
                client_recreated,
                handover,
                app,
                access_token_ttl,
            } => {
                let id = self.app_id(&app)?;
                return self
                    .mint(&id, client_id, client_recreated, handover, access_token_ttl)
                    .await;
            }
            Op::AdoptToken {
                app: _,
                client_id,
                file,
                started_at,
                expires_by,
            } => {
                self.adopt(client_id, &file, started_at, expires_by).await?;
            }
            Op::CreateDirectory { name, domains } => {
                create_or_recover(
                    "the directory",
                    ws1.create_other_directory(&name, &domains).await,
                    || async { ws1.directory_by_name(&name).await.ok().flatten() },
                )
                .await?;
            }
            Op::CreateApp {
                catalog_name,
                fields,
                key,
                admin_note,
            } => {
                let mut block = ManagedBlock::new(key.clone());
                block.lease = self.lease.clone();
                let note = note::compose(admin_note.as_deref(), &block);
                let created = okta.create_app(&catalog_name, &fields, &note, true).await;
                // Okta refusing the catalog name is the config's to fix (the internal names
                // are not documented, reference/okta-api.md §5); say where.
                let refused_name = created.as_ref().err().is_some_and(|e| {
                    e.code() == Some("E0000001")
                        && e.details()
                            .vendor
                            .causes
                            .iter()
                            .any(|c| c.starts_with("name"))
                });
                // Another run creating the same app at the same time: Okta refuses the second
                // label (400 E0000040), and the app found by its key is the other run's.
                let id = create_or_recover("the app", created.map(|app| app.id), || {
                    self.find_app_by_key(&catalog_name, &key)
                })
                .await
                .map_err(|e| {
                    if refused_name {
                        e.context(format!(
                            "Okta does not know an app named `{catalog_name}`: set `okta.app.catalog_name` to the internal name of the app in your org's catalog (Applications > Browse App Catalog; the API's `name`)"
                        ))
                    } else {
                        e
                    }
                })?;
                // A recovered app must carry this run's lease; else another run made it and
                // goes on with it (the next note write would refuse anyway, after more work).
                if let Some(lease) = &self.lease {
                    let app = okta.get_app(&id).await.context("cannot read the app")?;
                    let (_, block) = note::split(app.admin_note.as_deref().unwrap_or_default());
                    held_by_us(block.as_ref(), lease)?;
                }
                *lock(&self.created_app) = Some(id);
            }
            Op::UpdateApp {
                app,
                fields,
                key,
                admin_note,
                activate,
                confirm_handover,
            } => {
                let id = self.app_id(&app)?;
                let mut stale = None;
                self.rewrite_app(&id, |app, user_note, block| {
                    app.set_fields(&fields);
                    *user_note = admin_note.unwrap_or_default();
                    block.key = key.clone();
                    if let Some(ConfirmHandover {
                        minted_at,
                        confirmation,
                    }) = confirm_handover
                    {
                        match &block.token {
                            Some(t) if t.minted_at == minted_at => block.confirm(confirmation),
                            other => stale = Some(other.as_ref().map(|t| t.minted_at)),
                        }
                    }
                })
                .await?;
                if let Some(found) = stale {
                    bail!(
                        "the handover to confirm is of the token minted {minted}, but the app now records {}: nothing was confirmed; plan again",
                        found.map_or("no token".to_owned(), |t| format!("the token minted {t}")),
                        minted = confirm_handover
                            .map(|c| c.minted_at.to_string())
                            .unwrap_or_default()
                    );
                }
                if activate {
                    okta.activate_app(&id)
                        .await
                        .context("cannot activate the app")?;
                }
            }
            Op::SetConnection { app, base_url } => {
                let id = self.app_id(&app)?;
                return self.connect(&id, base_url.as_deref()).await;
            }
            Op::RecordPendingHandover {
                app,
                provisioning_before,
            } => {
                let id = self.app_id(&app)?;
                return self.hand_over_by_file(&id, provisioning_before).await;
            }
            Op::ConnectOrHandOver { app, base_url } => {
                let id = self.app_id(&app)?;
                let supported = okta
                    .connection(&id)
                    .await
                    .context("cannot read the provisioning connection")?;
                return match supported {
                    Capability::Supported(_) => self.connect(&id, base_url.as_deref()).await,
                    // A new app: nothing of Okta's provisioning was on before the mint.
                    Capability::Unsupported => self.hand_over_by_file(&id, false).await,
                };
            }
            Op::PutAttribute {
                app,
                name,
                title,
                kind,
                external_name,
                external_namespace,
                required,
                scope,
                if_absent,
            } => {
                let id = self.app_id(&app)?;
                if if_absent {
                    let schema = okta
                        .app_user_schema(&id)
                        .await
                        .context("cannot read the app user schema")?;
                    if schema.base.contains_key(&name) || schema.custom.contains_key(&name) {
                        return Ok(Ran::Done);
                    }
                }
                let attribute = SchemaAttribute {
                    title: Some(title),
                    type_: Some(kind),
                    required: Some(required),
                    scope: Some(scope),
                    external_name: Some(external_name),
                    external_namespace: Some(external_namespace),
                    master: SchemaAttribute::profile_master(),
                    ..SchemaAttribute::default()
                };
                okta.upsert_schema_attributes(&id, &BTreeMap::from([(name, attribute)]))
                    .await
                    .context("cannot write the app user schema")?;
            }
            Op::SetMapping {
                app,
                mapping,
                target,
                expression,
                push_status,
            } => {
                let id = self.mapping_id(&app, &mapping).await?;
                let property = MappingProperty {
                    expression: Some(expression),
                    push_status: Some(push_status),
                };
                okta.update_mapping(&id, &BTreeMap::from([(target, Some(property))]))
                    .await
                    .context("cannot update the profile mapping")?;
            }
            Op::RemoveMapping {
                app,
                mapping,
                target,
            } => {
                let id = self.mapping_id(&app, &mapping).await?;
                okta.update_mapping(&id, &BTreeMap::from([(target, None)]))
                    .await
                    .context("cannot update the profile mapping")?;
            }
            Op::SetToAppToggles {
                app,
                create_users,
                update_users,
                deactivate_users,
            } => {
                let id = self.app_id(&app)?;
                let toggles = ToAppToggles {
                    create_users,
                    update_users,
                    deactivate_users,
                };
                match okta.set_to_app_toggles(&id, toggles).await {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::Unsupported => return Ok(Ran::ManualPending),
                    Err(e) => return Err(e).context("cannot set the To App toggles"),
                }
            }
            Op::AssignUser { app, user, login } => {
                let id = self.app_id(&app)?;
                okta.assign_user(&id, &user)
                    .await
                    .with_context(|| format!("cannot assign {login}"))?;
            }
            Op::UnassignUser { app, user, login } => {
                let id = self.app_id(&app)?;
                okta.unassign_user(&id, &user)
                    .await
                    .with_context(|| format!("cannot unassign {login}"))?;
            }
            Op::AssignGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                okta.assign_group(&id, &group)
                    .await
                    .with_context(|| format!("cannot assign the group {name}"))?;
            }
            Op::UnassignGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                okta.unassign_group(&id, &group)
                    .await
                    .with_context(|| format!("cannot unassign the group {name}"))?;
            }
            Op::PushGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                let source = group;
                create_or_recover(
                    "the group push",
                    okta.create_group_push(&id, &source, &name, true).await,
                    || async {
                        match okta.group_push_mappings(&id).await.ok()? {
                            Capability::Supported(pushes) => {
                                pushes.into_iter().find(|p| p.source_group_id == source)
                            }
                            Capability::Unsupported => None,
                        }
                    },
                )
                .await?;
            }
            Op::ActivatePush { app, mapping, name } => {
                let id = self.app_id(&app)?;
                okta.set_group_push_status(&id, &mapping, true)
                    .await
                    .with_context(|| format!("cannot activate the push of {name}"))?;
            }
            Op::Manual => bail!("a manual step is not run by scimbridge"),
        }
        Ok(Ran::Done)
    }

    /// The app of `catalog_name` whose managed block holds `key`, if one exists.
    async fn find_app_by_key(&self, catalog_name: &str, key: &str) -> Option<OktaAppId> {
        let filter = format!("name eq \"{catalog_name}\"");
        let apps = self
            .services
            .okta
            .list_apps(None, Some(&filter))
            .await
            .ok()?;
        apps.into_iter()
            .find(|a| {
                a.admin_note
                    .as_deref()
                    .and_then(|n| note::split(n).1)
                    .is_some_and(|b| b.key == key)
            })
            .map(|a| a.id)
    }
}

impl Runner for Applier {
    async fn run(&self, index: usize, action: Action) -> anyhow::Result<Ran> {
        tracing::info!(index, resource = %action.resource, "applying");
        self.run_op(action.op).await
    }
}

/// The created object; when the create failed in a way after which the object may exist
/// anyway (a lost answer, a duplicate refused), the one `lookup` finds.
/// The record of a token just minted or taken up, its handover pending.
fn pending(client_id: String, minted_at: Timestamp, expires_at: Timestamp) -> TokenRecord {
    TokenRecord {
        client_id,
        minted_at,
        expires_at,
        handover: Handover::Pending,
        via: Via::Console,
        provisioning_at_mint: None,
        others_known: false,
        confirmed: None,
    }
}

/// Reads the app, checks the lease (when the run holds one), lets `change` edit the app, its
/// user note and its managed block, and writes the whole object back.
pub(super) async fn rewrite_app(
    okta: &okta::OktaClient,
    id: &OktaAppId,
    lease: Option<&Lease>,
    change: impl FnOnce(&mut okta::App, &mut String, &mut ManagedBlock),
) -> anyhow::Result<()> {
    let mut app = okta.get_app(id).await.context("cannot read the app")?;
    let (mut user_note, block) = note::split(app.admin_note.as_deref().unwrap_or_default());
    if let Some(lease) = lease {
        held_by_us(block.as_ref(), lease)?;
    }
    let mut block = block.unwrap_or_default();
    change(&mut app, &mut user_note, &mut block);
    app.set_admin_note(&note::compose(non_empty(&user_note), &block));
    okta.replace_app(&app)
        .await
        .context("cannot update the app")?;
    Ok(())
}

/// Refuses unless the block carries `lease`: another apply took the pair over.
pub(super) fn held_by_us(block: Option<&ManagedBlock>, lease: &Lease) -> anyhow::Result<()> {
    match block.and_then(|b| b.lease.as_ref()) {
        Some(held) if held.run == lease.run => Ok(()),
        Some(other) => bail!(
            "another apply (run {}) holds the app's lease until {}: this run stops here, before writing more; plan again once it has finished",
            other.run,
            other.until
        ),
        None => bail!(
            "this run's lease on the app is gone (another apply released or replaced it): this run stops here, before writing more; plan again"
        ),
    }
}

/// Whether a failed token request may still have produced a token: it reached WS1 and no
/// refusal came back.
fn maybe_issued(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transport | ErrorKind::Server | ErrorKind::Decode | ErrorKind::TooLarge
    )
}

/// The most a token file may hold: a JWT is a few KB.
const TOKEN_FILE_LIMIT: u64 = 64 * 1024;

/// Reads a `--token-out` file an earlier run wrote: a regular file of bounded size.
fn read_token_file(path: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let shown = path.display();
    let meta = std::fs::symlink_metadata(path).with_context(|| format!("cannot read {shown}"))?;
    if !meta.is_file() || meta.len() > TOKEN_FILE_LIMIT {
        bail!(
            "{shown} is not a token file scimbridge wrote (not a regular file of at most 64 KiB)"
        );
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(TOKEN_FILE_LIMIT).read_to_string(&mut text))
        .with_context(|| format!("cannot read {shown}"))?;
    let token = text.trim();
    if token.is_empty() {
        bail!("{shown} is empty: the interrupted run did not write its token there");
    }
    Ok(token.to_owned())
}

async fn create_or_recover<T, F>(
    what: &str,
    created: Result<T, ApiError>,
    lookup: impl FnOnce() -> F,
) -> anyhow::Result<T>
where
    F: std::future::Future<Output = Option<T>>,
{
    match created {
        Ok(object) => Ok(object),
        Err(e) if recoverable(e.kind()) => match lookup().await {
            Some(object) => {
                tracing::info!(
                    what,
                    "the create's answer was lost, and the object exists: recovered"
                );
                Ok(object)
            }
            None => Err(e).with_context(|| format!("cannot create {what}")),
        },
        Err(e) => Err(e).with_context(|| format!("cannot create {what}")),
    }
}

/// Errors after which the object may exist anyway: look it up before giving up. "Already
/// exists" has no one status across the services (WS1: 500 for a client id, a 4xx for a
/// directory name, reference/ws1-api.md §4.1 and §5; Okta: 400 E0000040 for a label), so a
/// refused create is looked up too: found by its natural key, someone made it meanwhile.
fn recoverable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transport | ErrorKind::Server | ErrorKind::Conflict | ErrorKind::BadRequest
    )
}

pub(super) fn non_empty(text: &str) -> Option<&str> {
    (!text.trim().is_empty()).then_some(text)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
