//! Brownfield scenarios: the Okta → Workspace ONE Access integration as an admin builds it by
//! hand from a setup guide, for `scimbridge import`'s tests and the demo.
//!
//! What must hold: a scenario is built the way a person builds it, only through the vendor APIs
//! the guides use (Postman against WS1 Access, Okta's Admin API), over real HTTP to this
//! sandbox's own URLs with its fake credentials, plus the console control route for what Okta's
//! public API refuses (the connection and To-App toggles of these apps); it never reaches into
//! emulator state. Each scenario carries the hand edits a real setup has: the label renamed
//! after creation, one mapping the admin added, the admin's own note and no managed block. The
//! token it mints goes to Okta and nowhere else; [`Built`] reports only facts about it. Building
//! twice on one sandbox fails at the first create (the OAuth client exists), naming the step.
//! A build waits for the pushes it queued, so what it reports has settled.
//!
//! Both scenarios use the people of the default seed (`examples/sandbox-seed.yaml`): the SCIM
//! 1.1 app takes `example.com` users, the OIN app the `corp.example.com` ones, so both can be
//! built on one sandbox.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use reqwest::{Method, RequestBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::okta::{self, WORKSPACE, WS1_SCIM_PATH};
use super::{RunningSandbox, Shared, Urls, ws1};

/// A hand-made setup the sandbox can build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// The "SCIM 1.1 Test App (OAuth Bearer Token)" set up from VMware's SCIM 1.1 guide.
    BrownfieldScim11,
    /// The OIN "VMware Workspace ONE" app set up by hand.
    BrownfieldOin,
}

impl Scenario {
    /// Every scenario, in the order `--help` names them.
    pub const ALL: [Scenario; 2] = [Scenario::BrownfieldScim11, Scenario::BrownfieldOin];

    /// The name the control route and `--scenario` take.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::BrownfieldScim11 => "brownfield-scim11",
            Scenario::BrownfieldOin => "brownfield-oin",
        }
    }

    /// What the admin chose and typed for this scenario.
    fn recipe(self) -> Recipe {
        match self {
            Scenario::BrownfieldScim11 => Recipe {
                oin: false,
                client_id: "OktaSCIM",
                directory: "Okta Directory",
                domain: "example.com",
                typed_label: "Workspace ONE",
                label: "Workspace ONE Access",
                note: "Set up by hand from VMware's SCIM 1.1 guide. Ask the identity team before changing anything.",
                update_users: false,
                users: &["alice@example.com"],
                groups: &["Workspace ONE Users"],
                pushed: &["Workspace ONE Admins"],
            },
            Scenario::BrownfieldOin => Recipe {
                oin: true,
                client_id: "OktaOIN",
                directory: "Okta Corp Directory",
                domain: "corp.example.com",
                typed_label: "VMware Workspace ONE",
                label: "Workspace ONE (IT pilot)",
                note: "IT pilot, OIN app. Token from the OktaOIN client in WS1.",
                update_users: true,
                users: &[],
                groups: &["Everyone in IT"],
                pushed: &["Everyone in IT"],
            },
        }
    }
}

impl FromStr for Scenario {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Scenario::ALL
            .into_iter()
            .find(|sc| sc.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Scenario::ALL.iter().map(|sc| sc.name()).collect();
                format!("unknown scenario {s:?} (known: {})", names.join(", "))
            })
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one scenario's admin chose: ids, names, toggles, people.
struct Recipe {
    oin: bool,
    client_id: &'static str,
    directory: &'static str,
    domain: &'static str,
    /// The label typed at creation; [`Recipe::label`] is what it was renamed to afterwards.
    typed_label: &'static str,
    label: &'static str,
    note: &'static str,
    update_users: bool,
    /// Logins assigned directly.
    users: &'static [&'static str],
    /// Groups assigned to the app.
    groups: &'static [&'static str],
    /// Groups pushed (group push mappings, target named like the group).
    pushed: &'static [&'static str],
}

/// What a scenario made, as the vendors' APIs name it. Never the token itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Built {
    /// The scenario's name, e.g. `brownfield-scim11`.
    pub scenario: String,
    /// The Okta app's id (`0oa…`).
    pub app_id: String,
    /// The app's catalog name (`scim1testapp`, or the OIN app's).
    pub app_name: String,
    /// The label after the admin renamed it.
    pub label: String,
    /// Where Okta provisions to (for the OIN app: its base URL setting plus the SCIM path).
    pub scim_base_url: String,
    /// The WS1 OAuth client whose token Okta holds.
    pub client_id: String,
    /// The WS1 Other directory's name, id and domain.
    pub directory: String,
    pub directory_id: String,
    pub domain: String,
    /// Facts about the bearer token Okta holds.
    pub token: TokenFacts,
    /// Logins assigned directly; groups assigned; groups pushed.
    pub users: Vec<String>,
    pub groups: Vec<String>,
    pub pushed_groups: Vec<String>,
}

