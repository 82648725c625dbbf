//! Benchmark (not a test): the Okta emulator with 50,000 users and 10,000 app assignments seeded.
//! Prints seed time, request throughput on loopback for paging app users, lookups by login and
//! app reads, and peak memory (`VmHWM`).

mod common;

use std::time::Instant;

use scimbridge::sandbox::okta::{API_TOKEN, Okta};
use serde_json::{Value, json};

const USERS: usize = 50_000;
const ASSIGNED: usize = 10_000;
const CONCURRENCY: usize = 16;

async fn run(
    label: &str,
    total: usize,
    paths: impl Fn(usize) -> String + Send + Sync + 'static,
    base: &str,
) {
    let client = reqwest::Client::new();
    let paths = std::sync::Arc::new(paths);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let (client, paths, base) = (client.clone(), paths.clone(), base.to_string());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while i < total {
                let resp = client
                    .get(format!("{base}{}", paths(i)))
                    .header("Authorization", format!("SSWS {API_TOKEN}"))
                    .send()
                    .await
                    .unwrap();
                assert!(resp.status().is_success(), "{}", resp.status());
                resp.bytes().await.unwrap();
                i += CONCURRENCY;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{label}: {total} requests in {secs:.2} s = {:.0} req/s",
        total as f64 / secs
    );
}

#[tokio::main]
async fn main() {
    let (users, _) = common::seed_people(USERS, 0);
    let assigned: Vec<String> = (0..ASSIGNED)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let seed = json!({"okta": {"users": users,
        "apps": [{"name": "scim1testapp", "label": "Bench", "users": assigned}]}});
    let okta = Okta::default();
    let start = Instant::now();
    okta.seed(&seed).unwrap();
    println!(
        "seed: {USERS} users, {ASSIGNED} assignments in {:.2} s",
        start.elapsed().as_secs_f64()
    );

    let router = okta.router().nest("/_sandbox/okta", okta.control_router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    // A high limit so the benchmark measures the emulator, not its rate limiter.
    reqwest::Client::new()
        .post(format!("{base}/_sandbox/okta/rate-limit"))
        .json(&json!({"limit": 100_000_000}))
        .send()
        .await
        .unwrap();
    let apps: Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/apps"))
        .header("Authorization", format!("SSWS {API_TOKEN}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let app = apps[0]["id"].as_str().unwrap().to_string();

    run(
        "GET /api/v1/users/{login}",
        20_000,
        |i| format!("/api/v1/users/user{}@example.com", i * 7 % USERS),
        &base,
    )
    .await;
    let a = app.clone();
    run(
        "GET /api/v1/apps/{id}",
        20_000,
        move |_| format!("/api/v1/apps/{a}"),
        &base,
    )
    .await;
    let a = app.clone();
    run(
        "GET /api/v1/apps/{id}/users?limit=500 (first page)",
        2_000,
        move |_| format!("/api/v1/apps/{a}/users?limit=500"),
        &base,
    )
    .await;
    run(
        "GET /api/v1/users?filter=profile.login eq",
        500,
        |i| format!("/api/v1/users?filter=profile.login%20eq%20%22user{i}%40example.com%22"),
        &base,
    )
    .await;
    println!("peak memory (VmHWM): {} kB", common::peak_memory_kib());
}
