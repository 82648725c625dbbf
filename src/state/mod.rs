//! Live state: what scimbridge read from Okta and Workspace ONE Access, in its own types.
//!
//! The reader fills a [`Live`] value from the provider clients; the planner compares it with the
//! desired state. These types are not the vendors' wire formats: they hold exactly what the
//! planner compares, with typed ids so an Okta user id cannot stand where a group id is expected.
//! [`Live::observed_at`] is the server's time (from its `Date` header), never this machine's,
//! because token expiry is judged on the server's clock.

pub mod note;
pub mod read;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use note::ManagedBlock;

pub use crate::ids::{DirectoryId, MappingId, OktaAppId, OktaGroupId, OktaUserId, PushMappingId};

/// A point in time, in whole seconds since the Unix epoch; shown as RFC 3339 (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses RFC 3339 (`2027-11-22T11:00:00Z`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        let time = humantime::parse_rfc3339(text.trim()).ok()?;
        let secs = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        i64::try_from(secs).ok().map(Timestamp)
    }

    /// Parses an HTTP `Date` header (`Sun, 22 Nov 2026 11:28:08 GMT`).
    pub fn parse_http_date(text: &str) -> Option<Self> {
        let time = httpdate::parse_http_date(text.trim()).ok()?;
        let secs = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        i64::try_from(secs).ok().map(Timestamp)
    }

    /// This time plus `minutes`.
    pub fn plus_minutes(self, minutes: u64) -> Self {
        Timestamp(
            self.0
                .saturating_add(i64::try_from(minutes.saturating_mul(60)).unwrap_or(i64::MAX)),
        )
    }

    /// The date alone (`2027-11-22`), for messages.
    pub fn date(self) -> String {
        self.to_string()[..10].to_owned()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = u64::try_from(self.0).unwrap_or(0);
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
        write!(f, "{}", humantime::format_rfc3339_seconds(time))
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time")))
    }
}

/// Everything read from both services for one plan.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Live {
    /// The servers' time when reading (from `Date` headers).
    pub observed_at: Option<Timestamp>,
    pub ws1: Ws1Live,
    pub okta: OktaLive,
    /// A digest of every object read, by address; a saved plan is refused when one changed.
    #[serde(default)]
    pub fingerprints: BTreeMap<String, String>,
}

/// The WS1 side.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ws1Live {
    /// The SCIM OAuth client, if it exists.
    #[serde(default)]
    pub scim_client: Option<OAuthClientLive>,
    /// The Other directory, if it exists.
    #[serde(default)]
    pub directory: Option<DirectoryLive>,
}

/// A WS1 OAuth client as read (the secret is never readable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthClientLive {
    pub client_id: String,
    pub scope: String,
    /// Space-separated grant types, e.g. `client_credentials`.
    pub grant_types: String,
    /// Minutes; `None` when the tenant's answer has no `accessTokenTTL` (the field is not
    /// required by the client's schema, ws1-api §4.2).
    pub access_token_ttl: Option<u64>,
}

/// A WS1 directory as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryLive {
    pub id: DirectoryId,
    pub name: String,
    /// `OTHER_DIRECTORY`, `LOCAL_DIRECTORY`…
    pub kind: String,
    pub domains: Vec<String>,
}

/// The Okta side.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OktaLive {
    /// The managed app, found by its managed block's key (or adopted by label).
    #[serde(default)]
    pub app: Option<AppLive>,
    /// Users the config names that are not among the app's users (those carry their own
    /// login), by login as written; absent when Okta has no such user.
    #[serde(default)]
    pub users: BTreeMap<String, OktaUserId>,
    /// Groups the config names, by name as written; absent when Okta has no such group.
    #[serde(default)]
    pub groups: BTreeMap<String, OktaGroupId>,
    /// Names the config uses that several Okta groups share, with their ids.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ambiguous_groups: BTreeMap<String, Vec<OktaGroupId>>,
}

/// What the API accepts for this app, detected at run time (reference/okta-api.md §1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capabilities {
    /// `connections/default` answers with a real auth scheme (not `UNKNOWN`).
    pub connection_api: bool,
    /// `features` answers instead of 400 E0000001.
    pub features_api: bool,
}

