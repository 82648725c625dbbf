//! `scimbridge validate` as a user sees it: one invalid config per lint and per error class, each
//! run through the real binary, with exit code, stdout and stderr snapshotted.
//!
//! Every case is the valid `BASE` config with one change, so each snapshot shows exactly one
//! mistake and what the tool says about it.

use std::path::Path;
use std::process::Command;

/// A valid config exercising most fields; cases edit it.
pub(crate) const BASE: &str = r#"version: 1
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
    attributes:
      - name: costCenter2
        external_namespace: urn:scim:schemas:extension:workspace:1.0
    mappings:
      costCenter2:
        expression: user.costCenter
    assignments:
      users:
        members: [alice@example.com, bob@example.com]
      groups:
        mode: exact
        members: [Workspace ONE Users]
    group_push: [Workspace ONE Admins]
"#;

/// The environment every case runs with: the three secrets set, nothing else leaking in.
pub(crate) const ENV: &[(&str, &str)] = &[
    ("WS1_CLIENT_SECRET", "canary-ws1-admin-secret"),
    ("WS1_SCIM_CLIENT_SECRET", "canary-scim-secret"),
    ("OKTA_API_TOKEN", "canary-okta-token"),
];

/// Runs `scimbridge <args>` in `dir` with exactly `env`, returning what a user sees.
fn run_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for (_, value) in env {
        assert!(
            !stdout.contains(value) && !stderr.contains(value),
            "a secret leaked"
        );
    }
    format!(
        "exit: {}\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status.code().unwrap_or(-1)
    )
}

/// Validates `yaml` written to `config.yaml` and returns the transcript.
fn validate(yaml: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), yaml).unwrap();
    run_in(dir.path(), &["validate", "-c", "config.yaml"], ENV)
}

/// `BASE` with `from` replaced by `to` (which must occur).
pub(crate) fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "the base config has no `{from}`");
    BASE.replacen(from, to, 1)
}

macro_rules! cases {
    ($($name:ident: $yaml:expr;)*) => {$(
        #[test]
        fn $name() {
            insta::assert_snapshot!(stringify!($name), validate(AsRef::<str>::as_ref(&$yaml)));
        }
    )*};
}

