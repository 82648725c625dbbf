//! `import`: the config of an integration someone built by hand, written from what both services
//! show, so that `plan` with it says "No changes".
//!
//! It owns two things. [`bootstrap`] writes the smallest config that names the objects chosen
//! (app, OAuth client, directory) with the examples' `${env:…}` references, so the normal
//! session (config → providers → live state) can read them; the model's variant defaults come
//! from that same config, never from a second copy here. [`write`] is pure: from the live state
//! and those defaults it writes the file a person would write: every value that differs from the
//! variant's default, nothing that equals it, secrets and URLs as references, and a comment with
//! the live value for whatever the model cannot express. What must hold: import sends reads only,
//! and the file it writes plans to no change against what it read (the CLI re-plans with it to
//! prove that, and says what it could not express).

use std::collections::{BTreeMap, BTreeSet};

use std::fmt::Write as _;

use crate::config::model::{Desired, MappingRule, Push, Variant};
use crate::config::raw::RawUsernameFormat;
use crate::state::{AppLive, Live, Timestamp};

/// The variables the examples (and so an imported file) read their URLs and secrets from.
pub const ENV_VARS: [&str; 6] = [
    "OKTA_ORG_URL",
    "OKTA_API_TOKEN",
    "WS1_TENANT_URL",
    "WS1_CLIENT_ID",
    "WS1_CLIENT_SECRET",
    "WS1_SCIM_CLIENT_SECRET",
];

/// What the admin chose to import (or a placeholder while discovering).
#[derive(Clone, Debug)]
pub struct Chosen {
    pub variant: Variant,
    /// The Okta app's label.
    pub label: String,
    /// The managed block's key when the app has one already.
    pub key: Option<String>,
    /// The app's catalog name when it is not the variant's default.
    pub catalog_name: Option<String>,
    pub client_id: String,
    pub directory: String,
    /// The directory's domains once read (the `domain` mapping's default is the first).
    pub domains: Vec<String>,
}

/// The smallest config naming `chosen`: the session reads the services through it, and the
/// model gives the variant's defaults from it.
pub fn bootstrap(chosen: &Chosen) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "version: 1\nws1:\n  tenant_url: ${{env:WS1_TENANT_URL}}\n  credentials:\n    client_id: ${{env:WS1_CLIENT_ID}}\n    client_secret: ${{env:WS1_CLIENT_SECRET}}\n  scim_client:\n    client_id: {}\n    access_token_ttl: 365d\n    secret: ${{env:WS1_SCIM_CLIENT_SECRET}}\n  directory:\n    name: {}\n    domains: [{}]\nokta:\n  org_url: ${{env:OKTA_ORG_URL}}\n  api_token: ${{env:OKTA_API_TOKEN}}\n  app:\n    variant: {}\n    label: {}\n",
        scalar(&chosen.client_id),
        scalar(&chosen.directory),
        if chosen.domains.is_empty() {
            "unknown.invalid".to_owned()
        } else {
            chosen
                .domains
                .iter()
                .map(|d| scalar(d))
                .collect::<Vec<_>>()
                .join(", ")
        },
        variant_name(chosen.variant),
        scalar(&chosen.label),
    );
    if let Some(key) = &chosen.key {
        let _ = writeln!(out, "    key: {}", scalar(key));
    }
    if let Some(name) = &chosen.catalog_name {
        let _ = writeln!(out, "    catalog_name: {}", scalar(name));
    }
    out
}

/// Where the live state came from, for the header comment.
#[derive(Clone, Debug)]
pub struct Source {
    pub okta_org_url: String,
    pub ws1_tenant_url: String,
    /// The servers' time of the read.
    pub read_at: Option<Timestamp>,
    /// The app's group pushes: the pushed group's name and the push's status. Read apart from
    /// the live state, which reads pushes only for a config that pushes groups.
    pub pushes: Vec<(String, String)>,
    /// The tenant's other Other directories (name, domains): not managed, but said.
    pub other_directories: Vec<(String, Vec<String>)>,
    /// The tenant root the variant's default base URL is made from (no trailing slash).
    pub default_base_url: String,
}

