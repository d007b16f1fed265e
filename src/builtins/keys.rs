//! Key material for OPA's token builtins: reading the `cert` argument (a PEM certificate, a PEM
//! public key, or a JWK / JWK set) into verification keys, and a JWK into a signing key, with
//! what Go and lestrrat-go/jwx (OPA's JOSE library) accept and reject.
//!
//! Owns parsing only; what a key does with a signature lives in [`super::jws`].

use rsa::{BigUint, RsaPrivateKey, RsaPublicKey};
use serde_json::{Map, Value as Json};
use x509_cert::der::Decode as _;
use x509_cert::spki::{ObjectIdentifier, SubjectPublicKeyInfoRef};

use super::encoding::{Alphabet, base64_decode, pem_decode};

/// The largest RSA modulus accepted (Go has no limit; the `rsa` crate's default is 4096).
const MAX_RSA_BITS: usize = 16384;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
/// Keys Go parses and authzd never verifies with: P-224, Ed25519's X25519 sibling, DSA.
const OID_P224: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.33");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_X25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.110");
const OID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");

/// A public elliptic-curve key, on one of the curves JWS uses.
#[derive(Clone)]
pub(super) enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

impl EcKey {
    /// Bytes of one coordinate (and of `r` and `s` in a JWS signature).
    pub(super) fn size(&self) -> usize {
        match self {
            EcKey::P256(_) => 32,
            EcKey::P384(_) => 48,
            EcKey::P521(_) => 66,
        }
    }
}

/// What a key is, as far as verification cares.
#[derive(Clone)]
pub(super) enum KeyMaterial {
    /// `private` marks a key that came from a private JWK: OPA's `io.jwt.verify_*` refuse it
    /// (Go sees an `*rsa.PrivateKey`), `io.jwt.decode_verify` uses its public half.
    Rsa {
        key: RsaPublicKey,
        private: bool,
    },
    Ec {
        key: EcKey,
        private: bool,
    },
    Ed25519 {
        key: Option<ed25519_dalek::VerifyingKey>,
        private: bool,
    },
    /// A symmetric JWK (`kty: oct`): usable for HS* by `io.jwt.decode_verify` only.
    Oct(Vec<u8>),
    /// A key Go accepts but that never verifies a JWS here (P-224, X25519, DSA, unknown
    /// algorithms inside certificates).
    Unusable,
}

/// One key of the `cert` argument, with the JWK's `alg` and `kid` (empty when absent).
#[derive(Clone)]
pub(super) struct VerificationKey {
    pub material: KeyMaterial,
    pub alg: String,
    pub kid: String,
}

/// The algorithms OPA's token builtins know (`tokenAlgorithms` in OPA's `tokens.go`).
pub(super) const TOKEN_ALGORITHMS: [&str; 13] = [
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "HS256",
    "HS384", "HS512", "EdDSA",
];

/// Every `alg` jwx accepts in a JWK (signature, key management and content encryption
/// algorithms); anything else fails to parse.
const JWK_ALGORITHMS: [&str; 41] = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "ES256K",
    "HS256",
    "HS384",
    "HS512",
    "EdDSA",
    "Ed25519",
    "Ed448",
    "none",
    "RSA1_5",
    "RSA-OAEP",
    "RSA-OAEP-256",
    "RSA-OAEP-384",
    "RSA-OAEP-512",
    "A128KW",
    "A192KW",
    "A256KW",
    "dir",
    "ECDH-ES",
    "ECDH-ES+A128KW",
    "ECDH-ES+A192KW",
    "ECDH-ES+A256KW",
    "A128GCMKW",
    "A192GCMKW",
    "A256GCMKW",
    "PBES2-HS256+A128KW",
    "PBES2-HS384+A192KW",
    "PBES2-HS512+A256KW",
    "A128CBC-HS256",
    "A192CBC-HS384",
    "A256CBC-HS512",
    "A128GCM",
    "A256GCM",
];

