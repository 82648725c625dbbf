//! Lints: checks on the whole desired state, run after parsing, each with a one-line why.
//!
//! They work on the checked model and locate what they report through the parsed document's
//! spans. A lint never changes the model. Whether an unresolvable `${env:…}` is a warning
//! (`validate`, where pull-request checks have no secrets) or an error (`plan`, `apply`) is the
//! caller's [`Strictness`].

use std::collections::HashMap;
use std::path::Path as FsPath;

use super::diagnostic::{Diagnostic, Location, Path, did_you_mean};
use super::duration::Minutes;
use super::model::*;
use super::reference::{Param, Reference, ResolveError};
use super::yaml::Document;

/// How unresolvable references are treated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    /// `validate`: warn, keep going.
    Validate,
    /// `plan`/`apply`: the values are needed now.
    Resolve,
}

/// The hours WS1 Access gives a new client's tokens when nobody sets a TTL.
const WS1_DEFAULT_TTL: Minutes = Minutes(3 * 60);

/// Runs every lint.
pub fn lint(
    desired: &Desired,
    doc: &Document,
    base: &FsPath,
    strictness: Strictness,
) -> Vec<Diagnostic> {
    let mut cx = Lints {
        doc,
        base,
        strictness,
        out: Vec::new(),
    };
    cx.references(desired);
    cx.urls(desired);
    cx.token_lifetime(&desired.ws1.scim_client);
    cx.attributes(&desired.okta.app);
    cx.mappings(&desired.okta.app);
    cx.assignments(&desired.okta.app);
    cx.duplicates(desired);
    cx.provisioning(&desired.okta.app);
    cx.admin_note(&desired.okta.app);
    cx.out
}

struct Lints<'a> {
    doc: &'a Document,
    base: &'a FsPath,
    strictness: Strictness,
    out: Vec<Diagnostic>,
}