cases! {
    base_is_valid: BASE;
    // Error classes.
    syntax_error: edit("    label: Workspace ONE Access\n", "    label: [Workspace ONE Access\n");
    type_error: edit("mode: exact", "mode: exact\n        removal_cap: many");
    unknown_key_with_suggestion: edit("    label:", "    lable:");
    unknown_key_without_suggestion: edit("  directory:\n", "  directory:\n    colour: blue\n");
    unknown_enum_value: edit("variant: scim11_custom", "variant: scim11_custm");
    missing_field: edit("    label: Workspace ONE Access\n", "");
    bad_reference: edit("${env:OKTA_API_TOKEN}", "${vault:okta/token}");
    embedded_reference: edit("https://acme.okta.com", "https://${env:OKTA_HOST}");
    literal_secret: edit("${env:OKTA_API_TOKEN}", "00aBcD-literal-token-in-git");
    duplicate_yaml_key: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    label: Again\n");
    bad_duration: edit("access_token_ttl: 365d", "access_token_ttl: 1y");
    empty_file: "";
    mapping_with_expression_and_removal: edit("        expression: user.costCenter\n", "        expression: user.costCenter\n        remove: true\n");
    custom_username_without_expression: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    username_format: custom\n");
    // Lints.
    trailing_slash: edit("https://acme.okta.com", "https://acme.okta.com/");
    base_url_trailing_slash: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    provisioning:\n      base_url: https://acme.vmwareidentity.com/SAAS/jersey/manager/api/scim/\n");
    base_url_wrong_path: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    provisioning:\n      base_url: https://acme.vmwareidentity.com/SAAS/jersey/manager/api/scim/Users\n");
    base_url_other_tenant: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    provisioning:\n      base_url: https://other.vmwareidentity.com/SAAS/jersey/manager/api/scim\n");
    plain_http_remote: edit("https://acme.vmwareidentity.com", "http://acme.vmwareidentity.com");
    plain_http_loopback_is_fine: edit("https://acme.vmwareidentity.com", "http://127.0.0.1:8443");
    tenant_url_with_path: edit("https://acme.vmwareidentity.com", "https://acme.vmwareidentity.com/SAAS");
    ttl_at_ws1_default: edit("access_token_ttl: 365d", "access_token_ttl: 3h");
    ttl_shorter_than_rotation_window: edit("access_token_ttl: 365d", "access_token_ttl: 7d");
    namespace_not_a_urn: edit("external_namespace: urn:scim:schemas:extension:workspace:1.0", "external_namespace: workspace");
    namespace_near_miss: edit("external_namespace: urn:scim:schemas:extension:workspace:1.0", "external_namespace: urn:scimschemas:extension:workspace:1.0");
    namespace_tenant_extension_is_fine: edit("external_namespace: urn:scim:schemas:extension:workspace:1.0", "external_namespace: urn:scim:schemas:extension:workspace:tenant:ACME:1.0");
    mapping_to_undefined_attribute: edit("      costCenter2:\n        expression", "      costCentre2:\n        expression");
    required_attribute_unmapped: edit("        external_namespace: urn:scim:schemas:extension:workspace:1.0\n", "        external_namespace: urn:scim:schemas:extension:workspace:1.0\n        required: true\n").replace("      costCenter2:\n        expression: user.costCenter\n", "      costCenter2:\n        remove: true\n");
    group_assigned_and_pushed: edit("group_push: [Workspace ONE Admins]", "group_push: [Workspace ONE Users]");
    duplicate_user: edit("[alice@example.com, bob@example.com]", "[alice@example.com, bob@example.com, Alice@example.com]");
    duplicate_attribute: edit("    mappings:\n", "      - name: costCenter2\n    mappings:\n");
    duplicate_domain: edit("domains: [example.com]", "domains: [example.com, EXAMPLE.com]");
    admin_note_with_marker: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    admin_note: \"Owner: IAM team\\n[scimbridge: managed block, do not edit]\"\n");
    update_users_on_scim11: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    provisioning:\n      update_users: true\n");
    env_unset_is_a_warning: edit("${env:OKTA_API_TOKEN}", "${env:SCIMBRIDGE_TEST_UNSET}");
    file_reference_missing: edit("${env:OKTA_API_TOKEN}", "${file:secrets/okta-token}");
    no_directory_domain: edit("domains: [example.com]", "domains: []");
    reference_in_a_literal_field: edit("name: Okta Users", "name: ${env:DIR_NAME}").replace("label: Workspace ONE Access", "label: ${file:label.txt}");
    okta_template_is_not_a_reference: edit("    label: Workspace ONE Access\n", "    label: Workspace ONE Access\n    username_format: custom\n    username_expression: ${source.login}\n");
    bare_number_duration: edit("access_token_ttl: 365d", "access_token_ttl: 365");
    // A check error (the literal secret) does not hide the lints on other fields.
    several_mistakes_at_once: edit("${env:OKTA_API_TOKEN}", "00aBcD-literal").replace("https://acme.okta.com", "https://acme.okta.com/").replace("access_token_ttl: 365d", "access_token_ttl: 1y");
}

#[test]
fn json_format_lists_diagnostics_with_locations() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.yaml"),
        edit("https://acme.okta.com", "https://acme.okta.com/"),
    )
    .unwrap();
    let transcript = run_in(
        dir.path(),
        &["validate", "-c", "config.yaml", "--format", "json"],
        ENV,
    );
    insta::assert_snapshot!(transcript);
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(run_in(dir.path(), &["validate", "-c", "nope.yaml"], ENV));
}

#[test]
fn a_file_reference_resolves_relative_to_the_config() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("secrets")).unwrap();
    std::fs::write(dir.path().join("secrets/okta-token"), "canary-okta-token\n").unwrap();
    let yaml = edit("${env:OKTA_API_TOKEN}", "${file:secrets/okta-token}");
    std::fs::write(dir.path().join("config.yaml"), yaml).unwrap();
    let transcript = run_in(dir.path(), &["validate", "-c", "config.yaml"], ENV);
    assert!(transcript.starts_with("exit: 0"), "{transcript}");
    assert!(
        transcript.ends_with("config.yaml: valid (0 errors, 0 warnings)\n"),
        "{transcript}"
    );
}

#[test]
fn unset_env_is_an_error_when_values_are_needed() {
    use scimbridge::config::{Strictness, load_str};
    let yaml = edit("${env:OKTA_API_TOKEN}", "${env:SCIMBRIDGE_TEST_UNSET}");
    let loaded = load_str("config.yaml", yaml, ".".into(), Strictness::Resolve);
    let diag = loaded
        .diagnostics
        .iter()
        .find(|d| d.path.to_string() == "okta.api_token")
        .expect("reported");
    assert_eq!(diag.code, "env-unset");
    assert!(diag.is_error());
    assert_eq!((diag.location.line, diag.location.column), (17, 14));
    assert!(loaded.resolve().is_err());
}

