//! A loaded config connected to both services: what `plan`, `apply` (fresh or from a saved
//! plan) and `drift` share.
//!
//! What must hold: a session is only made from a config without errors, so no client ever sees
//! one; the planner gets the SCIM secret's verdict ([`SecretCheck`]), never the secret; the
//! slow secret comparison runs off the runtime and once per recorded digest. Nothing here
//! prints: callers render diagnostics and errors.

use std::sync::Mutex;

use anyhow::Context;

use crate::config::{Desired, Diagnostic, Loaded, Resolved};
use crate::plan::{self, AdminIntent, Plan, SecretCheck};
use crate::providers::HttpSettings;
use crate::state::Live;
use crate::state::read::{self, Services};

/// A loaded, resolved config and clients for the services it names.
pub struct Session {
    pub loaded: Loaded,
    pub resolved: Resolved,
    pub services: Services,
    /// The last secret digest compared and its verdict: the comparison is deliberately slow.
    secret_checked: Mutex<Option<(String, SecretCheck)>>,
}

/// Why planning stopped: the config names what the services lack (located diagnostics), or a
/// failure.
#[derive(Debug)]
pub enum PlanError {
    Problems(Vec<Diagnostic>),
    Failed(anyhow::Error),
}

impl Session {
    /// Resolves `loaded` (which must have no errors) and makes clients for its services.
    pub fn connect(loaded: Loaded, settings: HttpSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !loaded.has_errors(),
            "{}: the config has errors",
            loaded.file
        );
        let resolved = loaded.resolve()?;
        let services = Services::connect(&resolved, settings)?;
        Ok(Self {
            loaded,
            resolved,
            services,
            secret_checked: Mutex::new(None),
        })
    }

    pub fn desired(&self) -> &Desired {
        self.loaded
            .desired
            .as_ref()
            .expect("a session's config has no errors")
    }

    /// Reads live state from both services (reads only). A refused credential is said for
    /// what it is: which one, its config field and where its value comes from.
    pub async fn read(&self) -> anyhow::Result<Live> {
        read::read(self.desired(), &self.services)
            .await
            .map_err(|e| match self.refused_credential(&e) {
                Some(which) => e.context(which),
                None => e,
            })
            .context("cannot read live state")
    }

    /// When `err` is a service refusing scimbridge's own credentials, which ones and how to fix
    /// them.
    pub fn refused_credential(&self, err: &anyhow::Error) -> Option<String> {
        let api = err
            .chain()
            .find_map(|c| c.downcast_ref::<crate::providers::ApiError>())?;
        if api.kind() != crate::providers::ErrorKind::Auth {
            return None;
        }
        let desired = self.desired();
        let from = |r: &crate::config::reference::Reference| format!("from {r}");
        let okta = self.services.okta.base_url().as_str().trim_end_matches('/');
        if api.details().url.starts_with(okta) {
            return Some(format!(
                "Okta refused scimbridge's API token (okta.api_token, {}): it is wrong, revoked, or expired after 30 days unused",
                from(&desired.okta.api_token.0)
            ));
        }
        let id = match &desired.ws1.admin_client_id {
            crate::config::reference::Param::Literal(id) => format!("`{id}`"),
            crate::config::reference::Param::Ref(r) => r.to_string(),
        };
        Some(format!(
            "Workspace ONE Access refused scimbridge's own admin OAuth client (ws1.credentials: client_id {id}, client_secret {}): check that client and its secret; this is not the SCIM client Okta uses",
            from(&desired.ws1.admin_client_secret.0)
        ))
    }

    /// Whether the configured SCIM client secret is the one the managed block's digest was
    /// made from.
    pub async fn secret_check(&self, live: &Live) -> anyhow::Result<SecretCheck> {
        let Some(digest) = live
            .okta
            .app
            .as_ref()
            .and_then(|a| a.managed.as_ref())
            .and_then(|m| m.secret_digest.clone())
        else {
            return Ok(SecretCheck::Unknown);
        };
        if let Some((seen, verdict)) = lock(&self.secret_checked).as_ref()
            && *seen == digest
        {
            return Ok(*verdict);
        }
        let secret = self.resolved.scim_client_secret.clone();
        let compared = digest.clone();
        let verdict = tokio::task::spawn_blocking(move || match secret.matches_digest(&compared) {
            Some(true) => SecretCheck::Same,
            Some(false) => SecretCheck::Differs,
            None => SecretCheck::Unknown,
        })
        .await
        .context("cannot compare the SCIM client secret")?;
        *lock(&self.secret_checked) = Some((digest, verdict));
        Ok(verdict)
    }

    /// The planner's settings for `live`.
    pub async fn settings(
        &self,
        live: &Live,
        intent: AdminIntent,
    ) -> anyhow::Result<plan::Settings> {
        Ok(plan::Settings {
            config: self.loaded.shown.clone(),
            scim_base_url: self.resolved.scim_base_url.clone(),
            secret: self.secret_check(live).await?,
            intent,
        })
    }

    /// Plans from `live`.
    pub async fn plan(&self, live: &Live, intent: AdminIntent) -> Result<Plan, PlanError> {
        let settings = self
            .settings(live, intent)
            .await
            .map_err(PlanError::Failed)?;
        plan::plan(self.desired(), &settings, live).map_err(PlanError::Problems)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
