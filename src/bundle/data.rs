//! A bundle's data files as regorus values: parsing, the manifest's roots, and placing each
//! file's document at the path of its directory.
//!
//! Owns: turning `data.json` / `data.yaml` bytes into one regorus [`Value`] each, directly
//! (object keys interned while parsing, objects stored compactly by regorus, integers beyond
//! 64 bits exact; no intermediate `serde_json` tree is built or kept), checking them against
//! the roots, and
//! merging them into the bundle's data document (two files may share objects, never a leaf).

use regorus::Value;

use super::{BundleError, Manifest};
use crate::value_json;

/// Parses one data file.
pub fn parse(rel: &str, file_name: &str, content: &[u8]) -> Result<Value, BundleError> {
    if file_name != "data.json" {
        // Read as OPA reads it (YAML 1.1 scalars: `enabled: yes` is true).
        let yaml = |message: String| BundleError::Yaml {
            file: rel.to_string(),
            message,
        };
        let text = std::str::from_utf8(content).map_err(|e| yaml(e.to_string()))?;
        return crate::value_yaml::parse(text).map_err(yaml);
    }
    // Loading happens off the request path; a large file takes every core for its moment.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    value_json::parse_interned_parallel(content, threads).map_err(|e| BundleError::Json {
        file: rel.to_string(),
        line: e.line,
        column: e.column,
        message: e.to_string(),
    })
}

/// Data at `path` is allowed when a root covers it; at an ancestor of a root it must be an
/// object whose members are checked in turn.
pub fn check_roots(
    manifest: &Manifest,
    file: &str,
    path: &[String],
    value: &Value,
) -> Result<(), BundleError> {
    if manifest.covers(path) {
        return Ok(());
    }
    match value {
        Value::Object(members) if manifest.is_ancestor_of_root(path) => {
            let mut child = path.to_vec();
            for (key, member) in members.iter() {
                child.push(key_text(key));
                check_roots(manifest, file, &child, member)?;
                child.pop();
            }
            Ok(())
        }
        _ => Err(BundleError::OutsideRoots {
            file: file.to_string(),
            what: "data",
            path: path.join("/"),
            roots: manifest.roots.clone(),
        }),
    }
}

/// Merges `value` into `root` at `path`.
pub fn place(
    root: &mut Value,
    path: &[String],
    value: Value,
    file: &str,
) -> Result<(), BundleError> {
    let conflict = |at: &[String]| BundleError::DataConflict {
        file: file.to_string(),
        path: at.join("/"),
    };
    let mut node = root;
    for (depth, key) in path.iter().enumerate() {
        let Ok(map) = node.as_object_mut() else {
            return Err(conflict(&path[..depth]));
        };
        let key = Value::from(key.as_str());
        if !map.contains_key(&key) {
            map.insert(key.clone(), Value::new_object());
        }
        node = match map.get_mut(&key) {
            Some(child) => child,
            None => return Err(conflict(&path[..=depth])),
        };
    }
    merge(node, value, path.to_vec(), &conflict)
}

fn merge(
    into: &mut Value,
    value: Value,
    mut at: Vec<String>,
    conflict: &dyn Fn(&[String]) -> BundleError,
) -> Result<(), BundleError> {
    let (Value::Object(_), Value::Object(incoming)) = (&*into, &value) else {
        return Err(conflict(&at));
    };
    // An empty object at the place (a new directory) takes the document whole, shared.
    if into.as_object().is_ok_and(|o| o.is_empty()) {
        *into = value;
        return Ok(());
    }
    let Ok(existing) = into.as_object_mut() else {
        return Err(conflict(&at));
    };
    for (key, member) in incoming.iter() {
        at.push(key_text(key));
        match existing.get_mut(key) {
            Some(slot) => merge(slot, member.clone(), at.clone(), conflict)?,
            None => {
                existing.insert(key.clone(), member.clone());
            }
        }
        at.pop();
    }
    Ok(())
}

fn key_text(key: &Value) -> String {
    match key {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}
