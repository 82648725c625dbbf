//! Shared helpers for tests that need the sandbox: start it in-process on loopback and talk to
//! it over real HTTP.

#![allow(dead_code)]

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, start};
use serde_json::Value;

/// A fresh sandbox on free loopback ports.
pub async fn sandbox() -> RunningSandbox {
    start(SandboxOptions::default())
        .await
        .expect("sandbox starts")
}

/// A plain HTTP client (no retries, no redirects).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// Mints an access token for a WS1 client with the client-credentials grant.
pub async fn ws1_token(sb: &RunningSandbox, id: &str, secret: &str) -> String {
    let r = http()
        .post(format!(
            "{}/SAAS/auth/oauthtoken?grant_type=client_credentials",
            sb.ws1_url
        ))
        .basic_auth(id, Some(secret))
        .send()
        .await
        .expect("token request");
    assert_eq!(r.status(), 200, "token for {id}");
    let body: Value = r.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A token of the sandbox's pre-seeded admin client (scimbridge's own credentials).
pub async fn ws1_admin_token(sb: &RunningSandbox) -> String {
    let creds = sb.credentials();
    let get = |n: &str| creds.iter().find(|(k, _)| *k == n).expect(n).1.clone();
    ws1_token(sb, &get("WS1_CLIENT_ID"), &get("WS1_CLIENT_SECRET")).await
}

/// GETs `url` with `auth` as the Authorization header; the answer's JSON.
pub async fn get_json(url: &str, auth: &str) -> Value {
    http()
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

/// Sends `method url` with `auth` and a JSON `body` (if any); panics unless it succeeds.
pub async fn send_ok(method: reqwest::Method, url: &str, auth: &str, body: Option<&Value>) {
    let mut request = http()
        .request(method.clone(), url)
        .header("Authorization", auth);
    if let Some(body) = body {
        request = request.json(body);
    }
    let answer = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = answer.status();
    assert!(
        status.is_success(),
        "{method} {url}: {status} {:?}",
        answer.text().await
    );
}
