//! The fleet a team deploys as it is: the Kubernetes manifests under `deploy/kubernetes` and the
//! CI matrix in `examples/ci/github-drift-fleet.yml`.
//!
//! The manifests are checked offline against Kubernetes 1.33's own API schema as the k8s-openapi
//! crate ships it (generated from the Kubernetes OpenAPI spec): each object is read into its
//! typed form, which checks every known field's type and every required field, and written back,
//! which must give the manifest unchanged, so a misspelt or misplaced field (which the typed
//! reader would skip) fails too. Then they are run: each container's arguments, with its config
//! from the tenant's folder and its secrets by the names the manifest maps, against the
//! sandbox; the probes' paths answer on the port the Service targets, and SIGTERM ends the
//! watcher inside the grace period.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::CronJob;
use k8s_openapi::api::core::v1::{Container, Namespace, PodSpec, Service};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use crate::pipelines::{check_invocation, invocations, scripts, yaml};
use crate::reconcile::{root, scimbridge_with, seeded};
use crate::watch::Watcher;

const KUBE: &str = "deploy/kubernetes";

/// A manifest read as JSON.
fn manifest(path: &str) -> Value {
    serde_json::to_value(yaml(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `value` read as `T` and written back must be `value` itself.
fn round_trips<T: serde::de::DeserializeOwned + serde::Serialize>(path: &str, value: &Value) -> T {
    let typed: T = serde_path_to_error::deserialize(value.clone())
        .unwrap_or_else(|e| panic!("{path}: not a valid object at {}: {}", e.path(), e.inner()));
    let back = serde_json::to_value(&typed).expect("serializes");
    if let Some(at) = first_difference(value, &back, String::new()) {
        panic!("{path}: `{at}` is not a field of this kind (or not where it stands)");
    }
    typed
}

/// The path of the first place where `a` has something `b` does not.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => a.iter().find_map(|(k, v)| match b.get(k) {
            None => Some(format!("{at}.{k}")),
            Some(w) => first_difference(v, w, format!("{at}.{k}")),
        }),
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (v, w))| first_difference(v, w, format!("{at}[{i}]"))),
        _ => (a != b).then_some(at),
    }
}

/// Every Kubernetes object under `deploy/kubernetes`, checked by its kind.
#[derive(Default)]
struct Objects {
    deployments: Vec<Deployment>,
    cronjobs: Vec<CronJob>,
    services: Vec<Service>,
    namespaces: Vec<Namespace>,
}

fn objects() -> Objects {
    let mut found = Objects::default();
    let mut files = Vec::new();
    collect(&root().join(KUBE), &mut files);
    assert!(files.len() >= 8, "{files:?}");
    for file in files {
        let path = file
            .strip_prefix(root())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let value = manifest(&path);
        let kind = value["kind"]
            .as_str()
            .unwrap_or_else(|| panic!("{path}: kind"));
        match (value["apiVersion"].as_str(), kind) {
            (Some("kustomize.config.k8s.io/v1beta1"), "Kustomization") => {
                kustomization(&file, &value)
            }
            (Some("apps/v1"), "Deployment") => found.deployments.push(round_trips(&path, &value)),
            (Some("batch/v1"), "CronJob") => found.cronjobs.push(round_trips(&path, &value)),
            (Some("v1"), "Service") => found.services.push(round_trips(&path, &value)),
            (Some("v1"), "Namespace") => found.namespaces.push(round_trips(&path, &value)),
            other => panic!("{path}: no check for {other:?}"),
        }
    }
    found
}

/// The YAML files under `dir`, but scimbridge configs (which are not Kubernetes objects).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reads") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml")
            && path.file_name().is_some_and(|n| n != "scimbridge.yaml")
        {
            out.push(path);
        }
    }
    out.sort();
}

/// A kustomization names only files and folders that exist, and its generated config is a
/// valid scimbridge config.
fn kustomization(file: &Path, value: &Value) {
    let dir = file.parent().expect("a folder");
    for resource in value["resources"].as_array().expect("resources") {
        let target = dir.join(resource.as_str().expect("a path"));
        assert!(
            target.exists(),
            "{}: {} is missing",
            file.display(),
            target.display()
        );
        if target.is_dir() {
            assert!(
                target.join("kustomization.yaml").exists(),
                "{}",
                target.display()
            );
        }
    }
    for generator in value["configMapGenerator"].as_array().into_iter().flatten() {
        assert_eq!(
            generator["name"], "scimbridge-config",
            "the name the pods mount"
        );
        for name in generator["files"].as_array().expect("files") {
            let config = dir.join(name.as_str().expect("a file"));
            let loaded =
                scimbridge::config::load(&config, scimbridge::config::Strictness::Validate)
                    .expect("reads");
            assert!(
                !loaded.has_errors(),
                "{}: {:?}",
                config.display(),
                loaded.diagnostics
            );
        }
    }
}

