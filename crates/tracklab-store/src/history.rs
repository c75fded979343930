//! Reading series back: key listing, step ranges, and downsampling.

use tracklab_state::Value;

use crate::downsample::Downsampler;
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
                self.read_series(ns, q.run_id, &mut s, lo, hi, q.max_points)?;
            }
            out.push(s);
        }
        Ok(out)
    }

    /// Reads one series' points in `lo..=hi` into `s`, downsampled to
    /// `max_points` (0: all). It first counts the points (the chunk headers
    /// hold the counts; only the two edge chunks of the range are decoded
    /// for it), then decodes the chunks once, into vectors of that size or,
    /// downsampled, through the downsampler: a long series is never held
    /// whole in memory to be downsampled.
    fn read_series(
        &self,
        ns: Namespace,
        run_id: &str,
        s: &mut SeriesData,
        lo: i64,
        hi: i64,
        max_points: usize,
    ) -> Result<(), StoreError> {
        let chunks = self.chunks_in_range(ns, run_id, &s.key, lo, hi)?;
        let counted = count_in_range(&chunks, lo, hi)?;
        if max_points > 0 && counted > max_points {
            let n = counted;
            {
                let mut d = Downsampler::new(n, max_points);
                let mut seen = 0usize;
                for_each_in_range(&chunks, lo, hi, |step, value| {
                    seen += 1;
                    d.push(step, value);
                })?;
                if seen == n {
                    s.total_points = n as u64;
                    (s.steps, s.values) = d.finish();
                    return Ok(());
                }
                // The headers disagree with the points (steps out of order
                // across chunks): fall back to reading everything.
                tracing::warn!(
                    run_id,
                    key = %s.key,
                    counted = n,
                    decoded = seen,
                    "history chunk counts disagree with their points; reading the series whole"
                );
            }
        }
        // A point takes at least 2 bytes: a damaged count cannot make this
        // reserve more than the chunks could hold.
        let bytes: usize = chunks.iter().map(|(_, v)| v.len()).sum();
        let expect = counted.min(bytes / 2);
        s.steps.clear();
        s.values.clear();
        s.steps.reserve_exact(expect);
        s.values.reserve_exact(expect);
        for_each_in_range(&chunks, lo, hi, |step, value| {
            s.steps.push(step);
            s.values.push(value);
        })?;
        s.total_points = s.steps.len() as u64;
        if max_points > 0 {
            downsample(s, max_points);
        }
        Ok(())
    }

    /// The stored chunks of a series that may hold steps in `lo..=hi`, in
    /// step order.
    fn chunks_in_range(
        &self,
        ns: Namespace,
        run_id: &str,
        key: &str,
        lo: i64,
        hi: i64,
    ) -> Result<Vec<(sled::IVec, sled::IVec)>, StoreError> {
        let prefix = keys::chunk_prefix(ns, run_id, key);
        // The chunk holding `lo` starts at or before it: begin at the last
        // chunk whose first step is <= lo.
        let mut start = keys::chunk(ns, run_id, key, lo);
        let mut lo_key = prefix.clone();
        lo_key.extend_from_slice(&keys::ordered_i64(lo));
        lo_key.push(0);
        if let Some(kv) = self.range(prefix.clone(), lo_key).next_back() {
            start = kv?.0.to_vec();
        }
        let mut end = keys::chunk(ns, run_id, key, hi);
        end.push(0);
        self.range(start, end).collect()
    }
}

/// Calls `f` for every point of `chunks` in `lo..=hi`, in order.
fn for_each_in_range(
    chunks: &[(sled::IVec, sled::IVec)],
    lo: i64,
    hi: i64,
    mut f: impl FnMut(i64, Value),
) -> Result<(), StoreError> {
    for (k, v) in chunks {
        chunk::decode(v, |step, value| {
            if step >= lo && step <= hi {
                f(step, value);
            }
        })
        .map_err(|e| damaged(k, e))?;
    }
    Ok(())
}

fn damaged(key: &[u8], e: chunk::ChunkError) -> StoreError {
    StoreError::Damaged {
        key: String::from_utf8_lossy(key).into_owned(),
        reason: e.to_string(),
    }
}

/// Points in `lo..=hi` of chunks in step order: the first chunk may start
/// before `lo` and the last may run past `hi`, so those two are decoded;
/// every chunk between lies wholly inside and its header count is used.
fn count_in_range(
    chunks: &[(sled::IVec, sled::IVec)],
    lo: i64,
    hi: i64,
) -> Result<usize, StoreError> {
    let last = chunks.len().saturating_sub(1);
    let mut n = 0usize;
    for (i, (k, v)) in chunks.iter().enumerate() {
        if i == 0 || i == last {
            chunk::decode(v, |step, _| n += usize::from(step >= lo && step <= hi))
                .map_err(|e| damaged(k, e))?;
        } else {
            let count = chunk::count(v).map_err(|e| damaged(k, e))?;
            n = n.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
        }
    }
    Ok(n)
}

/// Reduces a series in memory to at most `max_points` points (see
/// [`Downsampler`] for which points it keeps).
pub fn downsample(s: &mut SeriesData, max_points: usize) {
    let n = s.steps.len();
    if max_points == 0 || n <= max_points {
        return;
    }
    let mut d = Downsampler::new(n, max_points);
    let steps = std::mem::take(&mut s.steps);
    let values = std::mem::take(&mut s.values);
    for (step, value) in steps.into_iter().zip(values) {
        d.push(step, value);
    }
    (s.steps, s.values) = d.finish();
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
