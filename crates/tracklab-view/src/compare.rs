//! `tracklab compare RUN…`: config differences and summary metrics side by
//! side, with the best run per metric marked; rendered as the Markdown report
//! people paste into a PR, as CSV, or as JSON.

use std::collections::{BTreeMap, BTreeSet};

use tracklab_proto::v1::value::Kind;
use tracklab_proto::v1::{self, Item, RunInfo, Value};

use crate::fmt::{item_key, split_key, value_to_exact_string, value_to_json, value_to_string};
use crate::table::Table;

/// Which direction of a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Lower is better.
    Min,
    /// Higher is better.
    Max,
}

impl Goal {
    /// `min` or `max`.
    pub fn as_str(self) -> &'static str {
        match self {
            Goal::Min => "min",
            Goal::Max => "max",
        }
    }

    /// `↓` or `↑`.
    pub fn arrow(self) -> &'static str {
        match self {
            Goal::Min => "↓",
            Goal::Max => "↑",
        }
    }

    /// The goal of a `define_metric` goal field; `None` when unset or unknown.
    pub fn from_proto(goal: i32) -> Option<Goal> {
        match v1::Goal::try_from(goal) {
            Ok(v1::Goal::Minimize) => Some(Goal::Min),
            Ok(v1::Goal::Maximize) => Some(Goal::Max),
            _ => None,
        }
    }
}

/// What to compare.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompareOptions {
    /// Exactly these summary keys (flat keys), in this order; `None` for
    /// every numeric summary key.
    pub metrics: Option<Vec<String>>,
    /// The goal for metrics without a `define_metric` goal (`--goal`).
    pub goal: Option<Goal>,
    /// Show every config key, not only those that differ.
    pub all_config: bool,
}

/// The compared runs, config rows and metric rows; see [`compare`].
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// `(run_id, name)` per run, in the order given.
    pub runs: Vec<(String, String)>,
    /// Config key and its display value per run (`None`: the run lacks it).
    pub config: Vec<(String, Vec<Option<String>>)>,
    /// One row per compared metric.
    pub metrics: Vec<MetricRow>,
}

/// One summary metric across the runs.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricRow {
    /// Flat summary key, e.g. `val/loss` or `val/loss.min`.
    pub key: String,
    /// The value per run (`None`: the run lacks it).
    pub values: Vec<Option<Value>>,
    /// Which direction is better, if known.
    pub goal: Option<Goal>,
    /// Index of the best run: the lowest or highest finite number (the first
    /// one on ties); `None` without a goal or without numbers.
    pub best: Option<usize>,
}

/// Summary aggregates that `define_metric(summary=…)` adds as a last path
/// element (`loss` → `loss.min`).
const AGGREGATES: [&str; 5] = ["min", "max", "mean", "first", "last"];

/// Name fragments of metrics where lower is better (checked first).
const LOWER_IS_BETTER: [&str; 10] = [
    "loss",
    "error",
    "err",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "mse",
    "mae",
    "rmse",
];

/// Name fragments of metrics where higher is better.
const HIGHER_IS_BETTER: [&str; 12] = [
    "acc",
    "f1",
    "auc",
    "precision",
    "recall",
    "bleu",
    "rouge",
    "score",
    "reward",
    "return",
    "map",
    "iou",
];

