//! What the benchmarks share: reading the process's peak memory, a config for N users and
//! groups against the in-process sandbox, and counting requests by kind against the fewest the
//! APIs allow.

#![allow(dead_code)]

/// Peak resident memory of this process (`VmHWM` in `/proc/self/status`), in KiB; 0 where
/// the platform does not report it.
pub fn peak_memory_kib() -> u64 {
    status_kib("self", "VmHWM:")
}

/// A memory line (`VmRSS:`, `VmHWM:`…) of `/proc/PROCESS/status` (a pid or `self`), in KiB;
/// 0 where the platform does not report it.
pub fn status_kib(process: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{process}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// A valid config without assignments, its secrets from the environment (`WS1_CLIENT_SECRET`,
/// `WS1_SCIM_CLIENT_SECRET`, `OKTA_API_TOKEN`); benches append to it.
pub const CONFIG_HEAD: &str = "version: 1
ws1:
  tenant_url: https://acme.vmwareidentity.com
  credentials:
    client_id: scimbridge-admin
    client_secret: ${env:WS1_CLIENT_SECRET}
  scim_client:
    client_id: okta-scim
    access_token_ttl: 365d
    secret: ${env:WS1_SCIM_CLIENT_SECRET}
  directory:
    name: Okta Users
    domains: [example.com]
okta:
  org_url: https://acme.okta.com
  api_token: ${env:OKTA_API_TOKEN}
  app:
    variant: scim11_custom
    label: Workspace ONE Access
";

/// The Okta people of a sandbox seed: `users` users (`user{i}@example.com`, the logins
/// [`write_config`] names) and `groups` empty groups (`Group {i}`).
pub fn seed_people(
    users: usize,
    groups: usize,
) -> (Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let users = (0..users)
        .map(|i| serde_json::json!({"login": format!("user{i}@example.com"), "firstName": "U", "lastName": format!("{i}")}))
        .collect();
    let groups = (0..groups)
        .map(|i| serde_json::json!({"name": format!("Group {i}"), "members": []}))
        .collect();
    (users, groups)
}

/// Writes a config naming `users` users (`user{i}@example.com`) and `groups` groups
/// (`Group {i}`) for the sandbox at these URLs, its secrets in files beside it (so it loads in
/// this process and in the binary alike); returns its path.
pub fn write_config(
    dir: &std::path::Path,
    ws1: &str,
    okta: &str,
    users: usize,
    groups: usize,
) -> std::path::PathBuf {
    let creds = [
        ("okta-token", "00sandbox-okta-api-token"),
        ("ws1-secret", "sandbox-admin-secret"),
        ("scim-secret", "sandbox-scim-shared-secret"),
    ];
    for (file, value) in creds {
        std::fs::write(dir.join(file), value).unwrap();
    }
    let users: Vec<String> = (0..users).map(|i| format!("user{i}@example.com")).collect();
    let groups: Vec<String> = (0..groups).map(|i| format!("\"Group {i}\"")).collect();
    let text = format!(
        "version: 1\nws1:\n  tenant_url: {ws1}\n  credentials:\n    client_id: scimbridge-admin\n    client_secret: ${{file:ws1-secret}}\n  scim_client:\n    client_id: okta-scim\n    access_token_ttl: 365d\n    secret: ${{file:scim-secret}}\n  directory:\n    name: Okta Users\n    domains: [example.com]\nokta:\n  org_url: {okta}\n  api_token: ${{file:okta-token}}\n  app:\n    variant: scim11_custom\n    label: Workspace ONE Access\n    assignments:\n      users:\n        members: [{}]\n      groups:\n        members: [{}]\n",
        users.join(", "),
        groups.join(", ")
    );
    let path = dir.join("config.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Prints the requests of `log` by service and kind; returns how many were sent.
pub fn print_requests_by_kind(log: &[scimbridge::sandbox::LogEntry]) -> usize {
    let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
    for e in log {
        *kinds
            .entry(format!("{:4} {}", e.service, kind(&e.method, &e.path)))
            .or_default() += 1;
    }
    println!("\nrequests sent, by kind:");
    for (k, n) in &kinds {
        println!("  {n:>5}  {k}");
    }
    kinds.values().sum()
}

/// How many pages of `size` hold `n` items (one, even when empty).
pub fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

/// Prints `sent` against `minimum` (what, fewest requests), with `extra` after the totals.
pub fn print_against_fewest(sent: usize, minimum: &[(&str, usize)], extra: &str) {
    let fewest: usize = minimum.iter().map(|(_, n)| n).sum();
    println!("\nrequests: {sent} sent, {fewest} the fewest the APIs allow{extra}");
    for (what, n) in minimum {
        println!("  {n:>5}  {what}");
    }
}

/// The request's kind: method and path with ids and queries folded.
fn kind(method: &str, path: &str) -> String {
    let path = path.split('?').next().unwrap_or(path);
    let folded: Vec<&str> = path
        .split('/')
        .map(|seg| {
            let uuid = seg.len() == 36 && seg.chars().filter(|c| *c == '-').count() == 4;
            if seg.starts_with("0oa")
                || seg.starts_with("00u")
                || seg.starts_with("00g")
                || seg.starts_with("prm")
                || seg.contains('@')
                || uuid
            {
                "{id}"
            } else {
                seg
            }
        })
        .collect();
    format!("{method} {}", folded.join("/"))
}
