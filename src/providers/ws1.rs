//! [`Ws1Client`]: the Workspace ONE Access calls the reconciler needs: OAuth 2 clients,
//! "Other" directories, SCIM 1.1 reads, minting and testing the SCIM bearer token
//! (reference/ws1-api.md §3–§6).
//!
//! What must hold: scimbridge authenticates with its own admin client (client credentials,
//! Basic auth, `grant_type` in the form body) and caches that token until shortly before the
//! server-given `expires_in`; admin endpoints are called with the vendor media types and fall
//! back to `application/json` on 406/415 (§2.3, KB 6000953); an OAuth client is deleted only by
//! [`Ws1Client::delete_oauth2_client`], which only a planned, reviewed client replacement calls
//! (deleting revokes every token Okta holds, §1.3); the SCIM client's token is minted only by
//! [`Ws1Client::mint_token`], which reads never call. What identifies an object read (an id, a
//! client id, a user name, a directory's name and type) is required: an answer without it is an
//! [`ErrorKind::Decode`] error naming the field, never an empty string the planner would take
//! for another object.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::http::{
    self, ApiError, ErrorKind, HttpClient, HttpSettings, Request, Response, decode_error, shown,
};
use crate::secret::Secret;

const API: &str = "/SAAS/jersey/manager/api";
const TOKEN_PATH: &str = "/SAAS/auth/oauthtoken";
/// The SCIM 1.1 base path (§6); the SCIM base URL given to Okta is the tenant plus this.
pub const SCIM_PATH: &str = "/SAAS/jersey/manager/api/scim";
/// The cached admin token is renewed this long before the server says it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(60);
/// SCIM page sizes, largest first: public scripts list 1,000 to 10,000 users a page, the
/// maximum is not documented (§6.4), and SW18 answers 404 to an invalid `count`; a size the
/// tenant refuses is dropped for the next.
const SCIM_PAGES: [usize; 3] = [10_000, 1_000, 100];

const MT_CLIENT: &str = "application/vnd.vmware.horizon.manager.oauth2client+json";
const MT_CLIENT_LIST: &str = "application/vnd.vmware.horizon.manager.oauth2clientsummarylist+json";
const MT_DIR_OTHER: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.other+json";
const MT_DIR_LIST: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.list+json";
const MT_DOMAIN_LIST: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.domain.list+json";

/// An OAuth 2 client as a `GET`, `POST` or `PUT` answers it: `OAuth2ClientTypeInfo` (§4.2),
/// whose `clientId`, `scope` and `authGrantTypes` are required (SW18 = OA26), so they are here.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2Client {
    pub client_id: String,
    pub scope: String,
    /// Space-separated.
    pub auth_grant_types: String,
    /// Minutes; not required by the spec (§4.2), so it may be absent.
    #[serde(rename = "accessTokenTTL")]
    pub access_token_ttl: Option<u64>,
    #[serde(rename = "refreshTokenTTL")]
    pub refresh_token_ttl: Option<u64>,
    pub token_type: Option<String>,
    pub remember_as: Option<String>,
    pub display_user_grant: Option<bool>,
    pub internal_system_client: Option<bool>,
}

/// An item of the OAuth 2 clients list (§4.3): fewer fields than [`OAuth2Client`], and which
/// ones depends on the list's shape (SW18 has no grant types, OA26 calls them `grantTypes`).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuth2ClientSummary {
    pub client_id: String,
    pub scope: Option<String>,
    /// Space-separated; only in the 2026 paged list.
    pub grant_types: Option<String>,
    /// Minutes; only in the 2026 paged list.
    #[serde(rename = "accessTokenTTL")]
    pub access_token_ttl: Option<u64>,
    /// Vendor type (`…clientcredentialsoauth2client+json` for service clients); only in SW18.
    pub media_type: Option<String>,
}

/// The fields scimbridge writes on the SCIM service client (§4.2 "Minimal body").
#[derive(Clone, Debug)]
pub struct OAuth2ClientSpec {
    pub client_id: String,
    /// Set when creating or changing the secret; `None` leaves it as it is on update.
    pub secret: Option<Secret>,
    pub scope: String,
    /// Minutes.
    pub access_token_ttl: u64,
    pub remember_as: Option<String>,
}

