//! The desired state: the YAML model, its validation with source locations, and its JSON Schema.
//!
//! [`load`] is the only way in: it parses (through [`yaml::parse`], the one YAML entry point),
//! checks the model ([`model::check`]) and runs the lints ([`lint::lint`]), and returns every
//! diagnostic, each with file, line, column and field path. [`Loaded::resolve`] then reads the
//! referenced values `plan` and `apply` need; secrets come back as [`Secret`], which redacts.

pub mod diagnostic;
pub mod duration;
pub mod lint;
pub mod model;
pub mod raw;
pub mod reference;
pub mod source;
pub mod yaml;

use std::path::{Path as FsPath, PathBuf};

use crate::secret::Secret;

pub use diagnostic::{Diagnostic, Location, Path, Severity};
pub use lint::Strictness;
pub use model::Desired;

/// Which files make a config: a base file and the overlays merged onto it, in order
/// (`-c scimbridge.yaml -e prod`, or `--overlay FILE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    pub base: PathBuf,
    pub overlays: Vec<PathBuf>,
    /// The environment whose overlay is the first of `overlays`, when one was named (`-e`).
    pub env: Option<String>,
}

impl Selection {
    /// One file, no overlay.
    pub fn single(base: &FsPath) -> Self {
        Self {
            base: base.to_path_buf(),
            overlays: Vec::new(),
            env: None,
        }
    }

    /// The overlay of environment `name` for the base file `base`: beside it, the base's stem,
    /// the name, the base's extension (`scimbridge.yaml` → `scimbridge.prod.yaml`).
    pub fn environment_file(base: &FsPath, name: &str) -> PathBuf {
        let stem = base.file_stem().unwrap_or_default().to_string_lossy();
        let ext = base
            .extension()
            .map_or("yaml".into(), |e| e.to_string_lossy());
        base.with_file_name(format!("{stem}.{name}.{ext}"))
    }

    /// Every file, the base first.
    pub fn files(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.base).chain(&self.overlays)
    }

    /// How a command line names these files after `-c`: `scimbridge.yaml -e prod`, with
    /// `--overlay FILE` for each overlay not chosen by `-e`; what plans and reports show, so the
    /// commands they suggest read the same files.
    pub fn shown(&self) -> String {
        let mut shown = self.base.display().to_string();
        let mut overlays = self.overlays.iter();
        if let Some(env) = &self.env {
            overlays.next();
            shown.push_str(&format!(" -e {env}"));
        }
        for overlay in overlays {
            shown.push_str(&format!(" --overlay {}", overlay.display()));
        }
        shown
    }
}

/// A loaded config: the model when it is sound, and everything found on the way.
#[derive(Debug)]
pub struct Loaded {
    /// The (base) file name as given; with overlays, [`Loaded::sources`] names them all.
    pub file: String,
    /// How a command line names the config after `-c` ([`Selection::shown`]).
    pub shown: String,
    /// Every file's name and text, the base first, for showing source lines with diagnostics.
    pub sources: Vec<(std::sync::Arc<str>, String)>,
    /// The folder `${file:…}` references are relative to: the base file's.
    pub base: PathBuf,
    /// `Some` unless an error left nothing sound to build.
    pub desired: Option<Desired>,
    /// Errors and warnings, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// `diagnostic` with the source line it points at, from whichever file that is.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        let source = self
            .sources
            .iter()
            .find(|(name, _)| **name == *diagnostic.location.file)
            .map(|(_, text)| text.as_str());
        diagnostic.render(source)
    }

    /// The name shown for the whole config: the base, plus its overlays.
    pub fn name(&self) -> String {
        let names: Vec<&str> = self.sources.iter().map(|(n, _)| &**n).collect();
        if names.is_empty() {
            self.file.clone()
        } else {
            names.join(" + ")
        }
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The checked model, or every error that prevents it.
    pub fn desired(&self) -> Result<&Desired, Vec<&Diagnostic>> {
        match (&self.desired, self.has_errors()) {
            (Some(desired), false) => Ok(desired),
            _ => Err(self.diagnostics.iter().filter(|d| d.is_error()).collect()),
        }
    }

    /// Reads every referenced value `plan` and `apply` need.
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        use anyhow::Context;
        let desired = self.desired().map_err(|errors| {
            anyhow::anyhow!(
                "{} has {} error(s); run `scimbridge validate` on it",
                self.name(),
                errors.len(),
            )
        })?;
        let base = &self.base;
        let ws1 = &desired.ws1;
        let okta = &desired.okta;
        let tenant_url = ws1.tenant_url.resolve(base).context("ws1.tenant_url")?;
        let scim_base_url = match &okta.app.provisioning.base_url {
            model::BaseUrl::Given(param) => param
                .resolve(base)
                .context("okta.app.provisioning.base_url")?,
            model::BaseUrl::FromTenant(suffix) => {
                format!("{}{suffix}", tenant_url.trim_end_matches('/'))
            }
        };
        Ok(Resolved {
            ws1_tenant_url: tenant_url,
            ws1_client_id: ws1
                .admin_client_id
                .resolve(base)
                .context("ws1.credentials.client_id")?,
            ws1_client_secret: ws1
                .admin_client_secret
                .resolve(base)
                .context("ws1.credentials.client_secret")?,
            scim_client_secret: ws1
                .scim_client
                .secret
                .resolve(base)
                .context("ws1.scim_client.secret")?,
            okta_org_url: okta.org_url.resolve(base).context("okta.org_url")?,
            okta_api_token: okta.api_token.resolve(base).context("okta.api_token")?,
            scim_base_url,
        })
    }
}

