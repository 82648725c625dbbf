//! Environments from one repo: a base config and per-environment overlays (`-e NAME`,
//! `--overlay FILE`), merged before validation. What the merge keeps and replaces, that every
//! diagnostic points into the file that set the value (from the YAML reader, the model and the
//! planner against the sandbox), and that a saved plan remembers its overlays.

use std::path::{Path, PathBuf};

use scimbridge::config::{self, Selection, Strictness};

use crate::reconcile::{root, scimbridge, seeded, writes};

const BASE: &str = "examples/environments/scimbridge.yaml";

/// The example's three files copied into a fresh folder, the prod overlay edited by `edit`.
fn copied(edit: impl Fn(String) -> String) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    for name in [
        "scimbridge.yaml",
        "scimbridge.dev.yaml",
        "scimbridge.prod.yaml",
    ] {
        let text = std::fs::read_to_string(root().join("examples/environments").join(name))
            .expect("example");
        let text = if name == "scimbridge.prod.yaml" {
            edit(text)
        } else {
            text
        };
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let base = dir.path().join("scimbridge.yaml");
    let prod = dir.path().join("scimbridge.prod.yaml");
    (dir, base, prod)
}

/// The 1-based line of `needle` in `file`.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).expect("read");
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} in {}", file.display()))
}

#[test]
fn the_prod_overlay_changes_what_it_names_and_keeps_the_rest() {
    let base = root().join(BASE);
    let load = |env: Option<&str>| {
        let mut selection = Selection::single(&base);
        if let Some(env) = env {
            selection
                .overlays
                .push(Selection::environment_file(&base, env));
        }
        let loaded = config::load_selection(&selection, Strictness::Validate).expect("loads");
        assert!(!loaded.has_errors(), "{:?}", loaded.diagnostics);
        loaded
    };
    let members = |l: &config::Loaded| -> (Vec<String>, Vec<String>) {
        let app = &l.desired.as_ref().unwrap().okta.app;
        (
            app.users
                .members
                .iter()
                .map(|m| m.value.to_string())
                .collect(),
            app.groups
                .members
                .iter()
                .map(|m| m.value.to_string())
                .collect(),
        )
    };
    let plain = load(None);
    let prod = load(Some("prod"));
    let (p, d) = (
        prod.desired.as_ref().unwrap(),
        plain.desired.as_ref().unwrap(),
    );
    assert_eq!(d.okta.app.label, "Workspace ONE Access");
    assert_eq!(p.okta.app.label, "Workspace ONE Access (prod)");
    assert_eq!(
        members(&prod),
        (
            vec!["alice@example.com".into(), "dan@corp.example.com".into()],
            vec!["Workspace ONE Users".into(), "Everyone in IT".into()]
        )
    );
    // Merged key by key: the base's siblings of what prod changes are kept.
    assert_eq!(p.ws1.scim_client.client_id, d.ws1.scim_client.client_id);
    assert_eq!(p.ws1.scim_client.rotation_window.0, 60 * 24 * 60);
    assert_eq!(
        p.ws1.scim_client.access_token_ttl,
        d.ws1.scim_client.access_token_ttl
    );
    assert_eq!(p.okta.app.groups.mode, d.okta.app.groups.mode);
    assert_eq!(p.okta.app.group_push.len(), 1);
    // The objects prod set are located in prod's file, the rest in the base's.
    assert!(
        p.okta.app.users.members[1]
            .at
            .file
            .ends_with("scimbridge.prod.yaml")
    );
    assert!(p.ws1.directory.at.file.ends_with("scimbridge.yaml"));
    // Dev empties the push list and makes groups additive.
    let dev = load(Some("dev"));
    let dev = &dev.desired.as_ref().unwrap().okta.app;
    assert_eq!(dev.label, "Workspace ONE Access (dev)");
    assert!(dev.group_push.is_empty());
    assert_ne!(dev.groups.mode, p.okta.app.groups.mode);
}

