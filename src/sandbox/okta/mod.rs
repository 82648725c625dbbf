//! The Okta Management API emulator: apps, provisioning connection and features (with the
//! capability wall of okta-api.md §1), app user schema, profile mappings, users and groups,
//! assignments and group push, plus the console-only steps as control routes.
//!
//! One module per resource, as Okta's reference groups them: `apps`, `provisioning`
//! (connection and features), `schema`, `mappings`, `assignments` (app users and groups),
//! `group_push`, `directory` (org users and groups); `console` holds the Admin Console steps
//! as control routes, `common` what they all share (errors, paging, filters, the guard with
//! auth and rate limits), and `provision` what Okta sends to the SCIM server. This file holds
//! the state and the push queue.
//!
//! All state sits behind one mutex and is kept as Okta's JSON shapes where that keeps the code
//! small. What must hold: every vendor answer carries `X-Rate-Limit-*` headers of its bucket
//! (§3); every error uses Okta's body (`errorCode`, `errorSummary`, `errorLink`, `errorId`,
//! `errorCauses`); the token given to the provisioning connection never comes back out.
//!
//! Decisions on UNVERIFIED points (pinned by tests in `tests/it/sandbox_okta.rs`):
//! - Internal app names: `scim1testapp` is the "SCIM 1.1 Test App (OAuth Bearer Token)" and
//!   `vmwareworkspaceone` the VMware Workspace ONE OIN app (reading `okta.oin_name`), whose
//!   SCIM base URL is `settings.app.baseUrl` + `/SAAS/jersey/manager/api/scim`. A name outside
//!   the catalog ([`CATALOG`] and the OIN app's) is refused with 400 E0000001, as Okta refuses
//!   an app it does not know.
//! - Deleting an ACTIVE app answers 403 E0000056.
//! - `POST .../connections/default` on an app outside the supported list answers 400 E0000001.
//! - Group push mapping create answers 200 and delete 204 with `deleteTargetGroup` required.
//! - `GET /groups/{id}/users` (the spec's `listGroupUsers`): `limit` defaults to 1000 as the
//!   spec says; it documents no maximum, so a larger `limit` is served 1000 at a time, with a
//!   `next` link. Members come in the order they joined the group.
//! - A sync error's text is not in the public AppUser shape; the console shows it, so the
//!   control route `GET /_sandbox/okta/apps/{appId}/errors` returns it.

mod apps;
mod assignments;
mod common;
mod console;
mod directory;
mod group_push;
mod mappings;
mod provision;
mod provisioning;
mod schema;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use serde_json::{Map, Value, json};
use tokio::sync::{mpsc, watch};

use super::clock::Clock;
pub use provision::Job;

/// The API token the sandbox accepts (`OKTA_API_TOKEN`).
pub const API_TOKEN: &str = "00sandbox-okta-api-token";

/// Apps whose connection/features APIs Okta documents as supported (okta-api.md §1).
const SUPPORTED: &[&str] = &[
    "okta_org2org",
    "zscalerbyz",
    "google",
    "office365",
    "slack",
    "zoomus",
];

/// The apps Okta's catalog knows besides those of [`SUPPORTED`] and the OIN Workspace ONE
/// app (okta-api.md §5).
const CATALOG: &[&str] = &[
    "scim1testapp",
    "scim2testapp",
    "scim2headerauth",
    "scim2testapp_basic",
    "bookmark",
];

/// The SCIM path under a WS1 tenant, for the OIN variant whose setting is the tenant root.
pub const WS1_SCIM_PATH: &str = "/SAAS/jersey/manager/api/scim";

/// The workspace extension URN the OIN app's base attributes use.
pub const WORKSPACE: &str = "urn:scim:schemas:extension:workspace:1.0";

/// The Okta emulator; cloning shares the state.
#[derive(Clone)]
pub struct Okta {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    clock: Clock,
    /// The readings in force where the references leave a point open.
    alternatives: super::Alternatives,
    http: reqwest::Client,
    queue: OnceLock<mpsc::UnboundedSender<(u64, Job)>>,
    pending: watch::Sender<usize>,
}

