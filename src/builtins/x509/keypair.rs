//! `crypto.x509.parse_keypair`: a certificate chain and its private key as Go's
//! `tls.X509KeyPair` reads them, answered as OPA answers `tls.Certificate`: every
//! certificate's DER in base64, the private key as Go's key struct, and the first
//! certificate parsed as `Leaf`. Each argument is PEM, or base64 of PEM or of DER.

use regorus::Value;

use super::super::private_keys::{PrivateKey, go_struct, private_key};
use super::certificate;
use super::go::{self, fields};
use super::pem::{pem_blocks, pem_or_base64};

pub(super) fn parse(cert_text: &str, key_text: &str) -> Result<Value, String> {
    let cert_bytes = pem_or_base64(cert_text)?;
    let key_bytes = pem_or_base64(key_text)?;
    let certs: Vec<Vec<u8>> = if cert_bytes.starts_with(b"-----BEGIN") {
        pem_blocks(&String::from_utf8_lossy(&cert_bytes))
            .into_iter()
            .filter(|block| block.kind == "CERTIFICATE")
            .map(|block| block.bytes)
            .collect()
    } else {
        vec![cert_bytes]
    };
    if certs.is_empty() {
        return Err("tls: failed to find \"CERTIFICATE\" PEM block in certificate input".into());
    }
    let key_der = if key_bytes.starts_with(b"-----BEGIN") {
        pem_blocks(&String::from_utf8_lossy(&key_bytes))
            .into_iter()
            .find(|block| block.kind == "PRIVATE KEY" || block.kind.ends_with(" PRIVATE KEY"))
            .map(|block| block.bytes)
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
