//! The checked desired state: what the planner reads.
//!
//! Built from [`RawConfig`](super::raw::RawConfig) by [`check`]: variant defaults filled in,
//! durations in minutes, references parsed, cross references (the `domain` mapping, the derived
//! SCIM base URL) computed from the values they point to instead of copied. Names are newtypes
//! so a group name cannot be passed where a user login is expected. Every object remembers the
//! config location that asks for it, so a plan can say which line causes each action.

use super::diagnostic::{Diagnostic, Location, Path};
use super::duration::Minutes;
use super::raw::*;
use super::reference::{Param, Reference, SecretRef};
use super::yaml::Document;

/// The SCIM extension schema of Workspace ONE Access attributes.
pub const WORKSPACE_NAMESPACE: &str = "urn:scim:schemas:extension:workspace:1.0";

/// The fields that take `${env:…}`/`${file:…}` references: URLs, credentials and secrets, so one
/// file runs against the sandbox or any tenant and no secret sits in Git.
pub const REFERENCE_FIELDS: [&str; 7] = [
    "ws1.tenant_url",
    "ws1.credentials.client_id",
    "ws1.credentials.client_secret",
    "ws1.scim_client.secret",
    "okta.org_url",
    "okta.api_token",
    "okta.app.provisioning.base_url",
];

/// The only fields whose text may hold line breaks and tabs (`*` stands for one key).
pub const MULTI_LINE_FIELDS: [&str; 3] = [
    "okta.app.admin_note",
    "okta.app.username_expression",
    "okta.app.mappings.*.expression",
];

/// The workspace extension's attributes a provisioned user needs (ws1-api.md §6.3).
pub const WORKSPACE_ATTRIBUTES: [&str; 3] = ["domain", "internalUserType", "userPrincipalName"];
/// The SCIM 1.1 API's path under the tenant root.
pub const SCIM_PATH: &str = "/SAAS/jersey/manager/api/scim";
/// The rotation window when the config names none.
pub const DEFAULT_ROTATION_WINDOW: Minutes = Minutes(30 * 24 * 60);
/// The `exact` removal cap when the config names none.
pub const DEFAULT_REMOVAL_CAP: u32 = 0;
/// The managed block's key when the config gives none.
pub const DEFAULT_APP_KEY: &str = "workspace-one";

crate::ids::string_type! {
    /// A WS1 OAuth client id.
    ClientId;
    /// A WS1 directory name.
    DirectoryName;
    /// A directory domain.
    Domain;
    /// The stable key of the managed Okta app.
    AppKey;
    /// An app profile attribute's variable name.
    AttributeName;
    /// An Okta user's login.
    UserLogin;
    /// An Okta group's name.
    GroupName;
}

/// The whole desired state.
#[derive(Clone, Debug)]
pub struct Desired {
    pub ws1: Ws1,
    pub okta: Okta,
}

/// Workspace ONE Access.
#[derive(Clone, Debug)]
pub struct Ws1 {
    pub tenant_url: Param,
    pub admin_client_id: Param,
    pub admin_client_secret: SecretRef,
    pub scim_client: ScimClient,
    pub directory: Directory,
}

/// The SCIM OAuth client.
#[derive(Clone, Debug)]
pub struct ScimClient {
    pub client_id: ClientId,
    pub scope: String,
    pub access_token_ttl: Minutes,
    pub rotation_window: Minutes,
    pub secret: SecretRef,
    pub at: Location,
}

/// The Other directory.
#[derive(Clone, Debug)]
pub struct Directory {
    pub name: DirectoryName,
    pub domains: Vec<Domain>,
    pub at: Location,
}

/// Okta.
#[derive(Clone, Debug)]
pub struct Okta {
    pub org_url: Param,
    pub api_token: SecretRef,
    pub app: App,
}

/// Which app template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    OinWorkspaceOne,
    Scim11Custom,
}

