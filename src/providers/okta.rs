//! [`OktaClient`]: the Okta Management API calls the reconciler needs, with `SSWS` token auth,
//! `Link rel="next"` pagination and rate-limit buckets (reference/okta-api.md §2, §3).
//!
//! What must hold: models deserialize leniently (unknown fields ignored, optional ones defaulted
//! when missing, since Okta adds properties at any time and may omit null ones, §3), but what
//! identifies an object (its id, a user's login, a group's name, an assignment's scope, a mapping's
//! ends) is required: missing, or present with another type, it is an [`ErrorKind::Decode`] error
//! naming the list, item and field, never read as empty (an empty id or login makes the planner
//! assign, push or delete the wrong thing); an app
//! keeps its raw JSON so a full-replace `PUT` is read-modify-write of the whole object (§1.3);
//! next-page URLs are followed as given, never built; capabilities the API refuses for an app (connection `UNKNOWN`, features 400
//! E0000001, §1.1) come back as [`Capability::Unsupported`], not as an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{
    self, ApiError, ErrorKind, HttpClient, HttpSettings, Request, Response, decode_error, shown,
};
use crate::secret::Secret;

pub use crate::ids::{MappingId, OktaAppId, OktaGroupId, OktaUserId, PushMappingId};

/// Whether the API accepts a capability for this app (reference/okta-api.md §1.1).
#[derive(Clone, Debug, PartialEq)]
pub enum Capability<T> {
    Supported(T),
    /// The API refuses it for this app: plan it as a manual step.
    Unsupported,
}

/// An application instance (reference/okta-api.md §4). `raw` is the whole object as read.
#[derive(Clone, Debug, PartialEq)]
pub struct App {
    pub id: OktaAppId,
    pub name: String,
    pub label: String,
    pub status: String,
    pub sign_on_mode: Option<String>,
    /// Read-only provisioning features, e.g. `PUSH_NEW_USERS` (§4, `features[]`).
    pub features: Vec<String>,
    /// `settings.notes.admin`.
    pub admin_note: Option<String>,
    /// `visibility.hide.web`, `visibility.hide.iOS`.
    pub hide_web: bool,
    pub hide_ios: bool,
    /// `credentials.userNameTemplate.template` / `.type`.
    pub user_name_template: Option<String>,
    pub user_name_template_type: Option<String>,
    /// `settings.app.baseUrl`, the OIN app's base URL.
    pub settings_base_url: Option<String>,
    pub raw: Value,
}

impl App {
    /// Builds the typed view of a raw app object. `id`, `name`, `label` and `status` are
    /// required; the other fields may be absent, but one present with another type is an
    /// error naming it, never read as absent (an app whose note cannot be read is not "an app
    /// without our block").
    pub fn from_raw(raw: Value) -> Result<Self, String> {
        let text =
            |p: &str| field(&raw, p, "a string", Value::as_str).map(|v| v.map(str::to_owned));
        let required = |p: &str| text(p)?.ok_or_else(|| format!("`{}` is missing", dotted(p)));
        let flag =
            |p: &str| field(&raw, p, "a boolean", Value::as_bool).map(|v| v.unwrap_or(false));
        let features = field(&raw, "/features", "an array", Value::as_array)?
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, f)| {
                f.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("`features[{i}]` is {}, not a string", shown(f)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            id: OktaAppId::new(required("/id")?),
            name: required("/name")?,
            label: required("/label")?,
            status: required("/status")?,
            sign_on_mode: text("/signOnMode")?,
            features,
            admin_note: text("/settings/notes/admin")?,
            hide_web: flag("/visibility/hide/web")?,
            hide_ios: flag("/visibility/hide/iOS")?,
            user_name_template: text("/credentials/userNameTemplate/template")?,
            user_name_template_type: text("/credentials/userNameTemplate/type")?,
            settings_base_url: text("/settings/app/baseUrl")?,
            raw,
        })
    }
}

/// The field at `pointer`: `None` when absent or null, else `get`'s reading of it, or an error
/// saying the field is not `kind`.
fn field<'a, T>(
    raw: &'a Value,
    pointer: &str,
    kind: &str,
    get: impl Fn(&'a Value) -> Option<T>,
) -> Result<Option<T>, String> {
    match raw.pointer(pointer) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => get(value)
            .map(Some)
            .ok_or_else(|| format!("`{}` is {}, not {kind}", dotted(pointer), shown(value))),
    }
}

