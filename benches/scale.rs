//! Benchmark (not a test): `scimbridge plan` at 1,000, 10,000 and 100,000 assigned users and 200
//! assigned groups, side by side in one run (`cargo bench --bench scale [-- SIZES…]`).
//!
//! Both sides run as their own processes, as a user runs them: the sandbox
//! (`scimbridge sandbox --seed …`, 50 ms of latency on every request) and the release client
//! (`scimbridge plan`). So the client's peak memory is its own (`wait4`'s `ru_maxrss`; this
//! process stays small, because a child's figure starts from its parent's at the fork), and every
//! request is counted by the sandbox's request log, which the client's code does not touch.
//!
//! For each size it prints the requests against the fewest the APIs allow, computed here from
//! the vendors' page sizes (reference/okta-api.md §10: app users 500 a page with `expand=user`,
//! app groups 200, groups 10,000) with its arithmetic; the wall time against the latency-bound
//! critical path (the longest chain of requests that must follow one another: the app list,
//! then each app-user page, whose next link comes from the page before); and the Terraform okta
//! provider's refresh of the same work on paper (one GET per app user, parallelism 10).

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const GROUPS: usize = 200;
const LATENCY_MS: u64 = 50;
const OKTA_TOKEN: &str = "SSWS 00sandbox-okta-api-token";

/// One size's figures.
struct Row {
    users: usize,
    sent: usize,
    fewest: usize,
    wall: Duration,
    critical: Duration,
    /// The same chain walked by this benchmark alone: one request after another, bodies read
    /// and dropped. What the server itself adds to the latency per request shows here.
    bare: Duration,
    rss_mib: f64,
    exit: Option<i32>,
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![1_000, 10_000, 100_000]
    } else {
        sizes
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut rows = Vec::new();
    for users in sizes {
        rows.push(runtime.block_on(measure(users)));
    }
    println!("\n{:-<100}", "");
    println!(
        "{:>8} | {:>9} {:>7} {:>6} | {:>8} {:>9} {:>6} {:>9} | {:>10} | Terraform refresh (paper)",
        "users",
        "requests",
        "fewest",
        "ratio",
        "wall",
        "critical",
        "ratio",
        "bare walk",
        "client RSS"
    );
    for r in &rows {
        // One GET per app user, 10 at a time, 50 ms each.
        let tf_requests = r.users;
        let tf_wall = (r.users as f64 / 10.0).ceil() * LATENCY_MS as f64 / 1e3;
        println!(
            "{:>8} | {:>9} {:>7} {:>6.2} | {:>7.2}s {:>8.2}s {:>6.2} {:>8.2}s | {:>6.1} MiB | {tf_requests} requests, {tf_wall:.1} s{}",
            r.users,
            r.sent,
            r.fewest,
            r.sent as f64 / r.fewest as f64,
            r.wall.as_secs_f64(),
            r.critical.as_secs_f64(),
            r.wall.as_secs_f64() / r.critical.as_secs_f64(),
            r.bare.as_secs_f64(),
            r.rss_mib,
            if r.exit == Some(0) {
                String::new()
            } else {
                format!("  (plan exited {:?})", r.exit)
            }
        );
    }
    println!("goals: requests <= 1.1 x fewest, wall <= 1.2 x critical path, client RSS <= 64 MiB");
}

