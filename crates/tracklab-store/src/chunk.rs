//! Compact encoding of history points (step, value) in chunks of one series.
//!
//! A series is the history of one key of one run. Its points are stored in
//! chunks of at most [`CHUNK_MAX_POINTS`] points / [`CHUNK_MAX_BYTES`] bytes,
//! one sled value per chunk (one sled key per point would cost ~200 B/point).
//!
//! Chunk encoding, version 1 (all integers LEB128 varints, signed ones
//! zigzag-encoded):
//!
//! | field | encoding |
//! |---|---|
//! | count | varint: number of points |
//! | points | `count` times: step delta (zigzag varint, from the previous point's step; the first point's delta is from 0), then a value |
//!
//! A value is a tag byte followed by its payload: `0` f64 (8 bytes LE, any bit
//! pattern incl. NaN/inf), `1` i64 (zigzag varint), `2` false, `3` true,
//! `4` string, `5` bytes, `6` JSON text (each: varint length + bytes).

use tracklab_state::Value;

/// A chunk is closed when it holds this many points…
pub const CHUNK_MAX_POINTS: u32 = 4096;
/// …or this many encoded bytes.
pub const CHUNK_MAX_BYTES: usize = 64 * 1024;

/// Why a chunk could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("history chunk is damaged at byte {at}: {reason}")]
pub struct ChunkError {
    pub at: usize,
    pub reason: &'static str,
}

/// The open (last) chunk of a series, kept in memory while points arrive.
#[derive(Debug, Clone, Default)]
pub struct ChunkBuilder {
    pub first_step: i64,
    pub last_step: i64,
    pub count: u32,
    body: Vec<u8>,
}

impl ChunkBuilder {
    /// Starts an empty chunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the chunk should be closed before the next point, given a
    /// limit of `max_points` points (at most [`CHUNK_MAX_POINTS`]).
    pub fn is_full(&self, max_points: u32) -> bool {
        self.count >= max_points.min(CHUNK_MAX_POINTS) || self.body.len() >= CHUNK_MAX_BYTES
    }

    pub fn push(&mut self, step: i64, value: &Value) {
        let prev = if self.count == 0 { 0 } else { self.last_step };
        if self.count == 0 {
            self.first_step = step;
        }
        put_varint(&mut self.body, zigzag(step.wrapping_sub(prev)));
        put_value(&mut self.body, value);
        self.last_step = step;
        self.count += 1;
    }

    /// The chunk as stored.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body.len() + 5);
        put_varint(&mut out, u64::from(self.count));
        out.extend_from_slice(&self.body);
        out
    }
}

/// Decodes a stored chunk, calling `f` for every point in order.
pub fn decode(bytes: &[u8], mut f: impl FnMut(i64, Value)) -> Result<(), ChunkError> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let count = r.varint()?;
    let mut step = 0i64;
    for _ in 0..count {
        step = step.wrapping_add(unzigzag(r.varint()?));
        f(step, r.value()?);
    }
    if r.pos != bytes.len() {
        return Err(ChunkError {
            at: r.pos,
            reason: "trailing bytes after the last point",
        });
    }
    Ok(())
}

/// The number of points a stored chunk holds, read from its header alone.
pub fn count(bytes: &[u8]) -> Result<u64, ChunkError> {
    Reader { buf: bytes, pos: 0 }.varint()
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

pub(crate) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn put_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Float(f) => {
            out.push(0);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Int(i) => {
            out.push(1);
            put_varint(out, zigzag(*i));
        }
        Value::Bool(false) => out.push(2),
        Value::Bool(true) => out.push(3),
        Value::Str(s) => put_bytes(out, 4, s.as_bytes()),
        Value::Bytes(b) => put_bytes(out, 5, b),
        Value::Json(s) => put_bytes(out, 6, s.as_bytes()),
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn err(&self, reason: &'static str) -> ChunkError {
        ChunkError {
            at: self.pos,
            reason,
        }
    }

    fn byte(&mut self) -> Result<u8, ChunkError> {
        let b = *self
            .buf
            .get(self.pos)
            .ok_or_else(|| self.err("ends early"))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn varint(&mut self) -> Result<u64, ChunkError> {
        // Most step deltas and small ints are one byte.
        if let Some(&b) = self.buf.get(self.pos)
            && b < 0x80
        {
            self.pos += 1;
            return Ok(u64::from(b));
        }
        self.varint_long()
    }

    fn varint_long(&mut self) -> Result<u64, ChunkError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.err("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&[u8], ChunkError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| self.err("length runs past the end"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn len_prefixed(&mut self) -> Result<&[u8], ChunkError> {
        let n = usize::try_from(self.varint()?).map_err(|_| self.err("length overflows"))?;
        self.take(n)
    }

    fn string(&mut self) -> Result<String, ChunkError> {
        let b = self.len_prefixed()?;
        String::from_utf8(b.to_vec()).map_err(|_| self.err("string is not UTF-8"))
    }

    #[inline]
    fn value(&mut self) -> Result<Value, ChunkError> {
        // The common case, a float: tag 0 and 8 bytes, one bounds check.
        if let Some(&[0, b0, b1, b2, b3, b4, b5, b6, b7]) = self.buf.get(self.pos..self.pos + 9) {
            self.pos += 9;
            return Ok(Value::Float(f64::from_le_bytes([
                b0, b1, b2, b3, b4, b5, b6, b7,
            ])));
        }
        Ok(match self.byte()? {
            0 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Float(f64::from_le_bytes(a))
            }
            1 => Value::Int(unzigzag(self.varint()?)),
            2 => Value::Bool(false),
            3 => Value::Bool(true),
            4 => Value::Str(self.string()?),
            5 => Value::Bytes(self.len_prefixed()?.to_vec()),
            6 => Value::Json(self.string()?),
            _ => return Err(self.err("unknown value tag")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_through_a_chunk_including_nan_and_extremes() {
        let vals = vec![
            (0, Value::Float(0.5)),
            (1, Value::Float(f64::NAN)),
            (5, Value::Float(f64::NEG_INFINITY)),
            (6, Value::Int(i64::MIN)),
            (7, Value::Bool(true)),
            (8, Value::Str("héllo".into())),
            (9, Value::Bytes(vec![0, 255])),
            (10, Value::Json("[1,2]".into())),
            (i64::MAX, Value::Int(i64::MAX)),
        ];
        let mut b = ChunkBuilder::new();
        for (s, v) in &vals {
            b.push(*s, v);
        }
        let enc = b.encode();
        let mut out = vec![];
        decode(&enc, |s, v| out.push((s, v))).unwrap();
        assert_eq!(out, vals);
        assert_eq!((b.count, b.first_step, b.last_step), (9, 0, i64::MAX));
    }

    #[test]
    fn a_float_point_with_step_delta_one_costs_ten_bytes() {
        let mut b = ChunkBuilder::new();
        for i in 0..1000 {
            b.push(i, &Value::Float(i as f64 * 0.1));
        }
        assert!(b.encode().len() <= 1000 * 10 + 3);
    }

    #[test]
    fn truncated_or_garbled_chunks_are_errors_not_panics() {
        let mut b = ChunkBuilder::new();
        b.push(3, &Value::Str("abc".into()));
        b.push(4, &Value::Float(1.0));
        let enc = b.encode();
        for cut in 0..enc.len() {
            assert!(decode(&enc[..cut], |_, _| {}).is_err(), "cut at {cut}");
        }
        let mut bad = enc.clone();
        bad[2] = 99;
        assert!(decode(&bad, |_, _| {}).is_err());
    }
}
