//! Chain verification as OPA does it with Go's `Certificate.Verify`: the first certificate is
//! the root, the last the leaf, those between are intermediates. A chain is built from the
//! leaf up to the root, each step checked as Go checks it: the issuer's name, its signature
//! (SHA-1 and MD5 refused as insecure), validity at the current (or given) time, CA and
//! key-usage bits, path length, unhandled critical extensions, name constraints; then the
//! extended key usages the caller asks for (server authentication by default), and the
//! policy constraints. The first chain found is the answer, leaf first.

use regorus::Value;

use super::super::jws::{Algorithm, verify_family};
use super::super::keys::public_key_info;
use super::certificate::Certificate;
use super::constraints;
use super::der::{self, Reader};

/// Go's `maxChainSignatureChecks`.
const MAX_SIGNATURE_CHECKS: usize = 100;
/// `x509.ExtKeyUsageAny`, `x509.ExtKeyUsageServerAuth`.
const EKU_ANY: i64 = 0;
const EKU_SERVER_AUTH: i64 = 1;
/// `x509.KeyUsageCertSign`.
const KEY_USAGE_CERT_SIGN: i64 = 32;

/// `x509.VerifyOptions`, as far as OPA passes them.
#[derive(Default)]
pub(super) struct Options {
    pub dns_name: String,
    /// Nanoseconds since the epoch; now when absent.
    pub current_time: Option<i64>,
    pub key_usages: Vec<i64>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Leaf,
    Intermediate,
    Root,
}

/// The verified chain as indices into `certs`, leaf first.
pub(super) fn verify(certs: &[Certificate], options: &Options) -> Result<Vec<usize>, String> {
    if certs.len() < 2 {
        return Err("must supply at least two certificates to be able to verify".into());
    }
    let now = match options.current_time {
        Some(ns) => ns.div_euclid(1_000_000_000),
        None => chrono::Utc::now().timestamp(),
    };
    let verifier = Verifier {
        certs,
        leaf: certs.len() - 1,
        now,
        max_comparisons: 250_000,
    };
    let leaf = verifier.leaf;
    verifier.is_valid(leaf, Kind::Leaf, &[])?;
    if !options.dns_name.is_empty() {
        constraints::verify_hostname(&certs[leaf], &options.dns_name)?;
    }
    let chains = if certs[0].raw == certs[leaf].raw {
        vec![vec![leaf]]
    } else {
        let mut checks = 0;
        verifier.build_chains(vec![leaf], &mut checks)?
    };
    let chains: Vec<Vec<usize>> = chains
        .into_iter()
        .filter(|chain| verifier.policies_valid(chain))
        .collect();
    if chains.is_empty() {
        return Err(
            "x509: no valid chains built: all candidate chains have invalid policies".into(),
        );
    }
    if options.key_usages.contains(&EKU_ANY) {
        return Ok(chains.into_iter().next().unwrap_or_default());
    }
    let wanted = if options.key_usages.is_empty() {
        vec![EKU_SERVER_AUTH]
    } else {
        options.key_usages.clone()
    };
    chains
        .into_iter()
        .find(|chain| verifier.key_usages_allow(chain, &wanted))
        .ok_or_else(|| "x509: certificate specifies an incompatible key usage".into())
}

struct Verifier<'a> {
    certs: &'a [Certificate],
    leaf: usize,
    now: i64,
    max_comparisons: i64,
}

