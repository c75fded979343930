//! Reading series back: key listing, step ranges, and downsampling.

use tracklab_state::Value;

use crate::{SeriesMeta, Store, StoreError, chunk, decode, keys, keys::Namespace};

/// Points of one series, in step order.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesData {
    pub key: String,
    pub steps: Vec<i64>,
    pub values: Vec<Value>,
    /// Points in the requested range before downsampling.
    pub total_points: u64,
}

/// A history read.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery<'a> {
    pub run_id: &'a str,
    /// Empty means every key of the namespace.
    pub keys: &'a [String],
    pub min_step: Option<i64>,
    /// Inclusive.
    pub max_step: Option<i64>,
    /// 0 = no downsampling.
    pub max_points: usize,
}

impl Store {
    /// Every series key of a run in `ns`, with its metadata, sorted by key.
    pub fn series(
        &self,
        ns: Namespace,
        run_id: &str,
    ) -> Result<Vec<(String, SeriesMeta)>, StoreError> {
        let prefix = keys::series_meta_prefix(ns, run_id);
        let mut out = Vec::new();
        for kv in self.scan_prefix(&prefix) {
            let (k, v) = kv?;
            let name = String::from_utf8_lossy(&k[prefix.len()..]).into_owned();
            out.push((name, decode(&k, &v)?));
        }
        Ok(out)
    }

    /// Reads series of a run. Keys without data give empty series.
    pub fn history(
        &self,
        ns: Namespace,
        q: &HistoryQuery<'_>,
    ) -> Result<Vec<SeriesData>, StoreError> {
        let keys: Vec<String> = if q.keys.is_empty() {
            self.series(ns, q.run_id)?
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        } else {
            q.keys.to_vec()
        };
        let lo = q.min_step.unwrap_or(i64::MIN);
        let hi = q.max_step.unwrap_or(i64::MAX);
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let mut s = SeriesData {
                key,
                steps: Vec::new(),
                values: Vec::new(),
                total_points: 0,
            };
            if lo <= hi {
                // One series is read between two commits, never across one.
                let _consistent = self.read_gate();
                self.read_series(ns, q.run_id, &mut s, lo, hi)?;
            }
            s.total_points = s.steps.len() as u64;
            if q.max_points > 0 && s.steps.len() > q.max_points {
                downsample(&mut s, q.max_points);
            }
            out.push(s);
        }
        Ok(out)
    }

    fn read_series(
        &self,
        ns: Namespace,
        run_id: &str,
        s: &mut SeriesData,
        lo: i64,
        hi: i64,
    ) -> Result<(), StoreError> {
        let prefix = keys::chunk_prefix(ns, run_id, &s.key);
        // The chunk holding `lo` starts at or before it: begin at the last
        // chunk whose first step is <= lo.
        let mut start = keys::chunk(ns, run_id, &s.key, lo);
        let mut lo_key = prefix.clone();
        lo_key.extend_from_slice(&keys::ordered_i64(lo));
        lo_key.push(0);
        if let Some(kv) = self.range(prefix.clone(), lo_key).next_back() {
            start = kv?.0.to_vec();
        }
        let mut end = keys::chunk(ns, run_id, &s.key, hi);
        end.push(0);
        for kv in self.range(start, end) {
            let (k, v) = kv?;
            chunk::decode(&v, |step, value| {
                if step >= lo && step <= hi {
                    s.steps.push(step);
                    s.values.push(value);
                }
            })
            .map_err(|e| StoreError::Damaged {
                key: String::from_utf8_lossy(&k).into_owned(),
                reason: e.to_string(),
            })?;
        }
        Ok(())
    }
}

/// Reduces a series to at most `max_points` points that keep its shape: the
/// first and last points, and per bucket the points with the smallest and the
/// largest value (for numbers; the bucket's first point otherwise), in step
/// order. Deterministic.
pub fn downsample(s: &mut SeriesData, max_points: usize) {
    let n = s.steps.len();
    if max_points == 0 || n <= max_points {
        return;
    }
    let mut keep: Vec<usize> = Vec::with_capacity(max_points);
    if max_points < 4 {
        keep.push(0);
        if max_points > 1 {
            keep.push(n - 1);
        }
    } else {
        keep.push(0);
        let buckets = (max_points - 2) / 2;
        let inner = n - 2;
        for b in 0..buckets {
            let from = 1 + b * inner / buckets;
            let to = 1 + (b + 1) * inner / buckets;
            if from >= to {
                continue;
            }
            let (mut lo_i, mut hi_i) = (from, from);
            let mut numeric = false;
            for i in from..to {
                if let Some(v) = s.values[i].as_number() {
                    let lo_v = s.values[lo_i].as_number();
                    let hi_v = s.values[hi_i].as_number();
                    if !numeric {
                        lo_i = i;
                        hi_i = i;
                        numeric = true;
                        continue;
                    }
                    if lo_v.is_some_and(|l| v < l) || v.is_nan() {
                        lo_i = i;
                    }
                    if hi_v.is_some_and(|h| v > h) {
                        hi_i = i;
                    }
                }
            }
            keep.push(lo_i.min(hi_i));
            if lo_i != hi_i {
                keep.push(lo_i.max(hi_i));
            }
        }
        keep.push(n - 1);
    }
    keep.dedup();
    let steps = keep.iter().map(|&i| s.steps[i]).collect();
    let values = keep.iter().map(|&i| s.values[i].clone()).collect();
    s.steps = steps;
    s.values = values;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(vals: &[f64]) -> SeriesData {
        SeriesData {
            key: "k".into(),
            steps: (0..vals.len() as i64).collect(),
            values: vals.iter().map(|&v| Value::Float(v)).collect(),
            total_points: vals.len() as u64,
        }
    }

    #[test]
    fn downsampling_keeps_ends_and_extremes_within_budget() {
        let mut vals: Vec<f64> = (0..10_000).map(|i| (i as f64 / 100.0).sin()).collect();
        vals[5000] = 100.0;
        vals[7000] = -100.0;
        let mut s = series(&vals);
        downsample(&mut s, 200);
        assert!(s.steps.len() <= 200, "{}", s.steps.len());
        assert_eq!(s.steps[0], 0);
        assert_eq!(*s.steps.last().unwrap(), 9999);
        assert!(s.steps.contains(&5000) && s.steps.contains(&7000));
        assert!(s.steps.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn small_series_are_left_alone() {
        let mut s = series(&[1.0, 2.0, 3.0]);
        downsample(&mut s, 10);
        assert_eq!(s.steps.len(), 3);
        downsample(&mut s, 1);
        assert_eq!(s.steps, vec![0]);
    }
}
