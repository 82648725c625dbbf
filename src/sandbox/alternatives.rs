//! Alternatives: where the references leave a point open (UNVERIFIED, CONFLICT, or showing less
//! than a client reads), the sandbox can answer each documented reading, chosen per run.
//!
//! Every switch names the point, its readings and the reference; the default is the reading the
//! emulators documented first. `GET /_sandbox/alternatives` lists them with their values, `POST`
//! sets some (`{"okta.embed_users": false}`), reset restores the defaults. Tests run scimbridge
//! through each reading, so a client that silently depends on one of them fails a test.

use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The readings in force. Field names are the switches' names with `_` for `.`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Readings {
    /// `GET /apps/{id}/group-push/mappings` before provisioning is set up: `listed` (200, an
    /// empty list) or `refused` (400 E0000027: the spec tags group push as needing
    /// provisioning). okta-api.md §11.
    #[serde(rename = "okta.group_push_before_provisioning")]
    pub group_push_before_provisioning: String,
    /// `expand=user` on app users: `true` embeds `_embedded.user`, `false` ignores the parameter
    /// (the reference lists it but shows no answer). okta-api.md §10.
    #[serde(rename = "okta.embed_users")]
    pub embed_users: bool,
    /// The `syncState` of an app user whose push is queued (`STAGED`): `SYNCING` or `DISABLED`
    /// (the spec's enum allows either reading). okta-api.md §10; AppUserSyncState.
    #[serde(rename = "okta.queued_sync_state")]
    pub queued_sync_state: String,
    /// The OIN "VMware Workspace ONE" app's internal name Okta accepts on create. okta-api.md §5
    /// (UNVERIFIED; not found in any public source).
    #[serde(rename = "okta.oin_name")]
    pub oin_name: String,
    /// Whether the OIN app's base profile carries `domain` (`true`) or only
    /// `internalUserType` and `userPrincipalName` (`false`). okta-api.md §5, PRODUCT.md.
    #[serde(rename = "okta.oin_profile_has_domain")]
    pub oin_profile_has_domain: bool,
    /// How Okta deactivates a user in the SCIM server: `PATCH` (OIN integrations) or `PUT`
    /// (custom apps). okta-api.md §12 (UNVERIFIED for the SCIM 1.1 test app).
    #[serde(rename = "okta.deactivate_verb")]
    pub deactivate_verb: String,
    /// Whether `GET …/directoryconfigs` items list their `domains` (`true`) or not (`false`).
    /// ws1-api.md §5 (UNVERIFIED).
    #[serde(rename = "ws1.directory_list_has_domains")]
    pub directory_list_has_domains: bool,
    /// `GET …/directoryconfigs/{id}/domains` items: `named` (a `name` field and `_links`) or
    /// `links_only` (only `_links`, all ws1-api.md §5 shows; the domain is the link's last
    /// segment).
    #[serde(rename = "ws1.domain_items")]
    pub domain_items: String,
    /// `PUT /scim/Users/{id}`: `refused` (405, undocumented) or `accepted` (replaces the user).
    /// ws1-api.md §6.1, §12.1.
    #[serde(rename = "ws1.scim_put")]
    pub scim_put: String,
    /// Admin endpoints' media types: `vendor_and_json` (both accepted) or `json_only` (vendor
    /// types answered 415, as after KB 6000953). ws1-api.md §2.3, §12.3.
    #[serde(rename = "ws1.media_types")]
    pub media_types: String,
    /// SCIM `startIndex`: `one_based` (0 and 1 both the first item) or `zero_based` (an offset
    /// from 0, as SW18 describes it). ws1-api.md §6.4 (CONFLICT).
    #[serde(rename = "ws1.start_index")]
    pub start_index: String,
    /// The largest SCIM `count`: 0 for none, else larger counts are answered 404 (SW18 documents
    /// 404 for an invalid `count`). ws1-api.md §6.4, §12.7.
    #[serde(rename = "ws1.max_count")]
    pub max_count: usize,
    /// The status of `{"errors":[{"code":"forbidden",…}]}` for a missing, invalid or expired
    /// bearer token: 401 or 403. ws1-api.md §7, §12.8.
    #[serde(rename = "ws1.bad_token_status")]
    pub bad_token_status: u16,
}

