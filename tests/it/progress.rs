//! The progress line: drawn on a terminal once a command has worked for a second, absent in a
//! pipe and with `--quiet`. The terminal is a real pseudo-terminal (util-linux `script`), the
//! slowness the sandbox's own latency fault; `decide` itself is unit-tested in the printer.

use std::path::Path;

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, control, start};
use serde_json::json;

const CONFIG: &str = "examples/okta-scim11-custom.yaml";

/// A sandbox where every Okta answer takes 600 ms, so a plan takes several seconds.
async fn slow_sandbox() -> RunningSandbox {
    let sb = start(SandboxOptions {
        seed: Some(control::example_seed()),
        ..SandboxOptions::default()
    })
    .await
    .expect("sandbox");
    let r = reqwest::Client::new()
        .post(format!("{}/_sandbox/faults", sb.okta_url))
        .json(&json!({"path": "/*", "latency_ms": 600}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    sb
}

/// `program` in the project's directory with only the sandbox's credentials and a terminal type.
fn command(program: &str, sb: &RunningSandbox) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env_clear()
        .envs(sb.credentials())
        .env("TERM", "xterm");
    command
}

/// Runs the binary under a pseudo-terminal; everything it wrote to it.
async fn in_terminal(sb: &RunningSandbox, args: &str) -> String {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_scimbridge"));
    let out = command("script", sb)
        .args(["-qfec", &line, "/dev/null"])
        .output()
        .await
        .expect("script runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_shows_on_a_terminal_and_never_in_a_pipe_or_with_quiet() {
    let sb = slow_sandbox().await;
    let piped = command(env!("CARGO_BIN_EXE_scimbridge"), &sb)
        .args(["plan", "-c", CONFIG])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&piped.stderr);
    let stdout = String::from_utf8_lossy(&piped.stdout);
    assert!(stdout.contains("Plan:"), "{stdout}");
    assert!(
        !stderr.contains(" read, "),
        "no progress in a pipe: {stderr}"
    );
    assert!(
        !format!("{stdout}{stderr}").contains('\u{1b}'),
        "no escape codes in a pipe"
    );

    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("util-linux `script` is missing: the pseudo-terminal half is skipped");
        return;
    }
    let shown = in_terminal(&sb, &format!("plan -c {CONFIG}")).await;
    assert!(shown.contains("Plan:"), "{shown}");
    assert!(
        shown.contains("plan: ") && shown.contains(" read, ") && shown.contains(" written"),
        "a progress line on the terminal: {shown}"
    );
    let quiet = in_terminal(&sb, &format!("plan -c {CONFIG} --quiet")).await;
    assert!(quiet.contains("Plan:"), "{quiet}");
    assert!(!quiet.contains(" read, "), "--quiet: {quiet}");
}
