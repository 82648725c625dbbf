//! The HTTP layer both provider clients share: one rustls `reqwest` client, its trust and
//! timeouts, the HTTPS rule, retries with backoff and jitter, Okta-style rate-limit pacing, and the
//! typed [`ApiError`].
//!
//! Trust is the operating system's store ([`trust::os_store`]), the web roots bundled in the
//! binary (so a minimal container without a CA bundle still reaches Okta and WS1), and the extra
//! CA certificates of [`HttpSettings::extra_roots`] (a private CA, a TLS-inspecting proxy).
//!
//! What must hold: every request goes through [`HttpClient::send`]; a non-loopback host is only
//! ever spoken to over HTTPS; the decision whether to retry lives in [`classify`] alone, and a
//! refused certificate is never retried; a server that never answers fails within
//! `(1 + timeout_retries) × read_timeout` plus one backoff step; no body is read past its
//! request's [`Request::limit`] (an error body past [`ERROR_BODY_LIMIT`]), and a success body
//! over it fails as [`ErrorKind::TooLarge`], never retried; waits for rate limits are
//! computed from the server's `Date` header, never our wall clock; and no secret reaches an
//! error, a log line or a panic (authorization headers are marked sensitive, URLs are redacted,
//! error body excerpts have secret-looking JSON fields blanked, and an error's text goes
//! through [`crate::secret::scrub`], which knows every credential we hold).

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, UNIX_EPOCH};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use rustls::pki_types::UnixTime;

use super::trust::{self, Anchor};

/// Trust, timeouts, retry and pacing knobs. Tests shrink the waits through these, never by
/// sleeping.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// Time allowed to establish a connection, TLS handshake included.
    pub connect_timeout: Duration,
    /// Time allowed without a byte from the server: until its answer starts, then between parts
    /// of the body. It runs from the start of each attempt, so it bounds connecting too.
    pub read_timeout: Duration,
    /// Retries after the first attempt (0 disables retries).
    pub max_retries: u32,
    /// How many of those retries may follow an attempt that timed out. Each costs a whole
    /// timeout, so this is what bounds the time a server that never answers can hold a run.
    pub timeout_retries: u32,
    /// First backoff step; doubled per attempt, with jitter.
    pub backoff_base: Duration,
    /// Ceiling of one backoff step.
    pub backoff_max: Duration,
    /// Ceiling of any single wait derived from server headers (rate-limit reset, `Retry-After`).
    pub max_server_wait: Duration,
    /// Fraction of a bucket's limit below which requests are spread over the time left to its
    /// reset instead of being sent at once (0.0 disables pacing until the bucket is empty).
    pub pace_below_fraction: f64,
    /// CA certificates trusted besides the OS store and the bundled web roots, already checked
    /// (`trust::read_pem_file`).
    pub extra_roots: Vec<Anchor>,
}

impl Default for HttpSettings {
    /// A server that never answers fails a read after 2 × 10 s plus a backoff step of at most
    /// 0.5 s, well inside half a minute.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            max_retries: 4,
            timeout_retries: 1,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            max_server_wait: Duration::from_secs(90),
            pace_below_fraction: 0.1,
            extra_roots: Vec::new(),
        }
    }
}

impl HttpSettings {
    /// The same behaviour with every wait scaled down to milliseconds, for tests.
    pub fn fast() -> Self {
        Self {
            backoff_base: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            max_server_wait: Duration::from_millis(5),
            ..Self::default()
        }
    }
}

/// What a failure is, for the reconciler to match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// 404, or a lookup that found nothing.
    NotFound,
    /// 409, or a vendor code meaning "already exists".
    Conflict,
    /// The API refuses this capability for this object (Okta connection `UNKNOWN`, features
    /// 400 E0000001).
    Unsupported,
    /// 401: credentials missing, wrong or expired.
    Auth,
    /// 403: authenticated but not allowed.
    Forbidden,
    /// 429 after the retries were spent.
    RateLimited,
    /// Any other 4xx: the request itself was wrong.
    BadRequest,
    /// 5xx after the retries were spent.
    Server,
    /// No usable answer: connection refused or reset, timeout.
    Transport,
    /// The TLS handshake failed: an untrusted certificate (unknown issuer, self-signed), one
    /// for another name, an expired one. Never retried: trying again cannot change it.
    Tls,
    /// A URL that would send credentials over plain HTTP to a non-loopback host.
    InsecureUrl,
    /// A success answer whose body did not have the expected shape.
    Decode,
    /// The answer's body is larger than the request's [`Request::limit`]. Never retried: a
    /// server that sends too much once will again.
    TooLarge,
}

/// The vendor's own description of a failure.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VendorError {
    /// Okta `errorCode` (e.g. `E0000001`), WS1 `errors[0].code`, or OAuth `error`.
    pub code: Option<String>,
    /// Okta `errorSummary`, WS1 `errors[0].message`, or OAuth `error_description`.
    pub summary: Option<String>,
    /// Okta `errorCauses[].errorSummary`, further WS1 `errors[]` messages.
    pub causes: Vec<String>,
}

/// A failed API call with everything needed to understand it and nothing secret.
#[derive(Debug)]
pub struct ApiErrorDetails {
    pub kind: ErrorKind,
    pub method: Method,
    /// The URL with credentials and secret-looking query values replaced.
    pub url: String,
    pub status: Option<u16>,
    pub vendor: VendorError,
    /// Okta `X-Okta-Request-Id` or the body's `errorId`.
    pub request_id: Option<String>,
    /// The first few hundred characters of the body, secret fields blanked.
    pub body_excerpt: Option<String>,
    /// For transport errors, a short description of what went wrong on the wire.
    pub detail: Option<String>,
}

/// A failed API call (boxed so `Result`s stay small).
pub struct ApiError(Box<ApiErrorDetails>);

impl ApiError {
    pub fn new(details: ApiErrorDetails) -> Self {
        Self(Box::new(details))
    }

