//! A certificate's extensions as Go's x509 parser reads them into `x509.Certificate`: key
//! usage, basic constraints, subject alternative names, name constraints, CRL distribution
//! points, key ids, extended key usage, policies and their constraints, authority
//! information access. A critical extension Go does not handle is listed in
//! `UnhandledCriticalExtensions`; every extension stays in `Extensions` as written.

use std::collections::BTreeMap;

use regorus::Value;

use super::super::go_text::quote;
use super::super::uri::go_url;
use super::der::{self, Reader, context, context_constructed};
use super::domain::reverse_labels;
use super::go::{self, fields, list_or_null, oid_value, strings_or_null};

/// The certificate's fields, by Go's names.
pub(super) type Fields = BTreeMap<&'static str, Value>;

const ID_PREFIX: [u64; 3] = [2, 5, 29];
const AUTHORITY_INFO_ACCESS: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 1, 1];
const OCSP: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 48, 1];
const CA_ISSUERS: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 48, 2];

/// Go's `x509.ExtKeyUsage` values, by OID.
const EXT_KEY_USAGES: [(&[u64], i64); 14] = [
    (&[2, 5, 29, 37, 0], 0),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 1], 1),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 2], 2),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 3], 3),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 4], 4),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 5], 5),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 6], 6),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 7], 7),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 8], 8),
    (&[1, 3, 6, 1, 5, 5, 7, 3, 9], 9),
    (&[1, 3, 6, 1, 4, 1, 311, 10, 3, 3], 10),
    (&[2, 16, 840, 1, 113730, 4, 1], 11),
    (&[1, 3, 6, 1, 4, 1, 311, 2, 1, 22], 12),
    (&[1, 3, 6, 1, 4, 1, 311, 61, 1, 1], 13),
];

/// The fields extensions set, at Go's zero values.
pub(super) fn defaults(out: &mut Fields) {
    for name in [
        "AuthorityKeyId",
        "CRLDistributionPoints",
        "DNSNames",
        "EmailAddresses",
        "ExcludedDNSDomains",
        "ExcludedEmailAddresses",
        "ExcludedIPRanges",
        "ExcludedURIDomains",
        "ExtKeyUsage",
        "IPAddresses",
        "IssuingCertificateURL",
        "OCSPServer",
        "PermittedDNSDomains",
        "PermittedEmailAddresses",
        "PermittedIPRanges",
        "PermittedURIDomains",
        "Policies",
        "PolicyIdentifiers",
        "PolicyMappings",
        "SubjectKeyId",
        "URIs",
        "URIStrings",
        "UnhandledCriticalExtensions",
        "UnknownExtKeyUsage",
    ] {
        out.insert(name, Value::Null);
    }
    for name in [
        "BasicConstraintsValid",
        "IsCA",
        "MaxPathLenZero",
        "PermittedDNSDomainsCritical",
        "InhibitAnyPolicyZero",
        "InhibitPolicyMappingZero",
        "RequireExplicitPolicyZero",
    ] {
        out.insert(name, Value::from(false));
    }
    for name in [
        "KeyUsage",
        "MaxPathLen",
        "InhibitAnyPolicy",
        "InhibitPolicyMapping",
        "RequireExplicitPolicy",
    ] {
        out.insert(name, Value::from(0u64));
    }
}

