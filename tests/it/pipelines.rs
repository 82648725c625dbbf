//! The pipelines and the image a team copies as they are (`examples/ci/`, `Dockerfile`): parsed
//! with a real YAML parser, their jobs wired as documented (plan with `--out` on a pull request,
//! the same artifact applied on merge, drift on a schedule), and every scimbridge command and
//! flag they use accepted by this binary's `--help`. The Dockerfile copies only what exists and
//! ends non-root with the binary as its entry point.

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

use crate::reconcile::root;

pub(crate) fn yaml(path: &str) -> Value {
    let text = std::fs::read_to_string(root().join(path)).expect(path);
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"))
}

fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_scimbridge"))
        .args(args)
        .arg("--help")
        .output()
        .expect("runs");
    assert!(out.status.success(), "{args:?} --help");
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// The scimbridge invocations in a shell script: what follows `marker` up to a shell operator,
/// continuation lines joined.
pub(crate) fn invocations(script: &str, marker: &str) -> Vec<Vec<String>> {
    let joined = script.replace("\\\n", " ");
    let mut out = Vec::new();
    for line in joined.lines() {
        let Some((_, rest)) = line.split_once(marker) else {
            continue;
        };
        let words: Vec<String> = rest
            .split_whitespace()
            .take_while(|w| !matches!(*w, ">" | ">>" | "|" | "||" | "&&" | ";"))
            .map(|w| w.trim_matches('"').trim_end_matches(';').to_owned())
            .collect();
        out.push(words);
    }
    out
}

/// Every subcommand and flag of `invocation` exists in this binary.
pub(crate) fn check_invocation(invocation: &[String], file: &str) {
    let sub = invocation
        .first()
        .unwrap_or_else(|| panic!("{file}: empty"));
    assert!(
        help(&[])
            .lines()
            .any(|l| l.trim_start().starts_with(sub.as_str())),
        "{file}: `scimbridge {sub}` is not a command"
    );
    let sub_help = help(&[sub]);
    for word in &invocation[1..] {
        if let Some(flag) = word
            .strip_prefix("--")
            .map(|f| f.split('=').next().unwrap_or(f))
        {
            assert!(
                sub_help.contains(&format!("--{flag}")),
                "{file}: `scimbridge {sub}` has no --{flag}"
            );
        } else if word.starts_with('-') {
            assert!(
                sub_help.contains(&format!("{word},")) || sub_help.contains(&format!("{word} ")),
                "{file}: `scimbridge {sub}` has no {word}"
            );
        }
    }
}