/// The pod's only container.
fn container(spec: &PodSpec) -> &Container {
    assert_eq!(spec.containers.len(), 1);
    &spec.containers[0]
}

/// What the pod's security must be under the `restricted` Pod Security Standard.
fn restricted(spec: &PodSpec) {
    let pod = spec.security_context.as_ref().expect("pod securityContext");
    assert_eq!(pod.run_as_non_root, Some(true));
    assert!(
        pod.run_as_user.is_some_and(|u| u != 0),
        "a numeric non-root user"
    );
    let c = container(spec)
        .security_context
        .as_ref()
        .expect("securityContext");
    assert_eq!(c.allow_privilege_escalation, Some(false));
    assert_eq!(c.read_only_root_filesystem, Some(true));
    let drop = c.capabilities.as_ref().and_then(|c| c.drop.clone());
    assert_eq!(drop, Some(vec!["ALL".to_owned()]));
    assert_eq!(spec.automount_service_account_token, Some(false));
}

/// The environment a container's `env` maps, filled with the sandbox's values by variable
/// name; every variable comes from the Secret the docs tell to create.
fn env_of(c: &Container, sandbox: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut env = Vec::new();
    for var in c.env.as_ref().expect("env") {
        let from = var
            .value_from
            .as_ref()
            .and_then(|f| f.secret_key_ref.as_ref());
        assert_eq!(
            from.map(|s| s.name.as_str()),
            Some("scimbridge-credentials"),
            "{} from the Secret",
            var.name
        );
        let (name, value) = sandbox
            .iter()
            .find(|(n, _)| *n == var.name)
            .unwrap_or_else(|| panic!("{} is not one of scimbridge's variables", var.name));
        env.push((*name, value.clone()));
    }
    env
}

/// The tenant's config as the pod would mount it, its tenants swapped for the sandbox's.
fn mounted(tenant: &str, sb: &scimbridge::sandbox::RunningSandbox) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(
        root()
            .join(KUBE)
            .join("tenants")
            .join(tenant)
            .join("scimbridge.yaml"),
    )
    .expect("config");
    let text = text
        .replace(&format!("https://{tenant}.vmwareidentity.com"), &sb.ws1_url)
        .replace(&format!("https://{tenant}.okta.com"), &sb.okta_url);
    std::fs::write(dir.path().join("scimbridge.yaml"), text).expect("write");
    dir
}