/// Compares runs.
///
/// Config rows: every config key (flat key, see [`item_key`]) whose value
/// differs between the runs, a key missing from some run counting as a
/// difference; with `all_config` every key. Sorted by key. Values are shown
/// in the short form of [`value_to_string`], or with every digit when two
/// different values would otherwise look the same.
///
/// Metric rows: the keys of `opts.metrics` in that order (a key no run has
/// gets a row of `None`s), else every summary key that holds a number (float
/// or int; bools do not count) in at least one run, except internal keys
/// starting with `_` (`_step`, `_runtime`, `_timestamp`), sorted.
///
/// The goal of a metric is, in this order:
/// 1. the `define_metric` goal of the first run that has one for the key: a
///    definition named as the key, else the longest glob (`train/*`) that
///    prefix-matches it (as the daemon expands globs);
/// 2. for an aggregate key such as `val/loss.min` (last path element `min`,
///    `max`, `mean`, `first` or `last`): the `define_metric` goal of the key
///    without it (`val/loss`), else Min for `min` and Max for `max`;
/// 3. `opts.goal` (`--goal`);
/// 4. the metric's name: in the last `/`-segment of the key (without an
///    aggregate suffix), lowercased, a fragment `loss`, `error`, `err`,
///    `perplexity`, `ppl`, `wer`, `cer`, `mse`, `mae` or `rmse` means Min;
///    else `acc`, `f1`, `auc`, `precision`, `recall`, `bleu`, `rouge`,
///    `score`, `reward`, `return`, `map` or `iou` means Max;
/// 5. otherwise none, and no best run is marked.
pub fn compare(runs: &[RunInfo], opts: &CompareOptions) -> Comparison {
    let configs: Vec<BTreeMap<String, &Value>> = runs.iter().map(|r| by_key(&r.config)).collect();
    let summaries: Vec<BTreeMap<String, &Value>> =
        runs.iter().map(|r| by_key(&r.summary)).collect();

    let config_keys: BTreeSet<&String> = configs.iter().flat_map(BTreeMap::keys).collect();
    let config = config_keys
        .into_iter()
        .filter_map(|key| {
            let values: Vec<Option<&Value>> = configs.iter().map(|c| c.get(key).copied()).collect();
            let differs = values.iter().any(|v| match (v, values[0]) {
                (Some(a), Some(b)) => !values_equal(a, b),
                _ => true,
            });
            (differs || opts.all_config).then(|| (key.clone(), config_strings(&values)))
        })
        .collect();

    let metric_keys: Vec<String> = match &opts.metrics {
        Some(keys) => keys.clone(),
        None => summaries
            .iter()
            .flat_map(|s| s.iter())
            .filter(|(key, value)| !key.starts_with('_') && number(value).is_some())
            .map(|(key, _)| key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    let metrics = metric_keys
        .into_iter()
        .map(|key| {
            let values: Vec<Option<Value>> = summaries
                .iter()
                .map(|s| s.get(&key).map(|v| (*v).clone()))
                .collect();
            let goal = metric_goal(&key, runs, opts.goal);
            let best = goal.and_then(|g| best_index(&values, g));
            MetricRow {
                key,
                values,
                goal,
                best,
            }
        })
        .collect();

    Comparison {
        runs: runs
            .iter()
            .map(|r| (r.run_id.clone(), r.name.clone()))
            .collect(),
        config,
        metrics,
    }
}

/// Items by flat key; items without a value are left out.
fn by_key(items: &[Item]) -> BTreeMap<String, &Value> {
    items
        .iter()
        .filter_map(|item| Some((item_key(&item.path), item.value.as_ref()?)))
        .collect()
}

/// Whether two config values are the same: same kind and contents, NaN equal
/// to NaN, and an int equal to a float of the same number.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (&a.kind, &b.kind) {
        (Some(Kind::Float(x)), Some(Kind::Float(y))) => x == y || (x.is_nan() && y.is_nan()),
        (Some(Kind::Int(i)), Some(Kind::Float(x))) | (Some(Kind::Float(x)), Some(Kind::Int(i))) => {
            *i as f64 == *x
        }
        (ka, kb) => ka == kb,
    }
}

/// Display strings of one config row: short, unless two different values
/// would look the same, then with every digit.
fn config_strings(values: &[Option<&Value>]) -> Vec<Option<String>> {
    let short: Vec<Option<String>> = values.iter().map(|v| v.map(value_to_string)).collect();
    let ambiguous = values.iter().enumerate().any(|(i, a)| {
        values
            .iter()
            .enumerate()
            .skip(i + 1)
            .any(|(j, b)| match (a, b) {
                (Some(a), Some(b)) => !values_equal(a, b) && short[i] == short[j],
                _ => false,
            })
    });
    if ambiguous {
        values
            .iter()
            .map(|v| v.map(value_to_exact_string))
            .collect()
    } else {
        short
    }
}

