//! The sweep controller's view of one sweep and its decisions: the next
//! parameters to hand out and the runs to stop. Everything is read from the
//! sweeps log's state and from the runs that belong to the sweep (handed
//! out by it, or started with its id); the search itself is
//! `tracklab_sweeps`. Blocking (reads the store): call from a blocking
//! thread.

use std::collections::BTreeMap;

use serde_json::{Map, Value as J, json};
use tonic::Status;
use tracklab_proto::v1::{self, RunState};
use tracklab_state::sweep::{SWEEPS_RUN_ID, Sweep};
use tracklab_state::{Value, key_name};
use tracklab_store::Namespace;
use tracklab_store::history::HistoryQuery;
use tracklab_sweeps::config::{Goal, Method};
use tracklab_sweeps::hyperband::{self, RunCurve};
use tracklab_sweeps::{Params, Rng, SweepConfig, bayes, grid, random};
use tracklab_view::fmt::value_to_json;
use tracklab_view::json::state_name;

use crate::core::Core;

/// One run of a sweep.
pub struct Member {
    pub run_id: String,
    pub params: Params,
    /// `None` until the run has started.
    pub state: Option<RunState>,
    pub name: String,
    /// The metric's finite values in logged order.
    pub curve: Vec<f64>,
    /// The metric's summary value, if a number.
    pub summary: Option<f64>,
    pub stopped: Option<String>,
    pub agent: String,
}

pub struct View {
    pub id: String,
    pub sweep: Sweep,
    pub config: SweepConfig,
    /// The config as given (JSON).
    pub raw: J,
    pub members: Vec<Member>,
}

/// Flattens `{"opt": {"lr": 1}}` to `{"opt.lr": 1}`.
pub fn flatten(prefix: &str, v: &J, out: &mut Params) {
    match v {
        J::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&name, v, out);
            }
        }
        _ => {
            out.insert(prefix.to_string(), v.clone());
        }
    }
}

