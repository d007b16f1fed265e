//! OPA's `io.jwt.*` builtins: `decode`, `decode_verify`, `verify_hs/rs/ps/es256..512`,
//! `verify_eddsa`, `encode_sign` and `encode_sign_raw`, with OPA's results, including which
//! failures are builtin errors (undefined, or an error under strict builtin errors) and which
//! are a `false` / `[false, {}, {}]` answer.
//!
//! Owns the token rules (RFC 7519 7.2 as OPA applies them: header checks, `kid` and `alg`
//! key selection, nested tokens, `iss`, `aud`, `exp`, `nbf`). Key parsing is [`super::keys`],
//! signature arithmetic [`super::jws`], byte formats [`super::encoding`].

use std::time::{SystemTime, UNIX_EPOCH};

use regorus::Value;
use regorus::value::Object;

use super::Builtin;
use super::args::{Outcome, any, finish, object, string};
use super::encoding::{
    base64url_decode, base64url_encode, go_json, hex, is_json, parse_json, parse_json_object,
};
use super::jws::{self, Algorithm, Hash};
use super::keys::{self, KeyMaterial, TOKEN_ALGORITHMS, VerificationKey};

macro_rules! verifier {
    ($name:literal, $alg:literal) => {
        Builtin {
            name: $name,
            nargs: 2,
            eval: |args| finish($name, verify_with_keys(&args, $alg)),
        }
    };
}

macro_rules! hmac_verifier {
    ($name:literal, $hash:expr) => {
        Builtin {
            name: $name,
            nargs: 2,
            eval: |args| finish($name, verify_hmac(&args, $hash)),
        }
    };
}

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "io.jwt.decode",
        nargs: 1,
        eval: |args| finish("io.jwt.decode", any(&args, 0).and_then(decode)),
    },
    Builtin {
        name: "io.jwt.decode_verify",
        nargs: 2,
        eval: |args| finish("io.jwt.decode_verify", decode_verify(&args)),
    },
    hmac_verifier!("io.jwt.verify_hs256", Hash::Sha256),
    hmac_verifier!("io.jwt.verify_hs384", Hash::Sha384),
    hmac_verifier!("io.jwt.verify_hs512", Hash::Sha512),
    verifier!("io.jwt.verify_rs256", "RS256"),
    verifier!("io.jwt.verify_rs384", "RS384"),
    verifier!("io.jwt.verify_rs512", "RS512"),
    verifier!("io.jwt.verify_ps256", "PS256"),
    verifier!("io.jwt.verify_ps384", "PS384"),
    verifier!("io.jwt.verify_ps512", "PS512"),
    verifier!("io.jwt.verify_es256", "ES256"),
    verifier!("io.jwt.verify_es384", "ES384"),
    verifier!("io.jwt.verify_es512", "ES512"),
    verifier!("io.jwt.verify_eddsa", "EdDSA"),
    Builtin {
        name: "io.jwt.encode_sign",
        nargs: 3,
        eval: |args| finish("io.jwt.encode_sign", encode_sign(&args)),
    },
    Builtin {
        name: "io.jwt.encode_sign_raw",
        nargs: 3,
        eval: |args| finish("io.jwt.encode_sign_raw", encode_sign_raw(&args)),
    },
];

/// The three base64url parts of a compact JWS.
struct Token<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

impl<'a> Token<'a> {
    /// OPA's `decodeJWT`: a string of exactly three dot-separated parts.
    fn split(value: &'a Value) -> Result<Self, String> {
        let Value::String(text) = value else {
            return Err(format!(
                "operand 1 must be string but got {}",
                super::args::type_name(value)
            ));
        };
        if !text.contains('.') {
            return Err("encoded JWT had no period separators".to_string());
        }
        let parts: Vec<&str> = text.split('.').collect();
        match parts.as_slice() {
            [header, payload, signature] => Ok(Self {
                header,
                payload,
                signature,
            }),
            _ => Err(format!(
                "encoded JWT must have 3 sections, found {}",
                parts.len()
            )),
        }
    }

