//! `providers.aws.sign_req`: AWS Signature Version 4 on an `http.send` request object, as OPA
//! signs it.
//!
//! Owns: checking the request and the AWS config the way OPA does, the canonical request,
//! the signing key chain and the headers OPA adds (`Authorization`, `host`, `x-amz-date`,
//! `x-amz-content-sha256` for S3 and Glacier or unsigned payloads, `x-amz-security-token`).
//! Does not own sending the request (`http.send`). Written with `hmac` and `sha2`: the AWS SDK
//! crates sign differently (they normalise paths and add headers OPA does not), and OPA's
//! answer is the contract here.

use std::collections::BTreeMap;
use std::fmt::Write;

use hmac::{Hmac, Mac};
use regorus::Value;
use sha2::{Digest, Sha256};

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[Builtin {
    name: "providers.aws.sign_req",
    nargs: 3,
    eval: sign_req,
}];

const NAME: &str = "providers.aws.sign_req";

/// The keys `http.send` accepts in a request object (OPA checks them here too).
const REQUEST_KEYS: &[&str] = &[
    "body",
    "cache",
    "cache_ignored_headers",
    "caching_mode",
    "enable_redirect",
    "force_cache",
    "force_cache_duration_seconds",
    "force_json_decode",
    "force_yaml_decode",
    "headers",
    "max_retry_attempts",
    "method",
    "raise_error",
    "raw_body",
    "timeout",
    "tls_ca_cert",
    "tls_ca_cert_env_variable",
    "tls_ca_cert_file",
    "tls_client_cert",
    "tls_client_cert_env_variable",
    "tls_client_cert_file",
    "tls_client_key",
    "tls_client_key_env_variable",
    "tls_client_key_file",
    "tls_insecure_skip_verify",
    "tls_server_name",
    "tls_use_system_certs",
    "url",
];

const REQUIRED_CONFIG: &[&str] = &[
    "aws_access_key",
    "aws_region",
    "aws_secret_access_key",
    "aws_service",
];

/// Headers a proxy may change on the way, so AWS's signers leave them out.
const UNSIGNED_HEADERS: &[&str] = &["authorization", "user-agent", "x-amzn-trace-id"];

fn get<'a>(object: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key)
}

fn string_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    }
}

/// A Rego object with string keys (others are left out: OPA reads none of them).
fn object(value: &Value) -> Option<BTreeMap<String, Value>> {
    let Value::Object(o) = value else {
        return None;
    };
    Some(
        o.iter()
            .filter_map(|(k, v)| match k {
                Value::String(k) => Some((k.to_string(), v.clone())),
                _ => None,
            })
            .collect(),
    )
}

fn sign_req(args: Vec<Value>) -> anyhow::Result<Value> {
    match sign(&args) {
        Ok(v) => Ok(v),
        Err(message) => builtin_error(format!("{NAME}: {message}")),
    }
}

