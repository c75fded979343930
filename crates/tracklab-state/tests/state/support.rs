//! Record builders and a small driver that applies records to one run.

use std::collections::BTreeMap;

use tracklab_proto::v1;
use tracklab_state::{Applied, HistoryRow, RunState, Value, Warning, apply, split_key_name};
use v1::record::Payload;

pub const RUN_ID: &str = "run-1";
/// Timestamp of the first record; every record is one second after the previous.
pub const T0_US: i64 = 1_700_000_000_000_000;
pub const T0_S: f64 = 1_700_000_000.0;

pub fn f(x: f64) -> Value {
    Value::Float(x)
}

pub fn i(x: i64) -> Value {
    Value::Int(x)
}

pub fn s(x: &str) -> Value {
    Value::Str(x.to_string())
}

/// An item whose path is given as a flat key name (`a.b` nests, `a\.b` does not).
pub fn item(key: &str, value: Value) -> v1::Item {
    v1::Item {
        path: split_key_name(key),
        value: Some(value.to_proto()),
    }
}

pub fn items(pairs: &[(&str, Value)]) -> Vec<v1::Item> {
    pairs.iter().map(|(k, v)| item(k, v.clone())).collect()
}

pub fn path(key: &str) -> v1::Path {
    v1::Path {
        path: split_key_name(key),
    }
}

pub fn start() -> Payload {
    Payload::RunStart(v1::RunStart {
        project: "proj".into(),
        name: "first".into(),
        tags: vec!["a".into()],
        host: "host-1".into(),
        pid: 100,
        ..Default::default()
    })
}

pub fn resume(mode: v1::ResumeMode, pid: u32) -> Payload {
    Payload::RunStart(v1::RunStart {
        project: "proj".into(),
        host: "host-2".into(),
        pid,
        resume: mode as i32,
        ..Default::default()
    })
}

pub fn log(pairs: &[(&str, Value)], step: Option<i64>, flush: Option<bool>) -> Payload {
    Payload::History(v1::PartialHistory {
        items: items(pairs),
        step,
        flush,
    })
}

/// `wandb.log(pairs)`: no step, no commit.
pub fn log1(pairs: &[(&str, Value)]) -> Payload {
    log(pairs, None, None)
}

pub fn summary(update: &[(&str, Value)], remove: &[&str]) -> Payload {
    Payload::Summary(v1::SummaryUpdate {
        update: items(update),
        remove: remove.iter().map(|k| path(k)).collect(),
    })
}

pub fn config(update: &[(&str, Value)], remove: &[&str]) -> Payload {
    Payload::Config(v1::ConfigUpdate {
        update: items(update),
        remove: remove.iter().map(|k| path(k)).collect(),
    })
}

/// `define_metric` with a summary spec such as "min,max" ("" for none given).
pub fn metric(name: &str, summary: &str) -> v1::MetricDefinition {
    let mut def = v1::MetricDefinition::default();
    if name.ends_with('*') {
        def.glob_name = name.into();
    } else {
        def.name = name.into();
    }
    if !summary.is_empty() {
        let mut s = v1::MetricSummary::default();
        for op in summary.split(',') {
            match op {
                "min" => s.min = true,
                "max" => s.max = true,
                "mean" => s.mean = true,
                "first" => s.first = true,
                "last" => s.last = true,
                "none" => s.none = true,
                other => panic!("unknown summary op {other}"),
            }
        }
        def.summary = Some(s);
    }
    def
}

pub fn exit(code: i32) -> Payload {
    Payload::Exit(v1::RunExit {
        exit_code: code,
        crashed: false,
    })
}

/// One run and one writer; collects everything `apply` emits.
pub struct Run {
    pub state: RunState,
    pub writer_id: u64,
    pub seq: u64,
    /// Index of the next record; its timestamp is `T0_US + index` seconds.
    pub index: i64,
    pub rows: Vec<HistoryRow>,
    pub warnings: Vec<Warning>,
    pub applied: Vec<Applied>,
}

impl Run {
    pub fn new() -> Run {
        Run {
            state: RunState::new(RUN_ID),
            writer_id: 7,
            seq: 0,
            index: 0,
            rows: Vec::new(),
            warnings: Vec::new(),
            applied: Vec::new(),
        }
    }

    /// A run whose first record (at T0) is a plain `RunStart`.
    pub fn started() -> Run {
        let mut run = Run::new();
        run.send(start());
        run
    }

    pub fn record(&mut self, payload: Payload) -> v1::Record {
        self.seq += 1;
        let rec = v1::Record {
            run_id: RUN_ID.into(),
            writer_id: self.writer_id,
            seq: self.seq,
            timestamp_us: T0_US + self.index * 1_000_000,
            payload: Some(payload),
        };
        self.index += 1;
        rec
    }

    pub fn apply(&mut self, rec: &v1::Record) -> Applied {
        let applied = apply(&mut self.state, rec);
        self.rows.extend(applied.rows.iter().cloned());
        self.warnings.extend(applied.warnings.iter().cloned());
        self.applied.push(applied.clone());
        applied
    }

    pub fn send(&mut self, payload: Payload) -> Applied {
        let rec = self.record(payload);
        self.apply(&rec)
    }

    /// Switches to a new writer (a resumed attachment), seq restarting at 1.
    pub fn new_writer(&mut self, writer_id: u64) {
        self.writer_id = writer_id;
        self.seq = 0;
    }

    /// The summary as a map from flat key name to value.
    pub fn summary(&self) -> BTreeMap<String, Value> {
        to_map(self.state.summary_items())
    }

    pub fn config(&self) -> BTreeMap<String, Value> {
        to_map(self.state.config_items())
    }

    /// The user items of every row (without `_step`, `_runtime`, `_timestamp`).
    pub fn user_rows(&self) -> Vec<(i64, BTreeMap<String, Value>)> {
        self.rows
            .iter()
            .map(|r| {
                let items = r
                    .items
                    .iter()
                    .filter(|(k, _)| !k.starts_with('_'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                (r.step, items)
            })
            .collect()
    }
}

pub fn to_map(items: Vec<v1::Item>) -> BTreeMap<String, Value> {
    items
        .into_iter()
        .map(|it| {
            let value = it
                .value
                .as_ref()
                .and_then(Value::from_proto)
                .expect("value");
            (tracklab_state::key_name(&it.path), value)
        })
        .collect()
}

pub fn map(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}
