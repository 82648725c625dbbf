//! `plan` and `apply` end to end: the real binary against the sandbox on loopback, both example
//! configs, from empty tenants to converged, with the sandbox's request log as the witness of
//! what was sent.

use std::path::Path;

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, control, start};

/// The repository root, where the examples live.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A sandbox seeded with the examples' Okta users and groups.
async fn seeded() -> RunningSandbox {
    let seed =
        control::load_seed_file(&root().join("examples/sandbox-seed.yaml").to_string_lossy())
            .expect("seed file");
    start(SandboxOptions {
        seed: Some(seed),
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox starts")
}

/// What one run of the binary showed.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Both streams, normalized for snapshots (ports and times vary between runs).
    fn shown(&self, sb: &RunningSandbox) -> String {
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        normalize(&text, sb)
    }
}

/// Replaces the sandbox's URLs and RFC 3339 times with stable placeholders.
fn normalize(text: &str, sb: &RunningSandbox) -> String {
    let text = text
        .replace(&sb.ws1_url, "http://WS1")
        .replace(&sb.okta_url, "http://OKTA");
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let candidate = &bytes[i..(i + 20).min(bytes.len())];
        let is_time = candidate.len() == 20
            && candidate.iter().enumerate().all(|(j, b)| match j {
                4 | 7 => *b == b'-',
                10 => *b == b'T',
                13 | 16 => *b == b':',
                19 => *b == b'Z',
                _ => b.is_ascii_digit(),
            });
        if is_time {
            out.push_str("<TIME>");
            i += 20;
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Runs `scimbridge <args>` from the repository root with the sandbox's credentials.
async fn scimbridge(sb: &RunningSandbox, args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .envs(sb.credentials())
        .output()
        .await
        .expect("the binary runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The writes in the sandbox's request log (PRODUCT.md's definition), as `METHOD path`.
fn writes(sb: &RunningSandbox) -> Vec<String> {
    sb.shared
        .requests()
        .into_iter()
        .filter(|e| e.write)
        .map(|e| format!("{} {} {}", e.service, e.method, e.path))
        .collect()
}

const SCIM11: &str = "examples/okta-scim11-custom.yaml";
const OIN: &str = "examples/okta-oin-workspace-one.yaml";

#[tokio::test(flavor = "multi_thread")]
async fn plan_from_empty_tenants_lists_every_step_and_only_reads_scim11() {
    let sb = seeded().await;
    let run = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(sb.shared.requests().len() > 5, "the plan read the services");
    assert_eq!(writes(&sb), Vec::<String>::new());
    insta::assert_snapshot!(run.shown(&sb));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_from_empty_tenants_lists_every_step_and_only_reads_oin() {
    let sb = seeded().await;
    let run = scimbridge(&sb, &["plan", "-c", OIN, "--format", "markdown"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());
    insta::assert_snapshot!(run.shown(&sb));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_json_is_versioned_and_carries_fingerprints() {
    let sb = seeded().await;
    let run = scimbridge(&sb, &["plan", "-c", SCIM11, "--format", "json"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON plan");
    assert_eq!(plan["format_version"], 1);
    let fingerprints = plan["fingerprints"].as_object().expect("fingerprints");
    for address in [
        "ws1.scim_client",
        "ws1.directory",
        "okta.app",
        "okta.users",
        "okta.groups",
    ] {
        assert!(
            fingerprints.contains_key(address),
            "{address} in {fingerprints:?}"
        );
    }
    assert!(plan["observed_at"].is_string(), "server time recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_names_an_okta_user_that_does_not_exist_in_the_file() {
    let sb = start(SandboxOptions::default()).await.expect("sandbox");
    let run = scimbridge(&sb, &["plan", "-c", SCIM11]).await;
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(run.shown(&sb));
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_reports_the_vendor_error_of_a_refused_token() {
    let sb = seeded().await;
    let mut env = sb.credentials();
    for (name, value) in &mut env {
        if *name == "OKTA_API_TOKEN" {
            *value = "00wrong-token".into();
        }
    }
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["plan", "-c", SCIM11])
        .current_dir(root())
        .env_clear()
        .envs(env)
        .output()
        .await
        .expect("runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    // Reads run concurrently, so which one reports the refusal varies; what it says does not.
    assert!(
        stderr.starts_with("error: cannot read live state"),
        "{stderr}"
    );
    assert!(
        stderr.contains("returned 401 E0000011: Invalid token provided [request id "),
        "{stderr}"
    );
    assert!(!stderr.contains("00wrong-token"), "{stderr}");
}
