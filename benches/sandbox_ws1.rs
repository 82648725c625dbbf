//! Benchmark (not a test): the WS1 emulator's loopback throughput and its memory with 50,000
//! SCIM users. Run with `cargo bench --bench sandbox_ws1`; prints figures, asserts nothing.

mod common;

use std::time::Instant;

use scimbridge::sandbox::{SandboxOptions, start};
use serde_json::{Value, json};

const USERS: usize = 50_000;
const CONCURRENCY: usize = 32;

fn user(i: usize) -> Value {
    json!({
        "schemas": ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:workspace:1.0"],
        "userName": format!("user{i}"), "externalId": format!("00u{i:08}"),
        "name": {"givenName": "Given", "familyName": format!("Family{i}")},
        "emails": [{"value": format!("user{i}@example.com")}],
        "urn:scim:schemas:extension:workspace:1.0": {"internalUserType": "PROVISIONED",
            "domain": "example.com", "userPrincipalName": format!("user{i}@example.com")}
    })
}

/// Runs `total` requests with `CONCURRENCY` workers; returns requests per second.
async fn run<F, Fut>(label: &str, total: usize, make: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = u16> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CONCURRENCY {
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let mut bad = 0;
            let mut i = w;
            while i < total {
                let status = make(i).await;
                if !(200..300).contains(&status) {
                    bad += 1;
                }
                i += CONCURRENCY;
            }
            bad
        }));
    }
    let mut bad = 0;
    for t in tasks {
        bad += t.await.expect("worker");
    }
    let secs = started.elapsed().as_secs_f64();
    let rps = total as f64 / secs;
    println!("{label:<34} {total:>6} requests in {secs:>6.2} s = {rps:>8.0} req/s ({bad} non-2xx)");
    rps
}

#[tokio::main]
async fn main() {
    let base_hwm = common::peak_memory_kib();
    let sb = start(SandboxOptions::default()).await.expect("sandbox");
    let url = sb.ws1_url.clone();
    let http = reqwest::Client::new();
    let tok: Value = http
        .post(format!(
            "{url}/SAAS/auth/oauthtoken?grant_type=client_credentials"
        ))
        .basic_auth("scimbridge-admin", Some("sandbox-admin-secret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = tok["access_token"].as_str().unwrap().to_string();
    let api = format!("{url}/SAAS/jersey/manager/api");
    http.post(format!("{api}/connectormanagement/directoryconfigs"))
        .bearer_auth(&token)
        .json(&json!({"type": "OTHER_DIRECTORY", "name": "Okta Users", "domains": ["example.com"]}))
        .send()
        .await
        .unwrap();

    let (h, a, t) = (http.clone(), api.clone(), token.clone());
    run("POST /scim/Users (create)", USERS, move |i| {
        let (h, a, t) = (h.clone(), a.clone(), t.clone());
        async move {
            h.post(format!("{a}/scim/Users"))
                .bearer_auth(t)
                .json(&user(i))
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    })
    .await;
    let (h, a, t) = (http.clone(), api.clone(), token.clone());
    run("GET /scim/Users?filter=userName eq", 20_000, move |i| {
        let (h, a, t) = (h.clone(), a.clone(), t.clone());
        async move {
            let url = format!(
                "{a}/scim/Users?filter=userName%20eq%20%22user{}%22&startIndex=1&count=100",
                i % USERS
            );
            h.get(url)
                .bearer_auth(t)
                .send()
                .await
                .map_or(0, |r| r.status().as_u16())
        }
    })
    .await;
    let (h, a, t) = (http.clone(), api.clone(), token.clone());
    run("GET /scim/Users?count=100 (page)", 500, move |i| {
        let (h, a, t) = (h.clone(), a.clone(), t.clone());
        async move {
            let url = format!(
                "{a}/scim/Users?startIndex={}&count=100",
                1 + (i * 100) % USERS
            );
            match h.get(url).bearer_auth(t).send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    let _ = r.bytes().await;
                    s
                }
                Err(_) => 0,
            }
        }
    })
    .await;
    let (h, u) = (http.clone(), url.clone());
    run("POST /SAAS/auth/oauthtoken", 5_000, move |_| {
        let (h, u) = (h.clone(), u.clone());
        async move {
            h.post(format!(
                "{u}/SAAS/auth/oauthtoken?grant_type=client_credentials"
            ))
            .basic_auth("scimbridge-admin", Some("sandbox-admin-secret"))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
        }
    })
    .await;
    let hwm = common::peak_memory_kib();
    println!(
        "peak memory (VmHWM): {:.1} MiB with {USERS} SCIM users (process at start: {:.1} MiB)",
        hwm as f64 / 1024.0,
        base_hwm as f64 / 1024.0
    );
    sb.shutdown().await.expect("shutdown");
}