    fn signing_input(&self) -> String {
        format!("{}.{}", self.header, self.payload)
    }

    /// The header as a JSON object; a JWE (`enc`) is refused.
    fn header(&self) -> Result<Value, String> {
        let raw = base64url_decode(self.header)
            .map_err(|e| format!("JWT header had invalid encoding: {e}"))?;
        let header = parse_json_object(&raw).map_err(|e| format!("bad JWT header: {e}"))?;
        if field(&header, "enc").is_some() {
            return Err("JWT is a JWE object, which is not supported".to_string());
        }
        Ok(header)
    }

    fn payload_bytes(&self) -> Result<Vec<u8>, String> {
        base64url_decode(self.payload).map_err(|e| format!("JWT payload had invalid encoding: {e}"))
    }

    fn signature_bytes(&self) -> Result<Vec<u8>, String> {
        base64url_decode(self.signature)
    }
}

fn field<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    object.as_object().ok()?.get(&Value::from(name))
}

/// `io.jwt.decode(token)`: `[header, payload, signature as hex]`, without verifying. A
/// payload of content type `JWT` is decoded in turn (quotes around it are dropped, as jwt.io
/// writes them).
fn decode(token: &Value) -> Outcome {
    let parts = Token::split(token)?;
    let header = parts.header()?;
    let payload = parts.payload_bytes()?;
    if let Some(cty) = field(&header, "cty") {
        let Value::String(cty) = cty else {
            return Err("cty: must be a string".to_string());
        };
        if &**cty == "JWT" {
            let inner = String::from_utf8_lossy(&payload);
            return decode(&Value::from(inner.trim_matches(['"', '\''])));
        }
    }
    let payload = parse_json_object(&payload)?;
    let signature = parts
        .signature_bytes()
        .map_err(|e| format!("JWT signature had invalid encoding: {e}"))?;
    Ok(Value::from(vec![
        header,
        payload,
        Value::from(hex(&signature)),
    ]))
}

/// The JOSE header fields OPA checks (`tokenHeader` in OPA's `tokens.go`).
#[derive(Default)]
struct Header {
    alg: String,
    kid: String,
    cty: String,
    crit: Vec<String>,
    unknown: Vec<String>,
}

impl Header {
    fn parse(header: &Value) -> Result<Self, String> {
        let mut parsed = Header::default();
        let Ok(fields) = header.as_object() else {
            return Ok(parsed);
        };
        for (key, value) in fields.iter() {
            let key = match key {
                Value::String(k) => &**k,
                _ => continue,
            };
            let text = |name: &str| match value {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(format!("{name}: must be a string")),
            };
            match key {
                "alg" => parsed.alg = text("alg")?,
                "kid" => parsed.kid = text("kid")?,
                "typ" => {
                    text("typ")?;
                }
                "cty" => parsed.cty = text("cty")?,
                "crit" => {
                    let Value::Array(items) = value else {
                        return Err("crit: must be a list".to_string());
                    };
                    // OPA stops reading at the first non-string entry.
                    parsed.crit = items
                        .iter()
                        .map_while(|item| match item {
                            Value::String(s) => Some(s.to_string()),
                            _ => None,
                        })
                        .collect();
                    if parsed.crit.is_empty() {
                        return Err("crit: must be a nonempty list".to_string());
                    }
                }
                other => parsed.unknown.push(other.to_string()),
            }
        }
        Ok(parsed)
    }

    /// RFC 7515: `alg` must be present and every critical parameter understood.
    fn valid(&self) -> bool {
        !self.alg.is_empty() && !self.unknown.iter().any(|u| self.crit.contains(u))
    }
}

/// `io.jwt.verify_hs256/384/512(token, secret)`.
fn verify_hmac(args: &[Value], hash: Hash) -> Outcome {
    string(args, 0)?;
    let secret = string(args, 1)?;
    let parts = Token::split(any(args, 0)?)?;
    let signature = parts.signature_bytes()?;
    let valid = jws::hmac_equal(
        hash,
        secret.as_bytes(),
        parts.signing_input().as_bytes(),
        &signature,
    );
    Ok(Value::from(valid))
}

