//! Benchmark: validating a config with 10,000 user assignments and 500 groups (issue 2).
//!
//! Not a test: run with `cargo bench --bench validate`. Prints the time per validation (best and
//! median of several runs) and the process's peak resident memory.

mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

const USERS: usize = 10_000;
const GROUPS: usize = 500;
const RUNS: usize = 7;

fn config() -> String {
    let mut text = format!(
        "{}    assignments:
      users:
        mode: exact
        members:
",
        common::CONFIG_HEAD
    );
    for i in 0..USERS {
        writeln!(text, "          - user{i:05}@example.com").unwrap();
    }
    text.push_str("      groups:\n        members:\n");
    for i in 0..GROUPS {
        writeln!(text, "          - Group {i:03}").unwrap();
    }
    text
}

fn main() {
    let text = config();
    let before = common::peak_memory_kib();
    let mut times: Vec<Duration> = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let start = Instant::now();
        let loaded = scimbridge::config::load_str(
            "bench.yaml",
            text.clone(),
            ".".into(),
            scimbridge::config::Strictness::Validate,
        );
        times.push(start.elapsed());
        assert!(!loaded.has_errors(), "the benchmark config must be valid");
        let app = &loaded.desired.as_ref().unwrap().okta.app;
        assert_eq!(
            (app.users.members.len(), app.groups.members.len()),
            (USERS, GROUPS)
        );
    }
    times.sort();
    println!(
        "validate: {USERS} users + {GROUPS} groups ({} KiB of YAML): best {:.1} ms, median {:.1} ms over {RUNS} runs",
        text.len() / 1024,
        times[0].as_secs_f64() * 1e3,
        times[RUNS / 2].as_secs_f64() * 1e3,
    );
    println!(
        "peak RSS: {} KiB (before validating: {before} KiB)",
        common::peak_memory_kib()
    );
}
