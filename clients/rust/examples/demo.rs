//! Demo: logs a small training run through a running `tracklab-daemon` and
//! shows what the daemon recorded (metadata, config, summary, a sparkline of
//! each metric).
//!
//! Usage: cargo run -p tracklab-client --example demo -- DATA_DIR

use std::path::PathBuf;

use tracklab_client::v1::record::Payload;
use tracklab_client::v1::{self, GetRunRequest, HistoryRequest};
use tracklab_client::{Connection, Run, RunOptions, Target, float, item};

fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    values
        .iter()
        .map(|v| {
            let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            BARS[((t * 7.0).round() as usize).min(7)]
        })
        .collect()
}

fn show(v: &Option<v1::Value>) -> String {
    match v.as_ref().and_then(|v| v.kind.as_ref()) {
        Some(v1::value::Kind::Float(f)) => format!("{f:.4}"),
        Some(v1::value::Kind::Int(i)) => i.to_string(),
        Some(v1::value::Kind::Bool(b)) => b.to_string(),
        Some(v1::value::Kind::Str(s)) => format!("{s:?}"),
        Some(v1::value::Kind::Json(j)) => j.clone(),
        Some(v1::value::Kind::Bytes(b)) => format!("<{} bytes>", b.len()),
        None => "-".into(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: demo DATA_DIR")?);
    let run_id = format!("demo-{}", std::process::id());
    let mut run = Run::start(
        Target::DataDir(dir.clone()),
        RunOptions {
            run_id: run_id.clone(),
            start: v1::RunStart {
                project: "demo".into(),
                name: "tiny-mlp".into(),
                tags: vec!["demo".into()],
                config: vec![
                    float("lr", 3e-4),
                    item("optimizer", v1::value::Kind::Str("adamw".into())),
                    item("epochs", v1::value::Kind::Int(5)),
                ],
                program: "examples/demo.rs".into(),
                ..Default::default()
            },
            reconnect_timeout: None,
        },
    )
    .await?;
    run.send(Payload::Metric(v1::MetricDefinition {
        name: "val/loss".into(),
        summary: Some(v1::MetricSummary {
            min: true,
            last: true,
            ..Default::default()
        }),
        goal: v1::Goal::Minimize as i32,
        ..Default::default()
    }))?;
    let steps_per_epoch = 200;
    for epoch in 0..5 {
        for i in 0..steps_per_epoch {
            let t = (epoch * steps_per_epoch + i) as f64;
            let loss = 2.0 * (-t / 300.0).exp() + 0.05 * (t / 7.0).sin().abs();
            run.log(
                vec![float("train/loss", loss), float("epoch", epoch as f64)],
                None,
                None,
            )?;
        }
        let val = 1.8 * (-(epoch as f64) / 1.5).exp() + 0.1;
        run.log(vec![float("val/loss", val)], None, Some(false))?;
    }
    let report = run.finish(0).await?;
    println!("logged run {run_id}: {} records durable", report.records);

    let conn = Connection::connect(&dir).await?;
    let info = conn
        .query()
        .get_run(GetRunRequest {
            run_id: run_id.clone(),
        })
        .await?
        .into_inner();
    let state = v1::RunState::try_from(info.state)
        .map(|s| s.as_str_name())
        .unwrap_or("?");
    println!(
        "\nrun {} ({}) project={} state={state} steps={}",
        info.run_id, info.name, info.project, info.history_rows
    );
    println!("config:");
    for it in &info.config {
        println!("  {} = {}", it.path.join("."), show(&it.value));
    }
    println!("summary:");
    for it in &info.summary {
        println!("  {} = {}", it.path.join("."), show(&it.value));
    }
    let hist = conn
        .query()
        .history(HistoryRequest {
            run_id,
            keys: vec!["train/loss".into(), "val/loss".into()],
            max_points: 60,
            ..Default::default()
        })
        .await?
        .into_inner();
    println!("history (downsampled to 60 points):");
    for s in hist.series {
        let vals: Vec<f64> = s
            .values
            .iter()
            .filter_map(|v| match v.kind {
                Some(v1::value::Kind::Float(f)) => Some(f),
                _ => None,
            })
            .collect();
        println!(
            "  {:<12} {} ({} points)",
            s.key,
            sparkline(&vals),
            s.total_points
        );
    }
    Ok(())
}
