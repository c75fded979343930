//! `tracklab ls --filter EXPR`: parsing `FIELD OP VALUE` into a [`Filter`].

use tracklab_proto::v1::value::Kind;
use tracklab_proto::v1::{Filter, FilterOp, Value};

/// The expected form, repeated in every error message.
const FORM: &str = "write FIELD OP VALUE, e.g. config.lr>=0.01 or summary.loss<0.5 \
                    (operators: = != > >= < <=)";

/// Operators, longest first so that `>=` wins over `>` at the same position.
const OPERATORS: [(&str, FilterOp); 7] = [
    ("==", FilterOp::Eq),
    ("!=", FilterOp::Ne),
    (">=", FilterOp::Ge),
    ("<=", FilterOp::Le),
    ("=", FilterOp::Eq),
    (">", FilterOp::Gt),
    ("<", FilterOp::Lt),
];

/// Why a `--filter` expression was rejected; each message shows the form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// The expression is empty or blank.
    #[error("empty filter: {}", FORM)]
    Empty,
    /// No comparison operator in the expression.
    #[error("filter {expr:?} has no operator: {}", FORM)]
    NoOperator {
        /// The expression as given.
        expr: String,
    },
    /// Nothing before the operator.
    #[error("filter {expr:?} has no field before the operator: {}", FORM)]
    NoField {
        /// The expression as given.
        expr: String,
    },
    /// The field does not start with `config.` or `summary.`, or names no key.
    #[error(
        "filter {expr:?}: field {field:?} must be config.KEY or summary.KEY \
         (nested keys joined with '.'): {}",
        FORM
    )]
    BadField {
        /// The expression as given.
        expr: String,
        /// The field part of it.
        field: String,
    },
    /// Nothing after the operator.
    #[error("filter {expr:?} has no value after the operator: {}", FORM)]
    NoValue {
        /// The expression as given.
        expr: String,
    },
    /// The value starts with `=`, as in `config.a>==1` or `config.a===1`.
    #[error(
        "filter {expr:?} has a value starting with '=' (a doubled operator?): {}",
        FORM
    )]
    DoubledOperator {
        /// The expression as given.
        expr: String,
    },
    /// A value opened with a quote that is not closed at its end.
    #[error(
        "filter {expr:?} has an unterminated quote in its value: {}; quote strings as \
         config.name=\"my run\"",
        FORM
    )]
    UnterminatedQuote {
        /// The expression as given.
        expr: String,
    },
}

/// Parses `FIELD OP VALUE` (spaces around the operator allowed).
///
/// The operator is the first one found, taking the longest at that place:
/// `==` or `=`, `!=`, `>=`, `<=`, `>`, `<`. FIELD must be `config.KEY` or
/// `summary.KEY`. VALUE is a bool for `true`/`false` (also `True`/`False`),
/// an int for an integer that fits `i64`, a float for any other number
/// (including `1e-3`, `nan`, `inf`, `-inf`), a string without its quotes
/// for `"…"` or `'…'`, and a string as written otherwise.
pub fn parse_filter(expr: &str) -> Result<Filter, FilterError> {
    let owned = || expr.to_string();
    if expr.trim().is_empty() {
        return Err(FilterError::Empty);
    }
    let (at, token, op) =
        find_operator(expr).ok_or_else(|| FilterError::NoOperator { expr: owned() })?;
    let field = expr[..at].trim();
    let raw = expr[at + token.len()..].trim();
    if field.is_empty() {
        return Err(FilterError::NoField { expr: owned() });
    }
    let key = field
        .strip_prefix("config.")
        .or_else(|| field.strip_prefix("summary."));
    if key.is_none_or(str::is_empty) {
        return Err(FilterError::BadField {
            expr: owned(),
            field: field.to_string(),
        });
    }
    if raw.is_empty() {
        return Err(FilterError::NoValue { expr: owned() });
    }
    if raw.starts_with('=') {
        return Err(FilterError::DoubledOperator { expr: owned() });
    }
    let value = parse_value(raw).ok_or_else(|| FilterError::UnterminatedQuote { expr: owned() })?;
    Ok(Filter {
        field: field.to_string(),
        op: op as i32,
        value: Some(Value { kind: Some(value) }),
    })
}

/// The byte offset, text and meaning of the first operator in `expr`.
fn find_operator(expr: &str) -> Option<(usize, &'static str, FilterOp)> {
    expr.char_indices().find_map(|(i, _)| {
        OPERATORS
            .iter()
            .find(|(token, _)| expr[i..].starts_with(token))
            .map(|&(token, op)| (i, token, op))
    })
}