#[test]
fn a_null_in_an_overlay_removes_the_field() {
    let (_dir, base, prod) =
        copied(|t| t.replace("    label:", "    admin_note: null\n    label:"));
    let mut selection = Selection::single(&base);
    selection.overlays.push(prod);
    let loaded = config::load_selection(&selection, Strictness::Validate).expect("loads");
    assert_eq!(loaded.desired.as_ref().unwrap().okta.app.admin_note, None);
}

#[test]
fn validate_points_into_the_overlay_that_set_the_value() {
    let (_dir, base, prod) = copied(|t| {
        t.replace(
            "        members: [alice@example.com, dan@corp.example.com]",
            "        members: [alice@example.com, dan@corp.example.com]\n        mode: exactly",
        )
    });
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["validate", "-c", &base.to_string_lossy(), "-e", "prod"])
        .env_clear()
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    let line = line_of(&prod, "mode: exactly");
    assert!(
        stderr.contains(&format!(
            "error[type]: okta.app.assignments.users.mode: unknown value `exactly`\n  --> {}:{line}:15\n",
            prod.display()
        )),
        "{stderr}"
    );
    // The excerpt is the overlay's line, not the base's line of the same number.
    assert!(
        stderr.contains(&format!("{line} |         mode: exactly")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{} + {}: invalid", base.display(), prod.display())),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_with_an_environment_plans_its_values_and_locates_its_problems() {
    let sb = seeded().await;
    let run = scimbridge(&sb, &["plan", "-c", BASE, "-e", "prod"]).await;
    assert_eq!(run.code, 0, "{run:?}");
    for shown in [
        "Workspace ONE Access (prod)",
        "dan@corp.example.com",
        "Everyone in IT",
        "corp.example.com",
    ] {
        assert!(run.stdout.contains(shown), "{shown} in {}", run.stdout);
    }
    assert!(!run.stdout.contains("bob@example.com"), "{}", run.stdout);
    let dev = scimbridge(&sb, &["plan", "-c", BASE, "-e", "dev"]).await;
    assert!(dev.stdout.contains("Workspace ONE Access (dev)"), "{dev:?}");
    assert!(dev.stdout.contains("bob@example.com"), "{dev:?}");
    assert_eq!(writes(&sb), Vec::<String>::new(), "plan only reads");

    // A member Okta lacks, named in the overlay: the planner's problem points there.
    let (_dir, base, prod) = copied(|t| t.replace("dan@corp.example.com", "nobody@example.com"));
    let run = scimbridge(&sb, &["plan", "-c", &base.to_string_lossy(), "-e", "prod"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    let line = line_of(&prod, "nobody@example.com");
    assert!(
        run.stderr
            .contains(&format!("--> {}:{line}:", prod.display())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nobody@example.com"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_remembers_its_overlays_and_refuses_when_one_changed() {
    let sb = seeded().await;
    let (dir, base, prod) = copied(|t| t);
    let out = dir.path().join("plan.json");
    let (base_s, out_s) = (base.to_string_lossy(), out.to_string_lossy());
    let run = scimbridge(&sb, &["plan", "-c", &base_s, "-e", "prod", "--out", &out_s]).await;
    assert_eq!(run.code, 0, "{run:?}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        saved["config"]["overlays"],
        serde_json::json!([prod.to_string_lossy()])
    );
    let text = std::fs::read_to_string(&prod).unwrap();
    std::fs::write(&prod, text.replace("(prod)", "(production)")).unwrap();
    let refused = async |args: &[&str], why: String| {
        let run = scimbridge(&sb, args).await;
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains(&why), "{why} in {}", run.stderr);
    };
    let prod_s = prod.display();
    refused(
        &["apply", &out_s, "--auto-approve"],
        format!("the config {base_s} with {prod_s}: its content is not the one planned"),
    )
    .await;
    // Without the overlay, the plan's files are not the ones given.
    refused(
        &["apply", &out_s, "-c", &base_s, "--auto-approve"],
        format!("the overlays: planned with {prod_s}, given now none"),
    )
    .await;
    assert_eq!(
        writes(&sb),
        Vec::<String>::new(),
        "refused before any write"
    );
}
