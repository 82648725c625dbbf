//! The provisioning engine: what Okta sends to a SCIM 1.1 server (okta-api.md §12) when an app
//! has a provisioning connection and a user is assigned, updated or unassigned.
//!
//! Pushes run on one background task, in the order they were queued, so a test sees the same
//! sequence every time; `Okta::wait_idle` returns once the queue is empty. Every body is built
//! from the app's *stored* schema and mappings at the time the push runs. The engine talks to the
//! SCIM server only over HTTP (its own reqwest client), never by calling the WS1 emulator.
//!
//! Decisions on UNVERIFIED points (each pinned by a test in `tests/it/sandbox_okta.rs`):
//! - Deactivation (unassignment) is `PATCH /Users/{id}` with
//!   `{"schemas":[core],"id":…,"active":false}`, the OIN behaviour of §12, for both app
//!   variants: WS1 documents PATCH and not PUT.
//!   Under the reading `okta.deactivate_verb = PUT` a custom app (not the OIN app, which §12
//!   says uses PATCH) deactivates and reactivates the AIW way: `GET /Users/{id}`, then `PUT`
//!   of that object with `active` set.
//! - Reactivation is the same `PATCH` with `"active":true`: re-assigning a user whose SCIM user
//!   Okta deactivated (the app keeps its id) sends it instead of the lookup and create, so the
//!   user comes back as the same SCIM user rather than being linked with a `PUT`, which WS1
//!   refuses. The body carries no profile attributes, as §12 shows it: the SCIM user keeps
//!   the attributes it had; profile changes made meanwhile go out like any other (Update
//!   Users on, or "Apply updates now"). Which To App toggle governs it is not documented: it
//!   is sent when the connection is on with Deactivate Users (which deactivated the user) or
//!   Create Users (under which an assignment is pushed); with neither, nothing is sent and
//!   the id is kept for a later assignment. A refused reactivation (the SCIM user deleted
//!   meanwhile: 404) is a sync error like any failed push; nothing is created instead.
//! - A profile update is `GET /Users/{id}` then `PUT /Users/{id}` with the whole body (§12).
//! - A user found by the userName lookup is linked with a `PUT` of the full body (§12).
//! - The header is `Authorization: Bearer <token>` and `User-Agent: Okta SCIM Client 1.0.0`.
//! - Expressions: quoted literals, `user.<attr>` and `String.substringBefore(user.<attr>, "x")`;
//!   anything else makes the push fail with a sync error naming the expression.

use serde_json::{Map, Value, json};

use super::{Okta, SyncOutcome};

/// The SCIM 1.1 core schema URN.
pub const CORE: &str = "urn:scim:schemas:core:1.0";

/// One unit of provisioning work, addressed by ids; data is read when it runs.
#[derive(Debug, Clone)]
pub enum Job {
    /// The two list calls Okta makes after the admin saves the connection.
    Probe { app: String },
    /// Assignment: look the user up, then create (or link) it.
    Provision { app: String, user: String },
    /// A profile change: re-read and replace the remote user.
    Update { app: String, user: String },
    /// Unassignment: `active=false`.
    Deactivate {
        app: String,
        user: String,
        scim_id: String,
    },
    /// Re-assignment of a user Okta deactivated: `active=true`.
    Reactivate {
        app: String,
        user: String,
        scim_id: String,
    },
    /// An ACTIVE group-push mapping: create the group and set its members.
    PushGroup { app: String, mapping: String },
}

/// What a job needs from the state, copied out under the lock.
pub struct Target {
    pub base_url: String,
    pub token: String,
}

/// Evaluates one mapping expression against an Okta user profile. `Ok(None)` is a missing value.
pub fn eval(expr: &str, profile: &Map<String, Value>) -> Result<Option<Value>, String> {
    let expr = expr.trim();
    if let Some(lit) = quoted(expr) {
        return Ok(Some(Value::String(lit)));
    }
    if let Some(attr) = expr.strip_prefix("user.")
        && !attr.is_empty()
        && attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return Ok(profile.get(attr).filter(|v| !v.is_null()).cloned());
    }
    if let Some(args) = expr
        .strip_prefix("String.substringBefore(")
        .and_then(|rest| rest.strip_suffix(')'))
        && let Some((first, second)) = args.split_once(',')
        && let (Ok(value), Some(sep)) = (eval(first, profile), quoted(second.trim()))
    {
        return Ok(value.and_then(|v| v.as_str().map(String::from)).map(|s| {
            Value::String(
                s.split_once(sep.as_str())
                    .map_or(s.clone(), |(a, _)| a.into()),
            )
        }));
    }
    Err(format!("Unsupported expression: {expr}"))
}

fn quoted(s: &str) -> Option<String> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('"')).then(|| inner.to_string())
}

