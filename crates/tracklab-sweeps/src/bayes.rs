//! Bayesian search (wandb `bayes_search.py`): each varying parameter is
//! mapped into [0, 1] through its CDF; a Gaussian process with a Matérn
//! (ν = 3/2) kernel is fitted to the finished runs' standardised metric
//! (minimised); runs still in flight enter as "fantasies" at the model's
//! own prediction; the next point is the best expected improvement among
//! 1 000 uniform random candidates. With fewer than two results the point
//! is random, as in wandb. The kernel's length scale is the one of a small
//! grid with the highest marginal likelihood (wandb lets sklearn optimise
//! it); at most the last 100 results are used.

use crate::dist::normal_cdf;
use crate::{Params, Rng, SweepConfig, random};

const CANDIDATES: usize = 1000;
const MAX_SAMPLES: usize = 100;
const MAX_PENDING: usize = 95;
const JITTER: f64 = 1e-6;
const LENGTH_SCALES: [f64; 7] = [0.05, 0.1, 0.2, 0.35, 0.6, 1.0, 2.0];

fn matern32(a: &[f64], b: &[f64], l: f64) -> f64 {
    let r = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt();
    let s = 3f64.sqrt() * r / l;
    (1.0 + s) * (-s).exp()
}

/// Lower-triangular L with L·Lᵀ = K, or None when K is not positive definite.
fn cholesky(k: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = k.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|m| l[i][m] * l[j][m]).sum();
            if i == j {
                let d = k[i][i] - s;
                if d <= 0.0 {
                    return None;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (k[i][j] - s) / l[j][j];
            }
        }
    }
    Some(l)
}

/// Solves L·x = b (forward) then, with `transpose`, Lᵀ·x = b (backward).
fn solve(l: &[Vec<f64>], b: &[f64], transpose: bool) -> Vec<f64> {
    let n = b.len();
    let mut x = vec![0.0; n];
    if !transpose {
        for i in 0..n {
            let s: f64 = (0..i).map(|m| l[i][m] * x[m]).sum();
            x[i] = (b[i] - s) / l[i][i];
        }
    } else {
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|m| l[m][i] * x[m]).sum();
            x[i] = (b[i] - s) / l[i][i];
        }
    }
    x
}

/// A fitted Gaussian process on standardised targets.
struct Gp {
    xs: Vec<Vec<f64>>,
    l: Vec<Vec<f64>>,
    alpha: Vec<f64>,
    scale: f64,
}

impl Gp {
    fn fit(xs: Vec<Vec<f64>>, ys: &[f64], scale: f64) -> Option<(Gp, f64)> {
        let n = xs.len();
        let k: Vec<Vec<f64>> = (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| matern32(&xs[i], &xs[j], scale) + if i == j { JITTER } else { 0.0 })
                    .collect()
            })
            .collect();
        let l = cholesky(&k)?;
        let alpha = solve(&l, &solve(&l, ys, false), true);
        // log p(y) = -½ yᵀα - Σ log Lᵢᵢ - n/2 log 2π
        let fit = -0.5 * ys.iter().zip(&alpha).map(|(y, a)| y * a).sum::<f64>()
            - (0..n).map(|i| l[i][i].ln()).sum::<f64>();
        Some((
            Gp {
                xs,
                l,
                alpha,
                scale,
            },
            fit,
        ))
    }

    /// Mean and standard deviation at `x`.
    fn predict(&self, x: &[f64]) -> (f64, f64) {
        let k: Vec<f64> = self
            .xs
            .iter()
            .map(|xi| matern32(xi, x, self.scale))
            .collect();
        let mean = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let v = solve(&self.l, &k, false);
        let var = (1.0 + JITTER - v.iter().map(|x| x * x).sum::<f64>()).max(1e-12);
        (mean, var.sqrt())
    }
}

fn expected_improvement(mean: f64, sd: f64, best: f64) -> f64 {
    let z = (best - mean) / (sd + 1e-6);
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    (best - mean) * normal_cdf(z) + sd * pdf
}