    /// An error raised by a client before or after the wire (decode, insecure URL, lookups).
    pub fn local(kind: ErrorKind, method: Method, url: &Url, detail: impl Into<String>) -> Self {
        Self::new(ApiErrorDetails {
            kind,
            method,
            url: redact_url(url),
            status: None,
            vendor: VendorError::default(),
            request_id: None,
            body_excerpt: None,
            detail: Some(detail.into()),
        })
    }

    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    pub fn details(&self) -> &ApiErrorDetails {
        &self.0
    }

    /// The vendor's error code, if the body carried one.
    pub fn code(&self) -> Option<&str> {
        self.0.vendor.code.as_deref()
    }

    /// Reclassifies the error (a client knows, for instance, that a 400 E0000001 on features
    /// means "unsupported").
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.0.kind = kind;
        self
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ApiError {
    /// Everything shown goes through [`crate::secret::scrub`]: a server may echo our
    /// credentials in its error summary or body.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = String::new();
        self.write_unscrubbed(&mut text)?;
        f.write_str(&crate::secret::scrub(&text))
    }
}

impl ApiError {
    fn write_unscrubbed(&self, f: &mut impl fmt::Write) -> fmt::Result {
        let d = &self.0;
        write!(f, "{} {}", d.method, d.url)?;
        match d.status {
            Some(status) => write!(f, " returned {status}")?,
            None => write!(f, " failed")?,
        }
        if let Some(code) = &d.vendor.code {
            write!(f, " {code}")?;
        }
        if let Some(summary) = &d.vendor.summary {
            write!(f, ": {summary}")?;
        }
        if !d.vendor.causes.is_empty() {
            write!(f, " ({})", d.vendor.causes.join("; "))?;
        }
        if let Some(detail) = &d.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(id) = &d.request_id {
            write!(f, " [request id {id}]")?;
        }
        if d.vendor.code.is_none()
            && d.vendor.summary.is_none()
            && let Some(body) = &d.body_excerpt
        {
            write!(f, "; body: {body}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// What came back from one attempt, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection could not be established: nothing reached the server.
    ConnectFailed,
    /// No connection within the connect timeout: nothing reached the server.
    ConnectTimedOut,
    /// No answer within the read timeout, after the request may have been sent.
    NoAnswer,
    /// The connection broke after the request may have been sent.
    BrokenAfterSend,
    /// The TLS handshake refused the server's certificate, or the server refused ours.
    TlsRejected,
}

/// Whether and how to try again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    No,
    /// Back off exponentially with jitter.
    Backoff,
    /// Wait as the server's rate-limit headers say (falling back to backoff without them).
    RateLimit,
    /// Back off, if the attempts that timed out so far leave room
    /// ([`HttpSettings::timeout_retries`]).
    AfterTimeout,
}

/// The one place that decides what is retried.
///
/// 429 and a failed connect are retried for every method: in both cases the server did nothing
/// (Okta rejects a rate-limited request before acting on it, reference/okta-api.md §3), so even
/// a `POST` is safe to repeat. 5xx and a connection broken after sending are retried only for
/// idempotent requests, because the server may already have acted. Timeouts follow the same
/// rule but from a smaller budget, since each one costs the whole timeout. A refused TLS
/// handshake is never retried: the certificate will be the same the next time.
pub fn classify(idempotent: bool, outcome: Outcome) -> Retry {
    match outcome {
        Outcome::Status(429) => Retry::RateLimit,
        Outcome::ConnectFailed => Retry::Backoff,
        Outcome::ConnectTimedOut => Retry::AfterTimeout,
        Outcome::NoAnswer if idempotent => Retry::AfterTimeout,
        Outcome::Status(500..=599) | Outcome::BrokenAfterSend if idempotent => Retry::Backoff,
        Outcome::TlsRejected => Retry::No,
        _ => Retry::No,
    }
}

/// `GET`, `HEAD`, `PUT`, `DELETE` and `OPTIONS` are idempotent by HTTP's definition.
pub fn idempotent_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Okta's rate-limit headers of one answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u64,
    pub remaining: u64,
    /// UTC epoch seconds at which the bucket refills.
    pub reset: u64,
    /// The server's `Date` header, UTC epoch seconds.
    pub server_now: u64,
}

impl RateLimit {
    /// Reads `X-Rate-Limit-Limit/Remaining/Reset` and `Date`; `None` if any is missing.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let num =
            |name: &str| -> Option<u64> { headers.get(name)?.to_str().ok()?.trim().parse().ok() };
        let date = headers.get(reqwest::header::DATE)?.to_str().ok()?;
        let server_now = httpdate::parse_http_date(date)
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_secs();
        Some(Self {
            limit: num("x-rate-limit-limit")?,
            remaining: num("x-rate-limit-remaining")?,
            reset: num("x-rate-limit-reset")?,
            server_now,
        })
    }

    /// The wait Okta recommends before the bucket refills: `Reset − Date + 1 s`
    /// (reference/okta-api.md §3, GOSDK README).
    pub fn wait_until_reset(&self) -> Duration {
        Duration::from_secs(self.reset.saturating_sub(self.server_now) + 1)
    }
}

/// The wait a 429 asks for: from the rate-limit headers, else `Retry-After` in seconds.
pub fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(rl) = RateLimit::from_headers(headers) {
        return Some(rl.wait_until_reset());
    }
    let secs: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

/// What the pacer knows of one bucket.
#[derive(Clone, Copy, Debug, Default)]
struct BucketState {
    /// The newest window's headers with the lowest `Remaining` seen in it, and when
    /// (monotonic) they arrived. Answers arrive out of order; the lowest count is the latest.
    seen: Option<(RateLimit, Instant)>,
    /// Requests sent in this bucket and not answered yet. Some of them the server may already
    /// have counted in `seen`, so `Remaining − in_flight` never overestimates the budget.
    in_flight: u64,
    /// While spreading the end of a window, the earliest the next request may go.
    next_slot: Option<Instant>,
}

