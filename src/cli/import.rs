//! `scimbridge import`: write the config of an integration built by hand, with reads only.
//!
//! The command chooses what to import (or lists the candidates when a selector is missing),
//! reads both services through a bootstrap config ([`crate::import::bootstrap`]), writes the
//! config ([`crate::import::write`]), and proves it: the written text is loaded and planned
//! against the services like any config, and what it would still change is said. Exit 0 when the
//! file plans no change (an adoption is not a change), 2 when it still plans some (named on
//! stderr), 1 on errors or when a selector is missing.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context, bail};

use super::session::{self, Transport};
use super::{Exit, Printer};
use crate::config::model::Variant;
use crate::ids::OktaAppId;
use crate::import::{self, Chosen, Source};
use crate::plan::AdminIntent;
use crate::providers::okta::{App, Capability, OktaClient};

/// Arguments of `scimbridge import`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The Okta app that provisions into WS1: its label, or its id (`0oa…`).
    #[arg(long, value_name = "LABEL_OR_ID")]
    okta_app: Option<String>,
    /// The WS1 OAuth client whose bearer token Okta uses, by client id.
    #[arg(long, value_name = "CLIENT_ID")]
    ws1_client: Option<String>,
    /// The WS1 directory provisioned users land in, by name.
    #[arg(long, value_name = "NAME")]
    ws1_directory: Option<String>,
    /// Write the config to FILE (a new file); without it, to stdout.
    #[arg(short, long, value_name = "FILE")]
    out: Option<PathBuf>,
}

pub fn run(args: Args, transport: &Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(import(&args, transport, printer))
}

async fn import(args: &Args, transport: &Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let (Some(app_sel), Some(client_id), Some(directory)) =
        (&args.okta_app, &args.ws1_client, &args.ws1_directory)
    else {
        return discover(args, transport, printer).await;
    };
    // A first session only to find the app: its label and catalog name decide the rest.
    let probe = Chosen {
        variant: Variant::Scim11Custom,
        label: app_sel.clone(),
        key: None,
        catalog_name: None,
        client_id: client_id.clone(),
        directory: directory.clone(),
        domains: Vec::new(),
    };
    let session = session::open_text("(import)", import::bootstrap(&probe), transport, printer)?;
    let app = find_app(&session.services.okta, app_sel).await?;
    let (_, block) = crate::state::note::split(app.admin_note.as_deref().unwrap_or_default());
    let variant = match import::variant_of(&app.name) {
        Some(variant) => variant,
        None => {
            // Not a catalog name scimbridge knows: the OIN app keeps its base URL in settings.
            let guess = if app.settings_base_url.is_some() {
                Variant::OinWorkspaceOne
            } else {
                Variant::Scim11Custom
            };
            printer.err(&format!(
                "warning: the app's catalog name `{}` is not one scimbridge knows; it is imported as `{}` with that catalog name (check the variant)",
                app.name,
                match guess {
                    Variant::OinWorkspaceOne => "oin_workspace_one",
                    Variant::Scim11Custom => "scim11_custom",
                }
            ));
            guess
        }
    };
    let chosen = Chosen {
        variant,
        label: app.label.clone(),
        key: block.map(|b| b.key),
        catalog_name: (app.name != variant.default_catalog_name()).then(|| app.name.clone()),
        client_id: client_id.clone(),
        directory: directory.clone(),
        domains: Vec::new(),
    };
    let session = session::open_text("(import)", import::bootstrap(&chosen), transport, printer)?;
    let live = session.read().await?;
    match &live.okta.app {
        Some(found) if found.id == app.id => {}
        Some(found) => bail!(
            "the app `{}` ({}) was asked for, but its label or key leads to {} first: import it by id",
            app.label,
            app.id,
            found.id
        ),
        None => bail!(
            "the app `{}` ({}) could not be read back",
            app.label,
            app.id
        ),
    }
    if live.ws1.scim_client.is_none() {
        bail!(
            "WS1 has no OAuth client `{client_id}` (run `scimbridge import` without --ws1-client to list them)"
        );
    }
    if live.ws1.directory.is_none() {
        bail!(
            "WS1 has no directory named `{directory}` (run `scimbridge import` without --ws1-directory to list them)"
        );
    }
    // Pushes are read here: the live state reads them only for a config that pushes groups.
    let okta = &session.services.okta;
    let mut pushes = Vec::new();
    if let Capability::Supported(found) = okta
        .group_push_mappings(&app.id)
        .await
        .context("cannot read the app's group pushes")?
    {
        for push in found {
            let name = okta
                .get_group(&push.source_group_id)
                .await
                .context("cannot read a pushed group")?
                .map_or_else(|| push.source_group_id.to_string(), |g| g.profile.name);
            pushes.push((name, push.status));
        }
    }
    let other_directories = session
        .services
        .ws1
        .list_directories()
        .await
        .context("cannot list the WS1 directories")?
        .into_iter()
        .filter(|d| d.type_ == "OTHER_DIRECTORY" && &d.name != directory)
        .map(|d| (d.name, d.domains.unwrap_or_default()))
        .collect();
    let source = Source {
        other_directories,
        okta_org_url: session.resolved.okta_org_url.clone(),
        ws1_tenant_url: session.resolved.ws1_tenant_url.clone(),
        read_at: live.observed_at,
        pushes,
        default_base_url: session.resolved.ws1_tenant_url.clone(),
    };
    // The variant's defaults as the model makes them, with the directory's own domains (the
    // `domain` mapping's default is the first).
    let domains = live
        .ws1
        .directory
        .as_ref()
        .map(|d| d.domains.clone())
        .unwrap_or_default();
    let defaults = crate::config::load_str(
        "(import)",
        import::bootstrap(&Chosen { domains, ..chosen }),
        PathBuf::from("."),
        crate::config::Strictness::Validate,
    )
    .desired
    .context("the variant's defaults do not load: this is scimbridge's fault, please report it")?;
    let imported = import::write(&live, &defaults, &source).map_err(anyhow::Error::msg)?;
    for warning in &imported.warnings {
        printer.err(&format!("warning: {warning}"));
    }
    // The proof: the written text, planned against the services like any config.
    let name = args
        .out
        .as_ref()
        .map_or("(imported config)".to_owned(), |p| p.display().to_string());
    let check = session::open_text(&name, imported.text.clone(), transport, printer).context(
        "the imported config does not load: this is scimbridge's fault, please report it",
    )?;
    let live = check.read().await?;
    let plan = session::plan(&check, &live, AdminIntent::default(), printer).await?;
    match &args.out {
        Some(path) => write_new(path, &imported.text)?,
        None => printer.out(imported.text.trim_end()),
    }
    let adopt = plan.actions.len()
        - plan
            .actions
            .iter()
            .filter(|a| a.kind != crate::plan::Kind::Adopt)
            .count();
    if plan.has_changes() {
        printer.err(&format!(
            "The imported config still plans {} change(s), which the model cannot express as they are; `scimbridge plan -c {name}` shows them:",
            plan.actions.len() - adopt
        ));
        for action in plan
            .actions
            .iter()
            .filter(|a| a.kind != crate::plan::Kind::Adopt)
        {
            printer.err(&format!("  {} ({:?})", action.resource, action.kind));
        }
        return Ok(Exit::Changes);
    }
    printer.err(&format!(
        "Imported: `scimbridge plan -c {name}` shows no changes{}. {}",
        if adopt > 0 {
            "; the first apply adopts the app (its admin note gets scimbridge's managed block)"
        } else {
            ""
        },
        plan.token.summary()
    ));
    Ok(Exit::Ok)
}