/// The written file and what could not be expressed.
#[derive(Clone, Debug, Default)]
pub struct Imported {
    pub text: String,
    /// Each a sentence with the live value, also written as a comment in the file.
    pub warnings: Vec<String>,
}

/// The config text for `live` (read through [`bootstrap`]'s config, whose model is `defaults`).
pub fn write(live: &Live, defaults: &Desired, source: &Source) -> Result<Imported, String> {
    let app = live.okta.app.as_ref().ok_or("the Okta app was not found")?;
    let client = live
        .ws1
        .scim_client
        .as_ref()
        .ok_or("the WS1 OAuth client was not found")?;
    let directory = live
        .ws1
        .directory
        .as_ref()
        .ok_or("the WS1 directory was not found")?;
    let want = &defaults.okta.app;
    let mut w = Writer::default();

    w.comment(
        0,
        "Imported by scimbridge: reads only, nothing was changed.",
    );
    w.comment(
        0,
        &format!(
            "From the Okta org {} (app `{}`, id {}, catalog name {}) and the WS1 tenant {} (OAuth client `{}`, directory `{}`), read at {} (server time).",
            source.okta_org_url,
            app.label,
            app.id,
            app.name,
            source.ws1_tenant_url,
            client.client_id,
            directory.name,
            source
                .read_at
                .map_or("an unknown time".to_owned(), |t| t.to_string())
        ),
    );
    w.comment(
        0,
        &format!(
            "Values equal to the variant's defaults are left out. URLs and secrets come from the environment, as in the examples: {}.",
            ENV_VARS.join(", ")
        ),
    );
    w.line(0, "version: 1");
    w.blank();

    // ---- WS1 ----
    w.line(0, "ws1:");
    w.line(1, "tenant_url: ${env:WS1_TENANT_URL}");
    w.line(1, "credentials:");
    w.line(2, "client_id: ${env:WS1_CLIENT_ID}");
    w.line(2, "client_secret: ${env:WS1_CLIENT_SECRET}");
    w.line(1, "scim_client:");
    w.field(2, "client_id", &client.client_id);
    if client.scope != defaults.ws1.scim_client.scope {
        w.field(2, "scope", &client.scope);
    }
    match client.access_token_ttl {
        Some(minutes) => w.line(2, &format!("access_token_ttl: {}", duration(minutes))),
        None => {
            w.comment(
                2,
                "The tenant does not state this client's access-token TTL; 365d is assumed.",
            );
            w.line(2, "access_token_ttl: 365d");
        }
    }
    if client.grant_types.split_whitespace().collect::<Vec<_>>() != ["client_credentials"] {
        w.warn(
            2,
            format!(
                "the OAuth client `{}` has grant types `{}`; scimbridge manages client_credentials only and leaves the others as they are",
                client.client_id, client.grant_types
            ),
        );
    }
    w.comment(
        2,
        "The bearer token Okta holds was set up without scimbridge: no API tells when it expires.",
    );
    w.comment(
        2,
        "`scimbridge apply --reissue-token --token-out FILE` hands over one whose expiry scimbridge",
    );
    w.comment(
        2,
        "tracks (README, \"The token's life\"). The secret below must be the client's own.",
    );
    w.line(2, "secret: ${env:WS1_SCIM_CLIENT_SECRET}");
    w.line(1, "directory:");
    w.field(2, "name", &directory.name);
    if directory.kind != "OTHER_DIRECTORY" {
        w.warn(
            2,
            format!(
                "the directory `{}` is a {}, not an Other directory; scimbridge creates Other directories only, and leaves this one as it is",
                directory.name, directory.kind
            ),
        );
    }
    w.list(2, "domains", &directory.domains);
    for (name, domains) in &source.other_directories {
        w.warn(
            2,
            format!(
                "WS1 has another Other directory, `{name}` ({}); scimbridge manages one directory per config and leaves that one as it is",
                if domains.is_empty() {
                    "its domains not in the list".to_owned()
                } else {
                    domains.join(", ")
                }
            ),
        );
    }
    w.blank();

    // ---- Okta ----
    w.line(0, "okta:");
    w.line(1, "org_url: ${env:OKTA_ORG_URL}");
    w.line(1, "api_token: ${env:OKTA_API_TOKEN}");
    w.line(1, "app:");
    let default_key = crate::config::model::DEFAULT_APP_KEY;
    if let Some(block) = &app.managed
        && block.key != default_key
    {
        w.field(2, "key", &block.key);
    }
    w.line(2, &format!("variant: {}", variant_name(want.variant)));
    w.field(2, "label", &app.label);
    if app.name != want.variant.default_catalog_name() {
        w.field(2, "catalog_name", &app.name);
    }
    if (app.hide_web, app.hide_mobile) != (want.hide_web, want.hide_mobile) {
        w.line(2, "hide:");
        if app.hide_web != want.hide_web {
            w.line(3, &format!("web: {}", app.hide_web));
        }
        if app.hide_mobile != want.hide_mobile {
            w.line(3, &format!("mobile: {}", app.hide_mobile));
        }
    }
    username(&mut w, app, want);
    if let Some(note) = &app.admin_note {
        w.field(2, "admin_note", note);
    }
    provisioning(&mut w, app, defaults, source);
    attributes(&mut w, app, defaults);
    mappings(&mut w, app, defaults);
    assignments(&mut w, app);
    group_push(&mut w, app, source);
    Ok(Imported {
        text: w.out,
        warnings: w.warnings,
    })
}

