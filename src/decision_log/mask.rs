//! OPA's decision-log policies: `data.system.log.drop` (true drops the event) and
//! `data.system.log.mask` (JSON pointers to erase, or `{op: "upsert", path, value}` to replace).
//!
//! Owns: evaluating those policies on the event and applying their answers, recording
//! `erased` and `masked` as OPA does (only pointers that matched something).

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::decide::{DecideOptions, evaluate};
use crate::policy::{DataPath, Snapshot, Target};

/// Why masking failed (the event is dropped, as OPA does).
#[derive(Debug, thiserror::Error)]
#[error("decision-log masking failed: {0}")]
pub struct MaskError(pub String);

/// True when the drop policy at `path` says to drop `event`.
pub fn should_drop(snapshot: &Snapshot, path: &str, event: &Map<String, Json>) -> bool {
    let Some(rule) = rule(snapshot, path) else {
        return false;
    };
    let Ok(input) = regorus::Value::deserialize(Json::Object(event.clone())) else {
        return false;
    };
    matches!(
        evaluate(snapshot, rule, &input, DecideOptions::default()),
        Ok(d) if d.result == regorus::Value::from(true)
    )
}

/// Applies the mask policy at `path` to `event`, adding `erased` and `masked`.
pub fn apply_mask(
    snapshot: &Snapshot,
    path: &str,
    event: &mut Map<String, Json>,
) -> Result<(), MaskError> {
    let Some(rule) = rule(snapshot, path) else {
        return Ok(());
    };
    let input = regorus::Value::deserialize(Json::Object(event.clone()))
        .map_err(|e| MaskError(e.to_string()))?;
    let decision = evaluate(snapshot, rule, &input, DecideOptions::default())
        .map_err(|e| MaskError(e.to_string()))?;
    if !decision.is_defined() {
        return Ok(());
    }
    let rules: Json =
        serde_json::to_value(&decision.result).map_err(|e| MaskError(e.to_string()))?;
    let Json::Array(rules) = rules else {
        return Err(MaskError(format!(
            "unexpected rule format {rules}: expected a set or an array"
        )));
    };
    let mut erased = Vec::new();
    let mut masked = Vec::new();
    for rule in rules {
        let (op, pointer, value) = match rule {
            Json::String(pointer) => ("remove".to_string(), pointer, None),
            Json::Object(fields) => {
                let op = match fields.get("op") {
                    None => "remove".to_string(),
                    Some(Json::String(op)) => op.clone(),
                    Some(other) => return Err(MaskError(format!("invalid \"op\" value {other}"))),
                };
                let Some(Json::String(pointer)) = fields.get("path") else {
                    return Err(MaskError("invalid \"path\" value".into()));
                };
                (op, pointer.clone(), fields.get("value").cloned())
            }
            other => return Err(MaskError(format!("unexpected rule format {other}"))),
        };
        let segments = parse_pointer(&pointer)?;
        match op.as_str() {
            "remove" => {
                if remove(event, &segments) {
                    erased.push(pointer);
                }
            }
            "upsert" => {
                if upsert(event, &segments, value.unwrap_or(Json::Null)) {
                    masked.push(pointer);
                }
            }
            other => return Err(MaskError(format!("mask op is not supported: {other}"))),
        }
    }
    if !erased.is_empty() {
        event.insert("erased".into(), Json::from(erased));
    }
    if !masked.is_empty() {
        event.insert("masked".into(), Json::from(masked));
    }
    Ok(())
}

/// The rule at `path`, when the bundle defines one (these policies are optional).
fn rule<'s>(snapshot: &'s Snapshot, path: &str) -> Option<Target<'s>> {
    match snapshot.resolve(DataPath::Text(path)) {
        Ok(target @ Target::Rule { .. }) => Some(target),
        _ => None,
    }
}

/// `/input/user/password` -> `["input", "user", "password"]`, with `~1`/`~0` and percent
/// escapes undone. Only `input` and `result` may be masked.
fn parse_pointer(pointer: &str) -> Result<Vec<String>, MaskError> {
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(MaskError(format!(
            "mask must be slash-prefixed: {pointer:?}"
        )));
    };
    if rest.is_empty() {
        return Err(MaskError("mask must be non-empty".into()));
    }
    let segments: Vec<String> = rest
        .split('/')
        .map(|s| {
            let s = s.replace("~1", "/").replace("~0", "~");
            percent_encoding::percent_decode_str(&s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .unwrap_or(s)
        })
        .collect();
    match segments.first().map(String::as_str) {
        Some("input" | "result") => Ok(segments),
        _ => Err(MaskError(format!("mask prefix not allowed: {pointer:?}"))),
    }
}

fn child<'a>(node: &'a mut Json, key: &str) -> Option<&'a mut Json> {
    match node {
        Json::Object(map) => map.get_mut(key),
        Json::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    }
}

/// Removes the node at `segments`; false when there is none.
fn remove(event: &mut Map<String, Json>, segments: &[String]) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    if parents.is_empty() {
        return event.remove(last).is_some();
    }
    let Some(mut node) = event.get_mut(&parents[0]) else {
        return false;
    };
    for key in &parents[1..] {
        match child(node, key) {
            Some(next) => node = next,
            None => return false,
        }
    }
    match node {
        Json::Object(map) => map.remove(last).is_some(),
        Json::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Sets the node at `segments`, creating objects on the way; false when a parent is not an
/// object.
fn upsert(event: &mut Map<String, Json>, segments: &[String], value: Json) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    if parents.is_empty() {
        event.insert(last.clone(), value);
        return true;
    }
    let mut node = event
        .entry(parents[0].clone())
        .or_insert_with(|| Json::Object(Map::new()));
    for key in &parents[1..] {
        let Json::Object(map) = node else {
            return false;
        };
        node = map
            .entry(key.clone())
            .or_insert_with(|| Json::Object(Map::new()));
    }
    match node {
        Json::Object(map) => {
            map.insert(last.clone(), value);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Map<String, Json> {
        json!({"input": {"user": "alice", "password": "s3cret", "card": {"number": "4111"}}, "result": true})
            .as_object()
            .cloned()
            .unwrap()
    }

    #[test]
    fn remove_and_upsert() {
        let mut e = event();
        assert!(remove(&mut e, &parse_pointer("/input/password").unwrap()));
        assert!(!remove(&mut e, &parse_pointer("/input/nothing").unwrap()));
        assert!(upsert(
            &mut e,
            &parse_pointer("/input/card/number").unwrap(),
            json!("****")
        ));
        assert!(upsert(
            &mut e,
            &parse_pointer("/input/new/deep").unwrap(),
            json!(1)
        ));
        assert_eq!(
            Json::Object(e),
            json!({"input": {"user": "alice", "card": {"number": "****"}, "new": {"deep": 1}}, "result": true})
        );
    }

    #[test]
    fn pointers_are_checked() {
        assert!(parse_pointer("input/x").is_err());
        assert!(parse_pointer("/").is_err());
        assert!(parse_pointer("/labels/id").is_err());
        assert_eq!(parse_pointer("/input/a~1b").unwrap(), vec!["input", "a/b"]);
    }
}
