//! Opening a session for a command: load the config, print its diagnostics, connect; and
//! planning with the planner's problems printed as config diagnostics.
//!
//! What must hold: config diagnostics are printed once, with their source lines, before anything
//! touches the network; a config with errors never reaches a client; planning errors (users or
//! groups Okta lacks) are config diagnostics too, located in the file. The global transport
//! options become `HttpSettings` here, once per session, and an unusable CA file stops the
//! session before any request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

use super::Printer;
use crate::apply::session::{PlanError, Session};
use crate::config::{self, Strictness};
use crate::plan::{AdminIntent, Plan};
use crate::providers::HttpSettings;
use crate::providers::trust;
use crate::state::Live;

/// How `plan` and `apply` reach the services: extra trust and timeouts (global options).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Network")]
pub struct Transport {
    /// Also trust the CA certificates in this PEM file (repeatable): a private CA or a
    /// TLS-inspecting proxy. The OS trust store, the bundled web roots, SSL_CERT_FILE and
    /// SSL_CERT_DIR are trusted too.
    #[arg(long = "ca-cert", value_name = "FILE", global = true)]
    ca_certs: Vec<PathBuf>,

    /// Seconds allowed to connect, TLS handshake included.
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        default_value_t = HttpSettings::default().connect_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600),
    )]
    connect_timeout: u64,

    /// Seconds to wait for an answer (and between its parts). A timed-out read is tried once
    /// more, so a request to a server that never answers fails within 2 × SECS + 1 s (21 s by
    /// default).
    #[arg(
        long,
        value_name = "SECS",
        global = true,
        default_value_t = HttpSettings::default().read_timeout.as_secs(),
        value_parser = clap::value_parser!(u64).range(1..=3600),
    )]
    timeout: u64,
}

impl Transport {
    /// The HTTP settings these options ask for: every CA file read and checked, the timeouts.
    fn http_settings(&self) -> anyhow::Result<HttpSettings> {
        let mut roots = Vec::new();
        for path in &self.ca_certs {
            roots.extend(trust::read_pem_file(path).context("a --ca-cert file cannot be used")?);
        }
        if let Some(path) = crate::env::ssl_cert_file() {
            roots.extend(
                trust::read_pem_file(&path)
                    .context("the file SSL_CERT_FILE names cannot be used")?,
            );
        }
        for dir in crate::env::ssl_cert_dirs() {
            roots.extend(
                trust::read_pem_dir(&dir).context("a file in SSL_CERT_DIR cannot be used")?,
            );
        }
        trust::dedup(&mut roots);
        tracing::info!(
            "trusting {} CA certificates from the OS store, the bundled web roots and {} more; \
             timeouts: connect {} s, answer {} s",
            trust::os_store().len(),
            roots.len(),
            self.connect_timeout,
            self.timeout
        );
        Ok(HttpSettings {
            connect_timeout: Duration::from_secs(self.connect_timeout),
            read_timeout: Duration::from_secs(self.timeout),
            extra_roots: roots,
            ..HttpSettings::default()
        })
    }
}

/// Why a command ended after the reasons were already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Loads `path`, prints its diagnostics, and connects as `transport` says. Must run inside a
/// Tokio runtime.
pub fn open(path: &Path, transport: &Transport, printer: &Printer) -> anyhow::Result<Session> {
    open_loaded(config::load(path, Strictness::Resolve)?, transport, printer)
}

/// As [`open`], for config text that is not (yet) a file: `name` locates its diagnostics and
/// `${file:}` references are relative to the current folder.
pub fn open_text(
    name: &str,
    text: String,
    transport: &Transport,
    printer: &Printer,
) -> anyhow::Result<Session> {
    let loaded = config::load_str(name, text, PathBuf::from("."), Strictness::Resolve);
    open_loaded(loaded, transport, printer)
}

fn open_loaded(
    loaded: config::Loaded,
    transport: &Transport,
    printer: &Printer,
) -> anyhow::Result<Session> {
    for diagnostic in &loaded.diagnostics {
        printer.err(&diagnostic.render(Some(&loaded.source)));
    }
    if loaded.has_errors() {
        let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(Reported(format!("{}: {errors} error(s) in the config", loaded.file)).into());
    }
    Session::connect(loaded, transport.http_settings()?)
}

/// Opens a session for `path`, reads both services and plans with `intent`: what `plan`,
/// `drift` and a fresh `apply` start with.
pub async fn open_and_plan(
    path: &Path,
    transport: &Transport,
    intent: AdminIntent,
    printer: &Printer,
) -> anyhow::Result<(Session, Live, Plan)> {
    let session = open(path, transport, printer)?;
    let live = session.read().await?;
    let plan = plan(&session, &live, intent, printer).await?;
    Ok((session, live, plan))
}

/// Plans from `live`; planning problems are printed as config diagnostics.
pub async fn plan(
    session: &Session,
    live: &Live,
    intent: AdminIntent,
    printer: &Printer,
) -> anyhow::Result<Plan> {
    match session.plan(live, intent).await {
        Ok(plan) => Ok(plan),
        Err(PlanError::Failed(err)) => Err(err),
        Err(PlanError::Problems(problems)) => {
            for problem in &problems {
                printer.err(&problem.render(Some(&session.loaded.source)));
            }
            Err(Reported(format!(
                "{}: {} problem(s) between the config and the live services",
                session.loaded.file,
                problems.len()
            ))
            .into())
        }
    }
}
