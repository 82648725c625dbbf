//! Brownfield scenarios (issue 14): each builds on a fresh default-seeded sandbox and is read
//! back through the vendor APIs only, as `scimbridge import` will read it: the app with its
//! renamed label and the admin's note, the attributes, the mappings (the guide's, the removed
//! defaults, the admin's extra one), provisioning on in `features[]`, the token at work in WS1,
//! the assignments and the group push. A second build on the same sandbox fails, naming why.

use reqwest::Method;
use serde_json::{Value, json};

use scimbridge::sandbox::scenario::{self, Built, Scenario};
use scimbridge::sandbox::{RunningSandbox, okta};

use crate::reconcile::seeded;
use crate::support::{get_json, http, ws1_admin_token};

const WORKSPACE: &str = "urn:scim:schemas:extension:workspace:1.0";

async fn okta_get(sb: &RunningSandbox, path: &str) -> Value {
    let auth = format!("SSWS {}", okta::API_TOKEN);
    get_json(&format!("{}{path}", sb.okta_url), &auth).await
}

/// A WS1 admin API read with a fresh token of the sandbox's admin client.
async fn ws1_get(sb: &RunningSandbox, path: &str) -> Value {
    let auth = format!("Bearer {}", ws1_admin_token(sb).await);
    let url = format!("{}/SAAS/jersey/manager/api{path}", sb.ws1_url);
    get_json(&url, &auth).await
}

/// The Okta group's id by exact name.
async fn group_id(sb: &RunningSandbox, name: &str) -> String {
    let groups = okta_get(sb, "/api/v1/groups").await;
    let group = groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["profile"]["name"] == name);
    group.unwrap()["id"].as_str().unwrap().to_string()
}

/// App users by login: (scope, syncState, has an externalId).
async fn app_users(sb: &RunningSandbox, app: &str) -> Vec<(String, String, String, bool)> {
    let users = okta_get(sb, &format!("/api/v1/apps/{app}/users?expand=user")).await;
    let mut out: Vec<_> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            let login = u["_embedded"]["user"]["profile"]["login"].as_str().unwrap();
            (
                login.to_string(),
                u["scope"].as_str().unwrap().to_string(),
                u["syncState"].as_str().unwrap().to_string(),
                u["externalId"].is_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// What both scenarios share: the app as typed and renamed, provisioning on, the client and
/// directory in WS1, the token's facts, the pushed group, and a refused second build.
async fn check_common(sb: &RunningSandbox, built: &Built, features: &[&str]) -> (Value, Value) {
    let app = okta_get(sb, &format!("/api/v1/apps/{}", built.app_id)).await;
    assert_eq!(app["label"], built.label.as_str());
    assert_eq!(app["name"], built.app_name.as_str());
    assert_eq!(app["status"], "ACTIVE");
    assert_eq!(app["visibility"]["hide"], json!({"iOS": true, "web": true}));
    assert_eq!(
        app["credentials"]["userNameTemplate"]["template"],
        "${fn:substringBefore(source.email, \"@\")}"
    );
    let note = app["settings"]["notes"]["admin"].as_str().unwrap();
    assert!(!note.is_empty() && !note.contains("scimbridge"), "{note}");
    assert_eq!(app["features"], json!(features), "{app}");

    let client = ws1_get(sb, &format!("/oauth2clients/{}", built.client_id)).await;
    assert_eq!(client["scope"], "admin");
    assert_eq!(client["authGrantTypes"], "client_credentials");
    assert_eq!(client["accessTokenTTL"], 525_600);
    let dirs = ws1_get(sb, "/connectormanagement/directoryconfigs").await;
    let dir = dirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == built.directory.as_str())
        .expect("the directory");
    assert_eq!(dir["directoryId"], built.directory_id.as_str());
    assert_eq!(dir["type"], "OTHER_DIRECTORY");
    assert_eq!(built.token.client_id, built.client_id);
    assert_eq!(built.token.expires_at - built.token.issued_at, 525_600 * 60);

    // Okta holds the token: every push with it reached WS1's SCIM API and succeeded.
    let scim_users = ws1_get(sb, "/scim/Users?count=100").await;
    let domains: Vec<&str> = scim_users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u[WORKSPACE]["domain"].as_str().unwrap_or("none"))
        .collect();
    assert!(
        !domains.is_empty() && domains.iter().all(|d| *d == built.domain),
        "{domains:?}"
    );
    let scim_calls: Vec<_> = sb
        .shared
        .requests()
        .into_iter()
        .filter(|e| e.service == "ws1" && e.path.contains("/scim/Users"))
        .collect();
    assert!(
        !scim_calls.is_empty() && scim_calls.iter().all(|e| e.status < 300),
        "{scim_calls:?}"
    );

    let pushes = okta_get(
        sb,
        &format!("/api/v1/apps/{}/group-push/mappings", built.app_id),
    )
    .await;
    let pushes = pushes.as_array().unwrap();
    assert_eq!(pushes.len(), built.pushed_groups.len());
    for (push, name) in pushes.iter().zip(&built.pushed_groups) {
        assert_eq!(push["sourceGroupId"], group_id(sb, name).await.as_str());
        assert_eq!(push["status"], "ACTIVE");
        assert!(push["targetGroupId"].is_string(), "{push}");
    }
    let app_groups = okta_get(sb, &format!("/api/v1/apps/{}/groups", built.app_id)).await;
    let mut assigned: Vec<String> = app_groups
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    let mut expected = Vec::new();
    for name in &built.groups {
        expected.push(group_id(sb, name).await);
    }
    assigned.sort();
    expected.sort();
    assert_eq!(assigned, expected);

    // Hand-made setups are not repeatable: the OAuth client id is taken.
    let again = scenario::build(sb, built.scenario.parse().unwrap()).await;
    let err = again.expect_err("a second build fails");
    assert!(
        err.contains(&built.client_id) && err.contains("already exists"),
        "{err}"
    );

    // The admin's own mapping, beside the guide's: the username spelled as the template makes it.
    let mapping = mapping_of(sb, &built.app_id).await;
    assert_eq!(
        mapping["userName"]["expression"],
        "String.substringBefore(user.email, \"@\")"
    );
    (app, mapping)
}

