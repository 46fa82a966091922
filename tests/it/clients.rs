//! The client catalogue (clients/catalogue.yaml) is verified, not asserted: the probes run the
//! pinned client libraries (scripts/clients/install.sh) against the reference endpoint with
//! each deviation switched on, and every claim must be exactly what happens. The checks named
//! as detecting a deviation must be the ones that fail on it.
//!
//! Re-verifying after a library upgrade: bump the pins in clients/, run
//! `scripts/clients/install.sh`, then `LLM_PARITY_UPDATE_CATALOGUE=1 cargo test --test it
//! clients::` rewrites the results (never in CI), and review the diff.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use llm_parity::clients::catalogue::{CATALOGUE_YAML, Catalogue, Status};
use llm_parity::clients::probe::{self, Interpreters, Job, ProbeRun};
use llm_parity::clients::verify::{self, CONTROL};
use llm_parity_reference::{Config, Deviations};

use crate::support::*;

const KEY: &str = "probe-key-for-the-catalogue";

/// The pinned clients installed by scripts/clients/install.sh, or `None` (outside CI: the test
/// says so and does nothing; in CI a missing install is a failure).
fn pinned_clients() -> Option<Interpreters> {
    let cache = std::env::var_os("LLM_PARITY_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/llm-parity")
        });
    let python = cache.join("clients/venv/bin/python");
    let node_modules = cache.join("clients/node/node_modules");
    if python.is_file() && node_modules.is_dir() {
        return Some(Interpreters {
            python,
            node: PathBuf::from("node"),
            node_path: Some(node_modules.into_os_string()),
        });
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the pinned client libraries are not installed: run scripts/clients/install.sh"
    );
    eprintln!(
        "skipped: the pinned client libraries are not installed (scripts/clients/install.sh)"
    );
    None
}

/// Starts the reference endpoint with `deviations` on an ephemeral port; returns its base URL.
async fn reference(deviations: Deviations) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let config = Config {
        deviations,
        api_key: Some(KEY.into()),
        ..Config::default()
    };
    tokio::spawn(llm_parity_reference::serve(listener, config));
    format!("http://127.0.0.1:{port}/v1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_catalogue_is_what_the_pinned_clients_do() {
    let Some(interpreters) = pinned_clients() else {
        return;
    };
    let catalogue = Catalogue::shipped();
    let mut targets = vec![(CONTROL.to_string(), reference(Deviations::NONE).await)];
    for d in &catalogue.deviations {
        let set = Deviations::parse_id(&d.id).unwrap();
        targets.push((d.id.clone(), reference(set).await));
    }
    let models: BTreeMap<String, String> = llm_parity_reference::models()
        .into_iter()
        .map(|(role, id)| (role.to_string(), id))
        .collect();
    let job = Job {
        targets,
        key: Some(KEY.into()),
        models,
        calls: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    probe::write_scripts(dir.path()).unwrap();

    // Two probes at a time: one Python, one Node.
    let mut runs = Vec::new();
    for client in &catalogue.clients {
        let (client, interpreters, job, path) = (
            client.clone(),
            interpreters.clone(),
            job.clone(),
            dir.path().to_path_buf(),
        );
        runs.push(tokio::spawn(async move {
            let run = probe::run(
                &client,
                &interpreters,
                &job,
                &path,
                Duration::from_secs(600),
            )
            .await;
            (client.id, run)
        }));
    }
    let mut updated = catalogue.clone();
    let mut differences = Vec::new();
    for handle in runs {
        let (client, run) = handle.await.unwrap();
        let ProbeRun::Ran {
            versions,
            observations,
        } = run
        else {
            panic!("{client}: the probe did not run: {run:?}");
        };
        assert!(
            observations
                .iter()
                .all(|o| o.status != Status::NotApplicable),
            "{client}: {observations:?}"
        );
        differences.extend(verify::differences(
            &catalogue,
            &client,
            &versions,
            &observations,
        ));
        updated = verify::with_observed(&updated, &client, &versions, &observations);
    }
    if std::env::var_os("LLM_PARITY_UPDATE_CATALOGUE").is_some() && std::env::var_os("CI").is_none()
    {
        std::fs::write(
            repo().join("clients/catalogue.yaml"),
            updated.to_yaml(CATALOGUE_YAML),
        )
        .unwrap();
        eprintln!("clients/catalogue.yaml rewritten from the observations: review the diff");
        return;
    }
    assert!(
        differences.is_empty(),
        "the catalogue no longer matches the clients ({} difference(s)):\n{}",
        differences.len(),
        differences.join("\n")
    );
}

#[tokio::test]
async fn the_detecting_checks_are_the_ones_that_fail_on_each_deviation() {
    let catalogue = Catalogue::shipped();
    let snapshots = tempfile::tempdir().unwrap();
    let mut args = vec![
        "run".to_string(),
        "--snapshots-dir".into(),
        snapshots.path().display().to_string(),
    ];
    for d in &catalogue.deviations {
        args.push("--target".into());
        args.push(format!("reference:deviation={}", d.id));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_cli(&args, &[]).await;
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.report();
    let mut problems = Vec::new();
    for d in &catalogue.deviations {
        let target = format!("reference:deviation={}", d.id);
        let mut fired = vec![false; d.detected_by.len()];
        for r in report["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["target"] == target.as_str())
        {
            if !["fail", "unsupported", "error"].contains(&r["outcome"].as_str().unwrap()) {
                continue;
            }
            let case = format!(
                "{}/{}",
                r["suite"].as_str().unwrap(),
                r["case"].as_str().unwrap()
            );
            for c in r["checks"].as_array().into_iter().flatten() {
                if !["fail", "unsupported", "error"].contains(&c["status"].as_str().unwrap_or("")) {
                    continue;
                }
                let (check, message) = (
                    c["check"].as_str().unwrap_or(""),
                    c["message"].as_str().unwrap_or(""),
                );
                let mut known = false;
                for (i, det) in d.detected_by.iter().enumerate() {
                    if det.matches(&case, check, message) {
                        fired[i] = true;
                        known = true;
                    }
                }
                known |= d
                    .also_fails
                    .iter()
                    .any(|det| det.matches(&case, check, message));
                if !known {
                    problems.push(format!(
                        "{}: {case} fails {check} ({message}), which the catalogue does not name",
                        d.id
                    ));
                }
            }
        }
        for (det, fired) in d.detected_by.iter().zip(fired) {
            if !fired {
                problems.push(format!(
                    "{}: {} `{}` never fails",
                    d.id, det.check, det.reason
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
