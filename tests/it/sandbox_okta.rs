//! The Okta emulator over real HTTP on loopback. Each test cites the section of
//! `shared/reference/okta-api.md` it checks. Provisioning tests point the app at a small SCIM
//! 1.1 recorder defined here (a stand-in for the WS1 tenant, not for any of our code), which
//! records what Okta sends and answers as a SCIM server would.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use reqwest::Method;
use scimbridge::sandbox::okta::{API_TOKEN, Okta};
use serde_json::{Value, json};

struct Sandbox {
    url: String,
    http: reqwest::Client,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    url
}

async fn start() -> Sandbox {
    start_with(json!({"okta": {
        "users": [
            {"login": "ann@example.com", "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com",
             "displayName": "Ann Lee", "locale": "en_US"},
            {"login": "bob@example.com", "firstName": "Bob", "lastName": "Roe", "email": "bob@example.com"},
            {"login": "cy@example.com", "firstName": "Cy", "lastName": "Doe", "email": "cy@example.com"}],
        "groups": [{"name": "Engineering", "members": ["bob@example.com"]}]
    }}))
    .await
}

async fn start_with(seed: Value) -> Sandbox {
    let okta = Okta::default();
    okta.seed(&seed).unwrap();
    let router = okta.router().nest("/_sandbox/okta", okta.control_router());
    Sandbox {
        url: serve(router).await,
        http: reqwest::Client::new(),
    }
}

impl Sandbox {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.url))
            .header("Authorization", format!("SSWS {API_TOKEN}"))
            .header("Accept", "application/json");
        req = match body {
            Some(b) => req.json(&b),
            None => req.header("Content-Length", "0"),
        };
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
    async fn get(&self, path: &str) -> (u16, Value) {
        let (s, _, b) = self.call(Method::GET, path, None).await;
        (s, b)
    }
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let (s, _, b) = self.call(Method::POST, path, Some(body)).await;
        (s, b)
    }
    async fn app(&self, name: &str, label: &str) -> String {
        let (s, app) = self
            .post(
                "/api/v1/apps",
                json!({"name": name, "label": label, "signOnMode": "AUTO_LOGIN"}),
            )
            .await;
        assert_eq!(s, 200, "{app}");
        app["id"].as_str().unwrap().to_string()
    }
    async fn user_id(&self, login: &str) -> String {
        self.get(&format!("/api/v1/users/{login}")).await.1["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
    async fn wait(&self) {
        assert_eq!(self.post("/_sandbox/okta/wait", json!({})).await.0, 200);
    }
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["errorLink"], code);
    assert!(body["errorSummary"].is_string());
    assert!(body["errorId"].as_str().unwrap().starts_with("oae"));
    assert!(body["errorCauses"].is_array());
}

/// A SCIM 1.1 server that records every request and checks one bearer token.
#[derive(Clone, Default)]
struct Scim {
    log: Arc<Mutex<Vec<(String, String, Value)>>>,
    token: Arc<Mutex<String>>,
    users: Arc<Mutex<Vec<Value>>>,
}

async fn scim_handler(State(scim): State<Scim>, req: Request) -> axum::response::Response {
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = axum::body::to_bytes(req.into_body(), 1 << 20)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    scim.log
        .lock()
        .unwrap()
        .push((method.clone(), uri.clone(), body.clone()));
    if auth != format!("Bearer {}", scim.token.lock().unwrap()) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"errors": [{"code": "forbidden", "message": "User is not authorized to perform the task."}]}))).into_response();
    }
    let mut users = scim.users.lock().unwrap();
    match (method.as_str(), uri.split('?').next().unwrap()) {
        ("GET", "/scim/Users") => {
            let found: Vec<Value> = users
                .iter()
                .filter(|u| uri.contains(&format!("%22{}%22", u["userName"].as_str().unwrap())))
                .cloned()
                .collect();
            axum::Json(json!({"totalResults": found.len(), "Resources": found})).into_response()
        }
        ("GET", "/scim/Groups") => {
            axum::Json(json!({"totalResults": 0, "Resources": []})).into_response()
        }
        ("POST", "/scim/Users") => {
            let mut u = body.clone();
            u["id"] = json!(format!("scim-{}", users.len() + 1));
            users.push(u.clone());
            (StatusCode::CREATED, axum::Json(u)).into_response()
        }
        ("POST", "/scim/Groups") => (
            StatusCode::CREATED,
            axum::Json(json!({"id": "grp-1", "displayName": body["displayName"]})),
        )
            .into_response(),
        ("PATCH", _) => StatusCode::NO_CONTENT.into_response(),
        _ => axum::Json(body).into_response(),
    }
}

async fn scim_server(token: &str) -> (Scim, String) {
    let scim = Scim::default();
    *scim.token.lock().unwrap() = token.into();
    let router = Router::new()
        .fallback(scim_handler)
        .with_state(scim.clone());
    let url = serve(router).await;
    (scim, format!("{url}/scim"))
}

impl Scim {
    fn take(&self) -> Vec<(String, String, Value)> {
        std::mem::take(&mut self.log.lock().unwrap())
    }
}

