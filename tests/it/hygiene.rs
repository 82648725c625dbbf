//! Hygiene rules that hold for the whole source tree.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_module_opens_with_a_doc_paragraph() {
    for file in rust_files(&src()) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.trim_start().starts_with("//!"),
            "{} must open with a `//!` paragraph saying what it owns",
            file.display()
        );
    }
}

#[test]
fn only_the_printer_prints() {
    for file in rust_files(&src()) {
        if file.ends_with("cli/printer.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in ["println!", "eprintln!", "print!(", "eprint!(", "dbg!("] {
            assert!(
                !text.contains(needle),
                "{} uses `{needle}`: all output goes through cli::printer",
                file.display()
            );
        }
    }
}

#[test]
fn environment_is_read_in_one_place() {
    for file in rust_files(&src()) {
        if file.ends_with("src/env.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in ["std::env::var", "use std::env", "std::env::set_var"] {
            assert!(
                !text.contains(needle),
                "{} reads the environment (`{needle}`): use crate::env",
                file.display()
            );
        }
    }
}

/// The sandbox is an independent reading of the vendor APIs: it shares no code with the
/// clients, in either direction (common.md, STYLE.md).
#[test]
fn sandbox_and_clients_do_not_import_each_other() {
    let client_modules = ["providers", "config", "plan", "apply", "state", "secret"];
    for file in rust_files(&src().join("sandbox")) {
        // Comments may name the client modules (to say they are not used); code may not.
        let text: String = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for module in client_modules {
            assert!(
                !text.contains(&format!("crate::{module}")),
                "{} imports crate::{module}: the sandbox must not use client code",
                file.display()
            );
        }
    }
    let client_dirs = ["providers", "config", "plan", "apply", "state"];
    let mut client_files: Vec<PathBuf> = client_dirs
        .iter()
        .map(|d| src().join(d))
        .filter(|d| d.is_dir())
        .flat_map(|d| rust_files(&d))
        .collect();
    client_files.push(src().join("secret.rs"));
    for name in [
        "providers.rs",
        "config.rs",
        "plan.rs",
        "apply.rs",
        "state.rs",
    ] {
        if src().join(name).is_file() {
            client_files.push(src().join(name));
        }
    }
    for file in client_files.iter().filter(|f| f.is_file()) {
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            !text.contains("crate::sandbox") && !text.contains("scimbridge::sandbox"),
            "{} imports the sandbox: the clients must not use sandbox code",
            file.display()
        );
    }
}

#[test]
fn yaml_is_parsed_behind_one_function() {
    // serde_yaml is deprecated upstream: the config's YAML goes through `config::yaml::parse`
    // alone, and the sandbox's seed through `sandbox::control::parse_seed`, so a swap for a
    // maintained fork touches two functions.
    for file in rust_files(&src()) {
        if file.ends_with("config/yaml.rs") || file.ends_with("sandbox/control.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("serde_yaml::"),
            "{} uses serde_yaml: parse YAML through config::yaml::parse",
            file.display()
        );
    }
}
