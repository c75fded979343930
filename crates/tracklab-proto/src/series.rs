//! The three forms of a history [`Series`]'s values (see `services.proto`):
//! packed `floats`, packed `ints`, or general `values`.

use crate::v1::{Series, Value, value::Kind};

impl Series {
    /// Moves `values` into the packed `floats` or `ints` form when every
    /// value is a float, or every value is an int. Anything else is left as
    /// it is.
    pub fn pack(&mut self) {
        if self.values.is_empty() {
            return;
        }
        let is = |f: fn(&Kind) -> bool| self.values.iter().all(|v| v.kind.as_ref().is_some_and(f));
        if is(|k| matches!(k, Kind::Float(_))) {
            self.floats = self
                .values
                .drain(..)
                .map(|v| match v.kind {
                    Some(Kind::Float(f)) => f,
                    _ => unreachable!("checked above: every value is a float"),
                })
                .collect();
        } else if is(|k| matches!(k, Kind::Int(_))) {
            self.ints = self
                .values
                .drain(..)
                .map(|v| match v.kind {
                    Some(Kind::Int(i)) => i,
                    _ => unreachable!("checked above: every value is an int"),
                })
                .collect();
        }
    }

    /// Moves packed values back into `values`, for readers that want one
    /// form.
    pub fn unpack(&mut self) {
        let floats = std::mem::take(&mut self.floats);
        let ints = std::mem::take(&mut self.ints);
        self.values.extend(floats.into_iter().map(|f| Value {
            kind: Some(Kind::Float(f)),
        }));
        self.values.extend(ints.into_iter().map(|i| Value {
            kind: Some(Kind::Int(i)),
        }));
    }

    /// The series with its values in `values`.
    pub fn unpacked(mut self) -> Series {
        self.unpack();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(k: Kind) -> Value {
        Value { kind: Some(k) }
    }

    fn series(values: Vec<Value>) -> Series {
        Series {
            key: "k".into(),
            steps: (0..values.len() as i64).collect(),
            values,
            ..Default::default()
        }
    }

    #[test]
    fn floats_and_ints_pack_and_round_trip() {
        let floats = vec![
            v(Kind::Float(1.5)),
            v(Kind::Float(f64::NAN)),
            v(Kind::Float(-0.0)),
        ];
        let mut s = series(floats.clone());
        s.pack();
        assert!(s.values.is_empty() && s.ints.is_empty());
        assert_eq!(s.floats.len(), 3);
        let back = s.unpacked();
        assert_eq!(format!("{:?}", back.values), format!("{floats:?}"));

        let ints = vec![v(Kind::Int(1)), v(Kind::Int(i64::MIN))];
        let mut s = series(ints.clone());
        s.pack();
        assert_eq!(s.ints, vec![1, i64::MIN]);
        assert_eq!(s.unpacked().values, ints);
    }

    #[test]
    fn mixed_and_other_kinds_stay_general() {
        for values in [
            vec![v(Kind::Float(1.0)), v(Kind::Int(2))],
            vec![v(Kind::Str("a".into()))],
            vec![v(Kind::Float(1.0)), Value { kind: None }],
        ] {
            let mut s = series(values.clone());
            s.pack();
            assert!(s.floats.is_empty() && s.ints.is_empty());
            assert_eq!(s.values, values);
        }
    }

    #[test]
    fn packed_series_encode_smaller() {
        use prost::Message;
        let mut s = series((0..1000).map(|i| v(Kind::Float(i as f64))).collect());
        let general = s.encoded_len();
        s.pack();
        // About 11 bytes per float as a Value message, 8 packed.
        assert!(
            s.encoded_len() <= general - 2 * 1000,
            "{} vs {general}",
            s.encoded_len()
        );
    }
}
