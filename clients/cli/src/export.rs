//! `tracklab export RUN…`: full history as CSV (one row per run and step)
//! or JSON lines (one object per run and step). Numbers keep full
//! precision; NaN and infinities are written as `NaN`, `inf`, `-inf` in CSV
//! (pandas reads them) and as the strings "NaN", "Infinity", "-Infinity"
//! in JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Context;
use serde_json::{Map, Value as Json};
use tracklab_proto::v1::value::Kind;
use tracklab_proto::v1::{HistoryRequest, Series, Value};

use crate::args::{ExportArgs, ExportFormat, ExportTarget};
use crate::ctx::{Ctx, MAX_MESSAGE_BYTES, Outcome, pick_run};
use crate::fmt::value_to_json;
use crate::table::Table;

/// The history of one run, as rows by step.
struct RunRows {
    run_id: String,
    /// step -> key -> value
    rows: BTreeMap<i64, BTreeMap<String, Value>>,
}

fn to_rows(run_id: String, series: Vec<Series>) -> RunRows {
    let mut rows: BTreeMap<i64, BTreeMap<String, Value>> = BTreeMap::new();
    for s in series {
        // `_step` is the row's step itself.
        if s.key == "_step" {
            continue;
        }
        for (step, value) in s.steps.into_iter().zip(s.values) {
            rows.entry(step).or_default().insert(s.key.clone(), value);
        }
    }
    RunRows { run_id, rows }
}

/// A run's whole history (`keys`, or every key), unpacked.
pub async fn history(
    conn: &tracklab_client::Connection,
    run_id: &str,
    keys: &[String],
) -> anyhow::Result<Vec<Series>> {
    Ok(conn
        .query()
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .history(HistoryRequest {
            run_id: run_id.to_string(),
            keys: keys.to_vec(),
            ..Default::default()
        })
        .await
        .with_context(|| format!("reading the history of run {run_id}"))?
        .into_inner()
        .series
        .into_iter()
        .map(Series::unpacked)
        .collect())
}

/// A value as a CSV cell, without loss.
pub fn csv_cell(v: &Value) -> String {
    match &v.kind {
        Some(Kind::Float(f)) if f.is_nan() => "NaN".into(),
        Some(Kind::Float(f)) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        Some(Kind::Float(f)) => format!("{f:?}"),
        Some(Kind::Int(i)) => i.to_string(),
        Some(Kind::Bool(b)) => if *b { "true" } else { "false" }.into(),
        Some(Kind::Str(s)) | Some(Kind::Json(s)) => s.clone(),
        Some(Kind::Bytes(b)) => format!("<{} bytes>", b.len()),
        None => String::new(),
    }
}

pub fn export(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<Outcome> {
    match args.to {
        Some(ExportTarget::Mlflow) => return crate::bridges::mlflow::export(ctx, &args),
        Some(ExportTarget::Tensorboard) => return crate::bridges::tensorboard::export(ctx, args),
        None => {}
    }
    let runs = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let all = ctx.all_runs(&conn).await?;
        let mut out = Vec::new();
        for wanted in &args.runs {
            let run = pick_run(&all, wanted)?;
            let series = history(&conn, &run.run_id, &args.keys).await?;
            out.push(to_rows(run.run_id.clone(), series));
        }
        anyhow::Ok(out)
    })?;
    let text = match args.format {
        ExportFormat::Csv => render_csv(&runs),
        ExportFormat::Jsonl => render_jsonl(&runs)?,
    };
    let rows: usize = runs.iter().map(|r| r.rows.len()).sum();
    match &args.output {
        Some(path) => {
            let mut f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            f.write_all(text.as_bytes())
                .and_then(|()| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "exported {rows} rows of {} run(s) to {}",
                runs.len(),
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes());
        }
    }
    Ok(Outcome::Ok)
}

fn render_csv(runs: &[RunRows]) -> String {
    let keys: BTreeSet<&String> = runs
        .iter()
        .flat_map(|r| r.rows.values().flat_map(|row| row.keys()))
        .collect();
    let mut headers = vec!["run_id".to_string(), "_step".to_string()];
    headers.extend(keys.iter().map(|k| k.to_string()));
    let mut t = Table::new(headers);
    for r in runs {
        for (step, row) in &r.rows {
            let mut cells = vec![r.run_id.clone(), step.to_string()];
            cells.extend(
                keys.iter()
                    .map(|k| row.get(*k).map(csv_cell).unwrap_or_default()),
            );
            t.push(cells);
        }
    }
    t.to_csv()
}

fn render_jsonl(runs: &[RunRows]) -> anyhow::Result<String> {
    let mut out = String::new();
    for r in runs {
        for (step, row) in &r.rows {
            let mut obj = Map::new();
            obj.insert("run_id".into(), Json::String(r.run_id.clone()));
            obj.insert("_step".into(), Json::from(*step));
            for (k, v) in row {
                obj.insert(k.clone(), value_to_json(v));
            }
            out.push_str(&serde_json::to_string(&Json::Object(obj))?);
            out.push('\n');
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> Value {
        Value {
            kind: Some(Kind::Float(x)),
        }
    }

    #[test]
    fn csv_cells_keep_full_precision_and_specials() {
        assert_eq!(csv_cell(&f(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(csv_cell(&f(1.0)), "1.0");
        assert_eq!(csv_cell(&f(f64::NAN)), "NaN");
        assert_eq!(csv_cell(&f(f64::NEG_INFINITY)), "-inf");
        assert_eq!(
            csv_cell(&Value {
                kind: Some(Kind::Int(-3))
            }),
            "-3"
        );
    }

    #[test]
    fn rows_merge_series_by_step() {
        let s = |key: &str, steps: Vec<i64>, vals: Vec<f64>| Series {
            key: key.into(),
            steps,
            values: vals.into_iter().map(f).collect(),
            ..Default::default()
        };
        let rows = to_rows(
            "r".into(),
            vec![
                s("_step", vec![0, 1], vec![0.0, 1.0]),
                s("loss", vec![0, 1], vec![0.5, 0.25]),
                s("acc", vec![1], vec![0.9]),
            ],
        );
        let csv = render_csv(&[rows]);
        assert_eq!(csv, "run_id,_step,acc,loss\nr,0,,0.5\nr,1,0.9,0.25\n");
    }
}
