//! The WS1 Access emulator and the sandbox control plane, over real HTTP on loopback.
//!
//! Each test cites the section of `../shared/reference/ws1-api.md` (or PRODUCT.md) it pins.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{http, sandbox, ws1_admin_token, ws1_token};

const API: &str = "/SAAS/jersey/manager/api";
const CLIENT_TYPE: &str = "application/vnd.vmware.horizon.manager.oauth2client+json";
const DIR_OTHER: &str =
    "application/vnd.vmware.horizon.manager.connector.management.directory.other+json";
const WORKSPACE: &str = "urn:scim:schemas:extension:workspace:1.0";

fn claims(jwt: &str) -> Value {
    let body = jwt.split('.').nth(1).expect("JWT body");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("claims JSON")
}

async fn body(r: reqwest::Response) -> Value {
    r.json().await.expect("JSON body")
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["errors"][0]["code"], code, "error body: {body}");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
}

struct Ws1 {
    sb: scimbridge::sandbox::RunningSandbox,
    token: String,
}

impl Ws1 {
    async fn new() -> Self {
        let sb = sandbox().await;
        let token = ws1_admin_token(&sb).await;
        Self { sb, token }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        http()
            .request(method, format!("{}{path}", self.sb.ws1_url))
            .bearer_auth(&self.token)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> reqwest::Response {
        self.req(method, path)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, body).await
    }