impl OAuth2ClientSpec {
    fn body(&self) -> Value {
        let mut body = json!({
            "clientId": self.client_id,
            "rememberAs": self.remember_as.as_deref().unwrap_or(&self.client_id),
            "scope": self.scope,
            "authGrantTypes": "client_credentials",
            "tokenType": "Bearer",
            "accessTokenTTL": self.access_token_ttl,
            "displayUserGrant": false,
            "internalSystemClient": false,
        });
        if let Some(secret) = &self.secret {
            body["secret"] = json!(secret.expose());
        }
        body
    }
}

/// A directory (§5). `directory_id` comes from the list's `directoryId`; it, `name` and
/// `type` are in every list item §5's sources show, and a directory is found by its name and
/// judged by its type, so all three are required.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Directory {
    pub directory_id: crate::ids::DirectoryId,
    pub name: String,
    /// `OTHER_DIRECTORY`, `LOCAL_DIRECTORY`, `JIT_DIRECTORY`, `ACTIVE_DIRECTORY_LDAP`, …
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(alias = "userStoreId")]
    pub userstore_id: Option<String>,
    /// Only some tenants list domains on the item (§5, UNVERIFIED); see [`Ws1Client::directory_domains`].
    pub domains: Option<Vec<String>>,
    pub delete_in_progress: Option<bool>,
}

/// A freshly minted access token and its lifetime as the server states it.
#[derive(Clone, Debug)]
pub struct MintedToken {
    pub token: Secret,
    /// `expires_in` of the token answer.
    pub expires_in: Duration,
    /// The JWT's `iat` and `exp` (epoch seconds, server clock), when the token is a JWT (§3.4).
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ScimName {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
}

/// An address of a SCIM user; an item without its `value` is not an address.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ScimEmail {
    pub value: String,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub primary: Option<bool>,
}

/// `urn:scim:schemas:extension:workspace:1.0` of a user (§6.2).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct WorkspaceExtension {
    pub internal_user_type: Option<String>,
    pub domain: Option<String>,
    pub user_principal_name: Option<String>,
    pub user_status: Option<String>,
}

/// A SCIM 1.1 user (§6.2): `id` and `userName` (the natural key) are required.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimUser {
    pub id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    #[serde(default)]
    pub name: ScimName,
    #[serde(default)]
    pub emails: Vec<ScimEmail>,
    #[serde(rename = "urn:scim:schemas:extension:workspace:1.0")]
    pub workspace: Option<WorkspaceExtension>,
}

/// A member of a SCIM group: `value` is the member's id.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct ScimMember {
    pub value: String,
    pub display: Option<String>,
}