/// A filter value; `None` for a quote that is opened and not closed.
fn parse_value(raw: &str) -> Option<Kind> {
    for quote in ['"', '\''] {
        if let Some(rest) = raw.strip_prefix(quote) {
            return rest.strip_suffix(quote).map(|s| Kind::Str(s.to_string()));
        }
    }
    Some(match raw {
        "true" | "True" => Kind::Bool(true),
        "false" | "False" => Kind::Bool(false),
        _ => {
            if let Ok(i) = raw.parse::<i64>() {
                Kind::Int(i)
            } else if let Ok(x) = raw.parse::<f64>() {
                Kind::Float(x)
            } else {
                Kind::Str(raw.to_string())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(expr: &str) -> (String, FilterOp, Kind) {
        let f = parse_filter(expr).unwrap();
        let op = FilterOp::try_from(f.op).unwrap();
        (f.field, op, f.value.unwrap().kind.unwrap())
    }

    #[test]
    fn operators_longest_first() {
        let cases = [
            ("config.a==1", FilterOp::Eq),
            ("config.a=1", FilterOp::Eq),
            ("config.a!=1", FilterOp::Ne),
            ("config.a>=1", FilterOp::Ge),
            ("config.a<=1", FilterOp::Le),
            ("config.a>1", FilterOp::Gt),
            ("config.a<1", FilterOp::Lt),
        ];
        for (expr, want) in cases {
            assert_eq!(ok(expr), ("config.a".into(), want, Kind::Int(1)), "{expr}");
        }
    }

    #[test]
    fn spaces_around_operator() {
        assert_eq!(
            ok("  summary.val/loss  <  0.5 "),
            ("summary.val/loss".into(), FilterOp::Lt, Kind::Float(0.5))
        );
    }

    #[test]
    fn value_types() {
        let v = |s: &str| ok(&format!("config.x={s}")).2;
        assert_eq!(v("true"), Kind::Bool(true));
        assert_eq!(v("False"), Kind::Bool(false));
        assert_eq!(v("42"), Kind::Int(42));
        assert_eq!(v("-7"), Kind::Int(-7));
        assert_eq!(v("1e-3"), Kind::Float(1e-3));
        assert_eq!(v("0.5"), Kind::Float(0.5));
        assert_eq!(v("99999999999999999999"), Kind::Float(1e20));
        assert_eq!(v("inf"), Kind::Float(f64::INFINITY));
        assert_eq!(v("-inf"), Kind::Float(f64::NEG_INFINITY));
        assert!(matches!(v("nan"), Kind::Float(x) if x.is_nan()));
        assert_eq!(v("\"adam\""), Kind::Str("adam".into()));
        assert_eq!(v("'my run'"), Kind::Str("my run".into()));
        assert_eq!(v("\"42\""), Kind::Str("42".into()));
        assert_eq!(v("\"\""), Kind::Str(String::new()));
        assert_eq!(v("adam"), Kind::Str("adam".into()));
        assert_eq!(v("a b"), Kind::Str("a b".into()));
        assert_eq!(v("TRUE"), Kind::Str("TRUE".into()));
    }

    #[test]
    fn value_may_contain_operator_characters() {
        assert_eq!(ok("config.cmd=a<b").2, Kind::Str("a<b".into()));
        assert_eq!(ok("config.x!=\"!=\"").2, Kind::Str("!=".into()));
    }

    #[test]
    fn nested_and_escaped_fields_are_kept_as_written() {
        assert_eq!(ok("config.opt.lr>=0.01").0, "config.opt.lr");
        assert_eq!(ok("summary.a\\.b=1").0, "summary.a\\.b");
    }

    #[test]
    fn errors_name_the_problem_and_show_the_form() {
        let err = |s: &str| parse_filter(s).unwrap_err();
        assert_eq!(
            err("lr").to_string(),
            "filter \"lr\" has no operator: write FIELD OP VALUE, e.g. config.lr>=0.01 \
             or summary.loss<0.5 (operators: = != > >= < <=)"
        );
        assert_eq!(err("  "), FilterError::Empty);
        assert_eq!(
            err("config.a!1"),
            FilterError::NoOperator {
                expr: "config.a!1".into()
            }
        );
        assert_eq!(err(">=1"), FilterError::NoField { expr: ">=1".into() });
        assert_eq!(
            err("lr>=0.01"),
            FilterError::BadField {
                expr: "lr>=0.01".into(),
                field: "lr".into()
            }
        );
        assert!(matches!(err("config.=1"), FilterError::BadField { .. }));
        assert!(matches!(err("Config.lr=1"), FilterError::BadField { .. }));
        assert_eq!(
            err("config.lr>="),
            FilterError::NoValue {
                expr: "config.lr>=".into()
            }
        );
        assert!(matches!(
            err("config.lr>==1"),
            FilterError::DoubledOperator { .. }
        ));
        assert!(matches!(
            err("config.lr==="),
            FilterError::DoubledOperator { .. }
        ));
        assert!(matches!(
            err("config.n=\"abc"),
            FilterError::UnterminatedQuote { .. }
        ));
        assert!(matches!(
            err("config.n='"),
            FilterError::UnterminatedQuote { .. }
        ));
        for e in [
            err(""),
            err(">=1"),
            err("lr>=1"),
            err("config.x="),
            err("config.x>==1"),
            err("config.x='a"),
        ] {
            assert!(e.to_string().contains("write FIELD OP VALUE"), "{e}");
        }
        assert!(err("lr>=1").to_string().contains("\"lr\""));
    }

    #[test]
    fn non_ascii_does_not_panic() {
        assert_eq!(ok("config.名前=値").2, Kind::Str("値".into()));
        assert!(parse_filter("ключ").is_err());
    }
}