/// Reads the `[3]` extensions of a certificate into `out`.
pub(super) fn parse(raw: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: malformed extensions".to_string();
    let mut list = Reader::new(raw).sequence().ok_or_else(invalid)?;
    let mut all = Vec::new();
    let mut unhandled_critical = Vec::new();
    let mut seen = Vec::new();
    while !list.is_empty() {
        let mut extension = list
            .sequence()
            .ok_or_else(|| "x509: malformed extension".to_string())?;
        let id = extension
            .oid()
            .ok_or_else(|| "x509: malformed extension OID field".to_string())?;
        let critical = match extension
            .optional(der::BOOLEAN)
            .ok_or_else(|| "x509: malformed extension critical field".to_string())?
        {
            Some(e) => der::boolean(e.contents)
                .ok_or_else(|| "x509: malformed extension critical field".to_string())?,
            None => false,
        };
        let value = extension
            .read(der::OCTET_STRING)
            .filter(|_| extension.is_empty())
            .ok_or_else(|| "x509: malformed extension value field".to_string())?
            .contents;
        if seen.contains(&id) {
            return Err(format!(
                "x509: certificate contains duplicate extension with OID \"{}\"",
                der::dotted(&id)
            ));
        }
        let unhandled = one(&id, critical, value, out)?;
        if critical && unhandled {
            unhandled_critical.push(oid_value(&id));
        }
        all.push(fields(vec![
            ("Id", oid_value(&id)),
            ("Critical", Value::from(critical)),
            ("Value", go::bytes(Some(value))),
        ]));
        seen.push(id);
    }
    out.insert("Extensions", list_or_null(all));
    out.insert(
        "UnhandledCriticalExtensions",
        list_or_null(unhandled_critical),
    );
    Ok(())
}

/// One extension; `true` when Go leaves it unhandled.
fn one(id: &[u64], critical: bool, value: &[u8], out: &mut Fields) -> Result<bool, String> {
    if id == AUTHORITY_INFO_ACCESS {
        authority_info_access(value, out)?;
        return Ok(false);
    }
    let [a, b, c, kind] = id else {
        return Ok(true);
    };
    if [*a, *b, *c] != ID_PREFIX {
        return Ok(true);
    }
    match kind {
        15 => key_usage(value, out)?,
        19 => basic_constraints(value, out)?,
        17 => return subject_alt_names(value, out),
        30 => return name_constraints(value, critical, out),
        31 => crl_distribution_points(value, out)?,
        35 => authority_key_id(value, out)?,
        37 => ext_key_usage(value, out)?,
        14 => {
            let id = Reader::new(value)
                .read(der::OCTET_STRING)
                .ok_or("x509: invalid subject key identifier")?;
            out.insert("SubjectKeyId", go::bytes(Some(id.contents)));
        }
        32 => policies(value, out)?,
        33 => policy_mappings(value, out)?,
        36 => policy_constraints(value, out)?,
        54 => {
            let n = Reader::new(value)
                .read(der::INTEGER)
                .and_then(|e| der::small_integer(e.contents))
                .ok_or("x509: invalid inhibit any policy extension")?;
            out.insert("InhibitAnyPolicy", Value::from(n));
            out.insert("InhibitAnyPolicyZero", Value::from(n == 0));
        }
        _ => return Ok(true),
    }
    Ok(false)
}

fn key_usage(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid key usage".to_string();
    let bits = Reader::new(value)
        .read(der::BIT_STRING)
        .and_then(|e| der::bit_string(e.contents))
        .ok_or_else(invalid)?
        .0;
    let mut usage = 0u64;
    for i in 0..9 {
        if bits
            .get(i / 8)
            .is_some_and(|byte| byte & (0x80 >> (i % 8)) != 0)
        {
            usage |= 1 << i;
        }
    }
    out.insert("KeyUsage", Value::from(usage));
    Ok(())
}

fn basic_constraints(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid basic constraints".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    let is_ca = match seq.optional(der::BOOLEAN).ok_or_else(invalid)? {
        Some(e) => der::boolean(e.contents).ok_or_else(invalid)?,
        None => false,
    };
    let max_path_len = match seq.optional(der::INTEGER).ok_or_else(invalid)? {
        Some(e) => der::small_integer(e.contents).ok_or_else(invalid)?,
        None => -1,
    };
    out.insert("IsCA", Value::from(is_ca));
    out.insert("MaxPathLen", Value::from(max_path_len));
    out.insert("MaxPathLenZero", Value::from(max_path_len == 0));
    out.insert("BasicConstraintsValid", Value::from(true));
    Ok(())
}

