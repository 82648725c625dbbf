//! Hostile input (issue 17): configs and referenced files made to exhaust memory, hang the
//! reader or smuggle what a diagnostic must not print. Each case runs the real
//! `scimbridge validate` under a watchdog (the process must end; how fast is the bench
//! `benches/hostile_input.rs`'s business, never an assertion here) and checks the exit code, the
//! diagnostic's code and its location.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::config::{BASE, ENV, edit};

/// How long a run may take before the watchdog kills it and fails the test.
const WATCHDOG: Duration = Duration::from_secs(20);

/// What one run showed.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Fails unless the run exited non-zero with an error `code` located at `location`
    /// (`file:line:column`, or a prefix of it).
    fn assert_refused(&self, code: &str, location: &str) {
        let transcript = format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        assert!(
            self.code.is_some_and(|c| c != 0),
            "exit {:?}\n{transcript}",
            self.code
        );
        assert!(
            self.stderr.contains(&format!("error[{code}]")),
            "no `{code}` error\n{transcript}"
        );
        assert!(
            self.stderr.contains(&format!("--> {location}")),
            "not located at {location}\n{transcript}"
        );
    }
}

/// Runs `scimbridge <args>` in `dir` with exactly `env`; kills it and fails after [`WATCHDOG`].
fn run_watched(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`scimbridge {}` did not end within {WATCHDOG:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout"),
        stderr: stderr.join().expect("stderr"),
    }
}

/// Validates `yaml` (bytes, so it may be anything) as `config.yaml` in a fresh folder, after
/// `prepare` has put whatever else the case needs beside it.
fn validate_with(yaml: &[u8], env: &[(&str, &str)], prepare: impl FnOnce(&Path)) -> Run {
    run_with("validate", yaml, env, prepare)
}

/// `scimbridge <command> -c config.yaml` with `yaml` in a fresh folder, as [`validate_with`].
fn run_with(command: &str, yaml: &[u8], env: &[(&str, &str)], prepare: impl FnOnce(&Path)) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.yaml"), yaml).unwrap();
    prepare(dir.path());
    run_watched(dir.path(), &[command, "-c", "config.yaml"], env)
}

/// An empty secret: `validate` warns (a fork's pull request sees secrets as empty strings),
/// `plan` refuses before connecting to anything.
fn assert_empty_secret(yaml: &[u8], env: &[(&str, &str)], prepare: impl Fn(&Path), said: &str) {
    let checked = validate_with(yaml, env, &prepare);
    assert_eq!(checked.code, Some(0), "{}", checked.stderr);
    assert!(
        checked.stderr.contains("warning[empty-secret]"),
        "{}",
        checked.stderr
    );
    let run = run_with("plan", yaml, env, &prepare);
    run.assert_refused("empty-secret", TOKEN_AT);
    assert!(run.stderr.contains(said), "{}", run.stderr);
}

fn validate(yaml: &str) -> Run {
    validate_with(yaml.as_bytes(), ENV, |_| {})
}

/// `BASE` with the Okta API token read from `${file:token}`, which `prepare` creates.
fn validate_token_file(prepare: impl FnOnce(&Path)) -> Run {
    let yaml = edit("${env:OKTA_API_TOKEN}", "${file:token}");
    validate_with(yaml.as_bytes(), ENV, prepare)
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Where `okta.api_token`'s value starts in `BASE`.
const TOKEN_AT: &str = "config.yaml:17:14";

#[test]
fn a_fifo_as_the_config_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join("config.yaml"));
    let run = run_watched(dir.path(), &["validate", "-c", "config.yaml"], ENV);
    run.assert_refused("not-regular-file", "config.yaml:1:1");
    assert!(
        run.stderr.contains("is a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fifo_as_a_file_reference_is_refused_without_waiting() {
    let run = validate_token_file(|dir| mkfifo(&dir.join("token")));
    run.assert_refused("not-regular-file", TOKEN_AT);
    assert!(
        run.stderr.contains("is a FIFO, not a regular file"),
        "{}",
        run.stderr
    );
}

#[test]
fn dev_zero_is_refused_as_config_and_as_file_reference() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_watched(dir.path(), &["validate", "-c", "/dev/zero"], ENV);
    run.assert_refused("not-regular-file", "/dev/zero:1:1");
    let yaml = edit("${env:OKTA_API_TOKEN}", "${file:/dev/zero}");
    validate(&yaml).assert_refused("not-regular-file", TOKEN_AT);
}