impl Verifier<'_> {
    /// Go's `buildChains`: every chain from the last certificate of `chain` to the root.
    fn build_chains(
        &self,
        chain: Vec<usize>,
        checks: &mut usize,
    ) -> Result<Vec<Vec<usize>>, String> {
        let child = &self.certs[*chain.last().unwrap_or(&self.leaf)];
        let mut chains = Vec::new();
        let mut hint: Option<String> = None;
        let mut candidates = Vec::new();
        if self.certs[0].raw_subject == child.raw_issuer {
            candidates.push((0, Kind::Root));
        }
        for i in self.potential_intermediates(child) {
            candidates.push((i, Kind::Intermediate));
        }
        for (candidate, kind) in candidates {
            let parent = &self.certs[candidate];
            if parent.field("PublicKey") == &Value::Null || self.already_in_chain(candidate, &chain)
            {
                continue;
            }
            *checks += 1;
            if *checks > MAX_SIGNATURE_CHECKS {
                return Err(
                    "x509: signature check attempts limit reached while verifying certificate chain"
                        .into(),
                );
            }
            if let Err(e) = check_signature_from(child, parent) {
                hint.get_or_insert(e);
                continue;
            }
            if let Err(e) = self.is_valid(candidate, kind, &chain) {
                hint.get_or_insert(e);
                continue;
            }
            let mut longer = chain.clone();
            longer.push(candidate);
            match kind {
                Kind::Root => chains.push(longer),
                _ => {
                    if let Ok(found) = self.build_chains(longer, checks) {
                        chains.extend(found);
                    }
                }
            }
        }
        if chains.is_empty() {
            return Err(match hint {
                Some(e) => format!("x509: certificate signed by unknown authority ({e})"),
                None => "x509: certificate signed by unknown authority".into(),
            });
        }
        Ok(chains)
    }

    /// The intermediates whose subject is `child`'s issuer, distinct, in Go's order: key ids
    /// that match, then one key id missing, then key ids that differ.
    fn potential_intermediates(&self, child: &Certificate) -> Vec<usize> {
        let mut ranked: Vec<(u8, usize)> = Vec::new();
        let authority = child.field("AuthorityKeyId");
        for i in 1..self.leaf {
            let parent = &self.certs[i];
            if parent.raw_subject != child.raw_issuer
                || self.certs[1..i].iter().any(|c| c.raw == parent.raw)
            {
                continue;
            }
            let subject = parent.field("SubjectKeyId");
            let rank = if subject == authority {
                0
            } else if (*subject == Value::Null) != (*authority == Value::Null) {
                1
            } else {
                2
            };
            ranked.push((rank, i));
        }
        ranked.sort_by_key(|(rank, _)| *rank);
        ranked.into_iter().map(|(_, i)| i).collect()
    }

    /// Go's `alreadyInChain`: the same subject, key and subject alternative names.
    fn already_in_chain(&self, candidate: usize, chain: &[usize]) -> bool {
        let c = &self.certs[candidate];
        chain.iter().any(|&i| {
            let other = &self.certs[i];
            other.raw_subject == c.raw_subject
                && other.field("PublicKey") == c.field("PublicKey")
                && san_extension(other) == san_extension(c)
        })
    }

    /// Go's `isValid` for a certificate of this kind above `chain`.
    fn is_valid(&self, index: usize, kind: Kind, chain: &[usize]) -> Result<(), String> {
        let cert = &self.certs[index];
        if cert.field("UnhandledCriticalExtensions") != &Value::Null {
            return Err("x509: unhandled critical extension".into());
        }
        if let Some(&child) = chain.last()
            && self.certs[child].raw_issuer != cert.raw_subject
        {
            return Err("x509: issuer name does not match subject from issuing certificate".into());
        }
        let (not_before, not_after) = (time(cert, "NotBefore"), time(cert, "NotAfter"));
        if self.now < not_before || self.now > not_after {
            return Err("x509: certificate has expired or is not yet valid".into());
        }
        if kind != Kind::Leaf && has_extension(cert, &[2, 5, 29, 30]) {
            let mut count = 0;
            for &below in chain {
                let named = &self.certs[below];
                if san_extension(named).is_some() {
                    constraints::check(cert, named, &mut count, self.max_comparisons)?;
                }
            }
        }
        let constrained = cert.flag("BasicConstraintsValid");
        if kind == Kind::Intermediate && !(constrained && cert.flag("IsCA")) {
            return Err("x509: certificate is not authorized to sign other certificates".into());
        }
        let max_path_len = cert.integer("MaxPathLen");
        if constrained && max_path_len >= 0 && chain.len() as i64 - 1 > max_path_len {
            return Err("x509: too many intermediates for path length constraint".into());
        }
        Ok(())
    }

    /// Go's `checkChainForKeyUsage`: every certificate that lists extended key usages must
    /// allow one of `wanted` (or any).
    fn key_usages_allow(&self, chain: &[usize], wanted: &[i64]) -> bool {
        let mut remaining: Vec<Option<i64>> = wanted.iter().copied().map(Some).collect();
        for &i in chain.iter().rev() {
            let cert = &self.certs[i];
            let usages = cert.integers("ExtKeyUsage");
            if usages.is_empty() && cert.field("UnknownExtKeyUsage") == &Value::Null {
                continue;
            }
            if usages.contains(&EKU_ANY) {
                continue;
            }
            for slot in remaining.iter_mut() {
                if slot.is_some_and(|u| !usages.contains(&u)) {
                    *slot = None;
                }
            }
            if remaining.iter().all(Option::is_none) {
                return false;
            }
        }
        true
    }

    /// RFC 5280's policy check, for what it decides in practice: a chain where no certificate
    /// requires an explicit policy is valid; otherwise every certificate below the root must
    /// name a policy, and they must have one in common (`anyPolicy` matching every policy).
    /// Policy mappings are not followed.
    fn policies_valid(&self, chain: &[usize]) -> bool {
        let below_root = &chain[..chain.len().saturating_sub(1)];
        let requires = below_root.iter().any(|&i| {
            let cert = &self.certs[i];
            cert.integer("RequireExplicitPolicy") > 0 || cert.flag("RequireExplicitPolicyZero")
        });
        if !requires {
            return true;
        }
        let any = "2.5.29.32.0";
        let mut common: Option<Vec<String>> = None;
        for &i in below_root {
            let policies = self.certs[i].strings("Policies");
            if policies.is_empty() {
                return false;
            }
            common = Some(match common {
                None => policies,
                Some(so_far) if so_far.iter().any(|p| p == any) => policies,
                Some(so_far) if policies.iter().any(|p| p == any) => so_far,
                Some(so_far) => so_far
                    .into_iter()
                    .filter(|p| policies.contains(p))
                    .collect(),
            });
        }
        common.is_none_or(|c| !c.is_empty())
    }
}

