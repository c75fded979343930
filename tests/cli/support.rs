//! Running `tracklab` and making test runs.

use std::path::Path;
use std::process::Command;

use serde_json::Value as Json;
use tracklab_client::v1::{self, record::Payload, value::Kind};
use tracklab_client::{Run, RunOptions, Target};
use tracklab_tests::workspace_bin;

/// What one `tracklab` invocation did.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tracklab --data-dir DIR ARGS…`.
pub fn tracklab(dir: &Path, args: &[&str]) -> Out {
    let out = Command::new(workspace_bin("tracklab"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("TRACKLAB_DIR")
        .output()
        .expect("running tracklab");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `tracklab` and expects exit code 0; returns its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = tracklab(dir, args);
    assert_eq!(out.code, 0, "tracklab {args:?} failed: {out:?}");
    out.stdout
}

/// Runs `tracklab --json ARGS…` and parses its output.
pub fn json(dir: &Path, args: &[&str]) -> Json {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let text = ok(dir, &all);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {text}"))
}

/// Ids of a JSON run listing, in order.
pub fn ids(listing: &Json) -> Vec<String> {
    listing
        .as_array()
        .expect("a JSON array of runs")
        .iter()
        .map(|r| r["id"].as_str().expect("run id").to_string())
        .collect()
}

pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn item(key: &str, kind: Kind) -> v1::Item {
    v1::Item {
        path: vec![key.to_string()],
        value: Some(v1::Value { kind: Some(kind) }),
    }
}

/// A test run: config, tags, and per step the metrics to log.
pub struct Spec<'a> {
    pub id: &'a str,
    pub project: &'a str,
    pub name: &'a str,
    pub tags: &'a [&'a str],
    pub config: Vec<v1::Item>,
    pub steps: Vec<Vec<v1::Item>>,
    pub define: Vec<v1::MetricDefinition>,
    pub resume: bool,
    pub exit_code: i32,
}

impl<'a> Spec<'a> {
    pub fn new(id: &'a str, project: &'a str) -> Spec<'a> {
        Spec {
            id,
            project,
            name: id,
            tags: &[],
            config: vec![],
            steps: vec![],
            define: vec![],
            resume: false,
            exit_code: 0,
        }
    }
}

/// Logs a run (or a resumed segment of it) through the daemon and finishes.
pub async fn log_run(target: Target, spec: &Spec<'_>) {
    let opts = RunOptions {
        run_id: spec.id.to_string(),
        start: v1::RunStart {
            project: spec.project.to_string(),
            name: spec.name.to_string(),
            tags: spec.tags.iter().map(|t| t.to_string()).collect(),
            config: spec.config.clone(),
            resume: if spec.resume {
                v1::ResumeMode::ResumeAllow as i32
            } else {
                v1::ResumeMode::ResumeNever as i32
            },
            pid: std::process::id(),
            ..Default::default()
        },
        reconnect_timeout: None,
    };
    let mut run = Run::start(target, opts)
        .await
        .unwrap_or_else(|e| panic!("starting {}: {e}", spec.id));
    for d in &spec.define {
        run.send(Payload::Metric(d.clone())).expect("define_metric");
    }
    for items in &spec.steps {
        run.log(items.clone(), None, None).expect("log");
    }
    run.finish(spec.exit_code)
        .await
        .unwrap_or_else(|e| panic!("finishing {}: {e}", spec.id));
}

/// `loss` and `acc` curves for `n` steps, shaped by `k`.
pub fn curve(n: usize, k: f64) -> Vec<Vec<v1::Item>> {
    (0..n)
        .map(|s| {
            let x = s as f64;
            vec![
                item("train/loss", Kind::Float(2.0 / (1.0 + k * x))),
                item("val/acc", Kind::Float(1.0 - 0.5 / (1.0 + k * x))),
            ]
        })
        .collect()
}

/// Replaces the temporary dir in an output with `[DIR]`.
pub fn redact_dir(text: &str, dir: &Path) -> String {
    text.replace(&dir.display().to_string(), "[DIR]")
}