#[test]
fn a_sparse_2_gib_secret_file_is_refused_by_its_size() {
    let run = validate_token_file(|dir| {
        let file = std::fs::File::create(dir.join("token")).unwrap();
        file.set_len(2 << 30).unwrap();
    });
    run.assert_refused("too-large", TOKEN_AT);
    assert!(run.stderr.contains("limit of 64 KiB"), "{}", run.stderr);
}

#[test]
fn an_over_size_config_is_refused_by_its_size() {
    let mut yaml = BASE.to_owned();
    let comment = format!("# {}\n", "x".repeat(1021));
    while yaml.len() <= 8 << 20 {
        yaml.push_str(&comment);
    }
    let run = validate(&yaml);
    run.assert_refused("too-large", "config.yaml:1:1");
    assert!(run.stderr.contains("limit of 8 MiB"), "{}", run.stderr);
}

#[test]
fn invalid_utf8_is_located_at_its_first_bad_byte() {
    let mut bytes = edit("label: Workspace ONE", "label: Workspace #ONE").into_bytes();
    let at = bytes
        .iter()
        .position(|&b| b == b'#')
        .expect("BASE has no other `#`");
    bytes[at] = 0xff;
    let run = validate_with(&bytes, ENV, |_| {});
    run.assert_refused("not-utf8", "config.yaml:20:22");
}

#[test]
fn an_empty_env_secret_is_refused_naming_the_variable() {
    for empty in ["", "  \t"] {
        let env: Vec<(&str, &str)> = ENV
            .iter()
            .map(|&(k, v)| (k, if k == "OKTA_API_TOKEN" { empty } else { v }))
            .collect();
        assert_empty_secret(
            BASE.as_bytes(),
            &env,
            |_| {},
            "`${env:OKTA_API_TOKEN}` is empty",
        );
    }
}

#[test]
fn an_empty_file_secret_is_refused_naming_the_file() {
    let yaml = edit("${env:OKTA_API_TOKEN}", "${file:token}");
    assert_empty_secret(
        yaml.as_bytes(),
        ENV,
        |dir| std::fs::write(dir.join("token"), "\n").unwrap(),
        "`${file:token}` is empty",
    );
}

