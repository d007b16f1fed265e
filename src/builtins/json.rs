//! `json.is_valid`, `yaml.is_valid`, `yaml.unmarshal`, `json.match_schema` and
//! `json.verify_schema`, overriding
//! regorus' where OPA answers differently: `is_valid` of a non-string is `false` (regorus: an error), a YAML
//! stream is judged by its first document, as OPA's YAML library reads it, `yaml.unmarshal`
//! reads YAML 1.1's scalars as OPA does (`yes` is `true`, [`crate::value_yaml`]), and
//! `json.match_schema` answers `[true, []]` or `[false, errors]` with gojsonschema's error
//! objects (`{error, type, field, desc}`), and fails on an invalid schema;
//! `json.verify_schema` answers `[false, why]` for a string that is no JSON or no schema, and
//! for a value that is no string or object (regorus: an error, or `[true, null]` for `false`).
//!
//! Owns: those five builtins. Schemas are validated with the `jsonschema` crate (draft 7, the
//! newest draft gojsonschema knows); its errors are put in gojsonschema's words.

use jsonschema::error::{TypeKind, ValidationErrorKind};
use regorus::Value;
use serde_json::{Value as Json, json};

use super::{Builtin, builtin_error, regorus_builtin};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "json.is_valid",
        nargs: 1,
        eval: json_is_valid,
    },
    Builtin {
        name: "yaml.is_valid",
        nargs: 1,
        eval: yaml_is_valid,
    },
    Builtin {
        name: "yaml.unmarshal",
        nargs: 1,
        eval: yaml_unmarshal,
    },
    Builtin {
        name: "json.match_schema",
        nargs: 2,
        eval: match_schema,
    },
    Builtin {
        name: "json.verify_schema",
        nargs: 1,
        eval: verify_schema,
    },
];

fn json_is_valid(args: Vec<Value>) -> anyhow::Result<Value> {
    match args.first() {
        Some(Value::String(_)) => {
            regorus_builtin::call("json.is_valid", &args).or_else(builtin_error)
        }
        _ => Ok(Value::from(false)),
    }
}

fn yaml_is_valid(args: Vec<Value>) -> anyhow::Result<Value> {
    let Some(Value::String(text)) = args.first() else {
        return Ok(Value::from(false));
    };
    // A stream is valid when every document of it is, as in OPA (regorus refuses any stream
    // of more than one document).
    use serde::Deserialize;
    let valid = yaml_serde::Deserializer::from_str(text)
        .all(|document| yaml_serde::Value::deserialize(document).is_ok());
    Ok(Value::from(valid))
}

/// YAML as OPA reads it (YAML 1.1 scalars, Go's keys, the first document; see
/// [`crate::value_yaml`]), where regorus reads YAML 1.2.
fn yaml_unmarshal(args: Vec<Value>) -> anyhow::Result<Value> {
    let Some(Value::String(text)) = args.first() else {
        return regorus_builtin::call("yaml.unmarshal", &args).or_else(builtin_error);
    };
    crate::value_yaml::parse(text).or_else(|e| builtin_error(format!("yaml.unmarshal: {e}")))
}

/// A document or schema argument: an object or array as is, a string parsed as JSON.
fn json_arg(value: &Value, allow_array: bool) -> Result<Json, String> {
    match value {
        Value::String(s) => serde_json::from_str(s).map_err(|_| "invalid JSON string".to_string()),
        Value::Object(_) => serde_json::to_value(value).map_err(|e| e.to_string()),
        Value::Array(_) if allow_array => serde_json::to_value(value).map_err(|e| e.to_string()),
        _ => Err("wrong type, expected string or object".to_string()),
    }
}

/// `[true, null]` for a valid schema, else `[false, why]` with OPA's words where the schema is
/// no JSON, no object or boolean, or no string or object at all (regorus: an error).
fn verify_schema(args: Vec<Value>) -> anyhow::Result<Value> {
    let schema = match args.first() {
        Some(Value::String(text)) => match serde_json::from_str::<Json>(text) {
            Ok(schema @ (Json::Object(_) | Json::Bool(_))) => schema,
            Ok(_) => return Ok(schema_verdict(Some("schema is invalid".to_string()))),
            Err(_) => return Ok(schema_verdict(Some("invalid JSON string".to_string()))),
        },
        Some(object @ Value::Object(_)) => match serde_json::to_value(object) {
            Ok(schema) => schema,
            Err(e) => return builtin_error(format!("json.verify_schema: {e}")),
        },
        _ => {
            let why = "wrong type, expected string or object".to_string();
            return Ok(schema_verdict(Some(why)));
        }
    };
    let built = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema);
    Ok(schema_verdict(built.err().map(|e| e.to_string())))
}

