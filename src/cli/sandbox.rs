//! `scimbridge sandbox`: run the emulators on 127.0.0.1 until Ctrl-C, printing their URLs, the
//! control plane's index and the console step for provisioning as a `curl` line, and the
//! sandbox's own (fake) credentials as `export NAME=value` lines. With `--scenario`, it first
//! builds a hand-made integration (`sandbox::scenario`) and says what it made.
//!
//! The `export` lines go to stdout so `eval "$(scimbridge sandbox ...)"`-style tooling can take
//! them; everything else goes to stderr.

use std::path::PathBuf;

use anyhow::Context;

use super::{Exit, Printer};
use crate::sandbox::scenario::{self, Scenario};
use crate::sandbox::{SandboxOptions, control, start};

/// Arguments of `scimbridge sandbox`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the WS1 Access emulator (0 = any free port).
    #[arg(long, default_value_t = 0)]
    ws1_port: u16,
    /// Port of the Okta emulator (0 = any free port).
    #[arg(long, default_value_t = 0)]
    okta_port: u16,
    /// A seed document (JSON or YAML: `{"ws1": {...}, "okta": {...}}`) loaded at start;
    /// without it, the people and groups of the examples (`examples/sandbox-seed.yaml`).
    #[arg(long, conflicts_with = "empty")]
    seed: Option<PathBuf>,
    /// Start with no Okta users or groups at all.
    #[arg(long)]
    empty: bool,
    /// After start, build a hand-made integration as an admin would, through the vendor APIs
    /// and the console step: brownfield-scim11 or brownfield-oin (needs the default seed's people).
    #[arg(long, value_name = "NAME", conflicts_with = "empty")]
    scenario: Option<Scenario>,
}

pub fn run(args: Args, printer: &Printer) -> anyhow::Result<Exit> {
    let seed = match &args.seed {
        Some(path) => Some(
            control::load_seed_file(&path.to_string_lossy())
                .map_err(anyhow::Error::msg)
                .context("cannot load the seed")?,
        ),
        None if args.empty => None,
        None => Some(control::example_seed()),
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let opts = SandboxOptions {
            ws1_port: args.ws1_port,
            okta_port: args.okta_port,
            seed,
        };
        let sandbox = start(opts).await.context("cannot start the sandbox")?;
        printer.err(&banner(&sandbox.okta_url, &sandbox.ws1_url));
        if let Some(chosen) = args.scenario {
            let built = scenario::build(&sandbox, chosen)
                .await
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("cannot build the scenario {chosen}"))?;
            printer.err(&format!("\nbuilt by hand: {built}"));
        }
        let exports: Vec<String> = sandbox
            .credentials()
            .into_iter()
            .map(|(name, value)| format!("export {name}={value}"))
            .collect();
        printer.out(&exports.join("\n"));
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        printer.err("stopping the sandbox");
        sandbox.shutdown().await.context("sandbox shutdown")?;
        Ok(Exit::Ok)
    })
}

/// What the sandbox says when it starts: its URLs, the index of its control routes, and the
/// console step for provisioning (the one `apply` leaves to the admin) as a `curl` line.
fn banner(okta: &str, ws1: &str) -> String {
    let step = format!("{okta}/_sandbox/okta/apps/APP_ID/provisioning");
    let body = format!(
        r#"{{"baseUrl": "{ws1}/SAAS/jersey/manager/api/scim", "token": "'"$(cat ./okta-token)"'", "createUsers": true, "deactivateUsers": true}}"#
    );
    [
        "sandbox running (Ctrl-C stops it)".to_string(),
        format!("  Okta:       {okta}"),
        format!("  WS1 Access: {ws1}"),
        format!("  control:    {ws1}/_sandbox/ lists every control route (curl it)"),
        String::new(),
        "Okta's console step for provisioning (Provisioning > Integration and To App), once".into(),
        "`apply --token-out ./okta-token` has written the token; APP_ID is the app's id in".into(),
        format!("`curl -H \"Authorization: SSWS $OKTA_API_TOKEN\" {okta}/api/v1/apps`:"),
        format!("  curl -X POST {step} \\"),
        "    -H 'Content-Type: application/json' \\".into(),
        format!("    -d '{body}'"),
        "(for the OIN app, leave baseUrl out: Okta takes it from the app's settings)".into(),
    ]
    .join("\n")
}