/// Go's `forEachSAN` and `parseSANExtension`. Unhandled when no name of a known kind is there.
pub(super) fn subject_alt_names(value: &[u8], out: &mut Fields) -> Result<bool, String> {
    let mut names = Reader::new(value)
        .sequence()
        .ok_or("x509: invalid subject alternative names")?;
    let (mut dns, mut emails, mut ips, mut uris, mut uri_strings) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    while !names.is_empty() {
        let name = names
            .any()
            .ok_or("x509: invalid subject alternative name")?;
        let text = || String::from_utf8_lossy(name.contents).into_owned();
        match name.tag {
            t if t == context(1) => {
                if !name.contents.is_ascii() {
                    return Err("x509: SAN rfc822Name is malformed".into());
                }
                emails.push(text());
            }
            t if t == context(2) => {
                if !name.contents.is_ascii() {
                    return Err("x509: SAN dNSName is malformed".into());
                }
                dns.push(text());
            }
            t if t == context(6) => {
                if !name.contents.is_ascii() {
                    return Err("x509: SAN uniformResourceIdentifier is malformed".into());
                }
                let written = text();
                let url = go_url(&written)
                    .map_err(|e| format!("x509: cannot parse URI {}: {e}", quote(&written)))?;
                if !url.host.is_empty() && reverse_labels(&url.host).is_none() {
                    return Err(format!(
                        "x509: cannot parse URI {}: invalid domain",
                        quote(&written)
                    ));
                }
                uris.push(url.value);
                uri_strings.push(url.text);
            }
            t if t == context(7) => {
                let ip = go::ip(name.contents).ok_or_else(|| {
                    format!(
                        "x509: cannot parse IP address of length {}",
                        name.contents.len()
                    )
                })?;
                ips.push(ip);
            }
            _ => {}
        }
    }
    let unhandled = dns.is_empty() && emails.is_empty() && ips.is_empty() && uris.is_empty();
    out.insert("DNSNames", strings_or_null(dns));
    out.insert("EmailAddresses", strings_or_null(emails));
    out.insert("IPAddresses", strings_or_null(ips));
    out.insert("URIs", list_or_null(uris));
    out.insert("URIStrings", strings_or_null(uri_strings));
    Ok(unhandled)
}

