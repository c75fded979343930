//! A sweep configuration, wandb's shape (`wandb/sweeps` `config/schema.json`):
//!
//! ```yaml
//! method: grid | random | bayes
//! metric: {name: val/loss, goal: minimize | maximize}
//! parameters:
//!   lr: {distribution: log_uniform_values, min: 1.0e-5, max: 1.0e-2}
//!   batch_size: {values: [16, 32, 64]}
//!   epochs: {value: 3}
//!   optimizer: {parameters: {momentum: {min: 0.8, max: 0.99}}}  # nested
//! early_terminate: {type: hyperband, min_iter: 3, eta: 3}
//! run_cap: 20
//! program: train.py
//! command: [${env}, ${interpreter}, ${program}, ${args}]
//! ```
//!
//! Without `distribution`, it is inferred as wandb does: `value` constant,
//! `values` categorical (with `probabilities`: weighted), `min`/`max`
//! int_uniform when both are integers and uniform otherwise, `mu`/`sigma`
//! normal. Nested `parameters` flatten to `outer.inner`. Parameters are
//! kept in name order (grid order depends on it).

use serde_json::{Map, Value};

use crate::dist::Dist;
use crate::{ConfigError, bad};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Grid,
    Random,
    Bayes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Minimize,
    Maximize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Metric {
    pub name: String,
    pub goal: Goal,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// Flat name: nested parameters are `outer.inner`.
    pub name: String,
    pub dist: Dist,
}

/// `early_terminate: {type: hyperband}`, with its bands worked out.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyperband {
    /// Iteration counts at which runs are compared, ascending.
    pub bands: Vec<u64>,
    pub eta: f64,
    pub strict: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SweepConfig {
    pub method: Method,
    pub metric: Option<Metric>,
    pub params: Vec<Param>,
    pub early_terminate: Option<Hyperband>,
    pub run_cap: Option<u64>,
    pub name: String,
    pub program: Option<String>,
    pub command: Vec<String>,
}

/// Most values one parameter may give a grid search.
pub const MAX_GRID_VALUES: u128 = 100_000;

/// wandb's default command.
pub const DEFAULT_COMMAND: [&str; 4] = ["${env}", "${interpreter}", "${program}", "${args}"];

fn num(field: &str, v: Option<&Value>, default: Option<f64>) -> Result<f64, ConfigError> {
    match v {
        None => default.ok_or_else(|| bad(field, "is missing")),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| bad(field, format!("must be a number, not {v}"))),
    }
}

fn is_int(v: Option<&Value>) -> bool {
    v.is_some_and(|v| v.is_i64() || v.is_u64())
}

const KNOWN: [&str; 10] = [
    "distribution",
    "value",
    "values",
    "probabilities",
    "min",
    "max",
    "q",
    "mu",
    "sigma",
    "parameters",
];

