//! Finding a request's credential headers in its input, and taking them out of it.
//!
//! Owns: where the headers are for each API and how a header's value is read:
//! - the Data API (v1, v0, `POST /`, batch), gRPC `Decide`/`DecideBatch` and the command line:
//!   `input.headers`, an object of header name to a string or a list of strings;
//! - Envoy `Check`: the HTTP request's headers in the input Envoy's transport built,
//!   `attributes.request.http.headers` (a map of strings) and, when Envoy sends it,
//!   `attributes.request.http.headerMap.headers` (a list of `{key, value | rawValue}`).
//!
//! Names are matched case-insensitively. A header that appears twice (two spellings, two list
//! entries, a list of several values) is [`Header::Unusable`]: a credential must be
//! unambiguous. Every match is removed, so no copy of a credential reaches the policy or the
//! decision log. An input without any credential header is not touched (no copy is made).

use base64::Engine as _;
use regorus::Value;

/// One credential header as the request carried it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Header {
    Absent,
    /// Exactly one value (a [`Value::String`]).
    One(Value),
    /// Present, but not exactly one string.
    Unusable,
}

impl Header {
    pub(super) fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }

    /// The value, when there is exactly one.
    pub(super) fn text(&self) -> Option<&str> {
        match self {
            Self::One(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// A second occurrence of the same header makes it ambiguous.
    fn add(&mut self, value: Header) {
        *self = match (&*self, value) {
            (Self::Absent, value) => value,
            (_, Self::Absent) => return,
            _ => Self::Unusable,
        };
    }
}

/// Where an API puts a request's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Site {
    /// `input.headers`.
    Input,
    /// `input.attributes.request.http.{headers, headerMap}`.
    Envoy,
}

/// Object keys, made once (a [`Value`] key costs an allocation to build).
pub(super) struct Keys {
    headers: Value,
    attributes: Value,
    request: Value,
    http: Value,
    header_map: Value,
    key: Value,
    value: Value,
    raw_value: Value,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            headers: Value::from("headers"),
            attributes: Value::from("attributes"),
            request: Value::from("request"),
            http: Value::from("http"),
            header_map: Value::from("headerMap"),
            key: Value::from("key"),
            value: Value::from("value"),
            raw_value: Value::from("rawValue"),
        }
    }
}

/// Takes the headers named in `names` (lowercase) out of `input`: their values, in the order
/// of `names`, and `input` without them.
pub(super) fn take(input: &mut Value, site: Site, names: &[String], keys: &Keys) -> Vec<Header> {
    let mut found = vec![Header::Absent; names.len()];
    if names.is_empty() {
        return found;
    }
    let http_path: &[&Value] = match site {
        Site::Input => &[],
        Site::Envoy => &[&keys.attributes, &keys.request, &keys.http],
    };
    let Some(http) = get(input, http_path) else {
        return found;
    };
    let map_keys = get(http, &[&keys.headers])
        .map(|map| scan_map(map, names, &mut found))
        .unwrap_or_default();
    let list_hits = match site {
        Site::Input => false,
        Site::Envoy => get(http, &[&keys.header_map, &keys.headers])
            .is_some_and(|list| scan_list(list, names, keys, &mut found)),
    };
    if map_keys.is_empty() && !list_hits {
        return found;
    }
    let Some(http) = get_mut(input, http_path) else {
        return found;
    };
    if let Some(Ok(map)) = get_mut(http, &[&keys.headers]).map(Value::as_object_mut) {
        for key in &map_keys {
            map.remove(key);
        }
    }
    if list_hits
        && let Some(list) = get_mut(http, &[&keys.header_map, &keys.headers])
        && let Value::Array(entries) = list
    {
        let kept: Vec<Value> = entries
            .iter()
            .filter(|entry| entry_name(entry, keys).is_none_or(|n| position(n, names).is_none()))
            .cloned()
            .collect();
        *list = Value::from(kept);
    }
    found
}

/// The keys of `map` that are credential headers, with their values recorded in `found`.
fn scan_map(map: &Value, names: &[String], found: &mut [Header]) -> Vec<Value> {
    let Value::Object(map) = map else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for (key, value) in map.iter() {
        let Value::String(name) = key else { continue };
        if let Some(i) = position(name, names)
            && let Some(slot) = found.get_mut(i)
        {
            slot.add(one_value(value));
            hits.push(key.clone());
        }
    }
    hits
}

