//! The distributions of sweep parameters (wandb's `params.py`): each maps
//! a point u in [0, 1) to a value (inverse CDF, used by random and bayes
//! search) and a value back to [0, 1] (CDF, for bayes' model).

use serde_json::{Value, json};

use crate::Rng;

#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant(Value),
    Categorical(Vec<Value>),
    /// Values with their probabilities (summing to 1).
    CategoricalP(Vec<Value>, Vec<f64>),
    /// Integers min..=max.
    IntUniform(i64, i64),
    Uniform(f64, f64),
    /// `round(U(min, max) / q) * q`; `int_q`: q was an integer, so are values.
    QUniform {
        min: f64,
        max: f64,
        q: f64,
        int_q: bool,
    },
    /// `exp(U(min, max))`: min and max are exponents (wandb's v1).
    LogUniform(f64, f64),
    /// `exp(U(ln min, ln max))`.
    LogUniformValues(f64, f64),
    QLogUniform {
        min: f64,
        max: f64,
        q: f64,
        int_q: bool,
    },
    QLogUniformValues {
        min: f64,
        max: f64,
        q: f64,
        int_q: bool,
    },
    /// `exp(-U(min, max))`.
    InvLogUniform(f64, f64),
    /// A value in [min, max] whose inverse is log-uniform.
    InvLogUniformValues(f64, f64),
    Normal(f64, f64),
    QNormal {
        mu: f64,
        sigma: f64,
        q: f64,
        int_q: bool,
    },
    LogNormal(f64, f64),
    QLogNormal {
        mu: f64,
        sigma: f64,
        q: f64,
        int_q: bool,
    },
}

fn quantize(x: f64, q: f64, int_q: bool) -> Value {
    let v = (x / q).round() * q;
    if int_q {
        json!(v.round() as i64)
    } else {
        json!(v)
    }
}

/// Standard normal CDF, through erf by Abramowitz & Stegun 7.1.26
/// (absolute error < 1.5e-7).
pub fn normal_cdf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    let erf = if x >= 0.0 { y } else { -y };
    0.5 * (1.0 + erf)
}

