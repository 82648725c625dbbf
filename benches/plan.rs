//! Benchmark (not a test): reading live state and planning for 10,000 directly assigned users and
//! 200 assigned groups, with 50 ms of latency injected on every request to both emulators.
//!
//! Prints the requests sent per kind against the fewest the APIs allow (their page sizes and
//! `expand=user`), the wall time against the latency-bound critical path (the longest chain of
//! requests that must follow one another), and peak memory. The sandbox runs in this process, so memory is shown
//! after seeding (the sandbox's share) and after planning.

mod common;

use std::time::Instant;

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
    let logins: Vec<String> = (0..USERS).map(|i| format!("user{i}@example.com")).collect();
    let seed = json!({"okta": {"users": users, "groups": groups,
        "apps": [{"name": "scim1testapp", "label": "Workspace ONE Access", "users": logins}]}});
    let before_seed = common::peak_memory_kib();
    let t = Instant::now();
    let sb = start(SandboxOptions {
        seed: Some(seed),
        ..SandboxOptions::default()
    })
    .await
    .unwrap();
    println!(
        "seeded {USERS} users (all assigned) and {GROUPS} groups in {:.2} s",
        t.elapsed().as_secs_f64()
    );

    // Assign the 200 groups as an admin would, before measuring.
    let http = reqwest::Client::new();
    let auth = "SSWS 00sandbox-okta-api-token";
    let apps: serde_json::Value = http
        .get(format!("{}/api/v1/apps", sb.okta_url))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app = apps[0]["id"].as_str().unwrap().to_owned();
    let all_groups: serde_json::Value = http
        .get(format!("{}/api/v1/groups?limit=10000", sb.okta_url))
        .header("Authorization", auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for g in all_groups.as_array().unwrap() {
        let r = http
            .put(format!(
                "{}/api/v1/apps/{app}/groups/{}",
                sb.okta_url,
                g["id"].as_str().unwrap()
            ))
            .header("Authorization", auth)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let after_seed = common::peak_memory_kib();

    let dir = std::env::temp_dir().join(format!("scimbridge-bench-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = common::write_config(&dir, &sb.ws1_url, &sb.okta_url, USERS, GROUPS);
    sb.shared.add_fault(Fault {
        path: "/*".into(),
        latency_ms: LATENCY_MS,
        ..Fault::default()
    });
    sb.shared.clear_requests();

    let t = Instant::now();
    let loaded = config::load(&path, Strictness::Resolve).unwrap();
    assert!(
        !loaded.has_errors(),
        "{:?}",
        loaded
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .collect::<Vec<_>>()
    );
    let resolved = loaded.resolve().unwrap();
    let desired = loaded.desired.as_ref().unwrap();
    let load_time = t.elapsed();
    let services = Services::connect(&resolved, HttpSettings::default()).unwrap();
    let t = Instant::now();
    let live = read::read(desired, &services).await.unwrap();
    let read_time = t.elapsed();
    let t = Instant::now();
    let settings = plan::Settings {
        config: "config.yaml".into(),
        scim_base_url: resolved.scim_base_url.clone(),
        secret: Default::default(),
        intent: Default::default(),
    };
    let plan = plan::plan(desired, &settings, &live).unwrap();
    let plan_time = t.elapsed();
    let after_plan = common::peak_memory_kib();

    let sent = common::print_requests_by_kind(&sb.shared.requests());
    // The fewest the APIs allow: one page per page size, one request per single object. Every
    // config login is an app user, and app users come with their Okta user (`expand=user`,
    // reference §10), so no org user needs reading; the config pushes no group, so no push
    // mapping either; the directory does not exist yet, so it has no domains to read.
    let minimum = [
        ("okta apps list", 1),
        ("okta groups (10000/page)", common::pages(GROUPS, 10_000)),
        (
            "okta app users, expand=user (500/page)",
            common::pages(USERS, 500),
        ),
        ("okta app groups (200/page)", common::pages(GROUPS, 200)),
        ("okta connection, features, schema", 3),
        ("okta mapping list + get", 2),
        ("ws1 admin token, OAuth client, directory list", 3),
    ];
    // The longest chain: the app list (1) followed by the app users' pages, each next link
    // coming from the page before; WS1's token then its reads (2) run beside it.
    let chain = (1 + common::pages(USERS, 500)).max(2 + 1);
    common::print_against_fewest(sent, &minimum, "");
    println!(
        "\nwall time: read {:.2} s, plan {:.1} ms, config load {:.1} ms",
        read_time.as_secs_f64(),
        plan_time.as_secs_f64() * 1e3,
        load_time.as_secs_f64() * 1e3
    );
    println!(
        "critical path: {chain} sequential requests x {LATENCY_MS} ms = {:.2} s (read/critical = {:.2})",
        chain as f64 * LATENCY_MS as f64 / 1e3,
        read_time.as_secs_f64() / (chain as f64 * LATENCY_MS as f64 / 1e3)
    );
    println!("plan: {} actions ({})", plan.actions.len(), plan.summary());
    println!(
        "peak memory (VmHWM): {} MiB before seeding, {} MiB after seeding (sandbox), {} MiB after read + plan",
        before_seed / 1024,
        after_seed / 1024,
        after_plan / 1024
    );
    let _ = std::fs::remove_dir_all(&dir);
}
