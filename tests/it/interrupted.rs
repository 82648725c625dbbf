//! Runs that are interrupted or overlap, and what the next run makes of them: a run killed
//! between the token file and the managed note, a mint whose answer is lost, and two applies
//! started at once. Every minted token must be held by someone or accounted for in the block.

use scimbridge::sandbox::{Fault, RunningSandbox};

use crate::reconcile::{SCIM11, app_id, console_step, scimbridge, seeded, token_out};
use crate::support::{get_json, send_ok};
use crate::token_life::{line, managed_block, okta_auth};

const TOKEN_PATH: &str = "/SAAS/auth/oauthtoken";

/// A path for the life of the test binary (argument lists borrowed by two runs at once).
fn leak(path: &str) -> &'static str {
    Box::leak(path.to_owned().into_boxed_str())
}

/// Token requests the sandbox saw (the admin client's and the SCIM client's alike).
fn token_requests(sb: &RunningSandbox) -> usize {
    sb.shared
        .requests()
        .iter()
        .filter(|e| e.service == "ws1" && e.method == "POST" && e.path == TOKEN_PATH)
        .count()
}

/// `apply` the SCIM 1.1 example `--auto-approve --token-out FILE`.
async fn apply_to(sb: &RunningSandbox, file: &str) -> crate::reconcile::Run {
    scimbridge(
        sb,
        &["apply", "-c", SCIM11, "--auto-approve", "--token-out", file],
    )
    .await
}

