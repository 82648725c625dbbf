//! The transport over real loopback TLS and TCP: a private CA generated here is trusted through
//! the settings, `--ca-cert` and `SSL_CERT_FILE`, and not otherwise; TLS failures are named for
//! what they are and tried once; a server that never answers fails within the timeout, with
//! retries bounded and shown at `-v`. The servers count the connections they accept, which is
//! how the tests see retries.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, date_time_ymd};
use reqwest::{Method, Url};
use scimbridge::providers::ErrorKind;
use scimbridge::providers::http::{HttpClient, HttpSettings, Request};
use scimbridge::providers::trust::{self, TrustError};
use scimbridge::sandbox::RunningSandbox;
use tokio::io::AsyncReadExt;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::reconcile::{Run, SCIM11, scimbridge_with, seeded};

/// A private CA, as a company running a TLS-inspecting proxy would have.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

/// A server certificate and its key.
struct Identity {
    cert: rustls::pki_types::CertificateDer<'static>,
    key: Vec<u8>,
}

impl Ca {
    fn new() -> Self {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate for `name`, valid now, or expired since 2001.
    fn issue(&self, name: &str, expired: bool) -> Identity {
        let key = KeyPair::generate().expect("server key");
        let mut params = CertificateParams::new(vec![name.to_owned()]).expect("server params");
        if expired {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("server certificate");
        Identity {
            cert: cert.der().clone(),
            key: key.serialize_der(),
        }
    }

    /// Writes the CA's PEM into `dir` and returns its path.
    fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("private-ca.pem");
        std::fs::write(&path, &self.pem).expect("write the CA");
        path
    }
}

/// A server on 127.0.0.1 that counts the connections it accepts. With an identity it speaks
/// TLS; with an upstream it forwards the bytes there (the sandbox behind a TLS-terminating
/// proxy); without one it reads and never answers.
struct Server {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    tls: bool,
}

impl Server {
    async fn start(identity: Option<&Identity>, upstream: Option<SocketAddr>) -> Self {
        let acceptor = identity.map(|id| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![id.cert.clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(id.key.clone().into()),
                )
                .expect("server config");
            TlsAcceptor::from(Arc::new(config))
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let accepted = Arc::new(AtomicUsize::new(0));
        let server = Self {
            addr,
            accepted: accepted.clone(),
            tls: acceptor.is_some(),
        };
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    match acceptor {
                        Some(acceptor) => {
                            // A refused handshake ends here, as on a real server.
                            if let Ok(tls) = acceptor.accept(tcp).await {
                                serve(tls, upstream).await;
                            }
                        }
                        None => serve(tcp, upstream).await,
                    }
                });
            }
        });
        server
    }

    /// The base URL, by the name the certificates are issued for.
    fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://localhost:{}", self.addr.port())
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

async fn serve<S>(mut stream: S, upstream: Option<SocketAddr>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match upstream {
        Some(upstream) => {
            let mut to = tokio::net::TcpStream::connect(upstream)
                .await
                .expect("upstream");
            let _ = tokio::io::copy_bidirectional(&mut stream, &mut to).await;
        }
        // Read whatever comes until the client gives up; never write.
        None => {
            let mut sink = Vec::new();
            let _ = stream.read_to_end(&mut sink).await;
        }
    }
}