/// The provisioning settings an admin sets in the console (Provisioning → To App).
#[derive(Debug, Clone, Default)]
struct Connection {
    base_url: String,
    token: String,
    enabled: bool,
    create: bool,
    update: bool,
    deactivate: bool,
}

#[derive(Debug, Clone)]
struct AppUser {
    scope: &'static str,
    status: &'static str,
    sync_state: &'static str,
    external_id: Option<String>,
    user_name: String,
    profile: Map<String, Value>,
    created: String,
    last_sync: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct App {
    json: Value,
    base: Map<String, Value>,
    custom: Map<String, Value>,
    custom_required: Vec<String>,
    mapping_id: String,
    reverse_mapping_id: String,
    mappings: Map<String, Value>,
    connection: Option<Connection>,
    users: BTreeMap<String, AppUser>,
    groups: BTreeMap<String, Value>,
    pushes: BTreeMap<String, Value>,
    /// Okta user id → the SCIM id of the user Okta deactivated in the SCIM server when it was
    /// unassigned: a re-assignment reactivates that user rather than creating another.
    deactivated: BTreeMap<String, String>,
}

#[derive(Debug, Default)]
struct State {
    epoch: u64,
    next_id: u64,
    apps: BTreeMap<String, App>,
    users: BTreeMap<String, Value>,
    /// Login → user id, so lookups by login stay cheap with tens of thousands of users.
    logins: HashMap<String, String>,
    groups: BTreeMap<String, (Value, Vec<String>)>,
    supported: HashSet<String>,
    rate_limit: u32,
    buckets: HashMap<&'static str, (u64, u32)>,
}

/// What a finished push changes on the app user or mapping.
pub enum SyncOutcome {
    Nothing,
    Provisioned { external_id: String },
    Deactivated,
    GroupPushed { target_id: String },
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:017x}", self.next_id)
    }
}

impl Default for Okta {
    fn default() -> Self {
        Self::new(Clock::new(), super::Alternatives::default())
    }
}