impl Variant {
    /// Okta's internal catalog name. Both are UNVERIFIED (reference/okta-api.md §5): the SCIM
    /// 1.1 test app's `scim1testapp` is the only candidate seen in public; no public source names
    /// the Workspace ONE OIN app, so `vmwareworkspaceone` is our best guess. Configs can override.
    pub fn default_catalog_name(self) -> &'static str {
        match self {
            Variant::OinWorkspaceOne => "vmwareworkspaceone",
            Variant::Scim11Custom => "scim1testapp",
        }
    }

    /// The app's base profile attributes (those Okta defines; mappings may target them).
    /// The SCIM 1.1 list follows Okta's SCIM template; the OIN app's profile also carries the
    /// workspace attributes (PRODUCT.md).
    pub fn base_attributes(self) -> &'static [&'static str] {
        const SCIM: &[&str] = &[
            "userName",
            "givenName",
            "familyName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix",
            "email",
            "secondEmail",
            "title",
            "displayName",
            "nickName",
            "profileUrl",
            "primaryPhone",
            "mobilePhone",
            "streetAddress",
            "locality",
            "region",
            "postalCode",
            "countryCode",
            "preferredLanguage",
            "locale",
            "timezone",
            "userType",
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager",
        ];
        const OIN: &[&str] = &[
            "userName",
            "givenName",
            "familyName",
            "email",
            "displayName",
            "locale",
            "internalUserType",
            "userPrincipalName",
            "domain",
        ];
        match self {
            Variant::OinWorkspaceOne => OIN,
            Variant::Scim11Custom => SCIM,
        }
    }

    /// What the setup guides configure for this variant and the config may override.
    fn defaults(self) -> VariantDefaults {
        match self {
            Variant::OinWorkspaceOne => VariantDefaults {
                base_url_suffix: "",
                update_users: true,
                attributes: &[],
                mappings: &[("domain", DefaultMapping::DirectoryDomain)],
            },
            Variant::Scim11Custom => VariantDefaults {
                base_url_suffix: SCIM_PATH,
                update_users: false,
                attributes: &["internalUserType", "userPrincipalName", "domain"],
                mappings: &[
                    ("displayName", DefaultMapping::Remove),
                    ("domain", DefaultMapping::DirectoryDomain),
                    (
                        "internalUserType",
                        DefaultMapping::Expression("\"PROVISIONED\""),
                    ),
                    ("locale", DefaultMapping::Remove),
                    (
                        "userPrincipalName",
                        DefaultMapping::Expression("user.login"),
                    ),
                ],
            },
        }
    }
}

struct VariantDefaults {
    base_url_suffix: &'static str,
    update_users: bool,
    attributes: &'static [&'static str],
    mappings: &'static [(&'static str, DefaultMapping)],
}

enum DefaultMapping {
    Expression(&'static str),
    DirectoryDomain,
    Remove,
}

/// The Okta app.
#[derive(Clone, Debug)]
pub struct App {
    pub key: AppKey,
    pub variant: Variant,
    pub label: String,
    pub catalog_name: String,
    pub hide_web: bool,
    pub hide_mobile: bool,
    pub username: UsernameTemplate,
    pub admin_note: Option<String>,
    pub provisioning: Provisioning,
    pub attributes: Vec<Attribute>,
    pub mappings: Vec<Mapping>,
    pub users: Collection<UserLogin>,
    pub groups: Collection<GroupName>,
    pub group_push: Vec<Located<GroupName>>,
    pub at: Location,
}

/// The app username template as Okta stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsernameTemplate {
    /// `BUILT_IN` or `CUSTOM`.
    pub kind: &'static str,
    pub template: String,
}

impl UsernameTemplate {
    /// The built-in format whose template this is, if any (`import` writes the name back).
    pub fn built_in_format(&self) -> Option<RawUsernameFormat> {
        use RawUsernameFormat::*;
        [
            EmailPrefix,
            Email,
            EmailLowercase,
            OktaUsername,
            OktaUsernamePrefix,
        ]
        .into_iter()
        .find(|f| Self::from_raw(*f, None).as_ref() == Some(self))
    }

