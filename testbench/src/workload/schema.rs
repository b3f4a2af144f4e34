//! Maelstrom's reply schemas, which every workload's client checks a reply
//! against before reading it.
//!
//! Maelstrom declares each RPC's reply as a Prismatic schema: a *closed*
//! map of typed fields, to which its client adds an optional `msg_id` and a
//! required `in_reply_to` (both integers). A reply with a key the schema does
//! not name, without a key it names, or with a value of the wrong type is
//! "malformed": the operation ends `info` ("indeterminate"), as an exception
//! in a Jepsen client does. Error replies (`type` "error") are sorted out
//! before any schema check, so they may carry any keys.
//!
//! ```
//! use serde_json::json;
//! use testbench::workload::schema::{check, Shape};
//!
//! let fields = [("offset", Shape::Int)];
//! let ok = json!({"type": "send_ok", "offset": 3, "in_reply_to": 1});
//! assert!(check(&ok, "send_ok", &fields).is_ok());
//! let extra = json!({"type": "send_ok", "offset": 3, "in_reply_to": 1, "note": "hi"});
//! assert!(check(&extra, "send_ok", &fields).unwrap_err().contains("`note`"));
//! let float = json!({"type": "send_ok", "offset": 3.0, "in_reply_to": 1});
//! assert!(check(&float, "send_ok", &fields).is_err());
//! ```

use std::fmt;

use serde_json::Value;

