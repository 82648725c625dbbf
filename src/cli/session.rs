//! What `plan`, `apply` and `demo` share: load and resolve the config, connect to both services,
//! read live state and plan.
//!
//! What must hold: config diagnostics are printed once, with their source lines, before anything
//! touches the network; a config with errors never reaches a client; planning errors (users or
//! groups Okta lacks) are config diagnostics too, located in the file.

use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;

use super::Printer;
use crate::config::{self, Desired, Loaded, Resolved, Strictness};
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

/// Why a session ended without a plan after the reasons were already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

impl Session {
    /// Loads `path`, prints its diagnostics, and connects. Must run inside a Tokio runtime.
    pub fn open(path: &Path, printer: &Printer) -> anyhow::Result<Self> {
        let loaded = config::load(path, Strictness::Resolve)?;
        for diagnostic in &loaded.diagnostics {
            printer.err(&diagnostic.render(Some(&loaded.source)));
        }
        if loaded.has_errors() {
            let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
            return Err(
                Reported(format!("{}: {errors} error(s) in the config", loaded.file)).into(),
            );
        }
        let resolved = loaded.resolve()?;
        let services = Services::connect(&resolved, HttpSettings::default())?;
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

    /// Reads live state from both services (reads only).
    pub async fn read(&self) -> anyhow::Result<Live> {
        read::read(self.desired(), &self.services)
            .await
            .context("cannot read live state")
    }

    /// Whether the configured SCIM client secret is the one the managed block's digest was
    /// made from. The planner gets this verdict, never the secret.
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
        if let Some((seen, verdict)) = self.secret_checked.lock().expect("lock").as_ref()
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
        *self.secret_checked.lock().expect("lock") = Some((digest, verdict));
        Ok(verdict)
    }

    /// Plans from `live`; planning problems are printed as config diagnostics.
    pub async fn plan(
        &self,
        live: &Live,
        intent: AdminIntent,
        printer: &Printer,
    ) -> anyhow::Result<Plan> {
        let settings = plan::Settings {
            config: self.loaded.file.clone(),
            scim_base_url: self.resolved.scim_base_url.clone(),
            secret: self.secret_check(live).await?,
            intent,
        };
        plan::plan(self.desired(), &settings, live).map_err(|problems| {
            for problem in &problems {
                printer.err(&problem.render(Some(&self.loaded.source)));
            }
            Reported(format!(
                "{}: {} problem(s) between the config and the live services",
                self.loaded.file,
                problems.len()
            ))
            .into()
        })
    }
}