    fn from_raw(format: RawUsernameFormat, expression: Option<&str>) -> Option<Self> {
        let built_in = |t: &str| {
            Some(UsernameTemplate {
                kind: "BUILT_IN",
                template: t.to_owned(),
            })
        };
        match format {
            RawUsernameFormat::OktaUsername => built_in("${source.login}"),
            RawUsernameFormat::OktaUsernamePrefix => {
                built_in("${fn:substringBefore(source.login, \"@\")}")
            }
            RawUsernameFormat::Email => built_in("${source.email}"),
            RawUsernameFormat::EmailLowercase => built_in("${fn:toLowerCase(source.email)}"),
            RawUsernameFormat::EmailPrefix => {
                built_in("${fn:substringBefore(source.email, \"@\")}")
            }
            RawUsernameFormat::Custom => expression.map(|e| UsernameTemplate {
                kind: "CUSTOM",
                template: e.to_owned(),
            }),
        }
    }
}

/// The SCIM base URL: given, or derived from the tenant URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseUrl {
    Given(Param),
    /// The tenant URL followed by this path (empty for the tenant root).
    FromTenant(&'static str),
}

/// The provisioning connection and To-App toggles.
#[derive(Clone, Debug)]
pub struct Provisioning {
    pub base_url: BaseUrl,
    pub create_users: bool,
    pub update_users: bool,
    pub deactivate_users: bool,
    pub at: Location,
}

/// Attribute data type, as Okta names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttributeType {
    String,
    Boolean,
    Integer,
    Number,
    Array,
}

impl AttributeType {
    pub fn as_okta(self) -> &'static str {
        match self {
            AttributeType::String => "string",
            AttributeType::Boolean => "boolean",
            AttributeType::Integer => "integer",
            AttributeType::Number => "number",
            AttributeType::Array => "array",
        }
    }
}

/// A custom app profile attribute.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: AttributeName,
    pub title: String,
    pub kind: AttributeType,
    pub external_name: String,
    pub external_namespace: String,
    pub required: bool,
    /// Okta's `scope`: `SELF` or `NONE`.
    pub scope: &'static str,
    /// Its entry under `okta.app.attributes`; `None` for a variant default.
    pub file_index: Option<usize>,
    pub at: Location,
}

impl Attribute {
    /// Where the attribute is written: its list entry, or the variant that implies it.
    pub fn path(&self) -> Path {
        match self.file_index {
            Some(i) => Path::parse("okta.app.attributes").join_index(i),
            None => Path::parse("okta.app.variant"),
        }
    }
}

/// Okta's push status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// `PUSH`: on create and update.
    Always,
    /// `DONT_PUSH`: on create only.
    CreateOnly,
}

impl Push {
    pub fn as_okta(self) -> &'static str {
        match self {
            Push::Always => "PUSH",
            Push::CreateOnly => "DONT_PUSH",
        }
    }
}

/// What a mapping should be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingRule {
    Set { expression: String, push: Push },
    Remove,
}

/// One Okta user → app user mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub target: AttributeName,
    pub rule: MappingRule,
    pub at: Location,
}

/// `additive` or `exact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Additive,
    Exact,
}

/// A value with the config location it came from.
#[derive(Clone, Debug)]
pub struct Located<T> {
    pub value: T,
    pub at: Location,
}

/// Assigned members and how strictly they are kept.
#[derive(Clone, Debug)]
pub struct Collection<T> {
    pub mode: Mode,
    pub members: Vec<Located<T>>,
    pub removal_cap: u32,
    pub at: Location,
}

/// Turns the raw file into the checked model. Problems are pushed to `diags`; where a value is
/// wrong, the model holds a placeholder, so lints can still run on everything else (the caller
/// must not use a model that came with errors).
pub fn check(raw: &RawConfig, doc: &Document, diags: &mut Vec<Diagnostic>) -> Desired {
    let mut cx = Checker { doc, diags };
    cx.check(raw)
}

struct Checker<'a> {
    doc: &'a Document,
    diags: &'a mut Vec<Diagnostic>,
}

