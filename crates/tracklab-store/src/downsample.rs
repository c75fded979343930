//! Downsampling a series to a point budget while keeping its shape.
//!
//! Which points are kept, for `n` points and a budget of `max_points`:
//! - `n <= max_points` or `max_points == 0`: every point;
//! - `max_points < 4`: the first point, and the last if `max_points > 1`;
//! - otherwise the first and last points, and the inner points split into
//!   `(max_points - 2) / 2` buckets of consecutive points (bucket `b` holds
//!   indices `1 + b*inner/buckets .. 1 + (b+1)*inner/buckets`, `inner = n -
//!   2`), from each the point with the smallest value (NaN counts as
//!   smallest) and the one with the largest, in step order; a bucket
//!   without numbers keeps its first point.
//!
//! It is deterministic, and [`Downsampler`] decides point by point, so a
//! reader can feed it points as it decodes them instead of collecting them.

use tracklab_state::Value;

/// A number a bucket may keep. `Copy`, so that replacing the bucket's
/// current smallest or largest (which a steadily falling loss does at every
/// point) costs a few stores.
#[derive(Clone, Copy)]
struct NumPick {
    i: usize,
    step: i64,
    v: f64,
    /// The original int, for `Value::Int` (its `f64` may be rounded).
    int: Option<i64>,
}

impl NumPick {
    fn value(&self) -> Value {
        match self.int {
            Some(i) => Value::Int(i),
            None => Value::Float(self.v),
        }
    }
}

/// The bucket being filled.
struct Bucket {
    /// One past its last index.
    end: usize,
    /// Its first point, kept if no number comes.
    first: Option<(i64, Value)>,
    /// Smallest and largest number so far.
    ends: Option<(NumPick, NumPick)>,
}

enum Mode {
    All,
    Ends { keep_last: bool },
    Buckets { buckets: usize, inner: usize },
}

/// Picks the points to keep from `n` points fed in order with
/// [`push`](Self::push).
pub struct Downsampler {
    n: usize,
    mode: Mode,
    /// Index of the next point pushed.
    i: usize,
    next_bucket: usize,
    bucket: Option<Bucket>,
    steps: Vec<i64>,
    values: Vec<Value>,
}

impl Downsampler {
    /// A downsampler for exactly `n` points and a budget of `max_points`.
    pub fn new(n: usize, max_points: usize) -> Self {
        let mode = if max_points == 0 || n <= max_points {
            Mode::All
        } else if max_points < 4 {
            Mode::Ends {
                keep_last: max_points > 1,
            }
        } else {
            Mode::Buckets {
                buckets: (max_points - 2) / 2,
                inner: n - 2,
            }
        };
        let cap = if max_points == 0 {
            n
        } else {
            n.min(max_points)
        };
        Downsampler {
            n,
            mode,
            i: 0,
            next_bucket: 0,
            bucket: None,
            steps: Vec::with_capacity(cap),
            values: Vec::with_capacity(cap),
        }
    }

    /// Feeds the next point. Points past the `n` announced are ignored.
    pub fn push(&mut self, step: i64, value: Value) {
        let i = self.i;
        if i >= self.n {
            return;
        }
        self.i += 1;
        let last = i + 1 == self.n;
        match self.mode {
            Mode::All => self.keep(step, value),
            Mode::Ends { keep_last } => {
                if i == 0 || (keep_last && last) {
                    self.keep(step, value);
                }
            }
            Mode::Buckets { buckets, inner } => {
                if i == 0 || last {
                    self.close_bucket();
                    self.keep(step, value);
                    return;
                }
                if self.bucket.as_ref().is_none_or(|b| i >= b.end) {
                    self.close_bucket();
                    self.open_bucket(i, buckets, inner);
                }
                let Some(b) = self.bucket.as_mut() else {
                    return;
                };
                let (v, int) = match value {
                    Value::Float(f) => (f, None),
                    Value::Int(n) => (n as f64, Some(n)),
                    other => {
                        if b.first.is_none() {
                            b.first = Some((step, other));
                        }
                        return;
                    }
                };
                let p = NumPick { i, step, v, int };
                match &mut b.ends {
                    // The bucket's first number is both ends so far.
                    None => b.ends = Some((p, p)),
                    // Never both: lo <= hi, and NaN compares false.
                    Some((lo, _)) if v < lo.v || v.is_nan() => *lo = p,
                    Some((_, hi)) if v > hi.v => *hi = p,
                    Some(_) => {}
                }
            }
        }
    }