/// `/settings/notes/admin` as `settings.notes.admin`.
fn dotted(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// Whether an app's read-only `features[]` show Okta's provisioning on: any of the To App
/// pushes (§7).
pub fn provisioning_on(features: &[String]) -> bool {
    features.iter().any(|f| {
        f == "PUSH_NEW_USERS" || f == "PUSH_PROFILE_UPDATES" || f == "PUSH_USER_DEACTIVATION"
    })
}

impl App {
    /// Sets the admin note (`settings.notes.admin`) on the whole object, for the next
    /// [`OktaClient::replace_app`].
    pub fn set_admin_note(&mut self, note: &str) {
        self.raw["settings"]["notes"]["admin"] = json!(note);
        self.admin_note = Some(note.to_owned());
    }

    /// Sets `fields` on the whole object as read; everything else stays (§4: `PUT` replaces).
    pub fn set_fields(&mut self, fields: &AppFields) {
        let raw = &mut self.raw;
        raw["label"] = json!(fields.label);
        raw["credentials"]["userNameTemplate"] =
            json!({"template": fields.username_template, "type": fields.username_kind});
        raw["visibility"]["hide"]["web"] = json!(fields.hide_web);
        raw["visibility"]["hide"]["iOS"] = json!(fields.hide_mobile);
        if let Some(url) = &fields.settings_base_url {
            raw["settings"]["app"]["baseUrl"] = json!(url);
        }
    }
}

/// The app fields scimbridge manages; the rest of an app is kept as read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppFields {
    pub label: String,
    /// `credentials.userNameTemplate.type` (`BUILT_IN`, `CUSTOM`).
    pub username_kind: String,
    pub username_template: String,
    /// `visibility.hide.web` and `.iOS`.
    pub hide_web: bool,
    pub hide_mobile: bool,
    /// `settings.app.baseUrl`, for apps that have one (the OIN app's General tab).
    pub settings_base_url: Option<String>,
}

impl AppFields {
    /// The body creating an instance of catalog app `name` with these fields and `admin_note`
    /// (§4, the minimal OIN-instance body).
    fn create_body(&self, name: &str, admin_note: &str) -> Value {
        let mut app_settings = json!({});
        if let Some(url) = &self.settings_base_url {
            app_settings["baseUrl"] = json!(url);
        }
        json!({
            "name": name,
            "label": self.label,
            "signOnMode": "AUTO_LOGIN",
            "credentials": {
                "scheme": "EXTERNAL_PASSWORD_SYNC",
                "userNameTemplate": {"template": self.username_template, "type": self.username_kind},
            },
            "visibility": {"hide": {"iOS": self.hide_mobile, "web": self.hide_web}},
            "settings": {"app": app_settings, "notes": {"admin": admin_note, "enduser": null}},
        })
    }
}

/// The To App toggles (§7: `USER_PROVISIONING`'s capabilities).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToAppToggles {
    pub create_users: bool,
    pub update_users: bool,
    pub deactivate_users: bool,
}

impl ToAppToggles {
    fn capabilities(self) -> Value {
        let status = |on: bool| json!({"status": if on { "ENABLED" } else { "DISABLED" }});
        json!({
            "create": {"lifecycleCreate": status(self.create_users)},
            "update": {"profile": status(self.update_users), "lifecycleDeactivate": status(self.deactivate_users)},
        })
    }
}

/// The provisioning connection (reference/okta-api.md §6). The token is never returned.
/// `authScheme` and `status` are in every answer §6 shows and decide whether the connection
/// is planned at all, so they are required.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProvisioningConnection {
    /// `TOKEN`, `OAUTH2` or `UNKNOWN` (kept as a string: the spec's enum lacks values seen live).
    pub auth_scheme: String,
    /// `ENABLED`, `DISABLED` or `UNKNOWN`.
    pub status: String,
    pub base_url: Option<String>,
}

/// One app feature, e.g. `USER_PROVISIONING` (reference/okta-api.md §7).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppFeature {
    pub name: String,
    pub status: String,
    /// `{create:{lifecycleCreate:{status}}, update:{profile, lifecycleDeactivate, password}}`.
    pub capabilities: Value,
}

/// The app user schema (reference/okta-api.md §8).
#[derive(Clone, Debug, PartialEq)]
pub struct AppUserSchema {
    /// `definitions.base.properties`.
    pub base: BTreeMap<String, SchemaAttribute>,
    /// `definitions.custom.properties`.
    pub custom: BTreeMap<String, SchemaAttribute>,
    /// `definitions.custom.required`.
    pub custom_required: Vec<String>,
    pub raw: Value,
}

impl AppUserSchema {
    /// The schema's properties; one of the wrong shape is an error naming it.
    fn from_raw(raw: Value) -> Result<Self, String> {
        let props = |p: &str| -> Result<BTreeMap<String, SchemaAttribute>, String> {
            field(&raw, p, "an object", Value::as_object)?
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let attribute = serde_json::from_value(v.clone())
                        .map_err(|e| format!("`{}.{k}`: {e}", dotted(p)))?;
                    Ok((k.clone(), attribute))
                })
                .collect()
        };
        let custom_required = field(
            &raw,
            "/definitions/custom/required",
            "an array",
            Value::as_array,
        )?
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, v)| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                format!(
                    "`definitions.custom.required[{i}]` is {}, not a string",
                    shown(v)
                )
            })
        })
        .collect::<Result<_, _>>()?;
        Ok(Self {
            base: props("/definitions/base/properties")?,
            custom: props("/definitions/custom/properties")?,
            custom_required,
            raw,
        })
    }
}

/// One schema attribute; only fields Okta echoes are diffed (§8 "Observed response quirks").
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SchemaAttribute {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<Value>,
}

impl SchemaAttribute {
    /// `master` for an attribute whose value comes from the Okta profile (§8).
    pub fn profile_master() -> Option<Value> {
        Some(json!({"type": "PROFILE_MASTER"}))
    }
}

/// One end of a profile mapping; the Okta user → app mapping is found by these (§9).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct MappingEnd {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub type_: String,
}