fn username(w: &mut Writer, app: &AppLive, want: &crate::config::model::App) {
    let live = crate::config::model::UsernameTemplate {
        kind: if app.username_kind == "BUILT_IN" {
            "BUILT_IN"
        } else {
            "CUSTOM"
        },
        template: app.username_template.clone(),
    };
    if live == want.username {
        return;
    }
    match live.built_in_format().filter(|_| live.kind == "BUILT_IN") {
        Some(format) => w.line(2, &format!("username_format: {}", format_name(format))),
        None => {
            w.line(2, "username_format: custom");
            w.field(2, "username_expression", &app.username_template);
        }
    }
}

fn provisioning(w: &mut Writer, app: &AppLive, defaults: &Desired, source: &Source) {
    let want = &defaults.okta.app;
    let default_url = format!(
        "{}{}",
        source.default_base_url,
        match &want.provisioning.base_url {
            crate::config::model::BaseUrl::FromTenant(suffix) => suffix,
            crate::config::model::BaseUrl::Given(_) => "",
        }
    );
    let live_url = match want.variant {
        Variant::OinWorkspaceOne => app.settings_base_url.clone(),
        Variant::Scim11Custom => app.connection.as_ref().and_then(|c| c.base_url.clone()),
    };
    let mut lines: Vec<(usize, String)> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    match live_url {
        Some(url) if url == default_url => {}
        Some(url) if url.ends_with('/') => notes.push(format!(
            "the live base URL `{url}` ends with a slash, which breaks provisioning (…//Users); the default `{default_url}` is kept, so the first apply fixes it"
        )),
        Some(url) => lines.push((3, format!("base_url: {}", scalar(&url)))),
        None if app.capabilities.connection_api || want.variant == Variant::OinWorkspaceOne => {}
        None => notes.push(format!(
            "Okta's API does not show this app's base URL (its connection API refuses the app): the default `{default_url}` is assumed; check it in the Admin Console"
        )),
    }
    // The app's read-only features[] show the toggles even where the features API refuses the
    // app; empty, they show provisioning off (or nothing to tell).
    if app.capabilities.features_api || !app.features.is_empty() {
        let on = |f: &str| app.features.iter().any(|x| x == f);
        for (name, feature, default) in [
            (
                "create_users",
                "PUSH_NEW_USERS",
                want.provisioning.create_users,
            ),
            (
                "update_users",
                "PUSH_PROFILE_UPDATES",
                want.provisioning.update_users,
            ),
            (
                "deactivate_users",
                "PUSH_USER_DEACTIVATION",
                want.provisioning.deactivate_users,
            ),
        ] {
            if on(feature) != default {
                lines.push((3, format!("{name}: {}", on(feature))));
            }
        }
    } else {
        notes.push(
            "Okta shows no provisioning features for this app (provisioning off?): the To-App toggles are left at the variant's defaults".to_owned(),
        );
    }
    for note in notes {
        w.warn(2, note);
    }
    if !lines.is_empty() {
        w.line(2, "provisioning:");
        for (depth, line) in lines {
            w.line(depth, &line);
        }
    }
}

