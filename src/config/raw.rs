//! The config file as written: serde types that mirror the YAML one to one.
//!
//! Every struct denies unknown fields, and every field has a doc comment: schemars turns them
//! into the descriptions of `schemas/scimbridge.schema.json`, which editors show while typing.
//! Nothing here is validated beyond its type; `model` turns this into the checked desired state.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

/// The fields that hold secrets. Diagnostics about them never quote the file.
pub const SECRET_FIELDS: &[&str] = &[
    "ws1.credentials.client_secret",
    "ws1.scim_client.secret",
    "okta.api_token",
];

/// The desired state of one Okta → Workspace ONE Access SCIM provisioning setup.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "scimbridge config")]
pub struct RawConfig {
    /// Version of this file's format; only `1` exists.
    pub version: u32,
    /// The Workspace ONE Access side: the SCIM OAuth client and the Other directory.
    pub ws1: RawWs1,
    /// The Okta side: the app that provisions users into Workspace ONE Access.
    pub okta: RawOkta,
}

/// The Workspace ONE Access tenant and what scimbridge manages in it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWs1 {
    /// The tenant's root URL, e.g. `https://acme.vmwareidentity.com`: HTTPS, no path, no trailing
    /// slash. A literal or a `${env:NAME}` reference.
    pub tenant_url: String,
    /// How scimbridge itself signs in to Workspace ONE Access: its own admin OAuth client
    /// (client credentials, `admin` scope).
    pub credentials: RawWs1Credentials,
    /// The Remote App Access OAuth client ("Service Client Token") whose bearer token Okta uses
    /// for SCIM.
    pub scim_client: RawScimClient,
    /// The "Other" directory that provisioned users land in.
    pub directory: RawDirectory,
}

/// scimbridge's own admin OAuth client in Workspace ONE Access.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWs1Credentials {
    /// The admin client's id: a literal or `${env:NAME}`.
    pub client_id: String,
    /// The admin client's shared secret: `${env:NAME}` or `${file:PATH}`, never a literal.
    pub client_secret: String,
}

/// The OAuth client whose tokens Okta sends to Workspace ONE Access.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScimClient {
    /// The client id, e.g. `okta-scim`; its natural key in Workspace ONE Access.
    pub client_id: String,
    /// The OAuth scope the client's tokens carry. Default `admin` (SCIM needs it).
    #[serde(default)]
    pub scope: Option<String>,
    /// Lifetime of the access tokens the client issues, as a duration: `365d`, `12w`, `8h`,
    /// `90m` (units m, h, d, w; combinations such as `1d12h`). Okta stores one token and never
    /// refreshes it, so this is how long provisioning works without a rotation.
    pub access_token_ttl: String,
    /// When the live token has less than this left, `apply` rotates it. Default `30d`.
    #[serde(default)]
    pub rotation_window: Option<String>,
    /// The client's shared secret: `${env:NAME}` or `${file:PATH}`, never a literal. scimbridge
    /// sets it on the client and uses it to mint the bearer token.
    pub secret: String,
}

/// The "Other" directory provisioned users belong to.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDirectory {
    /// The directory's name; its natural key.
    pub name: String,
    /// The directory's domains. A user's `domain` attribute selects the directory, so the app's
    /// `domain` mapping uses the first one unless told otherwise.
    pub domains: Vec<String>,
}

/// The Okta org and the app scimbridge manages in it.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOkta {
    /// The org's URL, e.g. `https://acme.okta.com`: HTTPS, no trailing slash. A literal or
    /// `${env:NAME}`.
    pub org_url: String,
    /// An Okta API token (sent as `SSWS`): `${env:NAME}` or `${file:PATH}`, never a literal.
    pub api_token: String,
    /// The app that provisions users into Workspace ONE Access.
    pub app: RawApp,
}

/// Which Okta app template the setup uses; the setup guides configure them differently.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawVariant {
    /// The OIN "VMware Workspace ONE" app: base URL is the tenant root; its profile already has
    /// the workspace attributes, and only `domain` needs a mapping.
    OinWorkspaceOne,
    /// The "SCIM 1.1 Test App (OAuth Bearer Token)": SCIM base URL, email-prefix usernames, the
    /// three workspace attributes, displayName and locale un-mapped, Update Users off.
    Scim11Custom,
}

/// The Okta app.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawApp {
    /// A stable key kept in the managed block of the app's admin note, so renaming the label
    /// updates the app instead of creating a second one. Default `workspace-one`.
    #[serde(default)]
    pub key: Option<String>,
    /// Which app template: `oin_workspace_one` or `scim11_custom`.
    pub variant: RawVariant,
    /// The app's display name in Okta.
    pub label: String,
    /// Okta's internal catalog name of the template. Defaults per variant; override when your
    /// org's catalog differs (Okta does not document all of them).
    #[serde(default)]
    pub catalog_name: Option<String>,
    /// Hide the app's icon from users. Default: hidden on both (users never launch it).
    #[serde(default)]
    pub hide: Option<RawHide>,
    /// The app username format: a built-in name, or `custom` with `username_expression`.
    /// Default `email_prefix`.
    #[serde(default)]
    pub username_format: Option<RawUsernameFormat>,
    /// The Okta expression for a `custom` username format, e.g. `${source.login}`.
    #[serde(default)]
    pub username_expression: Option<String>,
    /// Your part of the app's admin note; scimbridge keeps its own managed block below it.
    #[serde(default)]
    pub admin_note: Option<String>,
    /// The provisioning connection and the To-App toggles.
    #[serde(default)]
    pub provisioning: Option<RawProvisioning>,
    /// App profile attributes beyond the variant's defaults, or overriding them by name.
    #[serde(default)]
    pub attributes: Vec<RawAttribute>,
    /// Okta user → app user mappings, keyed by app attribute. Merged over the variant's defaults.
    #[serde(default)]
    pub mappings: BTreeMap<String, RawMapping>,
    /// Who is assigned to the app.
    #[serde(default)]
    pub assignments: Option<RawAssignments>,
    /// Okta groups pushed to Workspace ONE Access, by name.
    #[serde(default)]
    pub group_push: Vec<String>,
}

