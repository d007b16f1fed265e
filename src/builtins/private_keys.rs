//! `crypto.x509.parse_rsa_private_key`: the first private key of a PEM text (or of
//! base64-encoded PEM) as a JWK, as OPA answers it, for signing with `io.jwt.encode_sign`;
//! `crypto.parse_private_keys`: every private key of it, as Go's key structs marshal to JSON
//! (RSA `{N, E, D, Primes, Precomputed: {Dp, Dq, Qinv, CRTValues}}`, EC `{Curve: {}, X, Y,
//! D}`, integers exact; Ed25519 the 64 key bytes in base64).
//!
//! Despite the name OPA reads every private key its JOSE library does: PKCS#1 RSA
//! (`RSA PRIVATE KEY`), PKCS#8 (`PRIVATE KEY`: RSA, P-256/384/521, Ed25519) and SEC1
//! (`EC PRIVATE KEY`). Text with no PEM block, or a first block of another kind, is `null`.
//! JWK members are base64url without padding, big-endian: RSA `n e d p q dp dq qi`, EC
//! `crv x y d` (each the curve's width), Ed25519 `crv x d` with `kty` `OKP`.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use regorus::Value;
use regorus::value::Object;
use rsa::BigUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

use super::Builtin;
use super::args::{Outcome, finish, string};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "crypto.x509.parse_rsa_private_key",
        nargs: 1,
        eval: |args| finish("crypto.x509.parse_rsa_private_key", parse(&args)),
    },
    Builtin {
        name: "crypto.parse_private_keys",
        nargs: 1,
        eval: |args| finish("crypto.parse_private_keys", parse_all(&args)),
    },
];

/// A private key read from a PEM block.
pub(super) enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    P384(p384::SecretKey),
    P521(p521::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

/// The private key of a block, `None` for a block of another kind.
pub(super) fn private_key(label: &str, der: &[u8]) -> Result<Option<PrivateKey>, String> {
    Ok(Some(match label {
        "RSA PRIVATE KEY" => {
            use rsa::pkcs1::DecodeRsaPrivateKey;
            PrivateKey::Rsa(Box::new(
                rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| e.to_string())?,
            ))
        }
        "PRIVATE KEY" => pkcs8(der)?,
        "EC PRIVATE KEY" => sec1(der)?,
        _ => return Ok(None),
    }))
}

fn parse_all(args: &[Value]) -> Outcome {
    let text = string(args, 0)?;
    if text.is_empty() {
        return Ok(Value::Null);
    }
    // Base64 of PEM is read too; text that is neither holds no block.
    let pem_text = match text.starts_with("-----BEGIN") {
        true => text.as_bytes().to_vec(),
        false => STANDARD
            .decode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec()),
    };
    let mut keys = Vec::new();
    for (label, der) in blocks(&pem_text)? {
        if let Some(key) = private_key(&label, &der)? {
            keys.push(go_struct(&key));
        }
    }
    Ok(Value::from(keys))
}

/// The key as Go's `json.Marshal` writes its struct.
pub(super) fn go_struct(key: &PrivateKey) -> Value {
    let int = |n: &BigUint| Value::from_numeric_string(&n.to_string()).unwrap_or(Value::Null);
    let fields = |members: Vec<(&str, Value)>| {
        let mut object = Object::new();
        for (name, value) in members {
            object.insert(Value::from(name), value);
        }
        object.into_value()
    };
    let ec = |point: &[u8], d: &[u8]| {
        let (x, y) = coordinates(point);
        fields(vec![
            ("Curve", fields(Vec::new())),
            ("D", int(&BigUint::from_bytes_be(d))),
            ("X", int(&BigUint::from_bytes_be(x))),
            ("Y", int(&BigUint::from_bytes_be(y))),
        ])
    };
    match key {
        PrivateKey::Rsa(key) => {
            let optional = |n: Option<&BigUint>| n.map_or(Value::Null, int);
            let qinv = key.crt_coefficient();
            fields(vec![
                ("D", int(key.d())),
                ("E", int(key.e())),
                ("N", int(key.n())),
                (
                    "Precomputed",
                    fields(vec![
                        ("CRTValues", Value::from(Vec::<Value>::new())),
                        ("Dp", optional(key.dp())),
                        ("Dq", optional(key.dq())),
                        ("Qinv", optional(qinv.as_ref())),
                    ]),
                ),
                (
                    "Primes",
                    Value::from(key.primes().iter().map(int).collect::<Vec<_>>()),
                ),
            ])
        }
        PrivateKey::P256(k) => ec(&k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::P384(k) => ec(&k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::P521(k) => ec(&k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::Ed25519(k) => Value::from(STANDARD.encode(k.to_keypair_bytes()).as_str()),
    }
}

fn parse(args: &[Value]) -> Outcome {
    let text = string(args, 0)?;
    if text.is_empty() {
        return Err("input PEM data was empty".into());
    }
    let pem_text = if text.starts_with("-----BEGIN") {
        text.as_bytes().to_vec()
    } else {
        STANDARD.decode(text).map_err(go_base64_error)?
    };
    let Some((label, der)) = blocks(&pem_text)?.into_iter().next() else {
        return Ok(Value::Null);
    };
    Ok(match private_key(&label, &der)? {
        Some(key) => jwk_of(&key),
        None => Value::Null,
    })
}

fn jwk_of(key: &PrivateKey) -> Value {
    match key {
        PrivateKey::Rsa(key) => rsa_jwk(key),
        PrivateKey::P256(k) => ec_jwk("P-256", &k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::P384(k) => ec_jwk("P-384", &k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::P521(k) => ec_jwk("P-521", &k.public_key().to_sec1_bytes(), &k.to_bytes()),
        PrivateKey::Ed25519(key) => jwk(&[
            ("crv", "Ed25519".into()),
            ("d", URL_SAFE_NO_PAD.encode(key.to_bytes())),
            ("kty", "OKP".into()),
            ("x", URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes())),
        ]),
    }
}

/// The label and decoded body of every PEM block, in order.
fn blocks(text: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    let text = String::from_utf8_lossy(text);
    let mut rest: &str = &text;
    let mut out = Vec::new();
    while let Some(begin) = rest.find("-----BEGIN ") {
        let after = &rest[begin + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = &after[..label_end];
        let body = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = body.find(&end_marker) else {
            break;
        };
        let base64: String = body[..end]
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let der = STANDARD
            .decode(base64.as_bytes())
            .map_err(|_| "failed to decode PEM block".to_string())?;
        out.push((label.to_string(), der));
        rest = &body[end + end_marker.len()..];
    }
    Ok(out)
}

/// Go's `base64.CorruptInputError` text: the offset of the first byte that cannot be read.
pub(super) fn go_base64_error(error: base64::DecodeError) -> String {
    let at = match error {
        base64::DecodeError::InvalidByte(at, _) | base64::DecodeError::InvalidLastSymbol(at, _) => {
            at
        }
        // An incomplete last group: Go reports where it starts.
        base64::DecodeError::InvalidLength(len) => len / 4 * 4,
        base64::DecodeError::InvalidPadding => 0,
    };
    format!("illegal base64 data at input byte {at}")
}

fn pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    use rsa::pkcs8::DecodePrivateKey;
    if let Ok(key) = rsa::RsaPrivateKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::Rsa(Box::new(key)));
    }
    if let Ok(key) = p256::SecretKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::P256(key));
    }
    if let Ok(key) = p384::SecretKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::P384(key));
    }
    if let Ok(key) = p521::SecretKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::P521(key));
    }
    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_der(der) {
        return Ok(PrivateKey::Ed25519(Box::new(key)));
    }
    Err("unsupported PKCS#8 private key".into())
}

