//! Benchmark (not a test): `scimbridge apply` assigning 1,000 users under an Okta rate limit set
//! in the sandbox (`cargo bench --bench apply [-- LIMITS…]`, default 600 and 100 per minute).
//! Prints, per limit, the assignment throughput against the bucket's allowance (the limit per
//! minute, spent evenly: 1,000 writes at 600/min are allowed in 100 s), the 429s the sandbox
//! answered, every request by kind, and the times (whole apply, and the assignment window).
//!
//! The app is converged first (automatic path, no users); then the config names 1,000 users and
//! the real binary applies it, as a user would. A second apply must then send no write.

mod common;

use std::path::Path;
use std::time::Instant;

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, start};
use serde_json::json;

const USERS: usize = 1_000;

fn write_config(dir: &Path, users: usize) -> String {
    let members: Vec<String> = (0..users).map(|i| format!("user{i}@example.com")).collect();
    let text = format!(
        "version: 1\nws1:\n  tenant_url: ${{env:WS1_TENANT_URL}}\n  credentials:\n    client_id: ${{env:WS1_CLIENT_ID}}\n    client_secret: ${{env:WS1_CLIENT_SECRET}}\n  scim_client:\n    client_id: okta-scim\n    access_token_ttl: 365d\n    secret: ${{env:WS1_SCIM_CLIENT_SECRET}}\n  directory:\n    name: Okta Users\n    domains: [example.com]\nokta:\n  org_url: ${{env:OKTA_ORG_URL}}\n  api_token: ${{env:OKTA_API_TOKEN}}\n  app:\n    variant: scim11_custom\n    label: Workspace ONE Access\n    assignments:\n      users:\n        members: [{}]\n",
        members.join(", ")
    );
    let path = dir.join(format!("config-{users}.yaml"));
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

async fn apply(sb: &RunningSandbox, config: &str) -> (i32, String) {
    // The API path hands the token over in memory; the reserved file is removed unused.
    let token_out =
        std::env::temp_dir().join(format!("scimbridge-bench-token-{}", std::process::id()));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args([
            "apply",
            "-c",
            config,
            "--auto-approve",
            "--token-out",
            &token_out.to_string_lossy(),
            "--wait",
            "120",
        ])
        .env_clear()
        .envs(sb.credentials())
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn control(sb: &RunningSandbox, path: &str, body: serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/okta/{path}", sb.okta_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}");
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("scimbridge-bench-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let limits: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let limits = if limits.is_empty() {
        vec![600, 100]
    } else {
        limits
    };
    let mut rows = Vec::new();
    for limit in limits {
        let (users, _) = common::seed_people(USERS, 0);
        let sb = start(SandboxOptions {
            seed: Some(json!({"okta": {"users": users}})),
            ..SandboxOptions::default()
        })
        .await
        .unwrap();
        control(&sb, "supported-apps", json!({"names": ["scim1testapp"]})).await;
        let (code, out) = apply(&sb, &write_config(&dir, 0)).await;
        assert_eq!(code, 0, "{out}");
        control(&sb, "rate-limit", json!({"limit": limit})).await;
        sb.shared.clear_requests();
        let config = write_config(&dir, USERS);
        let t = Instant::now();
        let (code, out) = apply(&sb, &config).await;
        let total = t.elapsed().as_secs_f64();
        let log = sb.shared.requests();
        let assigns: Vec<_> = log
            .iter()
            .filter(|e| {
                e.service == "okta"
                    && e.method == "POST"
                    && e.path.contains("/users")
                    && e.path.starts_with("/api/v1/apps/")
            })
            .collect();
        let ok = assigns.iter().filter(|e| e.status == 200).count();
        let too_many = log.iter().filter(|e| e.status == 429).count();
        let window = assigns.last().map_or(0, |l| l.time) - assigns.first().map_or(0, |f| f.time);
        let rate = ok as f64 / (window.max(1) as f64);
        let allowance = limit as f64 / 60.0;
        common::print_requests_by_kind(&log);
        println!(
            "allowance: {limit}/min = {allowance:.2}/s, so {ok} writes in {:.1} s; took {window} s = {:.0}% of the allowance",
            ok as f64 / allowance,
            100.0 * rate / allowance
        );
        sb.shared.clear_requests();
        let (again, _) = apply(&sb, &config).await;
        let writes = sb.shared.requests().iter().filter(|e| e.write).count();
        rows.push(format!(
            "| {limit} | {ok} | {total:.1} s | {window} s | {rate:.2} | {allowance:.2} | {:.0}% | {too_many} | {code} | {writes} (exit {again}) |",
            100.0 * rate / allowance
        ));
        if code != 0 {
            println!(
                "{}",
                out.lines().rev().take(5).collect::<Vec<_>>().join("\n")
            );
        }
        sb.shutdown().await.unwrap();
    }
    println!(
        "\n| limit (req/min per bucket) | assignments | apply total | assignment window | assignments/s | allowance/s | of allowance | 429s | exit | writes of a 2nd apply |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    println!("goal: >= 90% of the allowance, 0 429s, 0 writes on the second apply");
    let _ = std::fs::remove_dir_all(&dir);
}