/// Go's `parseNameConstraintsExtension`. Unhandled when a subtree has a name of another kind.
fn name_constraints(value: &[u8], critical: bool, out: &mut Fields) -> Result<bool, String> {
    let invalid = || "x509: invalid NameConstraints extension".to_string();
    let mut outer = Reader::new(value);
    let mut top = outer.sequence().ok_or_else(invalid)?;
    if !outer.is_empty() {
        return Err(invalid());
    }
    let permitted = top.optional(context_constructed(0)).ok_or_else(invalid)?;
    let excluded = top.optional(context_constructed(1)).ok_or_else(invalid)?;
    if !top.is_empty() {
        return Err(invalid());
    }
    let empty = |e: Option<der::Element>| e.is_none_or(|e| e.contents.is_empty());
    if empty(permitted) && empty(excluded) {
        return Err("x509: empty name constraints extension".into());
    }
    let mut unhandled = false;
    for (subtrees, prefix) in [(permitted, "Permitted"), (excluded, "Excluded")] {
        let subtrees = subtrees.map(|e| e.contents).unwrap_or_default();
        let (mut dns, mut ips, mut emails, mut uris) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut reader = Reader::new(subtrees);
        while !reader.is_empty() {
            let base = reader
                .sequence()
                .and_then(|mut s| s.any())
                .ok_or_else(invalid)?;
            let text = String::from_utf8_lossy(base.contents).into_owned();
            let ia5 = || {
                if base.contents.is_ascii() {
                    Ok(())
                } else {
                    Err("x509: invalid constraint value: invalid IA5String".to_string())
                }
            };
            let domain_ok = |d: &str| reverse_labels(d.strip_prefix('.').unwrap_or(d)).is_some();
            match base.tag {
                t if t == context(2) => {
                    ia5()?;
                    if !domain_ok(&text) {
                        return Err(format!(
                            "x509: failed to parse dnsName constraint {}",
                            quote(&text)
                        ));
                    }
                    dns.push(text);
                }
                t if t == context(7) => {
                    let half = match base.contents.len() {
                        8 => 4,
                        32 => 16,
                        n => {
                            return Err(format!(
                                "x509: IP constraint contained value of length {n}"
                            ));
                        }
                    };
                    let (ip, mask) = base.contents.split_at(half);
                    if !canonical_mask(mask) {
                        return Err(format!(
                            "x509: IP constraint contained invalid mask {}",
                            super::super::encoding::hex(mask)
                        ));
                    }
                    ips.push(fields(vec![
                        ("IP", Value::from(go::ip(ip).unwrap_or_default())),
                        ("Mask", go::bytes(Some(mask))),
                    ]));
                }
                t if t == context(1) => {
                    ia5()?;
                    let ok = if text.contains('@') {
                        mailbox(&text)
                    } else {
                        domain_ok(&text)
                    };
                    if !ok {
                        return Err(format!(
                            "x509: failed to parse rfc822Name constraint {}",
                            quote(&text)
                        ));
                    }
                    emails.push(text);
                }
                t if t == context(6) => {
                    ia5()?;
                    if text.parse::<std::net::IpAddr>().is_ok() {
                        return Err(format!(
                            "x509: failed to parse URI constraint {}: cannot be IP address",
                            quote(&text)
                        ));
                    }
                    if !domain_ok(&text) {
                        return Err(format!(
                            "x509: failed to parse URI constraint {}",
                            quote(&text)
                        ));
                    }
                    uris.push(text);
                }
                _ => unhandled = true,
            }
        }
        let name = |field: &str| -> &'static str {
            match (prefix, field) {
                ("Permitted", "DNS") => "PermittedDNSDomains",
                ("Permitted", "IP") => "PermittedIPRanges",
                ("Permitted", "Email") => "PermittedEmailAddresses",
                ("Permitted", _) => "PermittedURIDomains",
                (_, "DNS") => "ExcludedDNSDomains",
                (_, "IP") => "ExcludedIPRanges",
                (_, "Email") => "ExcludedEmailAddresses",
                _ => "ExcludedURIDomains",
            }
        };
        out.insert(name("DNS"), strings_or_null(dns));
        out.insert(name("IP"), list_or_null(ips));
        out.insert(name("Email"), strings_or_null(emails));
        out.insert(name("URI"), strings_or_null(uris));
    }
    out.insert("PermittedDNSDomainsCritical", Value::from(critical));
    Ok(unhandled)
}

/// Go's `isValidIPMask`: ones, then only zeros.
fn canonical_mask(mask: &[u8]) -> bool {
    let mut seen_zero = false;
    for byte in mask {
        for i in (0..8).rev() {
            let one = byte >> i & 1 == 1;
            if seen_zero && one {
                return false;
            }
            seen_zero |= !one;
        }
    }
    true
}

/// A mailbox `local@domain` as Go's `parseRFC2821Mailbox` accepts it, in its common forms.
fn mailbox(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty() && reverse_labels(domain).is_some_and(|l| !l.is_empty())
}

fn crl_distribution_points(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid CRL distribution points".to_string();
    let mut points = Reader::new(value).sequence().ok_or_else(invalid)?;
    let mut uris = Vec::new();
    while !points.is_empty() {
        let mut point = points
            .sequence()
            .ok_or("x509: invalid CRL distribution point")?;
        let Some(name) = point
            .optional(context_constructed(0))
            .ok_or("x509: invalid CRL distribution point")?
        else {
            continue;
        };
        let full = Reader::new(name.contents)
            .read(context_constructed(0))
            .ok_or("x509: invalid CRL distribution point")?;
        let mut names = Reader::new(full.contents);
        while names.peek_tag() == Some(context(6)) {
            let uri = names.any().ok_or("x509: invalid CRL distribution point")?;
            uris.push(String::from_utf8_lossy(uri.contents).into_owned());
        }
    }
    out.insert("CRLDistributionPoints", strings_or_null(uris));
    Ok(())
}