async fn measure(users: usize) -> Row {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    write_seed(&seed, users);
    let (ws1_port, okta_port) = (free_port(), free_port());
    let mut sandbox = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["sandbox", "--seed"])
        .arg(&seed)
        .args(["--ws1-port", &ws1_port.to_string()])
        .args(["--okta-port", &okta_port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let okta = format!("http://127.0.0.1:{okta_port}");
    let ws1 = format!("http://127.0.0.1:{ws1_port}");
    let http = reqwest::Client::new();
    let started = Instant::now();
    while http.get(format!("{okta}/_sandbox/")).send().await.is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the sandbox did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "\n== {users} users: sandbox seeded and serving in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assign_groups(&http, &okta).await;
    let config = common::write_config(dir.path(), &ws1, &okta, users, GROUPS);
    post(
        &http,
        &format!("{okta}/_sandbox/faults"),
        json!({"path": "/*", "latency_ms": LATENCY_MS}),
    )
    .await;
    let r = http
        .delete(format!("{okta}/_sandbox/requests"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    let (exit, wall, rss_kib) = run_client(dir.path(), &config);
    let log = get_json(&http, &format!("{okta}/_sandbox/requests")).await;
    let entries = log
        .get("requests")
        .and_then(Value::as_array)
        .or(log.as_array())
        .cloned()
        .unwrap_or_default();
    let entries: Vec<scimbridge::sandbox::LogEntry> = entries
        .into_iter()
        .filter_map(|e| serde_json::from_value(e).ok())
        .collect();
    let sent = common::print_requests_by_kind(&entries);
    let minimum = [
        ("okta apps list", 1),
        ("okta groups (10000/page)", common::pages(GROUPS, 10_000)),
        (
            "okta app users, expand=user (500/page)",
            common::pages(users, 500),
        ),
        ("okta app groups (200/page)", common::pages(GROUPS, 200)),
        ("okta connection, features, schema", 3),
        ("okta mapping list + get", 2),
        ("ws1 admin token, OAuth client, directory list", 3),
    ];
    common::print_against_fewest(sent, &minimum, "");
    let chain = 1 + common::pages(users, 500);
    let critical = Duration::from_millis(chain as u64 * LATENCY_MS);
    println!(
        "critical path: 1 app list + {} app-user pages = {chain} requests x {LATENCY_MS} ms = {:.2} s",
        common::pages(users, 500),
        critical.as_secs_f64()
    );
    // The client has spent part of the sandbox's 600/min; the bare walk must not be paced.
    post(
        &http,
        &format!("{okta}/_sandbox/okta/rate-limit"),
        json!({"limit": 100_000}),
    )
    .await;
    let bare = walk_chain(&http, &okta).await;
    println!(
        "the same chain walked bare (this benchmark, no parsing): {:.2} s",
        bare.as_secs_f64()
    );
    let _ = sandbox_stop(&mut sandbox);
    Row {
        users,
        sent,
        fewest: minimum.iter().map(|(_, n)| n).sum(),
        wall,
        critical,
        bare,
        rss_mib: rss_kib as f64 / 1024.0,
        exit,
    }
}

/// The seed: `users` Okta users all assigned to the SCIM 1.1 app, and the groups; streamed to
/// the file so this process stays small.
fn write_seed(path: &Path, users: usize) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write!(out, "{{\"okta\": {{\"users\": [").unwrap();
    for i in 0..users {
        let sep = if i == 0 { "" } else { "," };
        write!(
            out,
            "{sep}{{\"login\": \"user{i}@example.com\", \"firstName\": \"U\", \"lastName\": \"{i}\"}}"
        )
        .unwrap();
    }
    write!(out, "], \"groups\": [").unwrap();
    for i in 0..GROUPS {
        let sep = if i == 0 { "" } else { "," };
        write!(out, "{sep}{{\"name\": \"Group {i}\", \"members\": []}}").unwrap();
    }
    write!(
        out,
        "], \"apps\": [{{\"name\": \"scim1testapp\", \"label\": \"Workspace ONE Access\", \"users\": ["
    )
    .unwrap();
    for i in 0..users {
        let sep = if i == 0 { "" } else { "," };
        write!(out, "{sep}\"user{i}@example.com\"").unwrap();
    }
    write!(out, "]}}]}}}}").unwrap();
}

/// Assigns every group to the app, as an admin would, before measuring.
async fn assign_groups(http: &reqwest::Client, okta: &str) {
    let apps = get_json(http, &format!("{okta}/api/v1/apps")).await;
    let app = apps[0]["id"].as_str().unwrap().to_owned();
    let groups = get_json(http, &format!("{okta}/api/v1/groups?limit=10000")).await;
    for g in groups.as_array().unwrap() {
        let r = http
            .put(format!(
                "{okta}/api/v1/apps/{app}/groups/{}",
                g["id"].as_str().unwrap()
            ))
            .header("Authorization", OKTA_TOKEN)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
}

/// Walks the critical path as bare as a client can: the app list, then each app-user page
/// (`expand=user`, 500 a page) by its `next` link, one after another; returns the time taken.
async fn walk_chain(http: &reqwest::Client, okta: &str) -> Duration {
    let started = Instant::now();
    let apps = get_json(http, &format!("{okta}/api/v1/apps")).await;
    let app = apps[0]["id"].as_str().unwrap();
    let mut next = Some(format!(
        "{okta}/api/v1/apps/{app}/users?limit=500&expand=user"
    ));
    while let Some(url) = next.take() {
        let r = http
            .get(&url)
            .header("Authorization", OKTA_TOKEN)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        next = r
            .headers()
            .get_all("link")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|l| l.ends_with("rel=\"next\""))
            .and_then(|l| l.split(['<', '>']).nth(1))
            .map(str::to_owned);
        r.bytes().await.unwrap();
    }
    started.elapsed()
}

/// `GET url` with the Okta token, as JSON.
async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    let r = http
        .get(url)
        .header("Authorization", OKTA_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
    r.json().await.unwrap()
}

async fn post(http: &reqwest::Client, url: &str, body: Value) {
    let r = http.post(url).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
}

/// Runs `scimbridge plan -c config` in `dir`; its exit code, wall time and peak RSS in KiB.
fn run_client(dir: &Path, config: &Path) -> (Option<i32>, Duration, i64) {
    let started = Instant::now();
    // Reaped by wait4 below, which also reports its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .arg("plan")
        .arg("-c")
        .arg(config)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let done = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(done, pid);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    (code, started.elapsed(), usage.ru_maxrss)
}

fn sandbox_stop(sandbox: &mut Child) -> std::io::Result<()> {
    sandbox.kill()?;
    sandbox.wait().map(|_| ())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