/// A mapped property (reference/okta-api.md §9).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MappingProperty {
    pub expression: Option<String>,
    /// `PUSH` (create and update) or `DONT_PUSH` (create only).
    pub push_status: Option<String>,
}

/// A profile mapping; the list endpoint leaves `properties` empty (§9).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ProfileMapping {
    pub id: MappingId,
    pub source: MappingEnd,
    pub target: MappingEnd,
    #[serde(default)]
    pub properties: BTreeMap<String, MappingProperty>,
}

/// The profile fields of a user the reconciler uses; `login` is the user's natural key.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    pub login: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// An Okta user (reference/okta-api.md §10).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct User {
    pub id: OktaUserId,
    #[serde(default)]
    pub status: String,
    pub profile: UserProfile,
}

/// A group's profile; `name` is the group's natural key.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct GroupProfile {
    pub name: String,
    pub description: Option<String>,
}

/// An Okta group (reference/okta-api.md §10).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Group {
    pub id: OktaGroupId,
    #[serde(rename = "type", default)]
    pub type_: String,
    pub profile: GroupProfile,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AppUserCredentials {
    pub user_name: Option<String>,
}

/// A user's assignment to an app (reference/okta-api.md §10).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUser {
    pub id: OktaUserId,
    /// `USER` (direct) or `GROUP` (through a group): reconcile direct ones only. Required: an
    /// assignment of unknown scope would be planned as missing and assigned again.
    pub scope: String,
    #[serde(default)]
    pub status: String,
    /// `DISABLED`, `ERROR`, `OUT_OF_SYNC`, `SYNCHRONIZED`, `SYNCING`.
    pub sync_state: Option<String>,
    // The app user's own profile and credentials are not read: scimbridge never uses them, and
    // at 100,000 users they were most of the memory a read held.
    pub last_sync: Option<String>,
    /// What `expand=user` embeds; absent where Okta does not embed it.
    #[serde(rename = "_embedded")]
    pub embedded: Option<AppUserEmbedded>,
}

/// `_embedded` of an app user (reference/okta-api.md §10, `expand=user`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AppUserEmbedded {
    pub user: Option<User>,
}

/// A group's assignment to an app (reference/okta-api.md §10).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct AppGroup {
    pub id: OktaGroupId,
    pub priority: Option<i64>,
    #[serde(default)]
    pub profile: Value,
}

/// A group push mapping (reference/okta-api.md §11).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPushMapping {
    pub id: PushMappingId,
    pub source_group_id: OktaGroupId,
    pub target_group_id: Option<String>,
    /// `ACTIVE`, `INACTIVE` or `ERROR`. Required: an empty status would plan an activation.
    pub status: String,
    pub error_summary: Option<String>,
}

/// The Okta Management API client.
#[derive(Clone)]
pub struct OktaClient {
    http: Arc<HttpClient>,
    base: Url,
    auth: HeaderValue,
}

impl std::fmt::Debug for OktaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OktaClient")
            .field("base", &self.base.as_str())
            .finish_non_exhaustive()
    }
}

/// Okta's rate-limit bucket for a path (reference/okta-api.md §3, TF `rate_limit_lines.go`):
/// `/api/v1/apps` covers listing, creating and every app sub-resource; `/api/v1/apps/{id}` one
/// app; groups, users and single users have their own; the rest shares the org-wide `/api/v1`.
pub fn rate_limit_bucket(path: &str) -> String {
    let segments: Vec<&str> = path
        .trim_end_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let bucket = match segments.as_slice() {
        ["api", "v1", "apps", _id] => "/api/v1/apps/{id}",
        ["api", "v1", "apps", ..] => "/api/v1/apps",
        ["api", "v1", "groups", ..] => "/api/v1/groups",
        ["api", "v1", "users"] => "/api/v1/users",
        ["api", "v1", "users", ..] => "/api/v1/users/{id}",
        _ => "/api/v1",
    };
    bucket.to_owned()
}

impl OktaClient {
    /// A client for the org at `org_url` (e.g. `https://acme.okta.com`), authenticating with an
    /// API token (`Authorization: SSWS <token>`, §2).
    pub fn new(org_url: &str, token: &Secret, settings: HttpSettings) -> Result<Self, ApiError> {
        let base = parse_base(org_url)?;
        http::require_https(&Method::GET, &base)?;
        let mut auth =
            HeaderValue::from_str(&format!("SSWS {}", token.expose())).map_err(|_| {
                ApiError::local(
                    ErrorKind::Auth,
                    Method::GET,
                    &base,
                    "the API token is not a valid header value",
                )
            })?;
        auth.set_sensitive(true);
        Ok(Self {
            http: Arc::new(HttpClient::new(settings)?),
            base,
            auth,
        })
    }