/// What [`Pacer::reserve`] decided.
#[derive(Debug, PartialEq, Eq)]
enum Pace {
    /// Booked: send after this wait (zero: at once); release the booking when answered.
    Send(Duration),
    /// Not booked: wait this long, then ask again (for a reset, or for answers in flight).
    Retry(Duration),
}

/// Per-bucket pacing (Okta's buckets, one counter each): spend the window's budget, spread the
/// last of it over the time left, and never send what the server would refuse. The budget is
/// the lowest `X-Rate-Limit-Remaining` of the window minus the requests in flight; time is the
/// server's (`Reset − Date`, counted on our monotonic clock from the answer).
#[derive(Default)]
struct Pacer {
    buckets: Mutex<HashMap<String, BucketState>>,
}

/// How long to wait for answers in flight before looking at the budget again.
const IN_FLIGHT_POLL: Duration = Duration::from_millis(50);

impl Pacer {
    /// Decides whether a request in `bucket` may go, booking it if so.
    fn reserve(&self, bucket: &str, fraction: f64) -> Pace {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let state = buckets.entry(bucket.to_owned()).or_default();
        let now = Instant::now();
        let known = state.seen.and_then(|(seen, at)| {
            let to_reset = seen.wait_until_reset().saturating_sub(at.elapsed());
            (!to_reset.is_zero()).then_some((seen, to_reset))
        });
        let Some((seen, to_reset)) = known else {
            // A new window (or none seen yet): its first answers will tell.
            state.seen = None;
            state.next_slot = None;
            state.in_flight += 1;
            return Pace::Send(Duration::ZERO);
        };
        let budget = seen.remaining.saturating_sub(state.in_flight);
        if budget == 0 {
            return Pace::Retry(if state.in_flight > 0 {
                IN_FLIGHT_POLL.min(to_reset)
            } else {
                to_reset
            });
        }
        let threshold = (seen.limit as f64 * fraction).ceil() as u64;
        let wait = if budget <= threshold {
            // Spread what is left evenly over the time left, one slot after another.
            let slot = state.next_slot.map_or(now, |s| s.max(now));
            state.next_slot = Some(slot + to_reset / (budget as u32 + 1));
            slot - now
        } else {
            Duration::ZERO
        };
        state.in_flight += 1;
        Pace::Send(wait)
    }

    /// A booked request was answered (or failed): it is no longer in flight.
    fn release(&self, bucket: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = buckets.get_mut(bucket) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }

    /// Records an answer's headers: a newer window replaces the old, and within a window the
    /// count only goes down (an answer showing more remaining is older news).
    fn observe(&self, bucket: &str, rl: RateLimit) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let state = buckets.entry(bucket.to_owned()).or_default();
        let now = Instant::now();
        match &mut state.seen {
            Some((seen, at)) if seen.reset == rl.reset && seen.limit == rl.limit => {
                if rl.remaining < seen.remaining {
                    *seen = rl;
                    *at = now;
                }
            }
            Some((seen, _)) if seen.reset > rl.reset => {}
            _ => {
                state.seen = Some((rl, now));
                state.next_slot = None;
            }
        }
    }

    #[cfg(test)]
    fn budget(&self, bucket: &str) -> Option<u64> {
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let state = buckets.get(bucket)?;
        let (seen, _) = state.seen?;
        Some(seen.remaining.saturating_sub(state.in_flight))
    }
}

/// A booking in the pacer, released when dropped: answered, failed or cancelled alike.
struct Booking<'a> {
    pacer: &'a Pacer,
    bucket: &'a str,
}

impl Drop for Booking<'_> {
    fn drop(&mut self) {
        self.pacer.release(self.bucket);
    }
}

/// One request, as a provider client describes it.
pub struct Request {
    pub method: Method,
    pub url: Url,
    /// Extra headers; authorization values must be marked sensitive by the caller.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub body: Option<Vec<u8>>,
    /// Whether repeating the request is harmless; defaults from the method.
    pub idempotent: bool,
    /// Whether it changes something (counted as a write); `GET` and `HEAD` do not, a `POST`
    /// that only asks (scimbridge's own admin token) is marked with [`Request::reading`].
    pub write: bool,
    /// The rate-limit bucket this request counts against (`None`: not paced).
    pub bucket: Option<String>,
    /// The most bytes of a success body read; a larger one fails as [`ErrorKind::TooLarge`].
    pub limit: usize,
}

/// The default [`Request::limit`]: one object or one page of the sizes scimbridge asks for.
/// The largest are 200 Okta apps (about 10 KiB each with `_links` and settings) and 500 app
/// users with their user embedded (about 4 KiB each), a few MiB at most; 16 MiB leaves room
/// for tenants with large profiles and still bounds what a hostile server can make us hold.
pub const BODY_LIMIT: usize = 16 << 20;
/// For pages of up to 10,000 items (Okta groups, WS1 SCIM users), about 6 KiB an item.
pub const LARGE_PAGE_LIMIT: usize = 64 << 20;
/// An OAuth token answer is a JWT and a few fields, well under 8 KiB.
pub const TOKEN_BODY_LIMIT: usize = 64 << 10;
/// The most of an error body read: enough for the excerpt and the vendor's error fields. The
/// rest is left unread, and the error is the status's, not one about the body's size.
pub const ERROR_BODY_LIMIT: usize = 16 << 10;

impl Request {
    pub fn new(method: Method, url: Url) -> Self {
        let idempotent = idempotent_method(&method);
        let write = !matches!(method, Method::GET | Method::HEAD);
        Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
            idempotent,
            write,
            bucket: None,
            limit: BODY_LIMIT,
        }
    }

    /// The most bytes of a success body to read (default [`BODY_LIMIT`]).
    pub fn limit(mut self, bytes: usize) -> Self {
        self.limit = bytes;
        self
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }

    /// The request changes nothing, whatever its method.
    pub fn reading(mut self) -> Self {
        self.write = false;
        self
    }

    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    pub fn bucket(mut self, bucket: Option<String>) -> Self {
        self.bucket = bucket;
        self
    }
}

