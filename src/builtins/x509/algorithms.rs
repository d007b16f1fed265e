//! Signature and public-key algorithms as Go's x509 names them: the `SignatureAlgorithm` and
//! `PublicKeyAlgorithm` enum values, and the public key as Go's key struct marshals
//! (RSA `{N, E}`, ECDSA `{Curve: {}, X, Y}`, Ed25519 its 32 bytes in base64, DSA
//! `{Parameters: {P, Q, G}, Y}`), with the checks Go's parser makes.

use regorus::Value;
use rsa::BigUint;

use super::der::{self, Reader, context_constructed};
use super::go::{self, big_int, fields};

const NULL: &[u8] = &[0x05, 0x00];

/// Go's `x509.SignatureAlgorithm` values, by OID (RSA-PSS is read from its parameters).
const SIGNATURES: [(&[u64], i64); 15] = [
    (&[1, 2, 840, 113549, 1, 1, 2], 1),
    (&[1, 2, 840, 113549, 1, 1, 4], 2),
    (&[1, 2, 840, 113549, 1, 1, 5], 3),
    (&[1, 3, 14, 3, 2, 29], 3),
    (&[1, 2, 840, 113549, 1, 1, 11], 4),
    (&[1, 2, 840, 113549, 1, 1, 12], 5),
    (&[1, 2, 840, 113549, 1, 1, 13], 6),
    (&[1, 2, 840, 10040, 4, 3], 7),
    (&[2, 16, 840, 1, 101, 3, 4, 3, 2], 8),
    (&[1, 2, 840, 10045, 4, 1], 9),
    (&[1, 2, 840, 10045, 4, 3, 2], 10),
    (&[1, 2, 840, 10045, 4, 3, 3], 11),
    (&[1, 2, 840, 10045, 4, 3, 4], 12),
    (&[1, 3, 101, 112], 16),
    (&[1, 2, 840, 113549, 1, 1, 10], -1),
];
const RSA_PSS: i64 = -1;
const ED25519_SIGNATURE: i64 = 16;

const SHA256: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 1];
const SHA384: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 2];
const SHA512: &[u64] = &[2, 16, 840, 1, 101, 3, 4, 2, 3];
const MGF1: &[u64] = &[1, 2, 840, 113549, 1, 1, 8];

const RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const DSA: &[u64] = &[1, 2, 840, 10040, 4, 1];
const ECDSA: &[u64] = &[1, 2, 840, 10045, 2, 1];
const ED25519: &[u64] = &[1, 3, 101, 112];

/// An AlgorithmIdentifier: its OID and the raw parameters (empty when absent).
pub(super) fn identifier(contents: &[u8]) -> Option<(Vec<u64>, &[u8])> {
    let mut seq = Reader::new(contents);
    let oid = der::oid(seq.read(der::OID)?.contents)?;
    let params = match seq.any() {
        Some(e) => e.raw,
        None => &[],
    };
    Some((oid, params))
}

/// Go's `getSignatureAlgorithmFromAI`; 0 (`UnknownSignatureAlgorithm`) for what it does not
/// know, RSA-PSS included unless its parameters are one of Go's three sets.
pub(super) fn signature_algorithm(contents: &[u8]) -> i64 {
    let Some((oid, params)) = identifier(contents) else {
        return 0;
    };
    let Some(&(_, algorithm)) = SIGNATURES.iter().find(|(o, _)| *o == oid.as_slice()) else {
        return 0;
    };
    match algorithm {
        ED25519_SIGNATURE if !params.is_empty() => 0,
        RSA_PSS => pss(params).unwrap_or(0),
        _ => algorithm,
    }
}

/// RSASSA-PSS-params: the MGF1 hash must be the message hash, the salt its size, the
/// trailer 1.
fn pss(params: &[u8]) -> Option<i64> {
    let mut seq = Reader::new(params).sequence()?;
    fn explicit<'a>(seq: &mut Reader<'a>, n: u8) -> Option<Reader<'a>> {
        seq.read(context_constructed(n))
            .map(|e| Reader::new(e.contents))
    }
    let (hash, hash_params) = identifier(explicit(&mut seq, 0)?.read(der::SEQUENCE)?.contents)?;
    let (mgf, mgf_params) = identifier(explicit(&mut seq, 1)?.read(der::SEQUENCE)?.contents)?;
    let (mgf_hash, mgf_hash_params) =
        identifier(Reader::new(mgf_params).read(der::SEQUENCE)?.contents)?;
    let salt = der::small_integer(explicit(&mut seq, 2)?.read(der::INTEGER)?.contents)?;
    let trailer = match seq.optional(context_constructed(3))? {
        Some(e) => der::small_integer(Reader::new(e.contents).read(der::INTEGER)?.contents)?,
        None => 1,
    };
    let null_or_absent = |p: &[u8]| p.is_empty() || p == NULL;
    if !null_or_absent(hash_params)
        || mgf != MGF1
        || mgf_hash != hash
        || !null_or_absent(mgf_hash_params)
        || trailer != 1
    {
        return None;
    }
    match (hash.as_slice(), salt) {
        (SHA256, 32) => Some(13),
        (SHA384, 48) => Some(14),
        (SHA512, 64) => Some(15),
        _ => None,
    }
}

