//! Grid search (wandb `grid_search.py`): the cartesian product of every
//! parameter's values, parameters in name order with the last varying
//! fastest, each combination exactly once: a combination any run of the
//! sweep already has (whatever became of that run) is skipped. `None` when
//! every combination has been handed out.

use std::collections::HashSet;

use serde_json::Value;

use crate::{Params, SweepConfig};

/// A value's identity for deduplication: numbers by value (3.0 is 3).
pub fn canonical(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => format!("{}", x as i64),
        Some(x) => format!("{x:?}"),
        None => v.to_string(),
    }
}

fn key(c: &SweepConfig, p: &Params) -> Option<Vec<String>> {
    c.params
        .iter()
        .map(|param| p.get(&param.name).map(canonical))
        .collect()
}

/// How many combinations the grid has.
pub fn size(c: &SweepConfig) -> u128 {
    c.params
        .iter()
        .map(|p| p.dist.grid_len().unwrap_or(0))
        .fold(1u128, u128::saturating_mul)
}

/// The first combination no run in `seen` has.
pub fn next(c: &SweepConfig, seen: &[Params]) -> Option<Params> {
    let values: Vec<Vec<Value>> = c
        .params
        .iter()
        .map(|p| p.dist.grid_values().unwrap_or_default())
        .collect();
    if values.iter().any(Vec::is_empty) {
        return None;
    }
    let seen: HashSet<Vec<String>> = seen.iter().filter_map(|p| key(c, p)).collect();
    let mut idx = vec![0usize; values.len()];
    loop {
        let combo: Params = c
            .params
            .iter()
            .zip(&idx)
            .zip(&values)
            .map(|((p, &i), vs)| (p.name.clone(), vs[i].clone()))
            .collect();
        if key(c, &combo).is_some_and(|k| !seen.contains(&k)) {
            return Some(combo);
        }
        // Mixed-radix increment, last parameter fastest.
        let mut pos = idx.len();
        loop {
            if pos == 0 {
                return None;
            }
            pos -= 1;
            idx[pos] += 1;
            if idx[pos] < values[pos].len() {
                break;
            }
            idx[pos] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn config() -> SweepConfig {
        SweepConfig::parse(&json!({"method": "grid", "parameters": {
            "b": {"values": ["x", "y", "z"]}, "a": {"values": [1, 2]}, "c": {"value": 0.5}}}))
        .unwrap()
    }

    #[test]
    fn every_combination_once_last_name_fastest() {
        let c = config();
        assert_eq!(size(&c), 6);
        let mut seen = Vec::new();
        while let Some(p) = next(&c, &seen) {
            seen.push(p);
        }
        let got: Vec<(i64, &str)> = seen
            .iter()
            .map(|p| (p["a"].as_i64().unwrap(), p["b"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            [(1, "x"), (1, "y"), (1, "z"), (2, "x"), (2, "y"), (2, "z")]
        );
        assert!(seen.iter().all(|p| p["c"] == json!(0.5)));
    }

    #[test]
    fn a_run_with_floats_for_ints_counts_as_seen() {
        let c = config();
        let mut done: Params = Params::new();
        done.insert("a".into(), json!(1.0));
        done.insert("b".into(), json!("x"));
        done.insert("c".into(), json!(0.5));
        let p = next(&c, &[done]).unwrap();
        assert_eq!((p["a"].clone(), p["b"].clone()), (json!(1), json!("y")));
    }
}
