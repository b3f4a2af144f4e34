//! How Clojure and Java print values read from JSON (`pr-str`, `str`, a
//! double), for the services' error texts to read as Maelstrom's do.

use serde_json::{json, Value};

/// How Clojure's `pr-str` prints a value read from JSON, for error texts.
pub(super) fn pr_str(value: &Value) -> String {
    match value {
        Value::Null => "nil".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match n.as_f64().filter(|_| n.is_f64()) {
            Some(f) => java_double(f),
            None => n.to_string(),
        },
        Value::String(s) => {
            let mut out = String::from('"');
            for c in s.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(pr_str).collect();
            format!("[{}]", items.join(" "))
        }
        Value::Object(map) => {
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} {}", pr_str(&json!(k)), pr_str(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// How Clojure's `str` prints a value: `pr-str`, except that null is
/// empty and a string is itself.
pub(super) fn str_of(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => pr_str(other),
    }
}

/// A double as Java prints it: `1.0`, `0.5`, `1.0E7`, `1.0E-4`.
fn java_double(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        }
        .to_owned();
    }
    let magnitude = f.abs();
    if f == 0.0 || (1e-3..1e7).contains(&magnitude) {
        let text = f.to_string();
        return if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
    }
    let text = format!("{f:e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let mantissa = if mantissa.contains('.') {
        mantissa.to_owned()
    } else {
        format!("{mantissa}.0")
    };
    format!("{mantissa}E{exponent}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_print_as_clojure_prints_them() {
        for (value, printed) in [
            (json!(null), "nil"),
            (json!(3), "3"),
            (json!(1.0), "1.0"),
            (json!(2.5e10), "2.5E10"),
            (json!(0.0001), "1.0E-4"),
            (json!("a\"b"), r#""a\"b""#),
            (json!([1, "x", [true]]), r#"[1 "x" [true]]"#),
            (json!({"k": 1}), r#"{"k" 1}"#),
        ] {
            assert_eq!(pr_str(&value), printed);
        }
        assert_eq!(str_of(&json!("x")), "x");
        assert_eq!(str_of(&json!(null)), "");
    }
}
