//! `define_metric`: metric definitions, glob expansion and step sync.
//!
//! Follows wandb's `core/internal/runmetric/runmetric.go` and
//! `definedmetric.go`:
//! - a definition names a metric (a `.` addresses a nested path, `\.` is a
//!   literal dot) or a suffix glob (`train/*`);
//! - repeated definitions merge (`definedMetric.With`: `step_sync` and
//!   `hidden` can only be turned on, a step metric or goal replaces the old
//!   one, summary flags accumulate, `none` is replaced) unless `overwrite`;
//! - `step_sync` defaults to true when a step metric is given (the SDK's
//!   `wandb_metric.Metric.__init__`);
//! - a glob expands into a concrete definition the first time a matching key
//!   is flushed in a history row; keys starting with `_` never match;
//! - with step sync, a row that has a metric but lacks its step metric gets
//!   the step metric's last seen value (0 before any was seen), as a float.
//!
//! Deviations, all to make the result deterministic and consistent:
//! - names are matched by their canonical key (see [`crate::key_name`]); wandb
//!   joins row paths with an unescaped `.` for lookups, so a key holding a
//!   literal dot could never match there;
//! - when several globs match a key, the longest glob wins (wandb picks one in
//!   Go's random map order).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tracklab_proto::v1;

use crate::keys::{is_internal, key_name, split_key_name};
use crate::pathmap::PathMap;
use crate::summary::{Summary, track};
use crate::value::{Float, Value};

/// One metric definition after merging (wandb `definedMetric`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct DefinedMetric {
    /// The name as the client wrote it (for display).
    name: String,
    /// Canonical key of the step metric, or empty.
    step_metric: String,
    step_sync: bool,
    hidden: bool,
    no_summary: bool,
    track: u8,
    goal: i32,
}

impl DefinedMetric {
    /// Merges a definition into this one (wandb `definedMetric.With`).
    fn with(mut self, def: &v1::MetricDefinition) -> Self {
        let step_sync = def.step_sync.unwrap_or(!def.step_metric.is_empty());
        self.step_sync |= step_sync;
        self.hidden |= def.hidden.unwrap_or(false);
        if !def.step_metric.is_empty() {
            self.step_metric = key_name(&split_key_name(&def.step_metric));
        }
        if let Some(s) = &def.summary {
            self.no_summary = s.none;
            for (on, flag) in [
                (s.min, track::MIN),
                (s.max, track::MAX),
                (s.mean, track::MEAN),
                (s.last, track::LAST),
                (s.first, track::FIRST),
            ] {
                if on {
                    self.track |= flag;
                }
            }
        }
        if def.goal != v1::Goal::Unset as i32 {
            self.goal = def.goal;
        }
        self
    }

    fn info(&self, name: String, glob_name: String) -> v1::MetricInfo {
        v1::MetricInfo {
            name,
            glob_name,
            step_metric: self.step_metric.clone(),
            step_sync: self.step_sync,
            hidden: self.hidden,
            summary: Some(v1::MetricSummary {
                min: self.track & track::MIN != 0,
                max: self.track & track::MAX != 0,
                mean: self.track & track::MEAN != 0,
                first: self.track & track::FIRST != 0,
                last: self.track & track::LAST != 0,
                none: self.no_summary,
            }),
            goal: self.goal,
        }
    }
}

/// All metric definitions of a run (wandb `MetricHandler`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Metrics {
    /// By canonical key name; includes definitions expanded from globs.
    defined: BTreeMap<String, DefinedMetric>,
    /// By glob name as written (ends in `*`).
    globs: BTreeMap<String, DefinedMetric>,
    /// Last value of every step metric, by canonical key name.
    latest_step: BTreeMap<String, Float>,
}

/// Why a metric definition was not applied.
pub(crate) struct BadDefinition(pub &'static str);

impl Metrics {
    /// Applies a `MetricDefinition` (wandb `Handler.handleMetric`).
    pub fn define(
        &mut self,
        def: &v1::MetricDefinition,
        summary: &mut Summary,
    ) -> Result<(), BadDefinition> {
        let named = !def.name.is_empty();
        let globbed = !def.glob_name.is_empty();
        if named == globbed {
            return Err(BadDefinition(
                "exactly one of name and glob_name must be set",
            ));
        }
        let path = split_key_name(&def.name);
        if named && (path.is_empty() || path.iter().any(String::is_empty)) {
            return Err(BadDefinition("metric name has an empty segment"));
        }
        if !def.step_metric.is_empty() {
            let step = key_name(&split_key_name(&def.step_metric));
            self.latest_step.entry(step).or_insert(Float(0.0));
        }
        let (map, key) = if named {
            (&mut self.defined, key_name(&path))
        } else {
            (&mut self.globs, def.glob_name.clone())
        };
        let prev = if def.overwrite {
            DefinedMetric::default()
        } else {
            map.remove(&key).unwrap_or_default()
        };
        let mut merged = prev.with(def);
        merged.name = if named {
            def.name.clone()
        } else {
            def.glob_name.clone()
        };
        if named {
            summary.configure(&path, merged.no_summary, merged.track);
        }
        map.insert(key, merged);
        Ok(())
    }

    /// Updates the last value of every step metric found in the row and
    /// expands globs that match the row's keys (wandb `UpdateMetrics`).
    pub fn update_from_row(&mut self, row: &PathMap<Value>, summary: &mut Summary) {
        for (key, latest) in self.latest_step.iter_mut() {
            if let Some(x) = row.get(&split_key_name(key)).and_then(Value::as_number) {
                *latest = Float(x);
            }
        }
        if self.globs.is_empty() {
            return;
        }
        for (path, _) in row.iter() {
            if is_internal(path) {
                continue;
            }
            let key = key_name(path);
            if self.defined.contains_key(&key) {
                continue;
            }
            let Some(glob) = self
                .globs
                .iter()
                .filter(|(g, _)| key.starts_with(g.strip_suffix('*').unwrap_or(g)))
                .max_by_key(|(g, _)| g.len())
                .map(|(_, m)| m.clone())
            else {
                continue;
            };
            if !glob.step_metric.is_empty() {
                self.latest_step
                    .entry(glob.step_metric.clone())
                    .or_insert(Float(0.0));
            }
            summary.configure(path, glob.no_summary, glob.track);
            let expanded = DefinedMetric {
                name: key.clone(),
                ..glob
            };
            self.defined.insert(key, expanded);
        }
    }

    /// Adds the last seen step value to a row for every metric in it that
    /// syncs a step metric the row lacks (wandb `InsertStepMetrics`).
    pub fn insert_step_metrics(&self, row: &mut PathMap<Value>) {
        let mut inserts = Vec::new();
        for (path, _) in row.iter() {
            let Some(def) = self.defined.get(&key_name(path)) else {
                continue;
            };
            if def.step_metric.is_empty() || !def.step_sync {
                continue;
            }
            let step_path = split_key_name(&def.step_metric);
            if row.get(&step_path).is_some() {
                continue;
            }
            if let Some(latest) = self.latest_step.get(&def.step_metric) {
                inserts.push((step_path, Value::Float(latest.0)));
            }
        }
        for (path, value) in inserts {
            row.insert(path, value);
        }
    }

    /// Definitions for `RunInfo.metrics`: named ones (explicit or expanded
    /// from a glob) by key, then globs.
    pub fn infos(&self) -> Vec<v1::MetricInfo> {
        let named = self
            .defined
            .values()
            .map(|m| m.info(m.name.clone(), String::new()));
        let globs = self
            .globs
            .values()
            .map(|m| m.info(String::new(), m.name.clone()));
        named.chain(globs).collect()
    }
}
