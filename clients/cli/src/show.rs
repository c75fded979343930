//! `tracklab show RUN` and `tracklab compare RUN…`.

use anyhow::Context;
use serde_json::json;
use tracklab_client::Connection;
use tracklab_proto::v1::{ConsoleRequest, HistoryRequest, Item, OutputStream, RunInfo, Series};

use crate::args::{CompareArgs, CompareFormat, GoalArg, ShowArgs};
use crate::compare::{CompareOptions, Goal, compare as build_comparison};
use crate::ctx::{Ctx, MAX_MESSAGE_BYTES, Outcome, pick_run};
use crate::fmt::{format_duration_us, format_time_us, item_key, value_as_f64, value_to_string};
use crate::json::{duration_us, run_json, state_name, summary_names};
use crate::sparkline::sparkline;
use crate::table::Table;

/// Width of the sparklines in `show`.
const SPARK_WIDTH: u32 = 40;
/// Console lines asked for per call.
const CONSOLE_PAGE: u32 = 5000;

/// Downsampled numeric series of a run, `_`-prefixed keys left out.
async fn sparkline_series(conn: &Connection, run_id: &str) -> anyhow::Result<Vec<Series>> {
    let resp = conn
        .query()
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .history(HistoryRequest {
            run_id: run_id.to_string(),
            max_points: SPARK_WIDTH,
            ..Default::default()
        })
        .await
        .context("reading the run's history")?
        .into_inner();
    Ok(resp
        .series
        .into_iter()
        .map(Series::unpacked)
        .filter(|s| !s.key.starts_with('_'))
        .filter(|s| s.values.iter().any(|v| value_as_f64(v).is_some()))
        .collect())
}

fn items_table(items: &[Item]) -> String {
    let mut t = Table::new(vec!["key".into(), "value".into()]);
    for it in items {
        let key = item_key(&it.path);
        let value = match it.value.as_ref() {
            // wandb's `_timestamp` is Unix seconds: show it as a time.
            Some(v) if key == "_timestamp" => value_as_f64(v)
                .map(|secs| format_time_us((secs * 1e6) as i64))
                .unwrap_or_else(|| value_to_string(v)),
            Some(v) => value_to_string(v),
            None => String::new(),
        };
        t.push(vec![key, value]);
    }
    indent(&t.to_plain())
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect::<String>()
}

pub fn show(ctx: &Ctx, args: ShowArgs) -> anyhow::Result<Outcome> {
    ctx.block_on(async {
        let conn = ctx.connect().await?;
        let run = ctx.resolve(&conn, &args.run).await?;
        if args.console {
            return print_console(ctx, &conn, &run.run_id).await;
        }
        let series = sparkline_series(&conn, &run.run_id).await?;
        if ctx.json {
            let mut v = run_json(&run);
            v["history"] = series
                .iter()
                .map(|s| {
                    json!({
                        "key": s.key,
                        "points": s.total_points,
                        "last": s.values.last().map(crate::fmt::value_to_json),
                    })
                })
                .collect();
            crate::outln!("{}", serde_json::to_string_pretty(&v)?);
        } else {
            crate::out!("{}", render_run(&run, &series));
        }
        Ok(Outcome::Ok)
    })
}

