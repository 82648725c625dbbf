//! Planner tests as data: desired YAML + live state → rendered plan (snapshots).
//!
//! `CONVERGED` is the live state that matches `DESIRED` exactly; each drift test edits it the way
//! an admin clicking in a console would, and the snapshot shows the plan that must follow. Every
//! plan also passes the plan lint (`plan()` asserts it; `check` calls it again to be explicit).

use scimbridge::config::{Strictness, load_str};
use scimbridge::plan::{self, Settings, render};
use scimbridge::state::Live;
use serde_json::{Value, json};

const DESIRED: &str = r#"version: 1
ws1:
  tenant_url: https://acme.vmwareidentity.com
  credentials:
    client_id: scimbridge-admin
    client_secret: ${env:WS1_CLIENT_SECRET}
  scim_client:
    client_id: okta-scim
    access_token_ttl: 365d
    rotation_window: 30d
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
    admin_note: Owned by the identity team.
    assignments:
      users:
        mode: exact
        members: [alice@example.com]
      groups:
        members: [WS1 Users]
    group_push: [WS1 Admins]
"#;

fn attribute(name: &str) -> Value {
    json!({"title": name, "kind": "string", "external_name": name,
           "external_namespace": "urn:scim:schemas:extension:workspace:1.0",
           "required": true, "scope": "NONE"})
}

/// The live state that matches `DESIRED`: nothing to do.
fn converged() -> Value {
    json!({
        "observed_at": "2026-11-22T12:00:00Z",
        "ws1": {
            "scim_client": {"client_id": "okta-scim", "scope": "admin",
                            "grant_types": "client_credentials", "access_token_ttl": 525600},
            "directory": {"id": "dir-1", "name": "Okta Users", "kind": "OTHER_DIRECTORY",
                          "domains": ["example.com"]}
        },
        "okta": {
            "app": {
                "id": "0oa1", "name": "scim1testapp", "label": "Workspace ONE Access",
                "status": "ACTIVE", "hide_web": true, "hide_mobile": true,
                "username_kind": "BUILT_IN",
                "username_template": "${fn:substringBefore(source.email, \"@\")}",
                "admin_note": "Owned by the identity team.",
                "managed": {"key": "workspace-one", "token": {
                    "client_id": "okta-scim", "minted_at": "2026-06-01T00:00:00Z",
                    "expires_at": "2027-06-01T00:00:00Z", "handover": "confirmed"}},
                "features": ["PUSH_NEW_USERS", "PUSH_USER_DEACTIVATION", "GROUP_PUSH"],
                "capabilities": {"connection_api": false, "features_api": false},
                "attributes": {
                    "internalUserType": attribute("internalUserType"),
                    "userPrincipalName": attribute("userPrincipalName"),
                    "domain": attribute("domain")
                },
                "mapping": {"id": "prm1", "properties": {
                    "userName": {"expression": "appuser.userName", "push_status": "PUSH"},
                    "givenName": {"expression": "user.firstName", "push_status": "PUSH"},
                    "internalUserType": {"expression": "\"PROVISIONED\"", "push_status": "PUSH"},
                    "domain": {"expression": "\"example.com\"", "push_status": "PUSH"},
                    "userPrincipalName": {"expression": "user.login", "push_status": "PUSH"}
                }},
                "users": [{"id": "00u1", "login": "alice@example.com", "scope": "USER",
                           "status": "PROVISIONED", "sync_state": "SYNCHRONIZED"}],
                "groups": [{"id": "00g1", "name": "WS1 Users"}],
                "group_push": [{"id": "gPm1", "source_group_id": "00g2", "status": "ACTIVE"}]
            },
            "users": {"alice@example.com": "00u1"},
            "groups": {"WS1 Users": "00g1", "WS1 Admins": "00g2"}
        }
    })
}

/// `converged()` with the newest token's console handover pending: minted 2026-11-20 with Okta's
/// provisioning `at_mint` (on or off), a previous token expiring at `previous` (if any), and
/// alice last pushed successfully at `last_sync` (if ever).
fn pending(at_mint: Value, previous: Option<&str>, last_sync: Option<&str>) -> Value {
    let mut live = converged();
    let managed = &mut live["okta"]["app"]["managed"];
    managed["token"] = json!({"client_id": "okta-scim", "minted_at": "2026-11-20T00:00:00Z",
        "expires_at": "2027-11-20T00:00:00Z", "handover": "pending", "via": "console",
        "provisioning_at_mint": at_mint, "others_known": true});
    if let Some(expires) = previous {
        managed["previous"] = json!({"client_id": "okta-scim",
            "minted_at": "2025-11-01T00:00:00Z", "expires_at": expires});
    }
    if let Some(at) = last_sync {
        live["okta"]["app"]["users"][0]["last_sync"] = json!(at.replace(".000", ""));
    }
    live
}

