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
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{Context, anyhow, bail};
use serde_json::{Value, json};

use super::executor::{Ran, Runner};
use super::token_file;
use crate::plan::{Action, AppRef, Op};
use crate::providers::okta::{self, AppId, Capability, MappingProperty, SchemaAttribute};
use crate::providers::ws1::OAuth2ClientSpec;
use crate::providers::{ApiError, ErrorKind};
use crate::secret::Secret;
use crate::state::note::{self, Handover, ManagedBlock, TokenRecord};
use crate::state::read::Services;
use crate::state::{MappingId, Timestamp};

/// The token minted in this run, until it is handed over.
struct Minted {
    token: Secret,
    record: TokenRecord,
}

/// Runs plan actions against Okta and WS1 Access.
pub struct Applier {
    services: Services,
    /// The SCIM client's shared secret (for creating the client and minting its token).
    scim_secret: Secret,
    /// Where a token for a manual handover goes.
    token_out: Option<PathBuf>,
    /// The app this run created, for actions that refer to it.
    created_app: Mutex<Option<AppId>>,
    minted: Mutex<Option<Minted>>,
}

impl Applier {
    pub fn new(services: Services, scim_secret: Secret, token_out: Option<PathBuf>) -> Self {
        Self {
            services,
            scim_secret,
            token_out,
            created_app: Mutex::new(None),
            minted: Mutex::new(None),
        }
    }

    fn app_id(&self, app: &AppRef) -> anyhow::Result<AppId> {
        match app {
            AppRef::Existing(id) => Ok(AppId(id.0.clone())),
            AppRef::Created => lock(&self.created_app)
                .clone()
                .ok_or_else(|| anyhow!("the app this plan creates does not exist")),
        }
    }