/// Go's `CheckSignatureFrom`: `parent` may sign certificates, and signed `child`.
fn check_signature_from(child: &Certificate, parent: &Certificate) -> Result<(), String> {
    let constrained = parent.flag("BasicConstraintsValid");
    if (parent.integer("Version") == 3 && !constrained) || (constrained && !parent.flag("IsCA")) {
        return Err(
            "x509: invalid signature: parent certificate cannot sign this kind of certificate"
                .into(),
        );
    }
    let usage = parent.integer("KeyUsage");
    if usage != 0 && usage & KEY_USAGE_CERT_SIGN == 0 {
        return Err(
            "x509: invalid signature: parent certificate cannot sign this kind of certificate"
                .into(),
        );
    }
    let name = match child.signature_algorithm {
        4 => "RS256",
        5 => "RS384",
        6 => "RS512",
        10 => "ES256",
        11 => "ES384",
        12 => "ES512",
        13 => "PS256",
        14 => "PS384",
        15 => "PS512",
        16 => "EdDSA",
        1..=3 | 9 => return Err("x509: cannot verify signature: insecure algorithm".into()),
        _ => return Err("x509: cannot verify signature: algorithm unimplemented".into()),
    };
    let algorithm = Algorithm::parse(name).ok_or("x509: unknown signature algorithm")?;
    let key = public_key_info(&parent.raw_spki, false)?;
    let signature = if name.starts_with("ES") {
        ecdsa_halves(&child.signature).ok_or("x509: ECDSA verification failure")?
    } else {
        child.signature.clone()
    };
    if verify_family(&key, algorithm, &child.raw_tbs, &signature) {
        Ok(())
    } else {
        Err("x509: invalid signature".into())
    }
}

/// A DER ECDSA signature `SEQUENCE { r, s }` as `r || s`, both halves of one width.
fn ecdsa_halves(signature: &[u8]) -> Option<Vec<u8>> {
    let mut outer = Reader::new(signature);
    let mut seq = outer.sequence()?;
    if !outer.is_empty() {
        return None;
    }
    let mut half = || {
        let e = seq.read(der::INTEGER)?;
        der::integer_decimal(e.contents).filter(|d| !d.starts_with('-'))?;
        let start = e
            .contents
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(e.contents.len());
        Some(e.contents[start..].to_vec())
    };
    let (r, s) = (half()?, half()?);
    let width = r.len().max(s.len());
    let mut out = vec![0u8; 2 * width];
    out[width - r.len()..width].copy_from_slice(&r);
    out[2 * width - s.len()..].copy_from_slice(&s);
    Some(out)
}

fn has_extension(cert: &Certificate, oid: &[u64]) -> bool {
    extension(cert, oid).is_some()
}

/// The subject alternative names extension's value, if the certificate has one.
fn san_extension(cert: &Certificate) -> Option<&Value> {
    extension(cert, &[2, 5, 29, 17])
}

fn extension<'a>(cert: &'a Certificate, oid: &[u64]) -> Option<&'a Value> {
    let Value::Array(list) = cert.field("Extensions") else {
        return None;
    };
    list.iter().find_map(|e| {
        let Value::Array(id) = &e["Id"] else {
            return None;
        };
        let same = id.len() == oid.len()
            && id
                .iter()
                .zip(oid)
                .all(|(a, b)| a.as_u64().is_ok_and(|a| a == *b));
        same.then(|| &e["Value"])
    })
}

/// A validity time in seconds since the epoch.
fn time(cert: &Certificate, name: &str) -> i64 {
    cert.field(name)
        .as_string()
        .ok()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map_or(0, |t| t.timestamp())
}