// §2, §3: SSWS auth and Okta's error body; rate-limit headers even on a 401.
#[tokio::test]
async fn requests_without_the_api_token_get_401_e0000011() {
    let sb = start().await;
    let resp = sb
        .http
        .get(format!("{}/api/v1/apps", sb.url))
        .header("Authorization", "SSWS wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("x-rate-limit-limit"));
    assert_error(&resp.json().await.unwrap(), "E0000011");
}

// §3: 429 E0000047 past the bucket's limit; every answer carries the bucket's headers.
#[tokio::test]
async fn rate_limit_headers_count_down_per_bucket_and_429_past_the_limit() {
    let sb = start().await;
    sb.post("/_sandbox/okta/rate-limit", json!({"limit": 2}))
        .await;
    let (s1, h1, _) = sb.call(Method::GET, "/api/v1/apps", None).await;
    let (s2, h2, _) = sb.call(Method::GET, "/api/v1/apps", None).await;
    let (s3, h3, b3) = sb.call(Method::GET, "/api/v1/apps", None).await;
    assert_eq!((s1, s2, s3), (200, 200, 429));
    assert_eq!(h1["x-rate-limit-limit"], "2");
    assert_eq!(h1["x-rate-limit-remaining"], "1");
    assert_eq!(h2["x-rate-limit-remaining"], "0");
    assert_eq!(h3["x-rate-limit-remaining"], "0");
    assert!(
        h3["x-rate-limit-reset"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 1_700_000_000
    );
    assert_error(&b3, "E0000047");
    // Another bucket (`/api/v1/users`) still answers.
    assert_eq!(sb.get("/api/v1/users").await.0, 200);
}

// §3: malformed JSON is E0000003; unsupported methods E0000022; unknown paths E0000007.
#[tokio::test]
async fn malformed_bodies_wrong_methods_and_unknown_paths() {
    let sb = start().await;
    let resp = sb
        .http
        .post(format!("{}/api/v1/apps", sb.url))
        .header("Authorization", format!("SSWS {API_TOKEN}"))
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_error(&resp.json().await.unwrap(), "E0000003");
    let (s, _, b) = sb
        .call(Method::PATCH, "/api/v1/apps", Some(json!({})))
        .await;
    assert_eq!(s, 405);
    assert_error(&b, "E0000022");
    let (s, b) = sb.get("/api/v1/nothing").await;
    assert_eq!(s, 404);
    assert_error(&b, "E0000007");
}

// §4: create answers 200 with defaults, the admin note verbatim and an empty features[];
// a duplicate label is E0000040.
#[tokio::test]
async fn app_create_get_and_duplicate_label() {
    let sb = start().await;
    let note = "mine\n# scimbridge:begin\nkey: x\n# scimbridge:end";
    let (s, app) = sb
        .post(
            "/api/v1/apps?activate=false",
            json!({"name": "scim1testapp", "label": "WS1", "signOnMode": "AUTO_LOGIN",
        "features": ["PUSH_NEW_USERS"], "settings": {"notes": {"admin": note}}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(app["status"], "INACTIVE");
    assert_eq!(app["features"], json!([]));
    assert_eq!(
        app["credentials"]["userNameTemplate"]["template"],
        "${source.login}"
    );
    let (s, got) = sb
        .get(&format!("/api/v1/apps/{}", app["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, 200);
    assert_eq!(got["settings"]["notes"]["admin"], note);
    let (s, dup) = sb
        .post(
            "/api/v1/apps",
            json!({"name": "scim1testapp", "label": "WS1"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&dup, "E0000040");
    let (s, missing) = sb.post("/api/v1/apps", json!({"name": "x"})).await;
    assert_eq!(s, 400);
    assert_error(&missing, "E0000001");
}

// §3, §4: list with q, filter=name eq, limit/after and RFC 8288 Link headers; bad filter E0000094.
#[tokio::test]
async fn app_list_pages_with_link_headers_and_filters() {
    let sb = start().await;
    for i in 0..3 {
        sb.app("scim1testapp", &format!("App {i}")).await;
    }
    sb.app("okta_org2org", "Zed").await;
    let (s, h, page1) = sb.call(Method::GET, "/api/v1/apps?limit=2", None).await;
    assert_eq!(s, 200);
    assert_eq!(page1.as_array().unwrap().len(), 2);
    let links: Vec<&str> = h
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(links.len(), 2);
    let next = link(&h, "next").unwrap();
    let (_, h2, page2) = sb.call(Method::GET, &next, None).await;
    assert_eq!(page2.as_array().unwrap().len(), 2);
    assert!(link(&h2, "next").is_none());
    let (_, apps) = sb.get("/api/v1/apps?q=app").await;
    assert_eq!(apps.as_array().unwrap().len(), 3);
    let (_, apps) = sb
        .get("/api/v1/apps?filter=name%20eq%20%22okta_org2org%22")
        .await;
    assert_eq!(apps[0]["label"], "Zed");
    let (s, bad) = sb.get("/api/v1/apps?filter=label%20sw%20%22x%22").await;
    assert_eq!(s, 400);
    assert_error(&bad, "E0000094");
}

// §4: PUT is a full replace; read-only fields in the body are ignored.
#[tokio::test]
async fn app_put_replaces_everything_but_read_only_fields() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Before").await;
    let (_, mut app) = sb.get(&format!("/api/v1/apps/{id}")).await;
    app["label"] = json!("After");
    app["name"] = json!("hacked");
    app["status"] = json!("INACTIVE");
    app["visibility"]["hide"]["web"] = json!(true);
    let (s, _, put) = sb
        .call(Method::PUT, &format!("/api/v1/apps/{id}"), Some(app))
        .await;
    assert_eq!(s, 200);
    assert_eq!(put["label"], "After");
    assert_eq!(put["name"], "scim1testapp");
    assert_eq!(put["status"], "ACTIVE");
    assert_eq!(put["visibility"]["hide"]["web"], true);
}

// §3, §4: lifecycle needs Content-Length (411); delete only when INACTIVE (E0000056, decided).
#[tokio::test]
async fn lifecycle_and_delete_rules() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "L").await;
    let no_length = sb
        .http
        .post(format!("{}/api/v1/apps/{id}/lifecycle/deactivate", sb.url))
        .header("Authorization", format!("SSWS {API_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_length.status(), 411);
    let (s, _, b) = sb
        .call(Method::DELETE, &format!("/api/v1/apps/{id}"), None)
        .await;
    assert_eq!(s, 403);
    assert_error(&b, "E0000056");
    let (s, body) = sb.get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!((s, &body["status"]), (200, &json!("ACTIVE")));
    let (s, _, b) = sb
        .call(
            Method::POST,
            &format!("/api/v1/apps/{id}/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!((s, b), (200, json!({})));
    let (s, _, _) = sb
        .call(Method::DELETE, &format!("/api/v1/apps/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (s, b) = sb.get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(s, 404);
    assert_error(&b, "E0000007");
}

// §1, §6, §7: the capability wall, and the control switch that lifts it.
#[tokio::test]
async fn connection_reads_unknown_and_features_400_until_supported() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Wall").await;
    let (s, c) = sb
        .get(&format!("/api/v1/apps/{id}/connections/default"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (&c["authScheme"], &c["status"]),
        (&json!("UNKNOWN"), &json!("UNKNOWN"))
    );
    let (s, f) = sb.get(&format!("/api/v1/apps/{id}/features")).await;
    assert_eq!(s, 400);
    assert_error(&f, "E0000001");
    assert_eq!(
        f["errorCauses"][0]["errorSummary"],
        "Provisioning is not enabled for the app instance."
    );
    let (s, c) = sb
        .post(
            &format!("/api/v1/apps/{id}/connections/default"),
            json!({"profile": {"authScheme": "TOKEN", "token": "t"}}),
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&c, "E0000001");

    sb.post(
        "/_sandbox/okta/supported-apps",
        json!({"names": ["scim1testapp"]}),
    )
    .await;
    let (_, scim_url) = scim_server("t").await;
    let (s, c) = sb
        .post(
            &format!("/api/v1/apps/{id}/connections/default?activate=true"),
            json!({"baseUrl": scim_url, "profile": {"authScheme": "TOKEN", "token": "t"}}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(c["status"], "ENABLED");
    assert!(
        c["profile"].get("token").is_none(),
        "the token is write-only"
    );
    let (s, _, f) = sb.call(Method::PUT, &format!("/api/v1/apps/{id}/features/USER_PROVISIONING"),
        Some(json!({"create": {"lifecycleCreate": {"status": "ENABLED"}}, "update": {"lifecycleDeactivate": {"status": "ENABLED"}}}))).await;
    assert_eq!(s, 200);
    assert_eq!(f["capabilities"]["update"]["profile"]["status"], "DISABLED");
    let (_, app) = sb.get(&format!("/api/v1/apps/{id}")).await;
    assert_eq!(
        app["features"],
        json!(["PUSH_NEW_USERS", "PUSH_USER_DEACTIVATION", "GROUP_PUSH"])
    );
    sb.wait().await;
}

// §8: partial POST adds a custom property, null removes it; invalid definitions are E0000001.
#[tokio::test]
async fn app_schema_partial_update_and_removal() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Schema").await;
    let path = format!("/api/v1/meta/schemas/apps/{id}/default");
    let (s, schema) = sb.get(&path).await;
    assert_eq!(s, 200);
    assert!(schema["definitions"]["base"]["properties"]["displayName"].is_object());
    assert!(
        schema["definitions"]["base"]["properties"]
            .get("domain")
            .is_none(),
        "the test app has no workspace base attributes"
    );
    let prop = json!({"title": "Domain", "type": "string", "required": true, "scope": "NONE", "union": "DISABLE",
                      "externalName": "domain", "externalNamespace": "urn:scim:schemas:extension:workspace:1.0"});
    let (s, schema) = sb.post(&path, json!({"definitions": {"custom": {"id": "#custom", "type": "object", "properties": {"domain": prop}}}})).await;
    assert_eq!(s, 200);
    assert_eq!(
        schema["definitions"]["custom"]["properties"]["domain"]["externalName"],
        "domain"
    );
    assert!(
        schema["definitions"]["custom"]["properties"]["domain"]
            .get("union")
            .is_none(),
        "union is not echoed"
    );
    assert_eq!(
        schema["definitions"]["custom"]["required"],
        json!(["domain"])
    );
    let (_, schema) = sb
        .post(
            &path,
            json!({"definitions": {"custom": {"properties": {"domain": null}}}}),
        )
        .await;
    assert_eq!(schema["definitions"]["custom"]["properties"], json!({}));
    let (s, bad) = sb
        .post(
            &path,
            json!({"definitions": {"custom": {"properties": {"x": {"type": "nope"}}}}}),
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&bad, "E0000001");
    let id2 = sb.app("vmwareworkspaceone", "OIN").await;
    let (_, oin) = sb
        .get(&format!("/api/v1/meta/schemas/apps/{id2}/default"))
        .await;
    assert_eq!(
        oin["definitions"]["base"]["properties"]["domain"]["externalNamespace"],
        "urn:scim:schemas:extension:workspace:1.0"
    );
}

// §9: the defaults Okta creates (displayName and locale included), list by source/target,
// partial update, removal by null, unknown target E0000001.
#[tokio::test]
async fn profile_mappings_defaults_and_partial_updates() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Map").await;
    let (s, list) = sb.get(&format!("/api/v1/mappings?targetId={id}")).await;
    assert_eq!(s, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        list[0]["source"],
        json!({"id": "oty00sandboxdefault", "name": "user", "type": "user"})
    );
    assert!(list[0].get("properties").is_none());
    let mid = list[0]["id"].as_str().unwrap();
    let (_, m) = sb.get(&format!("/api/v1/mappings/{mid}")).await;
    assert_eq!(
        m["properties"]["displayName"]["expression"],
        "user.displayName"
    );
    assert_eq!(m["properties"]["locale"]["expression"], "user.locale");
    let (s, m) = sb.post(&format!("/api/v1/mappings/{mid}"), json!({"properties": {"displayName": null, "locale": {"expression": null, "pushStatus": null}}})).await;
    assert_eq!(s, 200);
    assert!(
        m["properties"].get("displayName").is_none() && m["properties"].get("locale").is_none()
    );
    assert_eq!(
        m["properties"]["givenName"]["expression"], "user.firstName",
        "partial: others stay"
    );
    let (s, bad) = sb
        .post(
            &format!("/api/v1/mappings/{mid}"),
            json!({"properties": {"nosuch": {"expression": "user.login"}}}),
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&bad, "E0000001");
}

// §10: lookup by login, filter, search and q.
#[tokio::test]
async fn users_and_groups_lookup() {
    let sb = start().await;
    let (s, u) = sb.get("/api/v1/users/ann@example.com").await;
    assert_eq!((s, &u["profile"]["firstName"]), (200, &json!("Ann")));
    let (_, l) = sb
        .get("/api/v1/users?filter=profile.login%20eq%20%22bob%40example.com%22")
        .await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (_, l) = sb
        .get("/api/v1/users?search=profile.lastName%20eq%20%22Doe%22")
        .await;
    assert_eq!(l[0]["profile"]["login"], "cy@example.com");
    let (_, l) = sb.get("/api/v1/users?q=an").await;
    assert_eq!(l.as_array().unwrap().len(), 1);
    let (_, g) = sb
        .get("/api/v1/groups?search=profile.name%20eq%20%22Engineering%22")
        .await;
    assert_eq!(g[0]["type"], "OKTA_GROUP");
    let (_, g) = sb.get("/api/v1/groups?q=eng").await;
    assert_eq!(g.as_array().unwrap().len(), 1);
    let (s, b) = sb.get("/api/v1/users/nobody@example.com").await;
    assert_eq!(s, 404);
    assert_error(&b, "E0000007");
}

/// The `Link` header of `rel`, as a path with its query.
fn link(headers: &reqwest::header::HeaderMap, rel: &str) -> Option<String> {
    headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|l| l.ends_with(&format!("rel=\"{rel}\"")))
        .map(|l| {
            let url = l.trim_start_matches('<').split('>').next().unwrap();
            format!("/{}", url.splitn(4, '/').nth(3).unwrap())
        })
}

// The spec's `listGroupUsers` (§3 paging): a group's members as user objects, `limit` 1000 by
// default and at most (decided: the spec gives no maximum), `after` paging with `Link`
// headers, 404 E0000007 for an unknown group.
#[tokio::test]
async fn group_members_are_listed_as_users_with_link_paging() {
    let sb = start().await;
    let (_, groups) = sb.get("/api/v1/groups?q=Eng").await;
    let gid = groups[0]["id"].as_str().unwrap();
    let (s, h, members) = sb
        .call(Method::GET, &format!("/api/v1/groups/{gid}/users"), None)
        .await;
    assert_eq!(s, 200, "{members}");
    let (_, bob) = sb.get("/api/v1/users/bob@example.com").await;
    assert_eq!(members, json!([bob]), "the members are whole user objects");
    assert!(link(&h, "self").is_some() && link(&h, "next").is_none());
    let (s, b) = sb.get("/api/v1/groups/00gnosuchgroup/users").await;
    assert_eq!(s, 404);
    assert_error(&b, "E0000007");

    let users: Vec<Value> = (0..1001)
        .map(|i| json!({"login": format!("u{i:04}@example.com"), "firstName": "U", "lastName": format!("{i}")}))
        .collect();
    let logins: Vec<Value> = users.iter().map(|u| u["login"].clone()).collect();
    let sb = start_with(
        json!({"okta": {"users": users, "groups": [{"name": "All", "members": logins}]}}),
    )
    .await;
    let (_, groups) = sb.get("/api/v1/groups?q=All").await;
    let path = format!("/api/v1/groups/{}/users", groups[0]["id"].as_str().unwrap());
    let (_, h, first) = sb.call(Method::GET, &path, None).await;
    assert_eq!(
        first.as_array().unwrap().len(),
        1000,
        "limit defaults to 1000"
    );
    let next = link(&h, "next").expect("a next link past 1000 members");
    let (_, h, rest) = sb.call(Method::GET, &next, None).await;
    assert_eq!(rest[0]["profile"]["login"], "u1000@example.com");
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert!(link(&h, "next").is_none(), "the last page has no next link");
    let (_, _, big) = sb
        .call(Method::GET, &format!("{path}?limit=5000"), None)
        .await;
    assert_eq!(big.as_array().unwrap().len(), 1000, "at most 1000 a page");
    // Two at a time, following `next` only: every member once, in the order they joined.
    let mut seen = Vec::new();
    let mut next = Some(format!("{path}?limit=2"));
    while let Some(page) = next.take().filter(|_| seen.len() < 6) {
        let (s, h, body) = sb.call(Method::GET, &page, None).await;
        assert_eq!(s, 200, "{page}: {body}");
        assert_eq!(body.as_array().unwrap().len(), 2);
        seen.extend(
            body.as_array()
                .unwrap()
                .iter()
                .map(|u| u["profile"]["login"].clone()),
        );
        next = link(&h, "next");
        assert!(next.as_deref().unwrap().contains("limit=2"));
    }
    assert_eq!(seen, logins[..6]);
}

// §10: assignments: 200, E0000062 on a second direct assignment, E0000046 while a group grants.
#[tokio::test]
async fn assignments_and_their_errors() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Assign").await;
    let ann = sb.user_id("ann@example.com").await;
    let bob = sb.user_id("bob@example.com").await;
    let (s, au) = sb
        .post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            &au["scope"],
            &au["syncState"],
            &au["credentials"]["userName"]
        ),
        (
            &json!("USER"),
            &json!("DISABLED"),
            &json!("ann@example.com")
        )
    );
    let (s, dup) = sb
        .post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    assert_eq!(s, 409);
    assert_error(&dup, "E0000062");
    let (_, groups) = sb.get("/api/v1/groups?q=Eng").await;
    let gid = groups[0]["id"].as_str().unwrap();
    let (s, _, g) = sb
        .call(
            Method::PUT,
            &format!("/api/v1/apps/{id}/groups/{gid}"),
            Some(json!({})),
        )
        .await;
    assert_eq!((s, &g["id"]), (200, &json!(gid)));
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": bob}))
        .await;
    let (s, _, b) = sb
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{id}/users/{bob}"),
            None,
        )
        .await;
    assert_eq!(s, 403);
    assert_error(&b, "E0000046");
    let (s, _, users) = sb
        .call(
            Method::GET,
            &format!("/api/v1/apps/{id}/users?limit=1"),
            None,
        )
        .await;
    assert_eq!((s, users.as_array().unwrap().len()), (200, 1));
    let (s, _, _) = sb
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{id}/users/{ann}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        sb.get(&format!("/api/v1/apps/{id}/users/{ann}")).await.0,
        404
    );
}

async fn provisioned_app(sb: &Sandbox, token: &str, update: bool) -> (String, Scim) {
    let id = sb.app("scim1testapp", "Prov").await;
    let (scim, url) = scim_server("good").await;
    let (s, _) = sb.post(&format!("/_sandbox/okta/apps/{id}/provisioning"),
        json!({"baseUrl": url, "token": token, "createUsers": true, "updateUsers": update, "deactivateUsers": true})).await;
    assert_eq!(s, 200);
    sb.wait().await;
    (id, scim)
}

// §12: saving the connection lists Users and Groups; assigning looks up by userName then POSTs
// a body built from the stored mappings; unassigning PATCHes active=false (decided).
#[tokio::test]
async fn provisioning_sends_what_okta_sends() {
    let sb = start().await;
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    let probe = scim.take();
    assert_eq!(
        probe
            .iter()
            .map(|r| (r.0.as_str(), r.1.as_str()))
            .collect::<Vec<_>>(),
        [
            // "Test API Credentials", then what saving sends.
            ("GET", "/scim/Users?startIndex=1&count=2"),
            ("GET", "/scim/Users?startIndex=1&count=2"),
            ("GET", "/scim/Groups?startIndex=1&count=100")
        ]
    );
    let ann = sb.user_id("ann@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    sb.wait().await;
    let reqs = scim.take();
    assert_eq!(
        reqs[0].1,
        "/scim/Users?filter=userName%20eq%20%22ann%40example.com%22&startIndex=1&count=100"
    );
    assert_eq!(reqs[1].0, "POST");
    assert_eq!(
        reqs[1].2,
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "ann@example.com",
        "name": {"givenName": "Ann", "familyName": "Lee"}, "displayName": "Ann Lee", "locale": "en_US",
        "emails": [{"value": "ann@example.com", "primary": true, "type": "work"}],
        "externalId": ann, "groups": [], "active": true})
    );
    let (_, au) = sb.get(&format!("/api/v1/apps/{id}/users/{ann}")).await;
    assert_eq!(
        (&au["syncState"], &au["status"], &au["externalId"]),
        (
            &json!("SYNCHRONIZED"),
            &json!("PROVISIONED"),
            &json!("scim-1")
        )
    );
    sb.call(
        Method::DELETE,
        &format!("/api/v1/apps/{id}/users/{ann}"),
        None,
    )
    .await;
    sb.wait().await;
    let reqs = scim.take();
    assert_eq!(
        (reqs[0].0.as_str(), reqs[0].1.as_str()),
        ("PATCH", "/scim/Users/scim-1")
    );
    assert_eq!(
        reqs[0].2,
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "id": "scim-1", "active": false})
    );
}

// §12 "Deactivate / reactivate": a user unassigned (deactivated with PATCH) and assigned again
// is reactivated with the same PATCH and `active: true`, as the same SCIM user: no lookup, no
// create, no PUT (decided in provision.rs).
#[tokio::test]
async fn a_reassigned_user_is_reactivated_with_patch() {
    let sb = start().await;
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    let ann = sb.user_id("ann@example.com").await;
    let users = format!("/api/v1/apps/{id}/users");
    let assign = || sb.post(&users, json!({"id": ann}));
    let path = format!("/api/v1/apps/{id}/users/{ann}");
    assign().await;
    sb.wait().await;
    sb.call(Method::DELETE, &path, None).await;
    sb.wait().await;
    scim.take();
    let (s, au) = assign().await;
    assert_eq!(s, 200, "{au}");
    assert_eq!(
        (&au["status"], &au["externalId"]),
        (&json!("STAGED"), &json!("scim-1")),
        "queued, and Okta still knows the SCIM user"
    );
    sb.wait().await;
    let sent: Vec<(String, String, Value)> = scim.take();
    assert_eq!(
        sent,
        [(
            "PATCH".to_string(),
            "/scim/Users/scim-1".to_string(),
            json!({"schemas": ["urn:scim:schemas:core:1.0"], "id": "scim-1", "active": true})
        )]
    );
    let (_, au) = sb.get(&path).await;
    assert_eq!(
        (&au["status"], &au["syncState"], &au["externalId"]),
        (
            &json!("PROVISIONED"),
            &json!("SYNCHRONIZED"),
            &json!("scim-1")
        )
    );
}

// End to end inside the sandbox, under the default readings (§12; ws1-api.md §6.5): assign,
// unassign (the user is deactivated in WS1), assign again: the same WS1 user is active again
// with the attributes it was created with, and Okta sent one PATCH for it, no PUT.
#[tokio::test]
async fn assign_unassign_reassign_ends_with_the_user_active_in_ws1() {
    use crate::support::{get_json, http, ws1_admin_token};
    let running = crate::support::sandbox().await;
    let admin = ws1_admin_token(&running).await;
    let bearer = format!("Bearer {admin}");
    let api = format!("{}/SAAS/jersey/manager/api", running.ws1_url);
    let dir = http()
        .post(format!("{api}/connectormanagement/directoryconfigs"))
        .bearer_auth(&admin)
        .json(&json!({"type": "OTHER_DIRECTORY", "name": "Okta Users", "domains": ["example.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dir.status(), 201);
    let sb = Sandbox {
        url: running.okta_url.clone(),
        http: reqwest::Client::new(),
    };
    let seed = json!({"okta": {"users": [{"login": "dee@example.com", "firstName": "Dee",
        "lastName": "Fox", "email": "dee@example.com"}]}});
    assert!(sb.post("/_sandbox/seed", seed).await.0 < 300);
    let (s, app) = sb
        .post(
            "/api/v1/apps",
            json!({"name": "vmwareworkspaceone", "label": "Workspace ONE", "signOnMode": "AUTO_LOGIN",
                   "settings": {"app": {"baseUrl": running.ws1_url}}}),
        )
        .await;
    assert_eq!(s, 200, "{app}");
    let id = app["id"].as_str().unwrap();
    let (_, mappings) = sb.get(&format!("/api/v1/mappings?targetId={id}")).await;
    let domain =
        json!({"properties": {"domain": {"expression": "\"example.com\"", "pushStatus": "PUSH"}}});
    let mid = mappings[0]["id"].as_str().unwrap();
    assert_eq!(
        sb.post(&format!("/api/v1/mappings/{mid}"), domain).await.0,
        200
    );
    let (s, step) = sb
        .post(
            &format!("/_sandbox/okta/apps/{id}/provisioning"),
            json!({"token": admin, "createUsers": true, "deactivateUsers": true}),
        )
        .await;
    assert_eq!(s, 200, "{step}");
    let dee = sb.user_id("dee@example.com").await;
    let assignment = format!("/api/v1/apps/{id}/users/{dee}");
    let dee_in_ws1 = format!("{api}/scim/Users?filter=userName%20eq%20%22dee%40example.com%22");
    let ws1_user = || async {
        let list = get_json(&dee_in_ws1, &bearer).await;
        assert_eq!(
            list["totalResults"], 1,
            "one WS1 user, never a second: {list}"
        );
        list["Resources"][0].clone()
    };

    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": dee}))
        .await;
    sb.wait().await;
    let created = ws1_user().await;
    let ext = "urn:scim:schemas:extension:workspace:1.0";
    assert_eq!(
        (&created["active"], &created[ext]["userStatus"]),
        (&json!(true), &json!("1"))
    );
    sb.call(Method::DELETE, &assignment, None).await;
    sb.wait().await;
    let deactivated = ws1_user().await;
    assert_eq!(
        (&deactivated["active"], &deactivated[ext]["userStatus"]),
        (&json!(false), &json!("2"))
    );

    running.shared.clear_requests();
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": dee}))
        .await;
    sb.wait().await;
    let (_, au) = sb.get(&assignment).await;
    assert_eq!(
        (&au["syncState"], &au["status"], &au["externalId"]),
        (
            &json!("SYNCHRONIZED"),
            &json!("PROVISIONED"),
            &created["id"]
        ),
        "{au}"
    );
    let again = ws1_user().await;
    assert_eq!(
        (&again["active"], &again[ext]["userStatus"]),
        (&json!(true), &json!("1"))
    );
    for attr in ["id", "userName", "externalId", "name", "emails"] {
        assert_eq!(again[attr], created[attr], "{attr}");
    }
    for attr in [
        "internalUserType",
        "domain",
        "userPrincipalName",
        "userStoreUuid",
    ] {
        assert_eq!(again[ext][attr], created[ext][attr], "{attr}");
    }
    assert_eq!(created[ext]["internalUserType"], "PROVISIONED");
    assert_eq!(created[ext]["domain"], "example.com");
    let writes: Vec<(String, String, u16)> = running
        .shared
        .requests()
        .into_iter()
        .filter(|e| e.service == "ws1" && e.write)
        .map(|e| (e.method, e.path, e.status))
        .collect();
    assert_eq!(
        writes,
        [(
            "PATCH".to_string(),
            format!(
                "/SAAS/jersey/manager/api/scim/Users/{}",
                created["id"].as_str().unwrap()
            ),
            204
        )]
    );

    // Decided: a refused reactivation (the WS1 user was deleted meanwhile) is a sync error,
    // and nothing is created in its place.
    sb.call(Method::DELETE, &assignment, None).await;
    sb.wait().await;
    let deleted = http()
        .delete(format!(
            "{api}/scim/Users/{}",
            created["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": dee}))
        .await;
    sb.wait().await;
    let (_, au) = sb.get(&assignment).await;
    assert_eq!(au["syncState"], "ERROR", "{au}");
    let (_, errors) = sb.get(&format!("/_sandbox/okta/apps/{id}/errors")).await;
    assert!(
        errors[0]["error"].as_str().unwrap().contains("HTTP 404"),
        "{errors}"
    );
    let list = get_json(&dee_in_ws1, &bearer).await;
    assert_eq!(list["totalResults"], 0, "{list}");
    running.shutdown().await.unwrap();
}

// End to end: a mapping changed through the API changes the next SCIM body, and custom
// attributes land in their external namespace.
#[tokio::test]
async fn a_mapping_change_changes_the_next_scim_body() {
    let sb = start().await;
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    let ns = "urn:scim:schemas:extension:workspace:1.0";
    let schema = format!("/api/v1/meta/schemas/apps/{id}/default");
    let attr =
        |n: &str| json!({"title": n, "type": "string", "externalName": n, "externalNamespace": ns});
    sb.post(&schema, json!({"definitions": {"custom": {"properties": {"domain": attr("domain"), "userPrincipalName": attr("userPrincipalName")}}}})).await;
    let (_, list) = sb.get(&format!("/api/v1/mappings?targetId={id}")).await;
    let mid = list[0]["id"].as_str().unwrap();
    sb.post(&format!("/api/v1/mappings/{mid}"), json!({"properties": {"domain": {"expression": "\"example.com\"", "pushStatus": "PUSH"},
        "userPrincipalName": {"expression": "String.substringBefore(user.login, \"@\")", "pushStatus": "PUSH"}, "displayName": null}})).await;
    let bob = sb.user_id("bob@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": bob}))
        .await;
    sb.wait().await;
    let post = scim.take().into_iter().find(|r| r.0 == "POST").unwrap().2;
    assert_eq!(
        post[ns],
        json!({"domain": "example.com", "userPrincipalName": "bob"})
    );
    assert_eq!(post["schemas"], json!(["urn:scim:schemas:core:1.0", ns]));
    assert!(post.get("displayName").is_none());
}

// §12 and the issue: a revoked or expired token shows as a sync error on the app user.
#[tokio::test]
async fn a_rejected_token_shows_as_a_sync_error() {
    let sb = start().await;
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    // The SCIM server stops accepting the token Okta holds (revoked there).
    *scim.token.lock().unwrap() = "rotated".into();
    let ann = sb.user_id("ann@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    sb.wait().await;
    let (_, au) = sb.get(&format!("/api/v1/apps/{id}/users/{ann}")).await;
    assert_eq!(au["syncState"], "ERROR");
    assert!(au["externalId"].is_null());
    let (_, errors) = sb.get(&format!("/_sandbox/okta/apps/{id}/errors")).await;
    assert!(
        errors[0]["error"].as_str().unwrap().contains("HTTP 401"),
        "{errors}"
    );
    assert_eq!(
        scim.take().last().unwrap().0,
        "GET",
        "nothing is created with a rejected token"
    );
}

// §12 "Test API Credentials": the console step tests a new token with a SCIM `/Users` list
// and saves nothing when it fails.
#[tokio::test]
async fn the_console_step_tests_the_token_and_refuses_a_wrong_one() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Console").await;
    let (scim, url) = scim_server("good").await;
    let step = |token: &str| json!({"baseUrl": url, "token": token, "createUsers": true, "deactivateUsers": true});
    let provisioning = format!("/_sandbox/okta/apps/{id}/provisioning");
    let (status, body) = sb.post(&provisioning, step("wrong")).await;
    assert_eq!(status, 400, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.contains("Test API Credentials failed") && error.contains("HTTP 401"),
        "{error}"
    );
    assert_eq!(
        scim.take()
            .iter()
            .map(|r| (r.0.as_str(), r.1.as_str()))
            .collect::<Vec<_>>(),
        [("GET", "/scim/Users?startIndex=1&count=2")],
        "tested with a SCIM list, nothing else"
    );
    let (_, app) = sb.get(&format!("/api/v1/apps/{id}")).await;
    assert!(
        app["features"].as_array().unwrap().is_empty(),
        "nothing was saved: {app}"
    );
    let (status, body) = sb.post(&provisioning, step("good")).await;
    assert_eq!(status, 200, "{body}");
    sb.wait().await;
    let (_, app) = sb.get(&format!("/api/v1/apps/{id}")).await;
    assert!(
        app["features"]
            .as_array()
            .unwrap()
            .contains(&json!("PUSH_NEW_USERS"))
    );
}

// §10 `expand=user`: the Okta user is embedded in `_embedded.user`, only when asked.
#[tokio::test]
async fn app_users_embed_the_okta_user_on_expand() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Embed").await;
    let ann = sb.user_id("ann@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    let (_, plain) = sb.get(&format!("/api/v1/apps/{id}/users")).await;
    assert!(plain[0].get("_embedded").is_none(), "{plain}");
    let (_, expanded) = sb
        .get(&format!("/api/v1/apps/{id}/users?expand=user&limit=500"))
        .await;
    assert_eq!(expanded[0]["_embedded"]["user"]["id"], json!(ann));
    assert_eq!(
        expanded[0]["_embedded"]["user"]["profile"]["login"],
        "ann@example.com"
    );
    let (_, one) = sb
        .get(&format!("/api/v1/apps/{id}/users/{ann}?expand=user"))
        .await;
    assert_eq!(one["_embedded"]["user"]["profile"]["firstName"], "Ann");
}

// §3 paging of app users: `limit` pages with `after` cursors in `next` links, each user once
// and the list page equal to the single read; a cursor whose user was unassigned meanwhile
// resumes where it was (Okta's cursors are positions, not items that must still exist).
#[tokio::test]
async fn app_users_page_by_cursor_even_past_an_unassigned_user() {
    let sb = start().await;
    let id = sb.app("scim1testapp", "Paged").await;
    let mut ids = Vec::new();
    for login in ["ann@example.com", "bob@example.com", "cy@example.com"] {
        let uid = sb.user_id(login).await;
        let (s, b) = sb
            .post(&format!("/api/v1/apps/{id}/users"), json!({"id": uid}))
            .await;
        assert_eq!(s, 200, "{b}");
        ids.push(uid);
    }
    ids.sort();
    let first = format!("/api/v1/apps/{id}/users?limit=1&expand=user");
    let (s, h, page) = sb.call(Method::GET, &first, None).await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page[0]["id"], json!(ids[0]));
    let (_, one) = sb
        .get(&format!("/api/v1/apps/{id}/users/{}?expand=user", ids[0]))
        .await;
    assert_eq!(page[0], one, "a page item is the app user as read alone");
    let next = link(&h, "next").expect("a next link");
    assert!(
        next.contains("expand=user") && next.contains("limit=1"),
        "{next}"
    );

    let (s, h, page) = sb.call(Method::GET, &next, None).await;
    assert_eq!(s, 200);
    assert_eq!(page[0]["id"], json!(ids[1]));
    let after_second = link(&h, "next").expect("a third page");
    // The second user leaves; the cursor naming it still leads to the third.
    let (s, _, b) = sb
        .call(
            Method::DELETE,
            &format!("/api/v1/apps/{id}/users/{}", ids[1]),
            None,
        )
        .await;
    assert!(s == 204 || s == 200, "{s} {b}");
    let (_, h, page) = sb.call(Method::GET, &after_second, None).await;
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["id"], json!(ids[2]));
    assert!(link(&h, "next").is_none(), "the last page has no next link");
}

// The expression subset: anything else is a sync error naming the expression.
#[tokio::test]
async fn an_unsupported_expression_is_a_sync_error() {
    let sb = start().await;
    let (id, _scim) = provisioned_app(&sb, "good", false).await;
    let (_, list) = sb.get(&format!("/api/v1/mappings?targetId={id}")).await;
    let mid = list[0]["id"].as_str().unwrap();
    sb.post(
        &format!("/api/v1/mappings/{mid}"),
        json!({"properties": {"locale": {"expression": "user.locale ?: \"en\""}}}),
    )
    .await;
    let cy = sb.user_id("cy@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": cy}))
        .await;
    sb.wait().await;
    let (_, errors) = sb.get(&format!("/_sandbox/okta/apps/{id}/errors")).await;
    assert!(
        errors[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("Unsupported expression"),
        "{errors}"
    );
}

// The issue: profile changes are pushed only with Update Users on, or on "Apply updates now",
// as GET then PUT of the whole user (§12).
#[tokio::test]
async fn profile_changes_push_only_with_update_users_or_apply_updates_now() {
    let sb = start().await;
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    let ann = sb.user_id("ann@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": ann}))
        .await;
    sb.wait().await;
    scim.take();
    sb.post(
        "/_sandbox/okta/users/ann@example.com",
        json!({"lastName": "Park"}),
    )
    .await;
    sb.wait().await;
    assert!(scim.take().is_empty(), "Update Users is off");
    sb.post(
        &format!("/_sandbox/okta/apps/{id}/apply-updates"),
        json!({}),
    )
    .await;
    sb.wait().await;
    let reqs = scim.take();
    assert_eq!(
        (reqs[0].0.as_str(), reqs[0].1.as_str()),
        ("GET", "/scim/Users/scim-1")
    );
    assert_eq!(
        (reqs[1].0.as_str(), reqs[1].1.as_str()),
        ("PUT", "/scim/Users/scim-1")
    );
    assert_eq!(reqs[1].2["name"]["familyName"], "Park");
}

// §11, §12: group push needs provisioning; an ACTIVE mapping creates the group and adds its
// provisioned members; delete needs INACTIVE and deleteTargetGroup.
#[tokio::test]
async fn group_push_rules_and_requests() {
    let sb = start().await;
    let plain = sb.app("scim1testapp", "NoProv").await;
    let (_, groups) = sb.get("/api/v1/groups?q=Eng").await;
    let gid = groups[0]["id"].as_str().unwrap().to_string();
    let (s, b) = sb
        .post(
            &format!("/api/v1/apps/{plain}/group-push/mappings"),
            json!({"sourceGroupId": gid, "targetGroupName": "Eng"}),
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&b, "E0000027");
    let (id, scim) = provisioned_app(&sb, "good", false).await;
    sb.call(
        Method::PUT,
        &format!("/api/v1/apps/{id}/groups/{gid}"),
        Some(json!({})),
    )
    .await;
    sb.wait().await;
    scim.take();
    let (s, m) = sb
        .post(
            &format!("/api/v1/apps/{id}/group-push/mappings"),
            json!({"sourceGroupId": gid, "targetGroupName": "Eng", "status": "ACTIVE"}),
        )
        .await;
    assert_eq!(s, 200);
    sb.wait().await;
    let reqs = scim.take();
    assert_eq!(
        reqs[0].2,
        json!({"schemas": ["urn:scim:schemas:core:1.0"], "displayName": "Eng"})
    );
    assert_eq!(reqs[1].2["members"][0]["display"], "bob@example.com");
    let mid = m["id"].as_str().unwrap();
    let (_, got) = sb
        .get(&format!("/api/v1/apps/{id}/group-push/mappings/{mid}"))
        .await;
    assert_eq!(got["targetGroupId"], "grp-1");
    let path = format!("/api/v1/apps/{id}/group-push/mappings/{mid}");
    let (s, _, b) = sb
        .call(
            Method::DELETE,
            &format!("{path}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_eq!(s, 400);
    assert_error(&b, "E0000027");
    let (s, _, _) = sb
        .call(Method::PATCH, &path, Some(json!({"status": "INACTIVE"})))
        .await;
    assert_eq!(s, 200);
    let (s, _, _) = sb.call(Method::DELETE, &path, None).await;
    assert_eq!(s, 400);
    let (s, _, _) = sb
        .call(
            Method::DELETE,
            &format!("{path}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_eq!(s, 204);
}

// End to end inside the sandbox (issue 4): the Okta emulator provisions into the WS1 emulator
// over HTTP; a user assigned without the workspace attributes lands in WS1 as a LOCAL user of
// the System Directory, while the Okta app user shows SYNCHRONIZED (the silent failure).
#[tokio::test]
async fn a_user_without_workspace_attributes_lands_in_the_system_directory() {
    use scimbridge::sandbox::ws1;
    let running = crate::support::sandbox().await;
    let token =
        crate::support::ws1_token(&running, ws1::ADMIN_CLIENT_ID, ws1::ADMIN_CLIENT_SECRET).await;
    let sb = Sandbox {
        url: running.okta_url.clone(),
        http: reqwest::Client::new(),
    };
    let seed = json!({"okta": {"users": [{"login": "dee@example.com", "firstName": "Dee", "lastName": "Fox", "email": "dee@example.com"}]}});
    assert!(sb.post("/_sandbox/seed", seed).await.0 < 300);
    let id = sb.app("scim1testapp", "E2E").await;
    let base = format!("{}/SAAS/jersey/manager/api/scim", running.ws1_url);
    sb.post(
        &format!("/_sandbox/okta/apps/{id}/provisioning"),
        json!({"baseUrl": base, "token": token, "createUsers": true}),
    )
    .await;
    let dee = sb.user_id("dee@example.com").await;
    sb.post(&format!("/api/v1/apps/{id}/users"), json!({"id": dee}))
        .await;
    sb.wait().await;
    let (_, au) = sb.get(&format!("/api/v1/apps/{id}/users/{dee}")).await;
    assert_eq!(au["syncState"], "SYNCHRONIZED", "{au}");
    let users: Value = reqwest::Client::new()
        .get(format!(
            "{base}/Users?filter=userName%20eq%20%22dee%40example.com%22"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ext = &users["Resources"][0]["urn:scim:schemas:extension:workspace:1.0"];
    assert_eq!(ext["internalUserType"], "LOCAL", "{users}");
    running.shutdown().await.unwrap();
}

// End to end inside the sandbox (issue 4, §12): the token Okta holds stops working, either
// because it expired (the sandbox clock passes its `exp`) or because its WS1 client was deleted
// (which revokes every token it issued); the next push fails and the app user shows the error.
#[tokio::test]
async fn an_expired_or_revoked_ws1_token_shows_as_a_sync_error() {
    use crate::support::{http, ws1_admin_token, ws1_token};
    let running = crate::support::sandbox().await;
    let sb = Sandbox {
        url: running.okta_url.clone(),
        http: reqwest::Client::new(),
    };
    let api = format!("{}/SAAS/jersey/manager/api", running.ws1_url);
    let seed = json!({"okta": {"users": [
        {"login": "dee@example.com", "firstName": "Dee", "lastName": "Fox", "email": "dee@example.com"},
        {"login": "eve@example.com", "firstName": "Eve", "lastName": "Ng", "email": "eve@example.com"}]}});
    assert!(sb.post("/_sandbox/seed", seed).await.0 < 300);
    let dee = sb.user_id("dee@example.com").await;
    let eve = sb.user_id("eve@example.com").await;

    // An app whose connection holds a token of a fresh client with a one-hour TTL.
    let connect = |label: &'static str| {
        let (sb, api, running) = (&sb, &api, &running);
        async move {
            let admin = ws1_admin_token(running).await;
            let client = format!("okta-{}", label.to_lowercase());
            let created = http()
                .post(format!("{api}/oauth2clients"))
                .bearer_auth(&admin)
                .json(
                    &json!({"clientId": client, "secret": "a-client-secret", "scope": "admin",
                    "authGrantTypes": "client_credentials", "accessTokenTTL": 60}),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(created.status(), 201);
            let token = ws1_token(running, &client, "a-client-secret").await;
            let id = sb.app("scim1testapp", label).await;
            sb.post(
                &format!("/_sandbox/okta/apps/{id}/provisioning"),
                json!({"baseUrl": format!("{api}/scim"), "token": token, "createUsers": true}),
            )
            .await;
            (id, client, admin)
        }
    };
    let sync = |app: String, user: String| {
        let sb = &sb;
        async move {
            sb.post(&format!("/api/v1/apps/{app}/users"), json!({"id": user}))
                .await;
            sb.wait().await;
            let (_, au) = sb.get(&format!("/api/v1/apps/{app}/users/{user}")).await;
            let (_, errors) = sb.get(&format!("/_sandbox/okta/apps/{app}/errors")).await;
            (au["syncState"].as_str().unwrap().to_owned(), errors)
        }
    };

    // Expired: the token works, then the clock passes its one-hour lifetime.
    let (expiring, _, _) = connect("Expiring").await;
    assert_eq!(sync(expiring.clone(), dee.clone()).await.0, "SYNCHRONIZED");
    running
        .clock
        .advance(std::time::Duration::from_secs(61 * 60));
    let (state, errors) = sync(expiring.clone(), eve.clone()).await;
    assert_eq!(state, "ERROR", "{errors}");
    assert!(
        errors[0]["error"].as_str().unwrap().contains("HTTP 401"),
        "{errors}"
    );
    // The console step refuses the expired token ("Test API Credentials").
    let expired = ws1_token(&running, "okta-expiring", "a-client-secret").await;
    running
        .clock
        .advance(std::time::Duration::from_secs(61 * 60));
    let (status, body) = sb
        .post(
            &format!("/_sandbox/okta/apps/{expiring}/provisioning"),
            json!({"baseUrl": format!("{api}/scim"), "token": expired}),
        )
        .await;
    assert_eq!(status, 400, "{body}");

    // Revoked: the token is fresh, but its client is deleted in WS1.
    let (revoked, client, admin) = connect("Revoked").await;
    let deleted = http()
        .delete(format!("{api}/oauth2clients/{client}"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let (state, errors) = sync(revoked, dee).await;
    assert_eq!(state, "ERROR", "{errors}");
    assert!(
        errors[0]["error"].as_str().unwrap().contains("HTTP 401"),
        "{errors}"
    );
    running.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn every_port_serves_every_emulators_control_routes_from_its_first_request() {
    // The control plane answers on every port; a port that started serving before the other
    // emulator was registered lacked its routes (seen in 6 of 40 starts).
    for start in 0..40 {
        let sb = scimbridge::sandbox::start(scimbridge::sandbox::SandboxOptions::default())
            .await
            .expect("sandbox starts");
        for base in [&sb.ws1_url, &sb.okta_url] {
            let r = crate::support::http()
                .post(format!("{base}/_sandbox/okta/supported-apps"))
                .json(&serde_json::json!({ "names": [] }))
                .send()
                .await
                .expect("control route");
            assert!(
                r.status().is_success(),
                "start {start}: {base} answered {}",
                r.status()
            );
        }
        sb.shutdown().await.expect("stops");
    }
}