fn param(name: &str, spec: &Map<String, Value>, out: &mut Vec<Param>) -> Result<(), ConfigError> {
    let field = format!("parameters.{name}");
    if let Some(k) = spec
        .keys()
        .find(|k| !KNOWN.contains(&k.as_str()) && *k != "a" && *k != "b")
    {
        return Err(bad(
            &field,
            format!("unknown key {k:?} (known: {})", KNOWN.join(", ")),
        ));
    }
    if let Some(nested) = spec.get("parameters") {
        let Some(m) = nested.as_object() else {
            return Err(bad(
                format!("{field}.parameters"),
                "must be a map of parameters",
            ));
        };
        let mut names: Vec<&String> = m.keys().collect();
        names.sort();
        for inner in names {
            let Some(s) = m[inner].as_object() else {
                return Err(bad(format!("{field}.parameters.{inner}"), "must be a map"));
            };
            param(&format!("{name}.{inner}"), s, out)?;
        }
        return Ok(());
    }
    let f = |k: &str| format!("{field}.{k}");
    let get = |k: &str| spec.get(k);
    let inferred = if get("value").is_some() {
        "constant"
    } else if get("values").is_some() {
        if get("probabilities").is_some() {
            "categorical_w_probabilities"
        } else {
            "categorical"
        }
    } else if get("min").is_some() || get("max").is_some() {
        if is_int(get("min")) && is_int(get("max")) {
            "int_uniform"
        } else {
            "uniform"
        }
    } else if get("mu").is_some() || get("sigma").is_some() {
        "normal"
    } else {
        return Err(bad(
            &field,
            "give `value`, `values`, `min`/`max` or a `distribution`",
        ));
    };
    let distribution = match get("distribution") {
        None => inferred,
        Some(Value::String(s)) => s.as_str(),
        Some(v) => return Err(bad(f("distribution"), format!("must be a string, not {v}"))),
    };
    let q = || -> Result<(f64, bool), ConfigError> {
        let q = num(&f("q"), get("q"), Some(1.0))?;
        if q <= 0.0 {
            return Err(bad(f("q"), "must be > 0"));
        }
        Ok((q, is_int(get("q"))))
    };
    let range = || -> Result<(f64, f64), ConfigError> {
        let (a, b) = (
            num(&f("min"), get("min"), None)?,
            num(&f("max"), get("max"), None)?,
        );
        if a >= b {
            return Err(bad(
                &field,
                format!("min ({a}) must be less than max ({b})"),
            ));
        }
        Ok((a, b))
    };
    let positive = |(a, b): (f64, f64)| {
        if a <= 0.0 {
            Err(bad(
                f("min"),
                format!("must be > 0 for {distribution}, not {a}"),
            ))
        } else {
            Ok((a, b))
        }
    };
    let normal = || -> Result<(f64, f64), ConfigError> {
        let s = num(&f("sigma"), get("sigma"), Some(1.0))?;
        if s <= 0.0 {
            return Err(bad(f("sigma"), "must be > 0"));
        }
        Ok((num(&f("mu"), get("mu"), Some(0.0))?, s))
    };
    let values = || -> Result<Vec<Value>, ConfigError> {
        match get("values") {
            Some(Value::Array(vs)) if !vs.is_empty() => Ok(vs.clone()),
            _ => Err(bad(f("values"), "must be a non-empty list")),
        }
    };
    let dist = match distribution {
        "constant" => Dist::Constant(
            get("value")
                .cloned()
                .ok_or_else(|| bad(f("value"), "is missing"))?,
        ),
        "categorical" => Dist::Categorical(values()?),
        "categorical_w_probabilities" => {
            let vs = values()?;
            let ps: Vec<f64> = match get("probabilities") {
                Some(Value::Array(ps)) => ps.iter().filter_map(Value::as_f64).collect(),
                _ => Vec::new(),
            };
            if ps.len() != vs.len() || ps.iter().any(|p| *p < 0.0) {
                return Err(bad(f("probabilities"), "must be one number >= 0 per value"));
            }
            if (ps.iter().sum::<f64>() - 1.0).abs() > 1e-6 {
                return Err(bad(f("probabilities"), "must sum to 1"));
            }
            Dist::CategoricalP(vs, ps)
        }
        "int_uniform" => {
            let (a, b) = (get("min"), get("max"));
            if !is_int(a) || !is_int(b) {
                return Err(bad(&field, "int_uniform needs integer min and max"));
            }
            let (a, b) = (
                a.and_then(Value::as_i64).unwrap_or(0),
                b.and_then(Value::as_i64).unwrap_or(0),
            );
            if a >= b {
                return Err(bad(
                    &field,
                    format!("min ({a}) must be less than max ({b})"),
                ));
            }
            if b.checked_sub(a).is_none_or(|d| d >= 1 << 53) {
                return Err(bad(&field, "max - min must be below 2^53"));
            }
            Dist::IntUniform(a, b)
        }
        "uniform" => {
            let (a, b) = range()?;
            Dist::Uniform(a, b)
        }
        "q_uniform" => {
            let ((min, max), (q, int_q)) = (range()?, q()?);
            Dist::QUniform { min, max, q, int_q }
        }
        "log_uniform" => {
            let (a, b) = range()?;
            Dist::LogUniform(a, b)
        }
        "log_uniform_values" => {
            let (a, b) = positive(range()?)?;
            Dist::LogUniformValues(a, b)
        }
        "q_log_uniform" => {
            let ((min, max), (q, int_q)) = (range()?, q()?);
            Dist::QLogUniform { min, max, q, int_q }
        }
        "q_log_uniform_values" => {
            let ((min, max), (q, int_q)) = (positive(range()?)?, q()?);
            Dist::QLogUniformValues { min, max, q, int_q }
        }
        "inv_log_uniform" => {
            let (a, b) = range()?;
            Dist::InvLogUniform(a, b)
        }
        "inv_log_uniform_values" => {
            let (a, b) = positive(range()?)?;
            Dist::InvLogUniformValues(a, b)
        }
        "normal" => {
            let (mu, s) = normal()?;
            Dist::Normal(mu, s)
        }
        "q_normal" => {
            let ((mu, sigma), (q, int_q)) = (normal()?, q()?);
            Dist::QNormal {
                mu,
                sigma,
                q,
                int_q,
            }
        }
        "log_normal" => {
            let (mu, s) = normal()?;
            Dist::LogNormal(mu, s)
        }
        "q_log_normal" => {
            let ((mu, sigma), (q, int_q)) = (normal()?, q()?);
            Dist::QLogNormal {
                mu,
                sigma,
                q,
                int_q,
            }
        }
        "beta" | "q_beta" => {
            return Err(bad(
                f("distribution"),
                format!("{distribution} is not supported yet; use uniform or values"),
            ));
        }
        other => {
            return Err(bad(
                f("distribution"),
                format!(
                    "unknown distribution {other:?} (constant, categorical, categorical_w_probabilities, int_uniform, uniform, q_uniform, log_uniform, log_uniform_values, q_log_uniform(_values), inv_log_uniform(_values), normal, q_normal, log_normal, q_log_normal)"
                ),
            ));
        }
    };
    out.push(Param {
        name: name.to_string(),
        dist,
    });
    Ok(())
}

