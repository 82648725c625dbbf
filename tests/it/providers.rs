//! The provider clients against a scripted fake server on loopback: retries, rate limits,
//! pagination edges, error contents, capability probes, token caching and media-type fallback.
//! (Happy paths against the sandbox come once its `start()` exists.)

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::response::Response;
use scimbridge::providers::ErrorKind;
use scimbridge::providers::http::HttpSettings;
use scimbridge::providers::okta::{
    Capability, OktaAppId as AppId, OktaClient, OktaUserId as UserId,
};
use scimbridge::providers::ws1::Ws1Client;
use scimbridge::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Clone)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

impl Reply {
    fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_owned(), v.to_owned()));
        self
    }
}

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Default)]
struct Script {
    /// Replies per path (without query), served in order; the last one repeats.
    replies: HashMap<String, VecDeque<Reply>>,
    seen: Vec<Seen>,
}

/// A scripted fake on 127.0.0.1:0 answering from per-path queues and recording every request.
struct Fake {
    url: String,
    script: Arc<Mutex<Script>>,
}

impl Fake {
    async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let app = axum::Router::new().fallback(move |req: Request<Body>| {
            let shared = shared.clone();
            async move {
                let (parts, body) = req.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
                let mut s = shared.lock().unwrap();
                s.seen.push(Seen {
                    method: parts.method.to_string(),
                    uri: parts.uri.to_string(),
                    headers: parts.headers.clone(),
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                let queue = s.replies.get_mut(parts.uri.path());
                let r = match queue {
                    Some(q) if q.len() > 1 => q.pop_front().unwrap(),
                    Some(q) => q.front().cloned().unwrap(),
                    None => reply(
                        404,
                        r#"{"errorCode":"E0000007","errorSummary":"Not found"}"#,
                    ),
                };
                let mut resp = Response::builder().status(StatusCode::from_u16(r.status).unwrap());
                resp = resp.header("content-type", "application/json");
                for (k, v) in &r.headers {
                    resp = resp.header(k.as_str(), v.as_str());
                }
                resp.body(Body::from(r.body)).unwrap()
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, script }
    }

    fn on(&self, path: &str, replies: Vec<Reply>) {
        self.script
            .lock()
            .unwrap()
            .replies
            .insert(path.to_owned(), replies.into());
    }

    fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }
}

const TOKEN: &str = "00abcSECRETtoken";

fn okta(fake: &Fake) -> OktaClient {
    OktaClient::new(&fake.url, &Secret::new(TOKEN), HttpSettings::fast()).unwrap()
}

fn app_json(id: &str, label: &str) -> String {
    format!(
        r#"{{"id":"{id}","name":"scim1testapp","label":"{label}","status":"ACTIVE","signOnMode":"AUTO_LOGIN","features":["PUSH_NEW_USERS"],"settings":{{"app":{{}},"notes":{{"admin":"note"}}}},"somethingNew":{{"x":1}}}}"#
    )
}

#[tokio::test]
async fn a_429_with_reset_headers_is_waited_out_and_retried() {
    let fake = Fake::start().await;
    let date = "Sun, 09 Sep 2001 01:46:40 GMT";
    fake.on(
        "/api/v1/apps",
        vec![
            reply(429, r#"{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests."}"#)
                .header("x-rate-limit-limit", "100")
                .header("x-rate-limit-remaining", "0")
                .header("x-rate-limit-reset", "1000000030")
                .header("date", date),
            reply(200, &format!("[{}]", app_json("0oa1", "A"))),
        ],
    );
    let apps = okta(&fake).list_apps(Some("A"), None).await.unwrap();
    assert_eq!(apps.len(), 1);
    assert_eq!(apps[0].features, vec!["PUSH_NEW_USERS"]);
    // The raw object keeps fields scimbridge does not model, for read-modify-write PUTs.
    assert_eq!(apps[0].raw["somethingNew"]["x"], 1);
    assert_eq!(fake.seen().len(), 2);
}

#[tokio::test]
async fn rate_limit_retries_end_in_a_typed_error() {
    let fake = Fake::start().await;
    fake.on(
        "/api/v1/apps",
        vec![reply(
            429,
            r#"{"errorCode":"E0000047","errorSummary":"rate limit"}"#,
        )],
    );
    let err = okta(&fake).list_apps(None, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        fake.seen().len(),
        1 + HttpSettings::fast().max_retries as usize
    );
}

#[tokio::test]
async fn a_5xx_is_retried_for_reads_but_not_for_an_assignment() {
    let fake = Fake::start().await;
    fake.on(
        "/api/v1/apps/0oa1",
        vec![
            reply(503, ""),
            reply(502, ""),
            reply(200, &app_json("0oa1", "A")),
        ],
    );
    let app = okta(&fake).get_app(&AppId::new("0oa1")).await.unwrap();
    assert_eq!(app.label, "A");
    assert_eq!(fake.seen().len(), 3);

    fake.on(
        "/api/v1/apps/0oa1/users",
        vec![
            reply(
                500,
                r#"{"errorCode":"E0000009","errorSummary":"Internal Server Error"}"#,
            ),
            reply(200, "{}"),
        ],
    );
    let err = okta(&fake)
        .assign_user(&AppId::new("0oa1"), &UserId::new("00u1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.uri.ends_with("/users"))
            .count(),
        1,
        "a POST is not repeated after a 5xx"
    );
}

#[tokio::test]
async fn errors_carry_vendor_details_and_never_the_token() {
    let fake = Fake::start().await;
    fake.on(
        "/api/v1/apps/0oa1/users/00u1",
        vec![reply(
            403,
            r#"{"errorCode":"E0000046","errorSummary":"Deactivate application for user forbidden.","errorId":"oaeBODY","errorCauses":[{"errorSummary":"granted by a group"}]}"#,
        )
        .header("x-okta-request-id", "REQ123")],
    );
    let err = okta(&fake)
        .unassign_user(&AppId::new("0oa1"), &UserId::new("00u1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.code(), Some("E0000046"));
    let d = err.details();
    assert_eq!(d.request_id.as_deref(), Some("REQ123"));
    assert_eq!(d.status, Some(403));
    assert_eq!(d.method, "DELETE");
    assert_eq!(d.vendor.causes, vec!["granted by a group"]);
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("E0000046") && shown.contains("REQ123") && shown.contains("sendEmail=false"),
        "{shown}"
    );
    assert!(!shown.contains(TOKEN), "{shown}");
    // The token went out as SSWS.
    let auth = fake.seen()[0].headers["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(auth, format!("SSWS {TOKEN}"));
}

#[tokio::test]
async fn pagination_follows_opaque_next_links_until_there_is_none() {
    let fake = Fake::start().await;
    let next1 = format!(
        "<{}/api/v1/apps/0oa1/users?after=opaqueCURSOR1&limit=2>; rel=\"next\"",
        fake.url
    );
    let next2 = format!(
        "<{}/api/v1/apps/0oa1/users?after=opaqueCURSOR2&limit=2>; rel=\"next\"",
        fake.url
    );
    let self_link = format!(
        "<{}/api/v1/apps/0oa1/users?limit=2>; rel=\"self\"",
        fake.url
    );
    fake.on(
        "/api/v1/apps/0oa1/users",
        vec![
            reply(
                200,
                r#"[{"id":"00u1","scope":"USER"},{"id":"00u2","scope":"GROUP"}]"#,
            )
            .header("link", &self_link)
            .header("link", &next1),
            reply(200, r#"[{"id":"00u3","scope":"USER","syncState":"ERROR"}]"#)
                .header("link", &next2),
            // An empty last page with no next link ends the list.
            reply(200, "[]").header("link", &self_link),
        ],
    );
    let users = okta(&fake).app_users(&AppId::new("0oa1")).await.unwrap();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["00u1", "00u2", "00u3"]);
    assert_eq!(users[2].sync_state.as_deref(), Some("ERROR"));
    let uris: Vec<String> = fake.seen().into_iter().map(|s| s.uri).collect();
    assert_eq!(
        uris[1],
        "/api/v1/apps/0oa1/users?after=opaqueCURSOR1&limit=2"
    );
    assert_eq!(
        uris[2],
        "/api/v1/apps/0oa1/users?after=opaqueCURSOR2&limit=2"
    );
}

#[tokio::test]
async fn unsupported_provisioning_is_a_capability_not_an_error() {
    let fake = Fake::start().await;
    fake.on(
        "/api/v1/apps/0oa1/connections/default",
        vec![reply(
            200,
            r#"{"authScheme":"UNKNOWN","status":"UNKNOWN","profile":{"authScheme":"UNKNOWN"}}"#,
        )],
    );
    fake.on(
        "/api/v1/apps/0oa1/features",
        vec![reply(400, r#"{"errorCode":"E0000001","errorSummary":"Api validation failed: feature","errorCauses":[{"errorSummary":"Provisioning is not enabled for the app instance."}]}"#)],
    );
    fake.on(
        "/api/v1/apps/0oa2/connections/default",
        vec![reply(
            200,
            r#"{"authScheme":"TOKEN","status":"ENABLED","baseUrl":"https://x"}"#,
        )],
    );
    fake.on("/api/v1/apps/0oa2/features", vec![reply(200, r#"[{"name":"USER_PROVISIONING","status":"ENABLED","capabilities":{"create":{"lifecycleCreate":{"status":"ENABLED"}}}}]"#)]);
    let client = okta(&fake);
    assert_eq!(
        client.connection(&AppId::new("0oa1")).await.unwrap(),
        Capability::Unsupported
    );
    assert_eq!(
        client.features(&AppId::new("0oa1")).await.unwrap(),
        Capability::Unsupported
    );
    let Capability::Supported(conn) = client.connection(&AppId::new("0oa2")).await.unwrap() else {
        panic!()
    };
    assert_eq!(conn.status, "ENABLED");
    let Capability::Supported(features) = client.features(&AppId::new("0oa2")).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(
        features[0].capabilities["create"]["lifecycleCreate"]["status"],
        "ENABLED"
    );
    // A 400 E0000001 is a validation failure, not retried.
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.uri == "/api/v1/apps/0oa1/features")
            .count(),
        1
    );
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let err = OktaClient::new(
        "http://acme.okta.com",
        &Secret::new(TOKEN),
        HttpSettings::fast(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsecureUrl);
    let err = Ws1Client::new(
        "http://acme.vmwareidentity.com",
        "c",
        Secret::new("s"),
        HttpSettings::fast(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InsecureUrl);
    assert!(
        OktaClient::new(
            "https://acme.okta.com/",
            &Secret::new(TOKEN),
            HttpSettings::fast()
        )
        .is_ok()
    );
}

#[tokio::test]
async fn a_reset_connection_is_retried_for_a_read() {
    // A raw listener: the first connection is closed without an answer, the second is served.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = Arc::new(Mutex::new(0usize));
    let count = served.clone();
    tokio::spawn(async move {
        let mut n = 0;
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            n += 1;
            *count.lock().unwrap() = n;
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            if n == 1 {
                drop(sock);
                continue;
            }
            let body = format!("[{}]", app_json("0oa9", "Z"));
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(resp.as_bytes()).await;
        }
    });
    let client = OktaClient::new(&url, &Secret::new(TOKEN), HttpSettings::fast()).unwrap();
    let apps = client.list_apps(None, None).await.unwrap();
    assert_eq!(apps[0].id.as_str(), "0oa9");
    assert_eq!(*served.lock().unwrap(), 2);
}

#[tokio::test]
async fn schema_and_mapping_removals_are_sent_as_null() {
    let fake = Fake::start().await;
    fake.on("/api/v1/meta/schemas/apps/0oa1/default", vec![reply(200, r#"{"definitions":{"base":{"properties":{"userName":{"title":"Username","type":"string"}}},"custom":{"properties":{},"required":[]}}}"#)]);
    fake.on("/api/v1/mappings/prm1", vec![reply(200, r#"{"id":"prm1","source":{"id":"oty1","name":"user","type":"user"},"target":{"id":"0oa1","name":"scim1testapp","type":"appuser"},"properties":{}}"#)]);
    let client = okta(&fake);
    let schema = client
        .remove_schema_attributes(&AppId::new("0oa1"), &["domain"])
        .await
        .unwrap();
    assert!(schema.base.contains_key("userName"));
    let mut props = std::collections::BTreeMap::new();
    props.insert("nickName".to_owned(), None);
    client
        .update_mapping(&scimbridge::providers::okta::MappingId::new("prm1"), &props)
        .await
        .unwrap();
    let seen = fake.seen();
    let schema_body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(
        schema_body["definitions"]["custom"]["properties"]["domain"],
        serde_json::Value::Null
    );
    assert!(
        schema_body["definitions"]["custom"]["properties"]
            .as_object()
            .unwrap()
            .contains_key("domain")
    );
    assert_eq!(seen[1].body, r#"{"properties":{"nickName":null}}"#);
}

/// Scripts the admin token answer with the given `expires_in`.
fn admin_token(fake: &Fake, expires_in: i64) {
    let body = format!(r#"{{"access_token":"T","expires_in":{expires_in}}}"#);
    fake.on("/SAAS/auth/oauthtoken", vec![reply(200, &body)]);
}

fn ws1(fake: &Fake) -> Ws1Client {
    Ws1Client::new(
        &fake.url,
        "scimbridge-admin",
        Secret::new("ADMINsecret"),
        HttpSettings::fast(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_admin_token_is_cached_and_sent_as_bearer() {
    let fake = Fake::start().await;
    fake.on("/SAAS/auth/oauthtoken", vec![reply(200, r#"{"access_token":"ADMINTOKEN","token_type":"Bearer","expires_in":21599,"scope":"admin"}"#)]);
    fake.on("/SAAS/jersey/manager/api/oauth2clients/OktaSCIM", vec![reply(200, r#"{"clientId":"OktaSCIM","scope":"admin","accessTokenTTL":525600,"authGrantTypes":"client_credentials"}"#)]);
    let client = ws1(&fake);
    for _ in 0..3 {
        let c = client.get_oauth2_client("OktaSCIM").await.unwrap().unwrap();
        assert_eq!(c.access_token_ttl, Some(525600));
    }
    let seen = fake.seen();
    let token_calls: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.uri.starts_with("/SAAS/auth/oauthtoken"))
        .collect();
    assert_eq!(token_calls.len(), 1);
    assert_eq!(token_calls[0].body, "grant_type=client_credentials");
    // Basic base64("scimbridge-admin:ADMINsecret").
    assert_eq!(
        token_calls[0].headers["authorization"],
        "Basic c2NpbWJyaWRnZS1hZG1pbjpBRE1JTnNlY3JldA=="
    );
    let api = seen
        .iter()
        .find(|s| s.uri.contains("oauth2clients"))
        .unwrap();
    assert_eq!(api.headers["authorization"], "Bearer ADMINTOKEN");
    assert_eq!(
        api.headers["accept"],
        "application/vnd.vmware.horizon.manager.oauth2client+json"
    );
}

#[tokio::test]
async fn a_token_without_lifetime_is_not_reused() {
    let fake = Fake::start().await;
    admin_token(&fake, 0);
    fake.on(
        "/SAAS/jersey/manager/api/connectormanagement/directoryconfigs",
        vec![reply(200, r#"{"items":[]}"#)],
    );
    let client = ws1(&fake);
    client.list_directories().await.unwrap();
    client.list_directories().await.unwrap();
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.uri.starts_with("/SAAS/auth"))
            .count(),
        2
    );
}

#[tokio::test]
async fn vendor_media_types_fall_back_to_json_and_directories_are_relisted_after_create() {
    let fake = Fake::start().await;
    admin_token(&fake, 3600);
    let dirs = "/SAAS/jersey/manager/api/connectormanagement/directoryconfigs";
    fake.on(
        dirs,
        vec![
            reply(415, r#"{"errors":[{"code":"unsupported.media.type","message":"Unsupported Media Type"}]}"#),
            reply(201, r#"{"directoryConfigurationId":"d-1","name":"Okta Users"}"#),
            reply(200, r#"{"items":[{"type":"OTHER_DIRECTORY","name":"Okta Users","directoryId":"d-1","userstoreId":"u-1"}]}"#),
        ],
    );
    let client = ws1(&fake);
    let dir = client
        .create_other_directory("Okta Users", &["example.com".into()])
        .await
        .unwrap();
    assert_eq!(dir.directory_id.as_str(), "d-1");
    assert_eq!(dir.type_, "OTHER_DIRECTORY");
    let seen: Vec<Seen> = fake
        .seen()
        .into_iter()
        .filter(|s| s.uri.starts_with(dirs))
        .collect();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0].headers["content-type"],
        "application/vnd.vmware.horizon.manager.connector.management.directory.other+json"
    );
    assert_eq!(seen[1].headers["content-type"], "application/json");
    assert_eq!(seen[2].method, "GET");
    assert_eq!(
        seen[2].headers["accept"], "application/json",
        "the fallback sticks"
    );
    let body: serde_json::Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"type":"OTHER_DIRECTORY","name":"Okta Users","domains":["example.com"]})
    );
}

#[tokio::test]
async fn scim_reads_page_until_total_results() {
    let fake = Fake::start().await;
    admin_token(&fake, 3600);
    let user = |i: usize| {
        format!(
            r#"{{"id":"u{i}","userName":"user{i}","urn:scim:schemas:extension:workspace:1.0":{{"internalUserType":"PROVISIONED","domain":"example.com"}}}}"#
        )
    };
    let page = |from: usize, to: usize| {
        let items: Vec<String> = (from..to).map(user).collect();
        format!(
            r#"{{"totalResults":1500,"itemsPerPage":{},"startIndex":{},"Resources":[{}]}}"#,
            to - from,
            from + 1,
            items.join(",")
        )
    };
    fake.on(
        "/SAAS/jersey/manager/api/scim/Users",
        vec![reply(200, &page(0, 1000)), reply(200, &page(1000, 1500))],
    );
    let users = ws1(&fake).scim_users(None).await.unwrap();
    assert_eq!(users.len(), 1500);
    assert_eq!(
        users[1499].workspace.as_ref().unwrap().domain.as_deref(),
        Some("example.com")
    );
    let uris: Vec<String> = fake
        .seen()
        .into_iter()
        .filter(|s| s.uri.contains("/scim/"))
        .map(|s| s.uri)
        .collect();
    // The tenant capped the page at 1,000 (itemsPerPage): paging follows what it gave.
    assert_eq!(
        uris,
        [
            // The first page at the tenant's own first index; it echoed 1.
            "/SAAS/jersey/manager/api/scim/Users?count=10000",
            "/SAAS/jersey/manager/api/scim/Users?count=10000&startIndex=1001"
        ]
    );
}

#[tokio::test]
async fn a_scim_page_size_the_tenant_refuses_is_dropped_for_a_smaller_one() {
    let fake = Fake::start().await;
    admin_token(&fake, 3600);
    let refused = r#"{"errors":[{"code":"invalid.count","message":"count","parameters":null}]}"#;
    fake.on(
        "/SAAS/jersey/manager/api/scim/Users",
        vec![
            reply(404, refused),
            reply(
                200,
                r#"{"totalResults":1,"itemsPerPage":1,"startIndex":1,"Resources":[{"id":"u1","userName":"a"}]}"#,
            ),
            reply(
                200,
                r#"{"totalResults":1,"itemsPerPage":1,"startIndex":1,"Resources":[{"id":"u1","userName":"a"}]}"#,
            ),
        ],
    );
    let client = ws1(&fake);
    assert_eq!(client.scim_users(None).await.unwrap().len(), 1);
    assert_eq!(client.scim_users(None).await.unwrap().len(), 1);
    let counts: Vec<String> = fake
        .seen()
        .into_iter()
        .filter(|s| s.uri.contains("/scim/"))
        .map(|s| s.uri.split("count=").nth(1).unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        counts,
        ["10000", "1000", "1000"],
        "the refused size is not asked again"
    );
}

#[tokio::test]
async fn minting_reads_the_jwt_lifetime_and_the_probe_uses_the_given_token() {
    use base64::Engine;
    let fake = Fake::start().await;
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(r#"{"iat":1000,"exp":31537000,"cid":"OktaSCIM"}"#);
    let jwt = format!("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{claims}.sig");
    fake.on(
        "/SAAS/auth/oauthtoken",
        vec![reply(
            200,
            &format!(r#"{{"access_token":"{jwt}","expires_in":31535999}}"#),
        )],
    );
    fake.on(
        "/SAAS/jersey/manager/api/scim/Users",
        vec![reply(200, r#"{"totalResults":0,"Resources":[]}"#)],
    );
    let client = ws1(&fake);
    let minted = client
        .mint_token("OktaSCIM", &Secret::new("SCIMsecret"))
        .await
        .unwrap();
    assert_eq!(
        (minted.issued_at, minted.expires_at),
        (Some(1000), Some(31537000))
    );
    assert!(!format!("{minted:?}").contains(&jwt));
    client.test_api_credentials(&minted.token).await.unwrap();
    let probe = fake
        .seen()
        .into_iter()
        .find(|s| s.uri.contains("/scim/Users"))
        .unwrap();
    assert_eq!(
        probe.headers["authorization"].to_str().unwrap(),
        format!("Bearer {jwt}")
    );

    // A body without `Resources` fails the probe, as Okta's "Test API Credentials" does.
    fake.on(
        "/SAAS/jersey/manager/api/scim/Users",
        vec![reply(200, r#"{"totalResults":0}"#)],
    );
    let err = client
        .test_api_credentials(&minted.token)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("No results for users returned"),
        "{err}"
    );
}

#[tokio::test]
async fn a_duplicate_client_id_answering_500_is_a_conflict() {
    let fake = Fake::start().await;
    admin_token(&fake, 3600);
    fake.on(
        "/SAAS/jersey/manager/api/oauth2clients",
        vec![reply(
            500,
            r#"{"errors":[{"code":"internal.server.error","message":"boom"}]}"#,
        )],
    );
    fake.on(
        "/SAAS/jersey/manager/api/oauth2clients/OktaSCIM",
        vec![reply(
            200,
            r#"{"clientId":"OktaSCIM","scope":"admin","authGrantTypes":"client_credentials"}"#,
        )],
    );
    let spec = scimbridge::providers::ws1::OAuth2ClientSpec {
        client_id: "OktaSCIM".into(),
        secret: Some(Secret::new("SHAREDsecret")),
        scope: "admin".into(),
        access_token_ttl: 525600,
        remember_as: None,
    };
    let err = ws1(&fake).create_oauth2_client(&spec).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(!format!("{err} {err:?}").contains("SHAREDsecret"));
    // The create POST was not repeated after its 500.
    assert_eq!(
        fake.seen()
            .iter()
            .filter(|s| s.method == "POST" && s.uri == "/SAAS/jersey/manager/api/oauth2clients")
            .count(),
        1
    );
}

/// The WS1 client's happy path against the WS1 emulator, using only the sandbox's published
/// credentials (what a user would export).
#[tokio::test]
async fn ws1_client_against_the_sandbox() {
    let sandbox = scimbridge::sandbox::start(scimbridge::sandbox::SandboxOptions::default())
        .await
        .unwrap();
    let creds: HashMap<&str, String> = sandbox.credentials().into_iter().collect();
    let client = Ws1Client::new(
        &creds["WS1_TENANT_URL"],
        &creds["WS1_CLIENT_ID"],
        Secret::new(creds["WS1_CLIENT_SECRET"].clone()),
        HttpSettings::fast(),
    )
    .unwrap();
    assert_eq!(client.get_oauth2_client("OktaSCIM").await.unwrap(), None);
    let spec = scimbridge::providers::ws1::OAuth2ClientSpec {
        client_id: "OktaSCIM".into(),
        secret: Some(Secret::new(creds["WS1_SCIM_CLIENT_SECRET"].clone())),
        scope: "admin".into(),
        access_token_ttl: 525600,
        remember_as: None,
    };
    client.create_oauth2_client(&spec).await.unwrap();
    let read = client.get_oauth2_client("OktaSCIM").await.unwrap().unwrap();
    assert_eq!(read.access_token_ttl, Some(525600));
    assert!(
        client
            .list_oauth2_clients()
            .await
            .unwrap()
            .iter()
            .any(|c| c.client_id == "OktaSCIM")
    );
    let again = client.create_oauth2_client(&spec).await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::Conflict);

    let dir = client
        .create_other_directory("Okta Users", &["example.com".into()])
        .await
        .unwrap();
    assert_eq!(dir.name, "Okta Users");
    assert!(!dir.directory_id.as_str().is_empty());
    assert_eq!(
        client
            .directory_by_name("Okta Users")
            .await
            .unwrap()
            .unwrap()
            .directory_id,
        dir.directory_id
    );

    let minted = client
        .mint_token("OktaSCIM", spec.secret.as_ref().unwrap())
        .await
        .unwrap();
    let (iat, exp) = (minted.issued_at.unwrap(), minted.expires_at.unwrap());
    assert_eq!(
        exp - iat,
        525600 * 60,
        "exp follows the client's TTL in minutes"
    );
    client.test_api_credentials(&minted.token).await.unwrap();
    let bad = client
        .test_api_credentials(&Secret::new("not-a-token"))
        .await
        .unwrap_err();
    assert!(
        matches!(bad.kind(), ErrorKind::Auth | ErrorKind::Forbidden),
        "{bad}"
    );

    assert!(
        client
            .scim_users_by_username("nobody")
            .await
            .unwrap()
            .is_empty()
    );
    client.scim_groups(None).await.unwrap();
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_401_refreshes_the_admin_token_once() {
    let fake = Fake::start().await;
    admin_token(&fake, 3600);
    let path = "/SAAS/jersey/manager/api/connectormanagement/directoryconfigs";
    let denied = r#"{"errors":[{"code":"forbidden","message":"User is not authorized to perform the task."}]}"#;
    fake.on(
        path,
        vec![
            reply(401, denied),
            reply(200, r#"{"items":[]}"#),
            reply(401, denied),
        ],
    );
    let client = ws1(&fake);
    assert!(client.list_directories().await.unwrap().is_empty());
    let err = client.list_directories().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Auth);
    assert_eq!(err.code(), Some("forbidden"));
    let token_calls = fake
        .seen()
        .iter()
        .filter(|s| s.uri.starts_with("/SAAS/auth"))
        .count();
    assert_eq!(token_calls, 3, "one token at first, one per 401");
}
