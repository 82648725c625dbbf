//! Benchmark (not a test): `drift` on a converged setup with 10,000 provisioned users and 200
//! assigned groups, 50 ms of latency injected on every request to both emulators.
//!
//! The setup is converged by the real binary (`apply`, automatic path, Okta's rate limit lifted),
//! so every user is in WS1 as configured. Then drift runs in this process (read, plan, data
//! flow) and the benchmark prints the requests sent per kind against the fewest the APIs allow
//! (their page sizes and `expand=user`), writes (must be 0), wall time against the latency-bound
//! critical path, and peak memory (the sandbox runs in this process too).

mod common;

use std::time::Instant;

use scimbridge::apply::drift;
use scimbridge::config::{self, Strictness};
use scimbridge::plan;
use scimbridge::providers::HttpSettings;
use scimbridge::sandbox::{Fault, SandboxOptions, start};
use scimbridge::state::read::{self, Services};
use serde_json::json;

const USERS: usize = 10_000;
const GROUPS: usize = 200;
const LATENCY_MS: u64 = 50;

#[tokio::main]
async fn main() {
    let (users, groups) = common::seed_people(USERS, GROUPS);
    let sb = start(SandboxOptions {
        seed: Some(json!({"okta": {"users": users, "groups": groups}})),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    let control = |path: &'static str, body: serde_json::Value| {
        let url = format!("{}/_sandbox/okta/{path}", sb.okta_url);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{path}");
        }
    };
    control("supported-apps", json!({"names": ["scim1testapp"]})).await;
    control("rate-limit", json!({"limit": 1_000_000})).await;

    let dir = std::env::temp_dir().join(format!("scimbridge-bench-drift-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = common::write_config(&dir, &sb.ws1_url, &sb.okta_url, USERS, GROUPS);
    let t = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["apply", "-c", &path.to_string_lossy(), "--auto-approve"])
        .args(["--token-out", &dir.join("token").to_string_lossy()])
        .args(["--wait", "600"])
        .env_clear()
        .envs(sb.credentials())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    println!(
        "converged {USERS} users and {GROUPS} groups with apply in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let after_setup = common::peak_memory_kib();

    sb.shared.add_fault(Fault {
        path: "/*".into(),
        latency_ms: LATENCY_MS,
        ..Fault::default()
    });
    sb.shared.clear_requests();
    let t = Instant::now();
    let loaded = config::load(&path, Strictness::Resolve).unwrap();
    let resolved = loaded.resolve().unwrap();
    let desired = loaded.desired.as_ref().unwrap();
    let services = Services::connect(&resolved, HttpSettings::default()).unwrap();
    let live = read::read(desired, &services).await.unwrap();
    let settings = plan::Settings {
        config: "config.yaml".into(),
        scim_base_url: resolved.scim_base_url.clone(),
        secret: Default::default(),
        intent: Default::default(),
    };
    let plan = plan::plan(desired, &settings, &live).unwrap();
    let report = drift::detect(desired, &services, &live, plan)
        .await
        .unwrap();
    let elapsed = t.elapsed();
    let after_drift = common::peak_memory_kib();

    let log = sb.shared.requests();
    let writes = log.iter().filter(|e| e.write).count();
    let sent = common::print_requests_by_kind(&log);
    // The fewest the APIs allow: Okta's page sizes (reference §3), app users with their Okta user
    // embedded (`expand=user`, §10), so no org user is read; WS1's SCIM list at the 10,000 a page
    // public scripts use (§6.4).
    let minimum = [
        ("okta apps list", 1),
        (
            "okta app users, expand=user (500/page)",
            common::pages(USERS, 500),
        ),
        ("okta app groups (200/page)", common::pages(GROUPS, 200)),
        ("okta groups (10000/page)", common::pages(GROUPS, 10_000)),
        // Group push mappings are read only for a config that pushes groups; this one does not.
        ("okta connection, features, schema", 3),
        ("okta mapping list + get", 2),
        ("ws1 admin token, OAuth client, directories, domains", 4),
        ("ws1 SCIM users (10000/page)", common::pages(USERS, 10_000)),
    ];
    common::print_against_fewest(sent, &minimum, &format!("; {writes} writes"));
    // The longest chain: the apps list, then the app users' pages one after another (each
    // next link comes from the previous page); WS1 token, then the user pages, run beside it.
    let chain = 1 + common::pages(USERS, 500) + 1;
    println!(
        "\nwall time: {:.2} s; critical path {chain} sequential requests x {LATENCY_MS} ms = {:.2} s (wall/critical = {:.2})",
        elapsed.as_secs_f64(),
        chain as f64 * LATENCY_MS as f64 / 1e3,
        elapsed.as_secs_f64() / (chain as f64 * LATENCY_MS as f64 / 1e3)
    );
    println!(
        "report: drift = {}, {} finding(s), {} user(s) checked, {} problem(s)",
        report.drift,
        report.findings.len(),
        report.data_flow.users,
        report.data_flow.problems.len()
    );
    println!(
        "peak memory (VmHWM): {} MiB after setup (sandbox with {USERS} users in both emulators), {} MiB after drift",
        after_setup / 1024,
        after_drift / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}