fn hyperband(v: &Value) -> Result<Option<Hyperband>, ConfigError> {
    let Some(m) = v.as_object() else {
        return Err(bad("early_terminate", "must be a map"));
    };
    match m.get("type").and_then(Value::as_str) {
        Some("hyperband") => {}
        other => {
            return Err(bad(
                "early_terminate.type",
                format!("must be \"hyperband\", not {other:?}"),
            ));
        }
    }
    let eta = num("early_terminate.eta", m.get("eta"), Some(3.0))?;
    if eta <= 1.0 {
        return Err(bad("early_terminate.eta", "must be > 1"));
    }
    let strict = match m.get("strict") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(bad(
                "early_terminate.strict",
                format!("must be true or false, not {v}"),
            ));
        }
    };
    let int = |k: &str| -> Result<Option<u64>, ConfigError> {
        match m.get(k) {
            None => Ok(None),
            Some(v) => v.as_u64().filter(|n| *n >= 1).map(Some).ok_or_else(|| {
                bad(
                    format!("early_terminate.{k}"),
                    format!("must be an integer >= 1, not {v}"),
                )
            }),
        }
    };
    // wandb `hyperband_stopping.py`: max_iter (with s) wins over min_iter.
    let bands = if let Some(max_iter) = int("max_iter")? {
        let s = num("early_terminate.s", m.get("s"), None)
            .map_err(|_| bad("early_terminate.s", "is needed with max_iter"))?;
        let mut band = max_iter as f64;
        let mut bands = Vec::new();
        for _ in 0..(s.max(0.0) as u64) {
            band /= eta;
            if band < 1.0 {
                break;
            }
            bands.push(band as u64);
        }
        bands.sort_unstable();
        bands
    } else if let Some(min_iter) = int("min_iter")? {
        (0..100)
            .map(|k| (min_iter as f64 * eta.powi(k)) as u64)
            .take_while(|b| *b < u64::MAX / 2)
            .collect()
    } else {
        return Err(bad("early_terminate", "give min_iter, or max_iter and s"));
    };
    if bands.is_empty() {
        return Err(bad(
            "early_terminate",
            "these settings give no band to compare runs at",
        ));
    }
    Ok(Some(Hyperband { bands, eta, strict }))
}

