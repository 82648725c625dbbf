//! `scimbridge plan`: read both services, print the plan; reads only.

use std::path::PathBuf;

use anyhow::Context;

use super::session;
use super::{Exit, Printer};
use crate::apply::saved;
use crate::plan::AdminIntent;
use crate::plan::render::{self, Format};

/// Arguments of `scimbridge plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: session::ConfigFiles,

    /// Output format: `text` for people, `json` for tools, `markdown` for pull-request comments.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    format: PlanFormat,

    /// Exit 2 when the plan has changes (manual steps included), 0 when it has none.
    #[arg(long)]
    detailed_exitcode: bool,

    /// Also save the plan to FILE for review; `scimbridge apply FILE` applies exactly it, or
    /// refuses when anything it read has changed since.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum PlanFormat {
    Text,
    Json,
    Markdown,
}

impl From<PlanFormat> for Format {
    fn from(format: PlanFormat) -> Self {
        match format {
            PlanFormat::Text => Format::Text,
            PlanFormat::Json => Format::Json,
            PlanFormat::Markdown => Format::Markdown,
        }
    }
}

pub fn run(args: Args, transport: &session::Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let selection = args.config.select()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let (session, _, plan) =
            session::open_and_plan(&selection, transport, AdminIntent::default(), printer)
                .await?;
        printer.out(&render::render(&plan, args.format.into(), printer.color()));
        if let Some(out) = &args.out {
            saved::save(&session, &plan, out)?;
            printer.err(&format!(
                "Saved the plan to {} (no secret in it); `scimbridge apply {}` applies exactly this plan.",
                out.display(),
                out.display()
            ));
        }
        Ok(if args.detailed_exitcode && plan.has_changes() {
            Exit::Changes
        } else {
            Exit::Ok
        })
    })
}
