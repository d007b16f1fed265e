//! The input document of an Envoy `Check`, built the way opa-envoy-plugin builds it.
//!
//! Owns: `attributes` (the CheckRequest in protobuf's JSON mapping: camelCase names, defaults
//! omitted, int64 as strings, bytes as base64, timestamps as RFC 3339), `parsed_path`,
//! `parsed_query`, `parsed_body`, `truncated_body` and `version`. Values are built straight
//! into regorus values, with no intermediate JSON.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use envoy_types::pb::envoy::config::core::v3::{
    Address, Metadata, address, socket_address::PortSpecifier,
};
use envoy_types::pb::envoy::service::auth::v3::{CheckRequest, attribute_context};
use regorus::Value;

use crate::api::protobuf::{retype, struct_to_value};

/// A request the policy must not see: answered with a 400 denial, as opa-envoy-plugin does.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestParseError(pub String);

/// An object under construction; empty members are left out, as protobuf's JSON mapping does.
#[derive(Default)]
struct Obj(BTreeMap<Value, Value>);

impl Obj {
    fn set(&mut self, key: &str, value: Value) -> &mut Self {
        self.0.insert(Value::from(key), value);
        self
    }

    fn str(&mut self, key: &str, value: &str) -> &mut Self {
        if !value.is_empty() {
            self.set(key, Value::from(value));
        }
        self
    }

    fn opt(&mut self, key: &str, value: Option<Value>) -> &mut Self {
        if let Some(value) = value {
            self.set(key, value);
        }
        self
    }

    fn map(&mut self, key: &str, map: &HashMap<String, String>) -> &mut Self {
        if !map.is_empty() {
            self.set(key, string_map(map));
        }
        self
    }

    fn build(self) -> Value {
        Value::from(self.0)
    }

    fn build_nonempty(self) -> Option<Value> {
        (!self.0.is_empty()).then(|| self.build())
    }
}

