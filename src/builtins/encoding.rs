//! The encodings OPA's token builtins read and write, decoded the way OPA (Go) decodes them so
//! that the same bytes are accepted and rejected: base64 (Go's `encoding/base64`, with OPA's
//! padding repair for base64url), PEM blocks (Go's `encoding/pem`), JSON objects (Go's
//! `encoding/json` with OPA's wrappers), and Go's `json.Marshal` output for `io.jwt.encode_sign`.
//!
//! Owns only byte formats; what the bytes mean (keys, tokens) lives in [`super::keys`] and
//! [`super::jwt`].

use std::fmt::Write as _;

use base64::Engine as _;
use regorus::Value;

/// Base64 alphabets (both padded, as Go's `StdEncoding` and `URLEncoding`).
#[derive(Clone, Copy)]
pub(super) enum Alphabet {
    Standard,
    Url,
}

impl Alphabet {
    fn value(self, byte: u8) -> Option<u8> {
        match byte {
            b'A'..=b'Z' => Some(byte - b'A'),
            b'a'..=b'z' => Some(byte - b'a' + 26),
            b'0'..=b'9' => Some(byte - b'0' + 52),
            b'+' if matches!(self, Alphabet::Standard) => Some(62),
            b'/' if matches!(self, Alphabet::Standard) => Some(63),
            b'-' if matches!(self, Alphabet::Url) => Some(62),
            b'_' if matches!(self, Alphabet::Url) => Some(63),
            _ => None,
        }
    }
}

/// Decodes padded base64 exactly as Go's `Encoding.DecodeString` does: `\r` and `\n` are
/// skipped anywhere, padding is required, unused trailing bits are ignored. The error is Go's
/// message, with the offset of the offending byte.
pub(super) fn base64_decode(input: &[u8], alphabet: Alphabet) -> Result<Vec<u8>, String> {
    let corrupt = |at: usize| format!("illegal base64 data at input byte {at}");
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let mut si = 0;
    while si < input.len() {
        let mut quantum = [0u8; 4];
        let mut len = 4;
        let mut j = 0;
        let mut trailing = None;
        while j < 4 {
            let Some(&byte) = input.get(si) else {
                // Go requires full quanta: a padded encoding cannot simply end.
                if j == 0 {
                    return Ok(out);
                }
                return Err(corrupt(si - j));
            };
            si += 1;
            if let Some(v) = alphabet.value(byte) {
                if let Some(slot) = quantum.get_mut(j) {
                    *slot = v;
                }
                j += 1;
                continue;
            }
            if byte == b'\n' || byte == b'\r' {
                continue;
            }
            if byte != b'=' {
                return Err(corrupt(si - 1));
            }
            // Padding: only after two or three symbols, and "==" after two.
            match j {
                0 | 1 => return Err(corrupt(si - 1)),
                2 => {
                    while matches!(input.get(si), Some(b'\n' | b'\r')) {
                        si += 1;
                    }
                    match input.get(si) {
                        None => return Err(corrupt(input.len())),
                        Some(b'=') => si += 1,
                        Some(_) => return Err(corrupt(si - 1)),
                    }
                }
                _ => {}
            }
            while matches!(input.get(si), Some(b'\n' | b'\r')) {
                si += 1;
            }
            if si < input.len() {
                trailing = Some(si);
            }
            len = j;
            break;
        }
        let [a, b, c, d] = quantum.map(u32::from);
        let bits = (a << 18) | (b << 12) | (c << 6) | d;
        let bytes = [(bits >> 16) as u8, (bits >> 8) as u8, bits as u8];
        out.extend_from_slice(bytes.get(..len.saturating_sub(1)).unwrap_or_default());
        if let Some(at) = trailing {
            return Err(corrupt(at));
        }
        if len < 4 {
            break;
        }
    }
    Ok(out)
}

/// OPA's `base64.url.decode`, which every token part goes through: unpadded input is padded
/// first (RFC 7515 appendix C), then decoded as padded base64url.
pub(super) fn base64url_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut padded = text.to_string();
    if !text.ends_with('=') {
        match text.len() % 4 {
            0 => {}
            2 => padded.push_str("=="),
            3 => padded.push('='),
            _ => return Err(format!("illegal base64url string: {text}")),
        }
    }
    base64_decode(padded.as_bytes(), Alphabet::Url)
}