#[test]
fn examples_validate_clean() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env = [
        ("WS1_TENANT_URL", "https://acme.vmwareidentity.com"),
        ("WS1_CLIENT_ID", "scimbridge-admin"),
        ("WS1_CLIENT_SECRET", "canary-ws1-admin-secret"),
        ("WS1_SCIM_CLIENT_SECRET", "canary-scim-secret"),
        ("OKTA_ORG_URL", "https://acme.okta.com"),
        ("OKTA_API_TOKEN", "canary-okta-token"),
    ];
    for example in [
        "examples/okta-oin-workspace-one.yaml",
        "examples/okta-scim11-custom.yaml",
    ] {
        let transcript = run_in(root, &["validate", "-c", example], &env);
        assert_eq!(
            transcript,
            format!("exit: 0\n--- stdout\n--- stderr\n{example}: valid (0 errors, 0 warnings)\n")
        );
    }
}

#[test]
fn examples_resolve_to_the_derived_base_urls() {
    // The scim11 example derives the SCIM base URL from the tenant; no env here, so check the model.
    use scimbridge::config::model::BaseUrl;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scim = scimbridge::config::load(
        &root.join("examples/okta-scim11-custom.yaml"),
        scimbridge::config::Strictness::Validate,
    )
    .unwrap();
    let app = &scim.desired.as_ref().unwrap().okta.app;
    assert_eq!(
        app.provisioning.base_url,
        BaseUrl::FromTenant("/SAAS/jersey/manager/api/scim")
    );
    assert!(!app.provisioning.update_users);
    let targets: Vec<_> = app.mappings.iter().map(|m| m.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "displayName",
            "domain",
            "internalUserType",
            "locale",
            "userPrincipalName"
        ]
    );
    let oin = scimbridge::config::load(
        &root.join("examples/okta-oin-workspace-one.yaml"),
        scimbridge::config::Strictness::Validate,
    )
    .unwrap();
    let app = &oin.desired.as_ref().unwrap().okta.app;
    assert_eq!(app.provisioning.base_url, BaseUrl::FromTenant(""));
    assert_eq!(app.mappings.len(), 1);
    assert!(app.attributes.is_empty());
}

#[test]
fn committed_schema_is_what_the_model_generates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/scimbridge.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = scimbridge::config::schema_json();
    if committed != generated && std::env::var_os("SCIMBRIDGE_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    assert!(
        committed == generated,
        "schemas/scimbridge.schema.json is stale: run `SCIMBRIDGE_UPDATE_SCHEMA=1 cargo test --test it committed_schema` and commit it"
    );
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(output.status.success());
    let committed = std::fs::read_to_string(root.join("schemas/scimbridge.schema.json")).unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), committed);
}

#[test]
fn every_schema_property_has_a_description() {
    let schema: serde_json::Value =
        serde_json::from_str(&scimbridge::config::schema_json()).unwrap();
    let mut missing = Vec::new();
    let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
    let objects = std::iter::once(("(root)".to_owned(), schema.clone())).chain(defs);
    for (name, def) in objects {
        if let Some(props) = def["properties"].as_object() {
            for (prop, spec) in props {
                if spec.get("description").is_none() {
                    missing.push(format!("{name}.{prop}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "properties without a description: {missing:?}"
    );
}

#[test]
fn a_trailing_slash_from_a_variable_is_fixed_in_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = edit("https://acme.vmwareidentity.com", "${env:WS1_TENANT_URL}");
    std::fs::write(dir.path().join("config.yaml"), yaml).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(["validate", "-c", "config.yaml"])
        .current_dir(dir.path())
        .env_clear()
        .envs(ENV.iter().copied())
        .env("WS1_TENANT_URL", "https://acme.vmwareidentity.com/")
        .output()
        .expect("the binary runs");
    let transcript = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{transcript}");
    assert!(
        transcript.contains(
            "help: the value comes from the environment variable WS1_TENANT_URL: set it to `https://acme.vmwareidentity.com`"
        ),
        "{transcript}"
    );
    assert!(
        !transcript.contains("help: write `https://acme"),
        "{transcript}"
    );
}
