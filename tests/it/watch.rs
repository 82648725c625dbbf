//! `scimbridge watch` as a process against the sandbox: a change made behind its back is found
//! within one interval, reconciled in reconcile mode and only reported in alert mode; health and
//! metrics answer over HTTP with the values the runs saw; a failing tenant is served as
//! degraded and recovers; SIGTERM ends it within a second.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use scimbridge::sandbox::RunningSandbox;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::reconcile::{SCIM11, api_supports, app_id, apply_with, root, seeded, token_out, writes};
use crate::support::{get_json, http, send_ok};
use crate::token_life::okta_auth;

const INTERVAL: Duration = Duration::from_secs(2);

/// A running `scimbridge watch` and what it has written so far.
pub(crate) struct Watcher {
    child: tokio::process::Child,
    pub(crate) base: String,
    stderr: Arc<Mutex<String>>,
    stdout: Arc<Mutex<String>>,
}

impl Watcher {
    async fn start(sb: &RunningSandbox, mode: &str) -> Self {
        let interval = format!("{}s", INTERVAL.as_secs());
        let args = [
            "watch",
            "-c",
            SCIM11,
            "--interval",
            &interval,
            "--mode",
            mode,
            "--listen",
            "127.0.0.1:0",
            "--wait",
            "5",
        ];
        Self::spawn(&args, sb.credentials()).await
    }