/// Unpadded base64url, as JWS compact serialization writes it.
pub(super) fn base64url_encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Lowercase hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// One PEM block: its type (`CERTIFICATE`, `PUBLIC KEY`, ...) and its decoded body.
pub(super) struct PemBlock {
    pub kind: String,
    pub bytes: Vec<u8>,
}

/// Finds the first well-formed PEM block in `data` as Go's `pem.Decode` does (skipping text
/// before it and malformed candidates) and returns it with the text after its END line.
pub(super) fn pem_decode(data: &str) -> Option<(PemBlock, &str)> {
    const BEGIN: &str = "-----BEGIN ";
    const END: &str = "\n-----END ";
    const DASHES: &str = "-----";
    let mut rest = data;
    loop {
        if let Some(after) = rest.strip_prefix(BEGIN) {
            rest = after;
        } else if let Some(index) = rest.find("\n-----BEGIN ") {
            rest = rest.get(index + 1 + BEGIN.len()..)?;
        } else {
            return None;
        }
        let (type_line, after_type) = get_line(rest);
        rest = after_type;
        let Some(kind) = type_line.strip_suffix(DASHES) else {
            continue;
        };
        // Optional "Key: value" headers (encrypted PEM); authzd never needs their values.
        let mut body = rest;
        let mut has_headers = false;
        loop {
            if body.is_empty() {
                return None;
            }
            let (line, next) = get_line(body);
            if !line.contains(':') {
                break;
            }
            has_headers = true;
            body = next;
        }
        let (end_index, trailer_index) = if !has_headers && body.starts_with(&END[1..]) {
            (0, END.len() - 1)
        } else {
            match body.find(END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let Some(trailer) = body.get(trailer_index..) else {
            continue;
        };
        let trailer_len = kind.len() + DASHES.len();
        let (Some(end_trailer), Some(rest_of_end_line)) =
            (trailer.get(..trailer_len), trailer.get(trailer_len..))
        else {
            continue;
        };
        if !end_trailer.starts_with(kind) || !end_trailer.ends_with(DASHES) {
            continue;
        }
        if !get_line(rest_of_end_line).0.is_empty() {
            continue;
        }
        let encoded: Vec<u8> = body
            .get(..end_index)
            .unwrap_or_default()
            .bytes()
            .filter(|b| *b != b' ' && *b != b'\t')
            .collect();
        let Ok(bytes) = base64_decode(&encoded, Alphabet::Standard) else {
            continue;
        };
        let after_end = body.get(end_index + END.len() - 1..).unwrap_or_default();
        let block = PemBlock {
            kind: kind.to_string(),
            bytes,
        };
        return Some((block, get_line(after_end).1));
    }
}

/// Go's `pem` line splitting: the line without its `\r\n` or `\n` and trailing spaces and tabs.
fn get_line(data: &str) -> (&str, &str) {
    let (line, rest) = match data.find('\n') {
        Some(i) => (
            data.get(..i).unwrap_or_default(),
            data.get(i + 1..).unwrap_or_default(),
        ),
        None => (data, ""),
    };
    let line = line.strip_suffix('\r').unwrap_or(line);
    (line.trim_end_matches([' ', '\t']), rest)
}

/// Parses a JSON document from decoded token bytes. Go reads invalid UTF-8 as U+FFFD, so
/// this does too. Errors read like OPA's (`invalid JSON: ...`).
pub(super) fn parse_json(bytes: &[u8]) -> Result<Value, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.trim().is_empty() {
        return Err("invalid JSON: EOF".to_string());
    }
    serde_json::from_str::<Value>(&text).map_err(|e| {
        if e.is_eof() {
            "invalid JSON: unexpected EOF".to_string()
        } else {
            format!("invalid JSON: {e}")
        }
    })
}

/// [`parse_json`], requiring an object (OPA's `extractJSONObject`).
pub(super) fn parse_json_object(bytes: &[u8]) -> Result<Value, String> {
    let value = parse_json(bytes)?;
    if value.as_object().is_ok() {
        Ok(value)
    } else {
        Err("decoded JSON type was not an Object".to_string())
    }
}

/// Serializes a Rego value as Go's `json.Marshal` would after OPA's `ast.JSON`: compact,
/// object keys sorted, sets as sorted arrays, and `<`, `>`, `&`, U+2028, U+2029 escaped.
pub(super) fn go_json(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_go_json(value, &mut out)?;
    Ok(out)
}

fn write_go_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.format_decimal()),
        Value::String(s) => write_go_string(s, out),
        Value::Array(items) => write_sequence(items.iter(), out)?,
        Value::Set(items) => write_sequence(items.iter_sorted(), out)?,
        Value::Object(fields) => {
            out.push('{');
            for (i, (key, field)) in fields.iter_sorted().enumerate() {
                let Value::String(key) = key else {
                    return Err(format!("object key must be a string, got {key}"));
                };
                if i > 0 {
                    out.push(',');
                }
                write_go_string(key, out);
                out.push(':');
                write_go_json(field, out)?;
            }
            out.push('}');
        }
        Value::Undefined => return Err("undefined value".to_string()),
    }
    Ok(())
}

