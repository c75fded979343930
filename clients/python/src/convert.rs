//! Python values to `tracklab.v1` values and back.
//!
//! The fast path (str keys, float/int/bool/str values, nested dicts) stays
//! in Rust; anything else goes through the Python `fallback` the SDK
//! passes (numpy and torch scalars, arrays, lists), which returns a plain
//! value or `("json", text)`.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use tracklab_proto::v1::{self, Item, value::Kind};

/// Most nesting of dicts in one logged value (the daemon allows 16).
const MAX_DEPTH: usize = 16;

fn value(kind: Kind) -> Option<v1::Value> {
    Some(v1::Value { kind: Some(kind) })
}

fn key_text(path: &[String]) -> String {
    path.join(".")
}

/// A leaf value; `fallback` converts what this does not know.
fn leaf(
    obj: &Bound<'_, PyAny>,
    path: &[String],
    fallback: Option<&Bound<'_, PyAny>>,
    depth: usize,
) -> PyResult<Kind> {
    if obj.is_instance_of::<PyBool>() {
        return Ok(Kind::Bool(obj.extract::<bool>()?));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Ok(Kind::Float(f.value()));
    }
    if obj.is_instance_of::<PyInt>() {
        return Ok(match obj.extract::<i64>() {
            Ok(i) => Kind::Int(i),
            // Beyond 64 bits: kept exactly, as JSON text.
            Err(_) => Kind::Json(obj.str()?.to_string()),
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Kind::Str(s.to_str()?.to_string()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Kind::Bytes(b.as_bytes().to_vec()));
    }
    if obj.is_none() {
        return Ok(Kind::Json("null".into()));
    }
    let Some(fallback) = fallback else {
        return Err(PyTypeError::new_err(format!(
            "value of {:?} has type {} that cannot be logged",
            key_text(path),
            obj.get_type().name()?
        )));
    };
    if depth >= MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "value of {:?} nests too deeply",
            key_text(path)
        )));
    }
    let converted = fallback.call1((obj, key_text(path)))?;
    if let Ok(t) = converted.cast::<PyTuple>()
        && t.len() == 2
        && t.get_item(0)?
            .extract::<&str>()
            .is_ok_and(|tag| tag == "json")
    {
        return Ok(Kind::Json(t.get_item(1)?.extract::<String>()?));
    }
    if converted.is(obj) {
        return Err(PyTypeError::new_err(format!(
            "value of {:?} has type {} that cannot be logged",
            key_text(path),
            obj.get_type().name()?
        )));
    }
    leaf(&converted, path, Some(fallback), depth + 1)
}

fn walk(
    dict: &Bound<'_, PyDict>,
    path: &mut Vec<String>,
    out: &mut Vec<Item>,
    fallback: Option<&Bound<'_, PyAny>>,
) -> PyResult<()> {
    if path.len() >= MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{:?} nests more than {MAX_DEPTH} levels of dicts",
            key_text(path)
        )));
    }
    for (k, v) in dict.iter() {
        let key = match k.cast::<PyString>() {
            Ok(s) => s.to_str()?.to_string(),
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "key {} (type {}) under {:?} is not a string: logged keys must be strings",
                    k.repr()?,
                    k.get_type().name()?,
                    key_text(path)
                )));
            }
        };
        path.push(key);
        if let Ok(sub) = v.cast::<PyDict>()
            && !sub.is_empty()
        {
            walk(sub, path, out, fallback)?;
        } else if v.cast::<PyDict>().is_ok() {
            out.push(Item {
                path: path.clone(),
                value: value(Kind::Json("{}".into())),
            });
        } else {
            let kind = leaf(&v, path, fallback, 0)?;
            out.push(Item {
                path: path.clone(),
                value: value(kind),
            });
        }
        path.pop();
    }
    Ok(())
}

/// A dict (nested dicts become paths) as items.
pub fn dict_items(
    obj: &Bound<'_, PyAny>,
    fallback: Option<&Bound<'_, PyAny>>,
) -> PyResult<Vec<Item>> {
    let dict = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "expected a dict of values, got {}",
            obj.get_type()
                .name()
                .map_or_else(|_| "?".into(), |n| n.to_string())
        ))
    })?;
    let mut out = Vec::with_capacity(dict.len());
    walk(dict, &mut Vec::new(), &mut out, fallback)?;
    Ok(out)
}

/// Paths given as lists of strings (already split by the SDK).
pub fn paths(obj: &Bound<'_, PyAny>) -> PyResult<Vec<v1::Path>> {
    let list = obj.cast::<PyList>()?;
    list.iter()
        .map(|p| {
            Ok(v1::Path {
                path: p.extract::<Vec<String>>()?,
            })
        })
        .collect()
}

/// A stored value as a Python object (JSON text parsed with `json.loads`).
pub fn to_py<'py>(py: Python<'py>, v: Option<&v1::Value>) -> PyResult<Bound<'py, PyAny>> {
    let Some(kind) = v.and_then(|v| v.kind.as_ref()) else {
        return Ok(py.None().into_bound(py));
    };
    Ok(match kind {
        Kind::Float(f) => PyFloat::new(py, *f).into_any(),
        Kind::Int(i) => i.into_pyobject(py)?.into_any(),
        Kind::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Kind::Str(s) => PyString::new(py, s).into_any(),
        Kind::Bytes(b) => PyBytes::new(py, b).into_any(),
        Kind::Json(text) => py.import("json")?.call_method1("loads", (text,))?,
    })
}

/// Items as a nested dict (`{"a": {"b": 1}}` for path ["a", "b"]).
pub fn items_dict<'py>(py: Python<'py>, items: &[Item]) -> PyResult<Bound<'py, PyDict>> {
    let root = PyDict::new(py);
    for it in items {
        let Some((last, parents)) = it.path.split_last() else {
            continue;
        };
        let mut node = root.clone();
        for p in parents {
            let next = match node.get_item(p)? {
                Some(existing) if existing.is_instance_of::<PyDict>() => existing.cast_into()?,
                _ => {
                    let d = PyDict::new(py);
                    node.set_item(p, &d)?;
                    d
                }
            };
            node = next;
        }
        node.set_item(last, to_py(py, it.value.as_ref())?)?;
    }
    Ok(root)
}
