//! `scimbridge validate`: parse and lint a config file without touching the network.

use std::path::PathBuf;

use super::{Exit, Printer};

/// Arguments of `scimbridge validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file.
    #[arg(short, long)]
    config: PathBuf,
}

pub fn run(args: Args, printer: &Printer) -> anyhow::Result<Exit> {
    let _ = (args, printer);
    anyhow::bail!("validate is not built yet")
}