/// Reads the `cert` argument of the JWT builtins: one PEM `CERTIFICATE` or `PUBLIC KEY` block
/// and nothing after it, or else a JWK or JWK set. Keys of a set whose `alg` is not a JWS
/// algorithm OPA knows are left out, as OPA does.
pub(super) fn verification_keys(text: &str) -> Result<Vec<VerificationKey>, String> {
    if let Some((block, rest)) = pem_decode(text) {
        if !rest.is_empty() {
            return Err("extra data after a PEM certificate block".to_string());
        }
        let material = match block.kind.as_str() {
            "CERTIFICATE" => certificate_key(&block.bytes)
                .map_err(|e| format!("failed to parse a PEM certificate: {e}"))?,
            "PUBLIC KEY" => public_key_info(&block.bytes, true)
                .map_err(|e| format!("failed to parse a PEM public key: {e}"))?,
            _ => return Err("failed to extract a Key from the PEM certificate".to_string()),
        };
        return Ok(vec![VerificationKey {
            material,
            alg: String::new(),
            kid: String::new(),
        }]);
    }
    let jwks = parse_jwk_set(text).map_err(|e| format!("failed to parse a JWK key (set): {e}"))?;
    Ok(jwks
        .into_iter()
        .filter(|k| k.alg.is_empty() || TOKEN_ALGORITHMS.contains(&k.alg.as_str()))
        .collect())
}

/// The public key of a DER certificate. Like Go, a certificate whose key algorithm is
/// unknown parses; its key verifies nothing.
fn certificate_key(der: &[u8]) -> Result<KeyMaterial, String> {
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| format!("x509: {e}"))?;
    let spki = cert.tbs_certificate.subject_public_key_info;
    let params = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or("x509: invalid public key bit string")?;
    key_from_parts(spki.algorithm.oid, params, raw, false)
}

/// A DER `SubjectPublicKeyInfo` (a PEM `PUBLIC KEY`).
pub(super) fn public_key_info(der: &[u8], strict: bool) -> Result<KeyMaterial, String> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(|e| format!("x509: {e}"))?;
    let params = spki
        .algorithm
        .parameters
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or("x509: invalid public key bit string")?;
    key_from_parts(spki.algorithm.oid, params, raw, strict)
}

fn key_from_parts(
    algorithm: ObjectIdentifier,
    params: Option<ObjectIdentifier>,
    raw: &[u8],
    unknown_is_error: bool,
) -> Result<KeyMaterial, String> {
    if algorithm == OID_RSA {
        let key = rsa::pkcs1::RsaPublicKey::from_der(raw)
            .map_err(|e| format!("x509: invalid RSA public key: {e}"))?;
        let n = BigUint::from_bytes_be(key.modulus.as_bytes());
        let e = BigUint::from_bytes_be(key.public_exponent.as_bytes());
        let key = RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS)
            .map_err(|e| format!("x509: invalid RSA public key: {e}"))?;
        return Ok(KeyMaterial::Rsa {
            key,
            private: false,
        });
    }
    if algorithm == OID_EC {
        let invalid = |_| "x509: invalid elliptic curve public key".to_string();
        let key = match params {
            Some(curve) if curve == OID_P256 => {
                EcKey::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(invalid)?)
            }
            Some(curve) if curve == OID_P384 => {
                EcKey::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(invalid)?)
            }
            Some(curve) if curve == OID_P521 => {
                EcKey::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(raw).map_err(invalid)?)
            }
            Some(curve) if curve == OID_P224 => return Ok(KeyMaterial::Unusable),
            _ => return Err("x509: unsupported elliptic curve".to_string()),
        };
        return Ok(KeyMaterial::Ec {
            key,
            private: false,
        });
    }
    if algorithm == OID_ED25519 {
        let bytes: [u8; 32] = raw
            .try_into()
            .map_err(|_| "x509: invalid Ed25519 public key".to_string())?;
        // Go keeps any 32 bytes; a point that does not decode verifies nothing.
        return Ok(KeyMaterial::Ed25519 {
            key: ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok(),
            private: false,
        });
    }
    if algorithm == OID_X25519 || algorithm == OID_DSA || !unknown_is_error {
        return Ok(KeyMaterial::Unusable);
    }
    Err("x509: unknown public key algorithm".to_string())
}

