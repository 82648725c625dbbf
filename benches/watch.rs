//! Benchmark (not a test): `scimbridge watch` as its own process (the release binary) over many
//! runs against a converged sandbox (`cargo bench --bench watch [-- RUNS]`, 120 by default).
//!
//! It prints what a long-lived watcher costs: its resident memory after the first run and at the
//! end (a watcher that grows per run would show it here, long before a pod is OOM-killed), the
//! time per run, and the requests one clean alert run sends, by kind, against the fewest the
//! APIs allow for the example's pair (the plan's reads as `benches/scale.rs` computes them, and
//! the data-flow check's one page of WS1's users). Then one change made behind its back in
//! reconcile mode: how long until it is put back, and the writes that took.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, control, start};
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

const CONFIG: &str = "examples/okta-scim11-custom.yaml";
const OKTA_TOKEN: &str = "SSWS 00sandbox-okta-api-token";
/// `state::read`'s GROUP_LOOKUP_LIMIT and LOOKUP_LIMIT.
const GROUP_LOOKUPS: usize = 3;
const USER_LOOKUPS: usize = 50;

fn main() {
    let runs: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(120);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(bench(runs));
}

async fn bench(runs: u64) {
    let sb = converged().await;
    let http = reqwest::Client::new();
    // Only the bench's own pace matters here, not the sandbox's 600/min.
    post(
        &http,
        &format!("{}/_sandbox/okta/rate-limit", sb.okta_url),
        json!({"limit": 1_000_000}),
    )
    .await;

    let (mut child, base) = watch(&sb, "alert").await;
    let pid = child.id().unwrap().to_string();
    wait_runs(&http, &base, 1).await;
    let first = common::status_kib(&pid, "VmRSS:");
    sb.shared.clear_requests();
    wait_runs(&http, &base, 2).await;
    let one_run = sb.shared.requests();
    let started = Instant::now();
    let mut samples = vec![(1, first)];
    for checkpoint in [10, 30, 60, 120, 240, 480, 960] {
        if checkpoint >= runs {
            break;
        }
        wait_runs(&http, &base, checkpoint).await;
        samples.push((checkpoint, common::status_kib(&pid, "VmRSS:")));
    }
    wait_runs(&http, &base, runs).await;
    let per_run = started.elapsed() / (runs - 2) as u32;
    let last = common::status_kib(&pid, "VmRSS:");
    samples.push((runs, last));
    let peak = common::status_kib(&pid, "VmHWM:");
    let duration = metric(&http, &base, "scimbridge_last_run_duration_seconds").await;
    let _ = child.start_kill();
    let _ = child.wait().await;

    println!("\n== watch --mode alert --interval 1s, {runs} runs against the converged example");
    println!(
        "resident memory: {:.1} MiB after run 1, {:.1} MiB after run {runs} (peak {:.1} MiB)",
        first as f64 / 1024.0,
        last as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let shown: Vec<String> = samples
        .iter()
        .map(|(run, kib)| format!("run {run}: {:.1}", *kib as f64 / 1024.0))
        .collect();
    println!("resident memory by run (MiB): {}", shown.join(", "));
    println!(
        "one run: {:.0} ms of work (last run); {:.2} s between starts (1 s interval ±10% + the run)",
        duration.unwrap_or(0.0) * 1000.0,
        per_run.as_secs_f64()
    );
    let sent = common::print_requests_by_kind(&one_run);
    let minimum = [
        ("okta apps list", 1),
        ("okta groups (one page)", 1),
        ("okta app users, expand=user (one page)", 1),
        ("okta app groups (one page)", 1),
        ("okta connection, features, schema", 3),
        ("okta mapping list + get", 2),
        ("okta group push mappings (one page)", 1),
        ("ws1 admin token, OAuth client, directory list", 3),
        ("ws1 the directory's domains", 1),
        ("ws1 SCIM users (one page), for the data flow", 1),
    ];
    common::print_against_fewest(sent, &minimum, " in one clean run");
    println!(
        "  (the difference: up to {GROUP_LOOKUPS} groups and {USER_LOOKUPS} users are looked up by name, one \
         request each, where one page would list the whole tenant; past those counts they are listed)"
    );

    // Reconcile: a label renamed by hand, put back.
    let (mut child, base) = watch(&sb, "reconcile").await;
    wait_runs(&http, &base, 1).await;
    let app = get(&http, &format!("{}/api/v1/apps", sb.okta_url)).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/api/v1/apps/{app}", sb.okta_url);
    let mut whole = get(&http, &url).await;
    whole["label"] = json!("Renamed by hand");
    let r = http
        .put(&url)
        .header("Authorization", OKTA_TOKEN)
        .json(&whole)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    sb.shared.clear_requests();
    let changed = Instant::now();
    while metric(&http, &base, "scimbridge_runs_total{result=\"reconciled\"}")
        .await
        .is_none()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = changed.elapsed();
    let writes: Vec<String> = sb
        .shared
        .requests()
        .into_iter()
        .filter(|e| e.write)
        .map(|e| format!("{} {}", e.method, e.path))
        .collect();
    let _ = child.start_kill();
    let _ = child.wait().await;
    println!(
        "\n== reconcile: a renamed label put back {:.2} s after the change (interval 1 s), with {} write(s): {writes:?}",
        took.as_secs_f64(),
        writes.len()
    );
}

/// The example's people in the sandbox, the SCIM 1.1 example applied through the API path.
async fn converged() -> RunningSandbox {
    let sb = start(SandboxOptions {
        seed: Some(control::example_seed()),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    post(
        &http,
        &format!("{}/_sandbox/okta/supported-apps", sb.okta_url),
        json!({"names": ["scim1testapp"]}),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["apply", "-c", CONFIG, "--auto-approve", "--token-out"])
        .arg(dir.path().join("token"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .envs(sb.credentials())
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    sb
}

/// `scimbridge watch` every second; the process and where it serves.
async fn watch(sb: &RunningSandbox, mode: &str) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["watch", "-c", CONFIG, "--interval", "1s", "--mode", mode])
        .args(["--listen", "127.0.0.1:0", "--wait", "5"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_clear()
        .envs(sb.credentials())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().expect("a first line");
    let base = format!(
        "http://{}",
        first.split_once(" at http://").expect("the URL").1
    );
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, base)
}

async fn wait_runs(http: &reqwest::Client, base: &str, runs: u64) {
    loop {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let done: f64 = text
            .lines()
            .filter(|l| l.starts_with("scimbridge_runs_total{"))
            .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
            .sum();
        if done >= runs as f64 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn metric(http: &reqwest::Client, base: &str, sample: &str) -> Option<f64> {
    let text = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines().find_map(|l| {
        let (name, value) = l.rsplit_once(' ')?;
        (name == sample).then(|| value.parse().ok())?
    })
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    http.get(url)
        .header("Authorization", OKTA_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn post(http: &reqwest::Client, url: &str, body: Value) {
    let r = http.post(url).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{url}");
}
