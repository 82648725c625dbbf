//! `scimbridge drift`: config, token and data-flow drift in one report, for a scheduled job;
//! reads only.
//!
//! Exit codes: 0 no drift, 2 drift, 1 could not tell (the config or a service failed; the
//! error says which).

use anyhow::Context;

use super::session;
use super::{Exit, Printer};
use crate::apply::drift;
use crate::apply::session::Session;
use crate::config::Selection;
use crate::plan::AdminIntent;
use crate::state::Live;

/// Arguments of `scimbridge drift`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: session::ConfigFiles,

    /// Output format: `text` for people, `json` for tools (versioned), `markdown` for an issue
    /// or a chat message.
    #[arg(long, value_enum, default_value_t = DriftFormat::Text)]
    format: DriftFormat,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum DriftFormat {
    Text,
    Json,
    Markdown,
}

pub fn run(args: Args, transport: &session::Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let selection = args.config.select()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (_, _, report) = look(&selection, transport, printer).await?;
        printer.out(&match args.format {
            DriftFormat::Text => drift::text(&report),
            DriftFormat::Json => drift::json(&report),
            DriftFormat::Markdown => drift::markdown(&report),
        });
        Ok(if report.drift {
            Exit::Changes
        } else {
            Exit::Ok
        })
    })
}

/// Loads the config, reads both services, plans and judges drift, with reads only: what
/// `drift` and each run of `watch` start with. The plan is the report's.
pub async fn look(
    selection: &Selection,
    transport: &session::Transport,
    printer: &Printer,
) -> anyhow::Result<(Session, Live, drift::Report)> {
    let (session, live, plan) =
        session::open_and_plan(selection, transport, AdminIntent::default(), printer).await?;
    let report = drift::detect(session.desired(), &session.services, &live, plan)
        .await
        .context("cannot check the data flow")?;
    Ok((session, live, report))
}
