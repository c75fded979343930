//! The run summary: per leaf path, the last value or the aggregates chosen by
//! `define_metric`.
//!
//! Follows wandb's `core/internal/runsummary/` (`metricsummary.go`,
//! `runsummary.go`, `updates.go`, `type.go`):
//! - each leaf keeps latest, first, min, max, total and count; only `Int` and
//!   `Float` feed min/max/mean, other values only update latest and first;
//! - NaN propagates into min, max and mean (Go's `min`/`max` return NaN when
//!   any argument is NaN);
//! - with no tracked aggregates the summary is the latest value, otherwise a
//!   dict of the chosen ones (`last`, `first`, `max`, `min`, `mean`); min, max
//!   and mean are always floats (wandb keeps them as `float64`);
//! - `none` hides the metric's summary entirely, even an explicit one;
//! - an explicit set (`SummaryUpdate.update`) stores the value and resets the
//!   tracked aggregates (`SetExplicit`), so a later history value overwrites it;
//! - removing a leaf clears its value but keeps its configuration; removing
//!   a prefix drops the whole subtree (`RunSummary.Remove`).

use serde::{Deserialize, Serialize};
use tracklab_proto::v1;

use crate::pathmap::PathMap;
use crate::value::{Float, Value};

/// Bit flags of the aggregates to report (wandb `SummaryTypeFlags`).
pub(crate) mod track {
    pub const LAST: u8 = 1;
    pub const MIN: u8 = 2;
    pub const MAX: u8 = 4;
    pub const MEAN: u8 = 8;
    pub const FIRST: u8 = 16;
}

/// The summary of one leaf metric (wandb `metricSummary`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct MetricSummary {
    latest: Option<Value>,
    first: Option<Value>,
    min: Float,
    max: Float,
    total: Float,
    count: u64,
    /// Aggregates to report; 0 means "the latest value".
    pub track: u8,
    /// `summary="none"`: report nothing for this metric.
    pub no_summary: bool,
    has_data: bool,
}

impl MetricSummary {
    fn clear(&mut self) {
        self.latest = None;
        self.has_data = false;
    }

    fn set_explicit(&mut self, value: Value) {
        self.latest = Some(value);
        self.track = 0;
        self.has_data = true;
    }

    fn update(&mut self, value: &Value) {
        if let Some(x) = value.as_number() {
            if self.count > 0 {
                self.min = Float(nan_min(self.min.0, x));
                self.max = Float(nan_max(self.max.0, x));
            } else {
                self.min = Float(x);
                self.max = Float(x);
            }
            self.total = Float(self.total.0 + x);
            self.count = self.count.saturating_add(1);
        }
        self.latest = Some(value.clone());
        if !self.has_data {
            self.first = Some(value.clone());
        }
        self.has_data = true;
    }

    /// The reported leaves under this metric's path: `[]` for the latest
    /// value, or one suffix per aggregate, in name order.
    fn render(&self) -> Vec<(Option<&'static str>, Value)> {
        if self.no_summary || !self.has_data {
            return Vec::new();
        }
        let null = || Value::Json("null".to_string());
        if self.track == 0 {
            return vec![(None, self.latest.clone().unwrap_or_else(null))];
        }
        let mut out = Vec::new();
        if self.track & track::FIRST != 0 {
            out.push((Some("first"), self.first.clone().unwrap_or_else(null)));
        }
        if self.track & track::LAST != 0 {
            out.push((Some("last"), self.latest.clone().unwrap_or_else(null)));
        }
        if self.track & track::MAX != 0 {
            out.push((Some("max"), Value::Float(self.max.0)));
        }
        if self.track & track::MEAN != 0 {
            // As wandb: total / count, which is NaN when no number was seen.
            out.push((Some("mean"), Value::Float(self.total.0 / self.count as f64)));
        }
        if self.track & track::MIN != 0 {
            out.push((Some("min"), Value::Float(self.min.0)));
        }
        out
    }
}

fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// All metric summaries of a run, as a path tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Summary {
    leaves: PathMap<MetricSummary>,
}

impl Summary {
    /// Sets what to report for a metric (wandb `RunSummary.ConfigureMetric`).
    pub fn configure(&mut self, path: &[String], no_summary: bool, track: u8) {
        if let Some(ms) = self.leaves.get_or_insert_with(path, MetricSummary::default) {
            ms.no_summary = no_summary;
            ms.track = track;
        }
    }

    /// An explicit `run.summary[path] = value`.
    pub fn set_explicit(&mut self, path: &[String], value: Value) {
        if let Some(ms) = self.leaves.get_or_insert_with(path, MetricSummary::default) {
            ms.set_explicit(value);
        }
    }

    /// `del run.summary[path]`.
    pub fn remove(&mut self, path: &[String]) {
        match self.leaves.get_mut(path) {
            Some(ms) => ms.clear(),
            None => self.leaves.remove(path),
        }
    }

    /// Feeds one history value (wandb `RunSummary.UpdateSummaries`).
    pub fn update(&mut self, path: &[String], value: &Value) {
        if let Some(ms) = self.leaves.get_or_insert_with(path, MetricSummary::default) {
            ms.update(value);
        }
    }

    /// The summary as leaf items in path order; aggregates appear as a
    /// further path segment (`["loss", "min"]`).
    pub fn items(&self) -> Vec<v1::Item> {
        let mut out = Vec::new();
        for (path, ms) in self.leaves.iter() {
            for (suffix, value) in ms.render() {
                let mut path = path.clone();
                if let Some(s) = suffix {
                    path.push(s.to_string());
                }
                out.push(v1::Item {
                    path,
                    value: Some(value.to_proto()),
                });
            }
        }
        out
    }
}