fn sign(args: &[Value]) -> Result<Value, String> {
    let (Some(request_value), Some(config), Some(time_ns)) =
        (args.first(), args.get(1), args.get(2))
    else {
        return Err("expects 3 arguments".to_string());
    };
    let request = object(request_value).ok_or("operand 1 must be object")?;
    let config = object(config).ok_or("operand 2 must be object")?;

    let missing: Vec<&str> = REQUIRED_CONFIG
        .iter()
        .copied()
        .filter(|k| !config.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "operand 2 missing required AWS config parameters(s): {}",
            set_text(&missing)
        ));
    }
    let invalid: Vec<&str> = REQUIRED_CONFIG
        .iter()
        .copied()
        .filter(|k| !matches!(config.get(*k), Some(Value::String(_))))
        .collect();
    if !invalid.is_empty() {
        return Err(format!(
            "operand 2 invalid values for required AWS config parameters(s): {}",
            set_text(&invalid)
        ));
    }
    let creds = Credentials {
        access_key: string_of(get(&config, "aws_access_key")),
        secret_key: string_of(get(&config, "aws_secret_access_key")),
        region: string_of(get(&config, "aws_region")),
        session_token: string_of(get(&config, "aws_session_token")),
        service: string_of(get(&config, "aws_service")),
    };

    let Value::Number(n) = time_ns else {
        return Err("operand 3 must be number".to_string());
    };
    let nanos = n
        .as_i64()
        .filter(|_| n.is_integer())
        .ok_or("operand 3 could not convert time_ns value into a unix timestamp")?;

    let unknown: Vec<&str> = request
        .keys()
        .map(String::as_str)
        .filter(|k| !REQUEST_KEYS.contains(k))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "operand 1 invalid request parameters(s): {}",
            set_text(&unknown)
        ));
    }
    let missing: Vec<&str> = ["method", "url"]
        .into_iter()
        .filter(|k| !request.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "operand 1 missing required request parameters(s): {}",
            set_text(&missing)
        ));
    }

    let headers = match request.get("headers") {
        None => BTreeMap::new(),
        Some(h) => object(h).ok_or("operand 0 must be object")?,
    };
    let invalid: Vec<&str> = ["method", "url"]
        .into_iter()
        .filter(|k| !matches!(request.get(*k), Some(Value::String(_))))
        .collect();
    if !invalid.is_empty() {
        return Err(format!(
            "operand 1 invalid values for required request parameters(s): {}",
            set_text(&invalid)
        ));
    }
    let url = Url::parse(&string_of(request.get("url")))?;
    let method = string_of(request.get("method"));
    let body = match (request.get("raw_body"), request.get("body")) {
        (Some(raw), _) => string_of(Some(raw)).into_bytes(),
        (None, Some(body)) => go_json(body).into_bytes(),
        (None, None) => Vec::new(),
    };
    let disable_payload_signing = match config.get("disable_payload_signing") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(
                "operand 2 invalid value for 'disable_payload_signing' in AWS config".into(),
            );
        }
    };

    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.clone(), string_of(Some(v))))
        .collect();
    let (authorization, aws_headers) = sign_v4(
        &headers,
        &method,
        &url,
        &body,
        &creds,
        nanos,
        disable_payload_signing,
    );

    let mut signed = BTreeMap::new();
    for (k, v) in headers {
        signed.insert(Value::from(k), Value::from(v));
    }
    signed.insert(Value::from("Authorization"), Value::from(authorization));
    for (k, v) in aws_headers {
        signed.insert(Value::from(k), Value::from(v));
    }
    let mut out = request_value.clone();
    if let Value::Object(_) = out {
        out.as_object_mut()
            .map_err(|e| e.to_string())?
            .insert(Value::from("headers"), Value::from(signed));
    }
    Ok(out)
}

/// OPA prints a set of names as a Rego set: `{"a", "b"}`.
fn set_text(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!("{{{}}}", quoted.join(", "))
}

struct Credentials {
    access_key: String,
    secret_key: String,
    region: String,
    session_token: String,
    service: String,
}

/// The parts of a URL SigV4 needs, as Go's `net/url` gives them.
struct Url {
    host: String,
    escaped_path: String,
    raw_query: String,
}

impl Url {
    fn parse(text: &str) -> Result<Self, String> {
        let without_fragment = text.split('#').next().unwrap_or("");
        let (before_query, raw_query) = match without_fragment.split_once('?') {
            Some((b, q)) => (b, q.to_string()),
            None => (without_fragment, String::new()),
        };
        let (host, path) = match before_query.split_once("://") {
            Some((_scheme, rest)) => {
                let (authority, path) = match rest.find('/') {
                    Some(i) => rest.split_at(i),
                    None => (rest, ""),
                };
                let host = authority.rsplit('@').next().unwrap_or("").to_string();
                (host, path.to_string())
            }
            None => (String::new(), before_query.to_string()),
        };
        if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("parse {text:?}: invalid character in host name"));
        }
        // Go's url.Parse refuses a path with a `%` that starts no `%XX` escape.
        let bad_escape = path
            .match_indices('%')
            .map(|(j, _)| {
                path.get(j..)
                    .unwrap_or("")
                    .chars()
                    .take(3)
                    .collect::<String>()
            })
            .find(|e| !is_escape(e));
        if let Some(bad) = bad_escape {
            return Err(format!("parse {text:?}: invalid URL escape {bad:?}"));
        }
        Ok(Self {
            host,
            escaped_path: escape_path(&path),
            raw_query,
        })
    }
}

