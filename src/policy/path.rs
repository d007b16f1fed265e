//! Data paths as clients write them (`orders/allow`, `roles/0`) and as Rego writes them
//! (`data.orders.allow`, `data.roles[0]`).
//!
//! Owns: the two ways a transport names a document ([`DataPath`]), splitting and unescaping a
//! request path the way OPA does, in time linear in its length and under a segment limit,
//! formatting a path as a Rego ref for messages, and walking the rest of a path into an
//! already computed value.

use std::borrow::Cow;

use regorus::Value;

/// Most segments a request path may have. Real policies nest a handful deep; the limit keeps a
/// hostile path from costing more than its bytes.
pub const MAX_PATH_SEGMENTS: usize = 256;

/// Why a request path cannot name a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A segment OPA refuses (it contains `"`).
    #[error("invalid path: invalid ref term '{0}'")]
    Segment(String),
    /// A `data.`-prefixed ref that does not parse.
    #[error("invalid path: {0}")]
    Ref(String),
    /// More than [`MAX_PATH_SEGMENTS`] segments.
    #[error("invalid path: more than {MAX_PATH_SEGMENTS} segments")]
    TooLong,
}

/// How a transport names the document to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataPath<'a> {
    /// The URL path below `/v1/data` (or `/v0/data`), still percent-encoded.
    Url(&'a str),
    /// A path as gRPC, Envoy's settings and the command line take it: slash form
    /// (`orders/allow`, percent-escapes allowed), or a Rego ref (`data.orders.allow`).
    Text(&'a str),
}

/// A [`DataPath`] that owns its text, for work that outlives the request (the fast-path
/// self-check and shadow evaluation queue decisions for later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedDataPath {
    Url(String),
    Text(String),
}

impl OwnedDataPath {
    pub fn of(path: DataPath<'_>) -> Self {
        match path {
            DataPath::Url(raw) => Self::Url(raw.to_string()),
            DataPath::Text(text) => Self::Text(text.to_string()),
        }
    }

    pub fn as_path(&self) -> DataPath<'_> {
        match self {
            Self::Url(raw) => DataPath::Url(raw),
            Self::Text(text) => DataPath::Text(text),
        }
    }
}

impl DataPath<'_> {
    /// The path as the client wrote it, slash form without a leading slash where it had one
    /// (for decision logs).
    pub fn display(&self) -> &str {
        match self {
            Self::Url(raw) => raw.trim_start_matches('/'),
            Self::Text(text) => text.trim().trim_start_matches('/'),
        }
    }

    /// The unescaped segments.
    pub fn segments(&self) -> Result<Vec<String>, PathError> {
        match *self {
            Self::Url(raw) => split_path(raw),
            Self::Text(text) => {
                let trimmed = text.trim();
                if trimmed == "data" || trimmed.starts_with("data.") || trimmed.starts_with("data[")
                {
                    let segments = crate::bundle::parse_ref(trimmed).map_err(PathError::Ref)?;
                    if segments.len() > MAX_PATH_SEGMENTS {
                        return Err(PathError::TooLong);
                    }
                    return Ok(segments);
                }
                split_path(trimmed.strip_prefix("/v1/data").unwrap_or(trimmed))
            }
        }
    }

    /// The lookup key when the path is already in normal form (see [`fast_key`]).
    pub fn fast_key(&self) -> Option<&str> {
        match *self {
            Self::Url(raw) => fast_key(raw),
            Self::Text(text) if !text.starts_with("data") => fast_key(text),
            Self::Text(_) => None,
        }
    }
}

/// Splits a URL path (below `/v1/data`) into unescaped segments. Empty segments are skipped,
/// each segment is percent-decoded on its own (so `%2F` stays inside one key).
pub fn split_path(raw: &str) -> Result<Vec<String>, PathError> {
    let mut segments = Vec::new();
    for part in raw.split('/').filter(|s| !s.is_empty()) {
        if segments.len() == MAX_PATH_SEGMENTS {
            return Err(PathError::TooLong);
        }
        let segment: Cow<'_, str> = if part.contains('%') {
            percent_encoding::percent_decode_str(part)
                .decode_utf8()
                .unwrap_or(Cow::Borrowed(part))
        } else {
            Cow::Borrowed(part)
        };
        if segment.contains('"') {
            return Err(PathError::Segment(segment.into_owned()));
        }
        segments.push(segment.into_owned());
    }
    Ok(segments)
}

/// The lookup key of a raw path when it is already in normal form (no escapes, no empty
/// segments), so the common request needs no allocation to find its rule.
pub fn fast_key(raw: &str) -> Option<&str> {
    let trimmed = raw.strip_prefix('/').unwrap_or(raw);
    let clean = !trimmed.is_empty()
        && !trimmed.ends_with('/')
        && !trimmed.contains("//")
        && !trimmed.contains('%')
        && !trimmed.contains('"');
    clean.then_some(trimmed)
}

/// The integer a segment denotes, when it is one (OPA uses Go's `strconv.Atoi`: optional sign,
/// decimal digits). Such a segment indexes arrays.
pub fn as_index(segment: &str) -> Option<i64> {
    let digits = segment.strip_prefix(['+', '-']).unwrap_or(segment);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    segment.parse().ok()
}

