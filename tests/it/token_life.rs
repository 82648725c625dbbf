//! The bearer token's whole life against the sandbox, the clock advanced through a year: mint,
//! console handover, rotation window, a rotation whose handover is never done, the old token's
//! expiry, a lost file, a re-issue, and `drift` telling the truth at every step (exit codes
//! asserted). Also a changed SCIM secret, `--confirm-handover` with nothing pending, and the
//! `--token-out` checks that come before the first write.

use std::time::Duration;

use scimbridge::sandbox::RunningSandbox;
use serde_json::{Value, json};

use crate::reconcile::{
    Run, SCIM11, api_supports, app_id, apply_with, console_step, scimbridge, scimbridge_with,
    seeded, token_out, writes,
};
use crate::support::http;

const DAY: u64 = 86_400;

/// `scimbridge apply -c` the SCIM 1.1 example `--auto-approve`, with `extra` flags.
async fn apply(sb: &RunningSandbox, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "-c", SCIM11, "--auto-approve"];
    args.extend_from_slice(extra);
    scimbridge(sb, &args).await
}

pub(crate) fn okta_auth() -> String {
    format!("SSWS {}", scimbridge::sandbox::okta::API_TOKEN)
}

/// The app's managed block as Okta's API shows it (the admin note, from the marker on).
pub(crate) async fn managed_block(sb: &RunningSandbox) -> String {
    let app: Value = http()
        .get(format!("{}/api/v1/apps/{}", sb.okta_url, app_id(sb).await))
        .header("Authorization", okta_auth())
        .send()
        .await
        .expect("app")
        .json()
        .await
        .expect("JSON");
    let note = app["settings"]["notes"]["admin"]
        .as_str()
        .unwrap_or_default();
    note[note.find("[scimbridge").unwrap_or(0)..].to_owned()
}

pub(crate) fn line<'a>(block: &'a str, name: &str) -> Option<&'a str> {
    block
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(" = "))
}

/// An Okta user's id, looked up by login.
async fn user_id(sb: &RunningSandbox, login: &str) -> String {
    let user: Value = http()
        .get(format!("{}/api/v1/users/{login}", sb.okta_url))
        .header("Authorization", okta_auth())
        .send()
        .await
        .expect("user")
        .json()
        .await
        .expect("JSON");
    user["id"].as_str().expect("id").to_owned()
}

/// Removes an Okta user's assignment by hand.
async fn unassign_by_hand(sb: &RunningSandbox, login: &str) {
    let r = http()
        .delete(format!(
            "{}/api/v1/apps/{}/users/{}",
            sb.okta_url,
            app_id(sb).await,
            user_id(sb, login).await
        ))
        .header("Authorization", okta_auth())
        .send()
        .await
        .expect("unassign");
    assert!(r.status().is_success(), "{:?}", r.text().await);
    okta_control(sb, "wait").await;
}

/// Assigns an Okta user to the app by hand, as an admin clicking in the console would.
async fn assign_by_hand(sb: &RunningSandbox, login: &str) {
    let user = json!({"id": user_id(sb, login).await});
    let r = http()
        .post(format!(
            "{}/api/v1/apps/{}/users",
            sb.okta_url,
            app_id(sb).await
        ))
        .header("Authorization", okta_auth())
        .json(&json!({"id": user["id"], "scope": "USER"}))
        .send()
        .await
        .expect("assign");
    assert!(r.status().is_success(), "{:?}", r.text().await);
    okta_control(sb, "wait").await;
}

/// A control route of the Okta emulator (`/_sandbox/okta/<path>`), POSTed.
async fn okta_control(sb: &RunningSandbox, path: &str) {
    let r = http()
        .post(format!("{}/_sandbox/okta/{path}", sb.okta_url))
        .send()
        .await
        .expect("control");
    assert!(r.status().is_success(), "{path}: {:?}", r.text().await);
}

