//! `scimbridge import` on integrations built by hand (the sandbox's brownfield scenarios): the
//! file it writes validates, matches a snapshot, plans to no change with reads only, is adopted
//! by one write, and a change of one value in it plans exactly that change.

use scimbridge::sandbox::RunningSandbox;
use scimbridge::sandbox::scenario::{self, Built, Scenario};

use crate::reconcile::{Run, normalize, scimbridge, seeded, writes};

/// Builds `scenario` by hand on a fresh sandbox and imports it into `dir/imported.yaml`.
async fn imported(scenario: Scenario, dir: &std::path::Path) -> (RunningSandbox, Built, Run) {
    let sb = seeded().await;
    let built = scenario::build(&sb, scenario).await.expect("scenario");
    sb.shared.clear_requests();
    let run = import(&sb, &built.label, &built, &dir.join("imported.yaml")).await;
    (sb, built, run)
}

/// `scimbridge import` of `built`'s app (by `app`: its label or id) into `out`.
async fn import(sb: &RunningSandbox, app: &str, built: &Built, out: &std::path::Path) -> Run {
    let out = out.to_string_lossy();
    let args = [
        "import",
        "--okta-app",
        app,
        "--ws1-client",
        &built.client_id,
        "--ws1-directory",
        &built.directory,
        "-o",
        &out,
    ];
    scimbridge(sb, &args).await
}

/// The imported file with what varies between runs replaced.
fn shown(text: &str, sb: &RunningSandbox, built: &Built) -> String {
    normalize(text, sb).replace(&built.app_id, "<APP-ID>")
}

async fn check(scenario: Scenario, snapshot: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (sb, built, run) = imported(scenario, dir.path()).await;
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(writes(&sb), Vec::<String>::new(), "import sends reads only");
    let path = dir.path().join("imported.yaml");
    let file = path.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(&path).expect("the file is written");
    insta::assert_snapshot!(snapshot, shown(&text, &sb, &built));
    assert!(
        run.stderr.contains("shows no changes"),
        "the import proves itself: {}",
        run.stderr
    );

    let valid = scimbridge(&sb, &["validate", "-c", &file]).await;
    assert_eq!(valid.code, 0, "{valid:?}");

    sb.shared.clear_requests();
    let plan = scimbridge(&sb, &["plan", "-c", &file, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 0, "no changes: {plan:?}");
    assert!(plan.stdout.contains("1 to adopt"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("did not mint"),
        "the token's state is unknown, and said so: {}",
        plan.stdout
    );
    assert_eq!(writes(&sb), Vec::<String>::new());

    // The first apply adopts the app: one write, of the managed block; then nothing.
    let apply = scimbridge(&sb, &["apply", "-c", &file, "--auto-approve"]).await;
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(
        writes(&sb),
        vec![format!("okta PUT /api/v1/apps/{}", built.app_id)],
        "only the managed block is written"
    );
    sb.shared.clear_requests();
    let again = scimbridge(&sb, &["apply", "-c", &file, "--auto-approve"]).await;
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(writes(&sb), Vec::<String>::new());

    // One value changed in the file plans exactly that change.
    let renamed = text.replacen(
        &format!("label: {}", label_as_written(&text)),
        "label: Workspace ONE (renamed)",
        1,
    );
    assert_ne!(renamed, text);
    std::fs::write(&path, renamed).expect("edit");
    let plan = scimbridge(&sb, &["plan", "-c", &file, "--detailed-exitcode"]).await;
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(
        plan.stdout
            .contains("Plan: 0 to create, 1 to update, 0 to delete, 0 manual."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains(&format!(
            "label  {:?} → \"Workspace ONE (renamed)\"",
            built.label
        )),
        "{}",
        plan.stdout
    );
}

/// The label's value as the file writes it (plain or quoted).
fn label_as_written(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.trim_start().strip_prefix("label: "))
        .expect("a label line")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_made_scim11_setup_imports_to_a_config_that_plans_no_change() {
    check(Scenario::BrownfieldScim11, "brownfield_scim11").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_made_oin_setup_imports_to_a_config_that_plans_no_change() {
    check(Scenario::BrownfieldOin, "brownfield_oin").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_selectors_import_lists_the_candidates_and_writes_nothing() {
    let sb = seeded().await;
    let built = scenario::build(&sb, Scenario::BrownfieldScim11)
        .await
        .expect("scenario");
    sb.shared.clear_requests();
    let run = scimbridge(&sb, &["import", "--ws1-client", &built.client_id]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains(&built.app_id), "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("{:?}", built.directory)),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("--ws1-client"),
        "only what is missing is listed"
    );
    assert!(run.stderr.contains("choose one of each"), "{}", run.stderr);
    assert_eq!(writes(&sb), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_hand_made_setup_on_the_same_tenants_is_named_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = seeded().await;
    let oin = scenario::build(&sb, Scenario::BrownfieldOin)
        .await
        .expect("oin");
    let built = scenario::build(&sb, Scenario::BrownfieldScim11)
        .await
        .expect("scim11");
    let out = dir.path().join("imported.yaml");
    let run = import(&sb, &built.app_id, &built, &out).await;
    assert_eq!(run.code, 0, "{run:?}");
    let note = format!("another Other directory, `{}`", oin.directory);
    assert!(run.stderr.contains(&note), "{}", run.stderr);
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("# NOTE: WS1 has another Other directory"),
        "{text}"
    );
    assert!(
        !text.contains(&oin.label),
        "the other app is not imported: {text}"
    );
}