    async fn directory(&self, name: &str, domain: &str) -> String {
        let r = self
            .post(
                &format!("{API}/connectormanagement/directoryconfigs"),
                json!({"type": "OTHER_DIRECTORY", "name": name, "domains": [domain]}),
            )
            .await;
        assert_eq!(r.status(), 201);
        body(r).await["directoryConfigurationId"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn create_service_client(&self, id: &str, ttl: u64) -> String {
        let r = self
            .post(
                &format!("{API}/oauth2clients"),
                json!({"clientId": id, "scope": "admin", "authGrantTypes": "client_credentials",
                       "accessTokenTTL": ttl}),
            )
            .await;
        assert_eq!(r.status(), 201);
        body(r).await["secret"].as_str().unwrap().to_string()
    }

    /// A provisioned user in a new Other directory of `example.com`, as created.
    async fn provisioned_user(&self) -> Value {
        self.directory("Okta Users", "example.com").await;
        let r = self
            .post(
                &format!("{API}/scim/Users"),
                provisioned("jdoe", "example.com"),
            )
            .await;
        assert_eq!(r.status(), 201);
        body(r).await
    }
}

fn provisioned(user: &str, domain: &str) -> Value {
    json!({
        "schemas": ["urn:scim:schemas:core:1.0", WORKSPACE],
        "userName": user, "externalId": format!("00u{user}"),
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": format!("{user}@{domain}")}],
        WORKSPACE: {"internalUserType": "PROVISIONED", "domain": domain,
                    "userPrincipalName": format!("{user}@{domain}")}
    })
}

// ---- token endpoint (§3) ----

// §3.1/§3.2/§3.4: Basic auth, grant in the query; RS256 JWT with the vendor claims; exp − iat
// = the client's TTL in minutes; expires_in = TTL − 1 s; refresh_token returned.
#[tokio::test]
async fn token_is_an_rs256_jwt_with_vendor_claims_and_client_ttl() {
    let ws1 = Ws1::new().await;
    let secret = ws1.create_service_client("OktaSCIM", 525600).await;
    let r = http()
        .post(format!(
            "{}/SAAS/auth/oauthtoken?grant_type=client_credentials",
            ws1.sb.ws1_url
        ))
        .basic_auth("OktaSCIM", Some(&secret))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b = body(r).await;
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["expires_in"], 525600 * 60 - 1);
    assert_eq!(b["scope"], "admin");
    assert!(b["refresh_token"].is_string());
    let jwt = b["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "RS256");
    let c = claims(jwt);
    assert_eq!(c["cid"], "OktaSCIM");
    assert_eq!(c["prn"], "OktaSCIM@SANDBOX");
    assert_eq!(c["prn_type"], "SERVICE");
    assert_eq!(c["scp"], "admin");
    assert_eq!(c["eml"], "OAuthClient_OktaSCIM@noreply.com");
    assert_eq!(c["iss"], format!("{}/SAAS/auth", ws1.sb.ws1_url));
    assert_eq!(c["aud"], format!("{}/SAAS/auth/oauthtoken", ws1.sb.ws1_url));
    assert_eq!(
        c["exp"].as_u64().unwrap() - c["iat"].as_u64().unwrap(),
        525600 * 60
    );
}

// §3.1: client_id/client_secret form fields and grant_type in the body work too.
#[tokio::test]
async fn token_accepts_form_credentials() {
    let sb = sandbox().await;
    let r = http()
        .post(format!("{}/SAAS/auth/oauthtoken", sb.ws1_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials&client_id=scimbridge-admin&client_secret=sandbox-admin-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(body(r).await["access_token"].is_string());
}

// §3.3: grant_type absent → 500 (documented, unusual).
#[tokio::test]
async fn token_without_grant_type_is_500() {
    let sb = sandbox().await;
    let r = http()
        .post(format!("{}/SAAS/auth/oauthtoken", sb.ws1_url))
        .basic_auth("scimbridge-admin", Some("sandbox-admin-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(body(r).await["error"], "server_error");
}

// §3.3: unsupported grant → 400 with OAuth2 error body.
#[tokio::test]
async fn token_with_password_grant_is_400() {
    let sb = sandbox().await;
    let r = http()
        .post(format!(
            "{}/SAAS/auth/oauthtoken?grant_type=password",
            sb.ws1_url
        ))
        .basic_auth("scimbridge-admin", Some("sandbox-admin-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let b = body(r).await;
    assert_eq!(b["error"], "unsupported_grant_type");
    assert!(b["error_description"].is_string());
}

// §3.3: client authentication failed → 401.
#[tokio::test]
async fn token_with_wrong_secret_is_401() {
    let sb = sandbox().await;
    let r = http()
        .post(format!(
            "{}/SAAS/auth/oauthtoken?grant_type=client_credentials",
            sb.ws1_url
        ))
        .basic_auth("scimbridge-admin", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(body(r).await["error"], "invalid_client");
}

// §3.3: not POST → 405.
#[tokio::test]
async fn token_endpoint_refuses_get() {
    let sb = sandbox().await;
    let r = http()
        .get(format!(
            "{}/SAAS/auth/oauthtoken?grant_type=client_credentials",
            sb.ws1_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
}

// ---- bearer checks (§7, §4.1) ----

// §7 (UNVERIFIED status, decision 401): no token → 401 with the SCIM guide's forbidden body.
#[tokio::test]
async fn api_without_token_is_401_forbidden() {
    let sb = sandbox().await;
    let r = http()
        .get(format!("{}{API}/scim/Users", sb.ws1_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let b = body(r).await;
    assert_error(&b, "forbidden");
    assert_eq!(
        b["errors"][0]["message"],
        "User is not authorized to perform the task."
    );
}

// §7: a token whose signature is not the tenant's is refused.
#[tokio::test]
async fn tampered_token_is_401() {
    let ws1 = Ws1::new().await;
    let mut parts: Vec<String> = ws1.token.split('.').map(str::to_string).collect();
    let mut c = claims(&ws1.token);
    c["scp"] = json!("admin user");
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    let forged = parts.join(".");
    let r = http()
        .get(format!("{}{API}/scim/Users", ws1.sb.ws1_url))
        .bearer_auth(forged)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

// §3.4 + PRODUCT.md "The sandbox": expiry is checked against the sandbox clock.
#[tokio::test]
async fn token_expires_on_the_sandbox_clock() {
    let ws1 = Ws1::new().await;
    ws1.create_service_client("short", 1).await;
    assert_eq!(ws1.get(&format!("{API}/scim/Users")).await.status(), 200);
    let secret = ws1.create_service_client("short2", 1).await;
    let short = ws1_token(&ws1.sb, "short2", &secret).await;
    let call = |t: String| {
        let url = format!("{}{API}/scim/Users", ws1.sb.ws1_url);
        async move {
            http()
                .get(url)
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(call(short.clone()).await, 200);
    let r = http()
        .post(format!("{}/_sandbox/clock", ws1.sb.ws1_url))
        .json(&json!({"advance_seconds": 61}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(call(short).await, 401);
}

// §7 (decision): a valid token without `admin` scope → 403.
#[tokio::test]
async fn token_without_admin_scope_is_403() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .post(
            &format!("{API}/oauth2clients"),
            json!({"clientId": "userapp", "scope": "user", "authGrantTypes": "client_credentials"}),
        )
        .await;
    let secret = body(r).await["secret"].as_str().unwrap().to_string();
    let t = ws1_token(&ws1.sb, "userapp", &secret).await;
    let r = http()
        .get(format!("{}{API}/scim/Users", ws1.sb.ws1_url))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_error(&body(r).await, "forbidden");
}

// §4.1: DELETE removes the client and revokes every token it issued; 204.
#[tokio::test]
async fn deleting_a_client_revokes_its_tokens() {
    let ws1 = Ws1::new().await;
    let secret = ws1.create_service_client("OktaSCIM", 60).await;
    let t = ws1_token(&ws1.sb, "OktaSCIM", &secret).await;
    let r = ws1
        .req(
            reqwest::Method::DELETE,
            &format!("{API}/oauth2clients/OktaSCIM"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = http()
        .get(format!("{}{API}/scim/Users", ws1.sb.ws1_url))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        ws1.get(&format!("{API}/oauth2clients/OktaSCIM"))
            .await
            .status(),
        404
    );
}

// ---- OAuth 2.0 clients (§4) ----

// §4.1/§4.2: create → 201 with a generated secret; vendor media type accepted and echoed.
#[tokio::test]
async fn create_client_with_vendor_media_type() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .req(reqwest::Method::POST, &format!("{API}/oauth2clients"))
        .header("content-type", CLIENT_TYPE)
        .header("accept", CLIENT_TYPE)
        .body(json!({"clientId": "OktaSCIM", "scope": "admin", "authGrantTypes": "client_credentials", "accessTokenTTL": 525600}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["content-type"], CLIENT_TYPE);
    let b = body(r).await;
    assert!(b["secret"].as_str().is_some_and(|s| s.len() >= 20));
    assert_eq!(b["accessTokenTTL"], 525600);
    assert_eq!(b["tokenType"], "Bearer");
}

// §2.3: a media type that is neither the vendor's nor JSON → 415.
#[tokio::test]
async fn create_client_with_text_plain_is_415() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .req(reqwest::Method::POST, &format!("{API}/oauth2clients"))
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    assert_error(&body(r).await, "unsupported.media.type");
}

// §4.1: duplicate clientId → 500, not 409; the first client is unchanged.
#[tokio::test]
async fn duplicate_client_id_is_500() {
    let ws1 = Ws1::new().await;
    ws1.create_service_client("OktaSCIM", 60).await;
    let r = ws1
        .post(&format!("{API}/oauth2clients"), json!({"clientId": "OktaSCIM", "scope": "admin", "authGrantTypes": "client_credentials", "accessTokenTTL": 5}))
        .await;
    assert_eq!(r.status(), 500);
    assert_error(&body(r).await, "oauth2client.already.exists");
    assert_eq!(
        body(ws1.get(&format!("{API}/oauth2clients/OktaSCIM")).await).await["accessTokenTTL"],
        60
    );
}

// §4.1: missing required fields / bad characters → 400.
#[tokio::test]
async fn invalid_client_bodies_are_400() {
    let ws1 = Ws1::new().await;
    for bad in [
        json!({"scope": "admin", "authGrantTypes": "client_credentials"}),
        json!({"clientId": "a b", "scope": "admin", "authGrantTypes": "client_credentials"}),
        json!({"clientId": "x", "scope": "root", "authGrantTypes": "client_credentials"}),
        json!({"clientId": "x", "scope": "admin", "authGrantTypes": "magic"}),
        json!({"clientId": "x", "scope": "admin", "authGrantTypes": "authorization_code"}),
    ] {
        let r = ws1.post(&format!("{API}/oauth2clients"), bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
        assert!(body(r).await["errors"][0]["code"].is_string());
    }
    assert_eq!(
        ws1.get(&format!("{API}/oauth2clients/x")).await.status(),
        404
    );
}

// §4.1 + §4.3 (decision): GET and list never show the secret.
#[tokio::test]
async fn secrets_are_never_listed_or_read_back() {
    let ws1 = Ws1::new().await;
    ws1.create_service_client("OktaSCIM", 60).await;
    let list = body(ws1.get(&format!("{API}/oauth2clients")).await).await;
    assert!(!list.to_string().contains("secret"), "{list}");
    assert_eq!(list["totalCount"], 2);
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["clientId"] == "OktaSCIM")
        .unwrap();
    assert_eq!(
        item["mediaType"],
        "application/vnd.vmware.horizon.manager.clientcredentialsoauth2client+json"
    );
    let one = body(ws1.get(&format!("{API}/oauth2clients/OktaSCIM")).await).await;
    assert!(one.get("secret").is_none());
    assert_eq!(one["scope"], "admin");
}

// §4.1: PUT → 201 and the update shows; changing clientId → 500; unknown → 404.
#[tokio::test]
async fn update_client_is_201_and_client_id_is_immutable() {
    let ws1 = Ws1::new().await;
    ws1.create_service_client("OktaSCIM", 60).await;
    let path = format!("{API}/oauth2clients/OktaSCIM");
    let r = ws1
        .send(
            reqwest::Method::PUT,
            &path,
            json!({"clientId": "OktaSCIM", "accessTokenTTL": 120}),
        )
        .await;
    assert_eq!(r.status(), 201);
    assert_eq!(body(r).await["accessTokenTTL"], 120);
    let r = ws1
        .send(reqwest::Method::PUT, &path, json!({"clientId": "Other"}))
        .await;
    assert_eq!(r.status(), 500);
    assert_eq!(body(ws1.get(&path).await).await["accessTokenTTL"], 120);
    let r = ws1
        .send(
            reqwest::Method::PUT,
            &format!("{API}/oauth2clients/nope"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

// §4.1 (decision): PUT keeps tokens already issued, with their old exp.
#[tokio::test]
async fn update_client_keeps_issued_tokens() {
    let ws1 = Ws1::new().await;
    let secret = ws1.create_service_client("OktaSCIM", 60).await;
    let t = ws1_token(&ws1.sb, "OktaSCIM", &secret).await;
    let r = ws1
        .send(
            reqwest::Method::PUT,
            &format!("{API}/oauth2clients/OktaSCIM"),
            json!({"accessTokenTTL": 5}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let r = http()
        .get(format!("{}{API}/scim/Users", ws1.sb.ws1_url))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

// ---- directories (§5) ----

// §5: create 201 names the id `directoryConfigurationId`; the list says `directoryId`; domains
// are read at `{id}/domains`.
#[tokio::test]
async fn create_other_directory_and_list_it() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .req(
            reqwest::Method::POST,
            &format!("{API}/connectormanagement/directoryconfigs"),
        )
        .header("content-type", DIR_OTHER)
        .header("accept", DIR_OTHER)
        .body(
            json!({"type": "OTHER_DIRECTORY", "name": "Okta Users", "domains": ["example.com"]})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let created = body(r).await;
    let id = created["directoryConfigurationId"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(created.get("directoryId").is_none());
    let list = body(
        ws1.get(&format!("{API}/connectormanagement/directoryconfigs"))
            .await,
    )
    .await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Okta Users")
        .unwrap()
        .clone();
    assert_eq!(item["directoryId"], id.as_str());
    assert_eq!(item["type"], "OTHER_DIRECTORY");
    assert_eq!(item["countDomains"], 1);
    let domains = body(
        ws1.get(&format!(
            "{API}/connectormanagement/directoryconfigs/{id}/domains"
        ))
        .await,
    )
    .await;
    assert_eq!(domains["items"][0]["name"], "example.com");
}

// §5 (decision): a domain already used, or a duplicate name → 400; no domains → 400.
#[tokio::test]
async fn directory_domain_must_be_unique() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    let path = format!("{API}/connectormanagement/directoryconfigs");
    for bad in [
        json!({"type": "OTHER_DIRECTORY", "name": "Second", "domains": ["EXAMPLE.com"]}),
        json!({"type": "OTHER_DIRECTORY", "name": "okta users", "domains": ["other.com"]}),
        json!({"type": "OTHER_DIRECTORY", "name": "Empty", "domains": []}),
    ] {
        let r = ws1.post(&path, bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    let list = body(ws1.get(&path).await).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "System Directory + Okta Users"
    );
}

// §5 (UNVERIFIED, decision): no API changes an Other directory's domains → 405.
#[tokio::test]
async fn directory_domains_cannot_be_changed() {
    let ws1 = Ws1::new().await;
    let id = ws1.directory("Okta Users", "example.com").await;
    let path = format!("{API}/connectormanagement/directoryconfigs/{id}");
    let r = ws1
        .send(reqwest::Method::PUT, &path, json!({"domains": ["new.com"]}))
        .await;
    assert_eq!(r.status(), 405);
    let r = ws1
        .post(&format!("{path}/domains"), json!({"name": "new.com"}))
        .await;
    assert_eq!(r.status(), 405);
    assert_error(&body(r).await, "method.not.allowed");
    let domains = body(ws1.get(&format!("{path}/domains")).await).await;
    assert_eq!(domains["items"].as_array().unwrap().len(), 1);
}

// §5: delete → 200; the directory's users go with it; unknown → 404.
#[tokio::test]
async fn deleting_a_directory_removes_its_users() {
    let ws1 = Ws1::new().await;
    let id = ws1.directory("Okta Users", "example.com").await;
    assert_eq!(
        ws1.post(
            &format!("{API}/scim/Users"),
            provisioned("jdoe", "example.com")
        )
        .await
        .status(),
        201
    );
    let r = ws1
        .req(
            reqwest::Method::DELETE,
            &format!("{API}/connectormanagement/directoryconfigs/{id}?asyncDelete=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let users = body(ws1.get(&format!("{API}/scim/Users")).await).await;
    assert_eq!(users["totalResults"], 0);
    let r = ws1
        .req(
            reqwest::Method::DELETE,
            &format!("{API}/connectormanagement/directoryconfigs/{id}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

// ---- SCIM 1.1 (§6) ----

// §6.3: a provisioned user → 201 with Location, weak ETag, id, roles, userStatus "1", and it
// lands in the Other directory of its domain.
#[tokio::test]
async fn provisioned_user_lands_in_the_other_directory() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    let r = ws1
        .post(
            &format!("{API}/scim/Users"),
            provisioned("jdoe", "example.com"),
        )
        .await;
    assert_eq!(r.status(), 201);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(r.headers()["etag"].to_str().unwrap().starts_with("W/\""));
    let u = body(r).await;
    let id = u["id"].as_str().unwrap();
    assert_eq!(location, format!("{}{API}/scim/Users/{id}", ws1.sb.ws1_url));
    assert_eq!(u["active"], true);
    assert_eq!(u["roles"][0]["display"], "User");
    assert_eq!(u[WORKSPACE]["userStatus"], "1");
    assert_eq!(u[WORKSPACE]["internalUserType"], "PROVISIONED");
    let got = body(ws1.get(&format!("{API}/scim/Users/{id}")).await).await;
    assert_eq!(got[WORKSPACE]["domain"], "example.com");
    assert_eq!(got["groups"], json!([]));
}

// §1.6 / PRODUCT.md: without the extension the user becomes a LOCAL user of the System
// Directory, silently (201).
#[tokio::test]
async fn user_without_extension_is_a_local_system_directory_user() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    let r = ws1
        .post(
            &format!("{API}/scim/Users"),
            json!({"userName": "jdoe", "emails": [{"value": "jdoe@example.com"}]}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let u = body(r).await;
    assert_eq!(u[WORKSPACE]["internalUserType"], "LOCAL");
    assert_eq!(u[WORKSPACE]["domain"], "System Domain");
}

// §5/§8: a domain no directory has → 400, nothing created.
#[tokio::test]
async fn user_with_unknown_domain_is_400() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .post(
            &format!("{API}/scim/Users"),
            provisioned("jdoe", "typo.com"),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_error(&body(r).await, "scim.domain.unknown");
    assert_eq!(
        body(ws1.get(&format!("{API}/scim/Users")).await).await["totalResults"],
        0
    );
}

// §6.3: a provisioned user needs one email, names and externalId; userName always → 400.
#[tokio::test]
async fn provisioned_user_missing_required_fields_is_400() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    let mut two_emails = provisioned("a", "example.com");
    two_emails["emails"] = json!([{"value": "a@example.com"}, {"value": "b@example.com"}]);
    let mut no_external = provisioned("b", "example.com");
    no_external.as_object_mut().unwrap().remove("externalId");
    let mut no_name = provisioned("c", "example.com");
    no_name.as_object_mut().unwrap().remove("userName");
    for bad in [two_emails, no_external, no_name] {
        let r = ws1.post(&format!("{API}/scim/Users"), bad.clone()).await;
        assert_eq!(r.status(), 400, "{bad}");
    }
    assert_eq!(
        body(ws1.get(&format!("{API}/scim/Users")).await).await["totalResults"],
        0
    );
}

// §6.1: duplicate userName → 409 (case-insensitive, decision).
#[tokio::test]
async fn duplicate_user_name_is_409() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    assert_eq!(
        ws1.post(
            &format!("{API}/scim/Users"),
            provisioned("jdoe", "example.com")
        )
        .await
        .status(),
        201
    );
    let r = ws1
        .post(
            &format!("{API}/scim/Users"),
            provisioned("JDoe", "example.com"),
        )
        .await;
    assert_eq!(r.status(), 409);
    assert_error(&body(r).await, "scim.userName.exists");
}

// §6.4: filter eq (case-insensitive names), startIndex 0 and 1 both first, count, totalResults.
#[tokio::test]
async fn list_filters_and_pages() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    for n in ["a", "b", "c"] {
        ws1.post(&format!("{API}/scim/Users"), provisioned(n, "example.com"))
            .await;
    }
    let f = body(
        ws1.get(&format!("{API}/scim/Users?filter=UserName%20eq%20%22b%22"))
            .await,
    )
    .await;
    assert_eq!(f["totalResults"], 1);
    assert_eq!(f["Resources"][0]["userName"], "b");
    let p = body(
        ws1.get(&format!("{API}/scim/Users?startIndex=1&count=2"))
            .await,
    )
    .await;
    assert_eq!(
        (
            p["totalResults"].clone(),
            p["itemsPerPage"].clone(),
            p["startIndex"].clone()
        ),
        (json!(3), json!(2), json!(1))
    );
    let z = body(
        ws1.get(&format!("{API}/scim/Users?startIndex=0&count=2"))
            .await,
    )
    .await;
    assert_eq!(z["Resources"], p["Resources"]);
    assert_eq!(z["startIndex"], 0);
    let d = body(
        ws1.get(&format!(
            "{API}/scim/Users?filter=domain%20eq%20%22example.com%22"
        ))
        .await,
    )
    .await;
    assert_eq!(d["totalResults"], 3);
    let s = body(
        ws1.post(
            &format!("{API}/scim/Users/.search"),
            json!({"filter": "userName sw \"a\""}),
        )
        .await,
    )
    .await;
    assert_eq!(s["totalResults"], 1);
}

// §6.1/§6.4: a bad filter → 400; a bad count → 404.
#[tokio::test]
async fn bad_filter_is_400_and_bad_count_is_404() {
    let ws1 = Ws1::new().await;
    let r = ws1
        .get(&format!("{API}/scim/Users?filter=userName%20pr"))
        .await;
    assert_eq!(r.status(), 400);
    assert_error(&body(r).await, "scim.filter.invalid");
    let r = ws1.get(&format!("{API}/scim/Users?count=-1")).await;
    assert_eq!(r.status(), 404);
}

// §6.1/§6.5: PATCH → 204, partial merge; active:false → userStatus "2" (decision).
#[tokio::test]
async fn patch_user_merges_and_deactivates() {
    let ws1 = Ws1::new().await;
    let u = ws1.provisioned_user().await;
    let path = format!("{API}/scim/Users/{}", u["id"].as_str().unwrap());
    let r = ws1
        .send(
            reqwest::Method::PATCH,
            &path,
            json!({"name": {"givenName": "Janet"}, "active": false}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let got = body(ws1.get(&path).await).await;
    assert_eq!(got["name"]["givenName"], "Janet");
    assert_eq!(got["name"]["familyName"], "Doe");
    assert_eq!(got["active"], false);
    assert_eq!(got[WORKSPACE]["userStatus"], "2");
    let r = ws1
        .send(
            reqwest::Method::PATCH,
            &format!("{API}/scim/Users/nope"),
            json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
}

// §6.5 (decision) and okta-api.md §12: Okta's deactivate and reactivate PATCH bodies, exactly
// as it sends them: active:false → userStatus "2", active:true → "1" again, nothing else moves.
#[tokio::test]
async fn okta_patch_deactivates_and_reactivates() {
    let ws1 = Ws1::new().await;
    let created = ws1.provisioned_user().await;
    let id = created["id"].as_str().unwrap();
    let path = format!("{API}/scim/Users/{id}");
    let okta = |active: bool| json!({"schemas": ["urn:scim:schemas:core:1.0"], "id": id, "active": active});
    for (active, status) in [(false, "2"), (true, "1")] {
        let r = ws1.send(reqwest::Method::PATCH, &path, okta(active)).await;
        assert_eq!(r.status(), 204);
        let got = body(ws1.get(&path).await).await;
        assert_eq!(got["active"], active);
        assert_eq!(got[WORKSPACE]["userStatus"], status);
        for attr in ["id", "userName", "externalId", "name", "emails", "schemas"] {
            assert_eq!(got[attr], created[attr], "{attr}");
        }
        for attr in [
            "internalUserType",
            "domain",
            "userPrincipalName",
            "userStoreUuid",
        ] {
            assert_eq!(got[WORKSPACE][attr], created[WORKSPACE][attr], "{attr}");
        }
    }
}

// §6.1 (UNVERIFIED, decision): PUT on a user → 405, user unchanged.
#[tokio::test]
async fn put_user_is_405() {
    let ws1 = Ws1::new().await;
    ws1.directory("Okta Users", "example.com").await;
    let u = body(
        ws1.post(
            &format!("{API}/scim/Users"),
            provisioned("jdoe", "example.com"),
        )
        .await,
    )
    .await;
    let path = format!("{API}/scim/Users/{}", u["id"].as_str().unwrap());
    let mut changed = provisioned("jdoe", "example.com");
    changed["name"]["givenName"] = json!("X");
    let r = ws1.send(reqwest::Method::PUT, &path, changed).await;
    assert_eq!(r.status(), 405);
    assert_error(&body(r).await, "method.not.allowed");
    assert_eq!(
        body(ws1.get(&path).await).await["name"]["givenName"],
        "Jane"
    );
}

// §6.1: DELETE user → 204, then 404.
#[tokio::test]
async fn delete_user_is_204() {
    let ws1 = Ws1::new().await;
    let u = body(
        ws1.post(&format!("{API}/scim/Users"), json!({"userName": "local"}))
            .await,
    )
    .await;
    let path = format!("{API}/scim/Users/{}", u["id"].as_str().unwrap());
    assert_eq!(
        ws1.req(reqwest::Method::DELETE, &path)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let r = ws1.get(&path).await;
    assert_eq!(r.status(), 404);
    assert_error(&body(r).await, "scim.resource.not.found");
}

// §6.1/§6.5: groups: create 201, duplicate displayName 409, members added and removed by PATCH.
#[tokio::test]
async fn groups_create_conflict_and_membership() {
    let ws1 = Ws1::new().await;
    let u = body(
        ws1.post(&format!("{API}/scim/Users"), json!({"userName": "local"}))
            .await,
    )
    .await;
    let uid = u["id"].as_str().unwrap();
    let r = ws1
        .post(
            &format!("{API}/scim/Groups"),
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "displayName": "Admins"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let g = body(r).await;
    let gpath = format!("{API}/scim/Groups/{}", g["id"].as_str().unwrap());
    let r = ws1
        .post(
            &format!("{API}/scim/Groups"),
            json!({"displayName": "admins"}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = ws1
        .send(
            reqwest::Method::PATCH,
            &gpath,
            json!({"members": [{"value": uid}]}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let user = body(ws1.get(&format!("{API}/scim/Users/{uid}")).await).await;
    assert_eq!(user["groups"][0]["display"], "Admins");
    let r = ws1
        .send(
            reqwest::Method::PATCH,
            &gpath,
            json!({"members": [{"operation": "delete", "value": uid}]}),
        )
        .await;
    assert_eq!(r.status(), 204);
    assert_eq!(body(ws1.get(&gpath).await).await["members"], json!([]));
    assert_eq!(
        ws1.send(reqwest::Method::PUT, &gpath, json!({"displayName": "x"}))
            .await
            .status(),
        405
    );
    assert_eq!(
        ws1.req(reqwest::Method::DELETE, &gpath)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
}

// ---- control plane (PRODUCT.md "The sandbox") ----

// Every vendor answer carries Date from the sandbox clock.
#[tokio::test]
async fn date_header_follows_the_sandbox_clock() {
    let ws1 = Ws1::new().await;
    let r = http()
        .post(format!("{}/_sandbox/clock", ws1.sb.ws1_url))
        .json(&json!({"advance_seconds": 86400 * 400, "freeze": true}))
        .send()
        .await
        .unwrap();
    let clock = body(r).await;
    assert_eq!(clock["frozen"], true);
    let r = ws1.get(&format!("{API}/oauth2clients")).await;
    assert_eq!(
        r.headers()["date"].to_str().unwrap(),
        clock["now"].as_str().unwrap()
    );
}

// The request log records method, path, status, time, service and writes; it can be cleared.
#[tokio::test]
async fn request_log_marks_writes() {
    let ws1 = Ws1::new().await;
    ws1.get(&format!("{API}/scim/Users?count=1")).await;
    ws1.post(&format!("{API}/scim/Users/.search"), json!({}))
        .await;
    ws1.post(&format!("{API}/scim/Users"), json!({"userName": "x"}))
        .await;
    let log = body(
        http()
            .get(format!("{}/_sandbox/requests?service=ws1", ws1.sb.ws1_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = log["requests"].as_array().unwrap();
    let summary: Vec<(String, String, u64, bool)> = entries
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().into(),
                e["path"].as_str().unwrap().into(),
                e["status"].as_u64().unwrap(),
                e["write"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "POST".into(),
                "/SAAS/auth/oauthtoken?grant_type=client_credentials".into(),
                200,
                false
            ),
            (
                "GET".into(),
                format!("{API}/scim/Users?count=1"),
                200,
                false
            ),
            (
                "POST".into(),
                format!("{API}/scim/Users/.search"),
                200,
                false
            ),
            ("POST".into(), format!("{API}/scim/Users"), 201, true),
        ]
    );
    assert!(entries[0]["time"].as_u64().unwrap() > 0);
    assert_eq!(
        http()
            .delete(format!("{}/_sandbox/requests", ws1.sb.ws1_url))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let log = body(
        http()
            .get(format!("{}/_sandbox/requests", ws1.sb.ws1_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(log["requests"], json!([]));
}

// Faults: a 429 burst with Retry-After, then every n-th request failing, per path pattern.
#[tokio::test]
async fn faults_burst_429_then_error_ratio() {
    let ws1 = Ws1::new().await;
    let r = http().post(format!("{}/_sandbox/faults", ws1.sb.ws1_url))
        .json(&json!({"path": "/SAAS/jersey/manager/api/scim/*", "burst_429": 2, "retry_after": 7, "error_ratio": 0.5, "error_status": 502}))
        .send().await.unwrap();
    assert_eq!(r.status(), 201);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = ws1.get(&format!("{API}/scim/Users")).await;
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "7");
        }
        statuses.push(r.status().as_u16());
    }
    // A ratio of 0.5 fails exactly every second request after the burst.
    assert_eq!(statuses, vec![429, 429, 200, 502, 200, 502]);
    // Paths outside the pattern are untouched.
    assert_eq!(ws1.get(&format!("{API}/oauth2clients")).await.status(), 200);
    assert_eq!(
        http()
            .delete(format!("{}/_sandbox/faults", ws1.sb.ws1_url))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(ws1.get(&format!("{API}/scim/Users")).await.status(), 200);
}

// Faults: a dropped connection gives the client no answer.
#[tokio::test]
async fn faults_drop_connection() {
    let ws1 = Ws1::new().await;
    http()
        .post(format!("{}/_sandbox/faults", ws1.sb.ws1_url))
        .json(&json!({"path": "*/scim/Users", "drop": 1}))
        .send()
        .await
        .unwrap();
    let result = async {
        ws1.req(reqwest::Method::GET, &format!("{API}/scim/Users"))
            .send()
            .await?
            .bytes()
            .await
    }
    .await;
    assert!(result.is_err(), "expected a broken connection");
    assert_eq!(ws1.get(&format!("{API}/scim/Users")).await.status(), 200);
}

// Reset brings back the just-started state, the admin client and its secret included; seeding
// loads clients, directories and users with the API's rules.
#[tokio::test]
async fn reset_and_seed() {
    let ws1 = Ws1::new().await;
    ws1.create_service_client("OktaSCIM", 60).await;
    let url = &ws1.sb.ws1_url;
    assert_eq!(
        http()
            .post(format!("{url}/_sandbox/reset"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // The old admin token's client was recreated, but the token itself was not re-issued.
    assert_eq!(ws1.get(&format!("{API}/oauth2clients")).await.status(), 401);
    let ws1 = Ws1 {
        token: ws1_admin_token(&ws1.sb).await,
        sb: ws1.sb,
    };
    assert_eq!(
        ws1.get(&format!("{API}/oauth2clients/OktaSCIM"))
            .await
            .status(),
        404
    );
    let seed = json!({"ws1": {
        "directories": [{"name": "Okta Users", "domains": ["example.com"]}],
        "users": [provisioned("seeded", "example.com")],
    }});
    assert_eq!(
        http()
            .post(format!("{}/_sandbox/seed", ws1.sb.ws1_url))
            .json(&seed)
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let users = body(ws1.get(&format!("{API}/scim/Users")).await).await;
    assert_eq!(users["Resources"][0][WORKSPACE]["domain"], "example.com");
    let bad = json!({"ws1": {"users": [provisioned("x", "nowhere.com")]}});
    let r = http()
        .post(format!("{}/_sandbox/seed", ws1.sb.ws1_url))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        body(r).await["error"]
            .as_str()
            .unwrap()
            .contains("nowhere.com")
    );
}

// Mode switch: explicit by default, auto on request; bad values are refused.
#[tokio::test]
async fn mode_switch() {
    let sb = sandbox().await;
    let url = format!("{}/_sandbox/mode", sb.ws1_url);
    assert_eq!(
        body(http().get(&url).send().await.unwrap()).await["mode"],
        "explicit"
    );
    let r = http()
        .put(&url)
        .json(&json!({"mode": "auto"}))
        .send()
        .await
        .unwrap();
    assert_eq!(body(r).await["mode"], "auto");
    let r = http()
        .put(&url)
        .json(&json!({"mode": "fast"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

// The sandbox's own credentials are PRODUCT.md's variables and they work.
#[tokio::test]
async fn credentials_name_product_variables() {
    let sb = sandbox().await;
    let names: Vec<&str> = sb.credentials().iter().map(|(k, _)| *k).collect();
    for n in [
        "WS1_TENANT_URL",
        "WS1_CLIENT_ID",
        "WS1_CLIENT_SECRET",
        "WS1_SCIM_CLIENT_SECRET",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    let t = ws1_admin_token(&sb).await;
    assert_eq!(claims(&t)["scp"], "admin");
    sb.shutdown().await.unwrap();
}

// Discoverable console routes (issue 13): `GET /_sandbox/` lists every control route, the
// generic ones and each emulator's, with method, path, body shape and purpose, on every port;
// every route it lists answers (none is a missing route); plain text on `Accept: text/plain`.
#[tokio::test]
async fn the_index_lists_every_control_route() {
    let sb = sandbox().await;
    let index_at = |url: String| async move { body(http().get(url).send().await.unwrap()).await };
    let index = index_at(format!("{}/_sandbox/", sb.ws1_url)).await;
    let routes = index["routes"].as_array().unwrap();
    let listed: Vec<(&str, &str)> = routes
        .iter()
        .map(|r| (r["method"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    let expected = [
        ("GET", "/_sandbox/"),
        ("POST", "/_sandbox/reset"),
        ("POST", "/_sandbox/seed"),
        ("GET", "/_sandbox/clock"),
        ("POST", "/_sandbox/clock"),
        ("GET", "/_sandbox/faults"),
        ("POST", "/_sandbox/faults"),
        ("DELETE", "/_sandbox/faults"),
        ("GET", "/_sandbox/requests"),
        ("DELETE", "/_sandbox/requests"),
        ("GET", "/_sandbox/mode"),
        ("PUT", "/_sandbox/mode"),
        ("POST", "/_sandbox/mode"),
        ("GET", "/_sandbox/alternatives"),
        ("POST", "/_sandbox/alternatives"),
        ("POST", "/_sandbox/scenario"),
        ("POST", "/_sandbox/okta/apps/{app}/provisioning"),
        ("POST", "/_sandbox/okta/apps/{app}/apply-updates"),
        ("GET", "/_sandbox/okta/apps/{app}/errors"),
        ("POST", "/_sandbox/okta/users/{user}"),
        ("POST", "/_sandbox/okta/supported-apps"),
        ("POST", "/_sandbox/okta/rate-limit"),
        ("POST", "/_sandbox/okta/wait"),
    ];
    assert_eq!(listed, expected);
    for r in routes {
        assert!(!r["purpose"].as_str().unwrap().is_empty(), "{r}");
    }
    let provisioning = &routes[16];
    for field in ["baseUrl", "token", "createUsers", "deactivateUsers"] {
        assert!(
            provisioning["body"].as_str().unwrap().contains(field),
            "{provisioning}"
        );
    }
    assert!(routes[17]["body"].is_null(), "apply-updates takes no body");
    // The same index on the Okta port, and without the trailing slash.
    assert_eq!(index_at(format!("{}/_sandbox", sb.okta_url)).await, index);

    // Every listed route is there: it answers with its own status, never the 404 of a path
    // nothing serves (which has no JSON error) nor a 405.
    let missing = http()
        .get(format!("{}/_sandbox/okta/nothing", sb.ws1_url))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().is_empty());
    for (method, path) in expected {
        let path = path
            .replace("{app}", "0oanosuchapp")
            .replace("{user}", "nobody");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let r = http()
            .request(method.clone(), format!("{}{path}", sb.ws1_url))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert_ne!(status, 405, "{method} {path}");
        assert!(
            status != 404 || text.contains("\"error\""),
            "{method} {path}: {status} {text}"
        );
    }

    let text = http()
        .get(format!("{}/_sandbox/", sb.ws1_url))
        .header("accept", "text/plain")
        .send()
        .await
        .unwrap();
    assert!(
        text.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = text.text().await.unwrap();
    assert!(
        text.contains("POST   /_sandbox/okta/apps/{app}/provisioning\n       body: {\"baseUrl\"?"),
        "{text}"
    );
    sb.shutdown().await.unwrap();
}
