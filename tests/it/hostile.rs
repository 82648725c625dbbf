//! Hostile servers: a scripted server on loopback that answers what a real tenant would not (a
//! body of 2 GiB, an endless chunked body, an Authorization header echoed back, an app id that
//! is a number). Each case runs the real binary, or a provider client where the binary cannot
//! reach the point, and must end with a clear error; every run is watched and killed after
//! [`WATCHDOG`] (speed and memory belong in benches, not here).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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
