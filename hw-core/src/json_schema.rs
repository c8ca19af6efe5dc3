//! A validator for the subset of JSON Schema that vendor methods' input schemas use
//! (Ironic's `*_schema.json` files), so [`crate::Node`] can check a vendor call's
//! arguments before the driver sees them.
//!
//! Supported keywords: `type` (`object`, `array`, `string`, `integer`, `boolean`,
//! `number`, `null`), `enum`, `minimum`, `maximum`, `properties`, `required`,
//! `additionalProperties: false`, `items` (one schema), `minItems`, `maxItems`,
//! `uniqueItems`, `anyOf`; `title`, `description` and `$schema` are ignored. Any
//! other keyword is reported by [`unsupported_keywords`], so a schema cannot silently
//! validate less than it says (drivers test their schemas with it).
//!
//! Errors read as Python's `jsonschema` words them (`'foo' is not one of ['platform',
//! 'cpu', 'memory', 'io']`, `'scope' is a required property`), and when an input has
//! several problems the one reported is chosen as `jsonschema.validate` chooses it
//! (`best_match`: the shallowest error, `anyOf` weakest, first in schema order).
//!
//! ```
//! use hwctl_core::json_schema;
//! let schema = serde_json::json!({"type": "object", "properties": {
//!     "domain_id": {"enum": ["platform", "cpu", "memory", "io"]}}, "required": ["domain_id"]});
//! let err = json_schema::validate(&schema, &serde_json::json!({"domain_id": "gpu"})).unwrap_err();
//! assert_eq!(err.message, "'gpu' is not one of ['platform', 'cpu', 'memory', 'io']");
//! assert_eq!(err.path_string(), "domain_id");
//! ```

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// One path element of an error: a property name or an array index.
///
/// ```
/// use hwctl_core::json_schema;
/// use serde_json::json;
/// let schema = json!({"type": "object", "properties": {
///     "periods": {"type": "array", "items": {"type": "object", "properties": {
///         "days": {"type": "array", "items": {"enum": ["Monday", "Tuesday"]}}}}}}});
/// use json_schema::PathItem;
/// let err = json_schema::validate(&schema, &json!({"periods": [{"days": ["Funday"]}]})).unwrap_err();
/// assert_eq!(err.path, [
///     PathItem::Key("periods".into()), PathItem::Index(0),
///     PathItem::Key("days".into()), PathItem::Index(0),
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathItem {
    /// An array index.
    Index(usize),
    /// An object property.
    Key(String),
}

/// Why an instance does not validate, as `jsonschema` would say it.
///
/// ```
/// use hwctl_core::json_schema;
/// use serde_json::json;
/// let schema = json!({"type": "object", "required": ["scope"], "properties": {"scope": {"type": "string"}}});
/// let err = json_schema::validate(&schema, &json!({})).unwrap_err();
/// assert_eq!((err.keyword, err.message.as_str()), ("required", "'scope' is a required property"));
/// assert!(err.path.is_empty()); // about the object itself
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The message (`'x' is not of type 'integer'`).
    pub message: String,
    /// Where in the instance (empty for the instance itself).
    pub path: Vec<PathItem>,
    /// Where, relative to the `anyOf` this error is an alternative of (as `jsonschema`'s
    /// `relative_path`); equal to `path` elsewhere.
    relative: Vec<PathItem>,
    /// Whether the instance matches the `type` of the schema the error comes from.
    matches_type: bool,
    /// The keyword that failed (`enum`, `required`, …).
    pub keyword: &'static str,
    /// For `anyOf`: the errors of each alternative.
    pub context: Vec<SchemaError>,
}

impl SchemaError {
    /// The error a caller gets: [`crate::ErrorKind::InvalidParameter`] naming the
    /// path (`args` for the whole input), with Ironic's wording
    /// (`Input data validation error: …`).
    ///
    /// ```
    /// use hwctl_core::{ErrorKind, json_schema};
    /// use serde_json::json;
    /// let schema = json!({"type": "object", "properties": {"level": {"type": "integer"}}});
    /// let err = json_schema::validate(&schema, &json!({"level": "high"})).unwrap_err().to_error();
    /// assert_eq!(err.kind(), ErrorKind::InvalidParameter);
    /// assert_eq!(err.problems()[0].name, "level");
    /// assert_eq!(err.to_string(), "invalid parameters: level: Input data validation error: 'high' is not of type 'integer'");
    /// let whole = json_schema::validate(&schema, &json!([1])).unwrap_err().to_error();
    /// assert_eq!(whole.problems()[0].name, "args");
    /// ```
    pub fn to_error(&self) -> crate::Error {
        let mut name = self.path_string();
        if name.is_empty() {
            name = "args".to_owned();
        }
        crate::Error::from_problems(vec![crate::ParameterProblem {
            name,
            reason: Some(format!("Input data validation error: {}", self.message)),
        }])
    }