impl SweepConfig {
    /// Parses and checks a configuration; the error names the field.
    pub fn parse(v: &Value) -> Result<SweepConfig, ConfigError> {
        let Some(top) = v.as_object() else {
            return Err(bad(
                "(top)",
                "a sweep config is a map with method and parameters",
            ));
        };
        let method = match top.get("method").and_then(Value::as_str) {
            Some("grid") => Method::Grid,
            Some("random") => Method::Random,
            Some("bayes") => Method::Bayes,
            Some(other) => {
                return Err(bad(
                    "method",
                    format!("{other:?} is not grid, random or bayes"),
                ));
            }
            None => return Err(bad("method", "is missing (grid, random or bayes)")),
        };
        let metric = match top.get("metric") {
            None => None,
            Some(Value::Object(m)) => {
                let name = m
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| bad("metric.name", "is missing"))?;
                let goal = match m.get("goal").and_then(Value::as_str) {
                    None | Some("minimize") => Goal::Minimize,
                    Some("maximize") => Goal::Maximize,
                    Some(g) => {
                        return Err(bad(
                            "metric.goal",
                            format!("{g:?} is not minimize or maximize"),
                        ));
                    }
                };
                Some(Metric {
                    name: name.to_string(),
                    goal,
                })
            }
            Some(v) => {
                return Err(bad(
                    "metric",
                    format!("must be a map with name and goal, not {v}"),
                ));
            }
        };
        let Some(ps) = top.get("parameters").and_then(Value::as_object) else {
            return Err(bad(
                "parameters",
                "is missing: a map of parameter names to their values or distribution",
            ));
        };
        if ps.is_empty() {
            return Err(bad("parameters", "is empty"));
        }
        let mut names: Vec<&String> = ps.keys().collect();
        names.sort();
        let mut params = Vec::new();
        for name in names {
            let Some(spec) = ps[name].as_object() else {
                return Err(bad(
                    format!("parameters.{name}"),
                    "must be a map such as {values: [...]}",
                ));
            };
            param(name, spec, &mut params)?;
        }
        params.sort_by(|a, b| a.name.cmp(&b.name));
        let early_terminate = match top.get("early_terminate") {
            None | Some(Value::Null) => None,
            Some(v) => hyperband(v)?,
        };
        if early_terminate.is_some() && metric.is_none() {
            return Err(bad(
                "metric",
                "early_terminate needs a metric to compare runs by",
            ));
        }
        match method {
            Method::Grid => {
                for p in &params {
                    match p.dist.grid_len() {
                        None => {
                            return Err(bad(
                                format!("parameters.{}", p.name),
                                "grid search needs values, value, integer min/max or q_uniform; a continuous distribution cannot be enumerated",
                            ));
                        }
                        Some(n) if n > MAX_GRID_VALUES => {
                            return Err(bad(
                                format!("parameters.{}", p.name),
                                format!(
                                    "{n} values is too many for a grid (at most {MAX_GRID_VALUES}); use random or bayes search"
                                ),
                            ));
                        }
                        Some(_) => {}
                    }
                }
            }
            Method::Bayes => {
                if metric.is_none() {
                    return Err(bad("metric", "bayes search needs a metric to optimise"));
                }
                if !params.iter().any(|p| p.dist.varies()) {
                    return Err(bad(
                        "parameters",
                        "bayes search needs a parameter that varies",
                    ));
                }
            }
            Method::Random => {}
        }
        let run_cap = match top.get("run_cap") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| bad("run_cap", format!("must be an integer > 0, not {v}")))?,
            ),
        };
        let text = |k: &str| -> Result<Option<String>, ConfigError> {
            match top.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => Err(bad(k, format!("must be a string, not {v}"))),
            }
        };
        let command = match top.get("command") {
            None | Some(Value::Null) => DEFAULT_COMMAND.iter().map(|s| s.to_string()).collect(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| bad("command", format!("items must be strings, not {i}")))
                })
                .collect::<Result<_, _>>()?,
            Some(v) => {
                return Err(bad(
                    "command",
                    format!("must be a list of strings, not {v}"),
                ));
            }
        };
        Ok(SweepConfig {
            method,
            metric,
            params,
            early_terminate,
            run_cap,
            name: text("name")?.unwrap_or_default(),
            program: text("program")?,
            command,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: Value) -> Result<SweepConfig, ConfigError> {
        SweepConfig::parse(&v)
    }

    #[test]
    fn distributions_are_inferred_as_wandb_does() {
        let c = parse(json!({"method": "random", "parameters": {
            "a": {"value": 1}, "b": {"values": [1, 2]}, "c": {"min": 1, "max": 5},
            "d": {"min": 0.1, "max": 1}, "e": {"mu": 0, "sigma": 2},
            "f": {"values": ["x", "y"], "probabilities": [0.25, 0.75]},
            "g": {"parameters": {"z": {"value": 3}, "y": {"values": [0.9]}}}}}))
        .unwrap();
        let got: Vec<(&str, &Dist)> = c
            .params
            .iter()
            .map(|p| (p.name.as_str(), &p.dist))
            .collect();
        assert_eq!(got[0], ("a", &Dist::Constant(json!(1))));
        assert_eq!(got[2], ("c", &Dist::IntUniform(1, 5)));
        assert_eq!(got[3], ("d", &Dist::Uniform(0.1, 1.0)));
        assert_eq!(got[4], ("e", &Dist::Normal(0.0, 2.0)));
        assert_eq!(got[6].0, "g.y");
        assert_eq!(got[7].0, "g.z");
        assert_eq!(c.command, DEFAULT_COMMAND.map(String::from).to_vec());
    }

    #[test]
    fn hyperband_bands_follow_wandb() {
        let bands = |et: Value| {
            parse(json!({"method": "random", "metric": {"name": "loss"}, "parameters": {"a": {"value": 1}}, "early_terminate": et}))
                .map(|c| c.early_terminate.unwrap().bands)
        };
        assert_eq!(
            bands(json!({"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3})).unwrap(),
            vec![3, 9]
        );
        assert_eq!(
            bands(json!({"type": "hyperband", "max_iter": 5, "s": 2, "eta": 2})).unwrap(),
            vec![1, 2]
        );
        assert_eq!(
            bands(json!({"type": "hyperband", "min_iter": 3})).unwrap()[..3],
            [3, 9, 27]
        );
        assert!(bands(json!({"type": "median"})).is_err());
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse(json!({"method": "grid", "parameters": {"lr": {"min": 0.1, "max": 1.0}}}))
            .unwrap_err();
        assert_eq!(e.field, "parameters.lr");
        let e = parse(json!({"method": "bayes", "parameters": {"lr": {"min": 0.1, "max": 1.0}}}))
            .unwrap_err();
        assert_eq!(e.field, "metric");
        let e = parse(json!({"method": "random", "parameters": {"lr": {"min": 1.0, "max": 0.1}}}))
            .unwrap_err();
        assert!(e.message.contains("less than"), "{e}");
        let e = parse(json!({"method": "random", "parameters": {"lr": {"distribution": "zipf", "min": 1, "max": 2}}})).unwrap_err();
        assert_eq!(e.field, "parameters.lr.distribution");
        let e = parse(json!({"method": "sobol", "parameters": {}})).unwrap_err();
        assert_eq!(e.field, "method");
        // Huge ranges are refused, not enumerated or overflowed.
        let e = parse(
            json!({"method": "grid", "parameters": {"n": {"min": 0, "max": 1_000_000_000_000u64}}}),
        )
        .unwrap_err();
        assert!(e.message.contains("too many for a grid"), "{e}");
        let e = parse(
            json!({"method": "random", "parameters": {"n": {"min": i64::MIN, "max": i64::MAX}}}),
        )
        .unwrap_err();
        assert!(e.message.contains("2^53"), "{e}");
    }
}
