//! Request bodies: reading them under a size cap, gzip decoding, and parsing the input document.
//!
//! Owns: the one JSON (or YAML) parse of each request, straight into regorus values, and the
//! exact OPA messages for malformed input. Does not evaluate anything.

use std::io::Read;

use axum::body::{Body, Bytes};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use http_body_util::{BodyExt, Limited};
use regorus::Value;

use super::error::ApiError;
use crate::api::conn::BodyTimeout;
use crate::value_json;

fn too_large() -> ApiError {
    ApiError::BodyTooLarge {
        message: "request body too large".into(),
    }
}

/// Reads the whole body, refusing more than `limit` bytes before or after gzip decoding, and
/// a body that does not arrive within the connection's body timeout.
pub async fn read_body(parts: &Parts, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let headers = &parts.headers;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(too_large());
    }
    let collect = Limited::new(body, limit).collect();
    let collected = match parts.extensions.get::<BodyTimeout>() {
        Some(BodyTimeout(timeout)) => match tokio::time::timeout(*timeout, collect).await {
            Ok(collected) => collected,
            Err(_) => {
                return Err(ApiError::RequestTimeout(format!(
                    "the request body did not arrive within {} ms (--body-timeout-ms)",
                    timeout.as_millis()
                )));
            }
        },
        None => collect.await,
    };
    let bytes = match collected {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::InvalidParameter(format!(
                "could not read the body: {e}"
            )));
        }
    };
    if is_gzip(headers) {
        return gunzip(&bytes, limit);
    }
    Ok(bytes)
}

fn is_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("gzip"))
}

fn gunzip(compressed: &[u8], limit: usize) -> Result<Bytes, ApiError> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(compressed)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::InvalidParameter(format!("could not decompress the body: {e}")))?;
    if out.len() > limit {
        return Err(ApiError::BodyTooLarge {
            message: "could not decompress the body: gzip payload too large".into(),
        });
    }
    Ok(Bytes::from(out))
}

/// True when the client sent YAML (OPA accepts it wherever it accepts JSON).
pub fn is_yaml(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("yaml"))
}

fn is_blank(body: &[u8]) -> bool {
    body.iter().all(u8::is_ascii_whitespace)
}

/// The key looked up in every `/v1/data` body, made once.
static INPUT_KEY: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| Value::from("input"));

/// The `input` of a `/v1/data` body. `None` when the body is empty, `null`, or has no (or a
/// null) `input` key: OPA then warns `'input' key missing from the request`.
pub fn v1_input(body: &[u8], yaml: bool) -> Result<Option<Value>, ApiError> {
    if is_blank(body) {
        return Ok(None);
    }
    let malformed = |e: String| {
        ApiError::InvalidParameter(format!("body contains malformed input document: {e}"))
    };
    match document(body, yaml).map_err(malformed)? {
        Value::Null => Ok(None),
        Value::Object(members) => Ok(members
            .get(&INPUT_KEY)
            .filter(|input| **input != Value::Null)
            .cloned()),
        _ => Err(malformed(
            "the body must be an object with an \"input\" key".into(),
        )),
    }
}

/// A JSON (or YAML) body as one value; JSON keeps integers beyond 64 bits exact.
pub fn document(body: &[u8], yaml: bool) -> Result<Value, String> {
    if yaml {
        let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
        crate::value_yaml::parse(text)
    } else {
        value_json::parse(body).map_err(|e| e.to_string())
    }
}

/// The whole body as the input (v0 API and `POST /`). An empty body is `null`, as in OPA.
pub fn raw_input(body: &[u8], yaml: bool) -> Result<Value, ApiError> {
    if is_blank(body) {
        return Ok(Value::Null);
    }
    document(body, yaml).map_err(|e| {
        ApiError::InvalidParameter(format!(
            "unexpected parse error for input: body contains malformed input document: {e}"
        ))
    })
}

/// The `input` query parameter of `GET /v1/data` (already URL-decoded).
pub fn query_input(text: &str) -> Result<Value, ApiError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(ApiError::InvalidParameter(
            "parameter contains malformed input document: EOF".into(),
        ));
    }
    value_json::parse(trimmed.as_bytes()).map_err(|e| {
        ApiError::InvalidParameter(format!("parameter contains malformed input document: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_input_cases() {
        assert!(v1_input(b"", false).unwrap().is_none());
        assert!(v1_input(b"  null ", false).unwrap().is_none());
        assert!(v1_input(b"{}", false).unwrap().is_none());
        assert!(v1_input(br#"{"input": null}"#, false).unwrap().is_none());
        assert_eq!(
            v1_input(br#"{"input": {"a": 1}, "other": 2}"#, false).unwrap(),
            Some(Value::from_json_str(r#"{"a": 1}"#).unwrap())
        );
        let err = v1_input(br#"{"input": @}"#, false).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("body contains malformed input document: "),
            "{err}"
        );
        assert_eq!(
            v1_input(b"input:\n  a: 1\n", true).unwrap(),
            Some(Value::from_json_str(r#"{"a": 1}"#).unwrap())
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!(
            "{{\"input\": {}{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(v1_input(deep.as_bytes(), false).is_err());
    }

    #[test]
    fn raw_input_empty_is_null() {
        assert_eq!(raw_input(b"", false).unwrap(), Value::Null);
        assert!(raw_input(b"{", false).is_err());
    }

    #[test]
    fn gzip_cap_applies_after_decoding() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &vec![b' '; 1 << 20]).unwrap();
        let compressed = gz.finish().unwrap();
        assert!(matches!(
            gunzip(&compressed, 1024),
            Err(ApiError::BodyTooLarge { .. })
        ));
        assert!(matches!(
            gunzip(b"not gzip", 1024),
            Err(ApiError::InvalidParameter(_))
        ));
    }
}