fn schema_verdict(error: Option<String>) -> Value {
    match error {
        None => Value::from(json!([true, null])),
        Some(why) => Value::from(json!([false, format!("jsonschema: {why}")])),
    }
}

fn match_schema(args: Vec<Value>) -> anyhow::Result<Value> {
    let name = "json.match_schema";
    let (Some(document), Some(schema)) = (args.first(), args.get(1)) else {
        return builtin_error(format!("{name}: expects 2 arguments"));
    };
    let document = match json_arg(document, true) {
        Ok(d) => d,
        Err(e) => return builtin_error(format!("{name}: {e}")),
    };
    let schema = match json_arg(schema, false) {
        Ok(s) => s,
        Err(e) => return builtin_error(format!("{name}: {e}")),
    };
    let validator = match jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .build(&schema)
    {
        Ok(v) => v,
        Err(e) => return builtin_error(format!("{name}: {e}")),
    };
    let mut errors: Vec<Json> = Vec::new();
    for e in validator.iter_errors(&document) {
        let field = field_of(&e.instance_path().to_string());
        let entry = |kind: &str, desc: String| json!({"error": format!("{field}: {desc}"), "type": kind, "field": field, "desc": desc});
        // gojsonschema reports each unexpected property on its own; the jsonschema crate
        // reports `additionalProperties: false` without `properties` as a false schema.
        let schema_path = e.schema_path().to_string();
        if matches!(e.kind(), ValidationErrorKind::FalseSchema)
            && let Some(parent) = schema_path.strip_suffix("/additionalProperties")
            && let Some(Json::Object(instance)) =
                locate_pointer(&document, &e.instance_path().to_string())
        {
            let declared = schema
                .pointer(&format!("{parent}/properties"))
                .and_then(Json::as_object);
            for property in instance.keys() {
                if declared.is_none_or(|d| !d.contains_key(property)) {
                    let desc = format!("Additional property {property} is not allowed");
                    errors.push(entry("additional_property_not_allowed", desc));
                }
            }
            continue;
        }
        if let ValidationErrorKind::AdditionalProperties { unexpected } = e.kind() {
            for property in unexpected {
                let desc = format!("Additional property {property} is not allowed");
                errors.push(entry("additional_property_not_allowed", desc));
            }
            continue;
        }
        let (kind, desc) = describe(&e);
        errors.push(entry(kind, desc));
    }
    let errors = gojsonschema_order(errors, &document);
    let answer = json!([errors.is_empty(), errors]);
    Ok(Value::from(answer))
}

/// gojsonschema checks an array's items before the array's own keywords (`uniqueItems`,
/// `minItems`, ...): those errors move after the errors inside the array. A uniqueness error
/// also names the first pair of equal items.
fn gojsonschema_order(errors: Vec<Json>, document: &Json) -> Vec<Json> {
    const ARRAY_KEYWORDS: &[&str] = &["unique", "array_min_items", "array_max_items", "contains"];
    let field = |e: &Json| e["field"].as_str().unwrap_or_default().to_string();
    let inside = |child: &str, parent: &str| {
        parent == "(Root)" && child != "(Root)" || child.starts_with(&format!("{parent}."))
    };
    let mut out: Vec<Json> = Vec::with_capacity(errors.len());
    let mut deferred: Vec<Json> = Vec::new();
    for mut e in errors {
        if e["type"] == "unique" {
            let at = field(&e);
            if let Some((i, j)) = first_equal_pair(locate(document, &at)) {
                let desc = format!("array items[{i},{j}] must be unique");
                e["error"] = json!(format!("{at}: {desc}"));
                e["desc"] = json!(desc);
            }
        }
        if ARRAY_KEYWORDS.contains(&e["type"].as_str().unwrap_or_default()) {
            deferred.push(e);
        } else {
            out.push(e);
        }
    }
    for e in deferred {
        let at = field(&e);
        let position = out
            .iter()
            .rposition(|o| inside(&field(o), &at))
            .map_or(out.len(), |p| p + 1);
        out.insert(position.min(out.len()), e);
    }
    out
}

/// The value at a JSON pointer in `document` (`""` is the document).
fn locate_pointer<'a>(document: &'a Json, pointer: &str) -> Option<&'a Json> {
    document.pointer(pointer)
}