/// What can be known about the token without holding it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenFacts {
    /// The client it was minted for (the JWT's `cid`).
    pub client_id: String,
    /// The JWT's `iat` and `exp`, Unix seconds on the sandbox clock.
    pub issued_at: u64,
    pub expires_at: u64,
    /// How it reached Okta: `console` (Provisioning > Integration).
    pub handed_over: String,
}

impl fmt::Display for Built {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let expires =
            httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(self.token.expires_at));
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        write!(
            f,
            "{}: Okta app {:?} ({}, {}) provisions to {} with a token of WS1 client {} (expires {expires}) \
             into directory {:?} ({}); users: {}; groups: {}; pushed: {}",
            self.scenario,
            self.label,
            self.app_id,
            self.app_name,
            self.scim_base_url,
            self.client_id,
            self.directory,
            self.domain,
            list(&self.users),
            list(&self.groups),
            list(&self.pushed_groups),
        )
    }
}

/// Builds `scenario` on a running sandbox, through its URLs.
pub async fn build(sandbox: &RunningSandbox, scenario: Scenario) -> Result<Built, String> {
    build_on(&sandbox.shared, scenario).await
}

/// Builds `scenario` on the sandbox `shared` belongs to (the control route's entry).
pub async fn build_on(shared: &Shared, scenario: Scenario) -> Result<Built, String> {
    let urls = shared
        .urls()
        .cloned()
        .ok_or("this sandbox does not know its URLs (it was not started with `start`)")?;
    // The catalog name Okta accepts for the OIN app is an open point; use the reading in force.
    let oin_name = shared.alternatives.get().oin_name;
    Admin::new(urls).build(scenario, &oin_name).await
}

/// The person at the keyboard: one HTTP client, the sandbox's URLs and fake credentials.
struct Admin {
    http: reqwest::Client,
    urls: Urls,
}

/// WS1's vendor media types for what the guide creates (ws1-api.md §2.3).
const CLIENT_TYPE: &str = "application/vnd.vmware.horizon.manager.oauth2client+json";
const OTHER_DIRECTORY_TYPE: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.other+json";
const WS1_API: &str = "/SAAS/jersey/manager/api";

impl Admin {
    fn new(urls: Urls) -> Self {
        Self {
            http: reqwest::Client::new(),
            urls,
        }
    }