/// `io.jwt.verify_rs256(token, certificate)` and the other asymmetric verifiers: the key
/// whose `kid` is the token's, else every key whose `alg` (when it has one) is the token's.
fn verify_with_keys(args: &[Value], alg: &str) -> Outcome {
    let Some(algorithm) = Algorithm::parse(alg) else {
        return Err(format!("unknown JWS algorithm: {alg}"));
    };
    let parts = Token::split(any(args, 0)?)?;
    let keys = keys::verification_keys(string(args, 1)?)?;
    let signature = parts.signature_bytes()?;
    let header = Header::parse(&parts.header()?)?;
    let input = parts.signing_input();
    let check = |key: &VerificationKey| {
        jws::verify_family(&key.material, algorithm, input.as_bytes(), &signature)
    };
    if !header.kid.is_empty()
        && let Some(key) = keys.iter().find(|k| k.kid == header.kid)
    {
        return Ok(Value::from(check(key)));
    }
    let valid = keys
        .iter()
        .filter(|k| k.alg.is_empty() || k.alg == header.alg)
        .any(check);
    Ok(Value::from(valid))
}

/// The keys a token may be signed with, parsed once: `io.jwt.decode_verify`'s `cert` or
/// `secret` constraint, and what the identity step's JWT verifier keeps between decisions
/// ([`crate::decide::identity`]).
pub struct TokenKeys(KeySet);

enum KeySet {
    /// A PEM certificate or public key, or a JWK set.
    Keys(Vec<VerificationKey>),
    /// The shared secret of HS256/384/512 (always [`KeyMaterial::Oct`]).
    Secret(KeyMaterial),
}

impl TokenKeys {
    /// A PEM `CERTIFICATE` or `PUBLIC KEY`, or a JWK or JWK set (the `cert` constraint).
    pub fn from_cert(text: &str) -> Result<Self, String> {
        keys::verification_keys(text).map(|keys| Self(KeySet::Keys(keys)))
    }

    /// An HMAC secret (the `secret` constraint).
    pub fn from_secret(secret: &[u8]) -> Self {
        Self(KeySet::Secret(KeyMaterial::Oct(secret.to_vec())))
    }

    /// True when no key could verify a token: an empty JWK set, or only keys for other uses.
    pub fn is_empty(&self) -> bool {
        match &self.0 {
            KeySet::Keys(keys) => keys
                .iter()
                .all(|k| matches!(k.material, KeyMaterial::Unusable)),
            KeySet::Secret(_) => false,
        }
    }

    /// The signature check of `decode_verify`: the `kid`'s key alone when the token names one
    /// the keys have, else any key without an `alg` or with the token's.
    fn verify(&self, header: &Header, input: &[u8], signature: &[u8]) -> bool {
        let alg = header.alg.as_str();
        match &self.0 {
            KeySet::Keys(keys) => {
                if !header.kid.is_empty()
                    && let Some(key) = keys.iter().find(|k| k.kid == header.kid)
                {
                    return jws::verify_jws(&key.material, alg, input, signature);
                }
                keys.iter()
                    .filter(|k| k.alg.is_empty() || k.alg == alg)
                    .any(|k| jws::verify_jws(&k.material, alg, input, signature))
            }
            KeySet::Secret(secret) => jws::verify_jws(secret, alg, input, signature),
        }
    }
}

/// What [`verify_signatures`] found.
pub enum Signatures {
    /// Every layer verified: the innermost header and payload (the payload not yet parsed).
    Verified { header: Value, payload: Vec<u8> },
    /// A header is not acceptable, the `alg` differs from the one required, or a signature
    /// does not verify.
    Refused,
}