/// A tiny HTTP service answering `200 {}` to everything, for the TLS server to front.
async fn answering() -> SocketAddr {
    let app = axum::Router::new().fallback(|| async { "{}" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A TLS server with a certificate for `name` from `ca`, answering `200 {}`.
async fn tls_server(ca: &Ca, name: &str, expired: bool) -> Server {
    Server::start(Some(&ca.issue(name, expired)), Some(answering().await)).await
}

async fn get(settings: HttpSettings, url: &str) -> Result<u16, scimbridge::providers::ApiError> {
    send(settings, Method::GET, url).await
}

async fn send(
    settings: HttpSettings,
    method: Method,
    url: &str,
) -> Result<u16, scimbridge::providers::ApiError> {
    let client = HttpClient::new(settings).expect("client");
    let url = Url::parse(url).expect("URL");
    let resp = client.send(Request::new(method, url)).await?;
    Ok(resp.status.as_u16())
}

fn trusting(ca: &Ca) -> HttpSettings {
    let dir = tempfile::tempdir().expect("temp dir");
    HttpSettings {
        extra_roots: trust::read_pem_file(&ca.write(dir.path())).expect("CA file"),
        ..HttpSettings::fast()
    }
}

#[tokio::test]
async fn a_private_ca_in_the_settings_is_trusted() {
    let ca = Ca::new();
    let server = tls_server(&ca, "localhost", false).await;
    let status = get(trusting(&ca), &format!("{}/api/v1/apps", server.url())).await;
    assert_eq!(status.expect("trusted"), 200);
}

/// What a TLS server with a certificate for `name` makes the client say, checking that the
/// handshake is refused as [`ErrorKind::Tls`] on the one connection tried.
async fn refused(ca: &Ca, name: &str, expired: bool, settings: HttpSettings) -> String {
    let server = tls_server(ca, name, expired).await;
    let err = get(settings, &format!("{}/api/v1/apps", server.url()))
        .await
        .expect_err("the handshake is refused");
    let text = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Tls, "{text}");
    assert_eq!(server.accepted(), 1, "not retried: {text}");
    text
}

#[tokio::test]
async fn an_untrusted_certificate_is_named_and_tried_once() {
    let text = refused(&Ca::new(), "localhost", false, HttpSettings::fast()).await;
    assert!(text.contains("failed: untrusted certificate: "), "{text}");
    assert!(text.contains("--ca-cert FILE or SSL_CERT_FILE"), "{text}");
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    let ca = Ca::new();
    let text = refused(&ca, "other.example", false, trusting(&ca)).await;
    let expected = "failed: certificate name mismatch: localhost presented a certificate for \
                    other.example";
    assert!(text.contains(expected), "{text}");
}

#[tokio::test]
async fn an_expired_certificate_is_named_expired() {
    let ca = Ca::new();
    let text = refused(&ca, "localhost", true, trusting(&ca)).await;
    let expected = "failed: expired certificate: the certificate localhost presented expired on \
                    2001-01-01T00:00:00Z";
    assert!(text.contains(expected), "{text}");
}

/// Generous: the bound is about 2 s; this only catches a run that is not bounded at all.
const GENEROUS: Duration = Duration::from_secs(15);

#[tokio::test]
async fn a_server_that_never_answers_fails_within_the_timeout() {
    let settings = HttpSettings {
        read_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        ..HttpSettings::fast()
    };
    let (for_get, for_post) = (
        Server::start(None, None).await,
        Server::start(None, None).await,
    );
    let (apps, oauth) = (
        format!("{}/api/v1/apps", for_get.url()),
        format!("{}/oauth", for_post.url()),
    );
    let started = Instant::now();
    let (read, create) = tokio::join!(
        get(settings.clone(), &apps),
        send(settings, Method::POST, &oauth),
    );
    assert!(started.elapsed() < GENEROUS, "{:?}", started.elapsed());

    // A read is tried once more after a timeout, not four more times.
    let err = read.expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::Transport);
    let text = err.to_string();
    assert!(
        text.contains("/api/v1/apps failed: no answer within 1 s (2 attempts)"),
        "{text}"
    );
    assert_eq!(for_get.accepted(), 2, "{text}");

    // A POST may have been acted on: it is not repeated.
    let err = create.expect_err("no answer");
    assert!(err.to_string().ends_with("no answer within 1 s"), "{err}");
    assert_eq!(for_post.accepted(), 1, "{err}");
}

#[test]
fn ca_files_that_cannot_be_used_are_errors_naming_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new();
    let good = ca.write(dir.path());
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    };
    let cases = [
        (dir.path().join("missing.pem"), "cannot read"),
        (
            write("notes.txt", "not a certificate\n"),
            "holds no PEM certificate",
        ),
        (
            write(
                "broken.pem",
                "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n",
            ),
            "is not a valid PEM file",
        ),
        (
            write(
                "junk.pem",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ),
            "certificate 1 of",
        ),
    ];
    for (path, expected) in cases {
        let err: TrustError = trust::read_pem_file(&path).expect_err("unusable");
        let text = err.to_string();
        assert!(text.contains(expected), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    }
    assert_eq!(trust::read_pem_file(&good).expect("good").len(), 1);

    // A directory: files without certificates and dangling links are skipped, duplicates drop.
    let certs = tempfile::tempdir().expect("temp dir");
    ca.write(certs.path());
    std::fs::copy(&good, certs.path().join("abcd1234.0")).expect("copy");
    std::fs::write(certs.path().join("README"), "hashed links below\n").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink("/nonexistent", certs.path().join("dangling.0")).expect("link");
    let mut anchors = trust::read_pem_dir(certs.path()).expect("directory");
    assert_eq!(anchors.len(), 2);
    trust::dedup(&mut anchors);
    assert_eq!(anchors.len(), 1);
    let err = trust::read_pem_dir(&dir.path().join("none")).expect_err("missing directory");
    assert!(err.to_string().contains("none"), "{err}");
}

/// The sandbox behind two TLS-terminating servers whose certificates `ca` issued for
/// `localhost`, and the environment that points scimbridge at them.
struct HttpsSandbox {
    sandbox: RunningSandbox,
    okta: Server,
    ws1: Server,
}