fn read_token(path: &str) -> String {
    std::fs::read_to_string(path)
        .expect("token file")
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_year_of_the_token_manual_handover_rotation_expiry_lost_file_and_reissue() {
    let sb = seeded().await;
    let env = || sb.credentials();
    let drift = |sb: &RunningSandbox| {
        let env = sb.credentials();
        async move { scimbridge_with(env, &["drift", "-c", SCIM11]).await }
    };

    // Day 0: the first apply mints and writes the token; the console step is pending.
    let (_dir, first) = token_out();
    let run = apply_with(env(), SCIM11, &first).await;
    assert_eq!(run.code, 3, "{run:?}");
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "token.handover"), Some("pending"), "{block}");
    assert_eq!(
        line(&block, "token.provisioning_at_mint"),
        Some("off"),
        "{block}"
    );
    assert!(line(&block, "secret.digest").is_some_and(|d| d.starts_with("pbkdf2-sha256$")));
    let report = drift(&sb).await;
    assert_eq!(report.code, 2, "{report:?}");
    assert!(
        report
            .stdout
            .contains("Okta holds no working token of scimbridge's"),
        "{}",
        report.stdout
    );

    // The console step, then an apply that sees provisioning turned on after the mint.
    console_step(&sb, &app_id(&sb).await, &read_token(&first), false).await;
    let run = apply(&sb, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let block = managed_block(&sb).await;
    assert_eq!(
        line(&block, "token.confirmed_by"),
        Some("features-after-mint"),
        "{block}"
    );
    sb.shared.clear_requests();
    let report = drift(&sb).await;
    assert_eq!(report.code, 0, "{report:?}");
    assert!(report.stdout.contains("\nNo drift.\n"), "{}", report.stdout);
    assert!(
        report.stdout.contains("(expires in 365 day(s))"),
        "{}",
        report.stdout
    );
    assert_eq!(writes(&sb), Vec::<String>::new(), "drift only reads");

    // Day 340: inside the 30-day rotation window.
    sb.clock.advance(Duration::from_secs(340 * DAY));
    let report = drift(&sb).await;
    assert_eq!(report.code, 2, "{report:?}");
    assert!(
        report
            .stdout
            .contains("(in 25 day(s)), inside the rotation window"),
        "{}",
        report.stdout
    );
    let (_dir2, rotated) = token_out();
    let run = apply_with(env(), SCIM11, &rotated).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(std::path::Path::new(&rotated).exists());

    // The rotated token is never pasted. Provisioning was on already (the old token): that must
    // not confirm anything, however often apply runs.
    for _ in 0..2 {
        let run = apply(&sb, &[]).await;
        assert_eq!(run.code, 3, "{run:?}");
        assert!(
            run.stdout
                .contains("which is still valid (expires in 25 day(s))"),
            "{}",
            run.stdout
        );
    }
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "token.handover"), Some("pending"), "{block}");
    assert!(line(&block, "previous.expires_at").is_some(), "{block}");
    let plan = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout.contains("waits for its console handover"),
        "{}",
        plan.stdout
    );

    // Day 366: the old token has expired. A user assigned by hand is refused by WS1.
    sb.clock.advance(Duration::from_secs(26 * DAY));
    assign_by_hand(&sb, "dan@corp.example.com").await;
    let report = drift(&sb).await;
    assert_eq!(report.code, 2, "{report:?}");
    assert!(
        report.stdout.contains(
            "Okta's token for Workspace ONE Access expired"
        ) && report.stdout.contains("WS1 rejects Okta's pushes (HTTP 401) since then; 1 Okta app user(s) are in syncState ERROR"),
        "{}",
        report.stdout
    );
    assert!(
        report
            .stdout
            .contains("dan@corp.example.com: userName dan: not in WS1"),
        "{}",
        report.stdout
    );
    let plan = scimbridge(&sb, &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("which EXPIRED"), "{}", plan.stdout);

    // The file is lost. A plain apply mints nothing and writes no file (and fails its proof:
    // dan is not in WS1).
    std::fs::remove_file(&rotated).expect("rm");
    let (_dir3, lost) = token_out();
    let run = apply_with(env(), SCIM11, &lost).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout
            .contains("dan@corp.example.com (userName dan): not in WS1"),
        "{}",
        run.stdout
    );
    assert!(
        !std::path::Path::new(&lost).exists(),
        "no second token on a plain re-run"
    );
    // A deliberate re-issue: nothing working is in Okta's hands, so the lost token is revoked
    // with its client.
    let (_dir4, reissued) = token_out();
    let run = apply(&sb, &["--reissue-token", "--token-out", &reissued]).await;
    assert_eq!(run.code, 1, "the proof still fails for dan: {run:?}");
    assert!(
        run.stdout
            .contains("issued_tokens  \"1 unconfirmed\" → \"revoked\""),
        "{}",
        run.stdout
    );
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "token.others_known"), Some("yes"), "{block}");
    assert_eq!(line(&block, "previous.expires_at"), None, "{block}");

    // Pasted at last, a few minutes later; the admin assigns dan again, and Okta's successful
    // push after every other token ended confirms the handover without the admin's word.
    sb.clock.advance(Duration::from_secs(600));
    console_step(&sb, &app_id(&sb).await, &read_token(&reissued), false).await;
    unassign_by_hand(&sb, "dan@corp.example.com").await;
    assign_by_hand(&sb, "dan@corp.example.com").await;
    let run = apply(&sb, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let block = managed_block(&sb).await;
    assert_eq!(
        line(&block, "token.confirmed_by"),
        Some("push-after-others-ended"),
        "{block}"
    );
    sb.shared.clear_requests();
    let report = drift(&sb).await;
    assert_eq!(report.code, 0, "{report:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_confirms_a_rotation_and_a_superseded_token_is_reported_until_it_expires() {
    let sb = seeded().await;
    let (_dir, first) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &first).await.code, 3);
    console_step(&sb, &app_id(&sb).await, &read_token(&first), false).await;
    assert_eq!(apply(&sb, &[]).await.code, 0);
    sb.clock.advance(Duration::from_secs(340 * DAY));
    let (_dir, rotated) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &rotated).await.code, 3);
    // Lost while the old token still works: the re-issue supersedes it (revoking it would cut
    // off the old token Okta uses now) and says so.
    let (_dir, reissued) = token_out();
    let run = apply(&sb, &["--reissue-token", "--token-out", &reissued]).await;
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        run.stdout.contains("it stays valid until"),
        "{}",
        run.stdout
    );
    console_step(&sb, &app_id(&sb).await, &read_token(&reissued), false).await;
    let run = apply(&sb, &["--confirm-handover"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("handed over: the admin confirmed the console step"),
        "{}",
        run.stdout
    );
    let report = scimbridge(&sb, &["drift", "-c", SCIM11]).await;
    assert_eq!(report.code, 0, "{report:?}");
    assert!(
        report.stdout.contains("i [token]")
            && report
                .stdout
                .contains("(superseded by a re-issue) stays valid until"),
        "{}",
        report.stdout
    );
    // Nothing pending any more: confirming again is refused before any write.
    sb.shared.clear_requests();
    let run = apply(&sb, &["--confirm-handover"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("--confirm-handover: no console handover is pending"),
        "{}",
        run.stderr
    );
    assert_eq!(writes(&sb), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_scim_secret_is_disruptive_and_recreates_the_client() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_dir, out) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &out).await.code, 0);
    let mut env = sb.credentials();
    for (name, value) in &mut env {
        if *name == "WS1_SCIM_CLIENT_SECRET" {
            *value = "a-new-secret-from-the-vault".into();
        }
    }
    let plan = scimbridge_with(env.clone(), &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("update [disruptive: needs --allow-destroy]")
            && plan.stdout.contains("secret  (sensitive) → (sensitive)"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("a-new-secret-from-the-vault"));
    sb.shared.clear_requests();
    let run = scimbridge_with(env.clone(), &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());
    let run = scimbridge_with(
        env.clone(),
        &["apply", "-c", SCIM11, "--auto-approve", "--allow-destroy"],
    )
    .await;
    assert_eq!(run.code, 0, "{run:?}");
    let deleted: Vec<String> = writes(&sb)
        .into_iter()
        .filter(|w| w.starts_with("ws1 DELETE"))
        .collect();
    assert_eq!(
        deleted,
        ["ws1 DELETE /SAAS/jersey/manager/api/oauth2clients/okta-scim"]
    );
    let plan = scimbridge_with(env.clone(), &["plan", "-c", SCIM11, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "{plan:?}");
    let report = scimbridge_with(env, &["drift", "-c", SCIM11]).await;
    assert_eq!(report.code, 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_out_is_checked_before_the_first_write() {
    let sb = seeded().await;
    let run = apply(&sb, &["--token-out", "/nonexistent/dir/token"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("its directory does not exist"),
        "{}",
        run.stderr
    );
    let (dir, taken) = token_out();
    std::fs::write(&taken, "someone else's").expect("write");
    let run = apply(&sb, &["--token-out", &taken]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "someone else's");
    assert_eq!(writes(&sb), Vec::<String>::new(), "nothing was created");
    drop(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_reports_users_missing_or_landed_local_in_json_and_markdown() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_dir, out) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &out).await.code, 0);
    let json_report = scimbridge(&sb, &["drift", "-c", SCIM11, "--format", "json"]).await;
    assert_eq!(json_report.code, 0, "{json_report:?}");
    let report: Value = serde_json::from_str(&json_report.stdout).expect("JSON");
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["drift"], false);
    assert_eq!(report["data_flow"]["users"], 3);

    // In WS1, one user is deleted and one turned into a local user of the System Directory.
    let admin = format!("Bearer {}", crate::support::ws1_admin_token(&sb).await);
    let users: Value = http()
        .get(format!(
            "{}/SAAS/jersey/manager/api/scim/Users?count=100",
            sb.ws1_url
        ))
        .header("Authorization", &admin)
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("JSON");
    let id_of = |name: &str| {
        users["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["userName"] == name)
            .unwrap_or_else(|| panic!("{name} in WS1"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let r = http()
        .delete(format!(
            "{}/SAAS/jersey/manager/api/scim/Users/{}",
            sb.ws1_url,
            id_of("bob")
        ))
        .header("Authorization", &admin)
        .send()
        .await
        .expect("delete");
    assert!(r.status().is_success());
    let r = http()
        .patch(format!(
            "{}/SAAS/jersey/manager/api/scim/Users/{}",
            sb.ws1_url,
            id_of("carol")
        ))
        .header("Authorization", &admin)
        .json(&json!({"urn:scim:schemas:extension:workspace:1.0": {
            "internalUserType": "LOCAL", "domain": "System Domain"}}))
        .send()
        .await
        .expect("patch");
    assert!(r.status().is_success(), "{:?}", r.text().await);

    sb.shared.clear_requests();
    let run = scimbridge(&sb, &["drift", "-c", SCIM11]).await;
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout
            .contains("bob@example.com: userName bob: not in WS1"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("carol@example.com: userName carol: a local user of WS1's System Directory"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Drift: 0 config, 0 token, 2 data flow."),
        "{}",
        run.stdout
    );
    assert_eq!(writes(&sb), Vec::<String>::new());
    let md = scimbridge(&sb, &["drift", "-c", SCIM11, "--format", "markdown"]).await;
    assert_eq!(md.code, 2, "{md:?}");
    assert!(
        md.stdout
            .starts_with("### scimbridge drift for `examples/okta-scim11-custom.yaml`")
    );
    assert!(
        md.stdout.contains("| ❗ | data flow | `bob@example.com` |"),
        "{}",
        md.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_that_cannot_read_exits_1() {
    let sb = seeded().await;
    let mut env = sb.credentials();
    for (name, value) in &mut env {
        if *name == "WS1_CLIENT_SECRET" {
            *value = "wrong".into();
        }
    }
    let run = scimbridge_with(env, &["drift", "-c", SCIM11]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("cannot read live state"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_left_to_expire_is_drift_and_the_next_apply_replaces_it() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    let (_dir, out) = token_out();
    assert_eq!(apply_with(sb.credentials(), SCIM11, &out).await.code, 0);
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "token.confirmed_by"), Some("api"), "{block}");
    // Nobody ran apply for a year and a day.
    sb.clock.advance(Duration::from_secs(366 * DAY));
    let report = scimbridge(&sb, &["drift", "-c", SCIM11, "--format", "json"]).await;
    assert_eq!(report.code, 2, "{report:?}");
    let report: Value = serde_json::from_str(&report.stdout).expect("JSON");
    assert_eq!(report["token"]["state"], "expired");
    let token = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["area"] == "token")
        .expect("a token finding");
    assert!(
        token["message"]
            .as_str()
            .unwrap()
            .contains("WS1 rejects Okta's pushes (HTTP 401) since then"),
        "{token}"
    );
    let run = apply(&sb, &[]).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("the token Okta holds expired"),
        "{}",
        run.stdout
    );
    let report = scimbridge(&sb, &["drift", "-c", SCIM11]).await;
    assert_eq!(report.code, 0, "{report:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scim_secret_the_client_refuses_is_named_at_the_mint() {
    let sb = seeded().await;
    api_supports(&sb, &["scim1testapp"]).await;
    // The SCIM client was made by hand, with a secret the config does not have.
    let admin = format!("Bearer {}", crate::support::ws1_admin_token(&sb).await);
    crate::support::send_ok(
        reqwest::Method::POST,
        &format!("{}/SAAS/jersey/manager/api/oauth2clients", sb.ws1_url),
        &admin,
        Some(
            &json!({"clientId": "okta-scim", "secret": "made-by-hand", "scope": "admin",
            "authGrantTypes": "client_credentials", "accessTokenTTL": 525600}),
        ),
    )
    .await;
    let (_dir, out) = token_out();
    let run = apply_with(sb.credentials(), SCIM11, &out).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "WS1 refused the SCIM client's secret (ws1.scim_client.secret, WS1_SCIM_CLIENT_SECRET in the examples)"
        ),
        "{}",
        run.stdout
    );
}