/// `PublicKeyAlgorithm` and `PublicKey` of a SubjectPublicKeyInfo's contents.
pub(super) fn public_key(spki: &[u8]) -> Result<(i64, Value), String> {
    let mut seq = Reader::new(spki);
    let (oid, params) = seq
        .read(der::SEQUENCE)
        .and_then(|e| identifier(e.contents))
        .ok_or("x509: malformed public key algorithm identifier")?;
    let key = seq
        .read(der::BIT_STRING)
        .and_then(|e| der::bit_string(e.contents))
        .ok_or("x509: malformed subjectPublicKey")?
        .0;
    let oid = oid.as_slice();
    if oid == RSA {
        if params != NULL {
            return Err("x509: RSA key missing NULL parameters".into());
        }
        let mut seq = Reader::new(key)
            .sequence()
            .ok_or("x509: invalid RSA public key")?;
        let n = seq.read(der::INTEGER).ok_or("x509: invalid RSA modulus")?;
        let e = seq
            .read(der::INTEGER)
            .and_then(|e| der::small_integer(e.contents))
            .ok_or("x509: invalid RSA public exponent")?;
        let n = der::integer_decimal(n.contents).ok_or("x509: invalid RSA modulus")?;
        if n.starts_with('-') || n == "0" {
            return Err("x509: RSA modulus is not a positive number".into());
        }
        if e <= 0 {
            return Err("x509: RSA public exponent is not a positive number".into());
        }
        return Ok((1, fields(vec![("N", big_int(&n)), ("E", Value::from(e))])));
    }
    if oid == ECDSA {
        let curve = der::oid(
            Reader::new(params)
                .read(der::OID)
                .ok_or("x509: invalid ECDSA parameters")?
                .contents,
        )
        .ok_or("x509: invalid ECDSA parameters")?;
        if !on_curve(&curve, key)? {
            return Err("x509: failed to unmarshal elliptic curve point".into());
        }
        let body = &key[1..];
        let (x, y) = body.split_at(body.len() / 2);
        let int = |b: &[u8]| big_int(&BigUint::from_bytes_be(b).to_string());
        return Ok((
            3,
            fields(vec![
                ("Curve", fields(Vec::new())),
                ("X", int(x)),
                ("Y", int(y)),
            ]),
        ));
    }
    if oid == ED25519 {
        if !params.is_empty() {
            return Err("x509: Ed25519 key encoded with illegal parameters".into());
        }
        if key.len() != 32 {
            return Err("x509: wrong Ed25519 public key size".into());
        }
        return Ok((4, go::bytes(Some(key))));
    }
    if oid == DSA {
        let invalid = || "x509: invalid DSA parameters".to_string();
        let y = Reader::new(key)
            .read(der::INTEGER)
            .and_then(|e| der::integer_decimal(e.contents))
            .ok_or("x509: invalid DSA public key")?;
        let mut p = Reader::new(params).sequence().ok_or_else(invalid)?;
        let mut next = || {
            p.read(der::INTEGER)
                .and_then(|e| der::integer_decimal(e.contents))
                .ok_or_else(invalid)
        };
        let (pp, q, g) = (next()?, next()?, next()?);
        return Ok((
            2,
            fields(vec![
                (
                    "Parameters",
                    fields(vec![
                        ("P", big_int(&pp)),
                        ("Q", big_int(&q)),
                        ("G", big_int(&g)),
                    ]),
                ),
                ("Y", big_int(&y)),
            ]),
        ));
    }
    Ok((0, Value::Null))
}

/// An uncompressed point on a curve Go's x509 knows.
fn on_curve(curve: &[u64], point: &[u8]) -> Result<bool, String> {
    const P224: &[u64] = &[1, 3, 132, 0, 33];
    const P256: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
    const P384: &[u64] = &[1, 3, 132, 0, 34];
    const P521: &[u64] = &[1, 3, 132, 0, 35];
    let width = match curve {
        P224 => 28,
        P256 => 32,
        P384 => 48,
        P521 => 66,
        _ => return Err("x509: unsupported elliptic curve".into()),
    };
    if point.len() != 1 + 2 * width || point[0] != 4 {
        return Ok(false);
    }
    Ok(match curve {
        P256 => p256::PublicKey::from_sec1_bytes(point).is_ok(),
        P384 => p384::PublicKey::from_sec1_bytes(point).is_ok(),
        P521 => p521::PublicKey::from_sec1_bytes(point).is_ok(),
        // No P-224 arithmetic here: the length is all that is checked.
        _ => true,
    })
}