/// The next parameters. `results` are finished runs' (params, metric in
/// minimise space: negate a maximised metric); `pending` are runs in flight.
pub fn next(
    c: &SweepConfig,
    results: &[(Params, f64)],
    pending: &[Params],
    rng: &mut Rng,
) -> Params {
    let dims: Vec<usize> = (0..c.params.len())
        .filter(|&i| c.params[i].dist.varies())
        .collect();
    let encode = |p: &Params| -> Option<Vec<f64>> {
        dims.iter()
            .map(|&i| {
                let param = &c.params[i];
                param.dist.cdf(p.get(&param.name)?)
            })
            .collect()
    };
    let mut obs: Vec<(Vec<f64>, f64)> = results
        .iter()
        .filter(|(_, y)| y.is_finite())
        .filter_map(|(p, y)| encode(p).map(|x| (x, *y)))
        .collect();
    if obs.len() > MAX_SAMPLES {
        obs.drain(..obs.len() - MAX_SAMPLES);
    }
    if obs.len() < 2 {
        return random::next(c, rng);
    }
    let n = obs.len() as f64;
    let mean = obs.iter().map(|o| o.1).sum::<f64>() / n;
    let sd = (obs.iter().map(|o| (o.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let mut xs: Vec<Vec<f64>> = obs.iter().map(|o| o.0.clone()).collect();
    let mut ys: Vec<f64> = obs.iter().map(|o| (o.1 - mean) / (sd + 1e-6)).collect();
    let Some((mut gp, scale)) = LENGTH_SCALES
        .iter()
        .filter_map(|&s| Gp::fit(xs.clone(), &ys, s).map(|(gp, fit)| (gp, fit, s)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(gp, _, s)| (gp, s))
    else {
        return random::next(c, rng);
    };
    let fantasies: Vec<Vec<f64>> = pending
        .iter()
        .filter_map(encode)
        .take(MAX_PENDING)
        .collect();
    if !fantasies.is_empty() {
        for f in fantasies {
            ys.push(gp.predict(&f).0);
            xs.push(f);
        }
        match Gp::fit(xs, &ys, scale) {
            Some((refit, _)) => gp = refit,
            None => return random::next(c, rng),
        }
    }
    let best = ys[..obs.len()]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let mut top: Option<(f64, Vec<f64>)> = None;
    for _ in 0..CANDIDATES {
        let x: Vec<f64> = dims.iter().map(|_| rng.unit()).collect();
        let (m, s) = gp.predict(&x);
        let ei = expected_improvement(m, s, best);
        if top.as_ref().is_none_or(|t| ei > t.0) {
            top = Some((ei, x));
        }
    }
    let x = top.map(|t| t.1).unwrap_or_default();
    let mut out = Params::new();
    for (i, p) in c.params.iter().enumerate() {
        let v = match dims.iter().position(|&d| d == i) {
            Some(k) => p.dist.ppf(x[k]),
            None => p.dist.ppf(0.5),
        };
        out.insert(p.name.clone(), v);
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// On a smooth 1-D function, bayes' picks concentrate near the minimum
    /// far more than random picks do.
    #[test]
    fn finds_the_minimum_of_a_bowl() {
        let c = SweepConfig::parse(&json!({"method": "bayes", "metric": {"name": "loss"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}}}))
        .unwrap();
        let f = |x: f64| (x - 0.73).powi(2);
        let mut rng = Rng::new(3);
        let mut results: Vec<(Params, f64)> = Vec::new();
        for _ in 0..20 {
            let p = next(&c, &results, &[], &mut rng);
            let x = p["x"].as_f64().unwrap();
            results.push((p, f(x)));
        }
        let best = results.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
        assert!(best < 1e-3, "best {best}");
        let near = results[10..]
            .iter()
            .filter(|r| (r.0["x"].as_f64().unwrap() - 0.73).abs() < 0.1)
            .count();
        assert!(near >= 5, "{near} of the last 10 picks near the minimum");
    }

    #[test]
    fn pending_runs_push_the_next_pick_elsewhere() {
        let c = SweepConfig::parse(&json!({"method": "bayes", "metric": {"name": "loss"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}}}))
        .unwrap();
        let p = |x: f64| Params::from([("x".to_string(), json!(x))]);
        let results = vec![(p(0.1), 1.0), (p(0.5), 0.2), (p(0.9), 1.0)];
        let mut rng = Rng::new(5);
        let first = next(&c, &results, &[], &mut rng)["x"].as_f64().unwrap();
        let mut rng = Rng::new(5);
        let second = next(&c, &results, &[p(first)], &mut rng)["x"]
            .as_f64()
            .unwrap();
        assert!((first - second).abs() > 1e-3, "{first} then {second}");
    }
}
