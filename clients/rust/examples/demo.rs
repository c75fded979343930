//! Demo: logs a small made-up training run through a running
//! `tracklab-daemon` (the learning rate shapes its curves, so runs with
//! different rates differ). `tracklab show` / `tracklab compare` display
//! what was recorded.
//!
//! Usage: cargo run -p tracklab-client --example demo -- DATA_DIR [LR]

use std::path::PathBuf;

use tracklab_client::v1;
use tracklab_client::v1::record::Payload;
use tracklab_client::{Run, RunOptions, Target, float, item};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: demo DATA_DIR [LR]")?);
    // The learning rate shapes the made-up curves, so runs differ.
    let lr: f64 = match std::env::args().nth(2) {
        Some(a) => a.parse().map_err(|e| format!("LR {a:?}: {e}"))?,
        None => 3e-4,
    };
    let run_id = format!("demo-{}", std::process::id());
    let mut run = Run::start(
        Target::DataDir(dir.clone()),
        RunOptions {
            run_id: run_id.clone(),
            start: v1::RunStart {
                project: "demo".into(),
                name: format!("tiny-mlp-lr{lr}"),
                tags: vec!["demo".into()],
                config: vec![
                    float("lr", lr),
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
            let loss = 2.0 * (-t * lr / 0.09).exp() + 0.05 * (t / 7.0).sin().abs();
            run.log(
                vec![float("train/loss", loss), float("epoch", epoch as f64)],
                None,
                None,
            )?;
        }
        let val = 1.8 * (-(epoch as f64) * lr / 4.5e-4).exp() + 0.1;
        run.log(vec![float("val/loss", val)], None, Some(false))?;
    }
    let report = run.finish(0).await?;
    println!(
        "logged run {run_id} (lr {lr}): {} records durable",
        report.records
    );
    Ok(())
}
