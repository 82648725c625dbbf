//! Hostile servers: a scripted server on loopback that answers what a real tenant would not (a
//! body of 2 GiB, an endless chunked body, an Authorization header echoed back, an app id that
//! is a number). Each case runs the real binary, or a provider client where the binary cannot
//! reach the point, and must end with a clear error; every run is watched and killed after
//! [`WATCHDOG`] (speed and memory belong in benches, not here).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use scimbridge::ids::{DirectoryId, OktaAppId};
use scimbridge::providers::http::HttpSettings;
use scimbridge::providers::okta::OktaClient;
use scimbridge::providers::ws1::Ws1Client;
use scimbridge::providers::{ApiError, ErrorKind};
use scimbridge::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::reconcile::{Run, SCIM11, scimbridge_with};
use crate::transport::assert_fails_saying;

/// How long one run may take before the test fails; the runs take a second or two.
const WATCHDOG: Duration = Duration::from_secs(20);

/// The head of one request as the scripted server read it.
struct Head {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// What the scripted server answers.
enum Reply {
    /// A complete answer.
    Full {
        status: u16,
        content_type: &'static str,
        body: String,
    },
    /// `Content-Length: 2 GiB`, then a few bytes, then nothing until the client hangs up.
    Announced2GiB,
    /// A chunked body that never ends (until the client hangs up).
    Endless,
    /// No answer at all, until the client hangs up.
    Silence,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Self {
        Reply::Full {
            status,
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    /// Okta's 401 quoting the Authorization header back, in the summary and a cause.
    fn okta_echo(head: &Head) -> Self {
        let auth = head.authorization.clone().unwrap_or_default();
        Self::json(
            401,
            serde_json::json!({
                "errorCode": "E0000011",
                "errorSummary": format!("Invalid token provided: {auth}"),
                "errorCauses": [{"errorSummary": format!("header was {auth}")}],
            }),
        )
    }

    /// An HTML error page quoting the Authorization header back.
    fn html_echo(status: u16, head: &Head) -> Self {
        let auth = head.authorization.clone().unwrap_or_default();
        Reply::Full {
            status,
            content_type: "text/html",
            body: format!("<html><body><h1>Refused</h1><p>Authorization: {auth}</p></body></html>"),
        }
    }
}

/// A server on 127.0.0.1 answering each request as `script` says.
async fn scripted<F>(script: F) -> SocketAddr
where
    F: Fn(&Head) -> Reply + Send + Sync + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let script = Arc::new(script);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let script = script.clone();
            tokio::spawn(async move { serve(tcp, &*script).await });
        }
    });
    addr
}

/// Answers requests on one connection until it closes. Request bodies are small here, so the
/// `Content-Length` body is read along with the head.
async fn serve(mut tcp: TcpStream, script: &(dyn Fn(&Head) -> Reply + Send + Sync)) {
    let mut buf = Vec::new();
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..end]).into_owned();
        let header = |name: &str| {
            text.lines().skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length").map_or(0, |n| n.parse().unwrap_or(0));
        while buf.len() < end + 4 + length {
            let mut chunk = [0u8; 4096];
            match tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let mut words = text.split_whitespace();
        let head = Head {
            method: words.next().unwrap_or_default().to_owned(),
            path: words.next().unwrap_or_default().to_owned(),
            authorization: header("authorization"),
        };
        buf.drain(..end + 4 + length);
        let answered = match script(&head) {
            Reply::Full {
                status,
                content_type,
                body,
            } => {
                let answer = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-type: {content_type}\r\n\
                     content-length: {}\r\n\r\n{body}",
                    body.len()
                );
                tcp.write_all(answer.as_bytes()).await.is_ok()
            }
            Reply::Announced2GiB => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            content-length: 2147483648\r\n\r\n[";
                let _ = tcp.write_all(head.as_bytes()).await;
                hold(&mut tcp).await;
                false
            }
            Reply::Endless => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\n\r\n";
                let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
                let mut ok = tcp.write_all(head.as_bytes()).await.is_ok();
                while ok {
                    ok = tcp.write_all(chunk.as_bytes()).await.is_ok();
                }
                false
            }
            Reply::Silence => {
                hold(&mut tcp).await;
                false
            }
        };
        if !answered {
            return;
        }
    }
}

/// Reads and discards until the client hangs up.
async fn hold(tcp: &mut TcpStream) {
    let mut sink = [0u8; 4096];
    while matches!(tcp.read(&mut sink).await, Ok(n) if n > 0) {}
}