/// Verifies the signature of `token` with `keys`, and of every token nested in it (`cty:
/// JWT`), as `io.jwt.decode_verify` does; `alg`, when not empty, is the only algorithm
/// accepted. `Err` is a malformed token (a builtin error in `decode_verify`). The claims
/// (`iss`, `aud`, `exp`, `nbf`) are the caller's to check.
pub fn verify_signatures(token: &Value, keys: &TokenKeys, alg: &str) -> Result<Signatures, String> {
    let mut token = token.clone();
    // Each layer is at most 3/4 of the one around it, so this ends.
    loop {
        let parts = Token::split(&token)?;
        let header_value = parts.header()?;
        let header = Header::parse(&header_value)?;
        if !header.valid() || (!alg.is_empty() && alg != header.alg) {
            return Ok(Signatures::Refused);
        }
        let signature = parts.signature_bytes()?;
        if !keys.verify(&header, parts.signing_input().as_bytes(), &signature) {
            return Ok(Signatures::Refused);
        }
        let payload = parts.payload_bytes()?;
        if header.cty.eq_ignore_ascii_case("JWT") {
            token = Value::from(String::from_utf8_lossy(&payload).into_owned());
            continue;
        }
        return Ok(Signatures::Verified {
            header: header_value,
            payload,
        });
    }
}

/// The constraints of `io.jwt.decode_verify`.
struct Constraints {
    keys: TokenKeys,
    alg: String,
    iss: String,
    aud: String,
    /// Seconds since the epoch (the constraint is in nanoseconds).
    time: f64,
}

impl Constraints {
    fn parse(fields: &Object) -> Result<Self, String> {
        let mut cert = None;
        let mut secret = String::new();
        let mut constraints = Constraints {
            keys: TokenKeys::from_secret(b""),
            alg: String::new(),
            iss: String::new(),
            aud: String::new(),
            time: -1.0,
        };
        let mut time = None;
        for (key, value) in fields.iter() {
            let name = match key {
                Value::String(k) => &**k,
                other => return Err(format!("unknown token validation constraint: {other}")),
            };
            let text = || match value {
                Value::String(s) => Ok(s.to_string()),
                _ => Err(format!("{name} constraint: must be a string")),
            };
            match name {
                "cert" => cert = Some(TokenKeys::from_cert(&text()?)?),
                "secret" => secret = text()?,
                "alg" => constraints.alg = text()?,
                "iss" => constraints.iss = text()?,
                "aud" => constraints.aud = text()?,
                "time" => time = Some(time_constraint(value)?),
                other => return Err(format!("unknown token validation constraint: {other}")),
            }
        }
        constraints.time = match time {
            Some(ns) => ns,
            None => now_ns(),
        } / 1e9;
        constraints.keys = match (cert, secret.is_empty()) {
            (None, true) => return Err("no key constraint".to_string()),
            (Some(_), false) => return Err("duplicate key constraints".to_string()),
            (Some(cert), true) => cert,
            (None, false) => TokenKeys::from_secret(secret.as_bytes()),
        };
        Ok(constraints)
    }

    /// OPA's audience rule: a token with `aud` needs the `aud` constraint to be one of its
    /// audiences; a token without `aud` passes only when no audience is required.
    fn audience_ok(&self, aud: Option<&Value>) -> bool {
        match aud {
            None => self.aud.is_empty(),
            Some(Value::String(s)) => **s == *self.aud,
            Some(Value::Array(items)) => items
                .iter()
                .any(|item| matches!(item, Value::String(s) if **s == *self.aud)),
            Some(_) => false,
        }
    }
}

fn time_constraint(value: &Value) -> Result<f64, String> {
    if !matches!(value, Value::Number(_)) {
        return Err("token time constraint: must be a number".to_string());
    }
    let ns = number(value)
        .filter(|f| f.is_finite())
        .ok_or("token time constraint: unvalid float64")?;
    if ns < 0.0 {
        return Err("token time constraint: must not be negative".to_string());
    }
    Ok(ns)
}

/// A number as a float, big ones included (they become infinite when out of range).
fn number(value: &Value) -> Option<f64> {
    let Value::Number(n) = value else {
        return None;
    };
    n.as_f64()
        .or_else(|| n.format_decimal().parse::<f64>().ok())
}

fn now_ns() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as f64)
        .unwrap_or(0.0)
}

