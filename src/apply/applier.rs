//! The applier: performs one plan action against the services ([`Runner`] for the executor).
//!
//! What must hold: every action does exactly what its [`Op`] says, nothing it decides itself;
//! a create whose answer was lost (a dropped connection, a 5xx, a duplicate refused) is
//! recovered by looking the object up by its natural key, never by sending it again blindly;
//! Okta's app `PUT` replaces the whole object, so app changes are read-modify-write of the raw
//! object as read just before; the managed block is the only part of the admin note written.
//! The bearer token lives in memory from minting to handover: it goes to Okta's API or to the
//! `--token-out` file (created new, mode 0600), never anywhere else.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};

use super::executor::{Ran, Runner};
use super::token_file::TokenFile;
use crate::ids::{MappingId, OktaAppId};
use crate::plan::{Action, AppRef, ConfirmHandover, Op};
use crate::providers::okta::{self, Capability, MappingProperty, SchemaAttribute, ToAppToggles};
use crate::providers::ws1::OAuth2ClientSpec;
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::state::Timestamp;
use crate::state::note::{
    self, Confirmation, ConfirmedBy, Handover, ManagedBlock, TokenRecord, Via,
};
use crate::state::read::Services;

/// The token minted in this run, until it is handed over.
struct Minted {
    token: Secret,
    record: TokenRecord,
    /// The client was recreated in this run: every earlier token is revoked.
    client_recreated: bool,
    /// The digest of the secret this mint proved to be the client's.
    secret_digest: String,
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
}

impl Applier {
    pub fn new(services: Services, scim_secret: Secret, token_out: Option<TokenFile>) -> Self {
        Self {
            services,
            scim_secret,
            token_out: Mutex::new(token_out),
            created_app: Mutex::new(None),
            minted: Mutex::new(None),
        }
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
        let okta = &self.services.okta;
        let mut app = okta.get_app(id).await.context("cannot read the app")?;
        let (mut user_note, block) = note::split(app.admin_note.as_deref().unwrap_or_default());
        let mut block = block.unwrap_or_default();
        change(&mut app, &mut user_note, &mut block);
        app.set_admin_note(&note::compose(non_empty(&user_note), &block));
        okta.replace_app(&app)
            .await
            .context("cannot update the app")?;
        Ok(())
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
            block.secret_digest = Some(digest);
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
        lock(&self.token_out)
            .as_mut()
            .ok_or_else(|| anyhow!("the token must be handed over by hand: give --token-out FILE"))?
            .write(&minted.token)?;
        let mut record = minted.record;
        record.handover = Handover::Pending;
        record.via = Via::Console;
        let (recreated, digest) = (minted.client_recreated, minted.secret_digest);
        self.rewrite_app(id, |app, _, block| {
            let provisioning_after = okta::provisioning_on(&app.features);
            record.provisioning_at_mint = Some(provisioning_before || provisioning_after);
            block.record_new_token(record, recreated);
            block.secret_digest = Some(digest);
        })
        .await?;
        Ok(Ran::ManualPending)
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
                ..
            } => {
                let minted = match ws1.mint_token(&client_id, &self.scim_secret).await {
                    Ok(minted) => minted,
                    Err(e) if e.kind() == ErrorKind::Auth => {
                        return Err(e).context(format!(
                            "WS1 refused the SCIM client's secret (ws1.scim_client.secret, WS1_SCIM_CLIENT_SECRET in the examples): it is not the secret set on the client `{client_id}`; set the right one, or change it on purpose (scimbridge then recreates the client, --allow-destroy)"
                        ));
                    }
                    Err(e) => return Err(e).context("cannot mint the bearer token"),
                };
                // Tested the way Okta's "Test API Credentials" does, before anyone relies on it.
                ws1.test_api_credentials(&minted.token)
                    .await
                    .context("the new token fails the SCIM credentials test")?;
                let now = ws1.server_now().unwrap_or_default();
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
                    record: TokenRecord {
                        client_id,
                        minted_at,
                        expires_at,
                        handover: Handover::Pending,
                        via: Via::Console,
                        provisioning_at_mint: None,
                        others_known: false,
                        confirmed: None,
                    },
                    client_recreated,
                    secret_digest,
                });
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
                let block = ManagedBlock::new(key.clone());
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

/// Errors after which the object may exist anyway: look it up before giving up.
fn recoverable(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Transport | ErrorKind::Server | ErrorKind::Conflict
    )
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.trim().is_empty()).then_some(text)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
