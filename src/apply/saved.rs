//! Saved plans: `plan --out FILE` writes the plan a pull request reviews; `apply FILE` applies
//! exactly that plan on merge, or refuses.
//!
//! A saved plan holds the plan (no secret, by construction: the planner never sees one), the
//! scimbridge version and plan format that made it, the config file's path and SHA-256, the two
//! tenants it was made against, and a checksum over all of it. The plan itself carries a
//! fingerprint of every live object it read and the token's state as judged then.
//!
//! What must hold: [`SavedPlan::load`] refuses a file of another version or format, a truncated
//! or edited file; [`SavedPlan::check`] refuses, before any write, a plan whose config or tenants
//! differ from the ones it was made for, or whose live objects or token state changed since,
//! naming each; only then is the plan executed as it is, with no new decision. The checksum
//! catches accident, not malice: whoever can rewrite the file can recompute it, so the file is
//! kept as a CI artifact like the code it was reviewed with.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use super::session::Session;
use crate::config::{Loaded, Selection};
use crate::plan::{self, AdminIntent, Plan};
use crate::state::Live;
use crate::state::read::{fingerprints, sha256_hex};

/// What a saved plan's first field says, so another JSON file is not taken for one.
const KIND: &str = "scimbridge-saved-plan";
/// The version of the saved plan's shape.
pub const SAVED_FORMAT_VERSION: u32 = 2;

/// The tenants a plan was made against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenants {
    pub okta: String,
    pub ws1: String,
}

/// The config a plan was made from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigDigest {
    /// The path as given to `plan -c`.
    pub path: String,
    /// The overlays merged onto it, in order (`-e`, `--overlay`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overlays: Vec<String>,
    /// SHA-256 of the file's bytes, hex; with overlays, of each file's length and bytes in turn.
    pub sha256: String,
}

/// Everything in a saved plan file but its checksum.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Body {
    kind: String,
    saved_format_version: u32,
    scimbridge_version: String,
    config: ConfigDigest,
    tenants: Tenants,
    plan: Plan,
}

/// A saved plan file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(flatten)]
    body: Body,
    /// SHA-256 of the body's JSON, hex.
    checksum: String,
}

/// A saved plan, loaded and intact.
#[derive(Clone, Debug)]
pub struct SavedPlan {
    pub config: ConfigDigest,
    pub tenants: Tenants,
    pub plan: Plan,
}

fn body_checksum(body: &Body) -> String {
    sha256_hex(&serde_json::to_vec(body).expect("a saved plan serializes"))
}

/// The tenants `session`'s config points at now.
fn tenants_of(session: &Session) -> Tenants {
    Tenants {
        okta: session
            .resolved
            .okta_org_url
            .trim_end_matches('/')
            .to_owned(),
        ws1: session
            .resolved
            .ws1_tenant_url
            .trim_end_matches('/')
            .to_owned(),
    }
}

/// The config's files and the SHA-256 of their text as `loaded` read them for this run, the base
/// first: the very text planned, or applied, not a second read of the files.
fn config_digest(loaded: &Loaded) -> ConfigDigest {
    let sha256 = match loaded.sources.as_slice() {
        [(_, only)] => sha256_hex(only.as_bytes()),
        sources => {
            let mut all = Vec::new();
            for (_, text) in sources {
                all.extend_from_slice(&(text.len() as u64).to_be_bytes());
                all.extend_from_slice(text.as_bytes());
            }
            sha256_hex(&all)
        }
    };
    ConfigDigest {
        path: loaded.file.clone(),
        overlays: loaded
            .sources
            .iter()
            .skip(1)
            .map(|(name, _)| name.to_string())
            .collect(),
        sha256,
    }
}

/// Writes `plan`, made by `session` from its config, to `out` (replacing it).
pub fn save(session: &Session, plan: &Plan, out: &Path) -> anyhow::Result<()> {
    let body = Body {
        kind: KIND.to_owned(),
        saved_format_version: SAVED_FORMAT_VERSION,
        scimbridge_version: env!("CARGO_PKG_VERSION").to_owned(),
        config: config_digest(&session.loaded),
        tenants: tenants_of(session),
        plan: plan.clone(),
    };
    let file = File {
        checksum: body_checksum(&body),
        body,
    };
    let mut text = serde_json::to_string_pretty(&file).context("cannot render the plan")?;
    text.push('\n');
    std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))
}

