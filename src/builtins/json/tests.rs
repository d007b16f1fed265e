//! Unit tests of the JSON and YAML overrides; expected values are OPA v1.20.2's.

use serde_json::json;

use super::*;

fn to_json(v: &Value) -> Json {
    serde_json::from_str(&v.to_json_str().unwrap()).unwrap()
}

#[test]
fn is_valid_of_a_non_string_is_false() {
    for v in [
        Value::from(1),
        Value::Null,
        Value::from(vec![Value::from(1)]),
    ] {
        assert_eq!(json_is_valid(vec![v.clone()]).unwrap(), Value::from(false));
        assert_eq!(yaml_is_valid(vec![v]).unwrap(), Value::from(false));
    }
    assert_eq!(
        json_is_valid(vec![Value::from("{\"a\":1}")]).unwrap(),
        Value::from(true)
    );
    assert_eq!(
        json_is_valid(vec![Value::from("{bad")]).unwrap(),
        Value::from(false)
    );
}

#[test]
fn yaml_streams_are_judged_by_their_first_document() {
    let stream = Value::from("---\na: 1\n---\nb: 2");
    assert_eq!(yaml_is_valid(vec![stream]).unwrap(), Value::from(true));
    assert_eq!(
        yaml_is_valid(vec![Value::from("a: [")]).unwrap(),
        Value::from(false)
    );
}

fn check(document: Json, schema: Json) -> Json {
    to_json(&match_schema(vec![Value::from(document), Value::from(schema)]).unwrap())
}

#[test]
fn match_schema_answers_with_gojsonschema_errors() {
    let schema =
        json!({"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]});
    assert_eq!(check(json!({"id": 1}), schema.clone()), json!([true, []]));
    assert_eq!(
        check(json!({"id": "x"}), schema.clone()),
        json!([false, [{"desc": "Invalid type. Expected: integer, given: string",
            "error": "id: Invalid type. Expected: integer, given: string",
            "field": "id", "type": "invalid_type"}]])
    );
    assert_eq!(
        check(json!({}), schema),
        json!([false, [{"desc": "id is required", "error": "(Root): id is required",
            "field": "(Root)", "type": "required"}]])
    );
    let array = json!({"type": "object", "properties": {"a": {"type": "array",
        "uniqueItems": true, "items": {"type": "integer", "maximum": 1}}}});
    let got = check(json!({"a": [1, 2, 2]}), array);
    let types: Vec<&str> = got[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["number_lte", "number_lte", "unique"]);
    assert_eq!(got[1][2]["desc"], "array items[1,2] must be unique");
}

#[test]
fn match_schema_fails_on_bad_arguments() {
    let strict = |args: Vec<Value>| {
        crate::builtins::with_strict_errors(true, || match_schema(args))
            .unwrap_err()
            .to_string()
    };
    let schema = Value::from(json!({"type": "object"}));
    assert_eq!(
        strict(vec![Value::from(5), schema.clone()]),
        "json.match_schema: wrong type, expected string or object"
    );
    assert_eq!(
        strict(vec![Value::from("abc"), schema]),
        "json.match_schema: invalid JSON string"
    );
    assert!(
        strict(vec![
            Value::new_object(),
            Value::from(json!({"type": "nonsense"}))
        ])
        .starts_with("json.match_schema: ")
    );
}

fn valid(text: &str) -> Value {
    yaml_is_valid(vec![Value::from(text)]).unwrap()
}

#[test]
fn every_document_of_a_yaml_stream_counts() {
    // A later invalid document: OPA's conformance case "yaml is_valid unreachable content"
    // (v1.20.2 itself answers true; later versions read the whole stream).
    assert_eq!(valid("a: 1\n---\nb: 2\n"), Value::from(true));
    assert_eq!(valid("---\na: 1\n---\nb: 2"), Value::from(true));
    assert_eq!(valid("a: 1\n---\n\tb: 2\n"), Value::from(false));
    assert_eq!(valid("  test:\ntest1: hello\n"), Value::from(false));
    assert_eq!(valid(""), Value::from(true));
    assert_eq!(valid("a: [1"), Value::from(false));
}
