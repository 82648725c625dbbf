//! The canary: known secret values through every command at `RUST_LOG=trace`, and not one of
//! them may show anywhere a person or a log collector could see it: stdout, stderr (logs,
//! errors, panics), or the files beside the `--token-out` file. Each secret is looked for as
//! is, base64-encoded inside Basic credentials, URL-encoded, and (for the bearer token, a JWT)
//! segment by segment.

use std::path::Path;

use base64::Engine;
use scimbridge::sandbox::{RunningSandbox, SandboxOptions, control, start};

/// Every form a secret could leak in.
fn forms(secrets: &[(&str, &str)], basic: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, value) in secrets {
        out.push((format!("{name} (plain)"), (*value).to_owned()));
        let encoded: String = form_urlencoded::byte_serialize(value.as_bytes()).collect();
        out.push((format!("{name} (URL-encoded)"), encoded));
        for (i, segment) in value.split('.').enumerate() {
            if value.contains('.') && segment.len() >= 8 {
                out.push((format!("{name} (JWT segment {i})"), segment.to_owned()));
            }
        }
    }
    for (id, secret) in basic {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
        out.push((format!("Basic credentials of {id}"), b64));
    }
    out
}

async fn run(sb: &RunningSandbox, dir: &Path, args: &[&str]) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_clear()
        .envs(sb.credentials())
        .env("RUST_LOG", "trace")
        .env("HOME", dir)
        .output()
        .await
        .expect("the binary runs");
    let shown = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), shown)
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_shows_in_any_output_of_any_command() {
    let sb = start(SandboxOptions {
        seed: Some(control::example_seed()),
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let creds = sb.credentials();
    let get = |n: &str| creds.iter().find(|(k, _)| *k == n).expect(n).1.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("token");
    let token_out = token_path.to_string_lossy().into_owned();
    let config = "examples/okta-scim11-custom.yaml";

    let mut seen = Vec::new();
    for args in [
        vec!["validate", "-c", config],
        vec!["plan", "-c", config],
        vec!["plan", "-c", config, "--format", "json"],
        vec!["plan", "-c", config, "--format", "markdown"],
        vec!["apply", "-c", config, "--auto-approve"],
        vec![
            "apply",
            "-c",
            config,
            "--auto-approve",
            "--token-out",
            &token_out,
        ],
        vec![
            "apply",
            "-c",
            config,
            "--auto-approve",
            "--token-out",
            &token_out,
        ],
        vec!["apply", "-c", config, "--auto-approve"],
        vec!["plan", "-c", config, "--detailed-exitcode"],
        vec!["drift", "-c", config],
        vec!["drift", "-c", config, "--format", "json"],
        vec!["demo"],
        vec!["demo", "--import"],
    ] {
        let (code, shown) = run(&sb, dir.path(), &args).await;
        assert!(!shown.contains("panicked"), "{args:?} panicked:\n{shown}");
        seen.push((args.join(" "), code, shown));
    }
    let codes: Vec<i32> = seen.iter().map(|(_, code, _)| *code).collect();
    // validate, three plans, apply refused (no --token-out for a manual handover), apply with
    // the manual step, two re-runs still pending (no token minted, so --token-out is unused),
    // a plan with changes, drift twice, the demo, the import demo.
    assert_eq!(
        codes,
        vec![0, 0, 0, 0, 1, 3, 3, 3, 2, 2, 2, 0, 0],
        "{:?}",
        seen.iter()
            .map(|(c, code, _)| (c, code))
            .collect::<Vec<_>>()
    );

    // watch in reconcile mode, two runs: its logs, its drift report, /healthz and /metrics.
    let mut env = sb.credentials();
    env.push(("RUST_LOG", "trace".to_owned()));
    env.push(("HOME", dir.path().to_string_lossy().into_owned()));
    let args = [
        "watch",
        "-c",
        config,
        "--interval",
        "1s",
        "--mode",
        "reconcile",
        "--listen",
        "127.0.0.1:0",
    ];
    let w = crate::watch::Watcher::spawn(&args, env).await;
    w.until(std::time::Duration::from_secs(20), async |w| {
        w.runs("pending").await + w.runs("blocked").await >= 2.0
    })
    .await;
    let served = format!(
        "{}{}{}",
        w.get("/healthz").await.1,
        w.get("/metrics").await.1,
        w.stdout()
    );
    let log = w.stops_within_a_second().await;
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "{log}");
    seen.push((args.join(" "), 0, format!("{served}{log}")));

    let token = std::fs::read_to_string(&token_path).expect("the token file");
    let token = token.trim();
    assert!(token.len() > 40 && token.matches('.').count() == 2, "a JWT");
    let secrets = [
        ("OKTA_API_TOKEN", get("OKTA_API_TOKEN")),
        ("WS1_CLIENT_SECRET", get("WS1_CLIENT_SECRET")),
        ("WS1_SCIM_CLIENT_SECRET", get("WS1_SCIM_CLIENT_SECRET")),
        ("bearer token", token.to_owned()),
    ];
    let secrets: Vec<(&str, &str)> = secrets.iter().map(|(n, v)| (*n, v.as_str())).collect();
    let basic = [
        (get("WS1_CLIENT_ID"), get("WS1_CLIENT_SECRET")),
        ("okta-scim".to_owned(), get("WS1_SCIM_CLIENT_SECRET")),
    ];
    let basic: Vec<(&str, &str)> = basic
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let forms = forms(&secrets, &basic);

    // The trace logs are real: requests and their handling show up.
    assert!(
        seen[5].2.contains("TRACE") || seen[5].2.contains("DEBUG"),
        "{}",
        seen[5].2
    );
    for (command, _, shown) in &seen {
        for (what, form) in &forms {
            assert!(
                !shown.contains(form.as_str()),
                "`{command}` shows the {what}"
            );
        }
    }
    // Beside the token file: nothing else was written, and nothing holds a secret.
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path == token_path {
            continue;
        }
        let text = std::fs::read(&path).map(|b| String::from_utf8_lossy(&b).into_owned());
        for (what, form) in &forms {
            assert!(
                !text.as_deref().unwrap_or_default().contains(form.as_str()),
                "{} holds the {what}",
                path.display()
            );
        }
    }
}