fn string_map(map: &HashMap<String, String>) -> Value {
    Value::from(
        map.iter()
            .map(|(k, v)| (Value::from(k.as_str()), Value::from(v.as_str())))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// Builds the whole input document. `parse_body: false` leaves out `parsed_body` and
/// `truncated_body` (opa-envoy-plugin's `skip-request-body-parse`).
pub fn build(request: &CheckRequest, parse_body: bool) -> Result<Value, RequestParseError> {
    let mut input = Obj::default();
    let attributes = request.attributes.as_ref();
    let http = attributes
        .and_then(|a| a.request.as_ref())
        .and_then(|r| r.http.as_ref());
    input.opt("attributes", attributes.map(attributes_value));

    let path = http.map(|h| h.path.as_str()).unwrap_or("");
    let (parsed_path, parsed_query) = parse_path_and_query(path)?;
    input.set("parsed_path", parsed_path);
    input.set("parsed_query", parsed_query);

    if parse_body {
        let (body, truncated) = match http {
            Some(http) => parse_body_of(http)?,
            None => (Value::Null, false),
        };
        input.set("parsed_body", body);
        input.set("truncated_body", Value::from(truncated));
    }
    if let Some(principal) = attributes
        .and_then(|a| a.source.as_ref())
        .map(|s| s.principal.as_str())
        .filter(|p| !p.is_empty())
    {
        input.set("source_principal", Value::from(principal));
    }
    let mut version = Obj::default();
    version.str("ext_authz", "v3").str("encoding", "protojson");
    input.set("version", version.build());
    Ok(input.build())
}

fn attributes_value(a: &envoy_types::pb::envoy::service::auth::v3::AttributeContext) -> Value {
    let mut o = Obj::default();
    o.opt("source", a.source.as_ref().and_then(peer_value));
    o.opt("destination", a.destination.as_ref().and_then(peer_value));
    o.opt("request", a.request.as_ref().and_then(request_value));
    o.map("contextExtensions", &a.context_extensions);
    o.opt(
        "metadataContext",
        a.metadata_context.as_ref().and_then(metadata_value),
    );
    o.opt(
        "routeMetadataContext",
        a.route_metadata_context.as_ref().and_then(metadata_value),
    );
    if let Some(tls) = &a.tls_session {
        let mut t = Obj::default();
        t.str("sni", &tls.sni);
        o.opt("tlsSession", t.build_nonempty());
    }
    o.build()
}

fn peer_value(p: &attribute_context::Peer) -> Option<Value> {
    let mut o = Obj::default();
    o.opt("address", p.address.as_ref().and_then(address_value));
    o.str("service", &p.service);
    o.map("labels", &p.labels);
    o.str("principal", &p.principal);
    o.str("certificate", &p.certificate);
    o.build_nonempty()
}

fn address_value(a: &Address) -> Option<Value> {
    let mut o = Obj::default();
    match a.address.as_ref()? {
        address::Address::SocketAddress(s) => {
            let mut sa = Obj::default();
            sa.str("address", &s.address);
            match &s.port_specifier {
                Some(PortSpecifier::PortValue(port)) if *port != 0 => {
                    sa.set("portValue", Value::from(u64::from(*port)));
                }
                Some(PortSpecifier::NamedPort(name)) => {
                    sa.str("namedPort", name);
                }
                _ => {}
            }
            o.set("socketAddress", sa.build());
        }
        address::Address::Pipe(p) => {
            let mut pipe = Obj::default();
            pipe.str("path", &p.path);
            if p.mode != 0 {
                pipe.set("mode", Value::from(u64::from(p.mode)));
            }
            o.set("pipe", pipe.build());
        }
        address::Address::EnvoyInternalAddress(_) => {}
    }
    o.build_nonempty()
}

fn request_value(r: &attribute_context::Request) -> Option<Value> {
    let mut o = Obj::default();
    if let Some(time) = &r.time {
        // protobuf's JSON mapping: 0, 3, 6 or 9 fractional digits, UTC.
        let nanos = u32::try_from(time.nanos).unwrap_or(0);
        if let Some(at) = chrono::DateTime::from_timestamp(time.seconds, nanos) {
            let text = at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            o.set("time", Value::from(text));
        }
    }
    if let Some(h) = &r.http {
        let mut http = Obj::default();
        http.str("id", &h.id)
            .str("method", &h.method)
            .map("headers", &h.headers)
            .str("path", &h.path)
            .str("host", &h.host)
            .str("scheme", &h.scheme)
            .str("query", &h.query)
            .str("fragment", &h.fragment);
        if h.size != 0 {
            // int64 is a string in protobuf's JSON mapping.
            http.set("size", Value::from(h.size.to_string()));
        }
        http.str("protocol", &h.protocol).str("body", &h.body);
        if !h.raw_body.is_empty() {
            let encoded = base64::engine::general_purpose::STANDARD.encode(&h.raw_body);
            http.set("rawBody", Value::from(encoded));
        }
        if let Some(map) = &h.header_map {
            let headers: Vec<Value> = map
                .headers
                .iter()
                .map(|hv| {
                    let mut item = Obj::default();
                    item.str("key", &hv.key).str("value", &hv.value);
                    if !hv.raw_value.is_empty() {
                        let raw = base64::engine::general_purpose::STANDARD.encode(&hv.raw_value);
                        item.set("rawValue", Value::from(raw));
                    }
                    item.build()
                })
                .collect();
            let mut hm = Obj::default();
            hm.set("headers", Value::from(headers));
            http.set("headerMap", hm.build());
        }
        o.opt("http", http.build_nonempty());
    }
    o.build_nonempty()
}

fn metadata_value(m: &Metadata) -> Option<Value> {
    if m.filter_metadata.is_empty() {
        return None;
    }
    // A namespace whose struct holds a non-finite number is left out, as JSON could not hold it.
    let filters: BTreeMap<Value, Value> = m
        .filter_metadata
        .iter()
        .filter_map(|(ns, s)| {
            let value = retype(s).and_then(|s| struct_to_value(&s)).ok()?;
            Some((Value::from(ns.as_str()), value))
        })
        .collect();
    let mut o = Obj::default();
    o.set("filterMetadata", Value::from(filters));
    Some(o.build())
}

/// `parsed_path`: the path before `?`, percent-decoded, leading `/` removed, split on `/`.
/// `parsed_query`: each key's values, in order.
fn parse_path_and_query(path: &str) -> Result<(Value, Value), RequestParseError> {
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let decoded = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|e| RequestParseError(format!("invalid request path {raw_path:?}: {e}")))?;
    let segments: Vec<Value> = decoded
        .trim_start_matches('/')
        .split('/')
        .map(Value::from)
        .collect();
    Ok((Value::from(segments), query_values(raw_query)))
}

/// `key=v1&key=v2` as `{"key": ["v1", "v2"]}` (form encoding: `+` is a space).
fn query_values(query: &str) -> Value {
    let mut map: BTreeMap<Value, Vec<Value>> = BTreeMap::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        map.entry(Value::from(key.as_ref()))
            .or_default()
            .push(Value::from(value.as_ref()));
    }
    Value::from(
        map.into_iter()
            .map(|(k, v)| (k, Value::from(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// `parsed_body` and `truncated_body` from the request body and its headers.
fn parse_body_of(
    http: &attribute_context::HttpRequest,
) -> Result<(Value, bool), RequestParseError> {
    let header = |name: &str| http.headers.get(name).map(String::as_str);
    if header("x-envoy-auth-partial-body") == Some("true") {
        return Ok((Value::Null, true));
    }
    let Some(content_type) = header("content-type") else {
        return Ok((Value::Null, false));
    };
    let body: &[u8] = if http.body.is_empty() {
        &http.raw_body
    } else {
        http.body.as_bytes()
    };
    let is_json = content_type.contains("application/json");
    let is_form = content_type.contains("application/x-www-form-urlencoded");
    if (!is_json && !is_form) || body.is_empty() {
        return Ok((Value::Null, false));
    }
    if let Some(length) = header("content-length") {
        let length: i64 = length
            .trim()
            .parse()
            .map_err(|_| RequestParseError(format!("invalid content-length header {length:?}")))?;
        if length != -1 && length > body.len() as i64 {
            return Ok((Value::Null, true));
        }
    }
    if is_json {
        let value = crate::value_json::parse(body)
            .map_err(|e| RequestParseError(format!("invalid JSON request body: {e}")))?;
        Ok((value, false))
    } else {
        let text = std::str::from_utf8(body)
            .map_err(|_| RequestParseError("form body is not UTF-8".into()))?;
        Ok((query_values(text), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn path_and_query_like_opa_envoy_plugin() {
        let (path, query) = parse_path_and_query("/my/test%20x/path?a=1&a=2&x=y+z").unwrap();
        assert_eq!(path, v(r#"["my", "test x", "path"]"#));
        assert_eq!(query, v(r#"{"a": ["1", "2"], "x": ["y z"]}"#));
        let (path, query) = parse_path_and_query("/").unwrap();
        assert_eq!(path, v(r#"[""]"#));
        assert_eq!(query, v("{}"));
        let (path, _) = parse_path_and_query("/a/").unwrap();
        assert_eq!(path, v(r#"["a", ""]"#));
    }

    fn http(headers: &[(&str, &str)], body: &str) -> attribute_context::HttpRequest {
        attribute_context::HttpRequest {
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.to_string(),
            ..Default::default()
        }
    }

    #[test]
    fn json_and_form_bodies_are_parsed() {
        let (body, truncated) = parse_body_of(&http(
            &[("content-type", "application/json")],
            r#"{"a": [1]}"#,
        ))
        .unwrap();
        assert_eq!((body, truncated), (v(r#"{"a": [1]}"#), false));
        let (body, _) = parse_body_of(&http(
            &[("content-type", "application/x-www-form-urlencoded")],
            "user=alice&role=a&role=b",
        ))
        .unwrap();
        assert_eq!(body, v(r#"{"user": ["alice"], "role": ["a", "b"]}"#));
    }

    #[test]
    fn truncated_and_malformed_bodies() {
        let (body, truncated) = parse_body_of(&http(
            &[
                ("content-type", "application/json"),
                ("content-length", "1000"),
            ],
            r#"{"a": "#,
        ))
        .unwrap();
        assert_eq!((body, truncated), (Value::Null, true));
        assert!(parse_body_of(&http(&[("content-type", "application/json")], "{oops")).is_err());
        let (body, truncated) =
            parse_body_of(&http(&[("x-envoy-auth-partial-body", "true")], "")).unwrap();
        assert_eq!((body, truncated), (Value::Null, true));
        let (body, _) = parse_body_of(&http(&[("content-type", "text/plain")], "hi")).unwrap();
        assert_eq!(body, Value::Null);
    }
}
