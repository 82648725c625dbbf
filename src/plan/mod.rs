//! The plan: a value describing every change, in dependency order, and nothing else.
//!
//! [`plan`] is pure: `plan(desired, settings, live) -> Plan` does no IO, reads no clock and is
//! deterministic, so the same inputs always give the same plan. Each [`Action`] carries what the
//! applier needs (its [`Op`], with target ids and new values, and its dependencies), so the
//! applier makes no decisions; `plan` output, saved plans and `apply` all come from one `Plan`.
//! Every plan passes [`lint::check`] (no two actions on one resource, dependencies before
//! dependants, references resolvable). Secrets never enter a plan: the planner is not given them,
//! and a secret field shows as [`Value::Sensitive`].

pub mod lint;
mod planner;
pub mod render;
pub mod token;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::config::Location;
use crate::providers::okta::AppFields;
use crate::state::note::Confirmation;
use crate::state::{MappingId, OktaAppId, OktaGroupId, OktaUserId, PushMappingId, Timestamp};

pub use planner::{Settings, plan};
pub use token::{AdminIntent, SecretCheck, TokenState, TokenStatus};

/// The version of the plan's JSON shape.
pub const FORMAT_VERSION: u32 = 1;

/// Everything `apply` would do, in order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    /// The config file the plan was made from.
    pub config: String,
    /// The servers' time when live state was read.
    pub observed_at: Option<Timestamp>,
    pub actions: Vec<Action>,
    /// The bearer token Okta holds, as this read judged it (times and states only).
    pub token: TokenStatus,
    /// A digest of every object read, by address, to refuse a stale saved plan.
    pub fingerprints: std::collections::BTreeMap<String, String>,
}

impl Plan {
    /// Whether nothing would change (manual steps count as changes).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Whether anything would change how the integration works: every action but an adoption,
    /// which only records the app as scimbridge's. `--detailed-exitcode` and `drift` go by this.
    pub fn has_changes(&self) -> bool {
        self.actions.iter().any(|a| a.kind != Kind::Adopt)
    }

    /// Counts by kind, for the summary line.
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for action in &self.actions {
            match action.kind {
                Kind::Create => summary.create += 1,
                Kind::Update => summary.update += 1,
                Kind::Delete => summary.delete += 1,
                Kind::Manual => summary.manual += 1,
                Kind::Adopt => summary.adopt += 1,
            }
        }
        summary
    }

    /// Actions that need `--allow-destroy`.
    pub fn hazardous(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| a.hazard.is_some())
    }

    /// The one rule for "waits on": the pending manual action that action `index` builds on,
    /// through any chain of dependencies, if any. `pending` says which actions are manual steps
    /// not done yet (the executor knows from outcomes; a re-plan from kinds).
    pub fn waiting_on(&self, index: usize, pending: impl Fn(usize) -> bool) -> Option<usize> {
        let mut stack: Vec<usize> = self.actions[index].depends_on.clone();
        let mut seen = std::collections::BTreeSet::new();
        let mut first = None;
        while let Some(dep) = stack.pop() {
            if !seen.insert(dep) {
                continue;
            }
            if pending(dep) {
                first = Some(first.map_or(dep, |f: usize| f.min(dep)));
            }
            stack.extend(&self.actions[dep].depends_on);
        }
        first
    }
}

/// How many actions of each kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub delete: usize,
    pub manual: usize,
    pub adopt: usize,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to delete, {} manual",
            self.create, self.update, self.delete, self.manual
        )?;
        if self.adopt > 0 {
            write!(f, ", {} to adopt", self.adopt)?;
        }
        Ok(())
    }
}

/// What an action does to its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Create,
    Update,
    Delete,
    /// Something the API refuses: console steps for a person, verified afterwards.
    Manual,
    /// Records a hand-made app as scimbridge's (the managed block in its admin note) and
    /// changes nothing it does: not a change for `--detailed-exitcode` or `drift`.
    Adopt,
}

/// Why an action needs `--allow-destroy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hazard {
    /// Deletes something that cannot be brought back as it was.
    Destructive,
    /// Interrupts provisioning or removes access.
    Disruptive,
}

/// The thing an action is about. Its `Display` is the address plans show.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Resource {
    ScimClient(String),
    Token(String),
    Directory(String),
    App(String),
    Connection(String),
    Attribute(String),
    Mapping(String),
    ToAppToggles(String),
    UpdateExistingUsers(String),
    UserAssignment(String),
    GroupAssignment(String),
    GroupPush(String),
}