/// The container's arguments with the mount path and the listen address made local.
fn local_args(c: &Container, mount: &Path) -> Vec<String> {
    let at = c.volume_mounts.as_ref().expect("mounts")[0]
        .mount_path
        .clone();
    c.args
        .as_ref()
        .expect("args")
        .iter()
        .map(|a| {
            a.replace(&at, &mount.to_string_lossy())
                .replace("0.0.0.0:9184", "127.0.0.1:0")
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_manifests_are_valid_kubernetes_objects_and_run_as_written() {
    let objects = objects();
    assert_eq!(objects.namespaces.len(), 2);
    let sb = seeded().await;
    let sandbox = sb.credentials();

    // The watcher: a Deployment and the Service in front of its metrics.
    let [deployment] = objects.deployments.as_slice() else {
        panic!("one Deployment")
    };
    let spec = deployment.spec.as_ref().expect("spec");
    let pod = spec.template.spec.as_ref().expect("pod");
    restricted(pod);
    assert_eq!(spec.replicas, Some(1));
    let c = container(pod);
    let port = &c.ports.as_ref().expect("ports")[0];
    assert!(
        c.args
            .as_ref()
            .unwrap()
            .contains(&format!("0.0.0.0:{}", port.container_port))
    );
    let [service] = objects.services.as_slice() else {
        panic!("one Service")
    };
    // The Service, the probes and the container all name one port.
    let named = IntOrString::String(port.name.clone().expect("a named port"));
    let service_port = &service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    assert_eq!(service_port.target_port.as_ref(), Some(&named));
    assert!(
        pod.termination_grace_period_seconds.is_some_and(|s| s > 20),
        "longer than watch's grace"
    );
    let probe = |p: &Option<k8s_openapi::api::core::v1::Probe>| {
        let get = p
            .as_ref()
            .and_then(|p| p.http_get.clone())
            .expect("an HTTP probe");
        assert_eq!(get.port, named);
        get.path.expect("a path")
    };
    let (live, ready) = (probe(&c.liveness_probe), probe(&c.readiness_probe));
    let mount = mounted("acme", &sb);
    let args = local_args(c, mount.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let w = Watcher::spawn(&args, env_of(c, &sandbox)).await;
    assert_eq!(w.get(&live).await.0, 200);
    w.until(std::time::Duration::from_secs(10), async |w| {
        w.get(&ready).await.0 == 200
    })
    .await;
    assert_eq!(w.get("/metrics").await.0, 200);
    w.stops_within_a_second().await;

    // The scheduled drift: a CronJob whose Job fails on drift and is never retried.
    let [cronjob] = objects.cronjobs.as_slice() else {
        panic!("one CronJob")
    };
    let spec = cronjob.spec.as_ref().expect("spec");
    assert_eq!(spec.concurrency_policy.as_deref(), Some("Forbid"));
    let job = spec.job_template.spec.as_ref().expect("job");
    assert_eq!(job.backoff_limit, Some(0));
    let pod = job.template.spec.as_ref().expect("pod");
    restricted(pod);
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    let c = container(pod);
    let mount = mounted("globex", &sb);
    let args = local_args(c, mount.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = scimbridge_with(env_of(c, &sandbox), &args).await;
    // Nothing is applied in this sandbox yet: drift, reported as JSON.
    assert_eq!(run.code, 2, "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("the JSON report");
    assert_eq!(report["drift"], true);
}

#[test]
fn a_misplaced_field_fails_the_check() {
    let text = std::fs::read_to_string(root().join(KUBE).join("watch/deployment.yaml")).unwrap();
    let bad = text.replace(
        "      terminationGracePeriodSeconds: 30",
        "      terminationGracePeriod: 30",
    );
    assert_ne!(bad, text);
    let value: Value =
        serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(&bad).unwrap()).unwrap();
    let caught = std::panic::catch_unwind(|| round_trips::<Deployment>("bad.yaml", &value));
    let message = *caught.expect_err("refused").downcast::<String>().unwrap();
    assert!(
        message.contains("`.spec.template.spec.terminationGracePeriod`"),
        "{message}"
    );
    let wrong_type = text.replace("  replicas: 1", "  replicas: one");
    let value: Value =
        serde_json::to_value(serde_yaml::from_str::<serde_yaml::Value>(&wrong_type).unwrap())
            .unwrap();
    assert!(std::panic::catch_unwind(|| round_trips::<Deployment>("bad.yaml", &value)).is_err());
}

#[test]
fn the_ci_matrix_runs_drift_for_every_tenant_pair_with_its_secrets() {
    let file = "examples/ci/github-drift-fleet.yml";
    let w = yaml(file);
    let job = &w["jobs"]["drift"];
    assert_eq!(job["strategy"]["fail-fast"], serde_yaml::Value::Bool(false));
    let matrix: Vec<String> = job["strategy"]["matrix"]["tenant"]
        .as_sequence()
        .expect("a matrix of tenant pairs")
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    let mut tenants: Vec<String> = std::fs::read_dir(root().join(KUBE).join("tenants"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    tenants.sort();
    assert_eq!(matrix, tenants, "one job per tenant pair folder");
    let env = job["env"].as_mapping().expect("env");
    let runs: Vec<String> = job["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|s| scripts(&s["run"]))
        .collect();
    let commands = invocations(&runs.join("\n"), "\"$SCIMBRIDGE_IMAGE\"");
    assert!(commands.iter().any(|c| c[0] == "drift"), "{commands:?}");
    for invocation in &commands {
        check_invocation(invocation, file);
    }
    // Every variable a tenant's config reads is in the job's environment and passed to the
    // container by name.
    let script = runs.join("\n");
    for tenant in &tenants {
        let config = std::fs::read_to_string(
            root()
                .join(KUBE)
                .join("tenants")
                .join(tenant)
                .join("scimbridge.yaml"),
        )
        .unwrap();
        for var in config
            .split("${env:")
            .skip(1)
            .map(|r| r.split('}').next().unwrap())
        {
            assert!(
                env.contains_key(var),
                "{file}: {var} is not in the job's env"
            );
            assert!(
                script.contains(&format!("-e {var}")),
                "{file}: {var} is not passed to docker"
            );
        }
    }
}
