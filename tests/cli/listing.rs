//! `ls`, `projects`, `show`, `compare` and `export` against a daemon with
//! three runs of one sweep and one run of another project.

use std::path::Path;

use tracklab_client::v1::{self, value::Kind};
use tracklab_tests::Daemon;

use crate::support::{Spec, curve, ids, item, json, log_run, ok, rt, tracklab};

fn sweep(dir: &Path) -> Daemon {
    let rt = rt();
    let d = Daemon::start(dir);
    rt.block_on(async {
        for (id, lr, k, tags) in [
            ("lr-small", 0.001, 0.05, &["sweep"][..]),
            ("lr-mid", 0.01, 0.2, &["sweep", "best-guess"][..]),
            ("lr-big", 0.1, 0.1, &["sweep"][..]),
        ] {
            let mut s = Spec::new(id, "mnist");
            s.tags = tags;
            s.config = vec![
                item("lr", Kind::Float(lr)),
                item("optimizer", Kind::Str("adam".into())),
                item("layers", Kind::Int(if id == "lr-big" { 4 } else { 2 })),
            ];
            s.steps = curve(200, k);
            // val/acc: goal and summary from define_metric.
            s.define = vec![v1::MetricDefinition {
                name: "val/acc".into(),
                summary: Some(v1::MetricSummary {
                    max: true,
                    ..Default::default()
                }),
                goal: v1::Goal::Maximize as i32,
                ..Default::default()
            }];
            log_run(d.target(), &s).await;
        }
        let mut other = Spec::new("other-1", "cifar");
        other.steps = curve(10, 1.0);
        other.exit_code = 1;
        log_run(d.target(), &other).await;
    });
    d
}

#[test]
fn ls_filters_sorts_and_limits() {
    let tmp = tempfile::tempdir().unwrap();
    let _d = sweep(tmp.path());
    let all = json(tmp.path(), &["ls", "--sort", "id"]);
    assert_eq!(ids(&all), ["lr-big", "lr-mid", "lr-small", "other-1"]);
    let sel = |args: &[&str]| ids(&json(tmp.path(), args));
    assert_eq!(
        sel(&["ls", "--project", "mnist", "--sort", "config.lr"]),
        ["lr-small", "lr-mid", "lr-big"]
    );
    assert_eq!(
        sel(&["ls", "--filter", "config.lr>=0.01", "--sort", "-config.lr"]),
        ["lr-big", "lr-mid"]
    );
    assert_eq!(sel(&["ls", "--filter", "config.layers = 4"]), ["lr-big"]);
    assert_eq!(
        sel(&["ls", "--filter", "summary.train/loss<0.1", "--sort", "id"]),
        ["lr-big", "lr-mid"]
    );
    assert_eq!(sel(&["ls", "--tag", "best-guess"]), ["lr-mid"]);
    assert_eq!(sel(&["ls", "--state", "failed"]), ["other-1"]);
    assert_eq!(
        sel(&["ls", "--sort", "id", "--limit", "2"]),
        ["lr-big", "lr-mid"]
    );
    // The table: a header and one line per run, with chosen columns.
    let table = ok(
        tmp.path(),
        &[
            "ls",
            "--project",
            "mnist",
            "--columns",
            "config.lr,summary.val/acc.max",
        ],
    );
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("id")
            && lines[0].contains("config.lr")
            && lines[0].contains("val/acc.max"),
        "{table}"
    );
    let projects = json(tmp.path(), &["projects"]);
    assert_eq!(projects[0]["project"], "cifar");
    assert_eq!(projects[1]["runs"], 3);
}

#[test]
fn compare_marks_the_best_run_per_metric() {
    let tmp = tempfile::tempdir().unwrap();
    let _d = sweep(tmp.path());
    let md = ok(
        tmp.path(),
        &[
            "compare",
            "lr-small",
            "lr-mid",
            "lr-big",
            "--metrics",
            "train/loss,val/acc.max",
        ],
    );
    insta::assert_snapshot!("compare_md", md);
    let js = json(tmp.path(), &["compare", "lr-small", "lr-mid", "lr-big"]);
    let metrics = js["metrics"].as_array().unwrap();
    let best = |key: &str| {
        metrics
            .iter()
            .find(|m| m["key"] == key)
            .unwrap_or_else(|| panic!("no {key} in {js}"))["best_run"]
            .clone()
    };
    // Lower loss is better (by its name); val/acc has a define_metric goal.
    assert_eq!(best("train/loss"), "lr-mid");
    assert_eq!(best("val/acc.max"), "lr-mid");
    // Only differing config keys are listed.
    let keys: Vec<&str> = js["config"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["layers", "lr"]);
    let csv = ok(
        tmp.path(),
        &[
            "compare",
            "lr-small",
            "lr-big",
            "--format",
            "csv",
            "--metrics",
            "train/loss",
        ],
    );
    assert!(
        csv.starts_with("section,key,goal,lr-small,lr-big,best_run\n"),
        "{csv}"
    );
    // --goal overrides the name guess only where define_metric is silent.
    let js = json(
        tmp.path(),
        &[
            "compare",
            "lr-small",
            "lr-big",
            "--goal",
            "max",
            "--metrics",
            "val/acc",
        ],
    );
    assert_eq!(js["metrics"][0]["goal"], "max");
}

#[test]
fn show_and_export_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let _d = sweep(tmp.path());
    let page = ok(tmp.path(), &["show", "lr-mi"]);
    for needle in [
        "run        lr-mid \"lr-mid\"",
        "state      finished (exit code 0)",
        "tags       sweep, best-guess",
        "optimizer",
        "val/acc.max",
        "metric definitions",
        "maximize",
        "train/loss",
        "200 rows",
    ] {
        assert!(page.contains(needle), "{needle:?} missing from:\n{page}");
    }
    assert!(
        page.chars().any(|c| ('▁'..='█').contains(&c)),
        "no sparkline:\n{page}"
    );

    let csv = ok(tmp.path(), &["export", "lr-mid", "--keys", "train/loss"]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("run_id,_step,train/loss"));
    assert_eq!(lines.next(), Some("lr-mid,0,2.0"));
    assert_eq!(csv.lines().count(), 201);
    let out = tmp.path().join("out.jsonl");
    let o = tracklab(
        tmp.path(),
        &[
            "export",
            "lr-mid",
            "lr-big",
            "--format",
            "jsonl",
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.code, 0, "{o:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 400);
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["run_id"], "lr-mid");
    assert_eq!(first["_step"], 0);
}