/// Empty tenants: only the Okta users and groups the config names exist.
fn empty() -> Value {
    json!({
        "observed_at": "2026-11-22T12:00:00Z",
        "ws1": {},
        "okta": {"users": {"alice@example.com": "00u1"},
                 "groups": {"WS1 Users": "00g1", "WS1 Admins": "00g2"}}
    })
}

fn settings(yaml: &str) -> (scimbridge::config::Desired, Settings) {
    let loaded = load_str(
        "config.yaml",
        yaml.to_owned(),
        ".".into(),
        Strictness::Validate,
    );
    assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
    let desired = loaded.desired.clone().unwrap();
    let settings = Settings {
        config: "config.yaml".into(),
        scim_base_url: match &desired.okta.app.provisioning.base_url {
            scimbridge::config::model::BaseUrl::FromTenant(suffix) => {
                format!("https://acme.vmwareidentity.com{suffix}")
            }
            scimbridge::config::model::BaseUrl::Given(_) => {
                unreachable!("tests derive the base URL")
            }
        },
        secret: Default::default(),
        intent: Default::default(),
    };
    (desired, settings)
}

/// Plans `yaml` against `live` and renders the plan as text (or the planning errors).
fn check(yaml: &str, live: Value) -> String {
    check_with(yaml, live, |_| {})
}

/// `check`, with the settings a run would add (the secret's verdict, the admin's intent).
fn check_with(yaml: &str, live: Value, adjust: impl FnOnce(&mut Settings)) -> String {
    let (desired, mut settings) = settings(yaml);
    adjust(&mut settings);
    let live: Live = serde_json::from_value(live).expect("live state fixture parses");
    match plan::plan(&desired, &settings, &live) {
        Ok(plan) => {
            assert_eq!(plan::lint::check(&plan), vec![]);
            render::render(&plan, render::Format::Text, false)
        }
        Err(problems) => problems.iter().map(|d| d.render(Some(yaml))).collect(),
    }
}

/// `converged()` with one more app user.
fn with_app_user(user: Value) -> Value {
    let mut live = converged();
    live["okta"]["app"]["users"]
        .as_array_mut()
        .unwrap()
        .push(user);
    live
}

/// `converged()` with a JSON pointer set to `value`; the last key may be new.
fn drift(pointer: &str, value: Value) -> Value {
    let mut live = converged();
    let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
    let parent = live
        .pointer_mut(parent)
        .unwrap_or_else(|| panic!("no {parent} in the fixture"));
    match parent {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        _ => panic!("{pointer} is not inside an object or array"),
    }
    live
}

macro_rules! cases {
    ($($name:ident: $yaml:expr, $live:expr;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), check(&$yaml, $live));
        }
    )*};
}

/// A TTL the tenant does not state (ws1-api §4.2: `accessTokenTTL` is optional) plans nothing:
/// a PUT only to set it might revoke the token Okta holds, and would come back every run.
#[test]
fn a_scim_client_ttl_the_tenant_does_not_state_is_not_a_change() {
    let unstated = drift("/ws1/scim_client/access_token_ttl", Value::Null);
    assert_eq!(check(DESIRED, unstated), check(DESIRED, converged()));
}

fn oin() -> String {
    DESIRED
        .replace("variant: scim11_custom", "variant: oin_workspace_one")
        .replace("label: Workspace ONE Access", "label: VMware Workspace ONE")
}

