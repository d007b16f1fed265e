//! OPA's certificate builtins: `crypto.x509.parse_certificates` reads PEM certificates, or
//! base64 of DER or of PEM, into Go's `x509.Certificate` structs as OPA answers them.
//!
//! Owns reading the argument (OPA's rules: text starting `-----BEGIN` is PEM and every block
//! must be a `CERTIFICATE`; anything else is base64, of PEM or of concatenated DER) and the
//! table of these builtins. Parsing one certificate is [`certificate`]'s.

mod algorithms;
mod certificate;
mod constraints;
mod der;
mod domain;
mod extensions;
mod go;
mod keypair;
mod name;
mod options;
mod pem;
mod request;
mod verify;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use regorus::Value;

use certificate::Certificate;

use super::Builtin;
use super::args::{Outcome, finish, string};
use super::encoding::pem_decode;
use super::private_keys::go_base64_error;
use pem::{pem_blocks, pem_or_base64};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "crypto.x509.parse_certificates",
        nargs: 1,
        eval: |args| finish("crypto.x509.parse_certificates", parse_certificates(&args)),
    },
    Builtin {
        name: "crypto.x509.parse_and_verify_certificates",
        nargs: 1,
        eval: |args| {
            finish(
                "crypto.x509.parse_and_verify_certificates",
                parse_and_verify(&args, None),
            )
        },
    },
    Builtin {
        name: "crypto.x509.parse_and_verify_certificates_with_options",
        nargs: 2,
        eval: |args| {
            finish(
                "crypto.x509.parse_and_verify_certificates_with_options",
                options::read(&args).and_then(|o| parse_and_verify(&args, Some(o))),
            )
        },
    },
    Builtin {
        name: "crypto.x509.parse_certificate_request",
        nargs: 1,
        eval: |args| {
            finish(
                "crypto.x509.parse_certificate_request",
                parse_certificate_request(&args),
            )
        },
    },
    Builtin {
        name: "crypto.x509.parse_keypair",
        nargs: 2,
        eval: |args| {
            finish(
                "crypto.x509.parse_keypair",
                string(&args, 0).and_then(|c| keypair::parse(c, string(&args, 1)?)),
            )
        },
    },
];

fn parse_certificates(args: &[Value]) -> Outcome {
    let certs = certificates(string(args, 0)?)?;
    Ok(Value::from(
        certs
            .iter()
            .map(Certificate::with_uri_strings)
            .collect::<Vec<_>>(),
    ))
}

/// `[true, chain]` (leaf first) when the certificates form a chain to the first one,
/// `[false, []]` when they do not or cannot be read. Without options the chain's
/// certificates carry OPA's `URIStrings`; with options OPA answers Go's structs alone.
fn parse_and_verify(args: &[Value], options: Option<verify::Options>) -> Outcome {
    let text = string(args, 0)?;
    let invalid = || Value::from(vec![Value::from(false), Value::from(Vec::<Value>::new())]);
    let Ok(certs) = certificates(text) else {
        return Ok(invalid());
    };
    let with_uri_strings = options.is_none();
    let Ok(chain) = verify::verify(&certs, &options.unwrap_or_default()) else {
        return Ok(invalid());
    };
    let chain: Vec<Value> = chain
        .into_iter()
        .map(|i| {
            if with_uri_strings {
                certs[i].with_uri_strings()
            } else {
                certs[i].value.clone()
            }
        })
        .collect();
    Ok(Value::from(vec![Value::from(true), Value::from(chain)]))
}

/// OPA's reading: PEM starting with a `CERTIFICATE REQUEST` header, else base64 of PEM or
/// DER; a PEM block of another kind is refused.
fn parse_certificate_request(args: &[Value]) -> Outcome {
    let text = string(args, 0)?;
    let bytes = if text.starts_with("-----BEGIN CERTIFICATE REQUEST-----") {
        text.as_bytes().to_vec()
    } else {
        STANDARD.decode(text).map_err(go_base64_error)?
    };
    let decoded = String::from_utf8_lossy(&bytes);
    let der = match pem_decode(&decoded) {
        Some((block, _)) if block.kind != "CERTIFICATE REQUEST" => {
            return Err("invalid PEM-encoded certificate signing request".into());
        }
        Some((block, _)) => block.bytes,
        None => bytes,
    };
    request::parse(&der)
}

/// Go's `x509.ParseCertificates` over OPA's reading of the text.
fn certificates(text: &str) -> Result<Vec<Certificate>, String> {
    let der = certificates_der(text)?;
    let mut rest = der.as_slice();
    let mut certs = Vec::new();
    while !rest.is_empty() {
        let cert = certificate::parse(rest)?;
        rest = rest.get(cert.raw.len()..).unwrap_or_default();
        certs.push(cert);
    }
    Ok(certs)
}

/// OPA's `getX509CertsFromString`: the DER of every certificate of the text, concatenated.
fn certificates_der(text: &str) -> Result<Vec<u8>, String> {
    let bytes = pem_or_base64(text)?;
    if bytes.starts_with(b"-----BEGIN") {
        return pem_certificates(&String::from_utf8_lossy(&bytes));
    }
    Ok(bytes)
}

fn pem_certificates(text: &str) -> Result<Vec<u8>, String> {
    let mut der = Vec::new();
    for block in pem_blocks(text) {
        if block.kind != "CERTIFICATE" {
            return Err(format!(
                "PEM block type is '{}', expected CERTIFICATE",
                block.kind
            ));
        }
        der.extend_from_slice(&block.bytes);
    }
    Ok(der)
}
