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
use crate::config::{self, Selection, Strictness};
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

/// The config file and its overlays, as the commands that read a config take them.
#[derive(Debug, clap::Args)]
pub struct ConfigFiles {
    /// The config file.
    #[arg(short, long, value_name = "FILE")]
    config: PathBuf,

    #[command(flatten)]
    overlays: Overlays,
}

impl ConfigFiles {
    /// The files to read (see [`Overlays::select`]).
    pub fn select(&self) -> anyhow::Result<Selection> {
        self.overlays.select(&self.config)
    }
}

/// Overlays merged onto the config file: environments from one repo.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct Overlays {
    /// The environment: merge the overlay named after it beside the config file
    /// (`-c scimbridge.yaml -e prod` reads scimbridge.prod.yaml over scimbridge.yaml).
    #[arg(short = 'e', long = "env", value_name = "NAME", value_parser = environment_name)]
    env: Option<String>,

    /// Merge this overlay file too (repeatable; in order, after the environment's).
    #[arg(long = "overlay", value_name = "FILE")]
    overlay: Vec<PathBuf>,
}

/// An environment name names a file: letters, digits, `-` and `_` only.
fn environment_name(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(name.to_owned())
    } else {
        Err(
            "an environment name is letters, digits, `-` and `_` (it names the overlay file \
             beside the config); give another file with --overlay FILE"
                .to_owned(),
        )
    }
}

impl Overlays {
    /// The files to read for the config at `config`: it, the environment's overlay (which must
    /// exist), then the `--overlay` files.
    pub fn select(&self, config: &Path) -> anyhow::Result<Selection> {
        let mut selection = Selection::single(config);
        if let Some(env) = &self.env {
            let file = Selection::environment_file(config, env);
            if !file.exists() {
                anyhow::bail!(
                    "no overlay for the environment `{env}`: expected {} beside {} (or name a file with --overlay FILE)",
                    file.display(),
                    config.display()
                );
            }
            selection.overlays.push(file);
            selection.env = Some(env.clone());
        }
        selection.overlays.extend(self.overlay.iter().cloned());
        Ok(selection)
    }

    /// Whether any overlay was asked for.
    pub fn any(&self) -> bool {
        self.env.is_some() || !self.overlay.is_empty()
    }
}

/// Why a command ended after the reasons were already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Loads the config `selection` names, prints its diagnostics, and connects as `transport`
/// says. Must run inside a Tokio runtime.
pub fn open(
    selection: &Selection,
    transport: &Transport,
    printer: &Printer,
) -> anyhow::Result<Session> {
    let loaded = config::load_selection(selection, Strictness::Resolve)?;
    open_loaded(loaded, transport, printer)
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
        printer.err(&loaded.render(diagnostic));
    }
    if loaded.has_errors() {
        let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(Reported(format!(
            "{}: {errors} error(s) in the config",
            loaded.name()
        ))
        .into());
    }
    Session::connect(loaded, transport.http_settings()?)
}

/// Opens a session for `selection`, reads both services and plans with `intent`: what `plan`,
/// `drift` and a fresh `apply` start with.
pub async fn open_and_plan(
    selection: &Selection,
    transport: &Transport,
    intent: AdminIntent,
    printer: &Printer,
) -> anyhow::Result<(Session, Live, Plan)> {
    let session = open(selection, transport, printer)?;
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
                printer.err(&session.loaded.render(problem));
            }
            Err(Reported(format!(
                "{}: {} problem(s) between the config and the live services",
                session.loaded.name(),
                problems.len()
            ))
            .into())
        }
    }
}