/// The referenced values, read. Secrets stay wrapped so they never print.
#[derive(Clone, Debug)]
pub struct Resolved {
    pub ws1_tenant_url: String,
    pub ws1_client_id: String,
    pub ws1_client_secret: Secret,
    pub scim_client_secret: Secret,
    pub okta_org_url: String,
    pub okta_api_token: Secret,
    /// The provisioning base URL, derived from the tenant URL unless given.
    pub scim_base_url: String,
}

/// Reads and checks a config file, through the bounded reader ([`source::read_text`]).
pub fn load(path: &FsPath, strictness: Strictness) -> anyhow::Result<Loaded> {
    load_selection(&Selection::single(path), strictness)
}

/// Reads a base file and its overlays and checks their merge.
///
/// A file that cannot be opened is an error; one that is not a regular file, is larger than
/// [`source::CONFIG_LIMIT`] or is not UTF-8 is a located diagnostic, like any other problem
/// with what the user gave.
pub fn load_selection(selection: &Selection, strictness: Strictness) -> anyhow::Result<Loaded> {
    use anyhow::Context;
    let base = selection
        .base
        .parent()
        .map(FsPath::to_path_buf)
        .unwrap_or_default();
    let mut layers = Vec::new();
    let mut diagnostics = Vec::new();
    for path in selection.files() {
        let name = path.display().to_string();
        match source::read_text(path, source::CONFIG_LIMIT, "config file") {
            Ok(text) => layers.push((name, text)),
            Err(source::ReadError::Io(err)) => {
                let what = if *path == selection.base {
                    "cannot read"
                } else {
                    "cannot read the overlay"
                };
                return Err(err).context(format!("{what} {name}"));
            }
            Err(err) => {
                let pos = match err {
                    source::ReadError::NotUtf8 { line, column } => yaml::Pos { line, column },
                    _ => yaml::Pos { line: 1, column: 1 },
                };
                diagnostics.push(Diagnostic::error(
                    err.code(),
                    Path::root(),
                    Location::new(&name, pos),
                    format!("the config file {err}"),
                ));
            }
        }
    }
    if !diagnostics.is_empty() {
        return Ok(Loaded {
            file: selection.base.display().to_string(),
            shown: selection.shown(),
            sources: Vec::new(),
            base,
            desired: None,
            diagnostics,
        });
    }
    // The base's name is the first layer's, as `load_layers` names it.
    let mut loaded = load_layers(layers, base, strictness);
    loaded.shown = selection.shown();
    Ok(loaded)
}

/// Checks config text; `file` names it in diagnostics, `base` anchors `${file:…}` references.
pub fn load_str(file: &str, source: String, base: PathBuf, strictness: Strictness) -> Loaded {
    load_layers(vec![(file.to_owned(), source)], base, strictness)
}

/// Checks the merge of config texts (name, text), the base first.
fn load_layers(layers: Vec<(String, String)>, base: PathBuf, strictness: Strictness) -> Loaded {
    let file = layers.first().map(|(n, _)| n.clone()).unwrap_or_default();
    let mut diagnostics = Vec::new();
    let parsed = {
        let views: Vec<yaml::Layer<'_>> = layers
            .iter()
            .map(|(file, text)| yaml::Layer { file, text })
            .collect();
        yaml::parse_layers::<raw::RawConfig>(&views)
    };
    let desired = match parsed {
        Err(errors) => {
            diagnostics.extend(errors);
            None
        }
        Ok((None, _)) => {
            diagnostics.push(
                Diagnostic::error(
                    "empty",
                    Path::root(),
                    Location::new(&file, yaml::Pos { line: 1, column: 1 }),
                    "the config file is empty".into(),
                )
                .why("an empty file describes nothing; plan would have nothing to compare")
                .help("start from one of the files in examples/"),
            );
            None
        }
        Ok((Some(raw), doc)) => {
            let desired = model::check(&raw, &doc, &mut diagnostics);
            // A field that failed its check holds a placeholder; lints about it would be noise.
            let failed: Vec<Path> = diagnostics.iter().map(|d| d.path.clone()).collect();
            let lints = lint::lint(&desired, &doc, &base, strictness);
            diagnostics.extend(lints.into_iter().filter(|d| !failed.contains(&d.path)));
            Some(desired)
        }
    };
    for diagnostic in &mut diagnostics {
        // Reference problems name a variable or a path, never a value; everything else about a
        // secret field may quote what the file holds there.
        let about_reference = matches!(
            diagnostic.code,
            "env-unset"
                | "file-unreadable"
                | "bad-reference"
                | "not-regular-file"
                | "too-large"
                | "not-utf8"
                | "empty-secret"
        );
        if !about_reference && raw::SECRET_FIELDS.contains(&diagnostic.path.to_string().as_str()) {
            diagnostic.redact();
        }
    }
    diagnostic::sort(&mut diagnostics);
    // File order: the base's diagnostics, then each overlay's (the sort above is stable).
    diagnostics.sort_by_key(|d| layers.iter().position(|(n, _)| **n == *d.location.file));
    Loaded {
        shown: file.clone(),
        file,
        sources: layers
            .into_iter()
            .map(|(name, text)| (name.into(), text))
            .collect(),
        base,
        desired,
        diagnostics,
    }
}

/// The config's JSON Schema, as committed in `schemas/scimbridge.schema.json`.
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(raw::RawConfig);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
