//! `watch`'s room: when the next run starts, what the last runs found, and the HTTP endpoints
//! that tell a scheduler and Prometheus about it.
//!
//! The loop itself is in `cli/watch.rs` (it opens sessions like every command); here is what it
//! records and serves. What must hold:
//! - the schedule is the interval with ±10% jitter after a run that could tell, and an
//!   exponential backoff (the interval doubled per failure in a row, at most an hour or the
//!   interval if longer) after one that could not, so a fleet of watchers never runs in step
//!   and a failing tenant is asked less and less often;
//! - `/healthz` answers 200 while the process serves, saying `ok`, `starting` or `degraded`
//!   (the last run failed); `/readyz` answers 503 unless the last run could tell, so a probe can
//!   choose between "restart me" and "look at me";
//! - every metric is the last run's observation or a count since start; a value nobody knows
//!   (the expiry of a token nobody recorded) is absent, never 0;
//! - nothing served holds a secret: errors are scrubbed like every other output.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::apply::drift::{self, Area};
use crate::state::Timestamp;

/// What one run came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunResult {
    /// No drift.
    Clean,
    /// Drift found and reported (alert mode).
    Drift,
    /// Drift found and applied; the re-read shows convergence.
    Reconciled,
    /// Converged except for manual steps that are the admin's (never pretended done).
    Pending,
    /// Drift that reconcile mode may not apply on its own (a removal without
    /// `--allow-destroy`, a console handover): left for a person.
    Blocked,
    /// The run could not tell: the config or a service failed.
    Error,
}

impl RunResult {
    pub const ALL: [RunResult; 6] = [
        RunResult::Clean,
        RunResult::Drift,
        RunResult::Reconciled,
        RunResult::Pending,
        RunResult::Blocked,
        RunResult::Error,
    ];

