//! `scimbridge validate`: parse and lint a config file without touching the network.

use serde::Serialize;

use super::{Exit, Printer, session};
use crate::config::{self, Diagnostic, Strictness};

/// Arguments of `scimbridge validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    config: session::ConfigFiles,

    /// Output format: `text` for people, `json` for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Format {
    Text,
    Json,
}

/// The versioned JSON output of `validate --format json`.
#[derive(Serialize)]
struct Report<'a> {
    format_version: u32,
    file: &'a str,
    valid: bool,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
}

pub fn run(args: Args, printer: &Printer) -> anyhow::Result<Exit> {
    let selection = args.config.select()?;
    let loaded = config::load_selection(&selection, Strictness::Validate)?;
    let errors = loaded.diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = loaded.diagnostics.len() - errors;
    match args.format {
        Format::Json => {
            let report = Report {
                format_version: 1,
                file: &loaded.name(),
                valid: errors == 0,
                errors,
                warnings,
                diagnostics: &loaded.diagnostics,
            };
            printer.out(&serde_json::to_string_pretty(&report)?);
        }
        Format::Text => {
            for diagnostic in &loaded.diagnostics {
                printer.err(&loaded.render(diagnostic));
            }
            let verdict = if errors == 0 { "valid" } else { "invalid" };
            printer.err(&format!(
                "{}: {verdict} ({}, {})",
                loaded.name(),
                count(errors, "error"),
                count(warnings, "warning")
            ));
        }
    }
    Ok(if errors == 0 { Exit::Ok } else { Exit::Error })
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