    /// The kept points, in step order.
    pub fn finish(mut self) -> (Vec<i64>, Vec<Value>) {
        self.close_bucket();
        (self.steps, self.values)
    }

    fn keep(&mut self, step: i64, value: Value) {
        self.steps.push(step);
        self.values.push(value);
    }

    /// Starts the bucket holding index `i` (the first index of a bucket,
    /// since points come in order and buckets are consecutive).
    fn open_bucket(&mut self, i: usize, buckets: usize, inner: usize) {
        while self.next_bucket < buckets {
            let b = self.next_bucket;
            self.next_bucket += 1;
            let end = 1 + (b + 1) * inner / buckets;
            if i < end {
                self.bucket = Some(Bucket {
                    end,
                    first: None,
                    ends: None,
                });
                return;
            }
        }
    }

    fn close_bucket(&mut self) {
        let Some(b) = self.bucket.take() else { return };
        match (b.ends, b.first) {
            (Some((lo, hi)), _) => {
                let (first, second) = if lo.i <= hi.i { (lo, hi) } else { (hi, lo) };
                self.keep(first.step, first.value());
                if second.i != first.i {
                    self.keep(second.step, second.value());
                }
            }
            (None, Some((step, value))) => self.keep(step, value),
            (None, None) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rules of the module doc, written the plain way: every point in
    /// memory, indices picked per bucket.
    fn reference(values: &[Value], max_points: usize) -> Vec<usize> {
        let n = values.len();
        if max_points == 0 || n <= max_points {
            return (0..n).collect();
        }
        if max_points < 4 {
            return if max_points > 1 {
                vec![0, n - 1]
            } else {
                vec![0]
            };
        }
        let mut keep = vec![0];
        let buckets = (max_points - 2) / 2;
        let inner = n - 2;
        for b in 0..buckets {
            let (from, to) = (1 + b * inner / buckets, 1 + (b + 1) * inner / buckets);
            let nums: Vec<(usize, f64)> = (from..to)
                .filter_map(|i| values[i].as_number().map(|v| (i, v)))
                .collect();
            let Some(&(first, _)) = nums.first() else {
                if from < to {
                    keep.push(from);
                }
                continue;
            };
            let (mut lo, mut hi) = (first, first);
            for &(i, v) in &nums[1..] {
                let (lo_v, hi_v) = (
                    values[lo].as_number().unwrap(),
                    values[hi].as_number().unwrap(),
                );
                if v < lo_v || v.is_nan() {
                    lo = i;
                } else if v > hi_v {
                    hi = i;
                }
            }
            keep.push(lo.min(hi));
            if lo != hi {
                keep.push(lo.max(hi));
            }
        }
        keep.push(n - 1);
        keep
    }

    fn value() -> impl Strategy<Value = Value> {
        prop_oneof![
            6 => (-100.0f64..100.0).prop_map(Value::Float),
            1 => Just(Value::Float(f64::NAN)),
            2 => (-50i64..50).prop_map(Value::Int),
            1 => "[a-z]{0,3}".prop_map(Value::Str),
        ]
    }

    proptest! {
        #[test]
        fn streaming_picks_what_the_rules_say(
            values in prop::collection::vec(value(), 0..400),
            max_points in 0usize..40,
        ) {
            let mut d = Downsampler::new(values.len(), max_points);
            for (i, v) in values.iter().enumerate() {
                d.push(i as i64 * 3, v.clone());
            }
            let (steps, kept) = d.finish();
            let want = reference(&values, max_points);
            prop_assert_eq!(&steps, &want.iter().map(|&i| i as i64 * 3).collect::<Vec<_>>());
            prop_assert_eq!(format!("{kept:?}"), format!("{:?}", want.iter().map(|&i| &values[i]).collect::<Vec<_>>()));
            if max_points > 0 {
                prop_assert!(steps.len() <= max_points.max(1));
            }
        }
    }

    #[test]
    fn extremes_and_ends_survive() {
        let mut vals: Vec<Value> = (0..10_000)
            .map(|i| Value::Float((i as f64 / 100.0).sin()))
            .collect();
        vals[5000] = Value::Float(100.0);
        vals[7000] = Value::Float(-100.0);
        let mut d = Downsampler::new(vals.len(), 200);
        for (i, v) in vals.into_iter().enumerate() {
            d.push(i as i64, v);
        }
        let (steps, _) = d.finish();
        assert!(steps.len() <= 200);
        assert_eq!((steps[0], *steps.last().unwrap()), (0, 9999));
        assert!(steps.contains(&5000) && steps.contains(&7000));
        assert!(steps.windows(2).all(|w| w[0] < w[1]));
    }
}