cases! {
    converged_plans_nothing: DESIRED, converged();
    empty_tenants_scim11_plan_every_step: DESIRED, empty();
    empty_tenants_oin_plan_every_step: oin(), empty();
    // Drift, as issue 5 lists it.
    attribute_namespace_edited_in_okta: DESIRED,
        drift("/okta/app/attributes/domain/external_namespace", json!("urn:scim:schemas:extension:workspace:tenant:ACME:1.0"));
    mapping_re_added_is_removed: DESIRED,
        drift("/okta/app/mapping/properties/displayName", json!({"expression": "user.displayName", "push_status": "PUSH"}));
    group_unassigned_additive: DESIRED, drift("/okta/app/groups", json!([]));
    group_unassigned_exact: DESIRED.replace("      groups:\n        members", "      groups:\n        mode: exact\n        members"), drift("/okta/app/groups", json!([]));
    user_added_by_hand_under_exact: DESIRED,
        with_app_user(json!({"id": "00u9", "login": "mallory@example.com", "scope": "USER"}));
    group_derived_user_is_not_removed_under_exact: DESIRED,
        with_app_user(json!({"id": "00u8", "login": "bob@example.com", "scope": "GROUP"}));
    directory_deleted: DESIRED, drift("/ws1/directory", Value::Null);
    scim_client_ttl_changed: DESIRED, drift("/ws1/scim_client/access_token_ttl", json!(180));
    token_inside_rotation_window: DESIRED, drift("/observed_at", json!("2027-05-20T00:00:00Z"));
    token_expired: DESIRED, drift("/observed_at", json!("2027-07-01T00:00:00Z"));
    // Resource and action kinds.
    scim_client_deleted_in_ws1_is_recreated_with_a_new_token: DESIRED, drift("/ws1/scim_client", Value::Null);
    directory_missing_a_domain_is_manual: DESIRED.replace("domains: [example.com]", "domains: [example.com, corp.example.com]"), converged();
    directory_of_another_kind_is_an_error: DESIRED, drift("/ws1/directory/kind", json!("LOCAL_DIRECTORY"));
    app_label_and_icons_changed: DESIRED, {
        let mut live = drift("/okta/app/label", json!("WS1 (old name)"));
        *live.pointer_mut("/okta/app/hide_web").unwrap() = json!(false);
        live
    };
    app_admin_note_edited: DESIRED, drift("/okta/app/admin_note", json!("Owned by the identity team.\nDo not touch.\nTicket IAM-7."));
    app_without_managed_block_is_adopted: DESIRED, drift("/okta/app/managed", Value::Null);
    app_deactivated_is_activated: DESIRED, drift("/okta/app/status", json!("INACTIVE"));
    mapping_expression_edited: DESIRED, drift("/okta/app/mapping/properties/userPrincipalName/expression", json!("user.email"));
    to_app_toggles_drifted_manual: DESIRED, drift("/okta/app/features", json!(["PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES", "PUSH_USER_DEACTIVATION"]));
    to_app_toggles_drifted_with_features_api: DESIRED, {
        let mut live = drift("/okta/app/features", json!(["PUSH_NEW_USERS"]));
        *live.pointer_mut("/okta/app/capabilities/features_api").unwrap() = json!(true);
        live
    };
    handover_pending_and_not_done_asks_again_without_minting: DESIRED, {
        let mut live = drift("/okta/app/managed/token/handover", json!("pending"));
        *live.pointer_mut("/okta/app/features").unwrap() = json!([]);
        live
    };
    handover_pending_is_not_confirmed_by_features_that_may_predate_the_mint: DESIRED, drift("/okta/app/managed/token/handover", json!("pending"));
    handover_pending_is_confirmed_by_features_turned_on_after_the_mint: DESIRED, pending(json!(false), None, None);
    rotation_pending_is_not_confirmed_by_a_push_the_old_token_could_make: DESIRED,
        pending(json!(true), Some("2026-12-01T00:00:00Z"), Some("2026-11-22T11:00:00.000Z"));
    rotation_pending_is_confirmed_by_a_push_after_the_old_token_expired: DESIRED, {
        let mut live = pending(json!(true), Some("2026-11-01T00:00:00Z"), Some("2026-11-22T11:00:00.000Z"));
        live["observed_at"] = json!("2026-11-22T12:00:00Z");
        live
    };
    rotation_pending_of_a_hand_made_setup_is_not_confirmed_by_a_push: DESIRED, {
        let mut live = pending(json!(true), Some("2026-11-01T00:00:00Z"), Some("2026-11-22T11:00:00.000Z"));
        live["okta"]["app"]["managed"]["token"]["others_known"] = json!(false);
        live
    };
    rotation_pending_after_the_old_token_expired_says_provisioning_fails: DESIRED,
        pending(json!(true), Some("2026-11-01T00:00:00Z"), None);
    never_minted_with_connection_api_is_automatic: DESIRED, {
        let mut live = drift("/okta/app/managed/token", Value::Null);
        *live.pointer_mut("/okta/app/capabilities").unwrap() = json!({"connection_api": true, "features_api": true});
        live
    };
    group_push_inactive_is_activated: DESIRED, drift("/okta/app/group_push/0/status", json!("INACTIVE"));
    group_push_missing_is_created: DESIRED, drift("/okta/app/group_push", json!([]));
    unknown_user_and_group_are_errors: DESIRED, {
        let mut live = converged();
        // Neither assigned to the app nor found among Okta's users.
        live["okta"]["app"]["users"] = json!([]);
        live["okta"]["users"] = json!({});
        live["okta"]["groups"] = json!({"WS1 Users": "00g1"});
        live
    };
    an_assigned_user_is_known_by_its_app_user_alone: DESIRED, {
        // The reader looks up only logins the app lacks; alice is found among its users.
        let mut live = converged();
        live["okta"]["users"] = json!({});
        live
    };
    a_group_name_two_okta_groups_share_is_a_problem_not_a_guess: DESIRED, {
        let mut live = converged();
        live["okta"]["groups"] = json!({"WS1 Admins": "00g2"});
        live["okta"]["ambiguous_groups"] = json!({"WS1 Users": ["00g1", "00g7"]});
        live
    };
    two_groups_of_one_name_assigned_by_hand_keep_their_own_addresses:
        DESIRED.replace("      groups:\n        members", "      groups:\n        mode: exact\n        removal_cap: 2\n        members"),
        drift("/okta/app/groups", json!([
            {"id": "00g1", "name": "WS1 Users"},
            {"id": "00g8", "name": "Contractors"},
            {"id": "00g9", "name": "Contractors"}
        ]));
    mapping_change_with_provisioned_users_needs_apply_updates_now: DESIRED,
        drift("/okta/app/mapping/properties/internalUserType/expression", json!("\"LOCAL\""));
}