impl Default for Readings {
    fn default() -> Self {
        Self {
            group_push_before_provisioning: "listed".into(),
            embed_users: true,
            queued_sync_state: "SYNCING".into(),
            oin_name: "vmwareworkspaceone".into(),
            oin_profile_has_domain: true,
            deactivate_verb: "PATCH".into(),
            directory_list_has_domains: false,
            domain_items: "named".into(),
            scim_put: "refused".into(),
            media_types: "vendor_and_json".into(),
            start_index: "one_based".into(),
            max_count: 0,
            bad_token_status: 401,
        }
    }
}

/// Each switch's documented readings, for the control plane's listing and for checks.
pub fn catalogue() -> Vec<(&'static str, Value)> {
    vec![
        (
            "okta.group_push_before_provisioning",
            json!(["listed", "refused"]),
        ),
        ("okta.embed_users", json!([true, false])),
        ("okta.queued_sync_state", json!(["SYNCING", "DISABLED"])),
        (
            "okta.oin_name",
            json!(["vmwareworkspaceone", "any other internal name"]),
        ),
        ("okta.oin_profile_has_domain", json!([true, false])),
        ("okta.deactivate_verb", json!(["PATCH", "PUT"])),
        ("ws1.directory_list_has_domains", json!([false, true])),
        ("ws1.domain_items", json!(["named", "links_only"])),
        ("ws1.scim_put", json!(["refused", "accepted"])),
        ("ws1.media_types", json!(["vendor_and_json", "json_only"])),
        ("ws1.start_index", json!(["one_based", "zero_based"])),
        ("ws1.max_count", json!([0, 1000])),
        ("ws1.bad_token_status", json!([401, 403])),
    ]
}

/// The readings in force, shared by both emulators and the control plane.
#[derive(Clone, Debug, Default)]
pub struct Alternatives(Arc<RwLock<Readings>>);

impl Alternatives {
    /// A copy of the readings in force.
    pub fn get(&self) -> Readings {
        self.0.read().expect("alternatives lock").clone()
    }

    /// Sets the switches `changes` names (`{"okta.embed_users": false}`); an unknown switch or
    /// a value of the wrong type is an error, and nothing changes.
    pub fn set(&self, changes: &Value) -> Result<Readings, String> {
        let mut current = serde_json::to_value(self.get()).expect("readings serialize");
        let Value::Object(changes) = changes else {
            return Err("expected a JSON object of switches".into());
        };
        for (name, value) in changes {
            if current.get(name).is_none() {
                return Err(format!(
                    "no switch `{name}`; the switches are: {}",
                    catalogue()
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            current[name] = value.clone();
        }
        let readings: Readings =
            serde_json::from_value(current).map_err(|e| format!("bad value: {e}"))?;
        *self.0.write().expect("alternatives lock") = readings.clone();
        Ok(readings)
    }

    /// Back to the default readings.
    pub fn reset(&self) {
        *self.0.write().expect("alternatives lock") = Readings::default();
    }

    /// The listing `GET /_sandbox/alternatives` answers.
    pub fn listing(&self) -> Value {
        let now = serde_json::to_value(self.get()).expect("readings serialize");
        let defaults = serde_json::to_value(Readings::default()).expect("readings serialize");
        let switches: Vec<Value> = catalogue()
            .into_iter()
            .map(|(name, readings)| {
                json!({"name": name, "value": now[name], "default": defaults[name],
                       "readings": readings})
            })
            .collect();
        json!({"switches": switches})
    }
}
