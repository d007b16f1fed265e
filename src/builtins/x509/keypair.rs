//! `crypto.x509.parse_keypair`: a certificate chain and its private key as Go's
//! `tls.X509KeyPair` reads them, answered as OPA answers `tls.Certificate`: every
//! certificate's DER in base64, the private key as Go's key struct, and the first
//! certificate parsed as `Leaf`. Each argument is PEM, or base64 of PEM or of DER.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use regorus::Value;

use super::super::encoding::pem_decode;
use super::super::private_keys::{PrivateKey, go_base64_error, go_struct, private_key};
use super::certificate;
use super::go::{self, fields};

pub(super) fn parse(cert_text: &str, key_text: &str) -> Result<Value, String> {
    let cert_bytes = decoded(cert_text)?;
    let key_bytes = decoded(key_text)?;
    let certs: Vec<Vec<u8>> = if cert_bytes.starts_with(b"-----BEGIN") {
        pem_blocks(&cert_bytes)
            .into_iter()
            .filter(|(kind, _)| kind == "CERTIFICATE")
            .map(|(_, der)| der)
            .collect()
    } else {
        vec![cert_bytes]
    };
    if certs.is_empty() {
        return Err("tls: failed to find \"CERTIFICATE\" PEM block in certificate input".into());
    }
    let key_der = if key_bytes.starts_with(b"-----BEGIN") {
        pem_blocks(&key_bytes)
            .into_iter()
            .find(|(kind, _)| kind == "PRIVATE KEY" || kind.ends_with(" PRIVATE KEY"))
            .map(|(_, der)| der)
            .ok_or(
                "tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input",
            )?
    } else {
        key_bytes
    };
    let leaf = certificate::parse(&certs[0])?;
    // Go's parsePrivateKey tries PKCS #1, PKCS #8 and SEC 1 whatever the PEM label says.
    let key = ["RSA PRIVATE KEY", "PRIVATE KEY", "EC PRIVATE KEY"]
        .iter()
        .find_map(|label| private_key(label, &key_der).ok().flatten())
        .ok_or("tls: failed to parse private key")?;
    let key_value = go_struct(&key);
    matches_public_key(
        leaf.field("PublicKeyAlgorithm"),
        leaf.field("PublicKey"),
        &key,
        &key_value,
    )?;
    Ok(fields(vec![
        (
            "Certificate",
            Value::from(certs.iter().map(|c| go::bytes(Some(c))).collect::<Vec<_>>()),
        ),
        ("PrivateKey", key_value),
        ("Leaf", leaf.value),
        ("OCSPStaple", Value::Null),
        ("SignedCertificateTimestamps", Value::Null),
        ("SupportedSignatureAlgorithms", Value::Null),
    ]))
}

/// PEM as written, or base64 of it (or of DER), as OPA reads each argument.
fn decoded(text: &str) -> Result<Vec<u8>, String> {
    if text.starts_with("-----BEGIN") {
        Ok(text.as_bytes().to_vec())
    } else {
        STANDARD.decode(text).map_err(go_base64_error)
    }
}

fn pem_blocks(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let text = String::from_utf8_lossy(bytes);
    let mut rest: &str = &text;
    let mut out = Vec::new();
    while let Some((block, after)) = pem_decode(rest) {
        out.push((block.kind, block.bytes));
        rest = after;
    }
    out
}

/// `tls.X509KeyPair`'s check that the key is the certificate's.
fn matches_public_key(
    algorithm: &Value,
    public: &Value,
    key: &PrivateKey,
    key_value: &Value,
) -> Result<(), String> {
    let mismatch_type = || "tls: private key type does not match public key type".to_string();
    let same = match (algorithm.as_i64().unwrap_or(0), key) {
        (1, PrivateKey::Rsa(_)) => public["N"] == key_value["N"] && public["E"] == key_value["E"],
        (3, PrivateKey::P256(_) | PrivateKey::P384(_) | PrivateKey::P521(_)) => {
            public["X"] == key_value["X"] && public["Y"] == key_value["Y"]
        }
        (4, PrivateKey::Ed25519(k)) => *public == go::bytes(Some(k.verifying_key().as_bytes())),
        (0, _) => return Err("tls: unknown public key algorithm".into()),
        _ => return Err(mismatch_type()),
    };
    if same {
        Ok(())
    } else {
        Err("tls: private key does not match public key".into())
    }
}