impl Okta {
    /// An empty emulator reading time from `clock`.
    pub fn new(clock: Clock, alternatives: super::Alternatives) -> Self {
        let okta = Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                clock,
                alternatives,
                http: reqwest::Client::new(),
                queue: OnceLock::new(),
                pending: watch::channel(0).0,
            }),
        };
        okta.reset();
        okta
    }

    /// "okta": the key of its seed part and its control prefix.
    pub fn name(&self) -> &'static str {
        "okta"
    }

    /// The vendor API routes.
    pub fn router(&self) -> axum::Router {
        common::router(self.clone())
    }

    /// The control routes, mounted at `/_sandbox/okta/`.
    pub fn control_router(&self) -> axum::Router {
        console::console(self.clone()).into_router()
    }

    /// Back to the just-started state; queued pushes are dropped.
    pub fn reset(&self) {
        let mut s = self.lock();
        let epoch = s.epoch + 1;
        *s = State {
            epoch,
            rate_limit: 600,
            ..State::default()
        };
    }

    /// Loads the `okta` part of a seed document: `{"users":[{"login","firstName",...}],
    /// "groups":[{"name","members":[login]}], "apps":[{"name","label","users":[login]}]}`.
    pub fn seed(&self, seed: &Value) -> Result<(), String> {
        let Some(part) = seed.get("okta") else {
            return Ok(());
        };
        let mut s = self.lock();
        let now = self.now();
        for user in part["users"].as_array().into_iter().flatten() {
            let mut profile = user
                .as_object()
                .cloned()
                .ok_or("okta.users[] must be objects")?;
            let login = profile
                .get("login")
                .and_then(Value::as_str)
                .ok_or("okta.users[].login")?;
            let login = login.to_string();
            profile.entry("email").or_insert_with(|| json!(login));
            let id = match profile.remove("id") {
                Some(Value::String(id)) => id,
                _ => s.id("00u"),
            };
            let status = profile.remove("status").unwrap_or(json!("ACTIVE"));
            s.logins.insert(login.clone(), id.clone());
            s.users.insert(
                id.clone(),
                json!({"id": id, "status": status, "created": now, "lastUpdated": now,
                       "type": {"id": "oty00sandboxdefault"}, "profile": profile,
                       "_links": {"self": {"href": format!("/api/v1/users/{id}")}}}),
            );
        }
        for group in part["groups"].as_array().into_iter().flatten() {
            let name = group["name"]
                .as_str()
                .ok_or("okta.groups[].name")?
                .to_string();
            let mut members = Vec::new();
            for login in group["members"].as_array().into_iter().flatten() {
                let login = login.as_str().unwrap_or_default();
                members.push(find_user(&s, login).ok_or(format!("unknown member {login}"))?);
            }
            let id = s.id("00g");
            let json = json!({"id": id, "type": "OKTA_GROUP", "created": now, "lastUpdated": now,
                              "lastMembershipUpdated": now, "objectClass": ["okta:user_group"],
                              "profile": {"name": name, "description": group["description"]}});
            s.groups.insert(id, (json, members));
        }
        for app in part["apps"].as_array().into_iter().flatten() {
            let mut body = app.clone();
            body.as_object_mut().map(|o| o.remove("users"));
            let app_id =
                apps::create_app(&mut s, body, true, &now, &self.readings()).map_err(|e| e.1)?;
            for login in app["users"].as_array().into_iter().flatten() {
                let login = login.as_str().unwrap_or_default();
                let user = find_user(&s, login).ok_or(format!("unknown user {login}"))?;
                assignments::assign(
                    &mut s,
                    &app_id,
                    &user,
                    "USER",
                    &now,
                    self.queued_sync_state(),
                )?;
            }
        }
        Ok(())
    }

    /// Waits until every queued push has run.
    pub async fn wait_idle(&self) {
        let mut rx = self.inner.pending.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }

    /// The readings in force where the references leave a point open.
    fn readings(&self) -> super::alternatives::Readings {
        self.inner.alternatives.get()
    }

    /// The `syncState` of an app user whose push is queued.
    fn queued_sync_state(&self) -> &'static str {
        if self.readings().queued_sync_state == "DISABLED" {
            "DISABLED"
        } else {
            "SYNCING"
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().expect("okta state lock poisoned")
    }

    fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    fn now(&self) -> String {
        rfc3339(self.inner.clock.unix_seconds())
    }

    /// Queues jobs for the background worker (started on first use, on the caller's runtime)
    /// once `s`, the state lock, is released: a push never sees a half-made change, and a job
    /// queued before a reset never runs after it.
    fn enqueue(&self, s: MutexGuard<'_, State>, jobs: impl IntoIterator<Item = Job>) {
        let epoch = s.epoch;
        drop(s);
        let jobs: Vec<Job> = jobs.into_iter().collect();
        if jobs.is_empty() {
            return;
        }
        let tx = self.inner.queue.get_or_init(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<(u64, Job)>();
            let me = self.clone();
            tokio::spawn(async move {
                while let Some((epoch, job)) = rx.recv().await {
                    if me.lock().epoch == epoch {
                        me.run(job).await;
                    }
                    me.inner.pending.send_modify(|n| *n -= 1);
                }
            });
            tx
        });
        for job in jobs {
            self.inner.pending.send_modify(|n| *n += 1);
            if tx.send((epoch, job)).is_err() {
                self.inner.pending.send_modify(|n| *n -= 1);
            }
        }
    }

    /// Whether `app` deactivates with `PUT` (reading `okta.deactivate_verb`; never the OIN app).
    fn deactivates_with_put(&self, app: &str) -> bool {
        let readings = self.readings();
        let name = self
            .lock()
            .apps
            .get(app)
            .and_then(|a| a.json["name"].as_str().map(str::to_owned))
            .unwrap_or_default();
        readings.deactivate_verb == "PUT" && name != readings.oin_name
    }

    fn target(&self, app: &str) -> Result<provision::Target, String> {
        let s = self.lock();
        let conn = s
            .apps
            .get(app)
            .and_then(|a| a.connection.clone())
            .filter(|c| c.enabled)
            .ok_or("Provisioning is not enabled for the app instance.")?;
        Ok(provision::Target {
            base_url: conn.base_url,
            token: conn.token,
        })
    }

    /// The SCIM body for a user of an app, its userName and known SCIM id.
    fn user_body(&self, app: &str, user: &str) -> Result<(Value, String, Option<String>), String> {
        let s = self.lock();
        let a = s.apps.get(app).ok_or("app gone")?;
        let au = a.users.get(user).ok_or("assignment gone")?;
        let profile = s.users[user]["profile"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let app_profile = provision::app_profile(&a.mappings, &profile)?;
        let mut props = a.base.clone();
        props.extend(a.custom.clone());
        let body = provision::scim_user(&props, &app_profile, &au.user_name, user, true);
        Ok((body, au.user_name.clone(), au.external_id.clone()))
    }

    fn push_data(
        &self,
        app: &str,
        mapping: &str,
    ) -> Result<(String, Vec<(String, String)>), String> {
        let s = self.lock();
        let a = s.apps.get(app).ok_or("app gone")?;
        let m = a.pushes.get(mapping).ok_or("mapping gone")?;
        let source = m["sourceGroupId"].as_str().unwrap_or_default();
        let (group, members) = s.groups.get(source).ok_or("group gone")?;
        let name = m["_targetGroupName"]
            .as_str()
            .or(group["profile"]["name"].as_str())
            .unwrap_or_default()
            .to_string();
        let members = members
            .iter()
            .filter_map(|u| {
                a.users
                    .get(u)
                    .and_then(|au| Some((au.external_id.clone()?, au.user_name.clone())))
            })
            .collect();
        Ok((name, members))
    }

    fn record(&self, job: &Job, result: Result<SyncOutcome, String>) {
        let now = self.now();
        let mut s = self.lock();
        let (app, user) = match job {
            Job::Provision { app, user }
            | Job::Update { app, user }
            | Job::Reactivate { app, user, .. } => (app, Some(user)),
            Job::Deactivate { app, .. } => (app, None),
            Job::Probe { app } => (app, None),
            Job::PushGroup { app, mapping } => {
                if let Some(m) = s.apps.get_mut(app).and_then(|a| a.pushes.get_mut(mapping)) {
                    match &result {
                        Ok(SyncOutcome::GroupPushed { target_id }) => {
                            m["targetGroupId"] = json!(target_id);
                            m["lastPush"] = json!(now);
                            m["errorSummary"] = Value::Null;
                        }
                        Err(e) => {
                            m["status"] = json!("ERROR");
                            m["errorSummary"] = json!(e);
                        }
                        Ok(_) => {}
                    }
                }
                return;
            }
        };
        let Some(user) = user else { return };
        let Some(au) = s.apps.get_mut(app).and_then(|a| a.users.get_mut(user)) else {
            return;
        };
        match result {
            Ok(SyncOutcome::Provisioned { external_id }) => {
                au.external_id = Some(external_id);
                au.status = "PROVISIONED";
                au.sync_state = "SYNCHRONIZED";
                au.last_sync = Some(now);
                au.error = None;
            }
            Ok(_) => {
                au.sync_state = "SYNCHRONIZED";
                au.last_sync = Some(now);
            }
            Err(e) => {
                au.sync_state = "ERROR";
                au.error = Some(e);
            }
        }
    }
}

fn find_user(s: &State, key: &str) -> Option<String> {
    if s.users.contains_key(key) {
        return Some(key.to_string());
    }
    s.logins.get(key).cloned()
}

/// `YYYY-MM-DDTHH:MM:SS.000Z` from Unix seconds (Howard Hinnant's civil-from-days).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

impl super::Emulator for Okta {
    fn name(&self) -> &'static str {
        Okta::name(self)
    }
    fn router(&self) -> axum::Router {
        Okta::router(self)
    }
    fn console(&self) -> super::control::Console {
        console::console(self.clone())
    }
    fn reset(&self) {
        Okta::reset(self)
    }
    fn seed(&self, seed: &Value) -> Result<(), String> {
        Okta::seed(self, seed)
    }
}