/// A float or int value as `f64` (bools and everything else: `None`).
fn number(v: &Value) -> Option<f64> {
    match v.kind {
        Some(Kind::Float(x)) => Some(x),
        Some(Kind::Int(i)) => Some(i as f64),
        _ => None,
    }
}

/// The index of the best finite number; the first one on ties.
fn best_index(values: &[Option<Value>], goal: Goal) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, x) in values.iter().enumerate() {
        let Some(x) = x.as_ref().and_then(number).filter(|x| x.is_finite()) else {
            continue;
        };
        let better = match best {
            None => true,
            Some((_, b)) => match goal {
                Goal::Min => x < b,
                Goal::Max => x > b,
            },
        };
        if better {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// The goal of a metric key; the order is documented at [`compare`].
fn metric_goal(key: &str, runs: &[RunInfo], fallback: Option<Goal>) -> Option<Goal> {
    let path = split_key(key);
    if let Some(goal) = defined_goal(&path, runs) {
        return Some(goal);
    }
    let mut name_key = key.to_string();
    if let [base @ .., last] = path.as_slice()
        && !base.is_empty()
        && AGGREGATES.contains(&last.as_str())
    {
        let implied = match last.as_str() {
            "min" => Some(Goal::Min),
            "max" => Some(Goal::Max),
            _ => None,
        };
        if let Some(goal) = defined_goal(base, runs).or(implied) {
            return Some(goal);
        }
        name_key = item_key(base);
    }
    fallback.or_else(|| goal_from_name(&name_key))
}

/// The `define_metric` goal for a path in the first run that defines one:
/// the definition named as the path, else (when the run has no definition
/// by that name) the longest glob matching its flat key. Globs never match
/// internal keys (first element starting with `_`), as in the daemon.
fn defined_goal(path: &[String], runs: &[RunInfo]) -> Option<Goal> {
    let key = item_key(path);
    let internal = path.first().is_some_and(|p| p.starts_with('_'));
    runs.iter().find_map(|run| {
        let named = run
            .metrics
            .iter()
            .find(|m| !m.name.is_empty() && split_key(&m.name) == path);
        match named {
            Some(m) => Goal::from_proto(m.goal),
            None if internal => None,
            None => run
                .metrics
                .iter()
                .filter(|m| {
                    let prefix = m.glob_name.strip_suffix('*').unwrap_or(&m.glob_name);
                    !m.glob_name.is_empty() && key.starts_with(prefix)
                })
                .max_by_key(|m| m.glob_name.len())
                .and_then(|m| Goal::from_proto(m.goal)),
        }
    })
}

/// The goal suggested by a metric's name (see [`compare`], step 4).
fn goal_from_name(key: &str) -> Option<Goal> {
    let last = key.rsplit('/').next().unwrap_or(key).to_lowercase();
    if LOWER_IS_BETTER.iter().any(|w| last.contains(w)) {
        Some(Goal::Min)
    } else if HIGHER_IS_BETTER.iter().any(|w| last.contains(w)) {
        Some(Goal::Max)
    } else {
        None
    }
}

/// The line under the Markdown table.
const LEGEND: &str = "★ best run per metric (↓ lower is better, ↑ higher is better; \
                      goal from define_metric, --goal, or the metric's name)";

/// Shown for a missing value.
const MISSING: &str = "–";

/// The Markdown report: one table with a `**config**` section (differing
/// config keys, or `*(no differences)*`) and a `**summary**` section (metric
/// keys with their goal arrow; the best value bold and followed by ` ★`),
/// then a legend line. Missing values are `–`.
pub fn render_markdown(c: &Comparison) -> String {
    let mut headers = vec![String::new()];
    headers.extend(c.runs.iter().map(|(id, name)| run_label(id, name)));
    let blanks = c.runs.len();
    let section = |title: &str| {
        let mut row = vec![title.to_string()];
        row.extend(std::iter::repeat_n(String::new(), blanks));
        row
    };
    let mut t = Table::new(headers);
    t.push(section("**config**"));
    if c.config.is_empty() {
        t.push(section("*(no differences)*"));
    }
    for (key, values) in &c.config {
        let mut row = vec![key.clone()];
        row.extend(
            values
                .iter()
                .map(|v| v.clone().unwrap_or_else(|| MISSING.to_string())),
        );
        t.push(row);
    }
    t.push(section("**summary**"));
    if c.metrics.is_empty() {
        t.push(section("*(no metrics)*"));
    }
    for m in &c.metrics {
        let mut row = vec![match m.goal {
            Some(g) => format!("{} {}", m.key, g.arrow()),
            None => m.key.clone(),
        }];
        row.extend(m.values.iter().enumerate().map(|(i, v)| match v {
            None => MISSING.to_string(),
            Some(v) if m.best == Some(i) => format!("**{}** ★", value_to_string(v)),
            Some(v) => value_to_string(v),
        }));
        t.push(row);
    }
    // A blank line ends the table; a line right after it would become a row.
    format!("{}\n{LEGEND}\n", t.to_markdown())
}

/// `name (id)`, or just the id when the run has no name or is named by it.
fn run_label(id: &str, name: &str) -> String {
    if name.is_empty() || name == id {
        id.to_string()
    } else {
        format!("{name} ({id})")
    }
}

/// CSV: header `section,key,goal,<run ids…>,best_run`, then one line per
/// config row (section `config`) and metric row (section `summary`, goal
/// `min`/`max`/empty, values with every digit, `best_run` the best run's
/// id). Missing values are empty cells.
pub fn render_csv(c: &Comparison) -> String {
    let mut headers: Vec<String> = ["section", "key", "goal"].map(String::from).to_vec();
    headers.extend(c.runs.iter().map(|(id, _)| id.clone()));
    headers.push("best_run".to_string());
    let mut t = Table::new(headers);
    for (key, values) in &c.config {
        let mut row = vec!["config".to_string(), key.clone(), String::new()];
        row.extend(values.iter().map(|v| v.clone().unwrap_or_default()));
        row.push(String::new());
        t.push(row);
    }
    for m in &c.metrics {
        let goal = m.goal.map_or("", Goal::as_str);
        let mut row = vec!["summary".to_string(), m.key.clone(), goal.to_string()];
        row.extend(
            m.values
                .iter()
                .map(|v| v.as_ref().map(value_to_exact_string).unwrap_or_default()),
        );
        row.push(best_run_id(c, m).unwrap_or_default().to_string());
        t.push(row);
    }
    t.to_csv()
}

fn best_run_id<'a>(c: &'a Comparison, m: &MetricRow) -> Option<&'a str> {
    m.best
        .and_then(|i| c.runs.get(i))
        .map(|(id, _)| id.as_str())
}