/// A JWK document: one key, or a set (`{"keys": [...]}`).
fn parse_jwk_set(text: &str) -> Result<Vec<VerificationKey>, String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let Json::Object(fields) = &doc else {
        return Err("a JWK must be a JSON object".to_string());
    };
    match fields.get("keys") {
        None => Ok(vec![verification_key(fields)?]),
        Some(Json::Array(keys)) => keys
            .iter()
            .enumerate()
            .map(|(i, key)| match key {
                Json::Object(fields) => {
                    verification_key(fields).map_err(|e| format!("key #{i}: {e}"))
                }
                _ => Err(format!("key #{i}: a JWK must be a JSON object")),
            })
            .collect(),
        Some(_) => Err(r#""keys" must be an array"#.to_string()),
    }
}

fn verification_key(jwk: &Map<String, Json>) -> Result<VerificationKey, String> {
    let alg = optional_string(jwk, "alg")?;
    if !alg.is_empty() && !JWK_ALGORITHMS.contains(&alg.as_str()) {
        return Err(format!("invalid key algorithm {alg:?}"));
    }
    let kid = optional_string(jwk, "kid")?;
    let private = jwk.contains_key("d");
    let material = match optional_string(jwk, "kty")?.as_str() {
        "RSA" => KeyMaterial::Rsa {
            key: match rsa_public(jwk)? {
                Some(key) => key,
                None => return Ok(unusable(alg, kid)),
            },
            private,
        },
        "EC" => KeyMaterial::Ec {
            key: ec_public(jwk)?,
            private,
        },
        "OKP" => match okp_public(jwk)? {
            Some(key) => KeyMaterial::Ed25519 { key, private },
            None => KeyMaterial::Unusable,
        },
        "oct" => KeyMaterial::Oct(bytes_field(jwk, "k")?),
        other => return Err(format!("invalid key type {other:?}")),
    };
    Ok(VerificationKey { material, alg, kid })
}

fn unusable(alg: String, kid: String) -> VerificationKey {
    VerificationKey {
        material: KeyMaterial::Unusable,
        alg,
        kid,
    }
}

/// An RSA JWK's public key; `None` for numbers jwx accepts but no RSA operation would.
fn rsa_public(jwk: &Map<String, Json>) -> Result<Option<RsaPublicKey>, String> {
    let n = BigUint::from_bytes_be(&bytes_field(jwk, "n")?);
    let e = BigUint::from_bytes_be(&bytes_field(jwk, "e")?);
    Ok(RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).ok())
}

fn ec_public(jwk: &Map<String, Json>) -> Result<EcKey, String> {
    let crv = optional_string(jwk, "crv")?;
    let size = match crv.as_str() {
        "P-256" => 32,
        "P-384" => 48,
        "P-521" => 66,
        other => return Err(format!("unknown elliptic curve {other:?}")),
    };
    let x = bytes_field(jwk, "x")?;
    let y = bytes_field(jwk, "y")?;
    if x.len() != size || y.len() != size {
        return Err(format!("invalid \"x\" or \"y\" length for curve {crv:?}"));
    }
    let mut point = Vec::with_capacity(1 + 2 * size);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let invalid = |_| format!("invalid point for curve {crv:?}");
    Ok(match size {
        32 => EcKey::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(invalid)?),
        48 => EcKey::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(invalid)?),
        _ => EcKey::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).map_err(invalid)?),
    })
}

/// An OKP JWK: `Some` for Ed25519 (with `None` inside for bytes that are not a point), `None`
/// for X25519.
fn okp_public(
    jwk: &Map<String, Json>,
) -> Result<Option<Option<ed25519_dalek::VerifyingKey>>, String> {
    let crv = optional_string(jwk, "crv")?;
    let x = bytes_field(jwk, "x")?;
    let bytes: [u8; 32] = x
        .as_slice()
        .try_into()
        .map_err(|_| format!("{crv}: wrong public key size"))?;
    match crv.as_str() {
        "Ed25519" => Ok(Some(ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok())),
        "X25519" => Ok(None),
        other => Err(format!("unsupported curve {other:?}")),
    }
}