impl Lints<'_> {
    fn at(&self, path: &Path) -> Location {
        self.doc.locate(path)
    }

    fn error(
        &mut self,
        code: &'static str,
        path: Path,
        message: String,
        why: &str,
    ) -> &mut Diagnostic {
        let location = self.at(&path);
        self.push(Diagnostic::error(code, path, location, message).why(why))
    }

    fn warning(
        &mut self,
        code: &'static str,
        path: Path,
        message: String,
        why: &str,
    ) -> &mut Diagnostic {
        let location = self.at(&path);
        self.push(Diagnostic::warning(code, path, location, message).why(why))
    }

    fn push(&mut self, diagnostic: Diagnostic) -> &mut Diagnostic {
        self.out.push(diagnostic);
        self.out.last_mut().expect("just pushed")
    }

    /// Every reference in the file, resolved once to see that it can be. What may only be
    /// missing on this machine (an unset variable, an absent file) is a warning for `validate`;
    /// a file the bounded reader refuses and an empty secret are errors everywhere.
    fn references(&mut self, desired: &Desired) {
        let secrets = [
            (
                "ws1.credentials.client_secret",
                &desired.ws1.admin_client_secret,
            ),
            ("ws1.scim_client.secret", &desired.ws1.scim_client.secret),
            ("okta.api_token", &desired.okta.api_token),
        ];
        let mut failures: Vec<(&str, ResolveError)> = secrets
            .into_iter()
            .filter_map(|(path, secret)| Some((path, secret.resolve(self.base).err()?)))
            .collect();
        let mut params = vec![
            ("ws1.tenant_url", &desired.ws1.tenant_url),
            ("ws1.credentials.client_id", &desired.ws1.admin_client_id),
            ("okta.org_url", &desired.okta.org_url),
        ];
        if let BaseUrl::Given(param) = &desired.okta.app.provisioning.base_url {
            params.push(("okta.app.provisioning.base_url", param));
        }
        failures.extend(
            params
                .into_iter()
                .filter_map(|(path, param)| Some((path, param.resolve(self.base).err()?))),
        );
        const NEEDED: &str = "plan and apply need this value; validate only warns because pull-request checks have no secrets";
        for (path, err) in failures {
            let path = Path::parse(path);
            let code = err.code();
            if err.may_be_absent_here() && self.strictness == Strictness::Validate {
                self.warning(code, path, err.to_string(), NEEDED);
            } else if err.may_be_absent_here() {
                self.error(
                    code,
                    path,
                    err.to_string(),
                    "the value is needed to reach the service",
                );
            } else {
                self.error(
                    code,
                    path,
                    err.to_string(),
                    "this is wrong wherever the config runs: no plan or apply could use the value",
                );
            }
        }
    }

    /// A URL's value when it is known here (literal, or a reference that resolves).
    fn known(&self, param: &Param) -> Option<String> {
        param.resolve(self.base).ok()
    }

    fn urls(&mut self, desired: &Desired) {
        let tenant = self.known(&desired.ws1.tenant_url);
        if let Some(url) = &tenant {
            self.url("ws1.tenant_url", url, true, &desired.ws1.tenant_url);
        }
        if let Some(url) = self.known(&desired.okta.org_url) {
            self.url("okta.org_url", &url, true, &desired.okta.org_url);
        }
        let app = &desired.okta.app;
        if let BaseUrl::Given(param) = &app.provisioning.base_url
            && let Some(url) = self.known(param)
        {
            let path = "okta.app.provisioning.base_url";
            self.url(path, &url, false, param);
            let trimmed = url.trim_end_matches('/');
            match app.variant {
                Variant::Scim11Custom if !trimmed.ends_with(SCIM_PATH) => {
                    self.warning("base-url", Path::parse(path), format!("the SCIM 1.1 app's base URL should end with `{SCIM_PATH}`"), "Okta appends `/Users` and `/Groups` to it; any other path reaches no SCIM endpoint");
                }
                Variant::OinWorkspaceOne
                    if url::Url::parse(trimmed).is_ok_and(|u| u.path() != "/") =>
                {
                    self.warning(
                        "base-url",
                        Path::parse(path),
                        "the Workspace ONE OIN app's base URL is the tenant root".into(),
                        "the OIN app adds the SCIM path itself; a path here is doubled",
                    );
                }
                _ => {}
            }
            if let Some(tenant) = &tenant
                && url::Url::parse(trimmed)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    != url::Url::parse(tenant)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned))
            {
                self.warning("base-url", Path::parse(path), "the base URL's host differs from `ws1.tenant_url`".into(), "Okta would provision into a different tenant than the one scimbridge configures");
            }
        }
    }

    /// Checks one URL; a fix is said where the value comes from (the file, a variable, a file
    /// it references).
    fn url(&mut self, path: &str, url: &str, root_only: bool, source: &Param) {
        let path = Path::parse(path);
        // Every message shows the URL with its user info hidden.
        let raw = url;
        let url = &*crate::secret::redact_userinfo(raw);
        let parsed = match url::Url::parse(raw) {
            Ok(parsed) => parsed,
            Err(err) => {
                self.error(
                    "url",
                    path,
                    format!("`{url}` is not a URL: {err}"),
                    "the service cannot be reached without a valid URL",
                );
                return;
            }
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            self.error("url-credentials", path.clone(), format!("`{url}` carries credentials"), "credentials never go in a URL: URLs are printed, logged and kept in shell history")
                .help = Some("remove the user info; scimbridge sends each service's credentials from their own fields".into());
        }
        if url.ends_with('/') {
            let fixed = url.trim_end_matches('/');
            let help = match source {
                Param::Literal(_) => format!("write `{fixed}`"),
                Param::Ref(Reference::Env(name)) => {
                    format!(
                        "the value comes from the environment variable {name}: set it to `{fixed}`"
                    )
                }
                Param::Ref(Reference::File(file)) => format!(
                    "the value comes from the file {}: write `{fixed}` there",
                    file.display()
                ),
            };
            self.error("trailing-slash", path.clone(), format!("`{url}` ends with a slash"), "paths are appended to it, and the doubled slash (`…//Users`) breaks provisioning silently")
                .help = Some(help);
        }
        let loopback = match parsed.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        if parsed.scheme() != "https" && !loopback {
            self.error("insecure-url", path.clone(), format!("`{url}` is not HTTPS"), "tokens and secrets would cross the network in clear text; plain HTTP is only allowed on loopback (the sandbox)");
        }
        if root_only && !parsed.path().trim_end_matches('/').is_empty() {
            self.warning(
                "url-path",
                path,
                format!("`{url}` has a path"),
                "this is the service's root URL; scimbridge adds the API paths itself",
            );
        }
    }

    fn token_lifetime(&mut self, client: &ScimClient) {
        let ttl = Path::parse("ws1.scim_client.access_token_ttl");
        if client.access_token_ttl <= WS1_DEFAULT_TTL {
            self.error("token-ttl", ttl, format!("access-token TTL {} is no longer than WS1's 3-hour default", client.access_token_ttl), "Okta stores one bearer token and never refreshes it; provisioning would stop within hours")
                .help = Some("use a long lifetime such as `365d` and let scimbridge rotate it".into());
        } else if client.access_token_ttl <= client.rotation_window {
            let relation = if client.access_token_ttl == client.rotation_window {
                "the same as"
            } else {
                "shorter than"
            };
            self.error("token-ttl", ttl, format!("access-token TTL {} is {relation} the rotation window {}", client.access_token_ttl, client.rotation_window), "every new token would already be inside the rotation window, so every apply would mint another");
        }
    }

    fn attributes(&mut self, app: &App) {
        for attr in &app.attributes {
            let path = attr.path().join_key("external_namespace");
            let ns = attr.external_namespace.as_str();
            if ns == WORKSPACE_NAMESPACE || is_tenant_namespace(ns) {
                continue;
            }
            if !ns.starts_with("urn:") {
                self.error(
                    "namespace",
                    path,
                    format!("external namespace `{ns}` is not a URN"),
                    "SCIM schema names are URNs; WS1 ignores attributes in an unknown schema",
                )
                .help = Some(format!(
                    "the Workspace ONE extension is `{WORKSPACE_NAMESPACE}`"
                ));
            } else if strsim::levenshtein(ns, WORKSPACE_NAMESPACE) <= 4 || ns.contains("workspace")
            {
                self.error(
                    "namespace",
                    path,
                    format!(
                        "external namespace `{ns}` is a near miss of the Workspace ONE extension"
                    ),
                    "WS1 would not recognise the attribute, and users would land without it",
                )
                .help = Some(format!("did you mean `{WORKSPACE_NAMESPACE}`?"));
            }
        }
    }

    fn mappings(&mut self, app: &App) {
        let defined: Vec<&str> = app
            .attributes
            .iter()
            .map(|a| a.name.as_str())
            .chain(app.variant.base_attributes().iter().copied())
            .collect();
        for mapping in &app.mappings {
            let target = mapping.target.as_str();
            if defined.contains(&target) {
                continue;
            }
            let path = Path::parse("okta.app.mappings").join_key(target);
            let suggestion = did_you_mean(target, defined.iter().copied())
                .map(|s| format!("did you mean `{s}`?"));
            let location = mapping.at.clone();
            let diag = self.error("unknown-attribute", path, format!("mapping to `{target}`, which is neither a custom attribute nor a base attribute of the app"), "Okta refuses mappings to attributes the app profile does not have");
            diag.location = location;
            diag.help = suggestion.or_else(|| Some("define it under `okta.app.attributes`".into()));
        }
        for attr in &app.attributes {
            let mapped = app
                .mappings
                .iter()
                .any(|m| m.target == attr.name && matches!(m.rule, MappingRule::Set { .. }));
            if attr.required && !mapped {
                self.error(
                    "required-unmapped",
                    attr.path().join_key("required"),
                    format!("`{}` is required but has no mapping", attr.name),
                    "Okta cannot fill it, so every assignment would fail",
                );
            }
        }
    }

    fn assignments(&mut self, app: &App) {
        for (i, pushed) in app.group_push.iter().enumerate() {
            if app.groups.members.iter().any(|g| g.value == pushed.value) {
                self.error("assigned-and-pushed", Path::parse("okta.app.group_push").join_index(i), format!("group `{}` is both assigned and pushed", pushed.value), "Okta's guidance: pushing an assigned group makes memberships and deprovisioning fight each other")
                    .help = Some("push a separate group, or remove it from `assignments.groups`".into());
            }
        }
    }

    fn duplicates(&mut self, desired: &Desired) {
        let app = &desired.okta.app;
        let sets: Vec<(Path, Vec<&str>)> = vec![
            (
                Path::parse("ws1.directory.domains"),
                desired
                    .ws1
                    .directory
                    .domains
                    .iter()
                    .map(|d| d.as_str())
                    .collect(),
            ),
            (
                Path::parse("okta.app.assignments.users.members"),
                app.users.members.iter().map(|m| m.value.as_str()).collect(),
            ),
            (
                Path::parse("okta.app.assignments.groups.members"),
                app.groups
                    .members
                    .iter()
                    .map(|m| m.value.as_str())
                    .collect(),
            ),
            (
                Path::parse("okta.app.group_push"),
                app.group_push.iter().map(|m| m.value.as_str()).collect(),
            ),
        ];
        for (base, names) in sets {
            // Okta logins, group names and domains compare case-insensitively.
            let mut seen: HashMap<String, usize> = HashMap::with_capacity(names.len());
            for (i, name) in names.iter().enumerate() {
                if let Some(first) = seen.insert(name.to_lowercase(), i) {
                    self.error("duplicate", base.join_index(i), format!("`{name}` is listed twice (first at index {first})"), "a name must appear once; the second entry would be a no-op at best and a conflict at worst");
                    seen.insert(name.to_lowercase(), first);
                }
            }
        }
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, attr) in app.attributes.iter().enumerate() {
            if let Some(first) = seen.insert(attr.name.as_str(), i) {
                self.error(
                    "duplicate",
                    app.attributes[i].path().join_key("name"),
                    format!("attribute `{}` is defined twice", attr.name),
                    "one name, one attribute in the app profile",
                )
                .help = Some(format!(
                    "the first definition is at {}",
                    app.attributes[first].at
                ));
            }
        }
    }

    fn provisioning(&mut self, app: &App) {
        if app.variant == Variant::Scim11Custom && app.provisioning.update_users {
            self.warning("update-users", Path::parse("okta.app.provisioning.update_users"), "Update Users is on for the SCIM 1.1 test app".into(), "the SCIM 1.1 test app updates users with PUT, which Workspace ONE Access does not document; the setup guide leaves it off");
        }
    }

    /// The admin's part of the note cannot hold scimbridge's own block: it would be read back
    /// as the managed block and never match again (the marker is `state::note`'s).
    fn admin_note(&mut self, app: &App) {
        if app
            .admin_note
            .as_deref()
            .is_some_and(|n| n.contains("[scimbridge: managed block"))
        {
            self.error("admin-note", Path::parse("okta.app.admin_note"), "the admin note contains scimbridge's managed-block marker".into(), "scimbridge keeps its managed block below your note and reads the marker back as its own, so this note would never converge");
        }
    }
}

/// `urn:scim:schemas:extension:workspace:tenant:<TENANT>:1.0`, the tenant-specific extension for
/// custom WS1 attributes (reference/ws1-api.md §8).
fn is_tenant_namespace(ns: &str) -> bool {
    ns.strip_prefix("urn:scim:schemas:extension:workspace:tenant:")
        .and_then(|rest| rest.strip_suffix(":1.0"))
        .is_some_and(|tenant| !tenant.is_empty() && !tenant.contains(':'))
}