/// A successful answer, body read.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub url: Url,
}

/// The shared client. Cheap to clone through an `Arc` by the provider clients.
pub struct HttpClient {
    client: reqwest::Client,
    settings: HttpSettings,
    pacer: Pacer,
    jitter_seed: AtomicU64,
    /// The last `Date` header seen (epoch seconds) and when (monotonic): the server's clock.
    server_date: Mutex<Option<(u64, Instant)>>,
}

impl HttpClient {
    pub fn new(settings: HttpSettings) -> Result<Self, ApiError> {
        let cannot_build = |e: reqwest::Error| {
            let cause = std::error::Error::source(&e)
                .map(|c| format!(": {c}"))
                .unwrap_or_default();
            ApiError::new(ApiErrorDetails {
                kind: ErrorKind::Transport,
                method: Method::GET,
                url: String::new(),
                status: None,
                vendor: VendorError::default(),
                request_id: None,
                body_excerpt: None,
                detail: Some(format!("cannot build the HTTP client: {e}{cause}")),
            })
        };
        // The bundled web roots are on by default (the `rustls-tls` feature); the OS store and
        // the extra roots were checked when they were read.
        let mut builder = reqwest::Client::builder().use_rustls_tls();
        for root in trust::os_store().iter().chain(&settings.extra_roots) {
            builder = builder
                .add_root_certificate(reqwest::Certificate::from_der(root).map_err(cannot_build)?);
        }
        let client = builder
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .user_agent(concat!("scimbridge/", env!("CARGO_PKG_VERSION")))
            // Redirects could carry the authorization header to another host; none of the
            // APIs we call redirects, so refuse them.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(cannot_build)?;
        Ok(Self {
            client,
            settings,
            pacer: Pacer::default(),
            jitter_seed: AtomicU64::new(0),
            server_date: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// The server's time now (epoch seconds): its last `Date` header plus the monotonic time
    /// since. `None` before any answer carried a `Date`. Token expiry is judged on this clock.
    pub fn server_now(&self) -> Option<i64> {
        let seen = *self.server_date.lock().unwrap_or_else(|e| e.into_inner());
        seen.map(|(date, at)| (date + at.elapsed().as_secs()) as i64)
    }

    fn observe_date(&self, headers: &HeaderMap) {
        let date = headers
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
        if let Some(date) = date {
            *self.server_date.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((date.as_secs(), Instant::now()));
        }
    }

    /// Sends `request`, pacing, retrying and classifying as described in the module docs.
    /// A non-2xx final answer becomes an [`ApiError`].
    pub async fn send(&self, request: Request) -> Result<Response, ApiError> {
        require_https(&request.method, &request.url)?;
        let mut attempt: u32 = 0;
        let mut timeouts: u32 = 0;
        loop {
            let mut booking = None;
            if let Some(bucket) = &request.bucket {
                loop {
                    let (wait, booked) = match self
                        .pacer
                        .reserve(bucket, self.settings.pace_below_fraction)
                    {
                        Pace::Send(wait) => (wait, true),
                        Pace::Retry(wait) => (wait, false),
                    };
                    if booked {
                        booking = Some(Booking {
                            pacer: &self.pacer,
                            bucket,
                        });
                    }
                    let wait = wait.min(self.settings.max_server_wait);
                    if !wait.is_zero() {
                        tracing::debug!(bucket, wait_ms = wait.as_millis() as u64, "pacing");
                        crate::progress::ACTIVITY.waiting(bucket, wait);
                        tokio::time::sleep(wait).await;
                    }
                    if booked {
                        break;
                    }
                }
            }
            let mut builder = self
                .client
                .request(request.method.clone(), request.url.clone());
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            if let Some(body) = &request.body {
                builder = builder.body(body.clone());
            } else if matches!(request.method, Method::POST | Method::PUT) {
                // Okta answers 411 to a body-less POST/PUT without Content-Length
                // (reference/okta-api.md §3).
                builder = builder.header(reqwest::header::CONTENT_LENGTH, "0");
            }
            let sent = builder.send().await;
            let (outcome, result) = match sent {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    self.observe_date(&headers);
                    if let (Some(bucket), Some(rl)) =
                        (&request.bucket, RateLimit::from_headers(&headers))
                    {
                        self.pacer.observe(bucket, rl);
                    }
                    drop(booking);
                    let limit = if status.is_success() {
                        request.limit
                    } else {
                        ERROR_BODY_LIMIT
                    };
                    // A success body announced larger than the limit is refused unread.
                    if status.is_success()
                        && resp.content_length().is_some_and(|n| n > limit as u64)
                    {
                        return Err(too_large(&request, &headers));
                    }
                    match read_body(resp, limit).await {
                        Ok(Body::Cut(_)) if status.is_success() => {
                            return Err(too_large(&request, &headers));
                        }
                        // An error body is only read as far as its excerpt needs.
                        Ok(Body::Whole(body) | Body::Cut(body)) => (
                            Outcome::Status(status.as_u16()),
                            Ok(Response {
                                status,
                                headers,
                                body,
                                url: request.url.clone(),
                            }),
                        ),
                        Err(e) => (outcome_of(&e), Err(e)),
                    }
                }
                Err(e) => (outcome_of(&e), Err(e)),
            };
            if let Ok(resp) = &result
                && resp.status.is_success()
            {
                crate::progress::ACTIVITY.answered(request.write);
                return result.map_err(|_| unreachable_transport(&request));
            }
            if outcome == Outcome::Status(429) {
                crate::progress::ACTIVITY.throttled();
            }
            let decision = classify(request.idempotent, outcome);
            let most = 1 + self.settings.max_retries;
            let most = match decision {
                Retry::No => attempt + 1,
                Retry::AfterTimeout => {
                    timeouts += 1;
                    // At most `timeout_retries` retries follow a timed-out attempt; if every
                    // attempt from here times out too, this is the last one.
                    let retries_left = (self.settings.timeout_retries + 1).saturating_sub(timeouts);
                    most.min(attempt + 1 + retries_left)
                }
                Retry::Backoff | Retry::RateLimit => most,
            };
            if attempt + 1 >= most {
                return Err(match result {
                    Ok(resp) => error_from_response(&request.method, &resp),
                    Err(e) => transport_error(&request, &e, outcome, attempt + 1, &self.settings),
                });
            }
            let wait = match (&decision, &result) {
                (Retry::RateLimit, Ok(resp)) => server_wait(&resp.headers)
                    .map(|w| w.min(self.settings.max_server_wait))
                    .unwrap_or_else(|| self.backoff(attempt)),
                _ => self.backoff(attempt),
            };
            tracing::info!(
                "{} {}: {}; retrying in {:.1} s (attempt {} of {most})",
                request.method,
                redact_url(&request.url),
                outcome.describe(&self.settings),
                wait.as_secs_f64(),
                attempt + 2,
            );
            if let (Retry::RateLimit, Some(bucket)) = (&decision, &request.bucket) {
                crate::progress::ACTIVITY.waiting(bucket, wait);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.settings.backoff_max);
        let half = step / 2;
        let seed = self.jitter_seed.fetch_add(1, Ordering::Relaxed);
        let random = RandomState::new().hash_one(seed);
        let nanos = half.as_nanos() as u64;
        let jitter = if nanos == 0 { 0 } else { random % nanos };
        half + Duration::from_nanos(jitter)
    }
}

/// A body as far as it was read.
enum Body {
    /// All of it.
    Whole(Vec<u8>),
    /// The first `limit` bytes of a longer one; the rest was never read.
    Cut(Vec<u8>),
}

/// Reads at most `limit` bytes of `resp`'s body, chunk by chunk, so a server cannot make us
/// hold more than that however long it sends.
async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<Body, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok(Body::Cut(body));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Body::Whole(body))
}

/// The error for a success body over the request's limit.
fn too_large(request: &Request, headers: &HeaderMap) -> ApiError {
    let announced = headers
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .map(|n| format!(" (Content-Length {n})"))
        .unwrap_or_default();
    ApiError::local(
        ErrorKind::TooLarge,
        request.method.clone(),
        &request.url,
        format!(
            "the answer is larger than {}{announced}, the most scimbridge reads for this request",
            bytes(request.limit)
        ),
    )
}

/// `16 MiB`, `64 KiB`, `100 bytes`.
fn bytes(n: usize) -> String {
    match n {
        n if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        n if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        n => format!("{n} bytes"),
    }
}

fn unreachable_transport(request: &Request) -> ApiError {
    ApiError::local(
        ErrorKind::Transport,
        request.method.clone(),
        &request.url,
        "no response",
    )
}

/// Refuses plain HTTP to anything but loopback, where the sandbox lives.
pub fn require_https(method: &Method, url: &Url) -> Result<(), ApiError> {
    if url.scheme() == "https" {
        return Ok(());
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    if url.scheme() == "http" && loopback {
        return Ok(());
    }
    Err(ApiError::local(
        ErrorKind::InsecureUrl,
        method.clone(),
        url,
        "HTTPS is required for every host other than loopback",
    ))
}

/// Query parameters whose values are never shown.
const SECRET_KEYS: &[&str] = &[
    "token",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
    "password",
    "api_key",
    "apikey",
];

fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|k| key == *k) || key.ends_with("secret") || key.ends_with("token")
}