fn authority_key_id(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let mut seq = Reader::new(value)
        .sequence()
        .ok_or("x509: invalid authority key identifier")?;
    if let Some(id) = seq
        .optional(context(0))
        .ok_or("x509: invalid authority key identifier")?
    {
        out.insert("AuthorityKeyId", go::bytes(Some(id.contents)));
    }
    Ok(())
}

fn ext_key_usage(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid extended key usages".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    while !seq.is_empty() {
        let oid = seq.oid().ok_or_else(invalid)?;
        match EXT_KEY_USAGES.iter().find(|(o, _)| *o == oid.as_slice()) {
            Some((_, usage)) => known.push(Value::from(*usage)),
            None => unknown.push(oid_value(&oid)),
        }
    }
    out.insert("ExtKeyUsage", list_or_null(known));
    out.insert("UnknownExtKeyUsage", list_or_null(unknown));
    Ok(())
}

/// `Policies` (Go's `x509.OID`, written as dotted text) and `PolicyIdentifiers` (arcs).
fn policies(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid certificate policies".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    let (mut dotted, mut arcs) = (Vec::new(), Vec::new());
    while !seq.is_empty() {
        let oid = seq
            .sequence()
            .and_then(|mut info| info.read(der::OID))
            .and_then(|e| der::oid(e.contents))
            .ok_or_else(invalid)?;
        dotted.push(der::dotted(&oid));
        arcs.push(oid_value(&oid));
    }
    out.insert("Policies", strings_or_null(dotted));
    out.insert("PolicyIdentifiers", Value::from(arcs));
    Ok(())
}

fn policy_mappings(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid policy mappings extension".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    let mut mappings = Vec::new();
    while !seq.is_empty() {
        let mut mapping = seq.sequence().ok_or_else(invalid)?;
        let mut next = || mapping.oid().ok_or_else(invalid);
        let (issuer, subject) = (next()?, next()?);
        mappings.push(fields(vec![
            ("IssuerDomainPolicy", Value::from(der::dotted(&issuer))),
            ("SubjectDomainPolicy", Value::from(der::dotted(&subject))),
        ]));
    }
    out.insert("PolicyMappings", list_or_null(mappings));
    Ok(())
}

fn policy_constraints(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid policy constraints extension".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    for (tag, name, zero) in [
        (0, "RequireExplicitPolicy", "RequireExplicitPolicyZero"),
        (1, "InhibitPolicyMapping", "InhibitPolicyMappingZero"),
    ] {
        if let Some(e) = seq.optional(context(tag)).ok_or_else(invalid)? {
            let n = der::small_integer(e.contents).ok_or_else(invalid)?;
            out.insert(name, Value::from(n));
            out.insert(zero, Value::from(n == 0));
        }
    }
    Ok(())
}

fn authority_info_access(value: &[u8], out: &mut Fields) -> Result<(), String> {
    let invalid = || "x509: invalid authority info access".to_string();
    let mut seq = Reader::new(value).sequence().ok_or_else(invalid)?;
    let (mut ocsp, mut issuers) = (Vec::new(), Vec::new());
    while !seq.is_empty() {
        let mut access = seq.sequence().ok_or_else(invalid)?;
        let method = access.oid().ok_or_else(invalid)?;
        let Some(location) = access.optional(context(6)).ok_or_else(invalid)? else {
            continue;
        };
        let uri = String::from_utf8_lossy(location.contents).into_owned();
        if method == OCSP {
            ocsp.push(uri);
        } else if method == CA_ISSUERS {
            issuers.push(uri);
        }
    }
    out.insert("OCSPServer", strings_or_null(ocsp));
    out.insert("IssuingCertificateURL", strings_or_null(issuers));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_ones_then_zeros() {
        assert!(canonical_mask(&[0xff, 0, 0, 0]));
        assert!(canonical_mask(&[0xff, 0xff, 0xff, 0xff]));
        assert!(canonical_mask(&[0, 0, 0, 0]));
        assert!(canonical_mask(&[0xff, 0xf0, 0, 0]));
        assert!(!canonical_mask(&[0xff, 0, 0xff, 0]));
        assert!(!canonical_mask(&[0x0f, 0, 0, 0]));
    }
}