    async fn build(&self, scenario: Scenario, oin_name: &str) -> Result<Built, String> {
        let r = scenario.recipe();
        // WS1 Access, through Postman: the OAuth client, the Other directory, the token.
        let admin = self
            .mint(
                ws1::ADMIN_CLIENT_ID,
                ws1::ADMIN_CLIENT_SECRET,
                "WS1 admin token",
            )
            .await?;
        let client = json!({
            "clientId": r.client_id, "rememberAs": r.client_id, "secret": ws1::SCIM_SHARED_SECRET,
            "scope": "admin", "authGrantTypes": "client_credentials", "tokenType": "Bearer",
            "accessTokenTTL": 525_600, "displayUserGrant": false, "internalSystemClient": false,
        });
        self.ws1(Method::POST, "/oauth2clients", CLIENT_TYPE, &admin)
            .json(&client)
            .send_as(&format!("create WS1 OAuth client {}", r.client_id))
            .await?;
        let dir = json!({"type": "OTHER_DIRECTORY", "name": r.directory, "domains": [r.domain]});
        let dir = self
            .ws1(
                Method::POST,
                "/connectormanagement/directoryconfigs",
                OTHER_DIRECTORY_TYPE,
                &admin,
            )
            .json(&dir)
            .send_as(&format!("create WS1 directory {:?}", r.directory))
            .await?;
        let directory_id = text(&dir, "directoryConfigurationId");
        let token = self
            .mint(
                r.client_id,
                ws1::SCIM_SHARED_SECRET,
                "mint the bearer token",
            )
            .await?;
        let claims = ws1::token::verify(&token).ok_or("the minted token is not WS1's")?;
        let facts = TokenFacts {
            client_id: text(&claims, "cid"),
            issued_at: claims["iat"].as_u64().unwrap_or_default(),
            expires_at: claims["exp"].as_u64().unwrap_or_default(),
            handed_over: "console".into(),
        };

        // Okta's Admin API: the app as typed, then the Profile Editor and the mappings.
        let app_name = if r.oin { oin_name } else { "scim1testapp" };
        let settings_app = if r.oin {
            json!({"baseUrl": self.urls.ws1})
        } else {
            json!({})
        };
        let app = json!({
            "name": app_name, "label": r.typed_label, "signOnMode": "AUTO_LOGIN",
            "credentials": {"scheme": "EXTERNAL_PASSWORD_SYNC", "userNameTemplate": {
                "template": "${fn:substringBefore(source.email, \"@\")}", "type": "BUILT_IN"}},
            "visibility": {"hide": {"iOS": true, "web": true}},
            "settings": {"app": settings_app, "notes": {"admin": r.note, "enduser": null}},
        });
        let app = self
            .okta(Method::POST, "/api/v1/apps?activate=true")
            .json(&app)
            .send_as(&format!("create Okta app {:?}", r.typed_label))
            .await?;
        let app_id = text(&app, "id");
        self.add_attributes(&app_id, r.oin).await?;
        self.map(&app_id, &r).await?;
        self.rename(&app_id, r.label).await?;

        // The console's Provisioning > Integration and To App screens.
        let scim_base_url = format!("{}{WS1_SCIM_PATH}", self.urls.ws1);
        let mut console = json!({
            "token": token, "createUsers": true, "updateUsers": r.update_users,
            "deactivateUsers": true,
        });
        if !r.oin {
            console["baseUrl"] = json!(scim_base_url);
        }
        self.request(
            Method::POST,
            &format!(
                "{}/_sandbox/okta/apps/{app_id}/provisioning",
                self.urls.okta
            ),
        )
        .json(&console)
        .send_as("console step: Provisioning > Integration and To App")
        .await?;

        // Assignments and group push, from the seed's people.
        for login in r.users {
            let user = self
                .okta(Method::GET, &format!("/api/v1/users/{login}"))
                .send_as(&format!("look up Okta user {login}"))
                .await?;
            self.okta(Method::POST, &format!("/api/v1/apps/{app_id}/users"))
                .json(&json!({"id": text(&user, "id"), "scope": "USER"}))
                .send_as(&format!("assign {login}"))
                .await?;
        }
        for name in r.groups {
            let group = self.group_id(name).await?;
            self.okta(
                Method::PUT,
                &format!("/api/v1/apps/{app_id}/groups/{group}"),
            )
            .json(&json!({}))
            .send_as(&format!("assign group {name:?}"))
            .await?;
        }
        for name in r.pushed {
            let group = self.group_id(name).await?;
            let push = json!({"sourceGroupId": group, "status": "ACTIVE", "targetGroupName": name});
            self.okta(
                Method::POST,
                &format!("/api/v1/apps/{app_id}/group-push/mappings"),
            )
            .json(&push)
            .send_as(&format!("push group {name:?}"))
            .await?;
        }
        self.request(
            Method::POST,
            &format!("{}/_sandbox/okta/wait", self.urls.okta),
        )
        .send_as("wait for Okta's pushes")
        .await?;

        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        Ok(Built {
            scenario: scenario.name().into(),
            app_id,
            app_name: app_name.into(),
            label: r.label.into(),
            scim_base_url,
            client_id: r.client_id.into(),
            directory: r.directory.into(),
            directory_id,
            domain: r.domain.into(),
            token: facts,
            users: names(r.users),
            groups: names(r.groups),
            pushed_groups: names(r.pushed),
        })
    }

