//! Hyperband early termination (wandb `hyperband_stopping.py`). A run's
//! "iterations" are the finite values it has logged for the sweep's
//! metric, in order (not `_step`). For each band b, the threshold is taken
//! over every run of the sweep that has reached b iterations (whatever its
//! state): the values at iteration b, sorted best first, at index
//! floor(n / eta). A running run is judged at the largest band it has
//! reached; it is stopped when its value there (strict, the default) or
//! its best value so far is worse than the threshold. Ties survive.

use crate::config::{Goal, Hyperband};

/// One run as hyperband sees it.
pub struct RunCurve<'a> {
    pub run_id: &'a str,
    pub running: bool,
    /// The metric's finite values in logged order.
    pub values: &'a [f64],
}

/// Runs to stop, with the reason.
pub fn stops(hb: &Hyperband, goal: Goal, runs: &[RunCurve<'_>]) -> Vec<(String, String)> {
    // Minimise: flip the sign of a maximised metric.
    let at = |v: f64| if goal == Goal::Maximize { -v } else { v };
    let threshold = |band: u64| -> Option<f64> {
        let mut vs: Vec<f64> = runs
            .iter()
            .filter(|r| r.values.len() as u64 >= band)
            .map(|r| at(r.values[band as usize - 1]))
            .collect();
        if vs.is_empty() {
            return None;
        }
        vs.sort_by(f64::total_cmp);
        Some(vs[((vs.len() as f64 / hb.eta) as usize).min(vs.len() - 1)])
    };
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.running) {
        let n = r.values.len() as u64;
        let Some(&band) = hb.bands.iter().rev().find(|&&b| b <= n) else {
            continue;
        };
        let Some(t) = threshold(band) else { continue };
        let cond = if hb.strict {
            at(r.values[band as usize - 1])
        } else {
            r.values[..n as usize]
                .iter()
                .map(|v| at(*v))
                .fold(f64::INFINITY, f64::min)
        };
        if cond > t {
            let show = |v: f64| if goal == Goal::Maximize { -v } else { v };
            out.push((
                r.run_id.to_string(),
                format!(
                    "hyperband: at iteration {band} its value {} is worse than the band's threshold {}",
                    show(cond),
                    show(t)
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hb() -> Hyperband {
        Hyperband {
            bands: vec![2, 6],
            eta: 3.0,
            strict: true,
        }
    }

    #[test]
    fn the_worse_runs_at_a_band_are_stopped() {
        let a = [1.0, 0.5, 0.4];
        let b = [1.0, 0.9, 0.8];
        let c = [1.0, 0.7];
        let d = [1.0, 0.6];
        let runs = [
            RunCurve {
                run_id: "a",
                running: false,
                values: &a,
            },
            RunCurve {
                run_id: "b",
                running: true,
                values: &b,
            },
            RunCurve {
                run_id: "c",
                running: true,
                values: &c,
            },
            RunCurve {
                run_id: "d",
                running: true,
                values: &d,
            },
        ];
        // Band 2: values 0.5, 0.6, 0.7, 0.9; index floor(4/3) = 1 -> 0.6.
        let got: Vec<String> = stops(&hb(), Goal::Minimize, &runs)
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(got, ["b", "c"]);
        // Maximising, the same numbers stop the other side.
        let got: Vec<String> = stops(&hb(), Goal::Maximize, &runs)
            .into_iter()
            .map(|s| s.0)
            .collect();
        assert_eq!(got, ["d"]);
    }

    #[test]
    fn before_the_first_band_and_alone_nothing_stops() {
        let a = [5.0];
        let b = [9.0, 9.0];
        let runs = [
            RunCurve {
                run_id: "a",
                running: true,
                values: &a,
            },
            RunCurve {
                run_id: "b",
                running: true,
                values: &b,
            },
        ];
        assert!(stops(&hb(), Goal::Minimize, &runs).is_empty());
    }
}