fn attributes(w: &mut Writer, app: &AppLive, defaults: &Desired) {
    let want: BTreeMap<&str, &crate::config::model::Attribute> = defaults
        .okta
        .app
        .attributes
        .iter()
        .map(|a| (a.name.as_str(), a))
        .collect();
    let mut entries = Vec::new();
    for (name, live) in &app.attributes {
        let same = want.get(name.as_str()).is_some_and(|d| {
            d.title == live.title
                && d.kind.as_okta() == live.kind
                && live.external_name.as_deref() == Some(d.external_name.as_str())
                && live.external_namespace.as_deref() == Some(d.external_namespace.as_str())
                && d.required == live.required
                && d.scope == live.scope
        });
        if same {
            continue;
        }
        let mut entry = vec![format!("- name: {}", scalar(name))];
        entry.push(format!("  title: {}", scalar(&live.title)));
        entry.push(format!("  type: {}", scalar(&live.kind)));
        if let Some(external) = &live.external_name {
            entry.push(format!("  external_name: {}", scalar(external)));
        }
        if let Some(namespace) = &live.external_namespace {
            entry.push(format!("  external_namespace: {}", scalar(namespace)));
        }
        entry.push(format!("  required: {}", live.required));
        entry.push(format!(
            "  scope: {}",
            if live.scope == "SELF" { "self" } else { "none" }
        ));
        entries.push(entry);
    }
    if entries.is_empty() {
        return;
    }
    w.line(2, "attributes:");
    for entry in entries {
        for line in entry {
            w.line(3, &line);
        }
    }
}

fn mappings(w: &mut Writer, app: &AppLive, defaults: &Desired) {
    let want = &defaults.okta.app;
    let live = &app.mapping.properties;
    let mut lines: Vec<String> = Vec::new();
    let mut named: BTreeSet<&str> = BTreeSet::new();
    for mapping in &want.mappings {
        let target = mapping.target.as_str();
        named.insert(target);
        let here = live.get(target);
        let same = match (&mapping.rule, here) {
            (MappingRule::Remove, None) => true,
            (MappingRule::Set { expression, push }, Some(p)) => {
                *expression == p.expression && push.as_okta() == p.push_status
            }
            _ => false,
        };
        if same {
            continue;
        }
        lines.push(format!("{}:", scalar(target)));
        match here {
            None => lines.push("  remove: true".to_owned()),
            Some(p) => push_rule(&mut lines, &p.expression, &p.push_status),
        }
    }
    // The app's own profile attributes are mapped by Okta's template and by hand alike; nothing
    // tells them apart, so they are shown and left alone. Custom attributes are always someone's.
    let base: BTreeSet<&str> = app
        .base_attributes
        .iter()
        .map(String::as_str)
        .chain(want.variant.base_attributes().iter().copied())
        .collect();
    let mut left = Vec::new();
    for (target, p) in live {
        if named.contains(target.as_str()) {
            continue;
        }
        if base.contains(target.as_str()) {
            left.push(format!("{target} ← {} ({})", p.expression, p.push_status));
        } else {
            lines.push(format!("{}:", scalar(target)));
            push_rule(&mut lines, &p.expression, &p.push_status);
        }
    }
    if !left.is_empty() {
        w.comment(
            2,
            "Mappings of the app's own profile that the variant does not set (Okta's template or",
        );
        w.comment(
            2,
            "hand edits, which no API tells apart): scimbridge leaves them as they are. Move one",
        );
        w.comment(2, "into `mappings:` to manage it.");
        for entry in left {
            w.comment(2, &format!("  {entry}"));
        }
    }
    if lines.is_empty() {
        return;
    }
    w.line(2, "mappings:");
    for line in lines {
        w.line(3, &line);
    }
}