    /// The server's time now, from its `Date` headers (see [`HttpClient::server_now`]).
    pub fn server_now(&self) -> Option<i64> {
        self.http.server_now()
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    fn request(&self, method: Method, url: Url, body: Option<&Value>) -> Request {
        let bucket = rate_limit_bucket(url.path());
        let mut req = Request::new(method, url)
            .header(AUTHORIZATION, self.auth.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .bucket(Some(bucket));
        if let Some(body) = body {
            req = req
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.to_string().into_bytes());
        }
        req
    }

    async fn send(&self, req: Request) -> Result<Response, ApiError> {
        self.http.send(req).await
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let url = self.url(path, query);
        let resp = self.send(self.request(method.clone(), url, body)).await?;
        http::decode(&method, &resp)
    }

    async fn call_empty(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(), ApiError> {
        let url = self.url(path, query);
        self.send(self.request(method, url, body)).await.map(drop)
    }

    /// GETs every page of a list, following `Link rel="next"` as an opaque URL (§3).
    async fn list<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, ApiError> {
        self.list_limited(path, query, http::BODY_LIMIT).await
    }

    /// [`Self::list`] with pages of up to `limit` bytes each.
    async fn list_limited<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
    ) -> Result<Vec<T>, ApiError> {
        self.list_map(path, query, limit, Ok).await
    }

    /// Every page of a list, each item turned by `keep` as its page arrives (so what is kept
    /// can be smaller than what came). The next page is asked for as soon as an answer's
    /// `Link` header names it, before its body is decoded: a cursor chain is the critical path
    /// of a read, and decoding stays off it.
    async fn list_map<T: DeserializeOwned, U>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        limit: usize,
        mut keep: impl FnMut(T) -> Result<U, ApiError>,
    ) -> Result<Vec<U>, ApiError> {
        let mut url = self.url(path, query);
        let mut out = Vec::new();
        let mut pending = Some(self.fetch(url.clone(), limit));
        while let Some(fetching) = pending.take() {
            let resp = fetching.await.map_err(|e| {
                ApiError::local(ErrorKind::Transport, Method::GET, &url, e.to_string())
            })??;
            if let Some(next) = http::next_link(&resp.headers) {
                let next = url.join(&next).map_err(|_| {
                    ApiError::local(ErrorKind::Decode, Method::GET, &url, "unparsable next link")
                })?;
                // A next link that repeats the current page would loop forever.
                if next != url {
                    pending = Some(self.fetch(next.clone(), limit));
                    url = next;
                }
            }
            let page: Vec<T> = match http::decode(&Method::GET, &resp) {
                Ok(page) => page,
                Err(e) => {
                    if let Some(fetching) = pending {
                        fetching.abort();
                    }
                    return Err(e);
                }
            };
            for item in page {
                out.push(keep(item)?);
            }
        }
        // Pages grow the list by doubling; what is kept for the run should not carry the slack.
        out.shrink_to_fit();
        Ok(out)
    }

    /// One page, fetched on its own task so the caller can decode the one before meanwhile.
    fn fetch(&self, url: Url, limit: usize) -> tokio::task::JoinHandle<Result<Response, ApiError>> {
        let client = self.clone();
        tokio::spawn(async move {
            client
                .send(client.request(Method::GET, url, None).limit(limit))
                .await
        })
    }

    // ---- Applications (§4) ----

    /// `GET /api/v1/apps?q=…&filter=…`, every page. `q` is a prefix match on name or label;
    /// `filter` e.g. `name eq "scim1testapp"`. Compare `label` exactly on the caller's side.
    pub async fn list_apps(
        &self,
        q: Option<&str>,
        filter: Option<&str>,
    ) -> Result<Vec<App>, ApiError> {
        let mut query = vec![("limit", "200")];
        if let Some(q) = q {
            query.push(("q", q));
        }
        if let Some(f) = filter {
            query.push(("filter", f));
        }
        let raw: Vec<Value> = self.list("/api/v1/apps", &query).await?;
        raw.into_iter()
            .enumerate()
            .map(|(i, raw)| {
                let id = raw.get("id").and_then(Value::as_str).map(str::to_owned);
                App::from_raw(raw).map_err(|e| {
                    let id = id.map(|id| format!(" ({id})")).unwrap_or_default();
                    let url = self.url("/api/v1/apps", &query);
                    decode_error(
                        Method::GET,
                        &url,
                        format!("the apps list, item {i}{id}: {e}"),
                    )
                })
            })
            .collect()
    }

    /// `GET /api/v1/apps/{id}`.
    pub async fn get_app(&self, id: &OktaAppId) -> Result<App, ApiError> {
        let raw: Value = self.call(Method::GET, &app_path(id, ""), &[], None).await?;
        to_app(raw, &self.url(&app_path(id, ""), &[]))
    }

    /// `POST /api/v1/apps?activate=…`: an instance of catalog app `name` with `fields` and
    /// `admin_note` (a raw body: typed SDK paths drop `name`, §4).
    pub async fn create_app(
        &self,
        name: &str,
        fields: &AppFields,
        admin_note: &str,
        activate: bool,
    ) -> Result<App, ApiError> {
        let activate = if activate { "true" } else { "false" };
        let body = fields.create_body(name, admin_note);
        let raw: Value = self
            .call(
                Method::POST,
                "/api/v1/apps",
                &[("activate", activate)],
                Some(&body),
            )
            .await?;
        to_app(raw, &self.url("/api/v1/apps", &[]))
    }

    /// `PUT /api/v1/apps/{id}`: full replace with the whole object of `app`, a fresh read with
    /// your changes applied ([`App::set_fields`], [`App::set_admin_note`]), so fields
    /// scimbridge does not model survive (§1.3).
    pub async fn replace_app(&self, app: &App) -> Result<App, ApiError> {
        let path = app_path(&app.id, "");
        let raw: Value = self.call(Method::PUT, &path, &[], Some(&app.raw)).await?;
        to_app(raw, &self.url(&path, &[]))
    }

