//! Opening a session for a command: load the config, print its diagnostics, connect; and
//! planning with the planner's problems printed as config diagnostics.
//!
//! What must hold: config diagnostics are printed once, with their source lines, before anything
//! touches the network; a config with errors never reaches a client; planning errors (users or
//! groups Okta lacks) are config diagnostics too, located in the file.

use std::path::Path;

use super::Printer;
use crate::apply::session::{PlanError, Session};
use crate::config::{self, Strictness};
use crate::plan::{AdminIntent, Plan};
use crate::providers::HttpSettings;
use crate::state::Live;

/// Why a command ended after the reasons were already printed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Loads `path`, prints its diagnostics, and connects. Must run inside a Tokio runtime.
pub fn open(path: &Path, printer: &Printer) -> anyhow::Result<Session> {
    let loaded = config::load(path, Strictness::Resolve)?;
    for diagnostic in &loaded.diagnostics {
        printer.err(&diagnostic.render(Some(&loaded.source)));
    }
    if loaded.has_errors() {
        let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(Reported(format!("{}: {errors} error(s) in the config", loaded.file)).into());
    }
    Session::connect(loaded, HttpSettings::default())
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