/// Replaces the app's admin note through Okta's API (read-modify-write of the whole app).
async fn set_note(sb: &RunningSandbox, note: &str) {
    let url = format!("{}/api/v1/apps/{}", sb.okta_url, app_id(sb).await);
    let mut app = get_json(&url, &okta_auth()).await;
    app["settings"]["notes"]["admin"] = note.into();
    send_ok(reqwest::Method::PUT, &url, &okta_auth(), Some(&app)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_between_the_token_file_and_the_note_is_taken_up_without_a_mint() {
    let sb = seeded().await;
    let (_dir, out) = token_out();
    let first = apply_to(&sb, &out).await;
    assert_eq!(first.code, 3, "{first:?}");
    let block = managed_block(&sb).await;
    let minted = line(&block, "token.minted_at")
        .expect("recorded")
        .to_owned();
    let expires = line(&block, "token.expires_at")
        .expect("recorded")
        .to_owned();
    // What a kill after the file and before the note leaves: the mint recorded as begun, the
    // token in the file, no token in the block.
    let killed: String = block
        .lines()
        .filter(|l| !l.starts_with("token.") && !l.starts_with("[/scimbridge"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        + &format!(
            "minting.client_id = okta-scim\nminting.started_at = {minted}\nminting.expires_by = {expires}\nminting.file = {out}\n[/scimbridge]"
        );
    set_note(&sb, &killed).await;
    sb.shared.clear_requests();

    let next = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(
        next.code, 3,
        "the console step is still the admin's: {next:?}"
    );
    assert!(
        next.stdout.contains("stopped before recording it"),
        "the plan says what it takes up: {}",
        next.stdout
    );
    assert_eq!(
        token_requests(&sb),
        1,
        "only the admin client's token: nothing minted"
    );
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "token.minted_at"), Some(minted.as_str()));
    assert_eq!(line(&block, "token.handover"), Some("pending"));
    assert_eq!(line(&block, "minting.client_id"), None, "{block}");
    assert_eq!(line(&block, "stray"), None, "nothing unaccounted: {block}");
    // The token taken up is the one the console step uses, and it works.
    let token = std::fs::read_to_string(&out).expect("the file is kept");
    console_step(&sb, &app_id(&sb).await, token.trim(), false).await;
    let done = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(done.code, 0, "{done:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_mint_answer_is_never_asked_again_and_the_next_apply_accounts_for_it() {
    let sb = seeded().await;
    // WS1 issues the SCIM client's token, and the answer is lost on the way back.
    sb.shared.add_fault(Fault {
        service: Some("ws1".into()),
        method: Some("POST".into()),
        path: TOKEN_PATH.into(),
        basic_user: Some("okta-scim".into()),
        lose_answer: 1,
        ..Default::default()
    });
    let (_dir, out) = token_out();
    let first = apply_to(&sb, &out).await;
    assert_eq!(first.code, 1, "{first:?}");
    let shown = format!("{}{}", first.stdout, first.stderr);
    assert!(
        shown.contains("WS1 may have issued a token nobody holds"),
        "the lost answer is said, not retried: {shown}"
    );
    assert!(
        !std::path::Path::new(&out).exists(),
        "no token reached the file"
    );
    let block = managed_block(&sb).await;
    let started = line(&block, "minting.started_at")
        .expect("the mint is on record")
        .to_owned();
    sb.shared.clear_faults();

    let plan = scimbridge(&sb, &["plan", "-c", SCIM11]).await;
    assert!(
        plan.stdout.contains("was never recorded")
            && plan.stdout.contains("it is recorded as a stray"),
        "{}",
        plan.stdout
    );
    let (_dir2, out2) = token_out();
    let second = scimbridge(
        &sb,
        &[
            "apply",
            "-c",
            SCIM11,
            "--auto-approve",
            "--token-out",
            &out2,
        ],
    )
    .await;
    assert_eq!(second.code, 3, "{second:?}");
    let block = managed_block(&sb).await;
    assert!(
        line(&block, "stray").is_some_and(|s| s.contains(&started)),
        "the lost token is accounted for until it expires: {block}"
    );
    assert_eq!(line(&block, "minting.client_id"), None, "{block}");
    assert_eq!(line(&block, "token.handover"), Some("pending"));
}

#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_mint_one_token_and_the_other_refuses_or_finds_nothing_to_do() {
    let sb = seeded().await;
    let (_dir, out) = token_out();
    let first = apply_to(&sb, &out).await;
    assert_eq!(first.code, 3, "{first:?}");
    // Both runs want a fresh token for the pending handover.
    let (_da, a) = token_out();
    let (_db, b) = token_out();
    let args = |file: &'static str| -> Vec<&'static str> {
        vec![
            "apply",
            "-c",
            SCIM11,
            "--auto-approve",
            "--reissue-token",
            "--token-out",
            file,
        ]
    };
    let (args_a, args_b) = (args(leak(&a)), args(leak(&b)));
    let (run_a, run_b) = tokio::join!(scimbridge(&sb, &args_a), scimbridge(&sb, &args_b));
    let files = [&a, &b]
        .iter()
        .filter(|f| std::path::Path::new(f.as_str()).exists())
        .count();
    assert_eq!(files, 1, "one token was minted:\n{run_a:?}\n{run_b:?}");
    let (winner, loser) = if std::path::Path::new(&a).exists() {
        (run_a, run_b)
    } else {
        (run_b, run_a)
    };
    assert_eq!(winner.code, 3, "{winner:?}");
    let said = format!("{}{}", loser.stdout, loser.stderr);
    assert!(
        loser.code == 1
            && (said.contains("holds the app's lease") || said.contains("changed since")),
        "the other run refuses, naming why: {loser:?}"
    );
    let block = managed_block(&sb).await;
    assert_eq!(
        line(&block, "lease"),
        None,
        "the lease was given back: {block}"
    );
    assert_eq!(line(&block, "minting.client_id"), None, "{block}");
    // The first handover's file was given up, so the client was recreated (every earlier token
    // revoked): the winner's token is the only one, and it works.
    assert_eq!(line(&block, "stray"), None, "{block}");
    let winner_file = if std::path::Path::new(&a).exists() {
        &a
    } else {
        &b
    };
    let token = std::fs::read_to_string(winner_file).expect("token");
    console_step(&sb, &app_id(&sb).await, token.trim(), false).await;
    let done = scimbridge(&sb, &["apply", "-c", SCIM11, "--auto-approve"]).await;
    assert_eq!(done.code, 0, "{done:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_first_applies_at_once_make_one_app_and_one_token() {
    let sb = seeded().await;
    let (_da, a) = token_out();
    let (_db, b) = token_out();
    let args = |file: &'static str| -> Vec<&'static str> {
        vec!["apply", "-c", SCIM11, "--auto-approve", "--token-out", file]
    };
    let (args_a, args_b) = (args(leak(&a)), args(leak(&b)));
    let (run_a, run_b) = tokio::join!(scimbridge(&sb, &args_a), scimbridge(&sb, &args_b));
    let exists = |f: &str| std::path::Path::new(f).exists();
    assert_eq!(
        [exists(&a), exists(&b)].iter().filter(|e| **e).count(),
        1,
        "one token was minted:\n{run_a:?}\n{run_b:?}"
    );
    let (winner, loser) = if exists(&a) {
        (run_a, run_b)
    } else {
        (run_b, run_a)
    };
    assert_eq!(winner.code, 3, "{winner:?}");
    let said = format!("{}{}", loser.stdout, loser.stderr);
    assert!(
        loser.code == 1 && said.contains("holds the app's lease"),
        "the other run stops at the app the winner made: {loser:?}"
    );
    let apps = get_json(&format!("{}/api/v1/apps", sb.okta_url), &okta_auth()).await;
    assert_eq!(apps.as_array().map(Vec::len), Some(1), "{apps}");
    let block = managed_block(&sb).await;
    assert_eq!(line(&block, "lease"), None, "{block}");
    assert_eq!(line(&block, "stray"), None, "{block}");
}