    /// The word for it, as in JSON and metric labels.
    pub fn word(self) -> &'static str {
        match self {
            RunResult::Clean => "clean",
            RunResult::Drift => "drift",
            RunResult::Reconciled => "reconciled",
            RunResult::Pending => "pending",
            RunResult::Blocked => "blocked",
            RunResult::Error => "error",
        }
    }

    /// Whether the run could tell what the pair looks like.
    pub fn told(self) -> bool {
        self != RunResult::Error
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AreaLabel {
    area: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ClientLabel {
    client_id: String,
}

/// What a finished run observed, for the metrics.
#[derive(Clone, Debug)]
pub struct Observation {
    /// Drift findings by area (config, token, data flow).
    pub drift: [(Area, usize); 3],
    /// The OAuth client and expiry of the token Okta holds, when known.
    pub token_expires: Option<(String, Timestamp)>,
    /// The servers' time of the read.
    pub observed_at: Option<Timestamp>,
    /// Actions the run applied.
    pub applied: u64,
}

impl Observation {
    /// What `report` shows: its drift findings by area and the token Okta holds.
    pub fn of(report: &drift::Report) -> Self {
        Observation {
            drift: report.drift_counts(),
            token_expires: report
                .token
                .in_use
                .as_ref()
                .map(|t| (t.client_id.clone(), t.expires_at)),
            observed_at: report.observed_at,
            applied: 0,
        }
    }
}

/// The last run, as `/healthz` tells it.
#[derive(Clone, Debug, Serialize)]
pub struct LastRun {
    /// When it ended (this machine's clock, RFC 3339).
    pub ended_at: String,
    pub result: RunResult,
    pub seconds: f64,
    /// Why it failed or was blocked, scrubbed of secrets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `/healthz` answers.
#[derive(Clone, Debug, Serialize)]
pub struct Health {
    /// `starting` before the first run ends, `degraded` when the last run could not tell, else
    /// `ok`.
    pub status: &'static str,
    pub mode: &'static str,
    pub interval_seconds: u64,
    pub consecutive_failures: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_run: Option<LastRun>,
    /// When the next run starts (this machine's clock, RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<String>,
}

/// The metrics, registered once.
struct Metrics {
    registry: Registry,
    runs: Family<ResultLabel, Counter>,
    last_run_timestamp: Gauge<f64, std::sync::atomic::AtomicU64>,
    last_run_duration: Gauge<f64, std::sync::atomic::AtomicU64>,
    last_run_success: Gauge,
    last_run_result: Family<ResultLabel, Gauge>,
    consecutive_failures: Gauge,
    drift: Family<AreaLabel, Gauge>,
    token_expiry: Family<ClientLabel, Gauge>,
    token_expires_at: Family<ClientLabel, Gauge>,
    applied: Counter,
    requests: Family<KindLabel, Counter>,
    rate_limited: Counter,
    /// The activity counts already added to `requests` and `rate_limited`.
    synced: crate::progress::Counts,
}

impl Metrics {
    fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("scimbridge"),
            runs: Family::default(),
            last_run_timestamp: Gauge::default(),
            last_run_duration: Gauge::default(),
            last_run_success: Gauge::default(),
            last_run_result: Family::default(),
            consecutive_failures: Gauge::default(),
            drift: Family::default(),
            token_expiry: Family::default(),
            token_expires_at: Family::default(),
            applied: Counter::default(),
            requests: Family::default(),
            rate_limited: Counter::default(),
            synced: crate::progress::ACTIVITY.counts(),
        };
        let registry = &mut m.registry;
        // Each metric: its name (after the `scimbridge_` prefix), its help, the metric.
        macro_rules! register {
            ($($name:literal, $help:expr => $metric:expr;)*) => {
                $(registry.register($name, $help, $metric.clone());)*
            };
        }
        register! {
            "runs", "Runs since start, by result (clean, drift, reconciled, pending, blocked, error)" => m.runs;
            "last_run_timestamp_seconds", "When the last run ended, Unix time" => m.last_run_timestamp;
            "last_run_duration_seconds", "How long the last run took" => m.last_run_duration;
            "last_run_result", "1 for the last run's result, 0 for the others" => m.last_run_result;
            "last_run_success", "1 when the last run could tell the pair's state (whatever it found), 0 when it failed" => m.last_run_success;
            "consecutive_failures", "Runs in a row that could not tell" => m.consecutive_failures;
            "drift_findings", "Drift found by the last run that could tell, by area (config, token, data_flow)" => m.drift;
            "token_expiry_seconds", "Seconds from the last read (server time) until the bearer token Okta holds expires; negative once expired, absent when nobody recorded it" => m.token_expiry;
            "token_expires_timestamp_seconds", "When the bearer token Okta holds expires, Unix time; absent when nobody recorded it" => m.token_expires_at;
            "applied_actions", "Actions applied by reconcile runs since start" => m.applied;
            "requests", "Requests answered by Okta and WS1 since start, by kind (read, write)" => m.requests;
            "rate_limited", "429 answers from Okta or WS1 since start (each was waited out and retried)" => m.rate_limited;
        }
        m
    }

    /// Adds the requests answered since the last sync.
    fn sync_activity(&mut self) {
        let now = crate::progress::ACTIVITY.counts();
        let kind = |kind| KindLabel { kind };
        self.requests
            .get_or_create(&kind("read"))
            .inc_by(now.reads - self.synced.reads);
        self.requests
            .get_or_create(&kind("write"))
            .inc_by(now.writes - self.synced.writes);
        self.rate_limited
            .inc_by(now.throttled - self.synced.throttled);
        self.synced = now;
    }

    fn encode(&mut self) -> String {
        self.sync_activity();
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// The watcher's state, shared by the loop and the HTTP endpoints.
pub struct Status {
    mode: &'static str,
    interval: Duration,
    consecutive_failures: u32,
    last_run: Option<LastRun>,
    next_run_at: Option<SystemTime>,
    metrics: Metrics,
}

/// [`Status`] behind a lock, as the loop and the server hold it.
pub type Shared = Arc<Mutex<Status>>;

impl Status {
    pub fn new(mode: &'static str, interval: Duration) -> Shared {
        Arc::new(Mutex::new(Status {
            mode,
            interval,
            consecutive_failures: 0,
            last_run: None,
            next_run_at: None,
            metrics: Metrics::new(),
        }))
    }

    /// Records a finished run: its result, how long it took, what it observed (`None` when it
    /// could not tell), and why it failed or was blocked.
    pub fn record(
        &mut self,
        result: RunResult,
        took: Duration,
        observed: Option<&Observation>,
        reason: Option<String>,
    ) {
        let ended = SystemTime::now();
        let m = &mut self.metrics;
        m.runs
            .get_or_create(&ResultLabel {
                result: result.word(),
            })
            .inc();
        m.last_run_timestamp.set(unix_seconds(ended));
        m.last_run_duration.set(took.as_secs_f64());
        m.last_run_success.set(i64::from(result.told()));
        for other in RunResult::ALL {
            m.last_run_result
                .get_or_create(&ResultLabel {
                    result: other.word(),
                })
                .set(i64::from(other == result));
        }
        self.consecutive_failures = if result.told() {
            0
        } else {
            self.consecutive_failures.saturating_add(1)
        };
        m.consecutive_failures
            .set(i64::from(self.consecutive_failures));
        if let Some(observed) = observed {
            for (area, count) in &observed.drift {
                let area = match area {
                    Area::Config => "config",
                    Area::Token => "token",
                    Area::DataFlow => "data_flow",
                };
                m.drift
                    .get_or_create(&AreaLabel { area })
                    .set(*count as i64);
            }
            m.token_expiry.clear();
            m.token_expires_at.clear();
            if let Some((client_id, expires)) = &observed.token_expires {
                let label = ClientLabel {
                    client_id: client_id.clone(),
                };
                m.token_expires_at.get_or_create(&label).set(expires.0);
                if let Some(now) = observed.observed_at {
                    m.token_expiry.get_or_create(&label).set(expires.0 - now.0);
                }
            }
            m.applied.inc_by(observed.applied);
        }
        self.last_run = Some(LastRun {
            ended_at: humantime::format_rfc3339_seconds(ended).to_string(),
            result,
            seconds: (took.as_secs_f64() * 1000.0).round() / 1000.0,
            reason: reason.map(|r| crate::secret::scrub(&r).into_owned()),
        });
    }

    /// Sets when the next run starts.
    pub fn next_run_in(&mut self, wait: Duration) {
        self.next_run_at = Some(SystemTime::now() + wait);
    }

    /// Runs in a row that could not tell.
    pub fn consecutive_failures(&self) -> u32 {
        self.consecutive_failures
    }

    pub fn health(&self) -> Health {
        let status = match &self.last_run {
            None => "starting",
            Some(run) if !run.result.told() => "degraded",
            Some(_) => "ok",
        };
        Health {
            status,
            mode: self.mode,
            interval_seconds: self.interval.as_secs(),
            consecutive_failures: self.consecutive_failures,
            last_run: self.last_run.clone(),
            next_run_at: self
                .next_run_at
                .map(|t| humantime::format_rfc3339_seconds(t).to_string()),
        }
    }

    /// Whether the last run could tell (`/readyz`).
    pub fn ready(&self) -> bool {
        self.last_run.as_ref().is_some_and(|r| r.result.told())
    }

    /// The metrics in the text exposition format.
    pub fn metrics(&mut self) -> String {
        self.metrics.encode()
    }
}

fn unix_seconds(time: SystemTime) -> f64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The wait before the next run: the interval with ±10% jitter after a run that could tell;
/// after `failures` in a row, the interval doubled per failure beyond the first, at most
/// [`MAX_BACKOFF`] (or the interval, when longer), with the same jitter. `random` is uniform in
/// [0, 1).
pub fn next_wait(interval: Duration, failures: u32, random: f64) -> Duration {
    let base = if failures <= 1 {
        interval
    } else {
        let factor = 1u32 << (failures - 1).min(16);
        interval
            .saturating_mul(factor)
            .min(MAX_BACKOFF.max(interval))
    };
    base.mul_f64(0.9 + 0.2 * random.clamp(0.0, 1.0))
}

/// The longest backoff after failures, unless the interval itself is longer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// A uniform number in [0, 1) from the system's random source.
pub fn random_fraction() -> f64 {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system's random source works");
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

/// Serves `/healthz`, `/readyz` and `/metrics` for `status` on `listener` until the task is
/// dropped.
pub async fn serve(listener: tokio::net::TcpListener, status: Shared) -> std::io::Result<()> {
    use axum::http::{StatusCode, header};
    use axum::routing::get;
    let health = {
        let status = Arc::clone(&status);
        move || async move {
            let health = lock(&status).health();
            axum::Json(health)
        }
    };
    let ready = {
        let status = Arc::clone(&status);
        move || async move {
            if lock(&status).ready() {
                (StatusCode::OK, "ready\n")
            } else {
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not ready: no run has told yet, or the last one failed\n",
                )
            }
        }
    };
    let metrics = move || async move {
        let text = lock(&status).metrics();
        (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
    };
    let app = axum::Router::new()
        .route("/healthz", get(health))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics));
    axum::serve(listener, app).await
}

/// The status, even if a holder panicked (what it holds stays consistent field by field).
pub fn lock(status: &Shared) -> std::sync::MutexGuard<'_, Status> {
    status.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_is_the_interval_with_jitter_and_backs_off_after_failures() {
        let m = Duration::from_secs(60);
        assert_eq!(next_wait(m, 0, 0.0), Duration::from_secs(54));
        assert_eq!(next_wait(m, 0, 0.5), m);
        assert!(next_wait(m, 0, 0.999_999) < Duration::from_secs(66));
        assert_eq!(next_wait(m, 1, 0.5), m);
        assert_eq!(next_wait(m, 2, 0.5), 2 * m);
        assert_eq!(next_wait(m, 4, 0.5), 8 * m);
        assert_eq!(next_wait(m, 30, 0.5), MAX_BACKOFF);
        // An interval longer than the cap is never shortened by a failure.
        let day = Duration::from_secs(86_400);
        assert_eq!(next_wait(day, 5, 0.5), day);
        let r = random_fraction();
        assert!((0.0..1.0).contains(&r));
    }

    #[test]
    fn health_and_metrics_follow_the_runs() {
        let shared = Status::new("alert", Duration::from_secs(60));
        let mut status = lock(&shared);
        assert_eq!(status.health().status, "starting");
        assert!(!status.ready());
        let seen = Observation {
            drift: [(Area::Config, 2), (Area::Token, 0), (Area::DataFlow, 1)],
            token_expires: Some(("okta-scim".into(), Timestamp(1_000_000))),
            observed_at: Some(Timestamp(999_000)),
            applied: 0,
        };
        status.record(
            RunResult::Drift,
            Duration::from_millis(1500),
            Some(&seen),
            None,
        );
        assert_eq!(status.health().status, "ok");
        assert!(status.ready());
        let text = status.metrics();
        for line in [
            "scimbridge_runs_total{result=\"drift\"} 1",
            "scimbridge_drift_findings{area=\"config\"} 2",
            "scimbridge_drift_findings{area=\"data_flow\"} 1",
            "scimbridge_token_expiry_seconds{client_id=\"okta-scim\"} 1000",
            "scimbridge_token_expires_timestamp_seconds{client_id=\"okta-scim\"} 1000000",
            "scimbridge_last_run_success 1",
            "scimbridge_last_run_result{result=\"drift\"} 1",
            "scimbridge_last_run_result{result=\"clean\"} 0",
            "scimbridge_last_run_duration_seconds 1.5",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
        status.record(RunResult::Error, Duration::ZERO, None, Some("down".into()));
        status.record(RunResult::Error, Duration::ZERO, None, Some("down".into()));
        let health = status.health();
        assert_eq!(
            (health.status, health.consecutive_failures),
            ("degraded", 2)
        );
        assert!(!status.ready());
        let text = status.metrics();
        assert!(
            text.contains("scimbridge_runs_total{result=\"error\"} 2"),
            "{text}"
        );
        assert!(text.contains("scimbridge_consecutive_failures 2"), "{text}");
        // What a failed run could not see is what the last run that could tell saw.
        assert!(
            text.contains("scimbridge_drift_findings{area=\"config\"} 2"),
            "{text}"
        );
        // A token nobody recorded has no expiry at all, not 0.
        let unknown = Observation {
            token_expires: None,
            ..seen
        };
        status.record(RunResult::Drift, Duration::ZERO, Some(&unknown), None);
        assert!(
            !status
                .metrics()
                .contains("scimbridge_token_expiry_seconds{")
        );
    }
}
