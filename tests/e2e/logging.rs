//! Logging through the daemon and reading it back: history, summary, config,
//! steps, warnings, resume, rebuild, one daemon per data dir, shutdown.

use tracklab_client::v1::record::Payload;
use tracklab_client::v1::{
    self, FlushRequest, HistoryRequest, ListRunsRequest, RebuildRequest, StatusRequest,
};
use tracklab_client::{Run, float, item};
use tracklab_tests::Daemon;

use crate::support::{get_run, series, start, start_opts, summary_value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_run_reads_back_with_history_summary_config_and_state() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut opts = start_opts("run-a", "proj");
    opts.start.config = vec![
        float("lr", 0.01),
        item("opt", v1::value::Kind::Str("adam".into())),
    ];
    opts.start.tags = vec!["baseline".into()];
    let mut run = Run::start(d.target(), opts).await.unwrap();
    for step in 0..500 {
        run.log(
            vec![
                float("loss", 1.0 / (step + 1) as f64),
                float("acc", step as f64 / 500.0),
            ],
            None,
            None,
        )
        .unwrap();
    }
    run.log(
        vec![
            float("nan_metric", f64::NAN),
            float("inf_metric", f64::INFINITY),
        ],
        None,
        None,
    )
    .unwrap();
    run.finish(0).await.unwrap();

    let conn = d.connect().await;
    let info = get_run(&conn, "run-a").await;
    assert_eq!(info.project, "proj");
    assert_eq!(info.state, v1::RunState::Finished as i32);
    assert_eq!(info.tags, vec!["baseline".to_string()]);
    assert_eq!(info.history_rows, 501);
    let loss = series(&conn, "run-a", "loss").await;
    assert_eq!(loss.len(), 500);
    assert!(
        loss.iter()
            .enumerate()
            .all(|(i, (s, v))| *s == i as i64 && *v == 1.0 / (i + 1) as f64)
    );
    assert_eq!(
        summary_value(&info, "loss"),
        Some(v1::value::Kind::Float(1.0 / 500.0))
    );
    match summary_value(&info, "nan_metric") {
        Some(v1::value::Kind::Float(f)) => assert!(f.is_nan()),
        other => panic!("NaN did not round-trip: {other:?}"),
    }
    assert_eq!(
        summary_value(&info, "inf_metric"),
        Some(v1::value::Kind::Float(f64::INFINITY))
    );
    assert!(info.config.iter().any(|i| i.path == ["lr"]));

    // Downsampling on the server keeps the budget and both ends.
    let ds = conn
        .query()
        .history(HistoryRequest {
            run_id: "run-a".into(),
            keys: vec!["loss".into()],
            max_points: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let s = &ds.series[0];
    assert_eq!(s.floats.len(), s.steps.len(), "a float series comes packed");
    assert!(
        s.steps.len() <= 50 && s.steps.len() >= 10,
        "{}",
        s.steps.len()
    );
    assert_eq!((s.steps[0], *s.steps.last().unwrap()), (0, 499));
    assert_eq!(s.total_points, 500);

    // Listing with filters on project, state, tags, config and summary.
    let list = |req: ListRunsRequest| {
        let conn = conn.clone();
        async move { conn.query().list_runs(req).await.unwrap().into_inner().runs }
    };
    assert_eq!(
        list(ListRunsRequest {
            project: "proj".into(),
            ..Default::default()
        })
        .await
        .len(),
        1
    );
    assert_eq!(
        list(ListRunsRequest {
            project: "other".into(),
            ..Default::default()
        })
        .await
        .len(),
        0
    );
    let f = |field: &str, op: v1::FilterOp, x: f64| v1::Filter {
        field: field.into(),
        op: op as i32,
        value: Some(v1::Value {
            kind: Some(v1::value::Kind::Float(x)),
        }),
    };
    let hit = list(ListRunsRequest {
        tags: vec!["baseline".into()],
        state: v1::RunState::Finished as i32,
        filters: vec![
            f("config.lr", v1::FilterOp::Lt, 0.1),
            f("summary.loss", v1::FilterOp::Le, 0.01),
        ],
        ..Default::default()
    })
    .await;
    assert_eq!(hit.len(), 1);
    let miss = list(ListRunsRequest {
        filters: vec![f("config.lr", v1::FilterOp::Gt, 0.1)],
        ..Default::default()
    })
    .await;
    assert!(miss.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_lower_than_the_current_one_is_dropped_and_the_writer_is_told() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut run = start(d.target(), "steps").await;
    run.log(vec![float("x", 1.0)], Some(5), None).unwrap();
    run.log(vec![float("x", 2.0)], Some(6), None).unwrap();
    run.log(vec![float("x", 3.0)], Some(3), None).unwrap();
    let report = run.finish(0).await.unwrap();
    let conn = d.connect().await;
    let info = get_run(&conn, "steps").await;
    assert_eq!(info.dropped_steps, 1);
    assert_eq!(series(&conn, "steps", "x").await, vec![(5, 1.0), (6, 2.0)]);
    // The warning reaches the client on its stream before finish returns,
    // or is at least recorded on the run.
    assert!(
        report.warnings.iter().any(|w| w.kind == "step_dropped")
            || info.warnings.iter().any(|w| w.contains('3')),
        "warnings: {:?} / {:?}",
        report.warnings,
        info.warnings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_run_continues_its_steps_and_a_rebuild_answers_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut run = start(d.target(), "res").await;
    for i in 0..10 {
        run.log(vec![float("m", i as f64)], None, None).unwrap();
    }
    run.finish(0).await.unwrap();

    let mut opts = start_opts("res", "e2e");
    opts.start.resume = v1::ResumeMode::ResumeAllow as i32;
    let mut run = Run::start(d.target(), opts).await.unwrap();
    for i in 10..15 {
        run.log(vec![float("m", i as f64)], None, None).unwrap();
    }
    run.send(Payload::Summary(v1::SummaryUpdate {
        update: vec![float("best", 42.0)],
        remove: vec![],
    }))
    .unwrap();
    run.finish(0).await.unwrap();

    let conn = d.connect().await;
    let before = get_run(&conn, "res").await;
    assert!(before.resumed);
    let m = series(&conn, "res", "m").await;
    assert_eq!(m, (0..15).map(|i| (i, i as f64)).collect::<Vec<_>>());

    // A second start without resume is refused.
    let err = Run::start(d.target(), start_opts("res", "e2e"))
        .await
        .err()
        .expect("duplicate run id is refused");
    assert!(err.to_string().contains("already exists"), "{err}");

    let rebuilt = conn
        .admin()
        .rebuild(RebuildRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        rebuilt.runs >= 1 && rebuilt.problems.is_empty(),
        "{rebuilt:?}"
    );
    let after = get_run(&conn, "res").await;
    assert_eq!(before, after);
    assert_eq!(series(&conn, "res", "m").await, m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_data_dir_says_where_the_first_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let err = Daemon::try_start(tmp.path(), &[])
        .err()
        .expect("second daemon must not start");
    assert!(err.contains("already running"), "{err}");
    assert!(err.contains(&d.pid().to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_daemon_cleanly_and_a_restart_keeps_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut run = start(d.target(), "term").await;
    for i in 0..100 {
        run.log(vec![float("v", i as f64)], None, None).unwrap();
    }
    run.finish(0).await.unwrap();
    let conn = d.connect().await;
    conn.admin().flush(FlushRequest {}).await.unwrap();
    let status = d.terminate();
    assert!(status.success(), "daemon exited with {status}");
    assert!(!tmp.path().join("daemon.json").exists());

    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    let st = conn
        .admin()
        .status(StatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(st.healthy, "{st:?}");
    assert_eq!(st.runs, 1);
    assert_eq!(series(&conn, "term", "v").await.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_shutdown_stops_the_daemon_gracefully_even_with_a_stream_open() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    // A client that keeps its ingest stream open.
    let mut run = start(d.target(), "open").await;
    run.log(vec![float("v", 1.0)], None, None).unwrap();
    run.flush().await.unwrap();
    let conn = d.connect().await;
    conn.admin().shutdown(v1::ShutdownRequest {}).await.unwrap();
    let status = tokio::task::spawn_blocking(move || d.wait_exit(30))
        .await
        .unwrap()
        .expect("the daemon exits within its shutdown deadline");
    assert!(status.success(), "{status}");
    assert!(!tmp.path().join("daemon.json").exists());
    // Everything acknowledged is there after a restart.
    let d = Daemon::start(tmp.path());
    let conn = d.connect().await;
    assert_eq!(series(&conn, "open", "v").await, vec![(0, 1.0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_lines_system_stats_alerts_files_and_metadata_updates_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let d = Daemon::start(tmp.path());
    let mut run = start(d.target(), "extras").await;
    run.send(Payload::Output(v1::ConsoleOutput {
        stream: v1::OutputStream::Stdout as i32,
        lines: vec!["epoch 1".into(), "epoch 2".into()],
    }))
    .unwrap();
    run.send(Payload::Output(v1::ConsoleOutput {
        stream: v1::OutputStream::Stderr as i32,
        lines: vec!["warning: lr high".into()],
    }))
    .unwrap();
    for cpu in [10.0, 55.5, 99.0] {
        run.send(Payload::Stats(v1::SystemStats {
            items: vec![float("cpu", cpu)],
        }))
        .unwrap();
    }
    run.send(Payload::Alert(v1::Alert {
        title: "diverged".into(),
        text: "loss is NaN".into(),
        level: v1::AlertLevel::AlertError as i32,
    }))
    .unwrap();
    run.send(Payload::Files(v1::Files {
        files: vec![v1::FileEntry {
            path: "model.pt".into(),
            policy: v1::FilePolicy::End as i32,
            ..Default::default()
        }],
    }))
    .unwrap();
    run.send(Payload::RunUpdate(v1::RunUpdate {
        name: Some("renamed".into()),
        set_tags: true,
        tags: vec!["a".into(), "b".into()],
        notes: Some("a note".into()),
        ..Default::default()
    }))
    .unwrap();
    run.send(Payload::Config(v1::ConfigUpdate {
        update: vec![v1::Item {
            path: vec!["optimizer".into(), "lr".into()],
            value: Some(v1::Value {
                kind: Some(v1::value::Kind::Float(0.1)),
            }),
        }],
        remove: vec![],
    }))
    .unwrap();
    run.finish(0).await.unwrap();

    let conn = d.connect().await;
    let lines = conn
        .query()
        .console(v1::ConsoleRequest {
            run_id: "extras".into(),
            offset: 1,
            limit: 10,
        })
        .await
        .unwrap()
        .into_inner()
        .lines;
    let text: Vec<(&str, i32)> = lines.iter().map(|l| (l.line.as_str(), l.stream)).collect();
    assert_eq!(
        text,
        vec![
            ("epoch 2", v1::OutputStream::Stdout as i32),
            ("warning: lr high", v1::OutputStream::Stderr as i32)
        ]
    );
    let cpu = series(&conn, "extras", "system/cpu").await;
    assert_eq!(
        cpu.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        vec![10.0, 55.5, 99.0]
    );
    let info = get_run(&conn, "extras").await;
    assert_eq!(info.console_lines, 3);
    assert_eq!(info.name, "renamed");
    assert_eq!(info.tags, vec!["a".to_string(), "b".to_string()]);
    assert_eq!(info.notes, "a note");
    assert_eq!(info.alerts.len(), 1);
    assert_eq!(info.alerts[0].title, "diverged");
    assert_eq!(info.files.len(), 1);
    assert_eq!(info.files[0].path, "model.pt");
    assert!(info.config.iter().any(|i| i.path == ["optimizer", "lr"]));
    let summary = conn
        .query()
        .summary(v1::GetRunRequest {
            run_id: "extras".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(summary.items.iter().any(|i| i.path == ["_runtime"]));
    let config = conn
        .query()
        .config(v1::GetRunRequest {
            run_id: "extras".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(config.items, info.config);
    // An unknown run is NOT_FOUND with its id in the message.
    let err = conn
        .query()
        .get_run(v1::GetRunRequest {
            run_id: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("nope"));
}