fn push_rule(lines: &mut Vec<String>, expression: &str, push_status: &str) {
    lines.push(format!("  expression: {}", scalar(expression)));
    if push_status != Push::Always.as_okta() {
        lines.push("  push: create_only".to_owned());
    }
}

fn assignments(w: &mut Writer, app: &AppLive) {
    let users: BTreeSet<&str> = app
        .users
        .iter()
        .filter(|u| u.scope == "USER")
        .map(|u| u.login.as_str())
        .collect();
    let groups: BTreeSet<&str> = app.groups.iter().map(|g| g.name.as_str()).collect();
    if users.is_empty() && groups.is_empty() {
        return;
    }
    w.line(2, "assignments:");
    w.comment(
        3,
        "`exact` keeps exactly these members (removals need --allow-destroy); `additive` would",
    );
    w.comment(3, "only add, and leave what is assigned by hand.");
    for (name, members) in [("users", users), ("groups", groups)] {
        if members.is_empty() {
            continue;
        }
        w.line(3, &format!("{name}:"));
        w.line(4, "mode: exact");
        let members: Vec<String> = members.into_iter().map(str::to_owned).collect();
        w.list(4, "members", &members);
    }
}

fn group_push(w: &mut Writer, app: &AppLive, source: &Source) {
    let mut names = Vec::new();
    for (name, status) in &source.pushes {
        if app.groups.iter().any(|g| &g.name == name) {
            w.warn(
                2,
                format!(
                    "the group `{name}` is both assigned and pushed; scimbridge refuses that in a config (Okta's guidance: memberships and deprovisioning fight each other), so it is not under `group_push`; the push stays as it is"
                ),
            );
        } else if status == "ACTIVE" {
            names.push(name.clone());
        } else {
            w.warn(
                2,
                format!(
                    "the group push of `{name}` is {status}; scimbridge keeps pushes active and leaves this one as it is"
                ),
            );
        }
    }
    if !names.is_empty() {
        names.sort();
        w.list(2, "group_push", &names);
    }
}

/// The text being written, two spaces an indentation level.
#[derive(Default)]
struct Writer {
    out: String,
    warnings: Vec<String>,
}

impl Writer {
    fn line(&mut self, depth: usize, text: &str) {
        let _ = writeln!(self.out, "{}{text}", "  ".repeat(depth));
    }

    fn blank(&mut self) {
        self.out.push('\n');
    }

    /// A comment, wrapped at words to keep lines under about 100 characters.
    fn comment(&mut self, depth: usize, text: &str) {
        let width = 98usize.saturating_sub(2 * depth + 2).max(40);
        let body = text.trim_start();
        let indent = &text[..text.len() - body.len()];
        let mut line = indent.to_owned();
        for word in body.split(' ') {
            if line.len() > indent.len() && line.len() + 1 + word.len() > width {
                self.line(depth, &format!("# {line}"));
                line = indent.to_owned();
            }
            if line.len() > indent.len() {
                line.push(' ');
            }
            line.push_str(word);
        }
        self.line(depth, &format!("# {line}"));
    }

