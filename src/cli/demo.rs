//! `scimbridge demo`: the whole flow against the sandbox, in one command.
//!
//! It starts the sandbox, then runs this very binary as a user would, with the sandbox's
//! credentials in the environment: `plan`, `apply` (which leaves the console step and writes the
//! token file), the console step done as an admin would (labelled so; the sandbox's control plane
//! plays the Okta Admin Console), `apply` again (users flow, the data-flow check passes), the
//! users as WS1 now holds them, and a last `plan` with no changes. Each command is printed before
//! it runs, so the demo doubles as a tutorial. It fails (exit 1) when any step does not end as
//! it should. `demo --import` shows the other way in: an integration built by hand (the
//! sandbox's `brownfield-scim11` scenario) imported, adopted, and moved onto a tracked token.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, bail};

use super::{Exit, Printer};
use crate::providers::HttpSettings;
use crate::providers::ws1::Ws1Client;
use crate::sandbox::{RunningSandbox, SandboxOptions, control, start};
use crate::secret::Secret;

/// The example the demo applies, as committed.
const EXAMPLE: &str = include_str!("../../examples/okta-scim11-custom.yaml");
const EXAMPLE_PATH: &str = "examples/okta-scim11-custom.yaml";
const TOKEN_FILE: &str = "okta-bearer-token.txt";

/// Arguments of `scimbridge demo`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show `import` instead: a setup built by hand, imported, adopted, its token rotated.
    #[arg(long)]
    import: bool,
}

pub fn run(args: Args, printer: &Printer) -> anyhow::Result<Exit> {
    let workdir = std::env::temp_dir().join(format!("scimbridge-demo-{}", std::process::id()));
    std::fs::create_dir_all(workdir.join("examples"))
        .with_context(|| format!("cannot create {}", workdir.display()))?;
    std::fs::write(workdir.join(EXAMPLE_PATH), EXAMPLE).context("cannot write the example")?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = if args.import {
        runtime.block_on(demo_import(&workdir, printer))
    } else {
        runtime.block_on(demo(&workdir, printer))
    };
    let _ = std::fs::remove_dir_all(&workdir);
    result
}

async fn demo(workdir: &Path, printer: &Printer) -> anyhow::Result<Exit> {
    let sandbox = start(SandboxOptions {
        seed: Some(control::example_seed()),
        ..SandboxOptions::default()
    })
    .await
    .context("cannot start the sandbox")?;
    printer.out(&format!(
        "# scimbridge demo\n\
         # The sandbox runs on loopback: Okta at {}, Workspace ONE Access at {}.\n\
         # Its Okta org has the people of examples/sandbox-seed.yaml; WS1 is empty.\n\
         # Every command below is what you would type, with the sandbox's credentials exported\n\
         # (scimbridge sandbox prints them).",
        sandbox.okta_url, sandbox.ws1_url
    ));
    let run = Runner {
        sandbox: &sandbox,
        workdir,
        printer,
    };
    run.step(
        "1. What would change? Everything: both tenants are empty.",
        &["plan", "-c", EXAMPLE_PATH],
        0,
    )
    .await?;
    run.step(
        "2. Apply. Okta's API refuses the provisioning connection for this app, so the token goes to a file for the console step.",
        &["apply", "-c", EXAMPLE_PATH, "--auto-approve", "--token-out", TOKEN_FILE],
        3,
    )
    .await?;
    let token_path = workdir.join(TOKEN_FILE);
    let token = std::fs::read_to_string(&token_path).context("the token file is missing")?;
    printer.out(
        "\n## 3. [SANDBOX, as an admin would] the console step, in the Okta Admin Console:\n\
         #    Provisioning > Integration: Enable API integration, SCIM 1.1 base URL, the token from\n\
         #    the file, Test API Credentials, Save; To App: Create Users on, Deactivate Users on.\n\
         #    Then the token file is deleted.",
    );
    console_step(&sandbox, token.trim()).await?;
    std::fs::remove_file(&token_path).context("cannot delete the token file")?;
    run.step(
        "4. Apply again: scimbridge sees the console step done, assigns the users and checks that they arrive in WS1.",
        &["apply", "-c", EXAMPLE_PATH, "--auto-approve"],
        0,
    )
    .await?;
    printer.out("\n## 5. The users as WS1 Access now holds them (SCIM 1.1, read with scimbridge's admin client):");
    for line in ws1_users(&sandbox).await? {
        printer.out(&line);
    }
    run.step(
        "6. A second plan: nothing left to change.",
        &["plan", "-c", EXAMPLE_PATH, "--detailed-exitcode"],
        0,
    )
    .await?;
    printer.out("\n# Demo complete: planned, applied, handed over, provisioned, converged.");
    sandbox.shutdown().await.context("sandbox shutdown")?;
    Ok(Exit::Ok)
}