fn sec1(der: &[u8]) -> Result<PrivateKey, String> {
    if let Ok(key) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P256(key));
    }
    if let Ok(key) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P384(key));
    }
    if let Ok(key) = p521::SecretKey::from_sec1_der(der) {
        return Ok(PrivateKey::P521(key));
    }
    Err("unsupported EC private key".into())
}

/// The x and y of an uncompressed SEC1 point (`04 || x || y`).
fn coordinates(point: &[u8]) -> (&[u8], &[u8]) {
    let body = point.get(1..).unwrap_or_default();
    body.split_at(body.len() / 2)
}

/// `point` is the uncompressed SEC1 encoding (`04 || x || y`), `d` the scalar at full width.
fn ec_jwk(curve: &str, point: &[u8], d: &[u8]) -> Value {
    let (x, y) = coordinates(point);
    jwk(&[
        ("crv", curve.into()),
        ("d", URL_SAFE_NO_PAD.encode(d)),
        ("kty", "EC".into()),
        ("x", URL_SAFE_NO_PAD.encode(x)),
        ("y", URL_SAFE_NO_PAD.encode(y)),
    ])
}

fn rsa_jwk(key: &rsa::RsaPrivateKey) -> Value {
    let b64 = |n: &BigUint| URL_SAFE_NO_PAD.encode(n.to_bytes_be());
    let mut members = vec![
        ("d", b64(key.d())),
        ("e", b64(key.e())),
        ("kty", "RSA".to_string()),
        ("n", b64(key.n())),
    ];
    if let [p, q, ..] = key.primes() {
        members.push(("p", b64(p)));
        members.push(("q", b64(q)));
    }
    if let Some(dp) = key.dp() {
        members.push(("dp", b64(dp)));
    }
    if let Some(dq) = key.dq() {
        members.push(("dq", b64(dq)));
    }
    if let Some(qi) = key.crt_coefficient() {
        members.push(("qi", b64(&qi)));
    }
    jwk(&members)
}

fn jwk(members: &[(&str, String)]) -> Value {
    let mut object = Object::new();
    for (name, value) in members {
        object.insert(Value::from(*name), Value::from(value.as_str()));
    }
    object.into_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(text: &str) -> Outcome {
        parse(&[Value::from(text)])
    }

    #[test]
    fn errors_and_nulls_as_opa_answers_them() {
        assert_eq!(call(""), Err("input PEM data was empty".into()));
        // OPA (Go) reads "hello" up to the incomplete group at byte 4.
        assert_eq!(
            call("hello"),
            Err("illegal base64 data at input byte 4".into())
        );
        assert_eq!(
            call("aGVsbG8*"),
            Err("illegal base64 data at input byte 7".into())
        );
        // No PEM block, or one of another kind: null.
        assert_eq!(call("aGVsbG8gd29ybGQ="), Ok(Value::Null));
        assert_eq!(
            call("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            Ok(Value::Null)
        );
        assert!(
            call("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n").is_err()
        );
    }
}