    /// A client-credentials token for `client` (ws1-api.md §3.1).
    async fn mint(&self, client: &str, secret: &str, step: &str) -> Result<String, String> {
        let answer = self
            .request(
                Method::POST,
                &format!("{}/SAAS/auth/oauthtoken", self.urls.ws1),
            )
            .basic_auth(client, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send_as(step)
            .await?;
        answer["access_token"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| format!("{step}: the answer has no access_token"))
    }

    /// The Profile Editor: the workspace attributes the app's profile lacks, one at a time
    /// (okta-api.md §8). The OIN app's profile has them, `domain` depending on the reading.
    async fn add_attributes(&self, app_id: &str, oin: bool) -> Result<(), String> {
        let path = format!("/api/v1/meta/schemas/apps/{app_id}/default");
        let schema = self
            .okta(Method::GET, &path)
            .send_as("read the app user schema")
            .await?;
        let wanted: &[(&str, &str)] = if oin {
            &[("domain", "Domain")]
        } else {
            &[
                ("internalUserType", "Internal User Type"),
                ("userPrincipalName", "User Principal Name"),
                ("domain", "Domain"),
            ]
        };
        for (name, title) in wanted {
            let known = ["base", "custom"]
                .iter()
                .any(|part| !schema["definitions"][part]["properties"][name].is_null());
            if known {
                continue;
            }
            let attr = json!({
                "title": title, "type": "string", "required": false, "scope": "NONE",
                "externalName": name, "externalNamespace": WORKSPACE,
                "master": {"type": "PROFILE_MASTER"}, "union": "DISABLE",
            });
            let body = json!({"definitions": {"custom": {"id": "#custom", "type": "object",
                                                          "properties": {*name: attr}}}});
            self.okta(Method::POST, &path)
                .json(&body)
                .send_as(&format!("add attribute {name}"))
                .await?;
        }
        Ok(())
    }

    /// Okta user → app user mappings: the guide's, saved at once, then the admin's own extra
    /// one (okta-api.md §9).
    async fn map(&self, app_id: &str, r: &Recipe) -> Result<(), String> {
        let list = self
            .okta(Method::GET, &format!("/api/v1/mappings?targetId={app_id}"))
            .send_as("find the app's profile mapping")
            .await?;
        let mapping = list
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["target"]["id"] == app_id && m["source"]["type"] == "user")
            .map(|m| text(m, "id"))
            .ok_or("find the app's profile mapping: none goes from the Okta user to the app")?;
        let push = |expr: &str| json!({"expression": expr, "pushStatus": "PUSH"});
        let mut guide = Map::new();
        guide.insert("domain".into(), push(&format!("\"{}\"", r.domain)));
        if !r.oin {
            guide.insert("internalUserType".into(), push("\"PROVISIONED\""));
            guide.insert("userPrincipalName".into(), push("user.login"));
            guide.insert("displayName".into(), Value::Null);
            guide.insert("locale".into(), Value::Null);
        }
        // The hand edit: the admin spelled out the username as the template already makes it.
        let extra = json!({"userName": push("String.substringBefore(user.email, \"@\")")});
        for (step, properties) in [
            ("map attributes", Value::Object(guide)),
            ("add a mapping", extra),
        ] {
            self.okta(Method::POST, &format!("/api/v1/mappings/{mapping}"))
                .json(&json!({"properties": properties}))
                .send_as(step)
                .await?;
        }
        Ok(())
    }

    /// The label edited on the General tab: read the app, change the label, save it whole.
    async fn rename(&self, app_id: &str, label: &str) -> Result<(), String> {
        let path = format!("/api/v1/apps/{app_id}");
        let mut app = self
            .okta(Method::GET, &path)
            .send_as("read the app")
            .await?;
        app["label"] = json!(label);
        self.okta(Method::PUT, &path)
            .json(&app)
            .send_as(&format!("rename the app to {label:?}"))
            .await?;
        Ok(())
    }

    /// An Okta group's id by its exact name (okta-api.md §10: `q`, then compare exactly).
    async fn group_id(&self, name: &str) -> Result<String, String> {
        let step = format!("look up Okta group {name:?}");
        let groups = self
            .okta(Method::GET, "/api/v1/groups")
            .query(&[("q", name)])
            .send_as(&step)
            .await?;
        groups
            .as_array()
            .into_iter()
            .flatten()
            .find(|g| g["profile"]["name"] == name)
            .map(|g| text(g, "id"))
            .ok_or_else(|| format!("{step}: no such group"))
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    /// An Okta Admin API request with the sandbox's API token.
    fn okta(&self, method: Method, path: &str) -> RequestBuilder {
        self.request(method, &format!("{}{path}", self.urls.okta))
            .header("Authorization", format!("SSWS {}", okta::API_TOKEN))
            .header("Accept", "application/json")
    }

    /// A WS1 admin API request under `/SAAS/jersey/manager/api` with the vendor media type.
    fn ws1(&self, method: Method, path: &str, media: &str, token: &str) -> RequestBuilder {
        self.request(method, &format!("{}{WS1_API}{path}", self.urls.ws1))
            .bearer_auth(token)
            .header("Content-Type", media)
            .header("Accept", media)
    }
}

/// Sends a request; a failure names the step, the status and the start of the answer.
trait SendAs {
    async fn send_as(self, step: &str) -> Result<Value, String>;
}

impl SendAs for RequestBuilder {
    async fn send_as(self, step: &str) -> Result<Value, String> {
        let answer = self.send().await.map_err(|e| format!("{step}: {e}"))?;
        let status = answer.status();
        let body = answer.text().await.map_err(|e| format!("{step}: {e}"))?;
        if !status.is_success() {
            let excerpt: String = body.chars().take(300).collect();
            return Err(format!("{step}: {status}: {excerpt}"));
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body).map_err(|e| format!("{step}: the answer is not JSON: {e}"))
    }
}

/// A string field of an answer, empty when absent.
fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}