fn unverified() -> Value {
    Value::from(vec![
        Value::from(false),
        Value::new_object(),
        Value::new_object(),
    ])
}

/// `io.jwt.decode_verify(token, constraints)`: `[true, header, payload]` when the signature
/// verifies and every constraint holds, `[false, {}, {}]` when not; malformed tokens and
/// constraints are builtin errors.
fn decode_verify(args: &[Value]) -> Outcome {
    let fields = object(args, 1)?;
    let constraints = Constraints::parse(fields)?;
    // Nested tokens (cty JWT) are verified layer by layer with the same constraints.
    let (header, payload) =
        match verify_signatures(any(args, 0)?, &constraints.keys, &constraints.alg)? {
            Signatures::Verified { header, payload } => (header, payload),
            Signatures::Refused => return Ok(unverified()),
        };
    let payload = parse_json_object(&payload)?;
    if !constraints.iss.is_empty() {
        match field(&payload, "iss") {
            None => return Ok(unverified()),
            Some(Value::String(iss)) if **iss == *constraints.iss => {}
            Some(Value::String(_)) => return Ok(unverified()),
            Some(_) => return Err("iss value must be a string".to_string()),
        }
    }
    if !constraints.audience_ok(field(&payload, "aud")) {
        return Ok(unverified());
    }
    if let Some(exp) = field(&payload, "exp") {
        let exp = number(exp).ok_or("exp value must be a number")?;
        // Expired from the second `exp` names on.
        if constraints.time >= exp {
            return Ok(unverified());
        }
    }
    if let Some(nbf) = field(&payload, "nbf") {
        let nbf = number(nbf).ok_or("nbf value must be a number")?;
        if constraints.time < nbf {
            return Ok(unverified());
        }
    }
    Ok(Value::from(vec![Value::from(true), header, payload]))
}

/// `io.jwt.encode_sign(headers, payload, key)`: each argument serialized as Go's
/// `json.Marshal` writes it, then signed.
fn encode_sign(args: &[Value]) -> Outcome {
    let headers = go_json(any(args, 0)?)
        .map_err(|e| format!("failed to prepare JWT headers for marshalling: {e}"))?;
    let payload = go_json(any(args, 1)?)
        .map_err(|e| format!("failed to prepare JWT payload for marshalling: {e}"))?;
    let key = go_json(any(args, 2)?)
        .map_err(|e| format!("failed to prepare JWT signature for marshalling: {e}"))?;
    sign_compact(&headers, &payload, &key)
}

/// `io.jwt.encode_sign_raw(headers, payload, key)`: the same with JSON text taken as is.
fn encode_sign_raw(args: &[Value]) -> Outcome {
    let key = string(args, 2)?;
    let headers = string(args, 0)?;
    let payload = string(args, 1)?;
    sign_compact(headers, payload, key)
}