/// Whether a request is for Okta (the scripted server plays both services).
fn is_okta(head: &Head) -> bool {
    head.path.starts_with("/api/v1/")
}

/// `scimbridge plan` of the SCIM 1.1 example against `server` (both services), with `secrets`
/// as credentials and `RUST_LOG=trace`, killed after [`WATCHDOG`].
async fn plan_against(server: SocketAddr, secrets: &Secrets) -> Run {
    let url = format!("http://{server}");
    let env = vec![
        ("OKTA_ORG_URL", url.clone()),
        ("OKTA_API_TOKEN", secrets.okta_token.to_owned()),
        ("WS1_TENANT_URL", url),
        ("WS1_CLIENT_ID", secrets.ws1_client_id.to_owned()),
        ("WS1_CLIENT_SECRET", secrets.ws1_secret.to_owned()),
        ("WS1_SCIM_CLIENT_SECRET", secrets.scim_secret.to_owned()),
        ("RUST_LOG", "trace".to_owned()),
    ];
    tokio::time::timeout(WATCHDOG, scimbridge_with(env, &["plan", "-c", SCIM11]))
        .await
        .unwrap_or_else(|_| panic!("scimbridge plan did not end within {WATCHDOG:?}"))
}

/// Credentials long enough to be scrubbed (the scrubber ignores values under 8 characters).
struct Secrets {
    okta_token: &'static str,
    ws1_client_id: &'static str,
    ws1_secret: &'static str,
    scim_secret: &'static str,
}

impl Secrets {
    /// Asserts that no secret shows in `text` in any form a server could echo: as is, in
    /// base64, as the Basic credentials, URL-encoded.
    fn assert_absent(&self, text: &str) {
        let basic = format!("{}:{}", self.ws1_client_id, self.ws1_secret);
        for value in [self.okta_token, self.ws1_secret, self.scim_secret, &basic] {
            let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
            for form in [value.to_owned(), STANDARD.encode(value), encoded] {
                assert!(!text.contains(&form), "{form:?} shows in:\n{text}");
            }
        }
    }
}

const SECRETS: Secrets = Secrets {
    okta_token: "00Cn-hostile-okta-api-token-7f3a9c",
    ws1_client_id: "scimbridge-admin",
    ws1_secret: "ws1-admin-secret-hostile-4b8e21",
    scim_secret: "scim-client-secret-hostile-d91c07",
};