/// `{"opt.lr": 1}` back to `{"opt": {"lr": 1}}` (what goes into a run's config).
pub fn nest(p: &Params) -> J {
    fn put(node: &mut Map<String, J>, parts: &[&str], v: &J) {
        match parts {
            [] => {}
            [last] => {
                node.insert(last.to_string(), v.clone());
            }
            [first, rest @ ..] => {
                let child = node
                    .entry(first.to_string())
                    .or_insert_with(|| J::Object(Map::new()));
                if !child.is_object() {
                    *child = J::Object(Map::new());
                }
                if let J::Object(m) = child {
                    put(m, rest, v);
                }
            }
        }
    }
    let mut root = Map::new();
    for (name, v) in p {
        let parts: Vec<&str> = name.split('.').collect();
        put(&mut root, &parts, v);
    }
    J::Object(root)
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Float(f) if f.is_finite() => Some(*f),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn store_status(e: tracklab_store::StoreError) -> Status {
    Status::internal(format!("reading the store failed: {e}"))
}

/// The sweep's record, or NOT_FOUND.
pub fn sweep_record(core: &Core, id: &str) -> Result<Sweep, Status> {
    core.run(SWEEPS_RUN_ID)
        .and_then(|r| r.state.sweeps().get(id).cloned())
        .ok_or_else(|| {
            Status::not_found(format!(
                "no sweep {id:?}; `tracklab sweep CONFIG.yaml` creates one, `tracklab sweeps` lists them"
            ))
        })
}

/// Every sweep id the sweeps log holds.
pub fn sweep_ids(core: &Core) -> Vec<String> {
    core.run(SWEEPS_RUN_ID)
        .map(|r| r.state.sweeps().keys().cloned().collect())
        .unwrap_or_default()
}

/// Reads the sweep and its runs.
pub fn load(core: &Core, id: &str) -> Result<View, Status> {
    let sweep = sweep_record(core, id)?;
    let raw: J = serde_json::from_str(&sweep.config_json)
        .map_err(|e| Status::data_loss(format!("sweep {id}'s stored config is not JSON: {e}")))?;
    let config = SweepConfig::parse(&raw)
        .map_err(|e| Status::data_loss(format!("sweep {id}'s stored config: {e}")))?;
    let metric = config.metric.as_ref().map(|m| m.name.clone());
    let mut members: BTreeMap<String, Member> = BTreeMap::new();
    for a in &sweep.assigned {
        let mut params = Params::new();
        if let Ok(v) = serde_json::from_str::<J>(&a.params_json) {
            flatten("", &v, &mut params);
        }
        members.insert(
            a.run_id.clone(),
            Member {
                run_id: a.run_id.clone(),
                params,
                state: None,
                name: String::new(),
                curve: Vec::new(),
                summary: None,
                stopped: None,
                agent: a.agent.clone(),
            },
        );
    }
    for r in core.all_runs() {
        let st = &r.state;
        let assigned = members.contains_key(st.run_id());
        if !st.started() || (!assigned && st.sweep_id() != id) {
            continue;
        }
        let m = members
            .entry(st.run_id().to_string())
            .or_insert_with(|| Member {
                run_id: st.run_id().to_string(),
                params: Params::new(),
                state: None,
                name: String::new(),
                curve: Vec::new(),
                summary: None,
                stopped: None,
                agent: String::new(),
            });
        m.state = Some(st.status());
        m.name = st.run_info().name;
        if m.params.is_empty() {
            // Started with the sweep's id but not handed out: its config.
            let items: BTreeMap<String, v1::Item> = st
                .config_items()
                .into_iter()
                .map(|it| (key_name(&it.path), it))
                .collect();
            for p in &config.params {
                if let Some(v) = items.get(&p.name).and_then(|it| it.value.as_ref()) {
                    m.params.insert(p.name.clone(), value_to_json(v));
                }
            }
        }
        if let Some(name) = &metric {
            let keys = [name.clone()];
            let q = HistoryQuery {
                run_id: st.run_id(),
                keys: &keys,
                ..Default::default()
            };
            for s in core
                .store
                .history(Namespace::History, &q)
                .map_err(store_status)?
            {
                m.curve.extend(s.values.iter().filter_map(number));
            }
            m.summary = st
                .summary_items()
                .into_iter()
                .find(|it| key_name(&it.path) == *name)
                .and_then(|it| it.value)
                .and_then(|v| v.kind)
                .and_then(|k| match k {
                    v1::value::Kind::Float(f) if f.is_finite() => Some(f),
                    v1::value::Kind::Int(i) => Some(i as f64),
                    _ => None,
                });
        }
    }
    for (run_id, why) in &sweep.stopped {
        if let Some(m) = members.get_mut(run_id) {
            m.stopped = Some(why.clone());
        }
    }
    let mut members: Vec<Member> = members.into_values().collect();
    let order: BTreeMap<&str, usize> = sweep
        .assigned
        .iter()
        .enumerate()
        .map(|(i, a)| (a.run_id.as_str(), i))
        .collect();
    members.sort_by_key(|m| order.get(m.run_id.as_str()).copied().unwrap_or(usize::MAX));
    Ok(View {
        id: id.to_string(),
        sweep,
        config,
        raw,
        members,
    })
}

fn finished(s: Option<RunState>) -> bool {
    matches!(
        s,
        Some(RunState::Finished | RunState::Failed | RunState::Crashed)
    )
}

impl View {
    fn goal(&self) -> Goal {
        self.config
            .metric
            .as_ref()
            .map_or(Goal::Minimize, |m| m.goal)
    }

    /// A member's best value (history and summary), minimise space.
    fn best(&self, m: &Member) -> Option<f64> {
        let flip = |v: f64| if self.goal() == Goal::Maximize { -v } else { v };
        m.curve
            .iter()
            .copied()
            .chain(m.summary)
            .map(flip)
            .fold(None, |acc: Option<f64>, v| {
                Some(acc.map_or(v, |a| a.min(v)))
            })
    }

    fn cap_reached(&self) -> Option<String> {
        let cap = self.config.run_cap?;
        (self.sweep.assigned.len() as u64 >= cap)
            .then(|| format!("sweep {} reached its run_cap of {cap}", self.id))
    }

    /// The first grid point no member has.
    fn grid_next(&self) -> Option<Params> {
        let seen: Vec<Params> = self.members.iter().map(|m| m.params.clone()).collect();
        grid::next(&self.config, &seen)
    }

    fn grid_done(&self) -> String {
        format!(
            "sweep {}'s grid is done: all {} combinations have run",
            self.id,
            grid::size(&self.config)
        )
    }

    /// Why the sweep can hand out no more runs ever (grid done, run_cap
    /// reached), if so.
    pub fn exhausted(&self) -> Option<String> {
        self.cap_reached().or_else(|| {
            (self.config.method == Method::Grid && self.grid_next().is_none())
                .then(|| self.grid_done())
        })
    }

    /// The next parameters, or why there are none.
    pub fn next(&self, rng: &mut Rng) -> Result<Params, String> {
        match self.sweep.state.as_str() {
            "running" => {}
            "paused" => return Err(format!("sweep {} is paused", self.id)),
            "finished" => {
                return Err(self
                    .exhausted()
                    .unwrap_or_else(|| format!("sweep {} is finished", self.id)));
            }
            other => return Err(format!("sweep {} is {other}", self.id)),
        }
        if let Some(why) = self.cap_reached() {
            return Err(why);
        }
        match self.config.method {
            Method::Grid => self.grid_next().ok_or_else(|| self.grid_done()),
            Method::Random => Ok(random::next(&self.config, rng)),
            Method::Bayes => {
                // Failed runs count as the worst result seen (wandb's
                // default `impute: worst`).
                let done: Vec<&Member> =
                    self.members.iter().filter(|m| finished(m.state)).collect();
                let worst = done
                    .iter()
                    .filter_map(|m| self.best(m))
                    .fold(None, |a: Option<f64>, v| Some(a.map_or(v, |a| a.max(v))))
                    .unwrap_or(0.0);
                let results: Vec<(Params, f64)> = done
                    .iter()
                    .map(|m| {
                        let y = match m.state {
                            Some(RunState::Finished) => self.best(m).unwrap_or(worst),
                            _ => worst,
                        };
                        (m.params.clone(), y)
                    })
                    .collect();
                let pending: Vec<Params> = self
                    .members
                    .iter()
                    .filter(|m| !finished(m.state))
                    .map(|m| m.params.clone())
                    .collect();
                Ok(bayes::next(&self.config, &results, &pending, rng))
            }
        }
    }

    /// Runs hyperband stops now (not yet recorded as stopped).
    pub fn new_stops(&self) -> Vec<(String, String)> {
        let Some(hb) = &self.config.early_terminate else {
            return Vec::new();
        };
        let curves: Vec<RunCurve<'_>> = self
            .members
            .iter()
            .filter(|m| m.state.is_some())
            .map(|m| RunCurve {
                run_id: &m.run_id,
                running: m.state == Some(RunState::Running) && m.stopped.is_none(),
                values: &m.curve,
            })
            .collect();
        hyperband::stops(hb, self.goal(), &curves)
    }

    /// The sweep as the API shows it.
    pub fn doc(&self) -> J {
        let metric = self.config.metric.as_ref();
        let state_name = |s: Option<RunState>| s.map_or("pending", |s| state_name(s as i32));
        let flip = |v: f64| if self.goal() == Goal::Maximize { -v } else { v };
        let runs: Vec<J> = self
            .members
            .iter()
            .map(|m| {
                json!({
                    "id": m.run_id,
                    "name": m.name,
                    "state": state_name(m.state),
                    "params": nest(&m.params),
                    "flat_params": m.params,
                    "metric": m.curve.last().copied().or(m.summary),
                    "best": self.best(m).map(flip),
                    "iterations": m.curve.len(),
                    "stopped": m.stopped.is_some(),
                    "stop_reason": m.stopped,
                    "agent": m.agent,
                })
            })
            .collect();
        let best = self
            .members
            .iter()
            .filter_map(|m| self.best(m).map(|b| (b, &m.run_id)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(b, id)| json!({"run_id": id, "value": flip(b)}));
        json!({
            "id": self.id,
            "project": self.sweep.project,
            "name": self.config.name,
            "method": match self.config.method {
                Method::Grid => "grid",
                Method::Random => "random",
                Method::Bayes => "bayes",
            },
            "metric": metric.map(|m| json!({
                "name": m.name,
                "goal": if m.goal == Goal::Maximize { "maximize" } else { "minimize" },
            })),
            "state": self.sweep.state,
            "created_us": self.sweep.created_us,
            "parameters": self.config.params.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
            "grid_size": (self.config.method == Method::Grid).then(|| grid::size(&self.config) as u64),
            "run_cap": self.config.run_cap,
            "early_terminate": self.config.early_terminate.as_ref().map(|h| json!({
                "type": "hyperband", "bands": h.bands.iter().take(8).collect::<Vec<_>>(),
                "eta": h.eta, "strict": h.strict,
            })),
            "config": self.raw,
            "runs": runs,
            "best": best,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flatten_and_nest_invert_each_other() {
        let v = json!({"lr": 0.1, "opt": {"name": "adam", "beta": {"b1": 0.9}}});
        let mut p = Params::new();
        flatten("", &v, &mut p);
        assert_eq!(
            p.keys().collect::<Vec<_>>(),
            ["lr", "opt.beta.b1", "opt.name"]
        );
        assert_eq!(nest(&p), v);
    }
}
