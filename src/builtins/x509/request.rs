//! `crypto.x509.parse_certificate_request`: a PKCS #10 certificate signing request as Go's
//! `x509.ParseCertificateRequest` reads it and `json.Marshal` writes it: the subject, the
//! public key, the requested extensions (subject alternative names read into `DNSNames`,
//! `EmailAddresses`, `IPAddresses`, `URIs`), and the attributes Go can represent.

use regorus::Value;
use regorus::value::Object;

use super::algorithms;
use super::der::{self, Reader, context_constructed};
use super::extensions::{self, Fields};
use super::go::{self, fields, list_or_null, oid_value};
use super::name::{self, asn1_string};

/// PKCS #9 `extensionRequest`.
const EXTENSION_REQUEST: [u64; 7] = [1, 2, 840, 113549, 1, 9, 14];

/// The DER request.
pub(super) fn parse(der: &[u8]) -> Result<Value, String> {
    let malformed = || "asn1: structure error: malformed certificate request".to_string();
    let mut input = Reader::new(der);
    let request = input.read(der::SEQUENCE).ok_or_else(malformed)?;
    if !input.is_empty() {
        return Err("asn1: syntax error: trailing data".into());
    }
    let mut outer = Reader::new(request.contents);
    let info = outer.read(der::SEQUENCE).ok_or_else(malformed)?;
    let algorithm = outer.read(der::SEQUENCE).ok_or_else(malformed)?;
    let signature = outer
        .read(der::BIT_STRING)
        .and_then(|e| der::bit_string(e.contents))
        .ok_or_else(malformed)?
        .0;
    let mut tbs = Reader::new(info.contents);
    let version = tbs
        .read(der::INTEGER)
        .and_then(|e| der::small_integer(e.contents))
        .ok_or_else(malformed)?;
    let subject = tbs.read(der::SEQUENCE).ok_or_else(malformed)?;
    let spki = tbs.read(der::SEQUENCE).ok_or_else(malformed)?;
    let attributes = tbs
        .read(context_constructed(0))
        .ok_or_else(malformed)?
        .contents;
    let (key_algorithm, key) = algorithms::public_key(spki.contents)?;

    let mut out = Fields::new();
    for name in [
        "DNSNames",
        "EmailAddresses",
        "IPAddresses",
        "URIs",
        "Extensions",
    ] {
        out.insert(name, Value::Null);
    }
    let (kept, requested) = read_attributes(attributes)?;
    if let Some(list) = &requested {
        let mut all = Vec::new();
        for (id, critical, value) in list {
            if *id == [2, 5, 29, 17] {
                extensions::subject_alt_names(value, &mut out)?;
            }
            all.push(fields(vec![
                ("Id", oid_value(id)),
                ("Critical", Value::from(*critical)),
                ("Value", go::bytes(Some(value))),
            ]));
        }
        out.insert("Extensions", list_or_null(all));
    }
    out.remove("URIStrings");
    out.insert("Attributes", list_or_null(kept));
    out.insert("ExtraExtensions", Value::Null);
    out.insert("Raw", go::bytes(Some(request.raw)));
    out.insert("RawTBSCertificateRequest", go::bytes(Some(info.raw)));
    out.insert("RawSubjectPublicKeyInfo", go::bytes(Some(spki.raw)));
    out.insert("RawSubject", go::bytes(Some(subject.raw)));
    out.insert("Signature", go::bytes(Some(signature)));
    out.insert(
        "SignatureAlgorithm",
        Value::from(algorithms::signature_algorithm(algorithm.contents)),
    );
    out.insert("PublicKeyAlgorithm", Value::from(key_algorithm));
    out.insert("PublicKey", key);
    out.insert("Version", Value::from(version));
    out.insert("Subject", name::parse(subject.raw)?);
    let mut object = Object::new();
    for (name, value) in out {
        object.insert(Value::from(name), value);
    }
    Ok(object.into_value())
}

/// One requested extension: its OID, criticality and value.
type Requested = (Vec<u64>, bool, Vec<u8>);

/// The attributes Go keeps (`pkix.AttributeTypeAndValueSET`: each value a SET of SEQUENCEs of
/// type-value pairs; others, such as `challengePassword`, are dropped), and the extensions of
/// the `extensionRequest` attributes.
fn read_attributes(raw: &[u8]) -> Result<(Vec<Value>, Option<Vec<Requested>>), String> {
    let mut kept = Vec::new();
    let mut requested: Option<Vec<Requested>> = None;
    let mut list = Reader::new(raw);
    while !list.is_empty() {
        let attribute = list.read(der::SEQUENCE).ok_or("x509: invalid attributes")?;
        if let Some(value) = attribute_set(attribute.contents) {
            kept.push(value);
        }
        let mut parts = Reader::new(attribute.contents);
        let id = parts.oid();
        if id.as_deref() != Some(&EXTENSION_REQUEST[..]) {
            continue;
        }
        let invalid = || "x509: invalid extension request".to_string();
        let set = parts.read(der::SET).ok_or_else(invalid)?;
        let mut sets = Reader::new(set.contents);
        while !sets.is_empty() {
            let mut extensions = sets.sequence().ok_or_else(invalid)?;
            while !extensions.is_empty() {
                let mut extension = extensions.sequence().ok_or_else(invalid)?;
                let id = extension.oid().ok_or_else(invalid)?;
                let critical = match extension.optional(der::BOOLEAN).ok_or_else(invalid)? {
                    Some(e) => der::boolean(e.contents).ok_or_else(invalid)?,
                    None => false,
                };
                let value = extension.read(der::OCTET_STRING).ok_or_else(invalid)?;
                requested.get_or_insert_with(Vec::new).push((
                    id,
                    critical,
                    value.contents.to_vec(),
                ));
            }
        }
    }
    Ok((kept, requested))
}

/// An attribute as `pkix.AttributeTypeAndValueSET`, `None` when Go's `asn1.Unmarshal` would
/// not read it so.
fn attribute_set(contents: &[u8]) -> Option<Value> {
    let mut parts = Reader::new(contents);
    let id = der::oid(parts.read(der::OID)?.contents)?;
    let set = parts.read(der::SET)?;
    if !parts.is_empty() {
        return None;
    }
    let mut outer = Vec::new();
    let mut sequences = Reader::new(set.contents);
    while !sequences.is_empty() {
        let mut pairs = sequences.sequence()?;
        let mut inner = Vec::new();
        while !pairs.is_empty() {
            let mut pair = pairs.sequence()?;
            let kind = der::oid(pair.read(der::OID)?.contents)?;
            let value = any_value(pair.any()?)?;
            inner.push(fields(vec![("Type", oid_value(&kind)), ("Value", value)]));
        }
        outer.push(Value::from(inner));
    }
    Some(fields(vec![
        ("Type", oid_value(&id)),
        ("Value", Value::from(outer)),
    ]))
}

/// An element decoded into Go's `interface{}` by `encoding/asn1`, for the kinds it knows.
fn any_value(element: der::Element) -> Option<Value> {
    match element.tag {
        der::BOOLEAN => der::boolean(element.contents).map(Value::from),
        der::INTEGER => der::integer_decimal(element.contents).map(|d| go::big_int(&d)),
        der::OCTET_STRING => Some(go::bytes(Some(element.contents))),
        der::OID => der::oid(element.contents).map(|o| oid_value(&o)),
        tag => asn1_string(tag, element.contents).ok().map(Value::from),
    }
}