/// `demo --import`: a hand-made setup imported, adopted, and moved onto a tracked token.
async fn demo_import(workdir: &Path, printer: &Printer) -> anyhow::Result<Exit> {
    use crate::sandbox::scenario::{self, Scenario};
    let sandbox = start(SandboxOptions {
        seed: Some(control::example_seed()),
        ..SandboxOptions::default()
    })
    .await
    .context("cannot start the sandbox")?;
    let built = scenario::build(&sandbox, Scenario::BrownfieldScim11)
        .await
        .map_err(anyhow::Error::msg)?;
    printer.out(&format!(
        "# scimbridge demo --import\n\
         # The sandbox runs on loopback: Okta at {}, Workspace ONE Access at {}.\n\
         # [SANDBOX, as an admin would] built by hand, through the APIs and the console:\n\
         #   {built}",
        sandbox.okta_url, sandbox.ws1_url
    ));
    let run = Runner {
        sandbox: &sandbox,
        workdir,
        printer,
    };
    const FILE: &str = "workspace-one.yaml";
    run.step(
        "1. What is there to import? Without selectors, import lists the candidates.",
        &["import"],
        1,
    )
    .await?;
    run.step(
        "2. Import it: reads only; the file plans to no change, or import says what it could not express.",
        &[
            "import",
            "--okta-app",
            &built.label,
            "--ws1-client",
            &built.client_id,
            "--ws1-directory",
            &built.directory,
            "-o",
            FILE,
        ],
        0,
    )
    .await?;
    let text = std::fs::read_to_string(workdir.join(FILE)).context("the imported file")?;
    printer.out(&format!("\n## The file import wrote:\n{}", text.trim_end()));
    run.step(
        "3. Plan: no changes; the app is adopted on the first apply.",
        &["plan", "-c", FILE, "--detailed-exitcode"],
        0,
    )
    .await?;
    run.step(
        "4. Apply: one write, scimbridge's managed block in the app's admin note.",
        &["apply", "-c", FILE, "--auto-approve"],
        0,
    )
    .await?;
    run.step(
        "5. Drift: the token Okta holds was made by hand, so its expiry is unknown.",
        &["drift", "-c", FILE],
        2,
    )
    .await?;
    run.step(
        "6. Rotate onto a token scimbridge tracks.",
        &[
            "apply",
            "-c",
            FILE,
            "--auto-approve",
            "--reissue-token",
            "--token-out",
            TOKEN_FILE,
        ],
        3,
    )
    .await?;
    let token_path = workdir.join(TOKEN_FILE);
    let token = std::fs::read_to_string(&token_path).context("the token file is missing")?;
    printer.out(
        "\n## 7. [SANDBOX, as an admin would] the console step with the new token; the file is deleted.",
    );
    console_step(&sandbox, token.trim()).await?;
    std::fs::remove_file(&token_path).context("cannot delete the token file")?;
    run.step(
        "8. Provisioning was on already, so only the admin can say the step is done.",
        &["apply", "-c", FILE, "--auto-approve", "--confirm-handover"],
        0,
    )
    .await?;
    run.step("9. Drift: none.", &["drift", "-c", FILE], 0)
        .await?;
    printer.out("\n# Demo complete: imported, adopted, rotated onto a tracked token, no drift.");
    sandbox.shutdown().await.context("sandbox shutdown")?;
    Ok(Exit::Ok)
}

struct Runner<'a> {
    sandbox: &'a RunningSandbox,
    workdir: &'a Path,
    printer: &'a Printer,
}

impl Runner<'_> {
    /// Runs `scimbridge <args>` as a user would and checks its exit code.
    async fn step(&self, title: &str, args: &[&str], expect: i32) -> anyhow::Result<()> {
        self.printer
            .out(&format!("\n## {title}\n$ scimbridge {}", args.join(" ")));
        let exe: PathBuf = std::env::current_exe().context("cannot find this binary")?;
        let status = tokio::process::Command::new(exe)
            .args(args)
            .current_dir(self.workdir)
            .envs(self.sandbox.credentials())
            .stdin(Stdio::null())
            .status()
            .await
            .context("cannot run scimbridge")?;
        let code = status.code().unwrap_or(-1);
        self.printer.out(&format!("(exit {code})"));
        if code != expect {
            bail!(
                "`scimbridge {}` exited {code}, expected {expect}",
                args.join(" ")
            );
        }
        Ok(())
    }
}

/// The console step, through the sandbox's control plane.
async fn console_step(sandbox: &RunningSandbox, token: &str) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let apps: serde_json::Value = http
        .get(format!("{}/api/v1/apps", sandbox.okta_url))
        .header(
            "Authorization",
            format!("SSWS {}", crate::sandbox::okta::API_TOKEN),
        )
        .send()
        .await?
        .json()
        .await?;
    let app = apps[0]["id"].as_str().context("the app is missing")?;
    let answer = http
        .post(format!(
            "{}/_sandbox/okta/apps/{app}/provisioning",
            sandbox.okta_url
        ))
        .json(&serde_json::json!({
            "baseUrl": format!("{}/SAAS/jersey/manager/api/scim", sandbox.ws1_url),
            "token": token,
            "createUsers": true,
            "updateUsers": false,
            "deactivateUsers": true,
        }))
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("the console step failed: {}", answer.status());
    }
    Ok(())
}

/// The WS1 users, one line each.
async fn ws1_users(sandbox: &RunningSandbox) -> anyhow::Result<Vec<String>> {
    let creds = sandbox.credentials();
    let get = |name: &str| {
        creds
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let ws1 = Ws1Client::new(
        &sandbox.ws1_url,
        &get("WS1_CLIENT_ID"),
        Secret::new(get("WS1_CLIENT_SECRET")),
        HttpSettings::default(),
    )?;
    let users = ws1.scim_users(None).await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let ext = u.workspace.unwrap_or_default();
            format!(
                "  {:<8} active={} domain={} userPrincipalName={} internalUserType={}",
                u.user_name,
                u.active.unwrap_or(true),
                ext.domain.unwrap_or_default(),
                ext.user_principal_name.unwrap_or_default(),
                ext.internal_user_type.unwrap_or_default()
            )
        })
        .collect())
}
