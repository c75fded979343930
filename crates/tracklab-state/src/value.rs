//! Typed values of history, summary, config and system-stats items.
//!
//! [`Value`] mirrors `tracklab.v1.Value`. Equality treats every NaN as equal to
//! every other NaN (and `0.0 == -0.0`), so that states and rows holding NaN
//! compare equal in tests and after a rebuild; it is an equivalence relation,
//! hence `Eq`.

use serde::{Deserialize, Serialize};
use tracklab_proto::v1;

/// One typed value. Numbers stay numbers; NaN and ±inf survive.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Value {
    Float(f64),
    Int(i64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    /// JSON text (lists, null, objects from media types), extended with the
    /// literals `NaN`, `Infinity` and `-Infinity`. Always a leaf.
    Json(String),
}

impl Value {
    /// Converts a protocol value; `None` when the value has no kind set
    /// (validation rejects such values before they reach a log).
    pub fn from_proto(value: &v1::Value) -> Option<Value> {
        use v1::value::Kind;
        Some(match value.kind.as_ref()? {
            Kind::Float(f) => Value::Float(*f),
            Kind::Int(i) => Value::Int(*i),
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Str(s) => Value::Str(s.clone()),
            Kind::Bytes(b) => Value::Bytes(b.clone()),
            Kind::Json(j) => Value::Json(j.clone()),
        })
    }

    /// The protocol form of this value.
    pub fn to_proto(&self) -> v1::Value {
        use v1::value::Kind;
        let kind = match self {
            Value::Float(f) => Kind::Float(*f),
            Value::Int(i) => Kind::Int(*i),
            Value::Bool(b) => Kind::Bool(*b),
            Value::Str(s) => Kind::Str(s.clone()),
            Value::Bytes(b) => Kind::Bytes(b.clone()),
            Value::Json(j) => Kind::Json(j.clone()),
        };
        v1::Value { kind: Some(kind) }
    }

    /// The value as a number if it is an `Int` or a `Float` (wandb's
    /// `RunHistory.GetNumber`).
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

/// A proto value without a kind becomes JSON `null`; use
/// [`Value::from_proto`] to tell that case apart.
impl From<&v1::Value> for Value {
    fn from(value: &v1::Value) -> Self {
        Value::from_proto(value).unwrap_or_else(|| Value::Json("null".to_string()))
    }
}

impl From<Value> for v1::Value {
    fn from(value: Value) -> Self {
        value.to_proto()
    }
}

impl From<&Value> for v1::Value {
    fn from(value: &Value) -> Self {
        value.to_proto()
    }
}

/// Float equality used throughout the state: NaN equals NaN.
pub(crate) fn float_eq(a: f64, b: f64) -> bool {
    a == b || (a.is_nan() && b.is_nan())
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Float(a), Value::Float(b)) => float_eq(*a, *b),
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Str(a), Value::Str(b)) => a == b,
            (Value::Bytes(a), Value::Bytes(b)) => a == b,
            (Value::Json(a), Value::Json(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

/// An `f64` inside the state whose equality treats NaN as equal to NaN.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct Float(pub f64);

impl PartialEq for Float {
    fn eq(&self, other: &Self) -> bool {
        float_eq(self.0, other.0)
    }
}
