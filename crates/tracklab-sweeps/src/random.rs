//! Random search (wandb `random_search.py`): every parameter drawn on its
//! own from its distribution. It never ends by itself: an agent's `count`
//! or the sweep's `run_cap` ends it.

use crate::{Params, Rng, SweepConfig};

pub fn next(c: &SweepConfig, rng: &mut Rng) -> Params {
    c.params
        .iter()
        .map(|p| (p.name.clone(), p.dist.sample(rng)))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn draws_follow_each_distribution() {
        let c = SweepConfig::parse(&json!({"method": "random", "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-1},
            "bs": {"values": [16, 32, 64]}, "layers": {"min": 1, "max": 4}}}))
        .unwrap();
        let mut rng = Rng::new(1);
        let mut seen_bs = std::collections::BTreeSet::new();
        let mut small_lr = 0;
        for _ in 0..3000 {
            let p = next(&c, &mut rng);
            let lr = p["lr"].as_f64().unwrap();
            assert!((1e-4..=1e-1).contains(&lr));
            small_lr += usize::from(lr < 1e-2);
            seen_bs.insert(p["bs"].as_i64().unwrap());
            assert!((1..=4).contains(&p["layers"].as_i64().unwrap()));
        }
        assert_eq!(seen_bs.into_iter().collect::<Vec<_>>(), [16, 32, 64]);
        // Log-uniform: two of the three decades lie below 1e-2.
        assert!((1800..2200).contains(&small_lr), "{small_lr}");
    }
}