/// The URL with user info and secret-looking query values replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    let mut url = url.clone();
    if !url.username().is_empty() {
        let _ = url.set_username("***");
    }
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_key(&k) {
                    "***".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Blanks secret-looking fields anywhere in a JSON value.
fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_key(k) && !v.is_null() {
                    *v = serde_json::Value::String("(sensitive)".into());
                } else {
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

const EXCERPT_CHARS: usize = 300;

fn excerpt(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(mut json) => {
            redact_json(&mut json);
            json.to_string()
        }
        // A non-JSON body may be anything; show it only if it cannot hold a JSON secret field.
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        out.push('…');
    }
    Some(out)
}

/// Reads the vendor error out of an Okta, WS1 or OAuth error body.
pub fn parse_vendor_error(body: &[u8]) -> (VendorError, Option<String>) {
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (VendorError::default(), None);
    };
    let s = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    // Okta (reference/okta-api.md §3).
    if json.get("errorCode").is_some() || json.get("errorSummary").is_some() {
        let causes = json
            .get("errorCauses")
            .and_then(|c| c.as_array())
            .map(|c| c.iter().filter_map(|c| s(&c["errorSummary"])).collect())
            .unwrap_or_default();
        return (
            VendorError {
                code: s(&json["errorCode"]),
                summary: s(&json["errorSummary"]),
                causes,
            },
            s(&json["errorId"]),
        );
    }
    // WS1 `{"errors":[{"code","message"}]}` (reference/ws1-api.md §7).
    if let Some(errors) = json.get("errors").and_then(|e| e.as_array())
        && let Some(first) = errors.first()
    {
        return (
            VendorError {
                code: s(&first["code"]),
                summary: s(&first["message"]),
                causes: errors[1..]
                    .iter()
                    .filter_map(|e| s(&e["message"]))
                    .collect(),
            },
            None,
        );
    }
    // OAuth 2 token endpoint (reference/ws1-api.md §3.3).
    if json.get("error").is_some() {
        return (
            VendorError {
                code: s(&json["error"]),
                summary: s(&json["error_description"]),
                causes: Vec::new(),
            },
            None,
        );
    }
    (VendorError::default(), None)
}

/// The kind a status maps to before any client-specific reclassification.
pub fn kind_for_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Auth,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        409 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::BadRequest,
    }
}