impl HttpsSandbox {
    async fn start(ca: &Ca) -> Self {
        let sandbox = seeded().await;
        let upstream = |url: &str| -> SocketAddr {
            url.trim_start_matches("http://")
                .parse()
                .expect("sandbox address")
        };
        let okta = tls_front(ca, upstream(&sandbox.okta_url)).await;
        let ws1 = tls_front(ca, upstream(&sandbox.ws1_url)).await;
        Self { sandbox, okta, ws1 }
    }

    /// The sandbox's credentials with its URLs replaced by the HTTPS ones, plus `extra`.
    fn env(&self, extra: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
        let mut env = self.sandbox.credentials();
        for (name, value) in &mut env {
            match *name {
                "OKTA_ORG_URL" => *value = self.okta.url(),
                "WS1_TENANT_URL" => *value = self.ws1.url(),
                _ => {}
            }
        }
        env.extend(extra.iter().cloned());
        env
    }
}

async fn tls_front(ca: &Ca, upstream: SocketAddr) -> Server {
    Server::start(Some(&ca.issue("localhost", false)), Some(upstream)).await
}

fn path_str(path: &Path) -> String {
    path.to_str().expect("UTF-8 temp path").to_owned()
}

fn assert_planned(run: &Run) {
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Plan:"), "{run:?}");
}

/// Asserts that a run failed and that its stderr says `text`.
pub(crate) fn assert_fails_saying(run: &Run, text: &str) {
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(text), "{text:?} in:\n{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_over_https_trusts_a_private_ca_from_ca_cert_ssl_cert_file_or_ssl_cert_dir() {
    let ca = Ca::new();
    let https = HttpsSandbox::start(&ca).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ca_file = path_str(&ca.write(dir.path()));
    let plan = ["plan", "-c", SCIM11];
    let option = [&["--ca-cert", ca_file.as_str()][..], &plan].concat();
    assert_planned(&scimbridge_with(https.env(&[]), &option).await);
    let file = https.env(&[("SSL_CERT_FILE", ca_file.clone())]);
    assert_planned(&scimbridge_with(file, &plan).await);
    let directory = https.env(&[("SSL_CERT_DIR", path_str(dir.path()))]);
    assert_planned(&scimbridge_with(directory, &plan).await);
    assert!(https.okta.accepted() > 0 && https.ws1.accepted() > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_over_https_without_the_private_ca_names_the_untrusted_certificate() {
    let ca = Ca::new();
    let https = HttpsSandbox::start(&ca).await;
    let run = scimbridge_with(https.env(&[]), &["plan", "-c", SCIM11]).await;
    assert_fails_saying(&run, "failed: untrusted certificate: ");
    assert_fails_saying(&run, "--ca-cert FILE or SSL_CERT_FILE");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_ca_file_stops_plan_before_any_request() {
    let ca = Ca::new();
    let https = HttpsSandbox::start(&ca).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = path_str(&dir.path().join("missing-ca.pem"));
    let run = scimbridge_with(
        https.env(&[]),
        &["plan", "-c", SCIM11, "--ca-cert", &missing],
    )
    .await;
    assert_fails_saying(&run, "a --ca-cert file cannot be used");
    assert_fails_saying(&run, &missing);

    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("write");
    let run = scimbridge_with(
        https.env(&[("SSL_CERT_FILE", path_str(&junk))]),
        &["plan", "-c", SCIM11],
    )
    .await;
    assert_fails_saying(&run, "the file SSL_CERT_FILE names cannot be used");
    assert_fails_saying(&run, &path_str(&junk));
    assert_eq!(https.okta.accepted() + https.ws1.accepted(), 0);
    assert!(https.sandbox.shared.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_against_a_server_that_never_answers_fails_within_the_timeout() {
    let sandbox = seeded().await;
    let silent = Server::start(None, None).await;
    let mut env = sandbox.credentials();
    for (name, value) in &mut env {
        if *name == "OKTA_ORG_URL" {
            *value = silent.url();
        }
    }
    let started = Instant::now();
    let run = scimbridge_with(env, &["-v", "--timeout", "1", "plan", "-c", SCIM11]).await;
    assert!(started.elapsed() < GENEROUS, "{:?}", started.elapsed());
    assert_fails_saying(&run, "failed: no answer within 1 s (2 attempts)");
    // Each retry shows at -v: method, URL, why, the wait, attempt n of m.
    let retry = run
        .stderr
        .lines()
        .find(|l| l.contains(" INFO ") && l.contains("retrying in"))
        .unwrap_or_else(|| panic!("no retry line at -v:\n{}", run.stderr));
    let url = silent.url();
    assert!(
        retry.contains(&format!("GET {url}/")) && retry.contains("no answer within 1 s"),
        "{retry}"
    );
    assert!(retry.contains("(attempt 2 of 2)"), "{retry}");
}