    /// The path as text: `periods[0].days` (empty for the instance itself).
    ///
    /// ```
    /// use hwctl_core::json_schema;
    /// use serde_json::json;
    /// let schema = json!({"type": "object", "properties": {
    ///     "periods": {"type": "array", "items": {"type": "object", "properties": {
    ///         "days": {"type": "array", "items": {"enum": ["Monday", "Tuesday"]}}}}}}});
    /// let err = json_schema::validate(&schema, &json!({"periods": [{"days": ["Funday"]}]})).unwrap_err();
    /// assert_eq!(err.path_string(), "periods[0].days[0]");
    /// ```
    pub fn path_string(&self) -> String {
        let mut s = String::new();
        for item in &self.path {
            match item {
                PathItem::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                PathItem::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }

    /// `jsonschema.exceptions.relevance`: shallower, then later sibling, then not
    /// `anyOf`, then *not* matching the type (larger is more relevant).
    fn relevance(&self) -> (isize, &[PathItem], bool, bool) {
        (
            -(isize::try_from(self.relative.len()).unwrap_or(isize::MAX)),
            &self.relative,
            self.keyword != "anyOf",
            !self.matches_type,
        )
    }
}

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SchemaError {}

/// Validates `instance` against `schema`; on failure returns the error
/// `jsonschema.validate` would raise.
///
/// # Errors
///
/// The [`SchemaError`] `jsonschema` would report first (see the module docs).
///
/// ```
/// use hwctl_core::json_schema;
/// use serde_json::json;
/// let schema = json!({"type": "object", "properties": {"count": {"type": "integer", "minimum": 1}},
///     "additionalProperties": false});
/// assert!(json_schema::validate(&schema, &json!({"count": 2})).is_ok());
/// let err = json_schema::validate(&schema, &json!({"count": 0})).unwrap_err();
/// assert_eq!((err.keyword, err.message.as_str()), ("minimum", "0 is less than the minimum of 1"));
/// ```
pub fn validate(schema: &Value, instance: &Value) -> Result<(), SchemaError> {
    let mut errors = Vec::new();
    iter_errors(schema, instance, &mut Vec::new(), &mut errors);
    match best_match(errors) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Every error, in schema keyword order.
///
/// ```
/// use hwctl_core::json_schema;
/// use serde_json::json;
/// let schema = json!({"type": "object", "required": ["a", "b"], "properties": {"c": {"type": "boolean"}}});
/// let errors = json_schema::all_errors(&schema, &json!({"c": "yes"}));
/// let mut found: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
/// found.sort();
/// assert_eq!(found, ["'a' is a required property", "'b' is a required property",
///     "'yes' is not of type 'boolean'"]);
/// assert!(json_schema::all_errors(&schema, &json!({"a": 1, "b": 2})).is_empty());
/// ```
pub fn all_errors(schema: &Value, instance: &Value) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    iter_errors(schema, instance, &mut Vec::new(), &mut errors);
    errors
}

fn best_match(errors: Vec<SchemaError>) -> Option<SchemaError> {
    let mut best: Option<SchemaError> = None;
    for e in errors {
        // `max` keeps the first of equals.
        if best.as_ref().is_none_or(|b| e.relevance() > b.relevance()) {
            best = Some(e);
        }
    }
    let mut best = best?;
    while !best.context.is_empty() {
        // `heapq.nsmallest(2, …)`: stable, so equal keys keep their order.
        let mut ctx: Vec<&SchemaError> = best.context.iter().collect();
        ctx.sort_by(|a, b| a.relevance().cmp(&b.relevance()));
        if ctx.len() >= 2 && ctx[0].relevance() == ctx[1].relevance() {
            return Some(best);
        }
        let mut next = ctx[0].clone();
        let mut full = best.path.clone();
        full.extend(next.path.iter().cloned());
        next.path = full;
        best = next;
    }
    Some(best)
}

/// The keywords this validator knows, in the order the schemas list them.
pub const KEYWORDS: &[&str] = &[
    "type",
    "enum",
    "minimum",
    "maximum",
    "anyOf",
    "properties",
    "items",
    "required",
    "additionalProperties",
    "uniqueItems",
    "minItems",
    "maxItems",
];

/// Keywords that carry no constraint.
const ANNOTATIONS: &[&str] = &["title", "description", "$schema"];

/// Keywords of `schema` (and its subschemas) this validator does not implement.
///
/// ```
/// use hwctl_core::json_schema;
/// use serde_json::json;
/// let schema = json!({"type": "object", "title": "Args", "properties": {
///     "name": {"type": "string", "pattern": "^[a-z]+$"}}});
/// assert_eq!(json_schema::unsupported_keywords(&schema), ["pattern"]); // would be ignored: refuse it
/// ```
pub fn unsupported_keywords(schema: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Value::Object(map) = schema {
        for (k, v) in map {
            if !KEYWORDS.contains(&k.as_str()) && !ANNOTATIONS.contains(&k.as_str()) {
                out.push(k.clone());
            }
            match (k.as_str(), v) {
                ("properties", Value::Object(props)) => {
                    props
                        .values()
                        .for_each(|s| out.extend(unsupported_keywords(s)));
                }
                ("anyOf", Value::Array(list)) => {
                    list.iter()
                        .for_each(|s| out.extend(unsupported_keywords(s)));
                }
                ("items", s) => out.extend(unsupported_keywords(s)),
                ("additionalProperties", Value::Bool(_)) => {}
                ("additionalProperties", _) => out.push("additionalProperties (schema)".into()),
                _ => {}
            }
        }
    }
    out
}

fn iter_errors(schema: &Value, inst: &Value, path: &mut Vec<PathItem>, out: &mut Vec<SchemaError>) {
    let Value::Object(s) = schema else { return };
    let matches_type = match s.get("type") {
        Some(Value::String(t)) => is_type(inst, t),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| is_type(inst, t)),
        _ => false,
    };
    let err = |path: &Vec<PathItem>, keyword, message| SchemaError {
        message,
        path: path.clone(),
        relative: path.clone(),
        matches_type,
        keyword,
        context: Vec::new(),
    };
    for &kw in KEYWORDS {
        let Some(v) = s.get(kw) else { continue };
        match kw {
            "type" => {
                let types: Vec<&str> = match v {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => continue,
                };
                if !types.iter().any(|t| is_type(inst, t)) {
                    let shown = if let [one] = types.as_slice() {
                        py_str(one)
                    } else {
                        py_repr(&Value::Array(
                            types.iter().map(|t| Value::String((*t).into())).collect(),
                        ))
                    };
                    out.push(err(
                        path,
                        "type",
                        format!("{} is not of type {shown}", py_repr(inst)),
                    ));
                }
            }
            "enum" => {
                if let Value::Array(choices) = v
                    && !choices.iter().any(|c| json_equal(c, inst))
                {
                    out.push(err(
                        path,
                        "enum",
                        format!("{} is not one of {}", py_repr(inst), py_repr(v)),
                    ));
                }
            }
            "minimum" | "maximum" => {
                if let (Some(x), Some(limit)) = (number(inst), v.as_f64()) {
                    let bad = if kw == "minimum" {
                        x < limit
                    } else {
                        x > limit
                    };
                    if bad {
                        let words = if kw == "minimum" {
                            "less than the minimum"
                        } else {
                            "greater than the maximum"
                        };
                        out.push(err(
                            path,
                            kw,
                            format!("{} is {words} of {}", py_repr(inst), py_repr(v)),
                        ));
                    }
                }
            }
            "anyOf" => {
                let Value::Array(alts) = v else { continue };
                let mut context = Vec::new();
                let mut any_ok = false;
                for alt in alts {
                    let mut sub = Vec::new();
                    iter_errors(alt, inst, &mut Vec::new(), &mut sub);
                    if sub.is_empty() {
                        any_ok = true;
                        break;
                    }
                    context.extend(sub);
                }
                if !any_ok {
                    let mut e = err(
                        path,
                        "anyOf",
                        format!(
                            "{} is not valid under any of the given schemas",
                            py_repr(inst)
                        ),
                    );
                    e.context = context;
                    out.push(e);
                }
            }
            "properties" => {
                if let (Value::Object(props), Value::Object(obj)) = (v, inst) {
                    for (name, sub) in props {
                        if let Some(val) = obj.get(name) {
                            path.push(PathItem::Key(name.clone()));
                            iter_errors(sub, val, path, out);
                            path.pop();
                        }
                    }
                }
            }
            "items" => {
                if let Value::Array(items) = inst {
                    for (i, item) in items.iter().enumerate() {
                        path.push(PathItem::Index(i));
                        iter_errors(v, item, path, out);
                        path.pop();
                    }
                }
            }
            "required" => {
                if let (Value::Array(req), Value::Object(obj)) = (v, inst) {
                    for name in req.iter().filter_map(Value::as_str) {
                        if !obj.contains_key(name) {
                            out.push(err(
                                path,
                                "required",
                                format!("{} is a required property", py_str(name)),
                            ));
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let (Value::Bool(false), Value::Object(obj)) = (v, inst) {
                    let known = s.get("properties").and_then(Value::as_object);
                    let extras: Vec<String> = obj
                        .keys()
                        .filter(|k| !known.is_some_and(|p: &Map<String, Value>| p.contains_key(*k)))
                        .map(|k| py_str(k))
                        .collect();
                    if !extras.is_empty() {
                        let verb = if extras.len() == 1 { "was" } else { "were" };
                        out.push(err(
                            path,
                            "additionalProperties",
                            format!(
                                "Additional properties are not allowed ({} {verb} unexpected)",
                                extras.join(", ")
                            ),
                        ));
                    }
                }
            }
            "uniqueItems" => {
                if let (Value::Bool(true), Value::Array(items)) = (v, inst) {
                    let dup = items
                        .iter()
                        .enumerate()
                        .any(|(i, a)| items[i + 1..].iter().any(|b| json_equal(a, b)));
                    if dup {
                        out.push(err(
                            path,
                            "uniqueItems",
                            format!("{} has non-unique elements", py_repr(inst)),
                        ));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(n), Value::Array(items)) = (v.as_u64(), inst) {
                    let len = items.len() as u64;
                    if kw == "minItems" && len < n {
                        let words = if n == 1 {
                            "should be non-empty"
                        } else {
                            "is too short"
                        };
                        out.push(err(path, kw, format!("{} {words}", py_repr(inst))));
                    } else if kw == "maxItems" && len > n {
                        out.push(err(path, kw, format!("{} is too long", py_repr(inst))));
                    }
                }
            }
            _ => {}
        }
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        // As jsonschema: 1.0 is an integer (the vendor layer normalizes it).
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        _ => false,
    }
}

/// Equality as JSON Schema defines it (1 == 1.0; true != 1).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// A Python `repr` of a str.
fn py_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A Python `repr` of the value `json.loads` would give.
///
/// ```
/// use hwctl_core::json_schema::py_repr;
/// use serde_json::json;
/// assert_eq!(py_repr(&json!({"on": true})), "{'on': True}");
/// assert_eq!(py_repr(&json!([null, 1.0, 2, "it's", "a"])), r#"[None, 1.0, 2, "it's", 'a']"#);
/// ```
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    format!("{f}")
                }
            } else {
                n.to_string()
            }
        }
        Value::String(s) => py_str(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", inner.join(", "))
        }
        Value::Object(map) => {
            let inner: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn control() -> Value {
        json!({"title": "control", "type": "object", "properties": {
            "scope": {"type": "string", "enum": ["global", "domain", "policy"]},
            "enable": {"type": "boolean"},
            "limit": {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 65535},
                                {"type": "object", "properties": {"mode": {"enum": ["power", "performance"]}},
                                 "required": ["mode"]}]}},
            "required": ["scope", "enable"], "additionalProperties": false})
    }

