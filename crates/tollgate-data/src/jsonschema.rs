//! A JSON Schema validator for the keywords data contracts use (drafts 4–2020 agree on them):
//! `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items`,
//! `minItems`/`maxItems`, `uniqueItems`, `minimum`/`maximum` (and exclusive forms),
//! `multipleOf`, `minLength`/`maxLength`, `pattern`, `allOf`/`anyOf`/`oneOf`/`not`.
//! Unknown keywords are ignored, as the specification asks.

use serde_json::Value;

/// Does `v` satisfy `schema`?
pub fn valid(v: &Value, schema: &Value) -> bool {
    let s = match schema {
        Value::Bool(b) => return *b,
        Value::Object(s) => s,
        _ => return true,
    };
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => is_type(v, t),
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).any(|t| is_type(v, t)),
            _ => true,
        };
        if !ok {
            return false;
        }
    }
    if let Some(Value::Array(options)) = s.get("enum")
        && !options.iter().any(|o| equal(o, v))
    {
        return false;
    }
    if let Some(c) = s.get("const")
        && !equal(c, v)
    {
        return false;
    }
    if let Some(x) = v.as_f64() {
        let num = |k: &str| s.get(k).and_then(Value::as_f64);
        if num("minimum").is_some_and(|m| x < m) || num("maximum").is_some_and(|m| x > m) {
            return false;
        }
        if num("exclusiveMinimum").is_some_and(|m| x <= m)
            || num("exclusiveMaximum").is_some_and(|m| x >= m)
        {
            return false;
        }
        if num("multipleOf").is_some_and(|m| m > 0.0 && ((x / m).round() * m - x).abs() > 1e-9) {
            return false;
        }
    }
    if let Value::String(text) = v {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
            || s.get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
        {
            return false;
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str)
            && !regex::Regex::new(p).is_ok_and(|re| re.is_match(text))
        {
            return false;
        }
    }
    if let Value::Array(items) = v {
        let n = items.len() as u64;
        if s.get("minItems")
            .and_then(Value::as_u64)
            .is_some_and(|m| n < m)
            || s.get("maxItems")
                .and_then(Value::as_u64)
                .is_some_and(|m| n > m)
        {
            return false;
        }
        if let Some(item_schema @ (Value::Object(_) | Value::Bool(_))) = s.get("items")
            && !items.iter().all(|i| valid(i, item_schema))
        {
            return false;
        }
        if s.get("uniqueItems").and_then(Value::as_bool) == Some(true) {
            for (i, a) in items.iter().enumerate() {
                if items[i + 1..].iter().any(|b| equal(a, b)) {
                    return false;
                }
            }
        }
    }
    if let Value::Object(obj) = v {
        if let Some(Value::Array(req)) = s.get("required")
            && !req
                .iter()
                .filter_map(Value::as_str)
                .all(|k| obj.contains_key(k))
        {
            return false;
        }
        let props = s.get("properties").and_then(Value::as_object);
        if let Some(props) = props {
            for (k, sub) in props {
                if let Some(val) = obj.get(k)
                    && !valid(val, sub)
                {
                    return false;
                }
            }
        }
        match s.get("additionalProperties") {
            Some(Value::Bool(false))
                if obj
                    .keys()
                    .any(|k| !props.is_some_and(|p| p.contains_key(k))) =>
            {
                return false;
            }
            Some(extra @ Value::Object(_))
                if obj.iter().any(|(k, val)| {
                    !props.is_some_and(|p| p.contains_key(k)) && !valid(val, extra)
                }) =>
            {
                return false;
            }
            _ => {}
        }
    }
    let all = |k: &str| s.get(k).and_then(Value::as_array);
    if all("allOf").is_some_and(|subs| !subs.iter().all(|sub| valid(v, sub))) {
        return false;
    }
    if all("anyOf").is_some_and(|subs| !subs.iter().any(|sub| valid(v, sub))) {
        return false;
    }
    if all("oneOf").is_some_and(|subs| subs.iter().filter(|sub| valid(v, sub)).count() != 1) {
        return false;
    }
    if s.get("not").is_some_and(|sub| valid(v, sub)) {
        return false;
    }
    true
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn common_keywords() {
        let s = json!({"type": "object", "properties": {"a": {"type": "integer", "minimum": 1}}, "required": ["a"]});
        assert!(valid(&json!({"a": 1}), &s));
        assert!(!valid(&json!({"a": 0}), &s));
        assert!(!valid(&json!({"b": 1}), &s));
        assert!(!valid(&json!({"a": "x"}), &s));
        assert!(valid(&json!("x"), &json!({})));
        assert!(!valid(
            &json!([1, 1]),
            &json!({"type": "array", "uniqueItems": true})
        ));
        assert!(valid(
            &json!("ab"),
            &json!({"anyOf": [{"const": "ab"}, {"type": "integer"}]})
        ));
        assert!(!valid(
            &json!({"a": 1, "z": 2}),
            &json!({"properties": {"a": {}}, "additionalProperties": false})
        ));
    }
}