/// The Okta app as read.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppLive {
    pub id: OktaAppId,
    /// The catalog name (`name`).
    pub name: String,
    pub label: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    pub hide_web: bool,
    pub hide_mobile: bool,
    /// `credentials.userNameTemplate.type`.
    pub username_kind: String,
    /// `credentials.userNameTemplate.template`.
    pub username_template: String,
    /// `settings.app.baseUrl`, where the app has one (the OIN app's General tab).
    #[serde(default)]
    pub settings_base_url: Option<String>,
    /// The admin note without the managed block.
    #[serde(default)]
    pub admin_note: Option<String>,
    /// The managed block, when the note has one.
    #[serde(default)]
    pub managed: Option<ManagedBlock>,
    /// The file the block's unrecorded mint (`minting.file`) was to write its token to exists
    /// on this machine, a regular non-empty file: that token can be taken up. Read from this
    /// machine's disk, the one fact of the live state no service holds.
    #[serde(default)]
    pub minting_file_ready: bool,
    /// The read-only `features[]` (`PUSH_NEW_USERS`…), which show the console's toggles.
    #[serde(default)]
    pub features: Vec<String>,
    pub capabilities: Capabilities,
    /// The provisioning connection, when the connection API is supported.
    #[serde(default)]
    pub connection: Option<ConnectionLive>,
    /// Names of the app user schema's base attributes (the app's own profile).
    #[serde(default)]
    pub base_attributes: std::collections::BTreeSet<String>,
    /// Custom attributes of the app user schema, by name.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeLive>,
    /// The Okta user → app user mapping.
    pub mapping: MappingLive,
    /// App users (direct and group-derived).
    #[serde(default)]
    pub users: Vec<AppUserLive>,
    /// Assigned groups.
    #[serde(default)]
    pub groups: Vec<AppGroupLive>,
    /// Group push mappings.
    #[serde(default)]
    pub group_push: Vec<PushLive>,
}

/// The provisioning connection as the API shows it (the token is never readable).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionLive {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    #[serde(default)]
    pub base_url: Option<String>,
}

/// A custom app user schema property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeLive {
    pub title: String,
    /// `string`, `boolean`…
    pub kind: String,
    #[serde(default)]
    pub external_name: Option<String>,
    #[serde(default)]
    pub external_namespace: Option<String>,
    pub required: bool,
    /// `SELF` or `NONE`.
    pub scope: String,
}

/// The Okta user → app user profile mapping.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingLive {
    pub id: Option<MappingId>,
    /// Target attribute → rule.
    #[serde(default)]
    pub properties: BTreeMap<String, MappingPropertyLive>,
}

/// One mapped property.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingPropertyLive {
    pub expression: String,
    /// `PUSH` or `DONT_PUSH`.
    pub push_status: String,
}

/// An app user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUserLive {
    pub id: OktaUserId,
    /// The user's Okta login, when known.
    pub login: String,
    /// `USER` (direct) or `GROUP`.
    pub scope: Word,
    #[serde(default)]
    pub status: Option<Word>,
    #[serde(default)]
    pub sync_state: Option<Word>,
    /// When Okta last pushed the user successfully (`lastSync`), server time.
    #[serde(default)]
    pub last_sync: Option<Timestamp>,
    /// The Okta user's profile fields that mapping expressions read, for the data-flow check.
    #[serde(default, skip_serializing_if = "UserFields::is_empty")]
    pub profile: UserFields,
}

/// A vendor's word for a kind or state (`USER`, `ACTIVE`, `SYNCHRONIZED`…). The words Okta
/// documents are borrowed, not held: a read of 100,000 app users would otherwise keep 300,000
/// copies of a handful of words.
pub type Word = Cow<'static, str>;

/// `text` as a [`Word`]: borrowed when it is one Okta documents for app users
/// (reference/okta-api.md §10), owned otherwise.
pub fn word(text: String) -> Word {
    const KNOWN: &[&str] = &[
        "USER",
        "GROUP",
        "ACTIVE",
        "INACTIVE",
        "PENDING",
        "DEPROVISIONED",
        "EXPIRED_PASSWORD",
        "IMPLICIT",
        "PROVISIONED",
        "STAGED",
        "SUSPENDED",
        "DISABLED",
        "ERROR",
        "OUT_OF_SYNC",
        "SYNCHRONIZED",
        "SYNCING",
    ];
    match KNOWN.iter().find(|known| **known == text) {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(text),
    }
}

/// The Okta user's profile fields that mapping expressions read (`user.email`,
/// `user.firstName`, `user.lastName`; `user.login` is the app user's `login`, and `login` here
/// only where a fixture names it). Packed into one allocation: a read holds one per app user,
/// and at 100,000 users a map of them was a quarter of the memory, and four strings each were
/// still 400,000 small allocations. Serialized as the plain fields ([`UserFieldsRepr`]).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "UserFieldsRepr", into = "UserFieldsRepr")]
pub struct UserFields {
    /// The present fields, one after another.
    text: Box<str>,
    /// Where each field ends in `text`, in [`UserFields::NAMES`] order. `u32`: a field comes
    /// from one answer page, and pages are capped far below 4 GiB (`http::LARGE_PAGE_LIMIT`).
    ends: [u32; 4],
    /// Bit `i` set: field `i` is present (an empty value is not an absent one).
    present: u8,
}

