//! Saved plans over real HTTP: `plan --out` on a pull request, `apply FILE` on merge. A plan
//! applied unchanged runs exactly its actions; every kind of change between plan and apply
//! (config, app, mapping, assignment, directory, OAuth client, token state, tenants, the file
//! itself) is refused before the first write, naming what changed. Also `apply --format json`.

use std::path::Path;
use std::time::Duration;

use scimbridge::sandbox::RunningSandbox;
use serde_json::{Value, json};

use crate::reconcile::{
    SCIM11, api_supports, app_id, apply_with, normalize, root, scimbridge, scimbridge_with, seeded,
    token_out, writes,
};
use crate::support::{get_json, http, send_ok};

fn okta_auth() -> String {
    format!("SSWS {}", scimbridge::sandbox::okta::API_TOKEN)
}

/// The SCIM 1.1 example with `from` replaced by `to`, written into `dir`.
fn config_with(dir: &Path, from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(root().join(SCIM11)).expect("example");
    assert!(text.contains(from), "{from}");
    let path = dir.join("config.yaml");
    std::fs::write(&path, text.replace(from, to)).expect("write");
    path.to_string_lossy().into_owned()
}

/// A sandbox converged on the example through the API path, and a config that adds a user.
async fn converged_with_one_more_user(dir: &Path) -> (RunningSandbox, String) {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_guard, out) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &out).await.code, 0);
    let config = config_with(
        dir,
        "members: [alice@example.com]",
        "members: [alice@example.com, dan@corp.example.com]",
    );
    (sb, config)
}

async fn save_plan(sb: &RunningSandbox, config: &str, out: &Path) {
    let run = scimbridge(sb, &["plan", "-c", config, "--out", &out.to_string_lossy()]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("Saved the plan to"), "{}", run.stderr);
}

async fn apply_saved(sb: &RunningSandbox, file: &Path) -> crate::reconcile::Run {
    scimbridge(sb, &["apply", &file.to_string_lossy(), "--auto-approve"]).await
}