    /// Runs `scimbridge <args>` from the repository root with exactly `env`; waits for the
    /// line that says where it serves.
    pub(crate) async fn spawn(args: &[&str], env: Vec<(&'static str, String)>) -> Self {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
            .args(args)
            .current_dir(root())
            .env_clear()
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("watch starts");
        let stdout = Arc::new(Mutex::new(String::new()));
        let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let kept = Arc::clone(&stdout);
        tokio::spawn(async move {
            while let Ok(Some(line)) = out.next_line().await {
                let mut kept = kept.lock().unwrap();
                kept.push_str(&line);
                kept.push('\n');
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let log = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some((_, url)) = line.split_once(" at http://") {
                    let _ = tx.send(format!("http://{url}"));
                }
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let base = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("watch says where it serves")
            .expect("a URL");
        Watcher {
            child,
            base,
            stderr,
            stdout,
        }
    }

    /// What it has written to stdout so far (the drift reports).
    pub(crate) fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Started, and its first run found no drift.
    async fn clean(sb: &RunningSandbox, mode: &str) -> Self {
        let w = Self::start(sb, mode).await;
        w.until(Duration::from_secs(10), async |w| {
            w.runs("clean").await >= 1.0
        })
        .await;
        w
    }

    pub(crate) async fn get(&self, path: &str) -> (u16, String) {
        let r = http()
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("watch answers");
        (r.status().as_u16(), r.text().await.expect("text"))
    }

    async fn health(&self) -> Value {
        let (status, body) = self.get("/healthz").await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// The value of the sample named exactly `sample` (`name{labels}`), if it is exposed.
    async fn metric(&self, sample: &str) -> Option<f64> {
        let (status, text) = self.get("/metrics").await;
        assert_eq!(status, 200);
        text.lines().find_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            (name == sample).then(|| value.parse().expect("a number"))
        })
    }

    /// Polls `check` every 100 ms until it holds; how long that took.
    pub(crate) async fn until<F: AsyncFnMut(&Self) -> bool>(
        &self,
        within: Duration,
        mut check: F,
    ) -> Duration {
        let start = Instant::now();
        while !check(self).await {
            assert!(
                start.elapsed() < within,
                "not within {within:?}; watch said:\n{}",
                self.stderr.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        start.elapsed()
    }

    /// Runs finished with `result`.
    pub(crate) async fn runs(&self, result: &str) -> f64 {
        let sample = format!("scimbridge_runs_total{{result=\"{result}\"}}");
        self.metric(&sample).await.unwrap_or(0.0)
    }

    /// Sends SIGTERM and asserts the process ends cleanly within a second; what it logged.
    pub(crate) async fn stops_within_a_second(mut self) -> String {
        let pid = self.child.id().expect("running") as libc::pid_t;
        let start = Instant::now();
        // SAFETY: kill(2) on our own child's pid has no memory effects.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("ends")
            .expect("waits");
        let took = start.elapsed();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let log = self.stderr.lock().unwrap().clone();
        assert!(took < Duration::from_secs(1), "{took:?}");
        assert_eq!(status.code(), Some(0), "{log}");
        assert!(log.ends_with("watch: stopped\n"), "{log}");
        log
    }
}

/// A seeded sandbox converged on the SCIM 1.1 example through the API path (so the token is
/// recorded and provisioning is on).
async fn converged() -> RunningSandbox {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_guard, out) = token_out();
    let run = apply_with(sb.credentials(), SCIM11, &out).await;
    assert_eq!(run.code, 0, "{run:?}");
    sb
}

/// The app's label, renamed in Okta's console (a full-replace PUT, as Okta takes it); the
/// app's URL.
async fn rename_app(sb: &RunningSandbox, label: &str) -> String {
    let url = format!("{}/api/v1/apps/{}", sb.okta_url, app_id(sb).await);
    let mut whole = get_json(&url, &okta_auth()).await;
    whole["label"] = json!(label);
    send_ok(Method::PUT, &url, &okta_auth(), Some(&whole)).await;
    url
}

async fn label(url: &str) -> String {
    get_json(url, &okta_auth()).await["label"]
        .as_str()
        .expect("label")
        .to_owned()
}

const CONFIG_DRIFT: &str = "scimbridge_drift_findings{area=\"config\"}";

/// The most a change can wait to be seen: one interval with its jitter, plus a run's time.
fn one_interval() -> Duration {
    INTERVAL.mul_f64(1.1) + Duration::from_secs(2)
}

#[tokio::test(flavor = "multi_thread")]
async fn alert_mode_reports_a_change_behind_its_back_changes_nothing_and_stops_on_sigterm() {
    let sb = converged().await;
    let w = Watcher::clean(&sb, "alert").await;
    let health = w.health().await;
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["mode"], "alert");
    assert_eq!(w.get("/readyz").await.0, 200);
    assert_eq!(w.metric(CONFIG_DRIFT).await, Some(0.0));
    assert_eq!(w.metric("scimbridge_last_run_success").await, Some(1.0));
    // The token apply minted: its expiry, by server time, a year out.
    let expiry = w
        .metric("scimbridge_token_expiry_seconds{client_id=\"okta-scim\"}")
        .await
        .expect("a recorded token has an expiry");
    let year = 365.0 * 86_400.0;
    assert!((year - 120.0..=year).contains(&expiry), "{expiry}");
    assert!(w.metric("scimbridge_requests_total{kind=\"read\"}").await > Some(0.0));

    sb.shared.clear_requests();
    let url = rename_app(&sb, "Renamed by hand").await;
    let took = w
        .until(one_interval(), async |w| {
            w.metric(CONFIG_DRIFT).await.is_some_and(|n| n >= 1.0)
        })
        .await;
    assert!(took <= one_interval(), "{took:?}");
    assert!(w.runs("drift").await >= 1.0);
    // Reported only: after another whole interval the label is still the hand-made one, and the
    // only write the sandbox saw is the rename.
    tokio::time::sleep(one_interval()).await;
    assert_eq!(label(&url).await, "Renamed by hand");
    let writes = writes(&sb);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        w.metric("scimbridge_requests_total{kind=\"write\"}").await,
        Some(0.0)
    );

    // Between runs, SIGTERM ends it at once, cleanly.
    let log = w.stops_within_a_second().await;
    assert!(!log.contains(scimbridge::sandbox::okta::API_TOKEN), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn reconcile_mode_puts_back_a_change_behind_its_back() {
    let sb = converged().await;
    let w = Watcher::clean(&sb, "reconcile").await;
    let url = rename_app(&sb, "Renamed by hand").await;
    w.until(one_interval() + Duration::from_secs(5), async |w| {
        w.runs("reconciled").await >= 1.0
    })
    .await;
    assert_eq!(label(&url).await, "Workspace ONE Access");
    // The gauges are the re-read's after the writes, not what the run found before them.
    assert_eq!(w.metric(CONFIG_DRIFT).await, Some(0.0));
    assert!(w.metric("scimbridge_applied_actions_total").await >= Some(1.0));
    assert!(w.metric("scimbridge_requests_total{kind=\"write\"}").await >= Some(1.0));
    let health = w.health().await;
    assert_eq!(health["last_run"]["result"], "reconciled", "{health}");
    w.stops_within_a_second().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_tenant_is_served_as_degraded_backed_off_and_recovers() {
    let sb = seeded().await;
    let faults = format!("{}/_sandbox/faults", sb.okta_url);
    let refuse = json!({"service": "okta", "path": "/api/v1/apps*", "error_ratio": 1.0, "error_status": 403});
    send_ok(Method::POST, &faults, "", Some(&refuse)).await;
    let w = Watcher::start(&sb, "alert").await;
    w.until(Duration::from_secs(10), async |w| {
        w.runs("error").await >= 2.0
    })
    .await;
    let health = w.health().await;
    assert_eq!(health["status"], "degraded", "{health}");
    assert!(
        health["consecutive_failures"].as_u64() >= Some(2),
        "{health}"
    );
    let reason = health["last_run"]["reason"].as_str().expect("a reason");
    assert!(reason.contains("403"), "{reason}");
    assert_eq!(w.get("/readyz").await.0, 503);
    assert_eq!(w.metric("scimbridge_last_run_success").await, Some(0.0));
    let last = "scimbridge_last_run_result{result=\"error\"}";
    assert_eq!(w.metric(last).await, Some(1.0));
    // Backed off: the wait after the second failure in a row is two intervals, not one.
    let next = humantime::parse_rfc3339(health["next_run_at"].as_str().unwrap()).unwrap();
    let ended = humantime::parse_rfc3339(health["last_run"]["ended_at"].as_str().unwrap()).unwrap();
    let wait = next.duration_since(ended).unwrap_or_default();
    assert!(wait >= INTERVAL.mul_f64(1.5), "{wait:?} after {health}");

    // The tenant heals, with one 429 on the way: the next run tells, and counts the 429.
    send_ok(Method::DELETE, &faults, "", None).await;
    let burst =
        json!({"service": "okta", "path": "/api/v1/apps*", "burst_429": 1, "retry_after": 1});
    send_ok(Method::POST, &faults, "", Some(&burst)).await;
    w.until(Duration::from_secs(30), async |w| {
        w.health().await["status"] == "ok"
    })
    .await;
    assert_eq!(w.get("/readyz").await.0, 200);
    assert_eq!(w.metric("scimbridge_consecutive_failures").await, Some(0.0));
    assert_eq!(w.metric("scimbridge_rate_limited_total").await, Some(1.0));
    w.stops_within_a_second().await;
}
