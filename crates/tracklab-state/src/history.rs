//! Step numbering: turning `PartialHistory` records into stepped rows.
//!
//! Follows wandb's `Handler.handlePartialHistorySync` and
//! `flushPartialHistory` (`core/internal/stream/handler.go`):
//! - the first partial history of a run (or of a resumed segment) starts at
//!   the run's starting step;
//! - a record with a step greater than the current one flushes the current
//!   row and jumps to that step (intermediate steps are never emitted);
//! - a record with a smaller step is dropped whole, with wandb's warning;
//! - a record with the same step merges into the current row, later values
//!   winning;
//! - the record then flushes if `flush` says so, or, when `flush` is unset,
//!   if it has no step;
//! - flushing an empty row emits nothing but still advances the step;
//! - a flush sets `_runtime` and `_step`, expands metric globs, inserts
//!   synced step metrics, updates the summary and emits the row.
//!
//! `_timestamp` is added by wandb's SDK to every `log` call; here every
//! record that brings items sets it from its own `timestamp_us` unless the
//! client sent `_timestamp` itself. `_runtime` is computed at the flush, from
//! the timestamp of the record that causes it, as wandb reads its run timer
//! at the flush.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::keys::key_name;
use crate::metrics::Metrics;
use crate::pathmap::PathMap;
use crate::summary::Summary;
use crate::value::Value;

/// One emitted history row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub step: i64,
    /// By flat key name (see [`crate::key_name`]); includes `_step` (Int),
    /// `_runtime` (Float seconds) and `_timestamp` (Float Unix seconds).
    pub items: BTreeMap<String, Value>,
}

/// The history cursor of a run: current step and the row being built.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct History {
    /// The step of the row being built; the step the next `log` without a
    /// step gets.
    pub step: i64,
    /// The row being built, by leaf path.
    pub pending: PathMap<Value>,
    /// The step of the last emitted row.
    pub last_flushed: Option<i64>,
    pub rows: u64,
    pub dropped: u64,
}

/// wandb's warning for a step smaller than the current one.
pub(crate) fn step_dropped_message(step: i64, current: i64) -> String {
    format!(
        "Tried to log to step {step} that is less than the current step {current}. \
         Steps must be monotonically increasing, so this data will be ignored. \
         See https://wandb.me/define-metric to log data out of order."
    )
}

/// What the run's other parts a flush needs.
pub(crate) struct FlushCtx<'a> {
    pub metrics: &'a mut Metrics,
    pub summary: &'a mut Summary,
    /// Run time in seconds at the moment of the flush.
    pub runtime_s: f64,
}

impl History {
    /// Restarts numbering at `step` with an empty row (run start, resume).
    pub fn restart(&mut self, step: i64) {
        self.step = step;
        self.pending = PathMap::default();
    }

    /// Merges items into the current row; `_timestamp` from `timestamp_us`
    /// unless an item sets it.
    pub fn merge(&mut self, items: Vec<(Vec<String>, Value)>, timestamp_us: i64) {
        if items.is_empty() {
            return;
        }
        let has_timestamp = items
            .iter()
            .any(|(p, _)| p.len() == 1 && p[0] == "_timestamp");
        for (path, value) in items {
            self.pending.insert(path, value);
        }
        if !has_timestamp {
            self.pending.insert(
                vec!["_timestamp".to_string()],
                Value::Float(timestamp_us as f64 / 1e6),
            );
        }
    }

    /// Emits the current row (if it has items) and moves to `next_step`.
    pub fn flush(&mut self, next_step: i64, ctx: FlushCtx<'_>) -> Option<HistoryRow> {
        if self.pending.is_empty() {
            self.step = next_step;
            return None;
        }
        self.pending
            .insert(vec!["_runtime".to_string()], Value::Float(ctx.runtime_s));
        self.pending
            .insert(vec!["_step".to_string()], Value::Int(self.step));
        ctx.metrics.update_from_row(&self.pending, ctx.summary);
        ctx.metrics.insert_step_metrics(&mut self.pending);
        for (path, value) in self.pending.iter() {
            ctx.summary.update(path, value);
        }
        let items = self
            .pending
            .take()
            .into_iter()
            .map(|(path, value)| (key_name(&path), value))
            .collect();
        let row = HistoryRow {
            step: self.step,
            items,
        };
        self.rows = self.rows.saturating_add(1);
        self.last_flushed = Some(self.step);
        self.step = next_step;
        Some(row)
    }
}