/// Icon visibility.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHide {
    /// Hide on the web End-User Dashboard. Default `true`.
    #[serde(default)]
    pub web: Option<bool>,
    /// Hide in Okta Mobile. Default `true`.
    #[serde(default)]
    pub mobile: Option<bool>,
}

/// Okta's built-in username formats, by name, or `custom`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawUsernameFormat {
    /// Okta username (`${source.login}`).
    OktaUsername,
    /// Okta username prefix (the part of the login before `@`).
    OktaUsernamePrefix,
    /// Email.
    Email,
    /// Email in lower case.
    EmailLowercase,
    /// Email prefix (the part of the email before `@`), as the setup guides use.
    EmailPrefix,
    /// An expression of your own, given in `username_expression`.
    Custom,
}

/// The provisioning connection and To-App toggles.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawProvisioning {
    /// The base URL Okta sends SCIM requests to. Default: the tenant root for the OIN app, the
    /// tenant + `/SAAS/jersey/manager/api/scim` for the SCIM 1.1 app. Never a trailing slash.
    #[serde(default)]
    pub base_url: Option<String>,
    /// "Create Users". Default `true`.
    #[serde(default)]
    pub create_users: Option<bool>,
    /// "Update User Attributes". Default `true` for the OIN app, `false` for the SCIM 1.1 app.
    #[serde(default)]
    pub update_users: Option<bool>,
    /// "Deactivate Users". Default `true`.
    #[serde(default)]
    pub deactivate_users: Option<bool>,
}

/// A custom attribute of the app's user profile (Okta Profile Editor).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAttribute {
    /// The attribute's variable name in Okta, e.g. `internalUserType`.
    pub name: String,
    /// Display name. Default: the name.
    #[serde(default)]
    pub title: Option<String>,
    /// Data type. Default `string`.
    #[serde(default, rename = "type")]
    pub kind: Option<RawAttributeType>,
    /// The attribute's name in Workspace ONE Access. Default: the name.
    #[serde(default)]
    pub external_name: Option<String>,
    /// The SCIM schema the attribute belongs to. Default
    /// `urn:scim:schemas:extension:workspace:1.0`.
    #[serde(default)]
    pub external_namespace: Option<String>,
    /// Whether Okta requires a value. Default `false`.
    #[serde(default)]
    pub required: Option<bool>,
    /// `self` (per user only) or `none` (may be set at group level). Default `none`.
    #[serde(default)]
    pub scope: Option<RawAttributeScope>,
}

/// Attribute data types Okta supports.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawAttributeType {
    String,
    Boolean,
    Integer,
    Number,
    Array,
}

/// Attribute scope.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawAttributeScope {
    /// Per user only.
    #[serde(rename = "self")]
    SelfOnly,
    /// May also be set at group level.
    None,
}

/// One Okta user → app user mapping.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    /// An Okta expression, e.g. `user.login` or `"PROVISIONED"` (quoted literal).
    #[serde(default)]
    pub expression: Option<String>,
    /// A value taken from elsewhere in this file instead of an expression.
    #[serde(default)]
    pub from: Option<RawMappingSource>,
    /// When Okta applies the mapping: `always` (create and update) or `create_only`.
    /// Default `always`.
    #[serde(default)]
    pub push: Option<RawPush>,
    /// `true` removes the mapping (the defaults remove displayName and locale this way).
    #[serde(default)]
    pub remove: Option<bool>,
}

/// Values a mapping can take from the rest of the config.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMappingSource {
    /// The directory's first domain, as a quoted literal.
    DirectoryDomain,
}

/// Okta's push status.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawPush {
    /// Apply on create and on update (`PUSH`).
    Always,
    /// Apply on create only (`DONT_PUSH`).
    CreateOnly,
}

/// App assignments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAssignments {
    /// Users assigned directly, by Okta login.
    #[serde(default)]
    pub users: Option<RawCollection>,
    /// Groups assigned, by name.
    #[serde(default)]
    pub groups: Option<RawCollection>,
}

/// A set of members and how strictly it is kept.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCollection {
    /// `additive` (default): only adds, keeps what was assigned by hand. `exact`: also removes
    /// what is not listed.
    #[serde(default)]
    pub mode: Option<RawMode>,
    /// The members: Okta logins for users, names for groups.
    #[serde(default)]
    pub members: Vec<String>,
    /// Under `exact`, removals beyond this many in one run are disruptive and need
    /// `--allow-destroy`. Default 0: every removal needs it.
    #[serde(default)]
    pub removal_cap: Option<u32>,
}

/// Collection mode.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawMode {
    Additive,
    Exact,
}