/// Asserts `apply FILE` is refused, naming `what`, without a single write.
async fn refused(sb: &RunningSandbox, file: &Path, what: &str) {
    // Okta's own pushes (after a change made by hand) are not ours: let them finish first.
    http()
        .post(format!("{}/_sandbox/okta/wait", sb.okta_url))
        .send()
        .await
        .expect("wait");
    sb.shared.clear_requests();
    let run = apply_saved(sb, file).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains(what), "{what} in: {}", run.stderr);
    assert_eq!(writes(sb), Vec::<String>::new(), "refused before any write");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_applied_unchanged_runs_exactly_its_actions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, config) = converged_with_one_more_user(dir.path()).await;
    let file = dir.path().join("plan.json");
    save_plan(&sb, &config, &file).await;
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).expect("JSON");
    let text = saved.to_string();
    for secret in [
        "sandbox-scim-shared-secret",
        "sandbox-admin-secret",
        "00sandbox-okta",
    ] {
        assert!(!text.contains(secret), "no secret in a saved plan");
    }
    let planned: Vec<String> = saved["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["resource"].to_string())
        .collect();
    assert_eq!(planned.len(), 1, "{planned:?}");

    sb.shared.clear_requests();
    let run = scimbridge(
        &sb,
        &[
            "apply",
            &file.to_string_lossy(),
            "--auto-approve",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON report");
    let applied: Vec<String> = report["plan"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["resource"].to_string())
        .collect();
    assert_eq!(applied, planned, "exactly the reviewed actions");
    let assigned: Vec<String> = writes(&sb)
        .into_iter()
        .filter(|w| w.starts_with("okta "))
        .collect();
    // The apply lease is taken before the assignment and given back after it.
    assert_eq!(
        assigned.len(),
        3,
        "the lease, one assignment, the lease back, nothing else: {assigned:?}"
    );
    assert!(
        assigned[0].starts_with("okta PUT /api/v1/apps/")
            && assigned[1].starts_with("okta POST /api/v1/apps/")
            && assigned[1].ends_with("/users")
            && assigned[2] == assigned[0],
        "{assigned:?}"
    );
    let shown = normalize(&run.stdout, &sb).replace(&dir.path().display().to_string(), "<DIR>");
    insta::assert_snapshot!("apply_report_json", redact(&shown));

    // Applied once, the same file is stale: the assignment it planned exists now.
    refused(&sb, &file, "okta.app.users: changed in Okta").await;
}

/// Replaces what varies between runs in a JSON report: fingerprints and WS1's random ids.
fn redact(text: &str) -> String {
    let mut value: Value = serde_json::from_str(text).expect("JSON");
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if k == "fingerprints" {
                        if let Value::Object(f) = v {
                            for d in f.values_mut() {
                                *d = json!("<digest>");
                            }
                        }
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    serde_json::to_string_pretty(&value).expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_kind_of_change_since_the_plan_is_refused_before_any_write() {
    use reqwest::Method;
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, config) = converged_with_one_more_user(dir.path()).await;
    let file = dir.path().join("plan.json");
    let okta = |path: &str| format!("{}{path}", sb.okta_url);
    let ws1 = |path: &str| format!("{}/SAAS/jersey/manager/api{path}", sb.ws1_url);
    let app = app_id(&sb).await;
    let (okta_auth, admin) = (
        okta_auth(),
        format!("Bearer {}", crate::support::ws1_admin_token(&sb).await),
    );

    // The app's label, edited in Okta's console (a full-replace PUT, as Okta takes it).
    save_plan(&sb, &config, &file).await;
    let app_url = okta(&format!("/api/v1/apps/{app}"));
    let mut whole = get_json(&app_url, &okta_auth).await;
    whole["label"] = json!("Workspace ONE (renamed)");
    send_ok(Method::PUT, &app_url, &okta_auth, Some(&whole)).await;
    refused(&sb, &file, "okta.app: changed in Okta").await;
    whole["label"] = json!("Workspace ONE Access");
    send_ok(Method::PUT, &app_url, &okta_auth, Some(&whole)).await;

    // A mapping.
    save_plan(&sb, &config, &file).await;
    let mappings = get_json(
        &okta(&format!("/api/v1/mappings?targetId={app}")),
        &okta_auth,
    )
    .await;
    let mapping_url = okta(&format!(
        "/api/v1/mappings/{}",
        mappings[0]["id"].as_str().unwrap()
    ));
    let upn = |expression: &str| json!({"properties": {"userPrincipalName": {"expression": expression, "pushStatus": "PUSH"}}});
    send_ok(
        Method::POST,
        &mapping_url,
        &okta_auth,
        Some(&upn("user.email")),
    )
    .await;
    refused(&sb, &file, "okta.app.mapping: changed in Okta").await;
    send_ok(
        Method::POST,
        &mapping_url,
        &okta_auth,
        Some(&upn("user.login")),
    )
    .await;

    // A group assigned by hand.
    save_plan(&sb, &config, &file).await;
    let groups = get_json(&okta("/api/v1/groups?q=Everyone"), &okta_auth).await;
    let group_url = okta(&format!(
        "/api/v1/apps/{app}/groups/{}",
        groups[0]["id"].as_str().unwrap()
    ));
    send_ok(Method::PUT, &group_url, &okta_auth, Some(&json!({}))).await;
    refused(&sb, &file, "okta.app.groups: changed in Okta").await;
    send_ok(Method::DELETE, &group_url, &okta_auth, None).await;

    // The OAuth client's TTL, edited in WS1.
    save_plan(&sb, &config, &file).await;
    let client_url = ws1("/oauth2clients/okta-scim");
    let client = get_json(&client_url, &admin).await;
    let mut edited = client.clone();
    edited["accessTokenTTL"] = json!(180);
    send_ok(Method::PUT, &client_url, &admin, Some(&edited)).await;
    refused(&sb, &file, "ws1.scim_client: changed in WS1").await;
    send_ok(Method::PUT, &client_url, &admin, Some(&client)).await;

    // The directory, deleted in WS1 (its users go with it).
    save_plan(&sb, &config, &file).await;
    let dirs = get_json(&ws1("/connectormanagement/directoryconfigs"), &admin).await;
    let ours = dirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Okta Users")
        .expect("our directory")["directoryId"]
        .as_str()
        .unwrap()
        .to_owned();
    let directory_url = ws1(&format!("/connectormanagement/directoryconfigs/{ours}"));
    send_ok(Method::DELETE, &directory_url, &admin, None).await;
    refused(&sb, &file, "ws1.directory: changed in WS1").await;

    // The token's state: time alone moves it into its rotation window.
    sb.clock.advance(Duration::from_secs(340 * 86_400));
    refused(&sb, &file, "the token: planned when Okta holds the token").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_config_an_edited_file_another_version_or_other_tenants_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, config) = converged_with_one_more_user(dir.path()).await;
    let file = dir.path().join("plan.json");
    save_plan(&sb, &config, &file).await;
    let original = std::fs::read_to_string(&file).unwrap();

    // The config changed after the review.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("dan@corp.example.com", "erin@corp.example.com"),
    )
    .unwrap();
    refused(&sb, &file, "its content is not the one planned").await;
    std::fs::write(&config, text).unwrap();

    // Edited by hand: an action's value.
    std::fs::write(
        &file,
        original.replacen("dan@corp.example.com", "erin@corp.example.com", 1),
    )
    .unwrap();
    refused(&sb, &file, "was changed after it was made").await;
    // Truncated.
    std::fs::write(&file, &original[..original.len() / 2]).unwrap();
    refused(&sb, &file, "is not a complete saved plan").await;
    // From another version.
    std::fs::write(
        &file,
        original.replace("\"scimbridge_version\": \"", "\"scimbridge_version\": \"9."),
    )
    .unwrap();
    refused(&sb, &file, "was made by scimbridge 9.").await;
    // Not a plan at all.
    std::fs::write(&file, "{\"hello\": 1}").unwrap();
    refused(&sb, &file, "is not a saved scimbridge plan").await;

    // Intact, but for other tenants.
    std::fs::write(&file, &original).unwrap();
    let other = seeded().await;
    other.shared.clear_requests();
    let run = scimbridge_with(
        other.credentials(),
        &["apply", &file.to_string_lossy(), "--auto-approve"],
    )
    .await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("the plan was made for Okta"),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&other), Vec::<String>::new());
    // And the original still applies where it was made.
    let run = apply_saved(&sb, &file).await;
    assert_eq!(run.code, 0, "{run:?}");
}