    fn field(&mut self, depth: usize, name: &str, value: &str) {
        self.line(depth, &format!("{name}: {}", scalar(value)));
    }

    fn list(&mut self, depth: usize, name: &str, items: &[String]) {
        let items: Vec<String> = items.iter().map(|i| scalar(i)).collect();
        let inline = format!("{name}: [{}]", items.join(", "));
        if inline.len() + 2 * depth <= 100 {
            self.line(depth, &inline);
        } else {
            self.line(depth, &format!("{name}:"));
            for item in items {
                self.line(depth + 1, &format!("- {item}"));
            }
        }
    }

    /// Something the config cannot express: a comment in the file and a warning on stderr.
    fn warn(&mut self, depth: usize, text: String) {
        self.comment(depth, &format!("NOTE: {text}"));
        self.warnings.push(text);
    }
}

/// A YAML scalar for `text`: plain where that reads back as the same string, else a JSON string
/// (which YAML reads as a double-quoted scalar).
fn scalar(text: &str) -> String {
    let plain_chars = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " @._/-".contains(c));
    let special = matches!(
        text.to_ascii_lowercase().as_str(),
        "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~" | ""
    ) || text.parse::<f64>().is_ok();
    let edges = text.starts_with([' ', '-']) || text.ends_with(' ');
    if plain_chars && !special && !edges {
        text.to_owned()
    } else {
        serde_json::to_string(text).expect("a string serializes")
    }
}

/// Minutes as the largest whole unit: `365d`, `12w`, `8h`, `90m`.
fn duration(minutes: u64) -> String {
    for (unit, size) in [("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)] {
        // Whole years read better as days (`730d`) than as weeks.
        let years = unit == "w" && minutes.is_multiple_of(24 * 60 * 365);
        if minutes > 0 && minutes.is_multiple_of(size) && !years {
            return format!("{}{unit}", minutes / size);
        }
    }
    format!("{minutes}m")
}

fn variant_name(variant: Variant) -> &'static str {
    match variant {
        Variant::OinWorkspaceOne => "oin_workspace_one",
        Variant::Scim11Custom => "scim11_custom",
    }
}

/// The variant a catalog name is, if it is one of the defaults.
pub fn variant_of(catalog_name: &str) -> Option<Variant> {
    [Variant::Scim11Custom, Variant::OinWorkspaceOne]
        .into_iter()
        .find(|v| v.default_catalog_name() == catalog_name)
}

fn format_name(format: RawUsernameFormat) -> &'static str {
    match format {
        RawUsernameFormat::OktaUsername => "okta_username",
        RawUsernameFormat::OktaUsernamePrefix => "okta_username_prefix",
        RawUsernameFormat::Email => "email",
        RawUsernameFormat::EmailLowercase => "email_lowercase",
        RawUsernameFormat::EmailPrefix => "email_prefix",
        RawUsernameFormat::Custom => "custom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_plain_only_where_they_read_back_the_same() {
        assert_eq!(scalar("Workspace ONE"), "Workspace ONE");
        assert_eq!(scalar("alice@example.com"), "alice@example.com");
        assert_eq!(scalar("user.login"), "user.login");
        assert_eq!(scalar("\"PROVISIONED\""), r#""\"PROVISIONED\"""#);
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("365"), "\"365\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("# not a comment"), "\"# not a comment\"");
        assert_eq!(scalar("-x"), "\"-x\"");
        assert_eq!(scalar(""), "\"\"");
    }

    #[test]
    fn durations_use_the_largest_whole_unit() {
        assert_eq!(duration(525_600), "365d");
        assert_eq!(duration(7 * 24 * 60 * 12), "12w");
        assert_eq!(duration(180), "3h");
        assert_eq!(duration(90), "90m");
    }
}
