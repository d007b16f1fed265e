//! Names in verification, as Go's x509 checks them: a CA's name constraints against the
//! subject alternative names of the certificates below it (`checkNameConstraints` and its
//! DNS, email, IP and URI matchers), and `VerifyHostname` for the `DNSName` option.

use std::net::IpAddr;

use regorus::Value;

use super::certificate::Certificate;
use super::domain::reverse_labels;

/// The SANs of `named` against the constraints of `ca`; `count` is Go's comparison count.
pub(super) fn check(
    ca: &Certificate,
    named: &Certificate,
    count: &mut i64,
    max: i64,
) -> Result<(), String> {
    for name in named.strings("EmailAddresses") {
        let mailbox = parse_mailbox(&name)
            .ok_or_else(|| format!("x509: cannot parse rfc822Name {name:?}"))?;
        within(
            ca,
            count,
            max,
            "email address",
            &name,
            "EmailAddresses",
            |c| match_email(&mailbox, c),
        )?;
    }
    for name in named.strings("DNSNames") {
        within(ca, count, max, "DNS name", &name, "DNSDomains", |c| {
            match_domain(&name, c)
        })?;
    }
    if let Value::Array(uris) = named.field("URIs") {
        for uri in uris.iter() {
            let host = uri["Host"]
                .as_string()
                .map(|s| s.to_string())
                .unwrap_or_default();
            within(ca, count, max, "URI", &host, "URIDomains", |c| {
                match_uri(&host, c)
            })?;
        }
    }
    for name in named.strings("IPAddresses") {
        let ip: IpAddr = name
            .parse()
            .map_err(|_| format!("x509: cannot parse IP address {name:?}"))?;
        within(ca, count, max, "IP address", &name, "IPRanges", |c| {
            match_ip(ip, c)
        })?;
    }
    Ok(())
}

/// Go's `checkNameConstraints` for one name: no excluded constraint matches, and a
/// permitted one does when there are any.
fn within(
    ca: &Certificate,
    count: &mut i64,
    max: i64,
    kind: &str,
    name: &str,
    field: &str,
    matches: impl Fn(&Value) -> Result<bool, String>,
) -> Result<(), String> {
    let list = |prefix: &str| match ca.field(&format!("{prefix}{field}")) {
        Value::Array(items) => items.iter().cloned().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    let (excluded, permitted) = (list("Excluded"), list("Permitted"));
    *count += excluded.len() as i64;
    if *count > max {
        return Err("x509: too many name constraints".into());
    }
    for constraint in &excluded {
        if matches(constraint)? {
            return Err(format!("x509: {kind} {name:?} is excluded by a constraint"));
        }
    }
    *count += permitted.len() as i64;
    if *count > max {
        return Err("x509: too many name constraints".into());
    }
    let mut ok = true;
    for constraint in &permitted {
        ok = matches(constraint)?;
        if ok {
            break;
        }
    }
    if ok {
        Ok(())
    } else {
        Err(format!(
            "x509: {kind} {name:?} is not permitted by any constraint"
        ))
    }
}

fn text(constraint: &Value) -> &str {
    constraint
        .as_string()
        .map(|s| s.as_ref())
        .unwrap_or_default()
}

/// Go's `matchDomainConstraint`: a leading `.` needs at least one more label.
fn match_domain_text(domain: &str, constraint: &str) -> Result<bool, String> {
    if constraint.is_empty() {
        return Ok(true);
    }
    let domain_labels = reverse_labels(domain)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain {domain:?}"))?;
    let (subdomains_only, constraint) = match constraint.strip_prefix('.') {
        Some(rest) => (true, rest),
        None => (false, constraint),
    };
    let constraint_labels = reverse_labels(constraint)
        .ok_or_else(|| format!("x509: internal error: cannot parse domain {constraint:?}"))?;
    if domain_labels.len() < constraint_labels.len()
        || (subdomains_only && domain_labels.len() == constraint_labels.len())
    {
        return Ok(false);
    }
    Ok(constraint_labels
        .iter()
        .zip(&domain_labels)
        .all(|(c, d)| c.eq_ignore_ascii_case(d)))
}

fn match_domain(domain: &str, constraint: &Value) -> Result<bool, String> {
    match_domain_text(domain, text(constraint))
}

/// `local@domain`.
struct Mailbox {
    local: String,
    domain: String,
}

/// Go's `parseRFC2821Mailbox`, for the unquoted local parts certificates carry.
fn parse_mailbox(text: &str) -> Option<Mailbox> {
    let (local, domain) = text.rsplit_once('@')?;
    if local.is_empty() || reverse_labels(domain).is_none_or(|l| l.is_empty()) {
        return None;
    }
    Some(Mailbox {
        local: local.to_string(),
        domain: domain.to_string(),
    })
}

fn match_email(mailbox: &Mailbox, constraint: &Value) -> Result<bool, String> {
    let constraint = text(constraint);
    if constraint.contains('@') {
        let wanted = parse_mailbox(constraint).ok_or_else(|| {
            format!("x509: internal error: cannot parse constraint {constraint:?}")
        })?;
        return Ok(
            mailbox.local == wanted.local && mailbox.domain.eq_ignore_ascii_case(&wanted.domain)
        );
    }
    match_domain_text(&mailbox.domain, constraint)
}

/// Go's `matchURIConstraint`: the host, without a port, must be a domain name.
fn match_uri(host: &str, constraint: &Value) -> Result<bool, String> {
    if host.is_empty() {
        return Err("URI with empty host cannot be matched against constraints".into());
    }
    let mut name = host;
    if host.contains(':') && !host.ends_with(']') {
        name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    }
    let bracketed = name.strip_prefix('[').and_then(|n| n.strip_suffix(']'));
    if name.parse::<IpAddr>().is_ok() || bracketed.is_some_and(|n| n.parse::<IpAddr>().is_ok()) {
        return Err("URI with IP cannot be matched against constraints".into());
    }
    match_domain_text(name, text(constraint))
}

/// Go's `matchIPConstraint`: same family, equal under the mask.
fn match_ip(ip: IpAddr, constraint: &Value) -> Result<bool, String> {
    let Ok(network) = text(&constraint["IP"]).parse::<IpAddr>() else {
        return Ok(false);
    };
    let mask = constraint["Mask"]
        .as_string()
        .ok()
        .and_then(|m| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(m.as_bytes())
                .ok()
        })
        .unwrap_or_default();
    let (ip, network): (Vec<u8>, Vec<u8>) = match (ip, network) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (a.octets().to_vec(), b.octets().to_vec()),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets().to_vec(), b.octets().to_vec()),
        _ => return Ok(false),
    };
    if mask.len() != ip.len() {
        return Ok(false);
    }
    Ok(ip
        .iter()
        .zip(&network)
        .zip(&mask)
        .all(|((a, b), m)| a & m == b & m))
}

