//! `scimbridge schema`: print the config's JSON Schema (the same text as
//! `schemas/scimbridge.schema.json`).

use super::{Exit, Printer};

/// Arguments of `scimbridge schema` (none).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, printer: &Printer) -> anyhow::Result<Exit> {
    printer.out(&crate::config::schema_json());
    Ok(Exit::Ok)
}