/// The shape a value must have, in Prismatic's terms.
#[derive(Debug, Clone, Copy)]
pub enum Shape {
    /// Anything, `null` included (`s/Any`).
    Any,
    /// A whole number; `1.0` is not one (`s/Int`).
    Int,
    /// A string (`String`).
    Str,
    /// Exactly this string (`(s/eq "r")`).
    Is(&'static str),
    /// A list whose elements all have this shape (`[X]`). Like Prismatic's
    /// sequence schemas, it lets `null` through.
    List(&'static Shape),
    /// An object whose values all have this shape (`{String X}`).
    Map(&'static Shape),
    /// A list of exactly these elements, in order (`[(s/one A) (s/one B)]`).
    Tuple(&'static [Shape]),
    /// Any one of these shapes (`s/either`).
    Either(&'static [Shape]),
}

impl Shape {
    /// Why `value` does not have this shape, if it does not.
    fn problem(&self, value: &Value) -> Option<String> {
        let wrong = || Some(format!("{value} is not {self}"));
        match self {
            Shape::Any => None,
            Shape::Int if value.is_i64() || value.is_u64() => None,
            Shape::Str if value.is_string() => None,
            Shape::Is(text) if value.as_str() == Some(text) => None,
            Shape::List(element) => match value {
                Value::Null => None,
                Value::Array(items) => items.iter().find_map(|item| element.problem(item)),
                _ => wrong(),
            },
            Shape::Map(element) => match value {
                Value::Object(map) => map.values().find_map(|item| element.problem(item)),
                _ => wrong(),
            },
            Shape::Tuple(elements) => match value {
                Value::Array(items) if items.len() == elements.len() => elements
                    .iter()
                    .zip(items)
                    .find_map(|(shape, item)| shape.problem(item)),
                _ => wrong(),
            },
            Shape::Either(shapes) => {
                if shapes.iter().any(|shape| shape.problem(value).is_none()) {
                    None
                } else {
                    wrong()
                }
            }
            _ => wrong(),
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let all = |f: &mut fmt::Formatter<'_>, shapes: &[Shape]| {
            let texts: Vec<String> = shapes.iter().map(Shape::to_string).collect();
            f.write_str(&texts.join(" "))
        };
        match self {
            Shape::Any => f.write_str("Any"),
            Shape::Int => f.write_str("Int"),
            Shape::Str => f.write_str("Str"),
            Shape::Is(text) => write!(f, "{text:?}"),
            Shape::List(element) => write!(f, "[{element}]"),
            Shape::Map(element) => write!(f, "{{Str {element}}}"),
            Shape::Tuple(shapes) => {
                f.write_str("[")?;
                all(f, shapes)?;
                f.write_str("]")
            }
            Shape::Either(shapes) => {
                f.write_str("(either ")?;
                all(f, shapes)?;
                f.write_str(")")
            }
        }
    }
}

/// Checks `reply` against Maelstrom's schema for a reply of type `kind`
/// with `fields` (besides `type`, the optional `msg_id` and the required
/// `in_reply_to`). `Err` says what is wrong, in words that name the schema.
pub fn check(reply: &Value, kind: &str, fields: &[(&str, Shape)]) -> Result<(), String> {
    problem(reply, kind, fields).map_or(Ok(()), |problem| {
        Err(format!(
            "malformed reply: Maelstrom expects {} but received {reply}: {problem}",
            describe(kind, fields)
        ))
    })
}

/// The first thing wrong with `reply`, if any.
fn problem(reply: &Value, kind: &str, fields: &[(&str, Shape)]) -> Option<String> {
    let Some(body) = reply.as_object() else {
        return Some("it is not an object".to_owned());
    };
    match body.get("type") {
        None => return Some("`type` is missing".to_owned()),
        Some(found) if found.as_str() != Some(kind) => {
            return Some(format!("`type`: {found} is not {kind:?}"))
        }
        Some(_) => {}
    }
    let named = [
        ("in_reply_to", Shape::Int, true),
        ("msg_id", Shape::Int, false),
    ]
    .into_iter()
    .chain(fields.iter().map(|(name, shape)| (*name, *shape, true)));
    for (name, shape, required) in named {
        match body.get(name) {
            None if required => return Some(format!("`{name}` is missing")),
            None => {}
            Some(value) => {
                if let Some(problem) = shape.problem(value) {
                    return Some(format!("`{name}`: {problem}"));
                }
            }
        }
    }
    let allowed = |key: &str| {
        ["type", "in_reply_to", "msg_id"].contains(&key) || fields.iter().any(|(n, _)| *n == key)
    };
    body.keys()
        .find(|key| !allowed(key))
        .map(|key| format!("`{key}` is a key the schema does not allow"))
}

/// The schema, as `{type: "send_ok", offset: Int, in_reply_to: Int, msg_id?: Int}`.
fn describe(kind: &str, fields: &[(&str, Shape)]) -> String {
    let mut parts = vec![format!("type: {kind:?}")];
    parts.extend(
        fields
            .iter()
            .map(|(name, shape)| format!("{name}: {shape}")),
    );
    parts.push("in_reply_to: Int".to_owned());
    parts.push("msg_id?: Int".to_owned());
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PAIR: Shape = Shape::Tuple(&[Shape::Int, Shape::Any]);
    const MSGS: Shape = Shape::Map(&Shape::List(&PAIR));

    fn ok(reply: Value) -> bool {
        check(&reply, "poll_ok", &[("msgs", MSGS)]).is_ok()
    }

    #[test]
    fn schemas_are_closed_typed_and_need_every_key() {
        assert!(ok(
            json!({"type": "poll_ok", "msgs": {"1": [[0, 5]]}, "in_reply_to": 2})
        ));
        assert!(ok(
            json!({"type": "poll_ok", "msgs": {}, "in_reply_to": 2, "msg_id": 9})
        ));
        for bad in [
            json!({"type": "poll_ok", "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {}}),
            json!({"type": "poll_ok", "msgs": {}, "in_reply_to": 2, "extra": 1}),
            json!({"type": "send_ok", "msgs": {}, "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {}, "in_reply_to": 2, "msg_id": "x"}),
            json!({"type": "poll_ok", "msgs": [], "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {"1": [[0]]}, "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {"1": [[0, 1, 2]]}, "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {"1": [[1.0, 1]]}, "in_reply_to": 2}),
            json!({"type": "poll_ok", "msgs": {"1": [null]}, "in_reply_to": 2}),
            json!("poll_ok"),
        ] {
            assert!(!ok(bad.clone()), "{bad} passed");
        }
    }

    #[test]
    fn lists_let_null_through_as_prismatic_does() {
        assert!(ok(
            json!({"type": "poll_ok", "msgs": {"1": null}, "in_reply_to": 2})
        ));
        assert!(!ok(
            json!({"type": "poll_ok", "msgs": null, "in_reply_to": 2})
        ));
    }

    #[test]
    fn either_takes_any_of_its_shapes_and_errors_name_the_schema() {
        const MOP: Shape = Shape::Either(&[
            Shape::Tuple(&[Shape::Is("r"), Shape::Any, Shape::Any]),
            Shape::Tuple(&[Shape::Is("w"), Shape::Any, Shape::Any]),
        ]);
        let fields = [("txn", Shape::List(&MOP))];
        let reply = |txn: Value| json!({"type": "txn_ok", "txn": txn, "in_reply_to": 1});
        assert!(check(&reply(json!([["r", 1, 2], ["w", 1, 3]])), "txn_ok", &fields).is_ok());
        let err = check(&reply(json!([["x", 1, 2]])), "txn_ok", &fields).unwrap_err();
        assert!(err.starts_with("malformed reply"), "{err}");
        assert!(
            err.contains(r#"txn: [(either ["r" Any Any] ["w" Any Any])]"#),
            "{err}"
        );
    }
}