/// The human-readable page of one run.
pub fn render_run(r: &RunInfo, series: &[Series]) -> String {
    let mut out = String::new();
    let mut line = |k: &str, v: String| {
        if !v.is_empty() {
            out.push_str(&format!("{k:<10} {v}\n"));
        }
    };
    line("run", format!("{} {:?}", r.run_id, r.name));
    line("project", r.project.clone());
    let mut state = format!("{} (exit code {})", state_name(r.state), r.exit_code);
    if r.deleted {
        state.push_str(
            ", deleted: `tracklab runs restore` brings it back, `tracklab gc` removes it",
        );
    }
    line("state", state);
    line("created", format_time_us(r.created_us));
    line("duration", format_duration_us(duration_us(r)));
    line(
        "steps",
        format!("{} rows, next step {}", r.history_rows, r.next_step),
    );
    line("group", r.group.clone());
    line("job type", r.job_type.clone());
    line("tags", r.tags.join(", "));
    line("notes", r.notes.clone());
    line(
        "host",
        match (r.user.is_empty(), r.host.is_empty()) {
            (false, false) => format!("{}@{}", r.user, r.host),
            _ => format!("{}{}", r.user, r.host),
        },
    );
    let mut command = r.program.clone();
    for a in &r.args {
        command.push(' ');
        command.push_str(a);
    }
    line("command", command.trim().to_string());
    line("python", r.python.clone());
    if let Some(g) = &r.git {
        let mut s = g.commit.clone();
        if !g.branch.is_empty() {
            s.push_str(&format!(" on {}", g.branch));
        }
        if g.dirty {
            s.push_str(" (dirty)");
        }
        if !g.remote.is_empty() {
            s.push_str(&format!(" from {}", g.remote));
        }
        line("git", s);
    }
    if r.resumed {
        line("resumed", "yes".into());
    }
    if let Some(f) = &r.fork_from {
        line("forked", format!("from {} at step {}", f.run_id, f.step));
    }
    if !r.config.is_empty() {
        out.push_str("\nconfig\n");
        out.push_str(&items_table(&r.config));
    }
    if !r.summary.is_empty() {
        out.push_str("\nsummary\n");
        out.push_str(&items_table(&r.summary));
    }
    if !r.metrics.is_empty() {
        out.push_str("\nmetric definitions\n");
        let mut t = Table::new(
            ["metric", "step metric", "summary", "goal", "hidden"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        for m in &r.metrics {
            let name = if m.name.is_empty() {
                &m.glob_name
            } else {
                &m.name
            };
            let goal = match m.goal {
                1 => "minimize",
                2 => "maximize",
                _ => "",
            };
            t.push(vec![
                name.clone(),
                m.step_metric.clone(),
                summary_names(m.summary.as_ref()).join(","),
                goal.to_string(),
                if m.hidden { "yes" } else { "" }.to_string(),
            ]);
        }
        out.push_str(&indent(&t.to_plain()));
    }
    if !series.is_empty() {
        out.push_str("\nhistory\n");
        let mut t = Table::new(
            ["metric", "points", "trend", "last"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        );
        for s in series {
            let values: Vec<f64> = s
                .values
                .iter()
                .map(|v| value_as_f64(v).unwrap_or(f64::NAN))
                .collect();
            t.push(vec![
                s.key.clone(),
                s.total_points.to_string(),
                sparkline(&values, SPARK_WIDTH as usize),
                s.values.last().map(value_to_string).unwrap_or_default(),
            ]);
        }
        out.push_str(&indent(&t.to_plain()));
    }
    let mut counts = format!("{} console lines", r.console_lines);
    if r.console_lines > 0 {
        counts.push_str(" (`tracklab show --console RUN`)");
    }
    if !r.files.is_empty() {
        counts.push_str(&format!(", {} files", r.files.len()));
    }
    if !r.alerts.is_empty() {
        counts.push_str(&format!(", {} alerts", r.alerts.len()));
    }
    out.push_str(&format!("\n{counts}\n"));
    if r.dropped_steps > 0 || !r.warnings.is_empty() {
        out.push_str(&format!("\nwarnings ({} dropped steps)\n", r.dropped_steps));
        for w in &r.warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    out
}

async fn print_console(ctx: &Ctx, conn: &Connection, run_id: &str) -> anyhow::Result<Outcome> {
    let mut offset = 0u64;
    loop {
        let lines = conn
            .query()
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .console(ConsoleRequest {
                run_id: run_id.to_string(),
                offset,
                limit: CONSOLE_PAGE,
            })
            .await
            .context("reading console output")?
            .into_inner()
            .lines;
        for l in &lines {
            if ctx.json {
                let stream = if l.stream == OutputStream::Stderr as i32 {
                    "stderr"
                } else {
                    "stdout"
                };
                crate::outln!(
                    "{}",
                    json!({"stream": stream, "line": l.line, "timestamp_us": l.timestamp_us})
                );
            } else {
                crate::outln!("{}", l.line);
            }
        }
        if lines.len() < CONSOLE_PAGE as usize {
            return Ok(Outcome::Ok);
        }
        offset += lines.len() as u64;
    }
}

pub fn compare(ctx: &Ctx, mut args: CompareArgs) -> anyhow::Result<Outcome> {
    if let Some(target) = &args.lineage {
        args.runs = crate::lineage::stage_runs(ctx, target)?;
        if args.runs.len() < 2 {
            return Err(crate::ctx::UsageError(format!(
                "the lineage of {target} has {} stage(s); comparing needs two or more",
                args.runs.len()
            ))
            .into());
        }
    }
    let runs = ctx.block_on(async {
        let conn = ctx.connect().await?;
        let all = ctx.all_runs(&conn).await?;
        args.runs
            .iter()
            .map(|wanted| pick_run(&all, wanted).cloned())
            .collect::<anyhow::Result<Vec<_>>>()
    })?;
    let opts = CompareOptions {
        metrics: (!args.metrics.is_empty()).then(|| args.metrics.clone()),
        goal: args.goal.map(|g| match g {
            GoalArg::Min => Goal::Min,
            GoalArg::Max => Goal::Max,
        }),
        all_config: args.all_config,
    };
    let c = build_comparison(&runs, &opts);
    let format = if ctx.json {
        CompareFormat::Json
    } else {
        args.format
    };
    match format {
        CompareFormat::Md => crate::out!("{}", crate::compare::render_markdown(&c)),
        CompareFormat::Csv => crate::out!("{}", crate::compare::render_csv(&c)),
        CompareFormat::Json => crate::outln!(
            "{}",
            serde_json::to_string_pretty(&crate::compare::to_json(&c))?
        ),
    }
    Ok(Outcome::Ok)
}