/// The app's Okta user → app user mapping properties.
async fn mapping_of(sb: &RunningSandbox, app: &str) -> Value {
    let list = okta_get(sb, &format!("/api/v1/mappings?targetId={app}")).await;
    let id = list.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    okta_get(sb, &format!("/api/v1/mappings/{id}")).await["properties"].clone()
}

fn user(login: &str, scope: &str) -> (String, String, String, bool) {
    (login.into(), scope.into(), "SYNCHRONIZED".into(), true)
}

#[tokio::test(flavor = "multi_thread")]
async fn brownfield_scim11_reads_back_as_an_admin_built_it() {
    let sb = seeded().await;
    let built = scenario::build(&sb, Scenario::BrownfieldScim11)
        .await
        .unwrap();
    assert_eq!(built.scenario, "brownfield-scim11");
    assert_eq!(
        (built.label.as_str(), built.app_name.as_str()),
        ("Workspace ONE Access", "scim1testapp")
    );
    assert_eq!(
        built.scim_base_url,
        format!("{}/SAAS/jersey/manager/api/scim", sb.ws1_url)
    );
    let (_, mapping) = check_common(
        &sb,
        &built,
        &["PUSH_NEW_USERS", "PUSH_USER_DEACTIVATION", "GROUP_PUSH"],
    )
    .await;

    let schema = okta_get(
        &sb,
        &format!("/api/v1/meta/schemas/apps/{}/default", built.app_id),
    )
    .await;
    let custom = &schema["definitions"]["custom"]["properties"];
    for name in ["internalUserType", "userPrincipalName", "domain"] {
        assert_eq!(custom[name]["externalNamespace"], WORKSPACE, "{name}");
        assert_eq!(custom[name]["externalName"], name);
    }
    assert_eq!(mapping["internalUserType"]["expression"], "\"PROVISIONED\"");
    assert_eq!(mapping["userPrincipalName"]["expression"], "user.login");
    assert_eq!(mapping["domain"]["expression"], "\"example.com\"");
    assert!(
        mapping.get("displayName").is_none() && mapping.get("locale").is_none(),
        "{mapping}"
    );

    assert_eq!(
        app_users(&sb, &built.app_id).await,
        vec![
            user("alice@example.com", "USER"),
            user("bob@example.com", "GROUP"),
            user("carol@example.com", "GROUP"),
        ]
    );
    sb.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn brownfield_oin_reads_back_as_an_admin_built_it() {
    let sb = seeded().await;
    let built = scenario::build(&sb, Scenario::BrownfieldOin).await.unwrap();
    assert_eq!(built.label, "Workspace ONE (IT pilot)");
    assert_eq!(
        (built.client_id.as_str(), built.domain.as_str()),
        ("OktaOIN", "corp.example.com")
    );
    let (app, mapping) = check_common(
        &sb,
        &built,
        &[
            "PUSH_NEW_USERS",
            "PUSH_PROFILE_UPDATES",
            "PUSH_USER_DEACTIVATION",
            "GROUP_PUSH",
        ],
    )
    .await;
    assert_eq!(app["settings"]["app"]["baseUrl"], sb.ws1_url.as_str());

    let schema = okta_get(
        &sb,
        &format!("/api/v1/meta/schemas/apps/{}/default", built.app_id),
    )
    .await;
    assert_eq!(
        schema["definitions"]["custom"]["properties"],
        json!({}),
        "the OIN profile has them"
    );
    assert_eq!(mapping["domain"]["expression"], "\"corp.example.com\"");
    assert_eq!(mapping["displayName"]["expression"], "user.displayName");

    assert_eq!(
        app_users(&sb, &built.app_id).await,
        vec![
            user("dan@corp.example.com", "GROUP"),
            user("erin@corp.example.com", "GROUP")
        ]
    );
    sb.shutdown().await.unwrap();
}

/// The control route builds the same thing and answers it; a wrong name is a 400 naming both.
#[tokio::test(flavor = "multi_thread")]
async fn the_control_route_builds_a_scenario_and_refuses_a_second() {
    let sb = seeded().await;
    let post = |name: &str| {
        http()
            .request(Method::POST, format!("{}/_sandbox/scenario", sb.okta_url))
            .json(&json!({"name": name}))
            .send()
    };
    let r = post("brownfield-oin").await.unwrap();
    assert_eq!(r.status(), 200);
    let built: Built = r.json().await.unwrap();
    assert_eq!(built.scenario, "brownfield-oin");
    let app = okta_get(&sb, &format!("/api/v1/apps/{}", built.app_id)).await;
    assert_eq!(app["label"], built.label.as_str());
    let again = post("brownfield-oin").await.unwrap();
    assert_eq!(again.status(), 400);
    let err = again.text().await.unwrap();
    assert!(
        err.contains("OktaOIN") && err.contains("already exists"),
        "{err}"
    );
    // The other scenario uses other people, names and domain, so both fit on one sandbox.
    assert_eq!(post("brownfield-scim11").await.unwrap().status(), 200);
    let wrong = post("greenfield").await.unwrap();
    assert_eq!(wrong.status(), 400);
    let err = wrong.text().await.unwrap();
    assert!(
        err.contains("brownfield-scim11") && err.contains("brownfield-oin"),
        "{err}"
    );
    sb.shutdown().await.unwrap();
}

/// `scimbridge sandbox --scenario NAME` builds it after start and says so on stderr, without
/// the token; an unknown name is refused before anything starts.
#[tokio::test(flavor = "multi_thread")]
async fn the_sandbox_command_builds_a_scenario_and_says_what_it_made() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["sandbox", "--scenario", "brownfield-scim11"])
        .env_clear()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary runs");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let built = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("built by hand: ") {
                return line;
            }
            seen.push(line);
        }
        panic!("no scenario line in {seen:?}");
    })
    .await
    .expect("the scenario is built within a minute");
    assert!(
        built.contains("brownfield-scim11: Okta app \"Workspace ONE Access\"")
            && built.contains("WS1 client OktaSCIM")
            && built.contains("users: alice@example.com"),
        "{built}"
    );
    assert!(
        !built.contains("eyJ"),
        "the token is never printed: {built}"
    );
    drop(child);

    let wrong = crate::reconcile::scimbridge_with(vec![], &["sandbox", "--scenario", "nope"]).await;
    assert_eq!(wrong.code, 1, "{wrong:?}");
    assert!(wrong.stderr.contains("brownfield-oin"), "{wrong:?}");
}