/// Builds the error for a final non-2xx answer.
pub fn error_from_response(method: &Method, resp: &Response) -> ApiError {
    let status = resp.status.as_u16();
    let (vendor, body_id) = parse_vendor_error(&resp.body);
    let request_id = resp
        .headers
        .get("x-okta-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or(body_id);
    ApiError::new(ApiErrorDetails {
        kind: kind_for_status(status),
        method: method.clone(),
        url: redact_url(&resp.url),
        status: Some(status),
        vendor,
        request_id,
        body_excerpt: excerpt(&resp.body),
        detail: None,
    })
}

impl Outcome {
    /// What went wrong, in words, for logs and errors (no URL: callers print it redacted).
    fn describe(self, settings: &HttpSettings) -> String {
        match self {
            Outcome::Status(429) => "rate limited (429)".to_owned(),
            Outcome::Status(status) => format!("answered {status}"),
            Outcome::ConnectFailed => "could not connect".to_owned(),
            Outcome::ConnectTimedOut => {
                format!(
                    "could not connect within {}",
                    secs(settings.connect_timeout)
                )
            }
            Outcome::NoAnswer => format!("no answer within {}", secs(settings.read_timeout)),
            Outcome::BrokenAfterSend => {
                "the connection broke after the request was sent".to_owned()
            }
            Outcome::TlsRejected => "the TLS handshake failed".to_owned(),
        }
    }
}

/// How a failed attempt counts for retrying. reqwest reports a connect timeout as both a
/// connect error and a timeout; its read timeout runs from the start of the attempt, so when it
/// fires first the request may or may not have been sent.
fn outcome_of(e: &reqwest::Error) -> Outcome {
    if tls_cause(e).is_some() {
        Outcome::TlsRejected
    } else if e.is_timeout() && e.is_connect() {
        Outcome::ConnectTimedOut
    } else if e.is_timeout() {
        Outcome::NoAnswer
    } else if e.is_connect() {
        Outcome::ConnectFailed
    } else {
        Outcome::BrokenAfterSend
    }
}

/// The rustls error behind a failed request, if TLS is what failed. The chain runs reqwest →
/// hyper → `io::Error` → rustls; `io::Error::source` skips the error it wraps, so an `io::Error`
/// is opened with `get_ref` instead.
fn tls_cause(e: &reqwest::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        next = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

const PRIVATE_CA_HINT: &str = "if a private CA or a TLS-inspecting proxy issued it, \
    trust that CA with --ca-cert FILE or SSL_CERT_FILE";

/// A refused handshake, said as what it is, with what to do about it.
fn tls_detail(e: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as Cert;
    let rustls::Error::InvalidCertificate(cert) = e else {
        return format!("TLS handshake with {host} failed: {e}");
    };
    let mismatch = |names: &str| {
        format!(
            "certificate name mismatch: {host} presented a certificate for {names}; \
             use a host name the certificate lists"
        )
    };
    let expired = |when: &str| {
        format!(
            "expired certificate: the certificate {host} presented expired{when}; it must be \
             renewed on the server, unless this machine's clock is wrong"
        )
    };
    let not_yet = |when: &str| {
        format!(
            "certificate not yet valid: the certificate {host} presented is not valid{when}; \
             check this machine's clock"
        )
    };
    match cert {
        Cert::UnknownIssuer => format!(
            "untrusted certificate: no CA this machine trusts issued the certificate {host} \
             presented (unknown issuer, or self-signed); {PRIVATE_CA_HINT}"
        ),
        Cert::NotValidForNameContext { presented, .. } if !presented.is_empty() => {
            let names: Vec<&str> = presented.iter().map(|n| presented_name(n)).collect();
            mismatch(&names.join(", "))
        }
        Cert::NotValidForName | Cert::NotValidForNameContext { .. } => mismatch("other names"),
        Cert::ExpiredContext { time, not_after } => expired(&dates(" on", *not_after, *time)),
        Cert::Expired => expired(""),
        Cert::NotValidYetContext { time, not_before } => {
            not_yet(&dates(" before", *not_before, *time))
        }
        Cert::NotValidYet => not_yet(""),
        other => format!("TLS handshake with {host} failed: invalid certificate: {other}"),
    }
}

/// `DnsName("a.example")` (webpki's rendering of a subject alternative name) as `a.example`.
fn presented_name(name: &str) -> &str {
    name.strip_prefix("DnsName(\"")
        .and_then(|n| n.strip_suffix("\")"))
        .unwrap_or(name)
}

/// `<prefix> <the certificate's date> (this machine's clock: <now>)`: a wrong clock is a common
/// cause, so both are shown.
fn dates(prefix: &str, on_certificate: UnixTime, now: UnixTime) -> String {
    let utc = |t: UnixTime| {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(t.as_secs()))
    };
    format!(
        "{prefix} {} (this machine's clock: {})",
        utc(on_certificate),
        utc(now)
    )
}

/// `10 s`, `0.5 s`.
fn secs(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

fn transport_error(
    request: &Request,
    e: &reqwest::Error,
    outcome: Outcome,
    attempts: u32,
    settings: &HttpSettings,
) -> ApiError {
    // reqwest's Display includes the URL; ours is printed redacted, so describe the failure
    // without it.
    let (kind, mut detail) = match tls_cause(e) {
        Some(tls) => (
            ErrorKind::Tls,
            tls_detail(tls, request.url.host_str().unwrap_or("the server")),
        ),
        None => (ErrorKind::Transport, outcome.describe(settings)),
    };
    if attempts > 1 {
        detail.push_str(&format!(" ({attempts} attempts)"));
    }
    ApiError::local(kind, request.method.clone(), &request.url, detail)
}

/// Deserializes a success body, turning a shape mismatch into a [`ErrorKind::Decode`] error
/// that names where in the body it is (`[3].id`: the fourth item's `id`).
pub fn decode<T: serde::de::DeserializeOwned>(
    method: &Method,
    resp: &Response,
) -> Result<T, ApiError> {
    let mut body = serde_json::Deserializer::from_slice(&resp.body);
    serde_path_to_error::deserialize(&mut body).map_err(|e| {
        let at = match e.path().to_string() {
            path if path == "." => String::new(),
            path => format!(" at `{path}`"),
        };
        ApiError::local(
            ErrorKind::Decode,
            method.clone(),
            &resp.url,
            format!("unexpected answer body{at}: {}", e.inner()),
        )
    })
}

/// An answer of the wrong shape: `what` names the object and the field.
pub fn decode_error(method: Method, url: &Url, what: String) -> ApiError {
    ApiError::local(
        ErrorKind::Decode,
        method,
        url,
        format!("unexpected answer: {what}"),
    )
}

/// A JSON value as shown in an error: its text, cut short.
pub fn shown(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The `rel="next"` target of RFC 8288 `Link` headers (one per line or comma-separated).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(reqwest::header::LINK) {
        let Ok(value) = value.to_str() else { continue };
        for link in split_links(value) {
            let Some((target, params)) = link.split_once(';') else {
                continue;
            };
            let target = target.trim();
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                let Some((k, v)) = p.split_once('=') else {
                    return false;
                };
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            if is_next && target.starts_with('<') && target.ends_with('>') {
                return Some(target[1..target.len() - 1].to_owned());
            }
        }
    }
    None
}

/// Splits a `Link` header value on the commas that separate links (not those inside `<…>`).
fn split_links(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_table() {
        use Outcome::*;
        use Retry::*;
        // (idempotent, outcome, decision)
        let table = [
            (true, Status(200), No),
            (true, Status(400), No),
            (true, Status(401), No),
            (true, Status(404), No),
            (true, Status(409), No),
            (true, Status(429), RateLimit),
            (false, Status(429), RateLimit),
            (true, Status(500), Backoff),
            (true, Status(502), Backoff),
            (true, Status(503), Backoff),
            (false, Status(500), No),
            (false, Status(503), No),
            (true, ConnectFailed, Backoff),
            (false, ConnectFailed, Backoff),
            (true, BrokenAfterSend, Backoff),
            (false, BrokenAfterSend, No),
            // Timeouts: nothing reached the server, or an idempotent request, from the smaller
            // budget of `timeout_retries`.
            (true, ConnectTimedOut, AfterTimeout),
            (false, ConnectTimedOut, AfterTimeout),
            (true, NoAnswer, AfterTimeout),
            (false, NoAnswer, No),
            // A refused certificate is the same on every try.
            (true, TlsRejected, No),
            (false, TlsRejected, No),
        ];
        for (idempotent, outcome, expected) in table {
            assert_eq!(
                classify(idempotent, outcome),
                expected,
                "idempotent={idempotent} {outcome:?}"
            );
        }
    }

    #[test]
    fn tls_failures_are_named_for_what_they_are() {
        use rustls::CertificateError as Cert;
        use rustls::pki_types::{ServerName, UnixTime};
        let at = |secs| UnixTime::since_unix_epoch(Duration::from_secs(secs));
        let cases = [
            (Cert::UnknownIssuer, "untrusted certificate: "),
            (Cert::NotValidForName, "certificate name mismatch: "),
            (
                Cert::NotValidForNameContext {
                    expected: ServerName::try_from("a.example").unwrap(),
                    presented: vec![
                        "DnsName(\"b.example\")".into(),
                        "IpAddress(10.0.0.1)".into(),
                    ],
                },
                "presented a certificate for b.example, IpAddress(10.0.0.1)",
            ),
            (Cert::Expired, "expired certificate: "),
            (
                Cert::ExpiredContext {
                    time: at(1_000_000_000),
                    not_after: at(999_999_000),
                },
                "expired on 2001-09-09T01:30:00Z (this machine's clock: 2001-09-09T01:46:40Z)",
            ),
            (Cert::NotValidYet, "certificate not yet valid: "),
            (Cert::Revoked, "invalid certificate: "),
        ];
        for (error, expected) in cases {
            let text = tls_detail(&rustls::Error::InvalidCertificate(error), "a.example");
            assert!(text.contains(expected), "{text}");
        }
        let alert = rustls::Error::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert!(tls_detail(&alert, "a.example").starts_with("TLS handshake with a.example failed"));
    }

    #[test]
    fn rate_limit_wait_comes_from_the_server_date() {
        let mut headers = HeaderMap::new();
        // Date is 2001-09-09T01:46:40Z = epoch 1_000_000_000, far from our wall clock.
        headers.insert("date", "Sun, 09 Sep 2001 01:46:40 GMT".parse().unwrap());
        headers.insert("x-rate-limit-limit", "600".parse().unwrap());
        headers.insert("x-rate-limit-remaining", "0".parse().unwrap());
        headers.insert("x-rate-limit-reset", "1000000007".parse().unwrap());
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(8)));
        // A reset already past still waits the one-second margin.
        headers.insert("x-rate-limit-reset", "999999990".parse().unwrap());
        assert_eq!(server_wait(&headers), Some(Duration::from_secs(1)));
    }

    #[test]
    fn pacing_slows_down_before_the_bucket_is_empty() {
        let pacer = Pacer::default();
        let seen = |remaining| RateLimit {
            limit: 100,
            remaining,
            reset: 1_000_000_009,
            server_now: 1_000_000_000,
        };
        let apps = "/api/v1/apps";
        // Unknown bucket, or plenty left: no wait.
        assert_eq!(pacer.reserve(apps, 0.1), Pace::Send(Duration::ZERO));
        pacer.release(apps);
        pacer.observe(apps, seen(50));
        assert_eq!(pacer.reserve(apps, 0.1), Pace::Send(Duration::ZERO));
        pacer.release(apps);
        // Few left: what remains is spread over the ten seconds to the reset, one slot after
        // another, so concurrent callers slow down too.
        pacer.observe(apps, seen(4));
        let Pace::Send(first) = pacer.reserve(apps, 0.1) else {
            panic!("booked")
        };
        assert_eq!(first, Duration::ZERO, "the first slot is now");
        let Pace::Send(second) = pacer.reserve(apps, 0.1) else {
            panic!("booked")
        };
        assert!(
            second > Duration::from_millis(1900) && second <= Duration::from_secs(2),
            "{second:?}"
        );
        pacer.release(apps);
        pacer.release(apps);
        // Empty with nothing in flight: wait for the reset (Reset − Date + 1 s); other
        // buckets unaffected.
        pacer.observe(apps, seen(0));
        let Pace::Retry(wait) = pacer.reserve(apps, 0.1) else {
            panic!("not booked")
        };
        assert!(
            wait > Duration::from_millis(9900) && wait <= Duration::from_secs(10),
            "{wait:?}"
        );
        assert_eq!(
            pacer.reserve("/api/v1/users", 0.1),
            Pace::Send(Duration::ZERO)
        );
    }

    #[test]
    fn the_budget_is_the_lowest_remaining_less_what_is_in_flight() {
        let pacer = Pacer::default();
        let seen = |remaining, reset| RateLimit {
            limit: 100,
            remaining,
            reset,
            server_now: 1_000_000_000,
        };
        let bucket = "/api/v1/apps";
        pacer.observe(bucket, seen(10, 1_000_000_060));
        for _ in 0..3 {
            assert!(matches!(pacer.reserve(bucket, 0.0), Pace::Send(_)));
        }
        assert_eq!(pacer.budget(bucket), Some(7));
        // One of the three is answered: the server counted it.
        pacer.observe(bucket, seen(9, 1_000_000_060));
        pacer.release(bucket);
        assert_eq!(pacer.budget(bucket), Some(7));
        // An answer sent before that one arrives late: nothing changes.
        pacer.observe(bucket, seen(10, 1_000_000_060));
        assert_eq!(pacer.budget(bucket), Some(7));
        // Another client spent five: the count drops by more than we sent.
        pacer.observe(bucket, seen(3, 1_000_000_060));
        assert_eq!(pacer.budget(bucket), Some(1));
        // Budget spent while two are in flight: ask again shortly, not at the reset.
        assert!(matches!(pacer.reserve(bucket, 0.0), Pace::Send(_)));
        assert_eq!(pacer.reserve(bucket, 0.0), Pace::Retry(IN_FLIGHT_POLL));
        // A late answer from the previous window is ignored; a new window starts afresh,
        // less what is still in flight.
        pacer.observe(bucket, seen(0, 1_000_000_000));
        assert_eq!(pacer.budget(bucket), Some(0));
        pacer.observe(bucket, seen(99, 1_000_000_120));
        assert_eq!(pacer.budget(bucket), Some(96));
    }

    #[test]
    fn urls_are_redacted() {
        let url = Url::parse("https://user:pw@h.example/p?client_secret=s&limit=5&access_token=t")
            .unwrap();
        let shown = redact_url(&url);
        assert_eq!(
            shown,
            "https://***:***@h.example/p?client_secret=***&limit=5&access_token=***"
        );
    }

    #[test]
    fn excerpts_blank_secret_fields() {
        let body = br#"{"clientId":"x","secret":"hunter2","nested":{"access_token":"t"}}"#;
        let text = excerpt(body).unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("\"t\""),
            "{text}"
        );
    }

    #[test]
    fn https_is_required_off_loopback() {
        let ok = [
            "https://a.example/",
            "http://127.0.0.1:8080/",
            "http://[::1]/",
            "http://localhost/",
        ];
        for url in ok {
            assert!(
                require_https(&Method::GET, &Url::parse(url).unwrap()).is_ok(),
                "{url}"
            );
        }
        let err =
            require_https(&Method::GET, &Url::parse("http://a.example/").unwrap()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InsecureUrl);
    }

    #[test]
    fn next_links_in_one_or_many_headers() {
        let mut headers = HeaderMap::new();
        headers.append(
            "link",
            r#"<https://o/api/v1/users?limit=1>; rel="self""#.parse().unwrap(),
        );
        headers.append(
            "link",
            r#"<https://o/api/v1/users?after=00u1&limit=1>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(
            next_link(&headers).as_deref(),
            Some("https://o/api/v1/users?after=00u1&limit=1")
        );
        let mut one = HeaderMap::new();
        one.insert(
            "link",
            r#"<https://o/a?x=1,2>; rel="self", <https://o/a?after=b>; rel="next""#
                .parse()
                .unwrap(),
        );
        assert_eq!(next_link(&one).as_deref(), Some("https://o/a?after=b"));
        let mut none = HeaderMap::new();
        none.insert("link", r#"<https://o/a>; rel="self""#.parse().unwrap());
        assert_eq!(next_link(&none), None);
    }

    #[test]
    fn vendor_errors_of_each_shape() {
        let (okta, id) = parse_vendor_error(
            br#"{"errorCode":"E0000001","errorSummary":"Api validation failed: feature","errorId":"oae1","errorCauses":[{"errorSummary":"Provisioning is not enabled for the app instance."}]}"#,
        );
        assert_eq!(okta.code.as_deref(), Some("E0000001"));
        assert_eq!(
            okta.causes,
            vec!["Provisioning is not enabled for the app instance."]
        );
        assert_eq!(id.as_deref(), Some("oae1"));
        let (ws1, _) = parse_vendor_error(br#"{"errors":[{"code":"forbidden","message":"no"}]}"#);
        assert_eq!(ws1.code.as_deref(), Some("forbidden"));
        let (oauth, _) =
            parse_vendor_error(br#"{"error":"invalid_client","error_description":"bad"}"#);
        assert_eq!(oauth.summary.as_deref(), Some("bad"));
    }
}
