//! `plan` and `apply` end to end: the real binary against the sandbox on loopback, both example
//! configs, from empty tenants to converged, with the sandbox's request log as the witness of
//! what was sent.

use std::path::Path;

use scimbridge::sandbox::{RunningSandbox, SandboxOptions, control, start};

/// The repository root, where the examples live.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A sandbox seeded with the examples' Okta users and groups.
pub(crate) async fn seeded() -> RunningSandbox {
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
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
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

/// Replaces the sandbox's URLs, RFC 3339 times and dates with stable placeholders.
pub(crate) fn normalize(text: &str, sb: &RunningSandbox) -> String {
    let text = text
        .replace(&sb.ws1_url, "http://WS1")
        .replace(&sb.okta_url, "http://OKTA");
    let bytes = text.as_bytes();
    let shaped = |at: usize, len: usize, shape: &[u8]| {
        bytes.len() >= at + len
            && bytes[at..at + len].iter().zip(shape).all(|(b, s)| {
                if *s == b'9' {
                    b.is_ascii_digit()
                } else {
                    b == s
                }
            })
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if shaped(i, 20, b"9999-99-99T99:99:99Z") {
            out.push_str("<TIME>");
            i += 20;
        } else if shaped(i, 10, b"9999-99-99") {
            out.push_str("<DATE>");
            i += 10;
        } else {
            let ch = text[i..].chars().next().expect("char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Runs `scimbridge <args>` from the repository root with the sandbox's credentials.
pub(crate) async fn scimbridge(sb: &RunningSandbox, args: &[&str]) -> Run {
    scimbridge_with(sb.credentials(), args).await
}

/// A `--token-out` path in a fresh directory, which lives as long as the returned guard.
pub(crate) fn token_out() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("okta-token").to_string_lossy().into_owned();
    (dir, path)
}

/// `apply -c <config> --auto-approve --token-out <token_out>` with the sandbox's credentials.
async fn apply(sb: &RunningSandbox, config: &str, token_out: &str) -> Run {
    apply_with(sb.credentials(), config, token_out).await
}

/// `apply -c <config> --auto-approve --token-out <token_out>` with exactly these variables.
pub(crate) async fn apply_with(
    env: Vec<(&'static str, String)>,
    config: &str,
    token_out: &str,
) -> Run {
    let args = [
        "apply",
        "-c",
        config,
        "--auto-approve",
        "--token-out",
        token_out,
    ];
    scimbridge_with(env, &args).await
}

/// Runs `scimbridge <args>` from the repository root with exactly these environment variables.
pub(crate) async fn scimbridge_with(env: Vec<(&'static str, String)>, args: &[&str]) -> Run {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .current_dir(root())
        .env_clear()
        .envs(env)
        // A test's watchdog drops this future when a run takes too long: the run dies with it.
        .kill_on_drop(true)
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
pub(crate) fn writes(sb: &RunningSandbox) -> Vec<String> {
    sb.shared
        .requests()
        .into_iter()
        .filter(|e| e.write)
        .map(|e| format!("{} {} {}", e.service, e.method, e.path))
        .collect()
}

pub(crate) const SCIM11: &str = "examples/okta-scim11-custom.yaml";
pub(crate) const OIN: &str = "examples/okta-oin-workspace-one.yaml";

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
        // A test's watchdog drops this future when a run takes too long: the run dies with it.
        .kill_on_drop(true)
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
    assert!(
        stderr.contains(
            "caused by: Okta refused scimbridge's API token (okta.api_token, from ${env:OKTA_API_TOKEN})"
        ),
        "the credential is named: {stderr}"
    );
    assert!(!stderr.contains("00wrong-token"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_admin_client_is_named_as_the_admin_client() {
    let sb = seeded().await;
    let mut env = sb.credentials();
    for (name, value) in &mut env {
        if *name == "WS1_CLIENT_SECRET" {
            *value = "not-the-secret".into();
        }
    }
    let run = scimbridge_with(env, &["plan", "-c", SCIM11]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("Workspace ONE Access refused scimbridge's own admin OAuth client (ws1.credentials: client_id ${env:WS1_CLIENT_ID}, client_secret from ${env:WS1_CLIENT_SECRET})"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-the-secret"), "{}", run.stderr);
}

/// The Okta app's id, read as any API user would.
pub(crate) async fn app_id(sb: &RunningSandbox) -> String {
    let apps: serde_json::Value = crate::support::http()
        .get(format!("{}/api/v1/apps", sb.okta_url))
        .header(
            "Authorization",
            format!("SSWS {}", scimbridge::sandbox::okta::API_TOKEN),
        )
        .send()
        .await
        .expect("apps")
        .json()
        .await
        .expect("JSON");
    apps[0]["id"].as_str().expect("one app").to_owned()
}

/// The console step an admin does by hand: the connection with the token from the file, and
/// the To App toggles the config asks for. The SCIM 1.1 app takes the SCIM base URL there; the
/// OIN app has it in its General settings already.
pub(crate) async fn console_step(sb: &RunningSandbox, app: &str, token: &str, oin: bool) {
    let mut body = serde_json::json!({
        "token": token,
        "createUsers": true,
        "updateUsers": oin,
        "deactivateUsers": true,
    });
    if !oin {
        body["baseUrl"] = format!("{}/SAAS/jersey/manager/api/scim", sb.ws1_url).into();
    }
    let r = crate::support::http()
        .post(format!(
            "{}/_sandbox/okta/apps/{app}/provisioning",
            sb.okta_url
        ))
        .json(&body)
        .send()
        .await
        .expect("console step");
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_manual_path_converges_and_a_second_apply_writes_nothing_scim11() {
    let sb = seeded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("okta-token");
    let token_out = token_path.to_string_lossy().into_owned();
    let first = apply(&sb, SCIM11, &token_out).await;
    assert_eq!(first.code, 3, "{first:?}");
    insta::assert_snapshot!(
        "scim11_first_apply",
        first.shown(&sb).replace(&token_out, "<TOKEN-OUT>")
    );
    let token = std::fs::read_to_string(&token_path).expect("token file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!first.stdout.contains(token.trim()) && !first.stderr.contains(token.trim()));

    // Pending: a re-run mints nothing, writes nothing, and still exits 3.
    sb.shared.clear_requests();
    let again = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(again.code, 3, "{again:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());

    console_step(&sb, &app_id(&sb).await, token.trim(), false).await;
    std::fs::remove_file(&token_path).expect("the user deletes the file");
    let second = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    insta::assert_snapshot!("scim11_second_apply", second.shown(&sb));

    sb.shared.clear_requests();
    let third = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());
    let plan = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
}

/// Tells the Okta emulator that its API accepts the connection and features for these apps.
pub(crate) async fn api_supports(sb: &RunningSandbox, names: &[&str]) {
    let r = crate::support::http()
        .post(format!("{}/_sandbox/okta/supported-apps", sb.okta_url))
        .json(&serde_json::json!({ "names": names }))
        .send()
        .await
        .expect("supported apps");
    assert!(r.status().is_success());
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_automatic_path_converges_in_one_run_without_a_token_file_scim11() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("okta-token");
    let token_out = token_path.to_string_lossy().into_owned();
    let run = apply(&sb, SCIM11, &token_out).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!token_path.exists(), "the API handover writes no file");
    assert!(run.stdout.contains("converged."), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("Data flow: all 3 user(s) assigned in Okta are in WS1"),
        "{}",
        run.stdout
    );
    sb.shared.clear_requests();
    let again = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_manual_and_automatic_paths_converge_oin() {
    // Manual: the console step sets the API token; the base URL is the app's General setting.
    let sb = seeded().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let token_path = dir.path().join("token");
    let token_out = token_path.to_string_lossy().into_owned();
    let first = apply(&sb, OIN, &token_out).await;
    assert_eq!(first.code, 3, "{first:?}");
    let token = std::fs::read_to_string(&token_path).expect("token file");
    console_step(&sb, &app_id(&sb).await, token.trim(), true).await;
    let second = scimbridge(&sb, &["apply", "-c", OIN, "--auto-approve"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second.stdout.contains("Data flow: all 2 user(s)"),
        "{}",
        second.stdout
    );
    sb.shared.clear_requests();
    let third = scimbridge(&sb, &["apply", "-c", OIN, "--auto-approve"]).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());

    // Automatic.
    let sb = seeded().await;
    api_supports(&sb, &["vmwareworkspaceone"]).await;
    let unused = dir.path().join("unused").to_string_lossy().into_owned();
    let run = apply(&sb, OIN, &unused).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("Data flow: all 2 user(s)"),
        "{}",
        run.stdout
    );
}

/// The SCIM 1.1 example with one more user assigned, in `dir`.
fn example_with_user(dir: &Path, login: &str) -> String {
    let text = std::fs::read_to_string(root().join(SCIM11)).expect("example");
    let text = text.replace(
        "members: [alice@example.com]",
        &format!("members: [alice@example.com, {login}]"),
    );
    assert!(text.contains(login));
    let path = dir.join("config.yaml");
    std::fs::write(&path, text).expect("write config");
    path.to_string_lossy().into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sync_failure_is_named_by_the_data_flow_report() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_dir, out) = token_out();
    let run = apply(&sb, SCIM11, &out).await;
    assert_eq!(run.code, 0, "{run:?}");
    // WS1 starts refusing new users; Okta's push for the next one fails.
    sb.shared.add_fault(scimbridge::sandbox::Fault {
        service: Some("ws1".into()),
        method: Some("POST".into()),
        path: "/SAAS/jersey/manager/api/scim/Users".into(),
        error_ratio: 1.0,
        error_status: Some(500),
        ..Default::default()
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let config = example_with_user(dir.path(), "dan@corp.example.com");
    let run = scimbridge(&sb, &["apply", "-c", &config, "--auto-approve"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let report: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Data flow"))
        .collect();
    assert_eq!(
        report,
        vec![
            "Data flow: 1 user(s) are not in WS1 as expected:",
            "  dan@corp.example.com (userName dan): not in WS1: Okta's push failed (syncState ERROR): the error text is under the app's Provisioning > Tasks in the Admin Console",
        ],
        "{}",
        run.stdout
    );
}

/// How many objects of a kind the services hold, read over their APIs.
async fn count(sb: &RunningSandbox, url: String, auth: String, pointer: &str) -> usize {
    let body: serde_json::Value = crate::support::http()
        .get(url)
        .header("Authorization", auth)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("JSON");
    let _ = sb;
    body.pointer(pointer)
        .and_then(|v| v.as_array())
        .map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_and_a_failure_mid_apply_then_a_rerun_converge_without_duplicates() {
    use scimbridge::sandbox::Fault;
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    // The creates succeed but their answers are lost; the assignments fail outright.
    for (service, path) in [
        ("ws1", "/SAAS/jersey/manager/api/oauth2clients"),
        (
            "ws1",
            "/SAAS/jersey/manager/api/connectormanagement/directoryconfigs",
        ),
        ("okta", "/api/v1/apps"),
    ] {
        sb.shared.add_fault(Fault {
            service: Some(service.into()),
            method: Some("POST".into()),
            path: path.into(),
            lose_answer: 1,
            ..Default::default()
        });
    }
    sb.shared.add_fault(Fault {
        service: Some("okta".into()),
        method: Some("POST".into()),
        path: "/api/v1/apps/*/users".into(),
        error_ratio: 1.0,
        error_status: Some(500),
        ..Default::default()
    });
    let (_dir, out) = token_out();
    let first = apply(&sb, SCIM11, &out).await;
    assert_eq!(first.code, 1, "{first:?}");
    assert!(
        first
            .stdout
            .contains("failed   14 okta.app.user[\"alice@example.com\"]"),
        "{}",
        first.stdout
    );
    assert!(first.stdout.contains("NOT converged"), "{}", first.stdout);
    sb.shared.clear_faults();
    let second = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(second.code, 0, "{second:?}");
    let okta_auth = format!("SSWS {}", scimbridge::sandbox::okta::API_TOKEN);
    assert_eq!(
        count(&sb, format!("{}/api/v1/apps", sb.okta_url), okta_auth, "").await,
        1
    );
    let admin = format!("Bearer {}", crate::support::ws1_admin_token(&sb).await);
    let clients = count(
        &sb,
        format!("{}/SAAS/jersey/manager/api/oauth2clients", sb.ws1_url),
        admin.clone(),
        "/items",
    )
    .await;
    let directories = count(
        &sb,
        format!(
            "{}/SAAS/jersey/manager/api/connectormanagement/directoryconfigs",
            sb.ws1_url
        ),
        admin,
        "/items",
    )
    .await;
    // The sandbox's own admin client and System Directory, plus exactly one of ours each.
    assert_eq!((clients, directories), (2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refuses_before_any_change_without_confirmation_or_allow_destroy() {
    let sb = seeded().await;
    // No terminal to confirm on, no --auto-approve.
    let (_dir, out) = token_out();
    let run = scimbridge(&sb, &["apply", "-c", SCIM11, "--token-out", &out]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("re-run with --auto-approve"),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&sb), Vec::<String>::new());

    // Converge, then hand-assign a group the `exact` collection does not list: removing it is
    // disruptive beyond the default cap of 0.
    api_supports(&sb, &["scim1testapp"]).await;
    let run = apply(&sb, SCIM11, &out).await;
    assert_eq!(run.code, 0, "{run:?}");
    let okta = format!("SSWS {}", scimbridge::sandbox::okta::API_TOKEN);
    let groups: serde_json::Value = crate::support::http()
        .get(format!("{}/api/v1/groups?q=Everyone", sb.okta_url))
        .header("Authorization", &okta)
        .send()
        .await
        .expect("groups")
        .json()
        .await
        .expect("JSON");
    let group = groups[0]["id"].as_str().expect("group id");
    let app = app_id(&sb).await;
    let r = crate::support::http()
        .put(format!("{}/api/v1/apps/{app}/groups/{group}", sb.okta_url))
        .header("Authorization", &okta)
        .json(&serde_json::json!({}))
        .send()
        .await
        .expect("assign by hand");
    assert!(r.status().is_success());
    // Okta pushes the group's members to WS1 (its writes, not ours): let it finish first.
    crate::support::http()
        .post(format!("{}/_sandbox/okta/wait", sb.okta_url))
        .send()
        .await
        .expect("wait");
    sb.shared.clear_requests();
    let run = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("--allow-destroy"), "{}", run.stderr);
    assert!(
        run.stderr.contains("okta.app.group[\"Everyone in IT\"]"),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&sb), Vec::<String>::new());
    let run = scimbridge(
        &sb,
        &["apply", "-c", SCIM11, "--auto-approve", "--allow-destroy"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("  done      0 okta.app.group[\"Everyone in IT\"]"),
        "{}",
        run.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_inside_its_rotation_window_is_rotated_and_handed_over() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_dir, out) = token_out();
    let run = apply(&sb, SCIM11, &out).await;
    assert_eq!(run.code, 0, "{run:?}");
    // 340 days on: the 365-day token is inside the 30-day rotation window.
    sb.clock
        .advance(std::time::Duration::from_secs(340 * 86_400));
    let plan = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout.contains("inside the 30d rotation window"),
        "{}",
        plan.stdout
    );
    let run = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("converged."), "{}", run.stdout);
    let plan = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_name_two_okta_groups_share_is_named_not_guessed() {
    let sb = seeded().await;
    // A second Okta group with the name the example assigns.
    let r = crate::support::http()
        .post(format!("{}/_sandbox/seed", sb.okta_url))
        .json(&serde_json::json!({"okta": {"groups": [{"name": "Workspace ONE Users", "members": []}]}}))
        .send()
        .await
        .expect("seed");
    assert!(r.status().is_success());
    let run = scimbridge(&sb, &["plan", "-c", SCIM11]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("error[ambiguous-group]: okta.app.assignments.groups.members[0]: 2 Okta groups are named `Workspace ONE Users`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