    /// Reads the app, lets `change` edit its raw JSON and managed block, and writes it back.
    async fn rewrite_app(
        &self,
        id: &AppId,
        change: impl FnOnce(&mut Value, &mut ManagedBlock),
    ) -> anyhow::Result<()> {
        let okta = &self.services.okta;
        let app = okta.get_app(id).await.context("cannot read the app")?;
        let mut raw = app.raw;
        let (user_note, block) = note::split(app.admin_note.as_deref().unwrap_or_default());
        let mut block = block.unwrap_or(ManagedBlock {
            key: String::new(),
            token: None,
        });
        change(&mut raw, &mut block);
        let user_note = raw
            .pointer("/settings/notes/admin")
            .and_then(Value::as_str)
            .map(|n| note::split(n).0)
            .unwrap_or(user_note);
        raw["settings"]["notes"]["admin"] = json!(note::compose(non_empty(&user_note), &block));
        okta.replace_app(id, &raw)
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

    /// Hands the minted token to Okta through the connection API and records it as confirmed.
    async fn connect(&self, id: &AppId, base_url: Option<&str>) -> anyhow::Result<Ran> {
        let minted = self.take_minted()?;
        self.services
            .okta
            .set_token_connection(id, base_url, &minted.token, true)
            .await
            .context("cannot set the provisioning connection")?;
        let mut record = minted.record;
        record.handover = Handover::Confirmed;
        self.rewrite_app(id, |_, block| block.token = Some(record))
            .await?;
        Ok(Ran::Done)
    }

    /// Writes the minted token to the `--token-out` file and records it as pending.
    async fn hand_over_by_file(&self, id: &AppId) -> anyhow::Result<Ran> {
        let path = self.token_out.clone().ok_or_else(|| {
            anyhow!("the token must be handed over by hand: give --token-out FILE")
        })?;
        let minted = self.take_minted()?;
        token_file::write_new(&path, &minted.token)?;
        let mut record = minted.record;
        record.handover = Handover::Pending;
        self.rewrite_app(id, |_, block| block.token = Some(record))
            .await?;
        Ok(Ran::ManualPending)
    }

    async fn mapping_id(
        &self,
        app: &AppRef,
        known: &Option<MappingId>,
    ) -> anyhow::Result<okta::MappingId> {
        if let Some(id) = known {
            return Ok(okta::MappingId(id.0.clone()));
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
        match op {
            Op::CreateScimClient {
                client_id,
                scope,
                access_token_ttl,
            } => {
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
            Op::MintToken { client_id, .. } => {
                let minted = ws1
                    .mint_token(&client_id, &self.scim_secret)
                    .await
                    .context("cannot mint the bearer token")?;
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
                *lock(&self.minted) = Some(Minted {
                    token: minted.token,
                    record: TokenRecord {
                        client_id,
                        minted_at,
                        expires_at,
                        handover: Handover::Pending,
                    },
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
                label,
                username_kind,
                username_template,
                hide_web,
                hide_mobile,
                settings_base_url,
                key,
                admin_note,
            } => {
                let block = ManagedBlock {
                    key: key.clone(),
                    token: None,
                };
                let mut app_settings = json!({});
                if let Some(url) = &settings_base_url {
                    app_settings["baseUrl"] = json!(url);
                }
                let body = json!({
                    "name": catalog_name,
                    "label": label,
                    "signOnMode": "AUTO_LOGIN",
                    "credentials": {
                        "scheme": "EXTERNAL_PASSWORD_SYNC",
                        "userNameTemplate": {"template": username_template, "type": username_kind},
                    },
                    "visibility": {"hide": {"iOS": hide_mobile, "web": hide_web}},
                    "settings": {
                        "app": app_settings,
                        "notes": {"admin": note::compose(admin_note.as_deref(), &block), "enduser": null},
                    },
                });
                let id = create_or_recover(
                    "the app",
                    okta.create_app(&body, true).await.map(|app| app.id),
                    || self.find_app_by_key(&catalog_name, &key),
                )
                .await?;
                *lock(&self.created_app) = Some(id);
            }
            Op::UpdateApp {
                app,
                label,
                username_kind,
                username_template,
                hide_web,
                hide_mobile,
                settings_base_url,
                key,
                admin_note,
                activate,
                confirm_handover,
            } => {
                let id = self.app_id(&app)?;
                self.rewrite_app(&id, |raw, block| {
                    raw["label"] = json!(label);
                    raw["credentials"]["userNameTemplate"] =
                        json!({"template": username_template, "type": username_kind});
                    raw["visibility"]["hide"]["web"] = json!(hide_web);
                    raw["visibility"]["hide"]["iOS"] = json!(hide_mobile);
                    if let Some(url) = &settings_base_url {
                        raw["settings"]["app"]["baseUrl"] = json!(url);
                    }
                    raw["settings"]["notes"]["admin"] =
                        json!(admin_note.clone().unwrap_or_default());
                    block.key = key.clone();
                    if confirm_handover && let Some(token) = block.token.as_mut() {
                        token.handover = Handover::Confirmed;
                    }
                })
                .await?;
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
            Op::RecordPendingHandover { app } => {
                let id = self.app_id(&app)?;
                return self.hand_over_by_file(&id).await;
            }
            Op::ConnectOrHandOver { app, base_url } => {
                let id = self.app_id(&app)?;
                let supported = okta
                    .connection(&id)
                    .await
                    .context("cannot read the provisioning connection")?;
                return match supported {
                    Capability::Supported(_) => self.connect(&id, base_url.as_deref()).await,
                    Capability::Unsupported => self.hand_over_by_file(&id).await,
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
            } => {
                let id = self.app_id(&app)?;
                let attribute = SchemaAttribute {
                    title: Some(title),
                    type_: Some(kind),
                    required: Some(required),
                    scope: Some(scope),
                    external_name: Some(external_name),
                    external_namespace: Some(external_namespace),
                    master: Some(json!({"type": "PROFILE_MASTER"})),
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
                let status = |on: bool| json!({"status": if on { "ENABLED" } else { "DISABLED" }});
                let capabilities = json!({
                    "create": {"lifecycleCreate": status(create_users)},
                    "update": {"profile": status(update_users), "lifecycleDeactivate": status(deactivate_users)},
                });
                match okta
                    .update_feature(&id, "USER_PROVISIONING", &capabilities)
                    .await
                {
                    Ok(_) => {}
                    Err(e) if e.kind() == ErrorKind::Unsupported => return Ok(Ran::ManualPending),
                    Err(e) => return Err(e).context("cannot set the To App toggles"),
                }
            }
            Op::AssignUser { app, user, login } => {
                let id = self.app_id(&app)?;
                okta.assign_user(&id, &okta::UserId(user.0))
                    .await
                    .with_context(|| format!("cannot assign {login}"))?;
            }
            Op::UnassignUser { app, user, login } => {
                let id = self.app_id(&app)?;
                okta.unassign_user(&id, &okta::UserId(user.0))
                    .await
                    .with_context(|| format!("cannot unassign {login}"))?;
            }
            Op::AssignGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                okta.assign_group(&id, &okta::GroupId(group.0))
                    .await
                    .with_context(|| format!("cannot assign the group {name}"))?;
            }
            Op::UnassignGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                okta.unassign_group(&id, &okta::GroupId(group.0))
                    .await
                    .with_context(|| format!("cannot unassign the group {name}"))?;
            }
            Op::PushGroup { app, group, name } => {
                let id = self.app_id(&app)?;
                let source = okta::GroupId(group.0);
                create_or_recover(
                    "the group push",
                    okta.create_group_push(&id, &source, &name, true).await,
                    || async {
                        let pushes = okta.group_push_mappings(&id).await.ok()?;
                        pushes.into_iter().find(|p| p.source_group_id == source)
                    },
                )
                .await?;
            }
            Op::ActivatePush { app, mapping, name } => {
                let id = self.app_id(&app)?;
                okta.set_group_push_status(&id, &okta::PushMappingId(mapping.0), true)
                    .await
                    .with_context(|| format!("cannot activate the push of {name}"))?;
            }
            Op::Manual => bail!("a manual step is not run by scimbridge"),
        }
        Ok(Ran::Done)
    }

    /// The app of `catalog_name` whose managed block holds `key`, if one exists.
    async fn find_app_by_key(&self, catalog_name: &str, key: &str) -> Option<AppId> {
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