/// A SCIM 1.1 group (§6.5): `id` and `displayName` (the natural key) are required.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimGroup {
    pub id: String,
    pub display_name: String,
    #[serde(default)]
    pub members: Vec<ScimMember>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListResponse<T> {
    #[serde(default)]
    total_results: Option<usize>,
    /// The index the tenant used for the first item of this page.
    #[serde(default)]
    start_index: Option<usize>,
    #[serde(rename = "Resources", default = "Vec::new")]
    resources: Vec<T>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

struct CachedToken {
    /// Keeps the token known to the scrubber while it is cached.
    _held: crate::secret::Held,
    header: HeaderValue,
    valid_until: Instant,
}

/// The Workspace ONE Access client.
#[derive(Clone)]
pub struct Ws1Client {
    http: Arc<HttpClient>,
    base: Url,
    client_id: String,
    client_secret: Secret,
    token: Arc<Mutex<Option<CachedToken>>>,
    /// Set once the tenant refused a vendor media type: from then on plain JSON is sent.
    plain_json: Arc<AtomicBool>,
    /// Index into [`SCIM_PAGES`] of the largest page size the tenant accepted.
    scim_page: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Ws1Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ws1Client")
            .field("base", &self.base.as_str())
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Ws1Client {
    /// A client for the tenant at `tenant_url` (e.g. `https://acme.vmwareidentity.com`),
    /// authenticating as scimbridge's own admin OAuth client.
    pub fn new(
        tenant_url: &str,
        client_id: &str,
        client_secret: Secret,
        settings: HttpSettings,
    ) -> Result<Self, ApiError> {
        let base = Url::parse(tenant_url.trim_end_matches('/')).map_err(|_| {
            ApiError::new(http::ApiErrorDetails {
                kind: ErrorKind::InsecureUrl,
                method: Method::GET,
                url: String::new(),
                status: None,
                vendor: Default::default(),
                request_id: None,
                body_excerpt: None,
                detail: Some("not a valid tenant URL".into()),
            })
        })?;
        http::require_https(&Method::GET, &base)?;
        Ok(Self {
            http: Arc::new(HttpClient::new(settings)?),
            base,
            client_id: client_id.to_owned(),
            client_secret,
            token: Arc::new(Mutex::new(None)),
            plain_json: Arc::new(AtomicBool::new(false)),
            scim_page: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The server's time now, from its `Date` headers (see [`HttpClient::server_now`]).
    pub fn server_now(&self) -> Option<i64> {
        self.http.server_now()
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The SCIM base URL to give Okta: tenant + `/SAAS/jersey/manager/api/scim`, no trailing slash.
    pub fn scim_base_url(&self) -> String {
        let mut url = self.base.clone();
        url.set_path(SCIM_PATH);
        url.to_string()
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// `POST /SAAS/auth/oauthtoken` with Basic client auth and `grant_type` in the form body
    /// (§3.1). The token request changes nothing, so it may be retried.
    /// Asks the token endpoint for a client-credentials token. `repeatable`: whether a lost
    /// answer may be asked again; the admin's own token may (a spare token of ours expires
    /// unused), the SCIM client's may not (each answer is a new live credential for Okta).
    async fn request_token(
        &self,
        client_id: &str,
        secret: &Secret,
        repeatable: bool,
    ) -> Result<(TokenAnswer, Url), ApiError> {
        let url = self.url(TOKEN_PATH, &[]);
        let basic = base64::engine::general_purpose::STANDARD
            .encode(format!("{client_id}:{}", secret.expose()));
        let mut auth = HeaderValue::from_str(&format!("Basic {basic}")).map_err(|_| {
            ApiError::local(
                ErrorKind::Auth,
                Method::POST,
                &url,
                "client credentials are not valid header values",
            )
        })?;
        auth.set_sensitive(true);
        let mut req = Request::new(Method::POST, url.clone())
            .header(AUTHORIZATION, auth)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .body(b"grant_type=client_credentials".to_vec())
            .idempotent(repeatable)
            .limit(http::TOKEN_BODY_LIMIT);
        if repeatable {
            // scimbridge's own admin token: asking for it changes nothing anyone relies on.
            req = req.reading();
        }
        let resp = self.http.send(req).await?;
        Ok((http::decode(&Method::POST, &resp)?, url))
    }

    /// The admin bearer header, from the cache or freshly requested.
    async fn admin_auth(&self) -> Result<HeaderValue, ApiError> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.valid_until
        {
            return Ok(token.header.clone());
        }
        let (answer, url) = self
            .request_token(&self.client_id, &self.client_secret, true)
            .await?;
        // Kept as a header value, not a `Secret`, so made known to the scrubber here, for as
        // long as the cache holds it.
        let held = crate::secret::hold(&answer.access_token);
        let mut header = HeaderValue::from_str(&format!("Bearer {}", answer.access_token))
            .map_err(|_| {
                ApiError::local(
                    ErrorKind::Decode,
                    Method::POST,
                    &url,
                    "unusable access token",
                )
            })?;
        header.set_sensitive(true);
        // `expires_in` is relative, so our monotonic clock measures it; 0 or -1 (§3.2) means
        // "do not reuse".
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(0).max(0) as u64);
        *cached = Some(CachedToken {
            _held: held,
            header: header.clone(),
            valid_until: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
        });
        Ok(header)
    }

    /// Forgets the cached admin token (after a 401 the next call fetches a new one).
    pub async fn forget_token(&self) {
        *self.token.lock().await = None;
    }

    /// An admin call with a vendor media type, falling back to `application/json` on 406/415.
    /// A 401 drops the cached token and tries once more with a fresh one: the cache runs on our
    /// monotonic clock, and the tenant may have revoked the token or judged its expiry sooner.
    async fn admin(
        &self,
        method: Method,
        url: Url,
        media_type: &'static str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        match self
            .admin_once(method.clone(), url.clone(), media_type, body)
            .await
        {
            // Some tenants answer a refused token with 403 and the same body (§7, §12.8).
            Err(e) if matches!(e.kind(), ErrorKind::Auth | ErrorKind::Forbidden) => {
                self.forget_token().await;
                self.admin_once(method, url, media_type, body).await
            }
            other => other,
        }
    }

    async fn admin_once(
        &self,
        method: Method,
        url: Url,
        media_type: &'static str,
        body: Option<&Value>,
    ) -> Result<Response, ApiError> {
        let auth = self.admin_auth().await?;
        let build = |mt: &'static str| {
            let mt = HeaderValue::from_static(mt);
            let mut req = Request::new(method.clone(), url.clone())
                .header(AUTHORIZATION, auth.clone())
                .header(ACCEPT, mt.clone());
            if let Some(body) = body {
                req = req
                    .header(CONTENT_TYPE, mt)
                    .body(body.to_string().into_bytes());
            }
            req
        };
        if self.plain_json.load(Ordering::Relaxed) {
            return self.http.send(build("application/json")).await;
        }
        match self.http.send(build(media_type)).await {
            Err(e) if matches!(e.details().status, Some(406 | 415)) => {
                tracing::debug!(
                    media_type,
                    "tenant refused the vendor media type; using application/json"
                );
                self.plain_json.store(true, Ordering::Relaxed);
                self.http.send(build("application/json")).await
            }
            other => other,
        }
    }

    // ---- OAuth 2 clients (§4) ----

    /// `GET …/oauth2clients`, both list shapes (§4.3), every page of the paged one.
    pub async fn list_oauth2_clients(&self) -> Result<Vec<OAuth2ClientSummary>, ApiError> {
        let mut out = Vec::new();
        let mut start = 1usize;
        loop {
            let start_s = start.to_string();
            let url = self.url(
                &format!("{API}/oauth2clients"),
                &[("startIndex", &start_s), ("pageSize", "50")],
            );
            let resp = self.admin(Method::GET, url, MT_CLIENT_LIST, None).await?;
            let page: Value = http::decode(&Method::GET, &resp)?;
            let items: Vec<OAuth2ClientSummary> = items(&resp, &page, "OAuth clients list")?
                .map(|(i, item)| {
                    serde_json::from_value(item.clone()).map_err(|e| (i, e.to_string()))
                })
                .collect::<Result<_, _>>()
                .map_err(|(i, e)| item_error(&resp, "OAuth clients list", i, e))?;
            let count = items.len();
            out.extend(items);
            let number = |name: &str| match page.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                    list_error(
                        &resp,
                        "OAuth clients list",
                        format!("`{name}` is {}", shown(v)),
                    )
                }),
            };
            let total_pages = number("totalPages")?;
            let page_number = number("pageNumber")?;
            match (total_pages, page_number) {
                (Some(total), Some(number)) if number < total && count > 0 => start += count,
                _ => return Ok(out),
            }
        }
    }

    /// `GET …/oauth2clients/{clientId}`; `Ok(None)` on 404.
    pub async fn get_oauth2_client(
        &self,
        client_id: &str,
    ) -> Result<Option<OAuth2Client>, ApiError> {
        let url = self.url(
            &format!("{API}/oauth2clients/{}", super::okta::seg(client_id)),
            &[],
        );
        match self.admin(Method::GET, url, MT_CLIENT, None).await {
            Ok(resp) => Ok(Some(http::decode(&Method::GET, &resp)?)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST …/oauth2clients` (201). A duplicate client id answers 500 (§1.3): when the client
    /// then exists, the error is reported as [`ErrorKind::Conflict`].
    pub async fn create_oauth2_client(
        &self,
        spec: &OAuth2ClientSpec,
    ) -> Result<OAuth2Client, ApiError> {
        let url = self.url(&format!("{API}/oauth2clients"), &[]);
        match self
            .admin(Method::POST, url, MT_CLIENT, Some(&spec.body()))
            .await
        {
            Ok(resp) => http::decode(&Method::POST, &resp),
            Err(e) if e.details().status == Some(500) => {
                match self.get_oauth2_client(&spec.client_id).await {
                    Ok(Some(_)) => Err(e.with_kind(ErrorKind::Conflict)),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// `PUT …/oauth2clients/{clientId}` (documented answer 201). The client id cannot change.
    pub async fn update_oauth2_client(
        &self,
        spec: &OAuth2ClientSpec,
    ) -> Result<OAuth2Client, ApiError> {
        let url = self.url(
            &format!("{API}/oauth2clients/{}", super::okta::seg(&spec.client_id)),
            &[],
        );
        let resp = self
            .admin(Method::PUT, url, MT_CLIENT, Some(&spec.body()))
            .await?;
        http::decode(&Method::PUT, &resp)
    }

    /// `DELETE …/oauth2clients/{clientId}` (204): removes the client and revokes every token it
    /// issued (§4.1). A client already gone is not an error.
    pub async fn delete_oauth2_client(&self, client_id: &str) -> Result<(), ApiError> {
        let url = self.url(
            &format!("{API}/oauth2clients/{}", super::okta::seg(client_id)),
            &[],
        );
        match self.admin(Method::DELETE, url, MT_CLIENT, None).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    // ---- Directories (§5) ----

    /// `GET …/connectormanagement/directoryconfigs`.
    pub async fn list_directories(&self) -> Result<Vec<Directory>, ApiError> {
        let url = self.url(&format!("{API}/connectormanagement/directoryconfigs"), &[]);
        let resp = self.admin(Method::GET, url, MT_DIR_LIST, None).await?;
        let page: Value = http::decode(&Method::GET, &resp)?;
        items(&resp, &page, "directories list")?
            .map(|(i, item)| {
                serde_json::from_value(item.clone())
                    .map_err(|e| item_error(&resp, "directories list", i, e.to_string()))
            })
            .collect()
    }

    /// The directory named `name`, if any.
    pub async fn directory_by_name(&self, name: &str) -> Result<Option<Directory>, ApiError> {
        Ok(self
            .list_directories()
            .await?
            .into_iter()
            .find(|d| d.name == name))
    }

    /// Creates an `OTHER_DIRECTORY`. The create answer names the id differently from the list
    /// (§1.5), so the directory is re-listed and matched by name.
    pub async fn create_other_directory(
        &self,
        name: &str,
        domains: &[String],
    ) -> Result<Directory, ApiError> {
        let url = self.url(&format!("{API}/connectormanagement/directoryconfigs"), &[]);
        let body = json!({"type": "OTHER_DIRECTORY", "name": name, "domains": domains});
        self.admin(Method::POST, url.clone(), MT_DIR_OTHER, Some(&body))
            .await?;
        self.directory_by_name(name).await?.ok_or_else(|| {
            ApiError::local(
                ErrorKind::NotFound,
                Method::POST,
                &url,
                "the created directory is not in the list",
            )
        })
    }

    /// `GET …/directoryconfigs/{id}/domains`: the domain names. An item's identity is what §5
    /// shows, its `_links.self.href` (`…/domains/{domain}`); a `name` or `domainName` field,
    /// where a tenant adds one, is preferred.
    pub async fn directory_domains(
        &self,
        directory_id: &crate::ids::DirectoryId,
    ) -> Result<Vec<String>, ApiError> {
        let url = self.url(
            &format!(
                "{API}/connectormanagement/directoryconfigs/{}/domains",
                super::okta::seg(directory_id.as_str())
            ),
            &[],
        );
        let resp = self.admin(Method::GET, url, MT_DOMAIN_LIST, None).await?;
        let page: Value = http::decode(&Method::GET, &resp)?;
        items(&resp, &page, "domains list")?
            .map(|(i, item)| domain_name(item).map_err(|e| item_error(&resp, "domains list", i, e)))
            .collect()
    }

    // ---- The SCIM client's bearer token (§3) ----

    /// Mints an access token for the SCIM client `client_id`. This is a separate, deliberate
    /// call: `plan` never makes it.
    pub async fn mint_token(
        &self,
        client_id: &str,
        secret: &Secret,
    ) -> Result<MintedToken, ApiError> {
        let (answer, _) = self.request_token(client_id, secret, false).await?;
        let (issued_at, expires_at) = jwt_times(&answer.access_token);
        Ok(MintedToken {
            expires_in: Duration::from_secs(answer.expires_in.unwrap_or(0).max(0) as u64),
            token: Secret::new(answer.access_token),
            issued_at,
            expires_at,
        })
    }

    /// Okta's "Test API Credentials": a SCIM `/Users` list with `bearer`, which must answer a
    /// proper ListResponse with a `Resources` array (reference/okta-api.md §12).
    pub async fn test_api_credentials(&self, bearer: &Secret) -> Result<(), ApiError> {
        let url = self.url(
            &format!("{SCIM_PATH}/Users"),
            &[("startIndex", "1"), ("count", "2")],
        );
        let mut auth =
            HeaderValue::from_str(&format!("Bearer {}", bearer.expose())).map_err(|_| {
                ApiError::local(
                    ErrorKind::Auth,
                    Method::GET,
                    &url,
                    "the token is not a valid header value",
                )
            })?;
        auth.set_sensitive(true);
        let req = Request::new(Method::GET, url.clone())
            .header(AUTHORIZATION, auth)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        let resp = self.http.send(req).await?;
        let body: Value = http::decode(&Method::GET, &resp)?;
        if body.get("Resources").is_some_and(Value::is_array) {
            Ok(())
        } else {
            Err(ApiError::local(
                ErrorKind::Decode,
                Method::GET,
                &url,
                "No results for users returned",
            ))
        }
    }

    // ---- SCIM 1.1 reads (§6) ----

    async fn scim_list<T: serde::de::DeserializeOwned>(
        &self,
        resource: &str,
        filter: Option<&str>,
    ) -> Result<Vec<T>, ApiError> {
        let mut out = Vec::new();
        // `startIndex` is an offset from 0 in SW18's words and 1-based in its example and in
        // what Okta sends (§6.4, CONFLICT). The first page is asked without it, so the tenant
        // uses its own first index and echoes it; later pages count on from there (1 when the
        // answer does not say).
        let mut first: Option<usize> = None;
        loop {
            let size = self
                .scim_page
                .load(Ordering::Relaxed)
                .min(SCIM_PAGES.len() - 1);
            let start = first.map(|f| (f + out.len()).to_string());
            let count = SCIM_PAGES[size].to_string();
            let mut query = vec![("count", count.as_str())];
            if let Some(start) = &start {
                query.push(("startIndex", start.as_str()));
            }
            if let Some(f) = filter {
                query.push(("filter", f));
            }
            let url = self.url(&format!("{SCIM_PATH}/{resource}"), &query);
            let resp = match self.scim_get(url).await {
                // SW18 answers 404 to an invalid `count`; unfiltered, a 400 can only be about
                // the page too (a filtered list may be refused for its filter).
                Err(e)
                    if (e.details().status == Some(404)
                        || (filter.is_none() && e.details().status == Some(400)))
                        && size + 1 < SCIM_PAGES.len() =>
                {
                    tracing::debug!(
                        count = SCIM_PAGES[size],
                        "the tenant refused the SCIM page size; trying a smaller one"
                    );
                    self.scim_page.store(size + 1, Ordering::Relaxed);
                    continue;
                }
                other => other?,
            };
            let page: ListResponse<T> = http::decode(&Method::GET, &resp)?;
            if first.is_none() {
                first = Some(page.start_index.unwrap_or(1));
            }
            let got = page.resources.len();
            out.extend(page.resources);
            let total = page.total_results.unwrap_or(out.len());
            if got == 0 || out.len() >= total {
                return Ok(out);
            }
        }
    }

    /// A SCIM read with the admin token; a refused token (401, or 403 where the tenant answers
    /// that, §7) is dropped and the read tried once more with a fresh one.
    /// Pages hold up to 10,000 users ([`SCIM_PAGES`]), so they get the large page limit.
    async fn scim_get(&self, url: Url) -> Result<Response, ApiError> {
        let send = |auth: HeaderValue| {
            Request::new(Method::GET, url.clone())
                .header(AUTHORIZATION, auth)
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .limit(http::LARGE_PAGE_LIMIT)
        };
        match self.http.send(send(self.admin_auth().await?)).await {
            Err(e) if matches!(e.kind(), ErrorKind::Auth | ErrorKind::Forbidden) => {
                self.forget_token().await;
                self.http.send(send(self.admin_auth().await?)).await
            }
            other => other,
        }
    }

    /// SCIM users with `userName eq "<name>"`.
    pub async fn scim_users_by_username(&self, user_name: &str) -> Result<Vec<ScimUser>, ApiError> {
        let filter = format!("userName eq \"{}\"", user_name.replace('"', "\\\""));
        self.scim_list("Users", Some(&filter)).await
    }

    /// SCIM users, optionally filtered (`eq, co, sw, gt, ge, lt, le`, §6.4), every page.
    pub async fn scim_users(&self, filter: Option<&str>) -> Result<Vec<ScimUser>, ApiError> {
        self.scim_list("Users", filter).await
    }

    /// SCIM groups, optionally filtered (e.g. `displayName eq "Admins"`), every page.
    pub async fn scim_groups(&self, filter: Option<&str>) -> Result<Vec<ScimGroup>, ApiError> {
        self.scim_list("Groups", filter).await
    }
}

/// The `items` of a list page, numbered: none when absent or null (an empty list), an error
/// naming `list` when present and not an array.
fn items<'a>(
    resp: &Response,
    page: &'a Value,
    list: &str,
) -> Result<impl Iterator<Item = (usize, &'a Value)>, ApiError> {
    let items = match page.get("items") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(items)) => items.as_slice(),
        Some(other) => {
            return Err(list_error(
                resp,
                list,
                format!("`items` is {}", shown(other)),
            ));
        }
    };
    Ok(items.iter().enumerate())
}

/// An item of `list` whose shape is wrong.
fn item_error(resp: &Response, list: &str, index: usize, what: String) -> ApiError {
    list_error(resp, list, format!("item {index}: {what}"))
}

fn list_error(resp: &Response, list: &str, what: String) -> ApiError {
    decode_error(Method::GET, &resp.url, format!("the {list}, {what}"))
}

/// A domain item's name: its `name` or `domainName`, else the last segment of its self link;
/// an item with none of them, or one of another type, is an error.
fn domain_name(item: &Value) -> Result<String, String> {
    for key in ["name", "domainName"] {
        match item.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(name)) => return Ok(name.clone()),
            Some(other) => return Err(format!("`{key}` is {}, not a string", shown(other))),
        }
    }
    let missing = || "no `name`, `domainName` or `_links.self.href`".to_owned();
    let href = match item.pointer("/_links/self/href") {
        None | Some(Value::Null) => return Err(missing()),
        Some(Value::String(href)) => href,
        Some(other) => {
            return Err(format!(
                "`_links.self.href` is {}, not a string",
                shown(other)
            ));
        }
    };
    let last = href
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let decoded: String = form_urlencoded::parse(format!("d={last}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    if decoded.is_empty() {
        return Err(format!("`_links.self.href` {href:?} names no domain"));
    }
    Ok(decoded)
}

/// `iat` and `exp` of a JWT's payload, without verifying it (we only read our own fresh token's
/// lifetime as the server states it).
pub fn jwt_times(token: &str) -> (Option<i64>, Option<i64>) {
    let Some(payload) = token.split('.').nth(1) else {
        return (None, None);
    };
    let Ok(bytes) =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
    else {
        return (None, None);
    };
    let Ok(claims) = serde_json::from_slice::<Value>(&bytes) else {
        return (None, None);
    };
    (
        claims.get("iat").and_then(Value::as_i64),
        claims.get("exp").and_then(Value::as_i64),
    )
}