#[test]
fn the_admin_confirms_a_pending_rotation() {
    let live = pending(json!(true), Some("2026-12-01T00:00:00Z"), None);
    insta::assert_snapshot!(check_with(DESIRED, live, |s| s.intent.confirm_handover = true));
}

#[test]
fn a_changed_secret_recreates_the_client_and_hands_over_a_new_token() {
    insta::assert_snapshot!(check_with(DESIRED, converged(), |s| {
        s.secret = plan::SecretCheck::Differs
    }));
}

#[test]
fn a_reissue_of_a_lost_first_handover_revokes_it_with_the_client() {
    let mut live = pending(json!(false), None, None);
    live["okta"]["app"]["features"] = json!([]);
    insta::assert_snapshot!(check_with(DESIRED, live, |s| s.intent.reissue_token = true));
}

#[test]
fn a_reissue_of_a_lost_rotation_supersedes_it_and_keeps_the_old_token_working() {
    let live = pending(json!(true), Some("2026-12-01T00:00:00Z"), None);
    insta::assert_snapshot!(check_with(DESIRED, live, |s| s.intent.reissue_token = true));
}

#[test]
fn removals_within_the_cap_are_not_hazardous() {
    let yaml = DESIRED.replace(
        "        mode: exact\n",
        "        mode: exact\n        removal_cap: 1\n",
    );
    let live =
        with_app_user(json!({"id": "00u9", "login": "mallory@example.com", "scope": "USER"}));
    let (desired, settings) = settings(&yaml);
    let plan = plan::plan(&desired, &settings, &serde_json::from_value(live).unwrap()).unwrap();
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].hazard, None);
}