    /// `POST /api/v1/apps/{id}/lifecycle/activate` (no body, `Content-Length: 0`).
    pub async fn activate_app(&self, id: &OktaAppId) -> Result<(), ApiError> {
        self.call_empty(
            Method::POST,
            &app_path(id, "/lifecycle/activate"),
            &[],
            None,
        )
        .await
    }

    /// `POST /api/v1/apps/{id}/lifecycle/deactivate`.
    pub async fn deactivate_app(&self, id: &OktaAppId) -> Result<(), ApiError> {
        self.call_empty(
            Method::POST,
            &app_path(id, "/lifecycle/deactivate"),
            &[],
            None,
        )
        .await
    }

    /// `DELETE /api/v1/apps/{id}`; the app must be INACTIVE first.
    pub async fn delete_app(&self, id: &OktaAppId) -> Result<(), ApiError> {
        self.call_empty(Method::DELETE, &app_path(id, ""), &[], None)
            .await
    }

    // ---- Provisioning connection and features (§6, §7) ----

    /// `GET …/connections/default`; `UNKNOWN` auth scheme or status means the API does not
    /// support provisioning for this app (§1.1, §6).
    pub async fn connection(
        &self,
        id: &OktaAppId,
    ) -> Result<Capability<ProvisioningConnection>, ApiError> {
        let conn: ProvisioningConnection = self
            .call(
                Method::GET,
                &app_path(id, "/connections/default"),
                &[],
                None,
            )
            .await?;
        if conn.auth_scheme.eq_ignore_ascii_case("UNKNOWN")
            || conn.status.eq_ignore_ascii_case("UNKNOWN")
        {
            return Ok(Capability::Unsupported);
        }
        Ok(Capability::Supported(conn))
    }

    /// `POST …/connections/default?activate=…` with a token profile. Only works for apps the API
    /// supports; for others Okta refuses and the error kind is [`ErrorKind::Unsupported`].
    pub async fn set_token_connection(
        &self,
        id: &OktaAppId,
        base_url: Option<&str>,
        token: &Secret,
        activate: bool,
    ) -> Result<ProvisioningConnection, ApiError> {
        let mut body = json!({"profile": {"authScheme": "TOKEN", "token": token.expose()}});
        if let Some(base) = base_url {
            body["baseUrl"] = json!(base);
        }
        let activate = if activate { "true" } else { "false" };
        let path = app_path(id, "/connections/default");
        let url = self.url(&path, &[("activate", activate)]);
        let resp = self
            .send(self.request(Method::POST, url, Some(&body)))
            .await
            .map_err(unsupported_on_validation)?;
        http::decode(&Method::POST, &resp)
    }

    /// `POST …/connections/default/lifecycle/activate`.
    pub async fn activate_connection(&self, id: &OktaAppId) -> Result<(), ApiError> {
        self.call_empty(
            Method::POST,
            &app_path(id, "/connections/default/lifecycle/activate"),
            &[],
            None,
        )
        .await
    }

    /// `GET …/features`; 400 E0000001 ("Provisioning is not enabled for the app instance") means
    /// unsupported (§1.1).
    pub async fn features(&self, id: &OktaAppId) -> Result<Capability<Vec<AppFeature>>, ApiError> {
        match self
            .call(Method::GET, &app_path(id, "/features"), &[], None)
            .await
        {
            Ok(features) => Ok(Capability::Supported(features)),
            Err(e) if is_unsupported(&e) => Ok(Capability::Unsupported),
            Err(e) => Err(e),
        }
    }

    /// `PUT …/features/{name}` with the capabilities object only (partial update, §7).
    async fn update_feature(
        &self,
        id: &OktaAppId,
        feature: &str,
        capabilities: &Value,
    ) -> Result<AppFeature, ApiError> {
        let path = app_path(id, &format!("/features/{feature}"));
        self.call(Method::PUT, &path, &[], Some(capabilities))
            .await
            .map_err(unsupported_on_validation)
    }

    /// Sets the To App toggles (`PUT …/features/USER_PROVISIONING`, partial, §7);
    /// [`ErrorKind::Unsupported`] where the API refuses features for the app.
    pub async fn set_to_app_toggles(
        &self,
        id: &OktaAppId,
        toggles: ToAppToggles,
    ) -> Result<AppFeature, ApiError> {
        self.update_feature(id, "USER_PROVISIONING", &toggles.capabilities())
            .await
    }

    // ---- App user schema (§8) ----

    /// `GET /api/v1/meta/schemas/apps/{id}/default`.
    pub async fn app_user_schema(&self, id: &OktaAppId) -> Result<AppUserSchema, ApiError> {
        let raw: Value = self.call(Method::GET, &schema_path(id), &[], None).await?;
        let url = self.url(&schema_path(id), &[]);
        schema_from_raw(Method::GET, &url, raw)
    }

    /// `POST …/default` adding or updating custom properties (partial update).
    pub async fn upsert_schema_attributes(
        &self,
        id: &OktaAppId,
        attributes: &BTreeMap<String, SchemaAttribute>,
    ) -> Result<AppUserSchema, ApiError> {
        let props: serde_json::Map<String, Value> = attributes
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
            .collect();
        self.post_schema(id, Value::Object(props)).await
    }