/// The app by id, or by its exact label (one, or the ids to choose from).
async fn find_app(okta: &OktaClient, selector: &str) -> anyhow::Result<App> {
    if selector.starts_with("0oa") {
        return okta
            .get_app(&OktaAppId::new(selector))
            .await
            .with_context(|| format!("cannot read the Okta app {selector}"));
    }
    let apps = okta
        .list_apps(Some(selector), None)
        .await
        .context("cannot list the Okta apps")?;
    let mut same: Vec<App> = apps.into_iter().filter(|a| a.label == selector).collect();
    match same.len() {
        1 => Ok(same.remove(0)),
        0 => bail!(
            "Okta has no app labelled `{selector}` (run `scimbridge import` without --okta-app to list them)"
        ),
        _ => bail!(
            "{} Okta apps are labelled `{selector}`: import one by id ({})",
            same.len(),
            same.iter()
                .map(|a| a.id.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Lists what each missing selector could be, and the command to go on with.
async fn discover(args: &Args, transport: &Transport, printer: &Printer) -> anyhow::Result<Exit> {
    let placeholder = Chosen {
        variant: Variant::Scim11Custom,
        label: "discovering".into(),
        key: None,
        catalog_name: None,
        client_id: "discovering".into(),
        directory: "discovering".into(),
        domains: Vec::new(),
    };
    let session = session::open_text(
        "(import)",
        import::bootstrap(&placeholder),
        transport,
        printer,
    )?;
    let mut out = String::new();
    if args.okta_app.is_none() {
        let apps = session
            .services
            .okta
            .list_apps(None, None)
            .await
            .context("cannot list the Okta apps")?;
        out.push_str("--okta-app (Okta apps: id, label, catalog name; the WS1 ones first):\n");
        let mut apps: Vec<&App> = apps.iter().collect();
        apps.sort_by_key(|a| (import::variant_of(&a.name).is_none(), a.label.clone()));
        for app in apps {
            out.push_str(&format!("  {}  {:?}  {}\n", app.id, app.label, app.name));
        }
    }
    if args.ws1_client.is_none() {
        let clients = session
            .services
            .ws1
            .list_oauth2_clients()
            .await
            .context("cannot list the WS1 OAuth clients")?;
        out.push_str("--ws1-client (WS1 OAuth clients):\n");
        for client in clients {
            out.push_str(&format!("  {}\n", client.client_id));
        }
    }
    if args.ws1_directory.is_none() {
        let directories = session
            .services
            .ws1
            .list_directories()
            .await
            .context("cannot list the WS1 directories")?;
        out.push_str("--ws1-directory (WS1 directories: name, type):\n");
        for directory in directories {
            out.push_str(&format!("  {:?}  {}\n", directory.name, directory.type_));
        }
    }
    printer.out(out.trim_end());
    printer.err("error: choose one of each listed above: `scimbridge import --okta-app LABEL_OR_ID --ws1-client CLIENT_ID --ws1-directory NAME [-o FILE]`");
    Ok(Exit::Error)
}

/// Creates `path` new with `text` (an existing file is never overwritten).
fn write_new(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("cannot create {} (it must not exist yet)", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}