/// A server whose Okta app list answers `reply()`; everything else goes unanswered.
async fn apps_answering(reply: fn() -> Reply) -> SocketAddr {
    scripted(move |head| {
        if head.path.starts_with("/api/v1/apps") {
            reply()
        } else {
            Reply::Silence
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_announced_at_2_gib_fails_before_it_is_read() {
    let server = apps_answering(|| Reply::Announced2GiB).await;
    let run = plan_against(server, &SECRETS).await;
    assert_fails_saying(
        &run,
        "failed: the answer is larger than 16 MiB (Content-Length 2147483648)",
    );
    assert_fails_saying(&run, "GET http://");
    assert_fails_saying(&run, "/api/v1/apps");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_chunked_body_stops_at_the_limit() {
    let server = apps_answering(|| Reply::Endless).await;
    let run = plan_against(server, &SECRETS).await;
    assert_fails_saying(&run, "/api/v1/apps");
    assert_fails_saying(&run, "failed: the answer is larger than 16 MiB, the most");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_token_answer_stops_at_the_token_limit() {
    let server = scripted(|head| {
        if head.method == "POST" && head.path.starts_with("/SAAS/auth/oauthtoken") {
            Reply::Endless
        } else {
            Reply::Silence
        }
    })
    .await;
    let run = plan_against(server, &SECRETS).await;
    assert_fails_saying(&run, "POST http://");
    assert_fails_saying(
        &run,
        "/SAAS/auth/oauthtoken failed: the answer is larger than 64 KiB",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_large_error_body_is_cut_not_an_error_of_its_own() {
    let server = scripted(|head| {
        if is_okta(head) {
            let summary = format!("Not found: {}", "x".repeat(1 << 20));
            Reply::json(
                404,
                serde_json::json!({"errorCode": "E0000007", "errorSummary": summary}),
            )
        } else {
            Reply::Silence
        }
    })
    .await;
    let run = plan_against(server, &SECRETS).await;
    // The first 16 KiB are not JSON on their own, so no vendor code; the status is what fails.
    assert_fails_saying(&run, "returned 404; body: {\"errorCode\":\"E0000007\"");
    assert!(!run.stderr.contains("larger than"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_echoed_by_the_servers_are_never_printed() {
    let server = scripted(|head| {
        if is_okta(head) {
            Reply::okta_echo(head)
        } else {
            Reply::html_echo(401, head)
        }
    })
    .await;
    let run = plan_against(server, &SECRETS).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("***"), "{}", run.stderr);
    // The trace level shows the requests, reqwest's and hyper's own lines included.
    assert!(run.stderr.contains(" TRACE "), "{}", run.stderr);
    SECRETS.assert_absent(&run.stdout);
    SECRETS.assert_absent(&run.stderr);
}

#[tokio::test]
async fn an_okta_error_quoting_the_api_token_is_shown_scrubbed() {
    let server = scripted(|head| match head.path.as_str() {
        p if p.starts_with("/api/v1/apps") => Reply::okta_echo(head),
        _ => Reply::html_echo(500, head),
    })
    .await;
    let okta = okta_client(server);
    let err = okta.list_apps(None, None).await.expect_err("401");
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Auth, "{text}");
    assert!(
        text.contains("E0000011: Invalid token provided: SSWS *** (header was SSWS ***)"),
        "{text}"
    );
    SECRETS.assert_absent(&text);
    let err = okta.all_users().await.expect_err("500");
    let text = err.to_string();
    assert!(text.contains("returned 500; body: <html>"), "{text}");
    assert!(text.contains("Authorization: SSWS ***</p>"), "{text}");
    SECRETS.assert_absent(&text);
}

/// The admin token the scripted WS1 hands out, which its directory list then quotes back.
const ADMIN_BEARER: &str = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJob3N0aWxlIn0.admin-bearer-sig";

#[tokio::test]
async fn ws1_errors_quoting_the_basic_credentials_or_the_admin_token_are_shown_scrubbed() {
    let server = scripted(|head| match head.path.as_str() {
        p if p.starts_with("/SAAS/auth/oauthtoken") => admin_token(),
        _ => Reply::json(
            401,
            serde_json::json!({"errors": [{"code": "unauthorized", "message": format!(
                "bad token {}", head.authorization.clone().unwrap_or_default())}]}),
        ),
    })
    .await;
    let ws1 = ws1_client(server);
    let err = ws1.list_directories().await.expect_err("401");
    let text = err.to_string();
    assert!(
        text.contains("unauthorized: bad token Bearer ***"),
        "{text}"
    );
    assert!(!text.contains("admin-bearer-sig"), "{text}");

    let server = scripted(|head| Reply::html_echo(500, head)).await;
    let err = ws1_client(server)
        .list_directories()
        .await
        .expect_err("500");
    let text = err.to_string();
    assert!(
        text.contains("/SAAS/auth/oauthtoken returned 500"),
        "{text}"
    );
    assert!(text.contains("Authorization: Basic ***</p>"), "{text}");
    SECRETS.assert_absent(&text);
}

/// The scripted WS1 token endpoint's answer: [`ADMIN_BEARER`] for an hour.
fn admin_token() -> Reply {
    Reply::json(
        200,
        serde_json::json!({"access_token": ADMIN_BEARER, "expires_in": 3600}),
    )
}

fn okta_client(server: SocketAddr) -> OktaClient {
    OktaClient::new(
        &format!("http://{server}"),
        &Secret::new(SECRETS.okta_token),
        HttpSettings::fast(),
    )
    .expect("client")
}

fn ws1_client(server: SocketAddr) -> Ws1Client {
    Ws1Client::new(
        &format!("http://{server}"),
        SECRETS.ws1_client_id,
        Secret::new(SECRETS.ws1_secret),
        HttpSettings::fast(),
    )
    .expect("client")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_app_whose_id_is_a_number_fails_the_plan_naming_the_field() {
    let server = apps_answering(|| {
        Reply::json(
            200,
            serde_json::json!([{"id": 42, "name": "scim1testapp",
                "label": "Workspace ONE Access", "status": "ACTIVE"}]),
        )
    })
    .await;
    let run = plan_against(server, &SECRETS).await;
    assert_fails_saying(&run, "cannot list the Okta apps");
    assert_fails_saying(
        &run,
        "failed: unexpected answer: the apps list, item 0: `id` is 42, not a string",
    );
    assert!(!run.stdout.contains("Plan:"), "{run:?}");
}

#[tokio::test]
async fn list_items_of_the_wrong_shape_are_errors_naming_the_item_and_field() {
    let server = scripted(|head| match head.path.as_str() {
        p if p.starts_with("/SAAS/auth/oauthtoken") => admin_token(),
        p if p.ends_with("/domains") => Reply::json(
            200,
            serde_json::json!({"items": [{"name": "example.com"}, {"_links": {}}]}),
        ),
        p if p.contains("/directoryconfigs") => Reply::json(
            200,
            serde_json::json!({"items": [
                {"directoryId": "d1", "name": "Okta Users", "type": "OTHER_DIRECTORY"},
                {"directoryId": 7, "name": "Other", "type": "OTHER_DIRECTORY"}]}),
        ),
        p if p.starts_with("/api/v1/users") => Reply::json(
            200,
            serde_json::json!([{"id": "00u1", "profile": {"login": "a@example.com"}},
                {"id": 42, "profile": {"login": "b@example.com"}}]),
        ),
        _ => Reply::json(404, serde_json::json!({})),
    })
    .await;
    let ws1 = ws1_client(server);
    let cases = [
        (
            ws1.list_directories().await.map(drop),
            "the directories list, item 1: invalid type: integer `7`",
        ),
        (
            ws1.directory_domains(&DirectoryId::new("d1"))
                .await
                .map(drop),
            "the domains list, item 1: no `name`, `domainName` or `_links.self.href`",
        ),
    ];
    for (result, expected) in cases {
        assert_decode_error(result, expected);
    }
    assert_decode_error(
        okta_client(server).all_users().await.map(drop),
        "unexpected answer body at `[1].id`: invalid type: integer `42`",
    );
}

/// `result` is an [`ErrorKind::Decode`] error saying `expected`.
fn assert_decode_error(result: Result<(), ApiError>, expected: &str) {
    let err = result.expect_err("an answer of the wrong shape");
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains(expected), "{err}");
}

#[tokio::test]
async fn list_items_without_an_id_are_errors_naming_the_item_and_field() {
    use serde_json::json;
    let server = scripted(|head| match head.path.as_str() {
        p if p.starts_with("/SAAS/auth/oauthtoken") => admin_token(),
        p if p.starts_with("/SAAS/jersey/manager/api/scim/Users") => Reply::json(
            200,
            json!({"totalResults": 2, "startIndex": 1, "Resources": [
                {"id": "u1", "userName": "ann@example.com"}, {"userName": "bob@example.com"}]}),
        ),
        p if p.starts_with("/api/v1/users") => Reply::json(
            200,
            json!([{"id": "00u1", "profile": {"login": "ann@example.com"}},
                {"status": "ACTIVE", "profile": {"login": "bob@example.com"}}]),
        ),
        p if p.starts_with("/api/v1/groups") => Reply::json(
            200,
            json!([{"id": "00g1", "profile": {"name": "Staff"}}, {"profile": {"name": "Staff"}}]),
        ),
        p if p.starts_with("/api/v1/apps/0oa1/users") => Reply::json(
            200,
            json!([{"id": "00u1", "scope": "USER"}, {"scope": "USER", "status": "PROVISIONED"}]),
        ),
        p if p.starts_with("/api/v1/apps/0oa2/users") => Reply::json(
            200,
            json!([{"id": "00u1", "scope": "USER",
                "_embedded": {"user": {"profile": {"login": "ann@example.com"}}}}]),
        ),
        _ => Reply::json(404, json!({})),
    })
    .await;
    let okta = okta_client(server);
    let ws1 = ws1_client(server);
    let cases = [
        (
            okta.all_users().await.map(drop),
            "unexpected answer body at `[1]`: missing field `id`",
        ),
        (
            okta.all_groups().await.map(drop),
            "unexpected answer body at `[1]`: missing field `id`",
        ),
        (
            okta.app_users(&OktaAppId::new("0oa1")).await.map(drop),
            "unexpected answer body at `[1]`: missing field `id`",
        ),
        (
            okta.app_users(&OktaAppId::new("0oa2")).await.map(drop),
            "unexpected answer body at `[0]._embedded.user`: missing field `id`",
        ),
        (
            ws1.scim_users(None).await.map(drop),
            "unexpected answer body at `Resources[1]`: missing field `id`",
        ),
    ];
    for (result, expected) in cases {
        assert_decode_error(result, expected);
    }
}
