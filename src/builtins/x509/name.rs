//! A distinguished name (issuer, subject) as Go's `pkix.Name` marshals it: every attribute in
//! `Names` with its OID, the well-known ones also in their own fields (`CommonName`,
//! `Country`, `Organization`, ...), and the string types Go's x509 parser accepts.

use regorus::Value;

use super::der::{self, Reader};
use super::go::{fields, oid_value, strings_or_null};

/// Reads an RDNSequence.
pub(super) fn parse(raw: &[u8]) -> Result<Value, String> {
    let invalid = || "x509: invalid RDNSequence".to_string();
    let mut names = Vec::new();
    let mut common_name = String::new();
    let mut serial_number = String::new();
    let mut lists: [Vec<String>; 7] = Default::default();
    let mut sequence = Reader::new(raw).sequence().ok_or_else(invalid)?;
    while !sequence.is_empty() {
        let set = sequence.read(der::SET).ok_or_else(invalid)?;
        let mut set = Reader::new(set.contents);
        while !set.is_empty() {
            let mut atv = set
                .sequence()
                .ok_or_else(|| "x509: invalid RDNSequence: invalid attribute".to_string())?;
            let oid = atv
                .oid()
                .ok_or_else(|| "x509: invalid RDNSequence: invalid attribute type".to_string())?;
            let value = atv
                .any()
                .ok_or_else(|| "x509: invalid RDNSequence: invalid attribute value".to_string())?;
            let text = asn1_string(value.tag, value.contents)
                .map_err(|e| format!("x509: invalid RDNSequence: invalid attribute value: {e}"))?;
            if let [2, 5, 4, kind] = oid[..] {
                let list = match kind {
                    3 => {
                        common_name = text.clone();
                        None
                    }
                    5 => {
                        serial_number = text.clone();
                        None
                    }
                    6 => Some(0),
                    7 => Some(1),
                    8 => Some(2),
                    9 => Some(3),
                    10 => Some(4),
                    11 => Some(5),
                    17 => Some(6),
                    _ => None,
                };
                if let Some(i) = list {
                    lists[i].push(text.clone());
                }
            }
            names.push(fields(vec![
                ("Type", oid_value(&oid)),
                ("Value", Value::from(text)),
            ]));
        }
    }
    let [
        country,
        locality,
        province,
        street,
        organization,
        unit,
        postal,
    ] = lists;
    Ok(fields(vec![
        ("CommonName", Value::from(common_name)),
        ("Country", strings_or_null(country)),
        ("ExtraNames", Value::Null),
        ("Locality", strings_or_null(locality)),
        (
            "Names",
            if names.is_empty() {
                Value::Null
            } else {
                Value::from(names)
            },
        ),
        ("Organization", strings_or_null(organization)),
        ("OrganizationalUnit", strings_or_null(unit)),
        ("PostalCode", strings_or_null(postal)),
        ("Province", strings_or_null(province)),
        ("SerialNumber", Value::from(serial_number)),
        ("StreetAddress", strings_or_null(street)),
    ]))
}

/// Go's `parseASN1String`: the string types a name may hold, checked as Go checks them.
pub(super) fn asn1_string(tag: u8, bytes: &[u8]) -> Result<String, String> {
    const UTF8: u8 = 12;
    const NUMERIC: u8 = 18;
    const PRINTABLE: u8 = 19;
    const T61: u8 = 20;
    const IA5: u8 = 22;
    const BMP: u8 = 30;
    match tag {
        // T.61 read as Latin-1, as Go does.
        T61 => Ok(bytes.iter().map(|b| char::from(*b)).collect()),
        PRINTABLE if bytes.iter().all(|b| printable(*b)) => Ok(ascii(bytes)),
        PRINTABLE => Err("invalid PrintableString".into()),
        UTF8 => std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| "invalid UTF-8 string".into()),
        BMP => {
            if !bytes.len().is_multiple_of(2) {
                return Err("invalid BMPString".into());
            }
            let bytes = bytes.strip_suffix(&[0, 0]).unwrap_or(bytes);
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|p| u16::from(p[0]) << 8 | u16::from(p[1]))
                .collect();
            Ok(char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect())
        }
        IA5 if bytes.is_ascii() => Ok(ascii(bytes)),
        IA5 => Err("invalid IA5String".into()),
        NUMERIC if bytes.iter().all(|b| b.is_ascii_digit() || *b == b' ') => Ok(ascii(bytes)),
        NUMERIC => Err("invalid NumericString".into()),
        _ => Err(format!("unsupported string type: {tag}")),
    }
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// PrintableString's alphabet, with `*` and `&`, which Go lets through for real-world
/// certificates.
fn printable(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+,-./:=? *&".contains(&b)
}