/// Evaluates a `credentials.userNameTemplate.template` (the built-in forms of okta-api.md §4).
pub fn username(template: &str, profile: &Map<String, Value>) -> Result<String, String> {
    let inner = template
        .strip_prefix("${")
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("Unsupported username template: {template}"))?;
    let get = |attr: &str| {
        attr.trim()
            .strip_prefix("source.")
            .and_then(|a| profile.get(a))
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| format!("Username template {template} has no value"))
    };
    if let Some(args) = inner
        .strip_prefix("fn:substringBefore(")
        .and_then(|a| a.strip_suffix(')'))
    {
        let (attr, sep) = args.split_once(',').ok_or("bad template")?;
        let sep = quoted(sep.trim()).ok_or("bad template")?;
        let value = get(attr)?;
        return Ok(value
            .split_once(sep.as_str())
            .map_or(value.clone(), |(a, _)| a.into()));
    }
    if let Some(attr) = inner
        .strip_prefix("fn:toLowerCase(")
        .and_then(|a| a.strip_suffix(')'))
    {
        return Ok(get(attr)?.to_lowercase());
    }
    get(inner)
}

/// Builds the app user profile from the stored mappings (only properties the schema knows).
pub fn app_profile(
    mappings: &Map<String, Value>,
    profile: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (target, rule) in mappings {
        let Some(expr) = rule.get("expression").and_then(Value::as_str) else {
            continue;
        };
        if let Some(v) = eval(expr, profile)? {
            out.insert(target.clone(), v);
        }
    }
    Ok(out)
}

/// Builds a SCIM 1.1 user body from an app user profile and the app schema's properties
/// (`externalName`/`externalNamespace` say where each app attribute goes).
pub fn scim_user(
    properties: &Map<String, Value>,
    app_profile: &Map<String, Value>,
    user_name: &str,
    external_id: &str,
    active: bool,
) -> Value {
    let mut body = Map::new();
    let mut schemas = vec![Value::String(CORE.into())];
    body.insert("userName".into(), json!(user_name));
    for (attr, value) in app_profile {
        let def = properties.get(attr);
        let ext_name = def
            .and_then(|d| d.get("externalName"))
            .and_then(Value::as_str)
            .unwrap_or(attr);
        let ns = def
            .and_then(|d| d.get("externalNamespace"))
            .and_then(Value::as_str)
            .unwrap_or(CORE);
        if ns != CORE {
            let ext = body.entry(ns).or_insert_with(|| json!({}));
            ext[ext_name] = value.clone();
            if !schemas.iter().any(|s| s == ns) {
                schemas.push(json!(ns));
            }
            continue;
        }
        match ext_name {
            "name.givenName" | "givenName" => {
                body.entry("name").or_insert_with(|| json!({}))["givenName"] = value.clone()
            }
            "name.familyName" | "familyName" => {
                body.entry("name").or_insert_with(|| json!({}))["familyName"] = value.clone()
            }
            "emails" | "email" | "emails^[type==work]" => {
                body.insert(
                    "emails".into(),
                    json!([{"value": value, "primary": true, "type": "work"}]),
                );
            }
            "userName" => {}
            other => {
                body.insert(other.into(), value.clone());
            }
        }
    }
    body.insert("externalId".into(), json!(external_id));
    body.insert("groups".into(), json!([]));
    body.insert("active".into(), json!(active));
    body.insert("schemas".into(), Value::Array(schemas));
    Value::Object(body)
}

impl Okta {
    /// Runs one job against the SCIM server and records the outcome on the app user.
    pub(super) async fn run(&self, job: Job) {
        let result = match &job {
            Job::Probe { app } => self.probe(app).await,
            Job::Provision { app, user } => self.provision(app, user, false).await,
            Job::Update { app, user } => self.provision(app, user, true).await,
            Job::Deactivate { app, scim_id, .. } => self.set_active(app, scim_id, false).await,
            Job::Reactivate { app, scim_id, .. } => self.set_active(app, scim_id, true).await,
            Job::PushGroup { app, mapping } => self.push_group(app, mapping).await,
        };
        self.record(&job, result);
    }

    /// "Test API Credentials": a SCIM `/Users` list with `token` must answer 200 with a
    /// ListResponse holding a `Resources` array (okta-api.md §12).
    pub(super) async fn test_api_credentials(
        &self,
        base_url: &str,
        token: &str,
    ) -> Result<(), String> {
        if base_url.is_empty() {
            return Err("no base URL".into());
        }
        let target = Target {
            base_url: base_url.to_owned(),
            token: token.to_owned(),
        };
        let list = self
            .send(
                &target,
                reqwest::Method::GET,
                "/Users?startIndex=1&count=2",
                None,
            )
            .await?;
        if list["Resources"].is_array() {
            Ok(())
        } else {
            Err("No results for users returned".into())
        }
    }