/// A key for `io.jwt.encode_sign`: the first key of a JWK or JWK set.
pub(super) enum SigningKey {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
    Oct(Vec<u8>),
    /// A key that cannot sign (a public key); signing fails with `kind` in the message.
    Public(&'static str),
}

/// Reads the JWK (or the first key of a JWK set) `io.jwt.encode_sign` signs with.
pub(super) fn signing_key(text: &str) -> Result<SigningKey, String> {
    let doc: Json = serde_json::from_str(text).map_err(|e| format!("jwk.Parse: {e}"))?;
    let Json::Object(fields) = &doc else {
        return Err("jwk.Parse: a JWK must be a JSON object".to_string());
    };
    let first = match fields.get("keys") {
        None => fields,
        Some(Json::Array(keys)) => match keys.first() {
            None => return Err("no keys found in JWK set".to_string()),
            Some(Json::Object(first)) => first,
            Some(_) => return Err("jwk.Parse: a JWK must be a JSON object".to_string()),
        },
        Some(_) => return Err(r#"jwk.Parse: "keys" must be an array"#.to_string()),
    };
    // Parse it as a verification key first: the same fields are required and checked.
    let public = verification_key(first).map_err(|e| format!("jwk.Parse: {e}"))?;
    let has_d = first.contains_key("d");
    Ok(match public.material {
        KeyMaterial::Oct(k) => SigningKey::Oct(k),
        KeyMaterial::Rsa { .. } if has_d => {
            let n = BigUint::from_bytes_be(&bytes_field(first, "n")?);
            let e = BigUint::from_bytes_be(&bytes_field(first, "e")?);
            let d = BigUint::from_bytes_be(&bytes_field(first, "d")?);
            let p = BigUint::from_bytes_be(&bytes_field(first, "p")?);
            let q = BigUint::from_bytes_be(&bytes_field(first, "q")?);
            let key = RsaPrivateKey::from_components(n, e, d, vec![p, q])
                .map_err(|e| format!("jwk.Parse: invalid RSA private key: {e}"))?;
            SigningKey::Rsa(Box::new(key))
        }
        KeyMaterial::Ec { key, .. } if has_d => {
            let d = bytes_field(first, "d")?;
            let invalid = |_| "jwk.Parse: invalid EC private key".to_string();
            match key {
                EcKey::P256(_) => {
                    SigningKey::P256(p256::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
                EcKey::P384(_) => {
                    SigningKey::P384(p384::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
                EcKey::P521(_) => {
                    SigningKey::P521(p521::ecdsa::SigningKey::from_slice(&d).map_err(invalid)?)
                }
            }
        }
        KeyMaterial::Ed25519 { .. } if has_d => {
            let d: [u8; 32] = bytes_field(first, "d")?
                .as_slice()
                .try_into()
                .map_err(|_| "jwk.Parse: invalid Ed25519 private key".to_string())?;
            SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&d))
        }
        KeyMaterial::Rsa { .. } => SigningKey::Public("RSA public key"),
        KeyMaterial::Ec { .. } => SigningKey::Public("EC public key"),
        KeyMaterial::Ed25519 { .. } => SigningKey::Public("OKP public key"),
        KeyMaterial::Unusable => SigningKey::Public("unsupported key"),
    })
}

fn optional_string(jwk: &Map<String, Json>, field: &str) -> Result<String, String> {
    match jwk.get(field) {
        None => Ok(String::new()),
        Some(Json::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

/// A base64url (or, as jwx also accepts, standard base64) JWK member, padded or not.
fn bytes_field(jwk: &Map<String, Json>, field: &str) -> Result<Vec<u8>, String> {
    let Some(Json::String(text)) = jwk.get(field) else {
        return Err(format!("required field {field} is missing"));
    };
    let alphabet = if text.contains(['+', '/']) {
        Alphabet::Standard
    } else {
        Alphabet::Url
    };
    let unpadded = text.trim_end_matches('=');
    let mut padded = unpadded.to_string();
    while padded.len() % 4 != 0 {
        padded.push('=');
    }
    base64_decode(padded.as_bytes(), alphabet)
        .map_err(|e| format!("failed to decode value for key {field}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_file(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
    }

    #[test]
    fn pem_keys_and_certificates() {
        for (file, kind) in [
            ("rsa_public.pem", "rsa"),
            ("rsa_cert.pem", "rsa"),
            ("ec_public.pem", "ec"),
            ("ec_cert.pem", "ec"),
            ("ec384_public.pem", "ec"),
            ("ec521_public.pem", "ec"),
            ("ed25519_public.pem", "ed"),
        ] {
            let keys = verification_keys(&key_file(file)).unwrap();
            assert_eq!(keys.len(), 1, "{file}");
            let ok = matches!(
                (&keys[0].material, kind),
                (KeyMaterial::Rsa { .. }, "rsa")
                    | (KeyMaterial::Ec { .. }, "ec")
                    | (KeyMaterial::Ed25519 { key: Some(_), .. }, "ed")
            );
            assert!(ok, "{file} parsed as the wrong kind of key");
        }
    }

    #[test]
    fn pem_errors_read_like_opa() {
        // Messages confirmed with OPA 1.20.2 (io.jwt.decode_verify's cert constraint).
        let key = key_file("rsa_public.pem");
        let err = |text: &str| verification_keys(text).err().unwrap();
        assert_eq!(
            err(&format!("{key}\n")),
            "extra data after a PEM certificate block"
        );
        assert_eq!(
            err(&key_file("rsa_private.pem")),
            "failed to extract a Key from the PEM certificate"
        );
        assert!(err(&format!("junk{key}")).starts_with("failed to parse a JWK key (set): "));
        assert!(verification_keys(&format!("hello\n{key}")).is_ok());
    }

    #[test]
    fn jwks_keys_keep_kid_and_alg_and_skip_foreign_algorithms() {
        let keys = verification_keys(&key_file("jwks.json")).unwrap();
        let ids: Vec<(&str, &str)> = keys
            .iter()
            .map(|k| (k.kid.as_str(), k.alg.as_str()))
            .collect();
        assert_eq!(
            ids,
            [
                ("rsa-1", "RS256"),
                ("rsa-2", ""),
                ("ec-1", "ES256"),
                ("ec-2", "ES384"),
                ("ec-3", "ES512"),
                ("", "EdDSA")
            ]
        );
        let set = r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"RSA-OAEP"},{"kty":"oct","k":"c2VjcmV0"}]}"#;
        assert_eq!(verification_keys(set).unwrap().len(), 1);
        for bad in [
            r#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"XX256"}]}"#,
            r#"{"keys":[{"kty":"XYZ"}]}"#,
            r#"{"keys":[{"kty":"RSA","n":"AQAB"}]}"#,
            r#"{"keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}"#,
            r#"{"keys":1}"#,
            r#"{}"#,
            "[]",
        ] {
            assert!(verification_keys(bad).is_err(), "{bad}");
        }
        assert!(verification_keys(r#"{"keys":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn private_jwks_sign() {
        let jwks: Json = serde_json::from_str(&key_file("private_jwks.json")).unwrap();
        for name in ["rsa", "ec", "ec384", "ec521", "ed25519"] {
            let key = signing_key(&jwks[name].to_string()).unwrap();
            assert!(!matches!(key, SigningKey::Public(_)), "{name}");
        }
        let public = key_file("jwks.json");
        assert!(matches!(
            signing_key(&public).unwrap(),
            SigningKey::Public(_)
        ));
        assert_eq!(
            signing_key(r#"{"keys":[]}"#).err().unwrap(),
            "no keys found in JWK set"
        );
    }
}