impl UserFields {
    /// The Okta attribute names of the fields, in storage order.
    const NAMES: [&'static str; 4] = ["login", "email", "firstName", "lastName"];

    /// The fields, in [`UserFields::NAMES`] order.
    pub fn new(fields: [Option<&str>; 4]) -> Self {
        let mut text = String::with_capacity(fields.iter().flatten().map(|f| f.len()).sum());
        let mut ends = [0; 4];
        let mut present = 0;
        for (i, field) in fields.iter().enumerate() {
            if let Some(value) = field {
                text.push_str(value);
                present |= 1 << i;
            }
            ends[i] = text.len() as u32;
        }
        UserFields {
            text: text.into_boxed_str(),
            ends,
            present,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.present == 0
    }

    /// A field by its Okta attribute name.
    pub fn get(&self, attribute: &str) -> Option<&str> {
        let i = Self::NAMES.iter().position(|name| *name == attribute)?;
        if self.present & (1 << i) == 0 {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start as usize..self.ends[i] as usize)
    }
}

impl fmt::Debug for UserFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        UserFieldsRepr::from(self.clone()).fmt(f)
    }
}

/// [`UserFields`] as fixtures and saved state spell them.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserFieldsRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

impl From<UserFieldsRepr> for UserFields {
    fn from(r: UserFieldsRepr) -> Self {
        UserFields::new([
            r.login.as_deref(),
            r.email.as_deref(),
            r.first_name.as_deref(),
            r.last_name.as_deref(),
        ])
    }
}

impl From<UserFields> for UserFieldsRepr {
    fn from(u: UserFields) -> Self {
        let field = |name: &str| u.get(name).map(str::to_owned);
        UserFieldsRepr {
            login: field("login"),
            email: field("email"),
            first_name: field("firstName"),
            last_name: field("lastName"),
        }
    }
}

/// An assigned group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppGroupLive {
    pub id: OktaGroupId,
    pub name: String,
}

/// A group push mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushLive {
    pub id: PushMappingId,
    pub source_group_id: OktaGroupId,
    /// `ACTIVE`, `INACTIVE` or `ERROR`.
    pub status: String,
}

/// Okta compares logins case-insensitively; so do the reader and the planner.
/// `text` lowercased, borrowed when it already is (logins mostly are: no copy of 100,000).
pub fn lowercase(text: &str) -> Cow<'_, str> {
    if text.chars().all(|c| c.to_lowercase().eq([c])) {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::{Timestamp, UserFields, lowercase};
    use std::borrow::Cow;

    #[test]
    fn user_fields_keep_empty_apart_from_absent_and_round_trip() {
        let fields = UserFields::new([None, Some(""), Some("Zoë"), None]);
        assert_eq!(fields.get("login"), None);
        assert_eq!(fields.get("email"), Some(""));
        assert_eq!(fields.get("firstName"), Some("Zoë"));
        assert_eq!(fields.get("lastName"), None);
        assert_eq!(fields.get("displayName"), None);
        assert!(!fields.is_empty());
        assert!(UserFields::new([None; 4]).is_empty());

        let json = serde_json::to_string(&fields).unwrap();
        assert_eq!(json, r#"{"email":"","firstName":"Zoë"}"#);
        assert_eq!(serde_json::from_str::<UserFields>(&json).unwrap(), fields);
        assert!(serde_json::from_str::<UserFields>(r#"{"mail":"x"}"#).is_err());
    }

    #[test]
    fn lowercase_borrows_only_what_is_already_lower() {
        assert!(matches!(lowercase("ana@example.com"), Cow::Borrowed(_)));
        assert_eq!(lowercase("Ana@Example.COM"), "ana@example.com");
        assert_eq!(lowercase("ÉMILE"), "émile");
    }

    #[test]
    fn rfc3339_with_fractional_seconds_as_okta_writes_it() {
        assert_eq!(
            Timestamp::parse_rfc3339("2027-12-04T06:09:53.000Z"),
            Timestamp::parse_rfc3339("2027-12-04T06:09:53Z")
        );
        assert!(Timestamp::parse_rfc3339("2027-12-04T06:09:53Z").is_some());
    }
}