pub(crate) fn scripts(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Sequence(items) => items.iter().map(scripts).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

#[test]
fn the_github_workflow_plans_on_pull_requests_applies_the_artifact_and_checks_drift() {
    let file = "examples/ci/github-actions.yml";
    let w = yaml(file);
    let on = &w["on"];
    assert!(on["pull_request"].is_mapping(), "runs on pull requests");
    assert!(on["schedule"][0]["cron"].is_string(), "runs on a schedule");
    let jobs = w["jobs"].as_mapping().expect("jobs");
    let job = |name: &str| {
        jobs.get(name)
            .unwrap_or_else(|| panic!("{file}: job {name}"))["steps"]
            .as_sequence()
            .expect("steps")
            .clone()
    };
    let all_runs = |name: &str| {
        job(name)
            .iter()
            .map(|s| scripts(&s["run"]))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let commands = |name: &str| invocations(&all_runs(name), "\"$SCIMBRIDGE_IMAGE\"");

    let plan = commands("plan");
    assert_eq!(plan[0][0], "validate");
    assert!(
        plan.iter()
            .any(|c| c[0] == "plan" && c.contains(&"--out".to_owned()))
    );
    let upload = job("plan")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("the plan is uploaded");
    assert_eq!(upload["with"]["path"].as_str(), Some("plan.json"));
    let artifact = upload["with"]["name"].as_str().unwrap().to_owned();
    assert!(
        all_runs("plan").is_empty()
            || job("plan").iter().any(|s| s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/github-script"))),
        "the plan is posted"
    );

    let download = job("apply")
        .into_iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/download-artifact"))
        })
        .expect("the reviewed plan is downloaded");
    assert_eq!(download["with"]["name"].as_str(), Some(artifact.as_str()));
    let apply = commands("apply");
    assert!(
        apply
            .iter()
            .any(|c| c[0] == "apply" && c.get(1).map(String::as_str) == Some("plan.json")),
        "apply applies the artifact: {apply:?}"
    );
    assert!(commands("drift").iter().any(|c| c[0] == "drift"));
    for name in ["plan", "apply", "drift"] {
        for invocation in commands(name) {
            check_invocation(&invocation, file);
        }
    }
}

#[test]
fn the_gitlab_pipeline_plans_on_merge_requests_applies_the_artifact_and_checks_drift() {
    let file = "examples/ci/gitlab-ci.yml";
    let p = yaml(file);
    let stages: Vec<&str> = p["stages"]
        .as_sequence()
        .expect("stages")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(stages, ["validate", "plan", "apply", "drift"]);
    let commands = |job: &str| invocations(&scripts(&p[job]["script"]), "scimbridge ");
    let rule = |job: &str| scripts(&p[job]["rules"][0]["if"]);
    assert!(rule("plan").contains("merge_request_event"));
    assert!(rule("apply").contains("CI_DEFAULT_BRANCH"));
    assert!(rule("drift").contains("schedule"));
    assert!(
        commands("plan")
            .iter()
            .any(|c| c[0] == "plan" && c.contains(&"--out".to_owned()))
    );
    let kept: Vec<&str> = p["plan"]["artifacts"]["paths"]
        .as_sequence()
        .expect("artifacts")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(kept.contains(&"plan.json"));
    assert!(
        commands("apply")
            .iter()
            .any(|c| c[0] == "apply" && c.get(1).map(String::as_str) == Some("plan.json"))
    );
    for job in ["validate", "plan", "apply", "drift"] {
        let found = commands(job);
        assert!(!found.is_empty(), "{file}: {job} runs scimbridge");
        for invocation in found {
            check_invocation(&invocation, file);
        }
    }
}

#[test]
fn the_dockerfile_builds_the_binary_only_and_runs_it_non_root() {
    let text = std::fs::read_to_string(root().join("Dockerfile")).expect("Dockerfile");
    let mut stages = Vec::new();
    let mut last_user = None;
    let mut entrypoint = None;
    for line in text.lines().map(str::trim) {
        let Some((instruction, rest)) = line.split_once(' ') else {
            continue;
        };
        match instruction {
            "FROM" => {
                stages.push(rest.rsplit(' ').next().unwrap_or(rest).to_owned());
                last_user = None;
                entrypoint = None;
            }
            "COPY" if !rest.starts_with("--from") => {
                let parts: Vec<&str> = rest.split_whitespace().collect();
                for source in &parts[..parts.len() - 1] {
                    assert!(
                        Path::new(&root().join(source)).exists(),
                        "the Dockerfile copies {source}, which the repository lacks"
                    );
                }
            }
            "USER" => last_user = Some(rest.to_owned()),
            "ENTRYPOINT" => entrypoint = Some(rest.to_owned()),
            _ => {}
        }
    }
    assert_eq!(stages, ["build", "ci", "runtime"], "multi-stage");
    // Numeric and not 0: Kubernetes' runAsNonRoot verifies only a numeric user.
    let user = last_user.expect("the default image sets a user");
    let uid: u32 = user
        .split(':')
        .next()
        .and_then(|u| u.parse().ok())
        .unwrap_or_else(|| panic!("USER {user} is not numeric"));
    assert_ne!(uid, 0, "{user}");
    assert!(entrypoint.expect("an entry point").contains("scimbridge"));
    let ignored = std::fs::read_to_string(root().join(".dockerignore")).expect(".dockerignore");
    assert!(ignored.lines().any(|l| l.trim() == "target"));
}
