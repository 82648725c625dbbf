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
