//! `scimbridge schema`: print the config's JSON Schema.

use super::{Exit, Printer};

/// Arguments of `scimbridge schema` (none yet).
#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, _printer: &Printer) -> anyhow::Result<Exit> {
    anyhow::bail!("schema is not built yet")
}