    async fn probe(&self, app: &str) -> Result<SyncOutcome, String> {
        let t = self.target(app)?;
        self.send(
            &t,
            reqwest::Method::GET,
            "/Users?startIndex=1&count=2",
            None,
        )
        .await?;
        self.send(
            &t,
            reqwest::Method::GET,
            "/Groups?startIndex=1&count=100",
            None,
        )
        .await?;
        Ok(SyncOutcome::Nothing)
    }

    async fn provision(&self, app: &str, user: &str, update: bool) -> Result<SyncOutcome, String> {
        let t = self.target(app)?;
        let (body, user_name, known_id) = self.user_body(app, user)?;
        let existing = match (update, known_id) {
            (true, Some(id)) => {
                self.send(&t, reqwest::Method::GET, &format!("/Users/{id}"), None)
                    .await?;
                Some(id)
            }
            _ => self.lookup(&t, &user_name).await?,
        };
        let id = match existing {
            Some(id) => {
                let mut body = body;
                body["id"] = json!(id);
                self.send(
                    &t,
                    reqwest::Method::PUT,
                    &format!("/Users/{id}"),
                    Some(body),
                )
                .await?;
                id
            }
            None => {
                let created = self
                    .send(&t, reqwest::Method::POST, "/Users", Some(body))
                    .await?;
                created["id"]
                    .as_str()
                    .ok_or("SCIM create returned no id")?
                    .to_string()
            }
        };
        Ok(SyncOutcome::Provisioned { external_id: id })
    }

    async fn lookup(&self, t: &Target, user_name: &str) -> Result<Option<String>, String> {
        let filter = format!("userName eq \"{user_name}\"");
        let query: String =
            url_query(&[("filter", &filter), ("startIndex", "1"), ("count", "100")]);
        let list = self
            .send(t, reqwest::Method::GET, &format!("/Users?{query}"), None)
            .await?;
        Ok(list["Resources"]
            .as_array()
            .and_then(|r| r.first())
            .and_then(|u| u["id"].as_str())
            .map(String::from))
    }

    /// Deactivation and reactivation: the OIN `PATCH` of §12, with nothing but `active`; or,
    /// for a custom app under the reading `okta.deactivate_verb = PUT`, the AIW way: the user
    /// read back (`GET`) and replaced whole (`PUT`) with `active` set.
    async fn set_active(&self, app: &str, id: &str, active: bool) -> Result<SyncOutcome, String> {
        let t = self.target(app)?;
        let path = format!("/Users/{id}");
        if self.deactivates_with_put(app) {
            let mut user = self.send(&t, reqwest::Method::GET, &path, None).await?;
            user["active"] = json!(active);
            self.send(&t, reqwest::Method::PUT, &path, Some(user))
                .await?;
        } else {
            let body = json!({"schemas": [CORE], "id": id, "active": active});
            self.send(&t, reqwest::Method::PATCH, &path, Some(body))
                .await?;
        }
        Ok(if active {
            SyncOutcome::Provisioned {
                external_id: id.to_string(),
            }
        } else {
            SyncOutcome::Deactivated
        })
    }

    async fn push_group(&self, app: &str, mapping: &str) -> Result<SyncOutcome, String> {
        let t = self.target(app)?;
        let (name, members) = self.push_data(app, mapping)?;
        let body = json!({"schemas": [CORE], "displayName": name});
        let group = self
            .send(&t, reqwest::Method::POST, "/Groups", Some(body))
            .await?;
        let id = group["id"]
            .as_str()
            .ok_or("SCIM group create returned no id")?
            .to_string();
        if !members.is_empty() {
            let members: Vec<Value> = members
                .into_iter()
                .map(|(value, display)| json!({"value": value, "display": display}))
                .collect();
            let body = json!({"schemas": [CORE], "members": members});
            self.send(
                &t,
                reqwest::Method::PATCH,
                &format!("/Groups/{id}"),
                Some(body),
            )
            .await?;
        }
        Ok(SyncOutcome::GroupPushed { target_id: id })
    }

    /// Sends one SCIM request; any non-2xx answer becomes the sync error text.
    async fn send(
        &self,
        t: &Target,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{}", t.base_url, path);
        let mut req = self
            .http()
            .request(method.clone(), &url)
            .header("Authorization", format!("Bearer {}", t.token))
            .header("User-Agent", "Okta SCIM Client 1.0.0")
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.json(&body);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| format!("Could not reach {method} {path}: {e}"))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            let excerpt: String = text.chars().take(200).collect();
            return Err(format!(
                "{method} {path} returned HTTP {}: {excerpt}",
                status.as_u16()
            ));
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn url_query(pairs: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://x/").expect("static URL parses");
    url.query_pairs_mut().extend_pairs(pairs.iter().copied());
    // SCIM servers expect `%20` rather than `+` for spaces in the filter.
    url.query().unwrap_or_default().replace('+', "%20")
}
