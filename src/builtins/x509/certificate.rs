//! One DER certificate as Go's `x509.ParseCertificate` reads it, answered as OPA answers it:
//! the `x509.Certificate` struct as Go's `json.Marshal` writes it, with OPA's `URIStrings`
//! (each SAN URI's `String()`) beside `URIs`.

use regorus::Value;
use regorus::value::Object;

use super::der::{self, Reader, context, context_constructed};
use super::extensions::{self, Fields};
use super::go::{self, big_int};
use super::{algorithms, name};

/// A parsed certificate: OPA's answer for it, and the parts chain verification reads.
pub(super) struct Certificate {
    /// The `x509.Certificate` struct, without OPA's `URIStrings`.
    pub value: Value,
    /// The `String()` of each SAN URI (OPA's `URIStrings`).
    pub uri_strings: Value,
    pub raw: Vec<u8>,
    pub raw_tbs: Vec<u8>,
    pub raw_subject: Vec<u8>,
    pub raw_issuer: Vec<u8>,
    pub raw_spki: Vec<u8>,
    pub signature: Vec<u8>,
    pub signature_algorithm: i64,
}

impl Certificate {
    /// The certificate as `crypto.x509.parse_certificates` answers it.
    pub(super) fn with_uri_strings(&self) -> Value {
        let mut value = self.value.clone();
        if let Ok(fields) = value.as_object_mut() {
            fields.insert(Value::from("URIStrings"), self.uri_strings.clone());
        }
        value
    }

    /// A field of the Go struct (`Undefined` when there is none).
    pub(super) fn field(&self, name: &str) -> &Value {
        &self.value[name]
    }

    /// A boolean field.
    pub(super) fn flag(&self, name: &str) -> bool {
        self.field(name) == &Value::from(true)
    }

    /// An integer field (0 when absent).
    pub(super) fn integer(&self, name: &str) -> i64 {
        self.field(name).as_i64().unwrap_or(0)
    }

    /// A list of integers (empty when `null`).
    pub(super) fn integers(&self, name: &str) -> Vec<i64> {
        match self.field(name) {
            Value::Array(items) => items.iter().filter_map(|v| v.as_i64().ok()).collect(),
            _ => Vec::new(),
        }
    }

    /// A list of strings (empty when `null`).
    pub(super) fn strings(&self, name: &str) -> Vec<String> {
        match self.field(name) {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_string().ok().map(|s| s.to_string()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The certificate at the start of `der`.
pub(super) fn parse(der: &[u8]) -> Result<Certificate, String> {
    let malformed = |what: &str| format!("x509: malformed {what}");
    let mut input = Reader::new(der);
    let cert = input
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("certificate"))?;
    let mut outer = Reader::new(cert.contents);
    let tbs = outer
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("tbs certificate"))?;
    let outer_algorithm = outer
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("algorithm identifier"))?;
    let signature = outer
        .read(der::BIT_STRING)
        .and_then(|e| der::bit_string(e.contents))
        .ok_or_else(|| malformed("signature"))?
        .0;

    let mut out = Fields::new();
    extensions::defaults(&mut out);
    let mut fields = Reader::new(tbs.contents);
    let version = match fields
        .optional(context_constructed(0))
        .ok_or_else(|| malformed("version"))?
    {
        Some(e) => Reader::new(e.contents)
            .read(der::INTEGER)
            .and_then(|i| der::small_integer(i.contents))
            .filter(|v| *v >= 0)
            .ok_or_else(|| malformed("version"))?,
        None => 0,
    } + 1;
    if version > 3 {
        return Err("x509: invalid version".into());
    }
    let serial = fields
        .read(der::INTEGER)
        .and_then(|e| der::integer_decimal(e.contents))
        .ok_or_else(|| malformed("serial number"))?;
    if serial.starts_with('-') {
        return Err("x509: negative serial number".into());
    }
    let inner_algorithm = fields
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("signature algorithm identifier"))?;
    if inner_algorithm.raw != outer_algorithm.raw {
        return Err("x509: inner and outer signature algorithm identifiers don't match".into());
    }
    let issuer = fields
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("issuer"))?;
    let mut validity = fields.sequence().ok_or_else(|| malformed("validity"))?;
    let mut time = || {
        validity
            .any()
            .filter(|e| matches!(e.tag, der::UTC_TIME | der::GENERALIZED_TIME))
            .and_then(|e| der::time(&e))
            .ok_or_else(|| malformed("validity"))
    };
    let (not_before, not_after) = (time()?, time()?);
    let subject = fields
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("subject"))?;
    let spki = fields
        .read(der::SEQUENCE)
        .ok_or_else(|| malformed("spki"))?;
    if version > 1 {
        for tag in [context(1), context(2)] {
            fields
                .optional(tag)
                .ok_or_else(|| malformed("unique identifier"))?;
        }
    }
    if version == 3
        && let Some(list) = fields
            .optional(context_constructed(3))
            .ok_or_else(|| malformed("extensions"))?
    {
        extensions::parse(list.contents, &mut out)?;
    } else {
        out.insert("Extensions", Value::Null);
    }
    let (key_algorithm, key) = algorithms::public_key(spki.contents)?;

    out.insert("Raw", go::bytes(Some(cert.raw)));
    out.insert("RawTBSCertificate", go::bytes(Some(tbs.raw)));
    out.insert("RawSubjectPublicKeyInfo", go::bytes(Some(spki.raw)));
    out.insert("RawSubject", go::bytes(Some(subject.raw)));
    out.insert("RawIssuer", go::bytes(Some(issuer.raw)));
    out.insert("Signature", go::bytes(Some(signature)));
    let signature_algorithm = algorithms::signature_algorithm(outer_algorithm.contents);
    out.insert("SignatureAlgorithm", Value::from(signature_algorithm));
    out.insert("PublicKeyAlgorithm", Value::from(key_algorithm));
    out.insert("PublicKey", key);
    out.insert("Version", Value::from(version));
    out.insert("SerialNumber", big_int(&serial));
    out.insert("Issuer", name::parse(issuer.raw)?);
    out.insert("Subject", name::parse(subject.raw)?);
    out.insert("NotBefore", Value::from(not_before));
    out.insert("NotAfter", Value::from(not_after));
    out.insert("ExtraExtensions", Value::Null);

    let uri_strings = out.remove("URIStrings").unwrap_or(Value::Null);
    let mut object = Object::new();
    for (name, value) in out {
        object.insert(Value::from(name), value);
    }
    Ok(Certificate {
        value: object.into_value(),
        uri_strings,
        raw: cert.raw.to_vec(),
        raw_tbs: tbs.raw.to_vec(),
        raw_subject: subject.raw.to_vec(),
        raw_issuer: issuer.raw.to_vec(),
        raw_spki: spki.raw.to_vec(),
        signature: signature.to_vec(),
        signature_algorithm,
    })
}