/// JSON: `{"runs":[{"id","name"}], "config":[{"key","values":[string|null]}],
/// "metrics":[{"key","goal":"min"|"max"|null,"values":[value|null],
/// "best_run":id|null}]}`, values as in [`value_to_json`].
pub fn to_json(c: &Comparison) -> serde_json::Value {
    use serde_json::json;
    let runs: Vec<_> = c
        .runs
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect();
    let config: Vec<_> = c
        .config
        .iter()
        .map(|(key, values)| json!({"key": key, "values": values}))
        .collect();
    let metrics: Vec<_> = c
        .metrics
        .iter()
        .map(|m| {
            let values: Vec<_> = m
                .values
                .iter()
                .map(|v| v.as_ref().map_or(serde_json::Value::Null, value_to_json))
                .collect();
            json!({
                "key": m.key,
                "goal": m.goal.map(Goal::as_str),
                "values": values,
                "best_run": best_run_id(c, m),
            })
        })
        .collect();
    json!({"runs": runs, "config": config, "metrics": metrics})
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracklab_proto::v1::MetricInfo;

    fn val(kind: Kind) -> Value {
        Value { kind: Some(kind) }
    }

    fn fl(x: f64) -> Kind {
        Kind::Float(x)
    }

    fn item(path: &[&str], kind: Kind) -> Item {
        Item {
            path: path.iter().map(|s| s.to_string()).collect(),
            value: Some(val(kind)),
        }
    }

    fn run(id: &str, config: Vec<Item>, summary: Vec<Item>) -> RunInfo {
        RunInfo {
            run_id: id.to_string(),
            name: format!("{id}-name"),
            config,
            summary,
            ..Default::default()
        }
    }

    fn named(name: &str, goal: v1::Goal) -> MetricInfo {
        MetricInfo {
            name: name.to_string(),
            goal: goal as i32,
            ..Default::default()
        }
    }

    fn glob(glob: &str, goal: v1::Goal) -> MetricInfo {
        MetricInfo {
            glob_name: glob.to_string(),
            goal: goal as i32,
            ..Default::default()
        }
    }

    fn row<'a>(c: &'a Comparison, key: &str) -> &'a MetricRow {
        c.metrics.iter().find(|m| m.key == key).unwrap()
    }

    fn goals(runs: &[RunInfo], opts: &CompareOptions) -> Vec<(String, Option<Goal>)> {
        compare(runs, opts)
            .metrics
            .into_iter()
            .map(|m| (m.key, m.goal))
            .collect()
    }

    #[test]
    fn config_rows_show_only_differences_sorted() {
        let a = run(
            "a",
            vec![
                item(&["lr"], fl(0.01)),
                item(&["opt", "name"], Kind::Str("adam".into())),
                item(&["seed"], Kind::Int(1)),
                item(&["only_a"], Kind::Bool(true)),
                item(&["nan"], fl(f64::NAN)),
                item(&["one"], Kind::Int(1)),
            ],
            vec![],
        );
        let b = run(
            "b",
            vec![
                item(&["seed"], Kind::Int(1)),
                item(&["lr"], fl(0.02)),
                item(&["opt", "name"], Kind::Str("adam".into())),
                item(&["nan"], fl(f64::NAN)),
                item(&["one"], fl(1.0)),
            ],
            vec![],
        );
        let c = compare(&[a.clone(), b.clone()], &CompareOptions::default());
        assert_eq!(
            c.config,
            vec![
                ("lr".into(), vec![Some("0.01".into()), Some("0.02".into())]),
                ("only_a".into(), vec![Some("true".into()), None]),
            ]
        );
        let all = compare(
            &[a, b],
            &CompareOptions {
                all_config: true,
                ..Default::default()
            },
        );
        let keys: Vec<&str> = all.config.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["lr", "nan", "one", "only_a", "opt.name", "seed"]);
    }

    #[test]
    fn close_config_values_show_every_digit() {
        let a = run("a", vec![item(&["lr"], fl(0.0010000001))], vec![]);
        let b = run("b", vec![item(&["lr"], fl(0.001))], vec![]);
        let c = compare(&[a, b], &CompareOptions::default());
        assert_eq!(
            c.config,
            vec![(
                "lr".into(),
                vec![Some("0.0010000001".into()), Some("0.001".into())]
            )]
        );
    }

    #[test]
    fn config_keys_with_dots_are_escaped() {
        let a = run("a", vec![item(&["a.b"], Kind::Int(1))], vec![]);
        let b = run("b", vec![item(&["a", "b"], Kind::Int(1))], vec![]);
        let c = compare(&[a, b], &CompareOptions::default());
        let keys: Vec<&str> = c.config.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a.b", "a\\.b"]);
    }

    #[test]
    fn metric_rows_are_numeric_non_internal_sorted() {
        let a = run(
            "a",
            vec![],
            vec![
                item(&["zeta"], fl(1.0)),
                item(&["_step"], Kind::Int(100)),
                item(&["_runtime"], fl(3.0)),
                item(&["text"], Kind::Str("hi".into())),
                item(&["flag"], Kind::Bool(true)),
                item(&["mixed"], Kind::Str("n/a".into())),
                item(&["val", "loss"], fl(0.5)),
            ],
        );
        let b = run(
            "b",
            vec![],
            vec![item(&["mixed"], Kind::Int(3)), item(&["beta"], fl(2.0))],
        );
        let c = compare(&[a, b], &CompareOptions::default());
        let keys: Vec<&str> = c.metrics.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["beta", "mixed", "val.loss", "zeta"]);
        assert_eq!(
            row(&c, "mixed").values,
            vec![Some(val(Kind::Str("n/a".into()))), Some(val(Kind::Int(3)))]
        );
        assert_eq!(row(&c, "beta").values, vec![None, Some(val(fl(2.0)))]);
    }

    #[test]
    fn metrics_option_keeps_order_and_unknown_keys() {
        let a = run(
            "a",
            vec![],
            vec![item(&["acc"], fl(0.9)), item(&["loss"], fl(0.1))],
        );
        let opts = CompareOptions {
            metrics: Some(vec![
                "loss".into(),
                "nope".into(),
                "acc".into(),
                "_step".into(),
            ]),
            ..Default::default()
        };
        let c = compare(&[a], &opts);
        let keys: Vec<&str> = c.metrics.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["loss", "nope", "acc", "_step"]);
        assert_eq!(row(&c, "nope").values, vec![None]);
        assert_eq!(row(&c, "nope").best, None);
        assert_eq!(row(&c, "loss").best, Some(0));
    }

    #[test]
    fn goal_from_name_heuristic() {
        let keys = [
            ("train/loss", Some(Goal::Min)),
            ("val/Error_rate", Some(Goal::Min)),
            ("ppl", Some(Goal::Min)),
            ("eval/rmse", Some(Goal::Min)),
            ("val/acc", Some(Goal::Max)),
            ("top1_accuracy", Some(Goal::Max)),
            ("f1", Some(Goal::Max)),
            ("episode_reward", Some(Goal::Max)),
            ("mAP50", Some(Goal::Max)),
            ("loss/lr", None),
            ("epoch", None),
            ("throughput", None),
        ];
        let a = run(
            "a",
            vec![],
            keys.iter().map(|(k, _)| item(&[k], fl(1.0))).collect(),
        );
        let got: BTreeMap<String, Option<Goal>> = goals(&[a], &CompareOptions::default())
            .into_iter()
            .collect();
        for (k, want) in keys {
            assert_eq!(got[k], want, "{k}");
        }
    }

    #[test]
    fn define_metric_goal_overrides_name_and_option() {
        let mut a = run("a", vec![], vec![item(&["val/loss"], fl(0.2))]);
        let b = run("b", vec![], vec![item(&["val/loss"], fl(0.1))]);
        a.metrics = vec![named("val/loss", v1::Goal::Maximize)];
        let opts = CompareOptions {
            goal: Some(Goal::Min),
            ..Default::default()
        };
        let c = compare(&[a, b], &opts);
        assert_eq!(row(&c, "val/loss").goal, Some(Goal::Max));
        assert_eq!(row(&c, "val/loss").best, Some(0));
    }

    #[test]
    fn goal_option_overrides_name() {
        let a = run(
            "a",
            vec![],
            vec![item(&["loss"], fl(1.0)), item(&["epoch"], fl(3.0))],
        );
        let opts = CompareOptions {
            goal: Some(Goal::Max),
            ..Default::default()
        };
        assert_eq!(
            goals(&[a], &opts),
            vec![
                ("epoch".into(), Some(Goal::Max)),
                ("loss".into(), Some(Goal::Max))
            ]
        );
    }

    #[test]
    fn glob_goal_longest_wins_and_named_blocks_glob() {
        let mut a = run(
            "a",
            vec![],
            vec![
                item(&["train/speed"], fl(1.0)),
                item(&["train/fast/speed"], fl(1.0)),
                item(&["train/acc"], fl(1.0)),
                item(&["eval/speed"], fl(1.0)),
            ],
        );
        a.metrics = vec![
            glob("train/*", v1::Goal::Minimize),
            glob("train/fast/*", v1::Goal::Maximize),
            named("train/acc", v1::Goal::Unset),
        ];
        let got: BTreeMap<String, Option<Goal>> = goals(&[a], &CompareOptions::default())
            .into_iter()
            .collect();
        assert_eq!(got["train/speed"], Some(Goal::Min));
        assert_eq!(got["train/fast/speed"], Some(Goal::Max));
        // Named without a goal: the glob does not apply; the name decides.
        assert_eq!(got["train/acc"], Some(Goal::Max));
        assert_eq!(got["eval/speed"], None);
    }

    #[test]
    fn goal_comes_from_first_run_defining_one() {
        let a = run("a", vec![], vec![item(&["m"], fl(1.0))]);
        let mut b = run("b", vec![], vec![item(&["m"], fl(2.0))]);
        let mut c = run("c", vec![], vec![]);
        b.metrics = vec![named("m", v1::Goal::Maximize)];
        c.metrics = vec![named("m", v1::Goal::Minimize)];
        let cmp = compare(&[a, b, c], &CompareOptions::default());
        assert_eq!(row(&cmp, "m").goal, Some(Goal::Max));
        assert_eq!(row(&cmp, "m").best, Some(1));
    }

    #[test]
    fn aggregate_suffix_goals() {
        let mut a = run(
            "a",
            vec![],
            vec![
                item(&["val/x", "min"], fl(1.0)),
                item(&["val/x", "max"], fl(1.0)),
                item(&["val/acc", "min"], fl(1.0)),
                item(&["val/y", "mean"], fl(1.0)),
                item(&["val/loss", "last"], fl(1.0)),
                item(&["val/z", "last"], fl(1.0)),
            ],
        );
        a.metrics = vec![named("val/y", v1::Goal::Maximize)];
        let got: BTreeMap<String, Option<Goal>> = goals(&[a], &CompareOptions::default())
            .into_iter()
            .collect();
        assert_eq!(got["val/x.min"], Some(Goal::Min));
        assert_eq!(got["val/x.max"], Some(Goal::Max));
        // The suffix implies the goal before the metric's name does.
        assert_eq!(got["val/acc.min"], Some(Goal::Min));
        assert_eq!(got["val/y.mean"], Some(Goal::Max));
        assert_eq!(got["val/loss.last"], Some(Goal::Min));
        assert_eq!(got["val/z.last"], None);
    }

    #[test]
    fn defined_goal_of_base_beats_suffix() {
        let mut a = run("a", vec![], vec![item(&["score", "min"], fl(1.0))]);
        a.metrics = vec![named("score", v1::Goal::Maximize)];
        assert_eq!(
            goals(&[a], &CompareOptions::default()),
            vec![("score.min".into(), Some(Goal::Max))]
        );
    }

    #[test]
    fn metric_names_with_literal_dots_match() {
        let mut a = run("a", vec![], vec![item(&["a.b"], fl(1.0))]);
        a.metrics = vec![named("a\\.b", v1::Goal::Maximize)];
        assert_eq!(
            goals(&[a], &CompareOptions::default()),
            vec![("a\\.b".into(), Some(Goal::Max))]
        );
    }

    #[test]
    fn best_ties_nan_and_missing() {
        let runs = [
            run("a", vec![], vec![item(&["loss"], fl(f64::NAN))]),
            run("b", vec![], vec![]),
            run("c", vec![], vec![item(&["loss"], fl(0.3))]),
            run("d", vec![], vec![item(&["loss"], fl(f64::NEG_INFINITY))]),
            run("e", vec![], vec![item(&["loss"], Kind::Int(0))]),
            run("f", vec![], vec![item(&["loss"], fl(0.0))]),
        ];
        let c = compare(&runs, &CompareOptions::default());
        assert_eq!(row(&c, "loss").best, Some(4));
        let only_nan = compare(&runs[..2], &CompareOptions::default());
        assert_eq!(row(&only_nan, "loss").best, None);
        assert_eq!(row(&only_nan, "loss").goal, Some(Goal::Min));
    }

    #[test]
    fn no_goal_no_best() {
        let runs = [
            run("a", vec![], vec![item(&["epoch"], fl(1.0))]),
            run("b", vec![], vec![item(&["epoch"], fl(2.0))]),
        ];
        let c = compare(&runs, &CompareOptions::default());
        assert_eq!(row(&c, "epoch").goal, None);
        assert_eq!(row(&c, "epoch").best, None);
    }

    fn two_runs() -> Vec<RunInfo> {
        let mut a = run(
            "r1",
            vec![
                item(&["lr"], fl(0.01)),
                item(&["arch"], Kind::Str("a|b".into())),
            ],
            vec![item(&["val/loss"], fl(0.25)), item(&["acc"], fl(0.9))],
        );
        a.name = "baseline".into();
        let b = run(
            "r2",
            vec![
                item(&["lr"], fl(0.001)),
                item(&["arch"], Kind::Str("a|b".into())),
            ],
            vec![item(&["val/loss"], fl(0.125))],
        );
        vec![a, b]
    }

    #[test]
    fn markdown_report() {
        let c = compare(&two_runs(), &CompareOptions::default());
        let want = "\
|             | baseline (r1) | r2-name (r2) |
| ----------- | ------------: | -----------: |
| **config**  |               |              |
| lr          |          0.01 |        0.001 |
| **summary** |               |              |
| acc ↑       |     **0.9** ★ |            – |
| val/loss ↓  |          0.25 |  **0.125** ★ |

★ best run per metric (↓ lower is better, ↑ higher is better; goal from define_metric, --goal, or the metric's name)
";
        assert_eq!(render_markdown(&c), want);
    }

    #[test]
    fn markdown_escapes_pipes_and_reports_no_differences() {
        let runs = two_runs();
        let c = compare(
            &runs,
            &CompareOptions {
                all_config: true,
                metrics: Some(vec!["a|b".into()]),
                ..Default::default()
            },
        );
        let md = render_markdown(&c);
        assert!(
            md.contains("| arch        | a\\|b          | a\\|b         |"),
            "{md}"
        );
        assert!(md.contains("| a\\|b        | –"), "{md}");
        let same = compare(&runs[..1], &CompareOptions::default());
        let md = render_markdown(&same);
        assert!(md.contains("| **config**         |"), "{md}");
        assert!(md.contains("| *(no differences)* |"), "{md}");
        let none = compare(&[], &CompareOptions::default());
        let md = render_markdown(&none);
        assert!(
            md.contains("*(no differences)*") && md.contains("*(no metrics)*"),
            "{md}"
        );
    }

    #[test]
    fn run_labels() {
        assert_eq!(run_label("abc", ""), "abc");
        assert_eq!(run_label("abc", "abc"), "abc");
        assert_eq!(run_label("abc", "x"), "x (abc)");
    }

    #[test]
    fn csv_report() {
        let mut runs = two_runs();
        runs[1]
            .config
            .push(item(&["note"], Kind::Str("a, \"b\"".into())));
        runs[1].summary.push(item(&["acc"], fl(0.9)));
        let c = compare(&runs, &CompareOptions::default());
        let want = "\
section,key,goal,r1,r2,best_run
config,lr,,0.01,0.001,
config,note,,,\"a, \"\"b\"\"\",
summary,acc,max,0.9,0.9,r1
summary,val/loss,min,0.25,0.125,r2
";
        assert_eq!(render_csv(&c), want);
    }

    #[test]
    fn csv_keeps_every_digit_and_empty_best() {
        let runs = [run(
            "a",
            vec![],
            vec![
                item(&["epoch"], fl(0.1234567891)),
                item(&["x"], fl(f64::NAN)),
            ],
        )];
        let c = compare(&runs, &CompareOptions::default());
        assert_eq!(
            render_csv(&c),
            "section,key,goal,a,best_run\nsummary,epoch,,0.1234567891,\nsummary,x,,NaN,\n"
        );
    }

    #[test]
    fn json_report() {
        use serde_json::json;
        let mut runs = two_runs();
        runs[1].summary.push(item(&["acc"], fl(f64::NAN)));
        let c = compare(&runs, &CompareOptions::default());
        assert_eq!(
            to_json(&c),
            json!({
                "runs": [{"id": "r1", "name": "baseline"}, {"id": "r2", "name": "r2-name"}],
                "config": [{"key": "lr", "values": ["0.01", "0.001"]}],
                "metrics": [
                    {"key": "acc", "goal": "max", "values": [0.9, "NaN"], "best_run": "r1"},
                    {"key": "val/loss", "goal": "min", "values": [0.25, 0.125], "best_run": "r2"},
                ],
            })
        );
        let missing = compare(
            &runs[..1],
            &CompareOptions {
                metrics: Some(vec!["epoch".into()]),
                ..Default::default()
            },
        );
        assert_eq!(
            to_json(&missing)["metrics"],
            json!([{"key": "epoch", "goal": null, "values": [null], "best_run": null}])
        );
    }
}