fn write_sequence<'a>(
    items: impl Iterator<Item = &'a Value>,
    out: &mut String,
) -> Result<(), String> {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_go_json(item, out)?;
    }
    out.push(']');
    Ok(())
}

fn write_go_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// True when `bytes` is one JSON value (Go's `json.Valid`).
pub(super) fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_opa() {
        // Outcomes confirmed with OPA 1.20.2 (io.jwt.decode on "e30.e30.<sig>").
        assert_eq!(base64url_decode("YQ").unwrap(), b"a");
        assert_eq!(base64url_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64url_decode("e30=").unwrap(), b"{}");
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(
            base64url_decode("Y").unwrap_err(),
            "illegal base64url string: Y"
        );
        assert_eq!(
            base64url_decode("e30+").unwrap_err(),
            "illegal base64 data at input byte 3"
        );
        assert_eq!(
            base64url_decode("e3=0").unwrap_err(),
            "illegal base64 data at input byte 2"
        );
        // Go ignores unused trailing bits and newlines.
        assert_eq!(base64url_decode("YR").unwrap(), b"a");
        assert_eq!(base64url_decode("Y\nQ==").unwrap(), b"a");
        // OPA pads by length, newline included: "Y\nQ" gets one "=", too few.
        assert_eq!(
            base64url_decode("Y\nQ").unwrap_err(),
            "illegal base64 data at input byte 4"
        );
        assert_eq!(
            base64url_decode("YQ==YQ").unwrap_err(),
            "illegal base64 data at input byte 4"
        );
    }

    #[test]
    fn pem_blocks_are_found_as_go_finds_them() {
        let key = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/keys/rsa_public.pem"
        ))
        .unwrap();
        let (block, rest) = pem_decode(&key).unwrap();
        assert_eq!(block.kind, "PUBLIC KEY");
        assert_eq!(rest, "");
        assert!(block.bytes.len() > 256);
        let text = format!("hello\n{key}\n");
        let (_, rest) = pem_decode(&text).unwrap();
        assert_eq!(rest, "\n");
        let crlf = key.replace('\n', "\r\n");
        assert_eq!(pem_decode(&crlf).unwrap().0.bytes, block.bytes);
        assert!(pem_decode(&format!("junk{key}")).is_none());
        assert!(pem_decode("-----BEGIN X-----\nAA!A\n-----END X-----\n").is_none());
    }

    #[test]
    fn go_json_sorts_and_escapes() {
        let value =
            Value::from_json_str(r#"{"z":1,"a":["<&>",2.5,true,null],"b":"\u2028é"}"#).unwrap();
        assert_eq!(
            go_json(&value).unwrap(),
            r#"{"a":["\u003c\u0026\u003e",2.5,true,null],"b":"\u2028é","z":1}"#
        );
    }

    #[test]
    fn json_objects_keep_the_last_duplicate() {
        let value = parse_json_object(br#"{"a":1,"a":2}"#).unwrap();
        assert_eq!(value, Value::from_json_str(r#"{"a":2}"#).unwrap());
        assert_eq!(parse_json_object(b"").unwrap_err(), "invalid JSON: EOF");
        assert_eq!(
            parse_json_object(b"[1]").unwrap_err(),
            "decoded JSON type was not an Object"
        );
    }
}