/// Go's `VerifyHostname`: an IP against the IP SANs, a name against the DNS SANs (a
/// left-most `*` matching one label, for valid host names).
pub(super) fn verify_hostname(cert: &Certificate, host: &str) -> Result<(), String> {
    let candidate_ip = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .filter(|_| host.len() >= 3)
        .unwrap_or(host);
    if let Ok(ip) = candidate_ip.parse::<IpAddr>() {
        let found = cert
            .strings("IPAddresses")
            .iter()
            .filter_map(|a| a.parse::<IpAddr>().ok())
            .any(|a| same_ip(a, ip));
        return if found {
            Ok(())
        } else {
            Err(format!(
                "x509: certificate is not valid for IP {candidate_ip}"
            ))
        };
    }
    let name = host.to_ascii_lowercase();
    let valid_name = valid_hostname(&name, false);
    for pattern in cert.strings("DNSNames") {
        let matched = if valid_name && valid_hostname(&pattern, true) {
            match_hostnames(&pattern, &name)
        } else {
            !matches!(pattern.as_str(), "" | ".")
                && !matches!(name.as_str(), "" | ".")
                && pattern.eq_ignore_ascii_case(&name)
        };
        if matched {
            return Ok(());
        }
    }
    Err(format!("x509: certificate is not valid for {host}"))
}

/// `net.IP.Equal`: an IPv4 address equals its IPv4-mapped IPv6 form.
fn same_ip(a: IpAddr, b: IpAddr) -> bool {
    let canonical = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    canonical(a) == canonical(b)
}

fn valid_hostname(host: &str, pattern: bool) -> bool {
    let host = if pattern {
        host
    } else {
        host.strip_suffix('.').unwrap_or(host)
    };
    if host.is_empty() || host == "*" {
        return false;
    }
    host.split('.').enumerate().all(|(i, part)| {
        if part.is_empty() {
            return false;
        }
        if pattern && i == 0 && part == "*" {
            return true;
        }
        part.bytes()
            .enumerate()
            .all(|(j, c)| c.is_ascii_alphanumeric() || (c == b'-' && j != 0) || c == b'_')
    })
}

fn match_hostnames(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let (p, h): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), host.split('.').collect());
    p.len() == h.len()
        && p.iter()
            .zip(&h)
            .enumerate()
            .all(|(i, (p, h))| (i == 0 && *p == "*") || p == h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_constraints_as_go_matches_them() {
        assert!(match_domain_text("a.example.com", "example.com").unwrap());
        assert!(match_domain_text("example.com", "example.com").unwrap());
        assert!(!match_domain_text("example.com", ".example.com").unwrap());
        assert!(match_domain_text("a.Example.COM", ".example.com").unwrap());
        assert!(!match_domain_text("badexample.com", "example.com").unwrap());
        assert!(match_domain_text("anything", "").unwrap());
    }

    #[test]
    fn hostnames_with_wildcards() {
        assert!(match_hostnames("*.example.com", "a.example.com"));
        assert!(!match_hostnames("*.example.com", "a.b.example.com"));
        assert!(match_hostnames("api.example.com", "API.example.com."));
        assert!(!valid_hostname("a*.example.com", true));
        assert!(valid_hostname("_srv.example.com", false));
    }
}