    /// `POST …/default` with each named custom property set to `null`, which removes it.
    pub async fn remove_schema_attributes(
        &self,
        id: &OktaAppId,
        names: &[&str],
    ) -> Result<AppUserSchema, ApiError> {
        let props: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| ((*n).to_owned(), Value::Null))
            .collect();
        self.post_schema(id, Value::Object(props)).await
    }

    async fn post_schema(
        &self,
        id: &OktaAppId,
        properties: Value,
    ) -> Result<AppUserSchema, ApiError> {
        let body = json!({"definitions": {"custom": {"id": "#custom", "type": "object", "properties": properties}}});
        // A partial schema update converges to the same state when repeated, so a 5xx may be
        // retried.
        let url = self.url(&schema_path(id), &[]);
        let resp = self
            .send(
                self.request(Method::POST, url, Some(&body))
                    .idempotent(true),
            )
            .await?;
        schema_from_raw(Method::POST, &resp.url, http::decode(&Method::POST, &resp)?)
    }

    // ---- Profile mappings (§9) ----

    /// `GET /api/v1/mappings?sourceId=…&targetId=…`, every page; filtered again client-side
    /// because a `self` link was seen without the filter params (§9 quirk).
    pub async fn list_mappings(
        &self,
        source_id: Option<&str>,
        target_id: Option<&str>,
    ) -> Result<Vec<ProfileMapping>, ApiError> {
        let mut query = vec![("limit", "200")];
        if let Some(s) = source_id {
            query.push(("sourceId", s));
        }
        if let Some(t) = target_id {
            query.push(("targetId", t));
        }
        let all: Vec<ProfileMapping> = self.list("/api/v1/mappings", &query).await?;
        Ok(all
            .into_iter()
            .filter(|m| source_id.is_none_or(|s| m.source.id == s))
            .filter(|m| target_id.is_none_or(|t| m.target.id == t))
            .collect())
    }

    /// `GET /api/v1/mappings/{id}` with its properties.
    pub async fn get_mapping(&self, id: &MappingId) -> Result<ProfileMapping, ApiError> {
        self.call(
            Method::GET,
            &format!("/api/v1/mappings/{}", seg(id.as_str())),
            &[],
            None,
        )
        .await
    }

    /// The Okta user → app mapping, with properties: the listed mapping whose source is the Okta
    /// user type (`name == "user"`, `type == "user"`) and whose target is the app (§9).
    pub async fn user_to_app_mapping(&self, app: &OktaAppId) -> Result<ProfileMapping, ApiError> {
        let mappings = self.list_mappings(None, Some(app.as_str())).await?;
        let found = mappings
            .into_iter()
            .find(|m| m.source.type_ == "user" && m.source.name == "user");
        match found {
            Some(m) => self.get_mapping(&m.id).await,
            None => Err(ApiError::local(
                ErrorKind::NotFound,
                Method::GET,
                &self.url("/api/v1/mappings", &[("targetId", app.as_str())]),
                "no Okta user → app profile mapping",
            )),
        }
    }

    /// `POST /api/v1/mappings/{id}`: `Some` sets a property, `None` removes it (sent as `null`).
    pub async fn update_mapping(
        &self,
        id: &MappingId,
        properties: &BTreeMap<String, Option<MappingProperty>>,
    ) -> Result<ProfileMapping, ApiError> {
        let props: serde_json::Map<String, Value> = properties
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_ref().map_or(Value::Null, |p| {
                        serde_json::to_value(p).unwrap_or(Value::Null)
                    }),
                )
            })
            .collect();
        let body = json!({"properties": props});
        let url = self.url(&format!("/api/v1/mappings/{}", seg(id.as_str())), &[]);
        // Partial update: repeating it gives the same result.
        let resp = self
            .send(
                self.request(Method::POST, url, Some(&body))
                    .idempotent(true),
            )
            .await?;
        http::decode(&Method::POST, &resp)
    }

    // ---- Users and groups (§10) ----

    /// `GET /api/v1/users/{login}`; `Ok(None)` on 404. Logins containing `/` cannot be looked up
    /// this way (§10), so those go through the `profile.login` filter.
    pub async fn user_by_login(&self, login: &str) -> Result<Option<User>, ApiError> {
        if login.contains('/') {
            let filter = format!("profile.login eq \"{}\"", login.replace('"', "\\\""));
            return Ok(self
                .list_users(&filter)
                .await?
                .into_iter()
                .find(|u| u.profile.login == login));
        }
        match self
            .call(
                Method::GET,
                &format!("/api/v1/users/{}", seg(login)),
                &[],
                None,
            )
            .await
        {
            Ok(user) => Ok(Some(user)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v1/users/{id}`; `Ok(None)` on 404.
    pub async fn user_by_id(&self, id: &OktaUserId) -> Result<Option<User>, ApiError> {
        let path = format!("/api/v1/users/{}", seg(id.as_str()));
        match self.call(Method::GET, &path, &[], None).await {
            Ok(user) => Ok(Some(user)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `GET /api/v1/users?filter=…`, every page.
    pub async fn list_users(&self, filter: &str) -> Result<Vec<User>, ApiError> {
        self.list("/api/v1/users", &[("filter", filter)]).await
    }

    /// `GET /api/v1/users?limit=200`, every page: the whole org except deprovisioned users
    /// (§10). Cheaper than one lookup per login once a config names more users than a page holds.
    pub async fn all_users(&self) -> Result<Vec<User>, ApiError> {
        self.list("/api/v1/users", &[("limit", "200")]).await
    }

    /// `GET /api/v1/groups?limit=10000`, every page (§3: `/groups` allows 10,000 a page).
    pub async fn all_groups(&self) -> Result<Vec<Group>, ApiError> {
        self.list_limited(
            "/api/v1/groups",
            &[("limit", "10000")],
            http::LARGE_PAGE_LIMIT,
        )
        .await
    }

    /// `GET /api/v1/groups/{id}`; `Ok(None)` on 404.
    pub async fn get_group(&self, id: &OktaGroupId) -> Result<Option<Group>, ApiError> {
        let path = format!("/api/v1/groups/{}", seg(id.as_str()));
        match self.call(Method::GET, &path, &[], None).await {
            Ok(group) => Ok(Some(group)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Groups whose `profile.name` equals `name` exactly, via `q` (prefix) and a client-side
    /// comparison (§10).
    pub async fn groups_by_name(&self, name: &str) -> Result<Vec<Group>, ApiError> {
        let groups: Vec<Group> = self.list("/api/v1/groups", &[("q", name)]).await?;
        Ok(groups
            .into_iter()
            .filter(|g| g.profile.name == name)
            .collect())
    }

    // ---- Assignments (§10) ----

    /// `GET /api/v1/apps/{id}/users?expand=user`, every page of 500 (direct `USER` and
    /// group-derived `GROUP`). `expand=user` embeds each Okta user, which saves one lookup per
    /// user where Okta honours it; callers fall back to lookups where it is absent.
    /// A `lastSync` that is not an RFC 3339 time is an error, not "never synced": it is
    /// evidence for the token's handover.
    pub async fn app_users(&self, app: &OktaAppId) -> Result<Vec<AppUser>, ApiError> {
        self.app_users_each(app, |u| u).await
    }

    /// The app's users, each turned by `keep` as its page arrives (`expand=user`, 500 a page),
    /// so a caller keeps only what it needs of 100,000 users. A `lastSync` that is not an RFC
    /// 3339 time is an error naming the item.
    pub async fn app_users_each<U>(
        &self,
        app: &OktaAppId,
        mut keep: impl FnMut(AppUser) -> U,
    ) -> Result<Vec<U>, ApiError> {
        let query = [("limit", "500"), ("expand", "user")];
        let url = self.url(&app_path(app, "/users"), &query);
        let mut index = 0;
        self.list_map(&app_path(app, "/users"), &query, http::BODY_LIMIT, |u: AppUser| {
            let i = index;
            index += 1;
            if let Some(text) = u.last_sync.as_deref()
                && humantime::parse_rfc3339(text.trim()).is_err()
            {
                let what = format!(
                    "the app users list, item {i} ({}): `lastSync` {text:?} is not an RFC 3339 time",
                    u.id
                );
                return Err(decode_error(Method::GET, &url, what));
            }
            Ok(keep(u))
        })
        .await
    }

    /// `POST /api/v1/apps/{id}/users` assigning a user directly.
    pub async fn assign_user(
        &self,
        app: &OktaAppId,
        user: &OktaUserId,
    ) -> Result<AppUser, ApiError> {
        let body = json!({"id": user.as_str(), "scope": "USER"});
        self.call(Method::POST, &app_path(app, "/users"), &[], Some(&body))
            .await
    }

    /// `DELETE /api/v1/apps/{id}/users/{userId}?sendEmail=false`.
    pub async fn unassign_user(&self, app: &OktaAppId, user: &OktaUserId) -> Result<(), ApiError> {
        let path = app_path(app, &format!("/users/{}", seg(user.as_str())));
        self.call_empty(Method::DELETE, &path, &[("sendEmail", "false")], None)
            .await
    }

    /// `GET /api/v1/apps/{id}/groups`, every page.
    pub async fn app_groups(&self, app: &OktaAppId) -> Result<Vec<AppGroup>, ApiError> {
        self.list(&app_path(app, "/groups"), &[("limit", "200")])
            .await
    }

    /// `PUT /api/v1/apps/{id}/groups/{groupId}` with `{}`.
    pub async fn assign_group(
        &self,
        app: &OktaAppId,
        group: &OktaGroupId,
    ) -> Result<AppGroup, ApiError> {
        let path = app_path(app, &format!("/groups/{}", seg(group.as_str())));
        self.call(Method::PUT, &path, &[], Some(&json!({}))).await
    }

    /// `DELETE /api/v1/apps/{id}/groups/{groupId}`.
    pub async fn unassign_group(
        &self,
        app: &OktaAppId,
        group: &OktaGroupId,
    ) -> Result<(), ApiError> {
        let path = app_path(app, &format!("/groups/{}", seg(group.as_str())));
        self.call_empty(Method::DELETE, &path, &[], None).await
    }

    // ---- Group push (§11) ----

    /// `GET …/group-push/mappings`, every page.
    /// `GET …/group-push/mappings`, every page. Group push needs provisioning on the app (the
    /// spec's tag text), so before it is set up Okta may refuse even the list (400 E0000027):
    /// that is [`Capability::Unsupported`], not a failure.
    pub async fn group_push_mappings(
        &self,
        app: &OktaAppId,
    ) -> Result<Capability<Vec<GroupPushMapping>>, ApiError> {
        match self
            .list(&app_path(app, "/group-push/mappings"), &[("limit", "1000")])
            .await
        {
            Ok(pushes) => Ok(Capability::Supported(pushes)),
            Err(e) if e.details().status == Some(400) && e.code() == Some("E0000027") => {
                Ok(Capability::Unsupported)
            }
            Err(e) => Err(e),
        }
    }

    /// `POST …/group-push/mappings` creating a target group named `target_group_name`
    /// (200 or 201 both accepted, §11).
    pub async fn create_group_push(
        &self,
        app: &OktaAppId,
        source: &OktaGroupId,
        target_group_name: &str,
        active: bool,
    ) -> Result<GroupPushMapping, ApiError> {
        let body = json!({
            "sourceGroupId": source.as_str(),
            "status": if active { "ACTIVE" } else { "INACTIVE" },
            "targetGroupName": target_group_name,
        });
        self.call(
            Method::POST,
            &app_path(app, "/group-push/mappings"),
            &[],
            Some(&body),
        )
        .await
    }

    /// `PATCH …/group-push/mappings/{id}` with `{"status": …}`.
    pub async fn set_group_push_status(
        &self,
        app: &OktaAppId,
        id: &PushMappingId,
        active: bool,
    ) -> Result<GroupPushMapping, ApiError> {
        let body = json!({"status": if active { "ACTIVE" } else { "INACTIVE" }});
        let path = app_path(app, &format!("/group-push/mappings/{}", seg(id.as_str())));
        let url = self.url(&path, &[]);
        // Setting a status is idempotent even though PATCH is not in general.
        let resp = self
            .send(
                self.request(Method::PATCH, url, Some(&body))
                    .idempotent(true),
            )
            .await?;
        http::decode(&Method::PATCH, &resp)
    }

    /// `DELETE …/group-push/mappings/{id}?deleteTargetGroup=…`; the mapping must be INACTIVE.
    pub async fn delete_group_push(
        &self,
        app: &OktaAppId,
        id: &PushMappingId,
        delete_target_group: bool,
    ) -> Result<(), ApiError> {
        let path = app_path(app, &format!("/group-push/mappings/{}", seg(id.as_str())));
        let flag = if delete_target_group { "true" } else { "false" };
        self.call_empty(Method::DELETE, &path, &[("deleteTargetGroup", flag)], None)
            .await
    }
}

fn parse_base(url: &str) -> Result<Url, ApiError> {
    let trimmed = url.trim_end_matches('/');
    Url::parse(trimmed).map_err(|_| {
        ApiError::new(http::ApiErrorDetails {
            kind: ErrorKind::InsecureUrl,
            method: Method::GET,
            url: String::new(),
            status: None,
            vendor: Default::default(),
            request_id: None,
            body_excerpt: None,
            detail: Some("not a valid URL".into()),
        })
    })
}

/// Percent-encodes one path segment (logins contain `@`, ids never need it).
pub(crate) fn seg(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn app_path(id: &OktaAppId, rest: &str) -> String {
    format!("/api/v1/apps/{}{rest}", seg(id.as_str()))
}

fn schema_path(id: &OktaAppId) -> String {
    format!("/api/v1/meta/schemas/apps/{}/default", seg(id.as_str()))
}

fn to_app(raw: Value, url: &Url) -> Result<App, ApiError> {
    App::from_raw(raw).map_err(|e| decode_error(Method::GET, url, format!("the app: {e}")))
}

fn schema_from_raw(method: Method, url: &Url, raw: Value) -> Result<AppUserSchema, ApiError> {
    AppUserSchema::from_raw(raw)
        .map_err(|e| decode_error(method, url, format!("the app user schema: {e}")))
}

/// 400 E0000001 on a provisioning call is how Okta says "not for this app" (§1.1).
fn is_unsupported(e: &ApiError) -> bool {
    e.details().status == Some(400) && e.code() == Some("E0000001")
}

fn unsupported_on_validation(e: ApiError) -> ApiError {
    if is_unsupported(&e) {
        e.with_kind(ErrorKind::Unsupported)
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::rate_limit_bucket;

    #[test]
    fn buckets() {
        for (path, bucket) in [
            ("/api/v1/apps", "/api/v1/apps"),
            ("/api/v1/apps/0oa1", "/api/v1/apps/{id}"),
            ("/api/v1/apps/0oa1/users", "/api/v1/apps"),
            ("/api/v1/apps/0oa1/connections/default", "/api/v1/apps"),
            ("/api/v1/users", "/api/v1/users"),
            ("/api/v1/users/a@b.c", "/api/v1/users/{id}"),
            ("/api/v1/groups", "/api/v1/groups"),
            ("/api/v1/mappings/prm1", "/api/v1"),
            ("/api/v1/meta/schemas/apps/0oa1/default", "/api/v1"),
        ] {
            assert_eq!(rate_limit_bucket(path), bucket, "{path}");
        }
    }
}