#[test]
fn an_alias_bomb_is_refused_at_the_alias_over_the_limit() {
    // Each anchor aliases the previous one ten times: 10^9 nodes at the ninth ("billion laughs").
    let mut yaml =
        format!("{BASE}lol0: &lol0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let alias = format!("*lol{}", i - 1);
        yaml.push_str(&format!(
            "lol{i}: &lol{i} [{}]\n",
            vec![alias; 10].join(", ")
        ));
    }
    // lol3 holds 11,111 nodes; the aliases of it on lol4's line cross 100,000.
    let line = BASE.lines().count() + 5;
    let run = validate(&yaml);
    run.assert_refused("alias-limit", &format!("config.yaml:{line}:"));
    assert!(
        run.stderr.contains("more than 100000 nodes"),
        "{}",
        run.stderr
    );
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let line = BASE.lines().count() + 1;
    // The root mapping is the first level, so the 128th `- ` (column 255) is one too many.
    for (nest, column) in [("- ", 2 * 127 + 1), ("[", 0)] {
        let yaml = format!("{BASE}deep:\n{}\n", nest.repeat(1_000_000));
        let run = validate(&yaml);
        let at = match column {
            0 => format!("config.yaml:{}:", line + 1),
            c => format!("config.yaml:{}:{c}\n", line + 1),
        };
        run.assert_refused("too-deep", at.trim_end());
        assert!(
            run.stderr.contains("deeper than 128 levels"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_tab_in_indentation_is_located_at_the_tab() {
    let run = validate(&edit("    variant:", "\tvariant:"));
    run.assert_refused("syntax", "config.yaml:19:1");
    // Here saphyr reports the end of `scim11_custom`, on the line before the tab.
    let run = validate(&edit("    label:", "\tlabel:"));
    run.assert_refused("syntax", "config.yaml:20:1");
    assert!(run.stderr.contains("indent with spaces"), "{}", run.stderr);
}

#[test]
fn a_ttl_beyond_what_ws1_holds_is_refused_naming_the_limit() {
    for ttl in ["18446744073709551615m", "2147483648m"] {
        let run = validate(&edit(
            "access_token_ttl: 365d",
            &format!("access_token_ttl: {ttl}"),
        ));
        run.assert_refused("out-of-range", "config.yaml:9:23");
        assert!(run.stderr.contains("2147483647m"), "{}", run.stderr);
        assert!(run.stderr.contains("int32"), "{}", run.stderr);
    }
    let run = validate(&edit(
        "access_token_ttl: 365d",
        "access_token_ttl: 99999999999999999999999w",
    ));
    run.assert_refused("type", "config.yaml:9:23");
    let run = validate(&edit(
        "rotation_window: 30d",
        "rotation_window: 18446744073709551615m",
    ));
    run.assert_refused("out-of-range", "config.yaml:10:22");
    let run = validate(&edit("rotation_window: 30d", "rotation_window: 365d"));
    run.assert_refused("token-ttl", "config.yaml:9:23");
    assert!(
        run.stderr.contains("the same as the rotation window"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_control_character_is_located_and_shown_escaped() {
    let cases = [
        // Escaped in a double-quoted scalar: valid YAML, refused by the check.
        (
            r#"label: "Workspace\e[31m ONE""#,
            "control-character",
            "config.yaml:20:12",
        ),
        (
            r#"name: "Okta\u0085Users""#,
            "control-character",
            "config.yaml:13:11",
        ),
        (
            r#"domains: ["exa\x7fmple.com"]"#,
            "control-character",
            "config.yaml:14:15",
        ),
        // Raw in the file: the excerpt must not print it either.
        (
            "label: Workspace\u{1b}[31m ONE",
            "control-character",
            "config.yaml:20:12",
        ),
    ];
    for (to, code, at) in cases {
        let from = to.split(':').next().unwrap();
        let from = BASE
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{from}:")))
            .unwrap()
            .trim_start();
        let run = validate(&edit(from, to));
        run.assert_refused(code, at);
        assert!(
            !run.stderr.contains(['\u{1b}', '\u{85}', '\u{7f}']),
            "{:?}",
            run.stderr
        );
    }
    let run = validate(&edit(
        "label: Workspace ONE Access",
        r#"label: "Workspace\e ONE""#,
    ));
    assert!(
        run.stderr
            .contains(r"control character \u{1b} at character 10"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_url_password_is_never_printed() {
    let yaml = edit(
        "https://acme.okta.com",
        "http://admin:hunter2pw@acme.okta.com/",
    );
    for format in ["text", "json"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.yaml"), &yaml).unwrap();
        let args = ["validate", "-c", "config.yaml", "--format", format];
        let run = run_watched(dir.path(), &args, ENV);
        assert_ne!(run.code, Some(0));
        assert!(
            !run.stdout.contains("hunter2pw") && !run.stderr.contains("hunter2pw"),
            "the password was printed:\n{}{}",
            run.stdout,
            run.stderr
        );
        if format == "text" {
            run.assert_refused("url-credentials", "config.yaml:16:12");
            run.assert_refused("insecure-url", "config.yaml:16:12");
            run.assert_refused("trailing-slash", "config.yaml:16:12");
            assert!(
                run.stderr.contains("http://admin:***@acme.okta.com/"),
                "{}",
                run.stderr
            );
        }
    }
}