/// Standard normal inverse CDF (Acklam's algorithm, relative error < 1.2e-9).
pub fn normal_ppf(p: f64) -> f64 {
    let p = p.clamp(1e-12, 1.0 - 1e-12);
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

fn index_of(values: &[Value], v: &Value) -> Option<usize> {
    values.iter().position(|x| same_value(x, v))
}

/// Equal as sweep values: numbers by value (3.0 equals 3), the rest exactly.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl Dist {
    /// Whether the parameter varies (everything but a constant).
    pub fn varies(&self) -> bool {
        !matches!(self, Dist::Constant(_))
    }

    /// A random value.
    pub fn sample(&self, rng: &mut Rng) -> Value {
        self.ppf(rng.unit())
    }

    /// The value at quantile `u` in [0, 1).
    pub fn ppf(&self, u: f64) -> Value {
        let u = u.clamp(0.0, 1.0 - 1e-12);
        let lerp = |a: f64, b: f64| a + u * (b - a);
        match self {
            Dist::Constant(v) => v.clone(),
            Dist::Categorical(vs) => vs[((u * vs.len() as f64) as usize).min(vs.len() - 1)].clone(),
            Dist::CategoricalP(vs, ps) => {
                let mut acc = 0.0;
                for (v, p) in vs.iter().zip(ps) {
                    acc += p;
                    if u < acc {
                        return v.clone();
                    }
                }
                vs[vs.len() - 1].clone()
            }
            Dist::IntUniform(a, b) => {
                // The config keeps max - min below 2^53 (exact in f64).
                let n = (b - a + 1) as f64;
                json!(a.saturating_add((u * n) as i64).min(*b))
            }
            Dist::Uniform(a, b) => json!(lerp(*a, *b)),
            Dist::QUniform { min, max, q, int_q } => quantize(lerp(*min, *max), *q, *int_q),
            Dist::LogUniform(a, b) => json!(lerp(*a, *b).exp()),
            Dist::LogUniformValues(a, b) => json!(lerp(a.ln(), b.ln()).exp()),
            Dist::QLogUniform { min, max, q, int_q } => {
                quantize(lerp(*min, *max).exp(), *q, *int_q)
            }
            Dist::QLogUniformValues { min, max, q, int_q } => {
                quantize(lerp(min.ln(), max.ln()).exp(), *q, *int_q)
            }
            Dist::InvLogUniform(a, b) => json!((-lerp(*a, *b)).exp()),
            Dist::InvLogUniformValues(a, b) => json!((-lerp(-b.ln(), -a.ln())).exp()),
            Dist::Normal(mu, s) => json!(mu + s * normal_ppf(u)),
            Dist::QNormal {
                mu,
                sigma,
                q,
                int_q,
            } => quantize(mu + sigma * normal_ppf(u), *q, *int_q),
            Dist::LogNormal(mu, s) => json!((mu + s * normal_ppf(u)).exp()),
            Dist::QLogNormal {
                mu,
                sigma,
                q,
                int_q,
            } => quantize((mu + sigma * normal_ppf(u)).exp(), *q, *int_q),
        }
    }

    /// Where `v` sits in the distribution, in [0, 1]; `None` when `v` is
    /// not one of its values (a run whose config was edited by hand).
    pub fn cdf(&self, v: &Value) -> Option<f64> {
        let unit = |x: f64, a: f64, b: f64| ((x - a) / (b - a)).clamp(0.0, 1.0);
        let x = v.as_f64();
        Some(match self {
            Dist::Constant(_) => 0.5,
            // The middle of the value's slice, so ppf(cdf(v)) == v.
            Dist::Categorical(vs) => (index_of(vs, v)? as f64 + 0.5) / vs.len() as f64,
            Dist::CategoricalP(vs, ps) => {
                let i = index_of(vs, v)?;
                ps[..i].iter().sum::<f64>() + ps[i] / 2.0
            }
            Dist::IntUniform(a, b) => (x? - *a as f64 + 0.5) / ((b - a + 1) as f64),
            Dist::Uniform(a, b) | Dist::QUniform { min: a, max: b, .. } => unit(x?, *a, *b),
            Dist::LogUniform(a, b) | Dist::QLogUniform { min: a, max: b, .. } => {
                unit(x?.max(f64::MIN_POSITIVE).ln(), *a, *b)
            }
            Dist::LogUniformValues(a, b) | Dist::QLogUniformValues { min: a, max: b, .. } => {
                unit(x?.max(f64::MIN_POSITIVE).ln(), a.ln(), b.ln())
            }
            Dist::InvLogUniform(a, b) => unit(-x?.max(f64::MIN_POSITIVE).ln(), *a, *b),
            Dist::InvLogUniformValues(a, b) => {
                unit(-x?.max(f64::MIN_POSITIVE).ln(), -b.ln(), -a.ln())
            }
            Dist::Normal(mu, s) | Dist::QNormal { mu, sigma: s, .. } => normal_cdf((x? - mu) / s),
            Dist::LogNormal(mu, s) | Dist::QLogNormal { mu, sigma: s, .. } => {
                normal_cdf((x?.max(f64::MIN_POSITIVE).ln() - mu) / s)
            }
        })
    }

    /// How many values a grid search goes through (without listing them),
    /// or `None` when the distribution is continuous.
    pub fn grid_len(&self) -> Option<u128> {
        match self {
            Dist::Constant(_) => Some(1),
            Dist::Categorical(vs) => Some(vs.len() as u128),
            Dist::IntUniform(a, b) => Some((i128::from(*b) - i128::from(*a) + 1).max(0) as u128),
            Dist::QUniform { min, max, q, .. } => Some(((max - min) / q).ceil().max(0.0) as u128),
            _ => None,
        }
    }

    /// The values a grid search goes through, or `None` when the
    /// distribution is continuous (wandb: categorical, constant,
    /// int_uniform with max included, q_uniform with max excluded).
    pub fn grid_values(&self) -> Option<Vec<Value>> {
        match self {
            Dist::Constant(v) => Some(vec![v.clone()]),
            Dist::Categorical(vs) => Some(vs.clone()),
            Dist::IntUniform(a, b) => Some((*a..=*b).map(|i| json!(i)).collect()),
            Dist::QUniform { min, max, q, int_q } => {
                let n = ((max - min) / q).ceil().max(0.0) as usize;
                Some(
                    (0..n)
                        .map(|i| {
                            let x = min + i as f64 * q;
                            if *int_q {
                                json!(x.round() as i64)
                            } else {
                                json!(x)
                            }
                        })
                        .collect(),
                )
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_and_ppf_invert_each_other() {
        for p in [0.001, 0.02, 0.3, 0.5, 0.77, 0.99] {
            let z = normal_ppf(p);
            assert!((normal_cdf(z) - p).abs() < 1e-6, "{p} -> {z}");
        }
        assert!((normal_ppf(0.975) - 1.959_964).abs() < 1e-5);
    }

    #[test]
    fn ppf_then_cdf_is_the_identity_on_values() {
        let dists = [
            Dist::Categorical(vec![json!("a"), json!("b"), json!("c")]),
            Dist::IntUniform(1, 10),
            Dist::Uniform(-1.0, 3.0),
            Dist::LogUniformValues(1e-5, 1e-1),
            Dist::LogUniform(-3.0, 0.0),
            Dist::InvLogUniformValues(0.1, 10.0),
            Dist::Normal(2.0, 0.5),
            Dist::LogNormal(0.0, 1.0),
        ];
        for d in &dists {
            for u in [0.05, 0.35, 0.5, 0.8] {
                let v = d.ppf(u);
                let back = d.ppf(d.cdf(&v).unwrap());
                assert!(
                    same_value(&v, &back)
                        || (v.as_f64().unwrap() - back.as_f64().unwrap()).abs() < 1e-6,
                    "{d:?}: {v} vs {back}"
                );
            }
        }
    }

    #[test]
    fn ranges_are_kept() {
        let mut rng = Rng::new(7);
        for _ in 0..2000 {
            let i = Dist::IntUniform(1, 3).sample(&mut rng).as_i64().unwrap();
            assert!((1..=3).contains(&i));
            let l = Dist::LogUniformValues(1e-4, 1e-2)
                .sample(&mut rng)
                .as_f64()
                .unwrap();
            assert!((1e-4..=1e-2).contains(&l));
            let v = Dist::InvLogUniformValues(0.5, 2.0)
                .sample(&mut rng)
                .as_f64()
                .unwrap();
            assert!((0.5 - 1e-12..=2.0 + 1e-12).contains(&v), "{v}");
            let q = Dist::QUniform {
                min: 0.0,
                max: 10.0,
                q: 2.0,
                int_q: true,
            }
            .sample(&mut rng);
            assert!(q.as_i64().unwrap() % 2 == 0);
        }
    }

    #[test]
    fn grid_values_follow_wandb() {
        assert_eq!(
            Dist::IntUniform(1, 3).grid_values().unwrap(),
            vec![json!(1), json!(2), json!(3)]
        );
        assert_eq!(
            Dist::QUniform {
                min: 0.0,
                max: 1.0,
                q: 0.25,
                int_q: false
            }
            .grid_values()
            .unwrap(),
            vec![json!(0.0), json!(0.25), json!(0.5), json!(0.75)]
        );
        assert!(Dist::Uniform(0.0, 1.0).grid_values().is_none());
    }
}