    #[test]
    fn python_repr() {
        assert_eq!(
            py_repr(&json!({"a": [1, true, null, "it's"]})),
            "{'a': [1, True, None, \"it's\"]}"
        );
        assert_eq!(py_repr(&json!(1.5)), "1.5");
        assert_eq!(py_repr(&json!(2.0)), "2.0");
    }

    #[test]
    fn unknown_keywords_are_reported() {
        assert!(unsupported_keywords(&control()).is_empty());
        assert_eq!(
            unsupported_keywords(&json!({"type": "string", "pattern": "x"})),
            ["pattern"]
        );
    }

    #[test]
    fn required_wins_over_additional_and_nested() {
        let e = validate(&control(), &json!({"enable": "x", "bogus": 1})).unwrap_err();
        assert_eq!(e.message, "'scope' is a required property");
        let e = validate(
            &control(),
            &json!({"scope": "global", "enable": true, "bogus": 1}),
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Additional properties are not allowed ('bogus' was unexpected)"
        );
    }

    #[test]
    fn any_of_descends_only_when_one_branch_is_deeper() {
        let mut v = json!({"scope": "global", "enable": true});
        v["limit"] = json!("abc");
        let e = validate(&control(), &v).unwrap_err();
        assert_eq!(
            e.message,
            "'abc' is not valid under any of the given schemas"
        );
        v["limit"] = json!({"mode": "turbo"});
        let e = validate(&control(), &v).unwrap_err();
        assert_eq!(e.message, "'turbo' is not one of ['power', 'performance']");
        v["limit"] = json!(70000);
        let e = validate(&control(), &v).unwrap_err();
        assert_eq!(e.message, "70000 is greater than the maximum of 65535");
        v["limit"] = json!(7);
        assert!(validate(&control(), &v).is_ok());
    }
}