/// The value at a gojsonschema field name in `document`.
fn locate<'a>(document: &'a Json, field: &str) -> Option<&'a Json> {
    if field == "(Root)" {
        return Some(document);
    }
    field.split('.').try_fold(document, |v, part| match v {
        Json::Object(o) => o.get(part),
        Json::Array(a) => part.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn first_equal_pair(value: Option<&Json>) -> Option<(usize, usize)> {
    let items = value?.as_array()?;
    items.iter().enumerate().find_map(|(i, a)| {
        items
            .iter()
            .enumerate()
            .skip(i + 1)
            .find(|(_, b)| *b == a)
            .map(|(j, _)| (i, j))
    })
}

/// gojsonschema's name for a place: `(Root)`, or the path joined with dots.
fn field_of(pointer: &str) -> String {
    if pointer.is_empty() {
        return "(Root)".to_string();
    }
    pointer
        .trim_start_matches('/')
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn type_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Json::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Go's shortest formatting of a float (`2`, not `2.0`).
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

fn number(v: &Json) -> String {
    v.to_string()
}

/// gojsonschema's error type and description for a validation failure.
fn describe(error: &jsonschema::ValidationError<'_>) -> (&'static str, String) {
    use ValidationErrorKind as K;
    let instance = error.instance().as_ref();
    match error.kind() {
        K::Required { property } => (
            "required",
            format!("{} is required", property.as_str().unwrap_or_default()),
        ),
        K::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => t.to_string(),
                TypeKind::Multiple(ts) => ts
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            };
            (
                "invalid_type",
                format!(
                    "Invalid type. Expected: {expected}, given: {}",
                    type_of(instance)
                ),
            )
        }
        K::AdditionalProperties { unexpected } => (
            "additional_property_not_allowed",
            format!(
                "Additional property {} is not allowed",
                unexpected.first().map(String::as_str).unwrap_or_default()
            ),
        ),
        K::Enum { options } => {
            let allowed = match options.as_ref() {
                Json::Array(items) => items.iter().map(Json::to_string).collect::<Vec<_>>(),
                other => vec![other.to_string()],
            };
            (
                "enum",
                format!("must be one of the following: {}", allowed.join(", ")),
            )
        }
        K::Constant { expected_value } => ("const", format!("does not match: {expected_value}")),
        K::Maximum { limit } => (
            "number_lte",
            format!("Must be less than or equal to {}", number(limit)),
        ),
        K::Minimum { limit } => (
            "number_gte",
            format!("Must be greater than or equal to {}", number(limit)),
        ),
        K::ExclusiveMaximum { limit } => {
            ("number_lt", format!("Must be less than {}", number(limit)))
        }
        K::ExclusiveMinimum { limit } => (
            "number_gt",
            format!("Must be greater than {}", number(limit)),
        ),
        K::MultipleOf { multiple_of } => (
            "multiple_of",
            format!("Must be a multiple of {}", go_float(*multiple_of)),
        ),
        K::MaxLength { limit } => (
            "string_lte",
            format!("String length must be less than or equal to {limit}"),
        ),
        K::MinLength { limit } => (
            "string_gte",
            format!("String length must be greater than or equal to {limit}"),
        ),
        K::Pattern { pattern } => ("pattern", format!("Does not match pattern '{pattern}'")),
        K::Format { format } => ("format", format!("Does not match format '{format}'")),
        K::MaxItems { limit } => (
            "array_max_items",
            format!("Array must have at most {limit} items"),
        ),
        K::MinItems { limit } => (
            "array_min_items",
            format!("Array must have at least {limit} items"),
        ),
        K::UniqueItems => ("unique", "array items must be unique".into()),
        K::MaxProperties { limit } => (
            "array_max_properties",
            format!("Must have at most {limit} properties"),
        ),
        K::MinProperties { limit } => (
            "array_min_properties",
            format!("Must have at least {limit} properties"),
        ),
        K::AnyOf { .. } => (
            "number_any_of",
            "Must validate at least one schema (anyOf)".into(),
        ),
        K::OneOfNotValid { .. } | K::OneOfMultipleValid { .. } => (
            "number_one_of",
            "Must validate one and only one schema (oneOf)".into(),
        ),
        K::Not { .. } => ("number_not", "Must not validate the schema (not)".into()),
        K::Contains => ("contains", "At least one of the items must match".into()),
        K::FalseSchema => ("false", "False always fails validation".into()),
        K::AdditionalItems { .. } => (
            "array_no_additional_items",
            "No additional items allowed on array".into(),
        ),
        _ => ("internal", error.to_string()),
    }
}

#[cfg(test)]
mod tests;
