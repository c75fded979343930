//! Helpers shared by the end-to-end tests.

use std::time::Duration;

use tracklab_client::v1::{self, GetRunRequest, HistoryRequest};
use tracklab_client::{Connection, Run, RunOptions, Target};

pub fn start_opts(run_id: &str, project: &str) -> RunOptions {
    RunOptions {
        run_id: run_id.to_string(),
        start: v1::RunStart {
            project: project.to_string(),
            name: format!("{run_id}-name"),
            ..Default::default()
        },
        reconnect_timeout: Some(Duration::from_secs(60)),
    }
}

pub async fn start(target: Target, run_id: &str) -> Run {
    Run::start(target, start_opts(run_id, "e2e"))
        .await
        .unwrap_or_else(|e| panic!("starting run {run_id}: {e}"))
}

pub async fn get_run(conn: &Connection, run_id: &str) -> v1::RunInfo {
    conn.query()
        .get_run(GetRunRequest {
            run_id: run_id.to_string(),
        })
        .await
        .unwrap_or_else(|e| panic!("get_run {run_id}: {e}"))
        .into_inner()
}

/// (step, value) pairs of one numeric series.
pub async fn series(conn: &Connection, run_id: &str, key: &str) -> Vec<(i64, f64)> {
    let resp = conn
        .query()
        .history(HistoryRequest {
            run_id: run_id.to_string(),
            keys: vec![key.to_string()],
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| panic!("history {run_id}/{key}: {e}"))
        .into_inner();
    let s = resp.series[0].clone().unpacked();
    s.steps
        .iter()
        .zip(&s.values)
        .map(|(st, v)| match v.kind {
            Some(v1::value::Kind::Float(f)) => (*st, f),
            Some(v1::value::Kind::Int(i)) => (*st, i as f64),
            ref other => panic!("non-numeric value {other:?} at step {st}"),
        })
        .collect()
}

pub fn summary_value(info: &v1::RunInfo, key: &str) -> Option<v1::value::Kind> {
    info.summary
        .iter()
        .find(|i| i.path == [key])
        .and_then(|i| i.value.clone())
        .and_then(|v| v.kind)
}

/// Polls `f` until it returns Some, for at most `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
