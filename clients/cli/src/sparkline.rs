//! One-line charts of a series with the eight block characters.

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `values`, at most `width` characters wide.
///
/// With more values than `width`, the values are split into `width` buckets
/// of (nearly) equal size, each shown as the mean of its finite values. Each
/// point is scaled between the minimum and maximum finite point (`▁` to `█`;
/// all equal gives `▄`). A non-finite point or a bucket without finite
/// values is a space. Empty input or zero width gives the empty string.
pub fn sparkline(values: &[f64], width: usize) -> String {
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let points: Vec<f64> = if values.len() <= width {
        values.to_vec()
    } else {
        let n = values.len();
        (0..width)
            .map(|i| finite_mean(&values[i * n / width..(i + 1) * n / width]))
            .collect()
    };
    let finite = points.iter().copied().filter(|x| x.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    points
        .iter()
        .map(|&x| {
            if !x.is_finite() {
                ' '
            } else if hi <= lo {
                BLOCKS[3]
            } else {
                // Halved so that hi - lo cannot overflow to infinity.
                let t = (x / 2.0 - lo / 2.0) / (hi / 2.0 - lo / 2.0);
                let level = (t * 7.0).round().clamp(0.0, 7.0);
                BLOCKS[level as usize]
            }
        })
        .collect()
}

/// Mean of the finite values (a running mean, so it cannot overflow); NaN
/// when there are none.
fn finite_mean(values: &[f64]) -> f64 {
    let mut mean = f64::NAN;
    let mut count = 0.0;
    for &x in values.iter().filter(|x| x.is_finite()) {
        count += 1.0;
        mean = if count == 1.0 {
            x
        } else {
            mean + (x - mean) / count
        };
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_zero_width() {
        assert_eq!(sparkline(&[], 10), "");
        assert_eq!(sparkline(&[1.0, 2.0], 0), "");
    }

    #[test]
    fn one_char_per_value_when_it_fits() {
        let v: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(sparkline(&v, 8), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&v, 100), "▁▂▃▄▅▆▇█");
        assert_eq!(sparkline(&[3.0, 1.0, 2.0], 10), "█▁▅");
    }

    #[test]
    fn all_equal_is_middle() {
        assert_eq!(sparkline(&[5.0, 5.0, 5.0], 10), "▄▄▄");
        assert_eq!(sparkline(&[5.0], 1), "▄");
    }

    #[test]
    fn non_finite_is_a_space() {
        assert_eq!(
            sparkline(&[0.0, f64::NAN, 1.0, f64::INFINITY, f64::NEG_INFINITY], 10),
            "▁ █  "
        );
        assert_eq!(sparkline(&[f64::NAN, f64::NAN], 10), "  ");
    }

    #[test]
    fn buckets_use_the_mean_of_finite_values() {
        // Buckets [0,1] [2,3] [NaN, NaN] [6, NaN]: means 0.5, 2.5, -, 6.
        let v = [0.0, 1.0, 2.0, 3.0, f64::NAN, f64::NAN, 6.0, f64::NAN];
        let s = sparkline(&v, 4);
        assert_eq!(s.chars().count(), 4);
        assert_eq!(s, "▁▄ █");
    }

    #[test]
    fn uneven_buckets_cover_every_value() {
        let v: Vec<f64> = (0..1000).map(f64::from).collect();
        let s = sparkline(&v, 7);
        assert_eq!(s.chars().count(), 7);
        assert!(s.starts_with('▁') && s.ends_with('█'));
        assert_eq!(sparkline(&v, 999).chars().count(), 999);
    }

    #[test]
    fn extreme_ranges_do_not_overflow() {
        assert_eq!(sparkline(&[-f64::MAX, 0.0, f64::MAX], 3), "▁▅█");
        assert_eq!(sparkline(&[f64::MAX, f64::MAX, 0.0, 0.0], 2), "█▁");
    }
}