/// Formats segments as a Rego ref: `data.orders.allow`, `data.x[0]`, `data.a["b/c"]`.
pub fn to_ref(segments: &[String]) -> String {
    let mut out = String::from("data");
    for segment in segments {
        if let Some(index) = as_index(segment) {
            out.push_str(&format!("[{index}]"));
        } else if is_identifier(segment) {
            out.push('.');
            out.push_str(segment);
        } else {
            out.push('[');
            out.push_str(&serde_json::Value::String(segment.clone()).to_string());
            out.push(']');
        }
    }
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Follows `rest` into `value`: object keys, array indices, set members. `Undefined` when any
/// step is missing. As in OPA's storage, a segment is a string key first; an integer segment
/// also indexes arrays and matches number keys and members.
pub fn walk(value: Value, rest: &[String]) -> Value {
    let mut current = value;
    for segment in rest {
        let index = as_index(segment);
        let as_string = Value::from(segment.as_str());
        let next = match &current {
            Value::Object(map) => map
                .get(&as_string)
                .or_else(|| index.and_then(|i| map.get(&Value::from(i))))
                .cloned(),
            Value::Array(items) => index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| items.get(i).cloned()),
            Value::Set(members) => {
                if members.contains(&as_string) {
                    Some(as_string)
                } else {
                    index
                        .map(Value::from)
                        .filter(|number| members.contains(number))
                }
            }
            _ => None,
        };
        match next {
            Some(v) => current = v,
            None => return Value::Undefined,
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_unescapes_each_segment() {
        assert_eq!(split_path("orders/allow").unwrap(), vec!["orders", "allow"]);
        assert_eq!(split_path("/a%2Fb//c/").unwrap(), vec!["a/b", "c"]);
        assert_eq!(split_path("").unwrap(), Vec::<String>::new());
        assert!(split_path("a/b%22c").is_err());
    }

    #[test]
    fn paths_in_both_notations() {
        let want = vec!["orders".to_string(), "allow".to_string()];
        assert_eq!(DataPath::Text("orders/allow").segments().unwrap(), want);
        assert_eq!(
            DataPath::Text("/v1/data/orders/allow").segments().unwrap(),
            want
        );
        assert_eq!(
            DataPath::Text("data.orders.allow").segments().unwrap(),
            want
        );
        assert_eq!(
            DataPath::Text("data").segments().unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(DataPath::Url("/orders/allow").segments().unwrap(), want);
        assert!(matches!(
            DataPath::Text("data.x[").segments(),
            Err(PathError::Ref(_))
        ));
    }

    #[test]
    fn long_paths_are_refused() {
        let long = "a/".repeat(MAX_PATH_SEGMENTS + 1);
        assert_eq!(split_path(&long), Err(PathError::TooLong));
        assert_eq!(
            split_path(&"a/".repeat(MAX_PATH_SEGMENTS)).unwrap().len(),
            MAX_PATH_SEGMENTS
        );
        let dotted = format!("data{}", ".a".repeat(MAX_PATH_SEGMENTS + 1));
        assert_eq!(DataPath::Text(&dotted).segments(), Err(PathError::TooLong));
    }

    #[test]
    fn fast_key_only_for_normal_paths() {
        assert_eq!(fast_key("orders/allow"), Some("orders/allow"));
        assert_eq!(fast_key("/orders/allow"), Some("orders/allow"));
        assert_eq!(fast_key("orders//allow"), None);
        assert_eq!(fast_key("orders/allow/"), None);
        assert_eq!(fast_key("a%2Fb"), None);
        assert_eq!(fast_key(""), None);
    }

    #[test]
    fn integer_segments_follow_atoi() {
        assert_eq!(as_index("0"), Some(0));
        assert_eq!(as_index("-1"), Some(-1));
        assert_eq!(as_index("+5"), Some(5));
        assert_eq!(as_index("007"), Some(7));
        assert_eq!(as_index("1e3"), None);
        assert_eq!(as_index("-"), None);
    }

    #[test]
    fn refs_format_like_rego() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(to_ref(&s(&["orders", "allow"])), "data.orders.allow");
        assert_eq!(to_ref(&s(&["x", "0"])), "data.x[0]");
        assert_eq!(to_ref(&s(&["a", "b/c"])), "data.a[\"b/c\"]");
        // What to_ref writes, DataPath::Text reads back, array indexes included.
        for segments in [s(&["x", "0"]), s(&["a", "b]c", "d"])] {
            let text = to_ref(&segments);
            assert_eq!(
                DataPath::Text(&text).segments().unwrap(),
                segments,
                "{text}"
            );
        }
        assert_eq!(to_ref(&[]), "data");
    }

    #[test]
    fn walks_objects_arrays_and_sets() {
        let v = Value::from_json_str(r#"{"a": [10, {"b": true}], "0": "string key"}"#).unwrap();
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(walk(v.clone(), &s(&["a", "1", "b"])), Value::from(true));
        assert_eq!(walk(v.clone(), &s(&["a", "5"])), Value::Undefined);
        // Like OPA's storage: an integer segment still finds a string key.
        assert_eq!(walk(v.clone(), &s(&["0"])), Value::from("string key"));
        let numbered = Value::from_json_str(r#"{"x": 1}"#).unwrap();
        assert_eq!(walk(numbered, &s(&["0"])), Value::Undefined);
        let set = Value::from(std::collections::BTreeSet::from([Value::from("x")]));
        assert_eq!(walk(set, &s(&["x"])), Value::from("x"));
    }
}