impl Resource {
    /// The position in the setup guides' dependency order (PRODUCT.md, "The plan"), with one
    /// change: the token comes after the app, because the app's managed block records it, so
    /// an app Okta refuses never leaves a minted token behind.
    pub fn stage(&self) -> u8 {
        match self {
            Resource::ScimClient(_) => 0,
            Resource::Directory(_) => 1,
            Resource::App(_) => 2,
            Resource::Token(_) => 3,
            Resource::Connection(_) => 4,
            Resource::Attribute(_) => 5,
            Resource::Mapping(_) => 6,
            Resource::ToAppToggles(_) => 7,
            Resource::UpdateExistingUsers(_) => 7,
            Resource::UserAssignment(_) | Resource::GroupAssignment(_) => 8,
            Resource::GroupPush(_) => 9,
        }
    }
}

impl Resource {
    /// The resource this one lives in or uses, when it is in the plan's scope: deleting the
    /// parent would break it.
    pub fn parent(&self) -> Option<Resource> {
        match self {
            Resource::Token(client) => Some(Resource::ScimClient(client.clone())),
            Resource::Mapping(target) => Some(Resource::Attribute(target.clone())),
            _ => None,
        }
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::ScimClient(id) => write!(f, "ws1.scim_client[{id:?}]"),
            Resource::Token(id) => write!(f, "ws1.scim_client[{id:?}].token"),
            Resource::Directory(name) => write!(f, "ws1.directory[{name:?}]"),
            Resource::App(key) => write!(f, "okta.app[{key:?}]"),
            Resource::Connection(key) => write!(f, "okta.app[{key:?}].provisioning.connection"),
            Resource::Attribute(name) => write!(f, "okta.app.attribute[{name:?}]"),
            Resource::Mapping(target) => write!(f, "okta.app.mapping[{target:?}]"),
            Resource::ToAppToggles(key) => write!(f, "okta.app[{key:?}].provisioning.to_app"),
            Resource::UpdateExistingUsers(key) => write!(f, "okta.app[{key:?}].apply_updates_now"),
            Resource::UserAssignment(login) => write!(f, "okta.app.user[{login:?}]"),
            Resource::GroupAssignment(name) => write!(f, "okta.app.group[{name:?}]"),
            Resource::GroupPush(name) => write!(f, "okta.app.group_push[{name:?}]"),
        }
    }
}

/// A field's value in a change. Secrets are only ever `Sensitive`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Absent,
    Text(String),
    Sensitive,
}

impl Value {
    pub fn text(value: impl Into<String>) -> Self {
        Value::Text(value.into())
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Absent => f.write_str("(none)"),
            Value::Text(text) => write!(f, "{text:?}"),
            Value::Sensitive => f.write_str("(sensitive)"),
        }
    }
}

/// One field changing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: Value,
    pub new: Value,
}

impl Change {
    pub fn new(field: &str, old: Value, new: Value) -> Self {
        Change {
            field: field.to_owned(),
            old,
            new,
        }
    }
}

/// Console steps for what the API refuses, with every non-secret value they need.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManualStep {
    pub title: String,
    pub steps: Vec<String>,
    /// Values to enter, by label (never a secret).
    pub values: Vec<(String, String)>,
    /// How scimbridge checks afterwards that it was done.
    pub verified_by: String,
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub resource: Resource,
    pub kind: Kind,
    /// The config location that asks for this.
    pub at: Location,
    /// Why the action exists, when not obvious from the changes (drift, rotation…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changes: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hazard: Option<Hazard>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
    /// Indexes of earlier actions this one needs.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub depends_on: Vec<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manual: Option<ManualStep>,
    /// What the applier does.
    pub op: Op,
}

/// The app an operation targets: one that exists, or the one this plan creates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRef {
    Existing(OktaAppId),
    /// Created by this plan's `CreateApp` action.
    Created,
}

/// A pending console handover to record as confirmed: which token (by its mint time, so a token
/// minted since the plan is never confirmed by it) and on what evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmHandover {
    pub minted_at: Timestamp,
    pub confirmation: Confirmation,
}

/// How the minted token reaches Okta.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverVia {
    /// The connection API, in memory.
    Api,
    /// A file the user names, then the console.
    Manual,
    /// Decided once the app exists (this plan creates it): the connection API if Okta accepts
    /// it for the app, else the file and the console.
    Probe,
}