fn sign_compact(headers: &str, payload: &str, jwk: &str) -> Outcome {
    let key = keys::signing_key(jwk)?;
    let header = parse_json(headers.as_bytes())
        .map_err(|e| format!("missing or invalid 'alg' header: cannot parse JSON: {e}"))?;
    let alg = match field(&header, "alg") {
        Some(Value::String(alg)) => alg.to_string(),
        Some(other) => {
            return Err(format!(
                "missing or invalid 'alg' header: value doesn't contain string; it contains {}",
                super::args::type_name(other)
            ));
        }
        None => {
            return Err(
                r#"missing or invalid 'alg' header: jwsbb: header "alg" not found"#.to_string(),
            );
        }
    };
    if !TOKEN_ALGORITHMS.contains(&alg.as_str()) {
        return Err(format!("unknown JWS algorithm: {alg}"));
    }
    let jwt_typed = match field(&header, "typ") {
        Some(Value::String(typ)) => &**typ == "JWT",
        _ => true,
    };
    if jwt_typed && !is_json(payload.as_bytes()) {
        return Err("type is JWT but payload is not JSON".to_string());
    }
    let input = format!(
        "{}.{}",
        base64url_encode(headers.as_bytes()),
        base64url_encode(payload.as_bytes())
    );
    let signature = jws::sign(&key, &alg, input.as_bytes())?;
    Ok(Value::from(format!(
        "{input}.{}",
        base64url_encode(&signature)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        let builtin = BUILTINS.iter().find(|b| b.name == name).unwrap();
        super::super::with_strict_errors(true, || (builtin.eval)(args))
    }

    fn json(text: &str) -> Value {
        Value::from_json_str(text).unwrap()
    }

    fn key_file(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
    }

    // OPA's test suite, v1/test/cases/testdata/v1/jwtbuiltins/test-jwtbuiltins-0390.yaml.
    #[test]
    fn decode_matches_opa_suite() {
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuZXciOiJJIGFtIGEgdXNlciBjcmVhdGVkIGZpZWxkIiwiaXNzIjoib3BhIn0.6UmjsclVDGD9jcmX_F8RJzVgHtUZuLu2pxkF_UEQCrE";
        assert_eq!(
            call("io.jwt.decode", vec![Value::from(token)]).unwrap(),
            json(
                r#"[{"alg":"HS256","typ":"JWT"},{"iss":"opa","new":"I am a user created field"},"e949a3b1c9550c60fd8dc997fc5f112735601ed519b8bbb6a71905fd41100ab1"]"#
            )
        );
        let error = call("io.jwt.decode", vec![Value::from("a.b")]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "io.jwt.decode: encoded JWT must have 3 sections, found 2"
        );
    }

    // OPA's test suite, jwtencodesign/test-jwtencodesign-0492.yaml (RFC 7515 A.1) and
    // test-jwtencodesign-eddsa.yaml.
    #[test]
    fn encode_sign_matches_opa_suite() {
        let payload = json(
            r#"{"aud":["bob","saul"],"exp":1300819380,"http://example.com/is_root":true,"iss":"joe","privateParams":{"private_one":"one","private_two":"two"}}"#,
        );
        let hs = call(
            "io.jwt.encode_sign",
            vec![
                json(r#"{"alg":"HS256","typ":"JWT"}"#),
                payload.clone(),
                json(
                    r#"{"k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","kty":"oct"}"#,
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            hs,
            Value::from(
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsiYm9iIiwic2F1bCJdLCJleHAiOjEzMDA4MTkzODAsImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlLCJpc3MiOiJqb2UiLCJwcml2YXRlUGFyYW1zIjp7InByaXZhdGVfb25lIjoib25lIiwicHJpdmF0ZV90d28iOiJ0d28ifX0.-Or2eol8bzly-Ztb0v7_7UkcKBkN_aNNpK33HK0MeOY"
            )
        );
        let ed = call(
            "io.jwt.encode_sign",
            vec![
                json(r#"{"alg":"EdDSA","typ":"JWT"}"#),
                payload,
                json(
                    r#"{"kty":"OKP","alg":"EdDSA","crv":"Ed25519","x":"wEZFfoAj1rFKTLOOmjJjVZlCHwksuvMb2I5y_hg70E8","d":"9XI34uQzYUJfWhDZf_0nYsLMBRVu8a6dFsy60P8uugk"}"#,
                ),
            ],
        )
        .unwrap();
        assert_eq!(
            ed,
            Value::from(
                "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJhdWQiOlsiYm9iIiwic2F1bCJdLCJleHAiOjEzMDA4MTkzODAsImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlLCJpc3MiOiJqb2UiLCJwcml2YXRlUGFyYW1zIjp7InByaXZhdGVfb25lIjoib25lIiwicHJpdmF0ZV90d28iOiJ0d28ifX0.T_X7SzKEehTnRdgYrDobpKO-EqZ0LW3Y-idx16wNHXCL5aiR24h2Ei0pWRHG2X2BYomwbvNwyxPcasgHqs_eBA"
            )
        );
    }

    // OPA's test suite, jwtdecodeverify/test-jwtdecodeverify-eddsa.yaml.
    #[test]
    fn decode_verify_matches_opa_suite() {
        let token = "eyJhbGciOiJFZERTQSIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiYWRtaW4iOnRydWUsImlhdCI6MTUxNjIzOTAyMn0.JkKWCY39IdWEQttmdqR7VdsvT-_QxheW_eb0S5wr_j83ltux_JDUIXs7a3Dtn3xuqzuhetiuJrWIvy5TzimeCg";
        let cert = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAwmK6SSAu2E9V7uynkCKEaj5nZJyTvNG4x0KohsRzLpg=\n-----END PUBLIC KEY-----\n";
        let mut constraints = std::collections::BTreeMap::new();
        constraints.insert(Value::from("cert"), Value::from(cert));
        let verify = |constraints: &std::collections::BTreeMap<Value, Value>| {
            call(
                "io.jwt.decode_verify",
                vec![Value::from(token), Value::from(constraints.clone())],
            )
        };
        assert_eq!(
            verify(&constraints).unwrap(),
            json(
                r#"[true,{"alg":"EdDSA","typ":"JWT"},{"admin":true,"iat":1516239022,"name":"John Doe","sub":"1234567890"}]"#
            )
        );
        constraints.insert(Value::from("aud"), Value::from("orders"));
        assert_eq!(verify(&constraints).unwrap(), json("[false,{},{}]"));
        constraints.insert(Value::from("leeway"), Value::from(30u64));
        assert_eq!(
            verify(&constraints).unwrap_err().to_string(),
            "io.jwt.decode_verify: unknown token validation constraint: leeway"
        );
    }

    #[test]
    fn signed_tokens_verify_with_their_public_keys_only() {
        let private: serde_json::Value =
            serde_json::from_str(&key_file("private_jwks.json")).unwrap();
        for (alg, jwk, public, builtin) in [
            ("RS256", "rsa", "rsa_public.pem", "io.jwt.verify_rs256"),
            ("PS384", "rsa", "rsa_cert.pem", "io.jwt.verify_ps384"),
            ("ES256", "ec", "ec_public.pem", "io.jwt.verify_es256"),
            ("ES384", "ec384", "ec384_public.pem", "io.jwt.verify_es384"),
            ("ES512", "ec521", "ec521_public.pem", "io.jwt.verify_es512"),
            (
                "EdDSA",
                "ed25519",
                "ed25519_public.pem",
                "io.jwt.verify_eddsa",
            ),
        ] {
            let token = call(
                "io.jwt.encode_sign_raw",
                vec![
                    Value::from(format!(r#"{{"alg":"{alg}"}}"#)),
                    Value::from(r#"{"sub":"alice"}"#),
                    Value::from(private[jwk].to_string()),
                ],
            )
            .unwrap();
            let verify =
                |key: &str| call(builtin, vec![token.clone(), Value::from(key_file(key))]).unwrap();
            assert_eq!(verify(public), Value::from(true), "{alg}");
            assert_eq!(verify("rsa2_public.pem"), Value::from(false), "{alg}");
            assert_eq!(
                call(
                    builtin,
                    vec![token.clone(), Value::from(key_file("jwks.json"))]
                )
                .unwrap(),
                Value::from(alg != "PS384"),
                "{alg} against the JWKS (its RSA key is RS256 only)"
            );
        }
    }

    #[test]
    fn hmac_tokens() {
        let token = call(
            "io.jwt.encode_sign",
            vec![
                json(r#"{"alg":"HS512"}"#),
                json(r#"{"sub":"alice"}"#),
                json(r#"{"kty":"oct","k":"c2VjcmV0"}"#),
            ],
        )
        .unwrap();
        let verify = |name: &str, secret: &str| {
            call(name, vec![token.clone(), Value::from(secret)]).unwrap()
        };
        assert_eq!(verify("io.jwt.verify_hs512", "secret"), Value::from(true));
        assert_eq!(verify("io.jwt.verify_hs512", "Secret"), Value::from(false));
        assert_eq!(verify("io.jwt.verify_hs256", "secret"), Value::from(false));
    }
}