fn is_escape(e: &str) -> bool {
    e.len() == 3 && e.chars().skip(1).all(|c| c.is_ascii_hexdigit())
}

/// Go's `URL.EscapedPath` for a path as written: kept when it is a valid encoding,
/// percent-encoded where it is not.
fn escape_path(path: &str) -> String {
    let valid = {
        let bytes = path.as_bytes();
        let mut i = 0;
        let mut ok = true;
        while i < bytes.len() {
            match bytes.get(i) {
                Some(b'%') => {
                    let hex = bytes.get(i + 1..i + 3);
                    if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                        ok = false;
                        break;
                    }
                    i += 3;
                }
                Some(b) if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(b) => {
                    i += 1;
                }
                _ => {
                    ok = false;
                    break;
                }
            }
        }
        ok
    };
    if valid {
        return path.to_string();
    }
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn hmac(key: &[u8], message: &str) -> Vec<u8> {
    // HMAC takes keys of any length.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` (UTC) of a Unix time in nanoseconds.
fn amz_dates(nanos: i64) -> (String, String) {
    let secs = nanos.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let date = format!("{y:04}{m:02}{d:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    );
    (date, stamp)
}

/// Signs: returns the `Authorization` header and the headers AWS needs added.
fn sign_v4(
    headers: &BTreeMap<String, String>,
    method: &str,
    url: &Url,
    body: &[u8],
    creds: &Credentials,
    nanos: i64,
    disable_payload_signing: bool,
) -> (String, BTreeMap<String, String>) {
    let payload_hash = if disable_payload_signing {
        "UNSIGNED-PAYLOAD".to_string()
    } else {
        hex(&Sha256::digest(body))
    };
    let (date, stamp) = amz_dates(nanos);
    let service = creds.service.as_str();

    let mut aws_headers = BTreeMap::new();
    aws_headers.insert("host".to_string(), url.host.clone());
    aws_headers.insert("x-amz-date".to_string(), stamp.clone());
    if service == "s3" || service == "glacier" {
        aws_headers.insert("x-amz-content-sha256".to_string(), payload_hash.clone());
    }
    if !creds.session_token.is_empty() {
        aws_headers.insert(
            "x-amz-security-token".to_string(),
            creds.session_token.clone(),
        );
    }

    let mut to_sign = aws_headers.clone();
    for (k, v) in headers {
        let lower = k.to_lowercase();
        if !UNSIGNED_HEADERS.contains(&lower.as_str()) {
            to_sign.insert(lower, v.clone());
        }
    }

    let mut canonical = format!("{method}\n{}\n{}\n", url.escaped_path, url.raw_query);
    for (k, v) in &to_sign {
        let _ = writeln!(canonical, "{k}:{v}");
    }
    canonical.push('\n');
    let signed_headers: Vec<&str> = to_sign.keys().map(String::as_str).collect();
    let signed_headers = signed_headers.join(";");
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    canonical.push_str(&payload_hash);

    let scope = format!("{date}/{}/{service}/aws4_request", creds.region);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let key = hmac(format!("AWS4{}", creds.secret_key).as_bytes(), &date);
    let key = hmac(&key, &creds.region);
    let key = hmac(&key, service);
    let key = hmac(&key, "aws4_request");
    let signature = hex(&hmac(&key, &string_to_sign));

    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope},SignedHeaders={signed_headers},Signature={signature}",
        creds.access_key
    );
    (authorization, aws_headers)
}

/// Go's `json.Marshal` of a Rego value: sorted keys, no spaces, `<`, `>` and `&` escaped.
fn go_json(value: &Value) -> String {
    let text = value.to_json_str().unwrap_or_default();
    let compact: serde_json::Value = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let mut out = String::new();
    for c in compact.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