impl SavedPlan {
    /// Reads a saved plan; refuses another format or version, a truncated or edited file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let shown = path.display();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {shown}"))?;
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{shown} is not a complete saved plan (truncated or not JSON: {e}); make the plan again with `scimbridge plan --out`"
            )
        })?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            bail!(
                "{shown} is not a saved scimbridge plan (`scimbridge plan -c CONFIG --out {shown}` makes one)"
            );
        }
        let made_by = value
            .get("scimbridge_version")
            .and_then(|v| v.as_str())
            .unwrap_or("an unknown version");
        let format = value.get("saved_format_version").and_then(|v| v.as_u64());
        let this = env!("CARGO_PKG_VERSION");
        if made_by != this || format != Some(u64::from(SAVED_FORMAT_VERSION)) {
            bail!(
                "{shown} was made by scimbridge {made_by} (saved plan format {}); this is scimbridge {this} (format {SAVED_FORMAT_VERSION}): make the plan again with this version",
                format.map_or("unknown".to_owned(), |f| f.to_string())
            );
        }
        let file: File = serde_json::from_value(value).map_err(|e| {
            anyhow::anyhow!("{shown} is not a saved plan this version reads ({e}): it was edited; make the plan again")
        })?;
        if body_checksum(&file.body) != file.checksum {
            bail!(
                "{shown} was changed after it was made (its checksum does not match): apply only the plan that was reviewed; make the plan again"
            );
        }
        let body = file.body;
        Ok(Self {
            config: body.config,
            tenants: body.tenants,
            plan: body.plan,
        })
    }

    /// The config files the plan was made from.
    pub fn selection(&self) -> Selection {
        Selection {
            base: PathBuf::from(&self.config.path),
            overlays: self.config.overlays.iter().map(PathBuf::from).collect(),
            env: None,
        }
    }

    /// Refuses, naming each difference, unless the session's config, the tenants, every live
    /// object the plan read and the token's state are what they were when the plan was made.
    pub async fn check(&self, session: &Session, live: &Live) -> anyhow::Result<()> {
        let mut changed = Vec::new();
        let now = config_digest(&session.loaded);
        if now.overlays != self.config.overlays {
            let list = |o: &[String]| {
                if o.is_empty() {
                    "none".to_owned()
                } else {
                    o.join(", ")
                }
            };
            changed.push(format!(
                "the overlays: planned with {}, given now {}",
                list(&self.config.overlays),
                list(&now.overlays)
            ));
        } else if now.sha256 != self.config.sha256 {
            let files = if now.overlays.is_empty() {
                format!("the config {}", now.path)
            } else {
                format!("the config {} with {}", now.path, now.overlays.join(", "))
            };
            changed.push(format!("{files}: its content is not the one planned"));
        }
        let tenants = tenants_of(session);
        if tenants != self.tenants {
            bail!(
                "the plan was made for Okta {} and WS1 {}, but the config now points at Okta {} and WS1 {}: nothing was changed",
                self.tenants.okta,
                self.tenants.ws1,
                tenants.okta,
                tenants.ws1
            );
        }
        let fingerprints = fingerprints(live);
        let addresses: std::collections::BTreeSet<&String> = fingerprints
            .keys()
            .chain(self.plan.fingerprints.keys())
            .collect();
        for address in addresses {
            if fingerprints.get(address) != self.plan.fingerprints.get(address) {
                let service = if address.starts_with("ws1.") {
                    "WS1"
                } else {
                    "Okta"
                };
                changed.push(format!("{address}: changed in {service}"));
            }
        }
        // The token's state depends on time and on Okta's evidence, not only on the objects.
        let settings = session.settings(live, AdminIntent::default()).await?;
        let token =
            plan::token::status_of(session.desired(), live, settings.secret, settings.intent);
        let was = &self.plan.token;
        let newest = |t: &plan::TokenStatus| t.newest.as_ref().map(|n| n.minted_at);
        if (token.state, newest(&token), token.confirms, token.secret)
            != (was.state, newest(was), was.confirms, was.secret)
        {
            changed.push(format!(
                "the token: planned when {}; now {}",
                was.summary(),
                token.summary()
            ));
        }
        if changed.is_empty() {
            return Ok(());
        }
        bail!(
            "{} changed since the plan was made, so it is not applied (nothing was changed):\n{}\nmake the plan again and review it",
            if changed.len() == 1 {
                "1 thing".to_owned()
            } else {
                format!("{} things", changed.len())
            },
            changed
                .iter()
                .map(|c| format!("  {c}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}