#[test]
fn planning_is_deterministic() {
    let (desired, settings) = settings(DESIRED);
    let live: Live = serde_json::from_value(empty()).unwrap();
    let a = plan::plan(&desired, &settings, &live).unwrap();
    let b = plan::plan(&desired, &settings, &live).unwrap();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn json_plan_is_versioned_and_hides_secrets() {
    let (desired, settings) = settings(DESIRED);
    let plan = plan::plan(
        &desired,
        &settings,
        &serde_json::from_value(drift("/ws1/scim_client", Value::Null)).unwrap(),
    )
    .unwrap();
    let json: Value =
        serde_json::from_str(&render::render(&plan, render::Format::Json, false)).unwrap();
    assert_eq!(json["format_version"], 1);
    let secret = json["actions"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "secret")
        .unwrap();
    assert_eq!(secret["new"], json!("sensitive"));
    insta::assert_snapshot!(render::render(&plan, render::Format::Json, false));
}

#[test]
fn markdown_plan_for_pull_requests() {
    let (desired, settings) = settings(DESIRED);
    let plan = plan::plan(
        &desired,
        &settings,
        &serde_json::from_value(empty()).unwrap(),
    )
    .unwrap();
    insta::assert_snapshot!(render::render(&plan, render::Format::Markdown, false));
}

#[test]
fn lint_catches_a_broken_plan() {
    let (desired, settings) = settings(DESIRED);
    let mut plan = plan::plan(
        &desired,
        &settings,
        &serde_json::from_value(empty()).unwrap(),
    )
    .unwrap();
    plan.actions.swap(0, 3);
    plan.actions.push(plan.actions[1].clone());
    let problems: Vec<String> = plan::lint::check(&plan)
        .iter()
        .map(|v| v.problem.clone())
        .collect();
    assert!(
        problems.iter().any(|p| p.contains("same resource")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.contains("out of dependency order")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("not earlier")),
        "{problems:?}"
    );
}

#[test]
fn a_label_fix_does_not_wait_behind_an_unrelated_directory_domain_step() {
    let yaml = DESIRED.replace(
        "domains: [example.com]",
        "domains: [example.com, corp.example.com]",
    );
    let (desired, settings) = settings(&yaml);
    let live = drift("/okta/app/label", json!("WS1 (old name)"));
    let plan = plan::plan(&desired, &settings, &serde_json::from_value(live).unwrap()).unwrap();
    let kinds: Vec<String> = plan
        .actions
        .iter()
        .map(|a| a.resource.to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "ws1.directory[\"Okta Users\"]",
            "okta.app[\"workspace-one\"]"
        ]
    );
    assert_eq!(plan.actions[0].kind, plan::Kind::Manual);
    assert_eq!(plan.actions[1].depends_on, Vec::<usize>::new());
    assert_eq!(
        plan.waiting_on(1, |i| plan.actions[i].kind == plan::Kind::Manual),
        None
    );
}

/// The text of every table cell in `markdown`, as a CommonMark parser with GFM tables reads it.
fn table_cells(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut cells = Vec::new();
    let mut current: Option<String> = None;
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableCell) => current = Some(String::new()),
            Event::End(TagEnd::TableCell) => cells.extend(current.take()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(c) = current.as_mut() {
                    c.push_str(&t);
                }
            }
            _ => {}
        }
    }
    cells
}

#[test]
fn markdown_for_a_10000_user_plan_fits_a_github_comment_and_escapes_names() {
    const WEIRD: &str = "Ops | EU `prod` ";
    let users: Vec<String> = (0..10_000)
        .map(|i| format!("user{i}@example.com"))
        .collect();
    let yaml = DESIRED
        .replace(
            "members: [alice@example.com]",
            &format!("members: [{}]", users.join(", ")),
        )
        .replace("name: Okta Users", &format!("name: {WEIRD:?}"))
        .replace("members: [WS1 Users]", &format!("members: [{WEIRD:?}]"));
    let mut live = empty();
    live["okta"]["users"] = users
        .iter()
        .enumerate()
        .map(|(i, login)| (login.clone(), json!(format!("00u{i}"))))
        .collect::<serde_json::Map<_, _>>()
        .into();
    live["okta"]["groups"][WEIRD] = json!("00g9");
    let (desired, settings) = settings(&yaml);
    let plan = plan::plan(&desired, &settings, &serde_json::from_value(live).unwrap()).unwrap();
    assert!(plan.actions.len() > 10_000);
    let md = render::render(&plan, render::Format::Markdown, false);
    assert!(md.len() < 65_536, "{} characters", md.len());
    assert!(md.contains("more action(s): the full plan is the pipeline's artifact"));
    let cells = table_cells(&md);
    assert!(
        cells.contains(&format!("ws1.directory[{WEIRD:?}]")),
        "the name survives the table whole: {:?}",
        &cells[..cells.len().min(40)]
    );
    // Every row has its five cells: no name broke a row.
    let rows = md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(" | `"))
        .count();
    assert_eq!(cells.len() % 5, 0, "{rows} rows");
    let lines: Vec<&str> = md.lines().collect();
    let excerpt = format!(
        "{}\n[… {} lines …]\n{}",
        lines[..40].join("\n"),
        lines.len() - 55,
        lines[lines.len() - 15..].join("\n")
    );
    insta::assert_snapshot!(excerpt);
}