impl Checker<'_> {
    fn at(&self, path: &str) -> Location {
        self.doc.locate(&Path::parse(path))
    }

    fn error(&mut self, code: &'static str, path: Path, message: String) -> &mut Diagnostic {
        let location = self.doc.locate(&path);
        self.diags
            .push(Diagnostic::error(code, path, location, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn check(&mut self, raw: &RawConfig) -> Desired {
        if let Some(root) = &self.doc.root {
            self.references_where_unsupported(root, Path::root());
        }
        if raw.version != 1 {
            self.error(
                "invalid",
                Path::parse("version"),
                format!("unsupported version {}", raw.version),
            )
            .help = Some("this scimbridge reads version 1".into());
        }
        let ws1 = Ws1 {
            tenant_url: self.param(&raw.ws1.tenant_url, "ws1.tenant_url"),
            admin_client_id: self
                .param(&raw.ws1.credentials.client_id, "ws1.credentials.client_id"),
            admin_client_secret: self.secret(
                &raw.ws1.credentials.client_secret,
                "ws1.credentials.client_secret",
            ),
            scim_client: self.scim_client(&raw.ws1.scim_client),
            directory: Directory {
                name: DirectoryName::new(raw.ws1.directory.name.clone()),
                domains: raw
                    .ws1
                    .directory
                    .domains
                    .iter()
                    .cloned()
                    .map(Domain)
                    .collect(),
                at: self.at("ws1.directory"),
            },
        };
        if ws1.directory.domains.is_empty() {
            self.error("invalid", Path::parse("ws1.directory.domains"), "the directory needs at least one domain".into())
                .why = Some("a user's `domain` attribute selects the directory; without one, users land in the System Directory".into());
        }
        let okta = Okta {
            org_url: self.param(&raw.okta.org_url, "okta.org_url"),
            api_token: self.secret(&raw.okta.api_token, "okta.api_token"),
            app: self.app(&raw.okta.app, &ws1.directory),
        };
        Desired { ws1, okta }
    }

    fn reference(&mut self, text: &str, path: &str) -> Option<Reference> {
        match Reference::parse(text) {
            Ok(reference) => reference,
            Err(err) => {
                self.error("bad-reference", Path::parse(path), err.to_string());
                None
            }
        }
    }

    /// A `${env:…}` or `${file:…}` in a field that takes its value as written would reach the
    /// services as that literal text; it is an error where it stands. (Okta's own `${…}`
    /// templates, such as `${source.login}`, are not references and pass.)
    fn references_where_unsupported(&mut self, node: &crate::config::yaml::Node, path: Path) {
        use crate::config::yaml::NodeKind;
        match &node.kind {
            NodeKind::Scalar { text, .. } => {
                self.control_characters(node, text, &path);
                let looks_like = text.contains("${env:") || text.contains("${file:");
                let supported = REFERENCE_FIELDS.contains(&path.to_string().as_str());
                if looks_like && !supported {
                    let field = path.to_string();
                    let d = self.error(
                        "reference-not-supported",
                        path,
                        format!(
                            "`{text}` is a reference, but `{field}` takes its value as written"
                        ),
                    );
                    d.why = Some("it would reach Okta or WS1 as that literal text".into());
                    d.help = Some(format!(
                        "write the value itself (a value that differs per environment belongs in an overlay, `-e NAME`); references work in {}",
                        REFERENCE_FIELDS.join(", ")
                    ));
                }
            }
            NodeKind::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.references_where_unsupported(item, path.join_index(i));
                }
            }
            NodeKind::Mapping(entries) => {
                for (key, value) in entries {
                    if let Some(name) = key.scalar() {
                        let at = path.join_key(name);
                        self.control_characters(key, name, &at);
                        self.references_where_unsupported(value, at);
                    }
                }
            }
        }
    }

    /// Control characters (C0, DEL, C1) in any value or key, the one check for every field:
    /// names, logins, URLs and labels are single lines, and a raw ESC there would reach the
    /// services and every terminal that shows them. Only the note and expressions may break
    /// lines (`\n`, `\t`). The character is shown escaped, never raw.
    fn control_characters(&mut self, node: &crate::config::yaml::Node, text: &str, path: &Path) {
        let field = path.to_string();
        let multi_line = MULTI_LINE_FIELDS.iter().any(|pattern| {
            let (prefix, suffix) = pattern.split_once('*').unwrap_or((pattern, ""));
            field.len() >= prefix.len() + suffix.len()
                && field.starts_with(prefix)
                && field.ends_with(suffix)
        });
        let allowed = |c: char| multi_line && matches!(c, '\n' | '\t');
        let Some((index, c)) = text
            .chars()
            .enumerate()
            .find(|&(_, c)| c.is_control() && !allowed(c))
        else {
            return;
        };
        let location = self.doc.location(node);
        let mut diag = Diagnostic::error(
            "control-character",
            path.clone(),
            location,
            format!(
                "control character {} at character {} of the value",
                c.escape_unicode(),
                index + 1
            ),
        );
        diag.why = Some("names, logins, URLs and labels are single lines of text; a control character would reach the services and every terminal that shows them".into());
        self.diags.push(diag);
    }

    fn param(&mut self, text: &str, path: &str) -> Param {
        match self.reference(text, path) {
            Some(reference) => Param::Ref(reference),
            None => Param::Literal(text.to_owned()),
        }
    }

    fn secret(&mut self, text: &str, path: &str) -> SecretRef {
        if Reference::parse(text).is_ok_and(|r| r.is_none()) {
            let diag = self.error(
                "literal-secret",
                Path::parse(path),
                "a secret written into the config file".into(),
            );
            diag.why = Some("the file lives in Git; a secret there is readable by everyone who can read the repository".into());
            diag.help = Some(
                "write `${env:NAME}` or `${file:PATH}` and keep the value in your secret store"
                    .into(),
            );
        }
        // A placeholder keeps checking going; the error above already fails the run.
        SecretRef(
            self.reference(text, path)
                .unwrap_or(Reference::Env(String::new())),
        )
    }

    /// A duration within 1m ..= [`duration::MAX`](super::duration::MAX), the most WS1 can hold.
    fn duration(&mut self, text: &str, path: &str) -> Minutes {
        match Minutes::parse(text) {
            Ok(minutes) if minutes <= super::duration::MAX => minutes,
            Ok(_) => {
                let max = super::duration::MAX.0;
                self.error(
                    "out-of-range",
                    Path::parse(path),
                    format!("`{text}` is longer than {max}m (about 4,083 years), the most WS1 Access can hold"),
                )
                .why = Some("WS1 keeps a client's accessTokenTTL as an int32 count of minutes (its OAuth client API, `format: int32`); a longer value fails when apply creates the client".into());
                Minutes(1)
            }
            Err(err) => {
                self.error("type", Path::parse(path), err.to_string());
                Minutes(1)
            }
        }
    }

    fn scim_client(&mut self, raw: &RawScimClient) -> ScimClient {
        ScimClient {
            client_id: ClientId::new(raw.client_id.clone()),
            scope: raw.scope.clone().unwrap_or_else(|| "admin".into()),
            access_token_ttl: self
                .duration(&raw.access_token_ttl, "ws1.scim_client.access_token_ttl"),
            rotation_window: match &raw.rotation_window {
                Some(text) => self.duration(text, "ws1.scim_client.rotation_window"),
                None => DEFAULT_ROTATION_WINDOW,
            },
            secret: self.secret(&raw.secret, "ws1.scim_client.secret"),
            at: self.at("ws1.scim_client"),
        }
    }

    fn app(&mut self, raw: &RawApp, directory: &Directory) -> App {
        let variant = match raw.variant {
            RawVariant::OinWorkspaceOne => Variant::OinWorkspaceOne,
            RawVariant::Scim11Custom => Variant::Scim11Custom,
        };
        let defaults = variant.defaults();
        let format = raw
            .username_format
            .unwrap_or(RawUsernameFormat::EmailPrefix);
        let username = match UsernameTemplate::from_raw(format, raw.username_expression.as_deref())
        {
            Some(template) => template,
            None => {
                self.error(
                    "missing-field",
                    Path::parse("okta.app.username_format"),
                    "`username_format: custom` needs `username_expression`".into(),
                );
                UsernameTemplate::from_raw(RawUsernameFormat::EmailPrefix, None).expect("built-in")
            }
        };
        if raw.username_expression.is_some() && format != RawUsernameFormat::Custom {
            self.error(
                "invalid",
                Path::parse("okta.app.username_expression"),
                "`username_expression` is only read with `username_format: custom`".into(),
            );
        }
        let provisioning = raw.provisioning.as_ref();
        let base_url = match provisioning.and_then(|p| p.base_url.as_deref()) {
            Some(text) => BaseUrl::Given(self.param(text, "okta.app.provisioning.base_url")),
            None => BaseUrl::FromTenant(defaults.base_url_suffix),
        };
        let provisioning = Provisioning {
            base_url,
            create_users: provisioning.and_then(|p| p.create_users).unwrap_or(true),
            update_users: provisioning
                .and_then(|p| p.update_users)
                .unwrap_or(defaults.update_users),
            deactivate_users: provisioning
                .and_then(|p| p.deactivate_users)
                .unwrap_or(true),
            at: self.at("okta.app.provisioning"),
        };
        let assignments = raw.assignments.as_ref();
        App {
            key: AppKey::new(raw.key.clone().unwrap_or_else(|| DEFAULT_APP_KEY.into())),
            variant,
            label: raw.label.clone(),
            catalog_name: raw
                .catalog_name
                .clone()
                .unwrap_or_else(|| variant.default_catalog_name().into()),
            hide_web: raw.hide.as_ref().and_then(|h| h.web).unwrap_or(true),
            hide_mobile: raw.hide.as_ref().and_then(|h| h.mobile).unwrap_or(true),
            username,
            admin_note: raw.admin_note.clone(),
            provisioning,
            attributes: self.attributes(&raw.attributes, &defaults),
            mappings: self.mappings(&raw.mappings, &defaults, directory),
            users: self.collection(
                assignments.and_then(|a| a.users.as_ref()),
                "okta.app.assignments.users",
                UserLogin,
            ),
            groups: self.collection(
                assignments.and_then(|a| a.groups.as_ref()),
                "okta.app.assignments.groups",
                GroupName,
            ),
            group_push: raw
                .group_push
                .iter()
                .enumerate()
                .map(|(i, name)| Located {
                    value: GroupName::new(name.clone()),
                    at: self
                        .doc
                        .locate(&Path::parse("okta.app.group_push").join_index(i)),
                })
                .collect(),
            at: self.at("okta.app"),
        }
    }

    fn attributes(&mut self, raw: &[RawAttribute], defaults: &VariantDefaults) -> Vec<Attribute> {
        let default_at = self.at("okta.app.variant");
        let mut out: Vec<Attribute> = defaults
            .attributes
            .iter()
            .map(|name| Attribute {
                name: AttributeName::new(*name),
                title: (*name).into(),
                kind: AttributeType::String,
                external_name: (*name).into(),
                external_namespace: WORKSPACE_NAMESPACE.into(),
                // The custom app's guide marks each of them "Attribute Required".
                required: true,
                scope: "NONE",
                file_index: None,
                at: default_at.clone(),
            })
            .collect();
        for (i, attr) in raw.iter().enumerate() {
            let at = self
                .doc
                .locate(&Path::parse("okta.app.attributes").join_index(i));
            let built = Attribute {
                name: AttributeName::new(attr.name.clone()),
                title: attr.title.clone().unwrap_or_else(|| attr.name.clone()),
                kind: match attr.kind.unwrap_or(RawAttributeType::String) {
                    RawAttributeType::String => AttributeType::String,
                    RawAttributeType::Boolean => AttributeType::Boolean,
                    RawAttributeType::Integer => AttributeType::Integer,
                    RawAttributeType::Number => AttributeType::Number,
                    RawAttributeType::Array => AttributeType::Array,
                },
                external_name: attr
                    .external_name
                    .clone()
                    .unwrap_or_else(|| attr.name.clone()),
                external_namespace: attr
                    .external_namespace
                    .clone()
                    .unwrap_or_else(|| WORKSPACE_NAMESPACE.into()),
                required: attr.required.unwrap_or(false),
                scope: match attr.scope.unwrap_or(RawAttributeScope::None) {
                    RawAttributeScope::SelfOnly => "SELF",
                    RawAttributeScope::None => "NONE",
                },
                file_index: Some(i),
                at,
            };
            // A default of the same name is overridden; a second explicit one is a lint.
            match out
                .iter()
                .position(|a| a.name == built.name && a.file_index.is_none())
            {
                Some(pos) => out[pos] = built,
                None => out.push(built),
            }
        }
        out
    }

    fn mappings(
        &mut self,
        raw: &std::collections::BTreeMap<String, RawMapping>,
        defaults: &VariantDefaults,
        directory: &Directory,
    ) -> Vec<Mapping> {
        let domain_literal = || {
            directory
                .domains
                .first()
                .map(|d| format!("\"{}\"", d.0))
                .unwrap_or_else(|| "\"\"".into())
        };
        let default_at = self.at("okta.app.variant");
        let mut out: Vec<Mapping> = defaults
            .mappings
            .iter()
            .map(|(target, rule)| Mapping {
                target: AttributeName::new(*target),
                rule: match rule {
                    DefaultMapping::Expression(e) => MappingRule::Set {
                        expression: (*e).into(),
                        push: Push::Always,
                    },
                    DefaultMapping::DirectoryDomain => MappingRule::Set {
                        expression: domain_literal(),
                        push: Push::Always,
                    },
                    DefaultMapping::Remove => MappingRule::Remove,
                },
                at: default_at.clone(),
            })
            .collect();
        for (target, mapping) in raw {
            let path = Path::parse("okta.app.mappings").join_key(target);
            let at = self
                .doc
                .locate_key(&Path::parse("okta.app.mappings"), target);
            let remove = mapping.remove.unwrap_or(false);
            let rule = match (&mapping.expression, mapping.from, remove) {
                (Some(_), Some(_), _) => {
                    self.error(
                        "invalid",
                        path,
                        "give either `expression` or `from`, not both".into(),
                    );
                    continue;
                }
                (Some(_), _, true) | (_, Some(_), true) => {
                    self.error(
                        "invalid",
                        path.join_key("remove"),
                        "a removed mapping has no `expression` or `from`".into(),
                    );
                    continue;
                }
                (None, None, true) => {
                    if mapping.push.is_some() {
                        self.error(
                            "invalid",
                            path.join_key("push"),
                            "a removed mapping has no push status".into(),
                        );
                    }
                    MappingRule::Remove
                }
                (None, None, false) => {
                    self.error(
                        "missing-field",
                        path.join_key("expression"),
                        "a mapping needs `expression`, `from`, or `remove: true`".into(),
                    );
                    continue;
                }
                (expression, from, false) => {
                    let expression = match (expression, from) {
                        (Some(e), _) if e.trim().is_empty() => {
                            self.error(
                                "invalid",
                                path.join_key("expression"),
                                "empty expression".into(),
                            );
                            continue;
                        }
                        (Some(e), _) => e.clone(),
                        (None, Some(RawMappingSource::DirectoryDomain)) => domain_literal(),
                        (None, None) => unreachable!("handled above"),
                    };
                    let push = match mapping.push.unwrap_or(RawPush::Always) {
                        RawPush::Always => Push::Always,
                        RawPush::CreateOnly => Push::CreateOnly,
                    };
                    MappingRule::Set { expression, push }
                }
            };
            let built = Mapping {
                target: AttributeName::new(target.clone()),
                rule,
                at,
            };
            match out.iter().position(|m| m.target == built.target) {
                Some(pos) => out[pos] = built,
                None => out.push(built),
            }
        }
        out.sort_by(|a, b| a.target.cmp(&b.target));
        out
    }

    fn collection<T>(
        &mut self,
        raw: Option<&RawCollection>,
        path: &str,
        wrap: fn(String) -> T,
    ) -> Collection<T> {
        let base = Path::parse(path);
        Collection {
            mode: match raw.and_then(|r| r.mode) {
                Some(RawMode::Exact) => Mode::Exact,
                _ => Mode::Additive,
            },
            members: raw
                .map(|r| {
                    r.members
                        .iter()
                        .enumerate()
                        .map(|(i, m)| Located {
                            value: wrap(m.clone()),
                            at: self.doc.locate(&base.join_key("members").join_index(i)),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            removal_cap: raw
                .and_then(|r| r.removal_cap)
                .unwrap_or(DEFAULT_REMOVAL_CAP),
            at: self.doc.locate(&base),
        }
    }
}
