//! Every open point of the references the client depends on, under each reading the sandbox can
//! answer (`/_sandbox/alternatives`): both examples run the whole flow (plan, apply, the console
//! step, apply, a re-apply that writes nothing, the data flow, drift) under each one. A client
//! that silently depends on one reading fails here.

use std::time::Duration;

use scimbridge::sandbox::RunningSandbox;
use serde_json::{Value, json};

use crate::reconcile::{
    OIN, SCIM11, app_id, apply_with, console_step, root, scimbridge, seeded, token_out, writes,
};
use crate::support::http;

/// Sets one switch of the sandbox for this run.
async fn reading(sb: &RunningSandbox, name: &str, value: Value) {
    let r = http()
        .post(format!("{}/_sandbox/alternatives", sb.okta_url))
        .json(&json!({ name: value }))
        .send()
        .await
        .expect("alternatives");
    assert!(r.status().is_success(), "{name}: {:?}", r.text().await);
}

/// The whole flow for `config` (the OIN example when `oin`) under the readings set.
async fn flow(sb: &RunningSandbox, config: &str, oin: bool, users: usize, what: &str) {
    let plan = scimbridge(sb, &["plan", "-c", config, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{what}: plan: {plan:?}");
    let (_dir, out) = token_out();
    let first = apply_with(sb.credentials(), config, &out).await;
    assert_eq!(first.code, 3, "{what}: first apply: {first:?}");
    let token = std::fs::read_to_string(&out).expect("token file");
    console_step(sb, &app_id(sb).await, token.trim(), oin).await;
    let second = scimbridge(sb, &["apply", "-c", config, "--auto-approve"]).await;
    assert_eq!(second.code, 0, "{what}: second apply: {second:?}");
    assert!(
        second
            .stdout
            .contains(&format!("Data flow: all {users} user(s) assigned in Okta")),
        "{what}: {}",
        second.stdout
    );
    sb.shared.clear_requests();
    let again = scimbridge(sb, &["apply", "-c", config, "--auto-approve"]).await;
    assert_eq!(again.code, 0, "{what}: re-apply: {again:?}");
    assert_eq!(
        writes(sb),
        Vec::<String>::new(),
        "{what}: a converged apply writes nothing"
    );
    let drift = scimbridge(sb, &["drift", "-c", config]).await;
    assert_eq!(drift.code, 0, "{what}: drift: {drift:?}");
}

async fn both_examples_under(name: &str, value: Value) {
    for (config, oin, users) in [(SCIM11, false, 3), (OIN, true, 2)] {
        let sb = seeded().await;
        reading(&sb, name, value.clone()).await;
        flow(
            &sb,
            config,
            oin,
            users,
            &format!("{config} with {name} = {value}"),
        )
        .await;
    }
}

macro_rules! readings {
    ($($test:ident: $name:literal = $value:expr;)*) => {$(
        #[tokio::test(flavor = "multi_thread")]
        async fn $test() {
            both_examples_under($name, json!($value)).await;
        }
    )*};
}

readings! {
    defaults_everywhere: "okta.embed_users" = true;
    group_push_refused_before_provisioning: "okta.group_push_before_provisioning" = "refused";
    app_users_without_embedded_users: "okta.embed_users" = false;
    oin_profile_without_domain: "okta.oin_profile_has_domain" = false;
    directory_list_with_domains: "ws1.directory_list_has_domains" = true;
    domain_items_with_links_only: "ws1.domain_items" = "links_only";
    scim_put_accepted: "ws1.scim_put" = "accepted";
    json_media_types_only: "ws1.media_types" = "json_only";
    zero_based_start_index: "ws1.start_index" = "zero_based";
    scim_count_capped: "ws1.max_count" = 1000;
    bad_tokens_answered_403: "ws1.bad_token_status" = 403;
}

/// Queued pushes that show `syncState` DISABLED are waited for: WS1 answers Okta's creates
/// slowly here, so a check that did not wait would find the users missing.
#[tokio::test(flavor = "multi_thread")]
async fn queued_pushes_showing_disabled_are_waited_for() {
    for (config, oin, users) in [(SCIM11, false, 3), (OIN, true, 2)] {
        let sb = seeded().await;
        reading(&sb, "okta.queued_sync_state", json!("DISABLED")).await;
        sb.shared.add_fault(scimbridge::sandbox::Fault {
            service: Some("ws1".into()),
            method: Some("POST".into()),
            path: "/SAAS/jersey/manager/api/scim/Users".into(),
            latency_ms: 400,
            ..Default::default()
        });
        flow(
            &sb,
            config,
            oin,
            users,
            &format!("{config}, queued pushes DISABLED"),
        )
        .await;
    }
}

/// The OIN app's internal name is not documented: one Okta refuses fails the app's create,
/// names the config field to set, and mints no token; with the name set, the flow converges.
#[tokio::test(flavor = "multi_thread")]
async fn another_oin_app_name_is_named_and_no_token_is_minted() {
    let sb = seeded().await;
    reading(&sb, "okta.oin_name", json!("vmware_workspace_one")).await;
    for _ in 0..2 {
        let (_dir, out) = token_out();
        sb.shared.clear_requests();
        let run = apply_with(sb.credentials(), OIN, &out).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stdout
                .contains("set `okta.app.catalog_name` to the internal name"),
            "{}",
            run.stdout
        );
        let minted: Vec<String> = writes(&sb)
            .into_iter()
            .filter(|w| w.contains("/SAAS/auth/oauthtoken"))
            .collect();
        assert_eq!(
            minted,
            Vec::<String>::new(),
            "no token without an app to record it"
        );
        assert!(!std::path::Path::new(&out).exists());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join(OIN)).expect("example");
    let config = dir.path().join("oin.yaml");
    std::fs::write(
        &config,
        text.replace(
            "    variant: oin_workspace_one",
            "    variant: oin_workspace_one\n    catalog_name: vmware_workspace_one",
        ),
    )
    .expect("write");
    flow(&sb, &config.to_string_lossy(), true, 2, "catalog_name set").await;
}

/// A tenant that answers a refused admin token with 403 (not 401): the client drops its cached
/// token and reads again, within one process.
#[tokio::test(flavor = "multi_thread")]
async fn an_expired_admin_token_answered_403_is_renewed() {
    use scimbridge::providers::HttpSettings;
    use scimbridge::providers::ws1::Ws1Client;
    use scimbridge::secret::Secret;
    let sb = seeded().await;
    reading(&sb, "ws1.bad_token_status", json!(403)).await;
    let creds = sb.credentials();
    let get = |n: &str| creds.iter().find(|(k, _)| *k == n).expect(n).1.clone();
    let ws1 = Ws1Client::new(
        &sb.ws1_url,
        &get("WS1_CLIENT_ID"),
        Secret::new(get("WS1_CLIENT_SECRET")),
        HttpSettings::fast(),
    )
    .expect("client");
    assert!(ws1.list_directories().await.is_ok());
    // The tenant's clock passes the cached token's lifetime; this machine's did not.
    sb.clock.advance(Duration::from_secs(2 * 86_400));
    let directories = ws1.list_directories().await.expect("renewed after a 403");
    assert!(!directories.is_empty());
    assert!(ws1.scim_users(None).await.is_ok());
    let refused = sb
        .shared
        .requests()
        .iter()
        .filter(|e| e.status == 403)
        .count();
    assert!(refused >= 1, "the old token was refused with 403");
}

/// A user taken off the app ends inactive in WS1 however Okta deactivates (PATCH, or the custom
/// apps' PUT where WS1 takes it); where WS1 refuses Okta's request, the apply fails naming the
/// user, never "converged" while the user can still sign in.
#[tokio::test(flavor = "multi_thread")]
async fn a_user_taken_off_the_app_ends_inactive_in_ws1_or_is_named() {
    for (verb, put, converges) in [
        ("PATCH", "refused", true),
        ("PUT", "accepted", true),
        ("PUT", "refused", false),
    ] {
        let what = format!("deactivate_verb {verb}, scim_put {put}");
        let sb = seeded().await;
        reading(&sb, "okta.deactivate_verb", json!(verb)).await;
        reading(&sb, "ws1.scim_put", json!(put)).await;
        crate::reconcile::api_supports(&sb, &["scim1testapp"]).await;
        let (_dir, out) = token_out();
        let first = apply_with(sb.credentials(), SCIM11, &out).await;
        assert_eq!(first.code, 0, "{what}: {first:?}");
        assert!(ws1_active(&sb, "alice").await, "{what}");

        let dir = tempfile::tempdir().expect("tempdir");
        let text = std::fs::read_to_string(root().join(SCIM11)).expect("example");
        let from = "users:\n        members: [alice@example.com]";
        assert!(text.contains(from));
        let config = dir.path().join("config.yaml");
        std::fs::write(
            &config,
            text.replace(from, "users:\n        mode: exact\n        members: []"),
        )
        .expect("write");
        let config = config.to_string_lossy().into_owned();
        let run = scimbridge(
            &sb,
            &[
                "apply",
                "-c",
                &config,
                "--auto-approve",
                "--allow-destroy",
                "--wait",
                "5",
            ],
        )
        .await;
        if converges {
            assert_eq!(run.code, 0, "{what}: {run:?}");
            assert!(!ws1_active(&sb, "alice").await, "{what}");
        } else {
            assert_eq!(run.code, 1, "{what}: {run:?}");
            assert!(ws1_active(&sb, "alice").await, "{what}");
            assert!(
                run.stdout.contains(
                    "alice@example.com (userName alice): unassigned in Okta but still active in WS1: Okta's deactivation has not arrived"
                ),
                "{what}: {}",
                run.stdout
            );
        }
    }
}

/// Whether WS1 holds `user_name` as an active user.
async fn ws1_active(sb: &RunningSandbox, user_name: &str) -> bool {
    let auth = format!("Bearer {}", crate::support::ws1_admin_token(sb).await);
    let filter = format!("userName eq \"{user_name}\"");
    let url = reqwest::Url::parse_with_params(
        &format!("{}/SAAS/jersey/manager/api/scim/Users", sb.ws1_url),
        &[("filter", filter.as_str())],
    )
    .expect("url");
    let list = crate::support::get_json(url.as_str(), &auth).await;
    list["Resources"][0]["active"].as_bool().unwrap_or(true)
        && list["Resources"].as_array().is_some_and(|r| r.len() == 1)
}