/// Records the credential headers of Envoy's `headerMap` list; true when there was one.
fn scan_list(list: &Value, names: &[String], keys: &Keys, found: &mut [Header]) -> bool {
    let Value::Array(entries) = list else {
        return false;
    };
    let mut hit = false;
    for entry in entries.iter() {
        let Some(i) = entry_name(entry, keys).and_then(|n| position(n, names)) else {
            continue;
        };
        hit = true;
        let value = match (get(entry, &[&keys.value]), get(entry, &[&keys.raw_value])) {
            (Some(value @ Value::String(_)), None) => Header::One(value.clone()),
            (None, Some(Value::String(raw))) => base64::engine::general_purpose::STANDARD
                .decode(raw.as_bytes())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .map_or(Header::Unusable, |text| Header::One(Value::from(text))),
            _ => Header::Unusable,
        };
        if let Some(slot) = found.get_mut(i) {
            slot.add(value);
        }
    }
    hit
}

fn entry_name<'v>(entry: &'v Value, keys: &Keys) -> Option<&'v str> {
    match get(entry, &[&keys.key]) {
        Some(Value::String(name)) => Some(name),
        _ => None,
    }
}

fn position(name: &str, names: &[String]) -> Option<usize> {
    names.iter().position(|n| n.eq_ignore_ascii_case(name))
}

/// A header value: a string, or a list holding exactly one string.
fn one_value(value: &Value) -> Header {
    match value {
        Value::String(_) => Header::One(value.clone()),
        Value::Array(items) => match items.as_slice() {
            [] => Header::Absent,
            [item @ Value::String(_)] => Header::One(item.clone()),
            _ => Header::Unusable,
        },
        _ => Header::Unusable,
    }
}

fn get<'v>(value: &'v Value, path: &[&Value]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, key| match v {
        Value::Object(fields) => fields.get(key),
        _ => None,
    })
}

fn get_mut<'v>(value: &'v mut Value, path: &[&Value]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(value, |v, key| v.as_object_mut().ok()?.get_mut(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn input_headers_are_found_case_insensitively_and_removed() {
        let mut input = v(
            r#"{"headers": {"X-Service-Auth": "t", "authorization": ["Bearer j"], "accept": "*/*"}, "action": "view"}"#,
        );
        let found = take(
            &mut input,
            Site::Input,
            &names(&["authorization", "x-service-auth", "x-user-context"]),
            &Keys::default(),
        );
        assert_eq!(found[0].text(), Some("Bearer j"));
        assert_eq!(found[1].text(), Some("t"));
        assert_eq!(found[2], Header::Absent);
        assert_eq!(
            input,
            v(r#"{"headers": {"accept": "*/*"}, "action": "view"}"#)
        );
    }

    #[test]
    fn ambiguous_values_are_unusable() {
        let mut input =
            v(r#"{"headers": {"x-a": "1", "X-A": "2", "x-b": ["1", "2"], "x-c": 3, "x-d": []}}"#);
        let found = take(
            &mut input,
            Site::Input,
            &names(&["x-a", "x-b", "x-c", "x-d"]),
            &Keys::default(),
        );
        assert_eq!(
            found,
            vec![
                Header::Unusable,
                Header::Unusable,
                Header::Unusable,
                Header::Absent
            ]
        );
        assert_eq!(input, v(r#"{"headers": {}}"#));
    }

    #[test]
    fn inputs_without_credentials_are_left_alone() {
        for json in [
            r#"{"headers": {"accept": "x"}}"#,
            r#"{"headers": "x"}"#,
            "[1]",
            "{}",
        ] {
            let mut input = v(json);
            let found = take(&mut input, Site::Input, &names(&["x-a"]), &Keys::default());
            assert_eq!(found, vec![Header::Absent], "{json}");
            assert_eq!(input, v(json));
        }
    }

    #[test]
    fn envoy_headers_and_header_map() {
        let raw = base64::engine::general_purpose::STANDARD.encode("raw-token");
        let mut input = v(&format!(
            r#"{{"attributes": {{"request": {{"http": {{
                "headers": {{"x-service-auth": "t", ":path": "/"}},
                "headerMap": {{"headers": [{{"key": "x-user-context", "rawValue": "{raw}"}}, {{"key": "accept", "value": "*/*"}}]}}
            }}}}}}, "parsed_path": [""]}}"#
        ));
        let found = take(
            &mut input,
            Site::Envoy,
            &names(&["x-service-auth", "x-user-context"]),
            &Keys::default(),
        );
        assert_eq!(found[0].text(), Some("t"));
        assert_eq!(found[1].text(), Some("raw-token"));
        assert_eq!(
            input,
            v(
                r#"{"attributes": {"request": {"http": {"headers": {":path": "/"}, "headerMap": {"headers": [{"key": "accept", "value": "*/*"}]}}}}, "parsed_path": [""]}"#
            )
        );
        // Envoy's site is not input.headers.
        let mut input = v(r#"{"headers": {"x-service-auth": "t"}}"#);
        let found = take(
            &mut input,
            Site::Envoy,
            &names(&["x-service-auth"]),
            &Keys::default(),
        );
        assert_eq!(found, vec![Header::Absent]);
    }
}