/// The operation the applier performs, with everything it needs except secrets (which it reads
/// from the config's references at apply time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    CreateScimClient {
        client_id: String,
        scope: String,
        access_token_ttl: u64,
    },
    UpdateScimClient {
        client_id: String,
        scope: String,
        access_token_ttl: u64,
    },
    /// Deletes the client and creates it again with the configured secret: WS1 revokes every
    /// token of a client only by deleting it (reference/ws1-api.md §4.1), and cannot be asked
    /// whether a `PUT` of a new secret revokes them (§12.5, UNVERIFIED).
    ReplaceScimClient {
        client_id: String,
        scope: String,
        access_token_ttl: u64,
    },
    /// Records the mint in the app's managed block, then asks WS1 for a token (once: a lost
    /// answer is never asked again, the record accounts for what it may have issued).
    MintToken {
        client_id: String,
        handover: HandoverVia,
        /// The client is new or recreated earlier in this plan: no earlier token of it works.
        client_recreated: bool,
        /// The app whose managed block records the mint.
        app: AppRef,
        /// The client's access-token TTL in minutes: how long the token may live.
        access_token_ttl: u64,
    },
    /// Takes up the token an interrupted run minted and wrote to `file` before it could record
    /// it (the block's unfinished mint), instead of minting another; checked against WS1 first.
    AdoptToken {
        app: AppRef,
        client_id: String,
        file: String,
        started_at: Timestamp,
        expires_by: Timestamp,
    },
    CreateDirectory {
        name: String,
        domains: Vec<String>,
    },
    /// Creates the app; its admin note is `admin_note` plus a managed block holding `key`.
    CreateApp {
        catalog_name: String,
        #[serde(flatten)]
        fields: AppFields,
        key: String,
        admin_note: Option<String>,
    },
    /// Read-modify-write of the whole app: these fields set, the managed block's key set, its
    /// token record kept as read at apply time (its handover confirmed by `confirm_handover`).
    UpdateApp {
        app: AppRef,
        #[serde(flatten)]
        fields: AppFields,
        key: String,
        admin_note: Option<String>,
        activate: bool,
        confirm_handover: Option<ConfirmHandover>,
    },
    /// Hands the token minted by this plan to Okta through the connection API, enables the
    /// connection, and records the token (confirmed) in the managed block.
    SetConnection {
        app: AppRef,
        /// The SCIM base URL; `None` for the OIN app, whose base URL is its General setting.
        base_url: Option<String>,
    },
    /// Writes the token minted by this plan to the `--token-out` file and records it (handover
    /// pending) in the managed block; a person does the console step. `provisioning_before` is
    /// whether Okta showed provisioning on when the plan read it, before the mint.
    RecordPendingHandover {
        app: AppRef,
        provisioning_before: bool,
    },
    /// For an app this plan creates: `SetConnection` if the connection API accepts the app,
    /// else `RecordPendingHandover`.
    ConnectOrHandOver {
        app: AppRef,
        base_url: Option<String>,
    },
    /// Creates or updates a custom attribute of the app user schema. With `if_absent`, for an
    /// app this plan creates (whose profile cannot be read before), nothing is written when the
    /// new app's profile already has the attribute.
    PutAttribute {
        app: AppRef,
        name: String,
        title: String,
        kind: String,
        external_name: String,
        external_namespace: String,
        required: bool,
        scope: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        if_absent: bool,
    },
    SetMapping {
        app: AppRef,
        mapping: Option<MappingId>,
        target: String,
        expression: String,
        push_status: String,
    },
    RemoveMapping {
        app: AppRef,
        mapping: Option<MappingId>,
        target: String,
    },
    /// Sets the To App toggles through the features API. In a `Manual` action it is tried
    /// first, and the step stays a person's when the API refuses it for this app.
    SetToAppToggles {
        app: AppRef,
        create_users: bool,
        update_users: bool,
        deactivate_users: bool,
    },
    AssignUser {
        app: AppRef,
        user: OktaUserId,
        login: String,
    },
    UnassignUser {
        app: AppRef,
        user: OktaUserId,
        login: String,
    },
    AssignGroup {
        app: AppRef,
        group: OktaGroupId,
        name: String,
    },
    UnassignGroup {
        app: AppRef,
        group: OktaGroupId,
        name: String,
    },
    PushGroup {
        app: AppRef,
        group: OktaGroupId,
        name: String,
    },
    ActivatePush {
        app: AppRef,
        mapping: PushMappingId,
        name: String,
    },
    /// A person acts; the applier only verifies.
    Manual,
}
