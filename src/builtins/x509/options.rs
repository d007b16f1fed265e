//! The options object of `crypto.x509.parse_and_verify_certificates_with_options`, read
//! as OPA reads it into `x509.VerifyOptions`: `DNSName`, `CurrentTime` (nanoseconds),
//! `MaxConstraintComparisons` (checked, not applied, as in OPA's engine) and `KeyUsages` (names such as `KeyUsageServerAuth`), with
//! OPA's errors for anything else.

use regorus::Value;

use super::super::args::object;
use super::verify::Options;

/// OPA's `allowedKeyUsages`: option names and Go's `x509.ExtKeyUsage` values.
const KEY_USAGES: [(&str, i64); 14] = [
    ("KeyUsageAny", 0),
    ("KeyUsageServerAuth", 1),
    ("KeyUsageClientAuth", 2),
    ("KeyUsageCodeSigning", 3),
    ("KeyUsageEmailProtection", 4),
    ("KeyUsageIPSECEndSystem", 5),
    ("KeyUsageIPSECTunnel", 6),
    ("KeyUsageIPSECUser", 7),
    ("KeyUsageTimeStamping", 8),
    ("KeyUsageOCSPSigning", 9),
    ("KeyUsageMicrosoftServerGatedCrypto", 10),
    ("KeyUsageNetscapeServerGatedCrypto", 11),
    ("KeyUsageMicrosoftCommercialCodeSigning", 12),
    ("KeyUsageMicrosoftKernelCodeSigning", 13),
];

/// The second operand as verification options (keys in sorted order, first error wins).
pub(super) fn read(args: &[Value]) -> Result<Options, String> {
    let mut options = Options::default();
    for (key, value) in object(args, 1)?.iter() {
        let Value::String(key) = key else {
            continue;
        };
        match key.as_ref() {
            "DNSName" => match value {
                Value::String(s) => options.dns_name = s.trim_matches('"').to_string(),
                _ => return Err("'DNSName' should be a string".into()),
            },
            "CurrentTime" => match value {
                Value::Number(_) => {
                    options.current_time =
                        Some(whole(value).ok_or("'CurrentTime' should be a valid int64 number")?)
                }
                _ => return Err("'CurrentTime' should be a number".into()),
            },
            // Checked as OPA checks it; OPA's engine then verifies with Go's default limit
            // whatever the value (OPA v1.20: even -1 and 1 verify a chain that needs more).
            "MaxConstraintComparisons" => match value {
                Value::Number(_) => {
                    whole(value).ok_or("'MaxConstraintComparisons' should be a valid number")?;
                }
                _ => return Err("'MaxConstraintComparisons' should be a number".into()),
            },
            "KeyUsages" => {
                let names: Vec<&Value> = match value {
                    Value::Array(items) => items.iter().collect(),
                    Value::Set(items) => items.iter().collect(),
                    _ => return Err("'KeyUsages' should be an Array or Set".into()),
                };
                let mut invalid = Vec::new();
                for name in names {
                    let Value::String(name) = name else {
                        continue;
                    };
                    let name = name.trim_matches('"');
                    match KEY_USAGES.iter().find(|(n, _)| *n == name) {
                        Some((_, usage)) => options.key_usages.push(*usage),
                        None => invalid.push(name.to_string()),
                    }
                }
                if !invalid.is_empty() {
                    return Err(format!(
                        "invalid entries for 'KeyUsages' found: [{}]",
                        invalid.join(" ")
                    ));
                }
            }
            _ => return Err("invalid key option".into()),
        }
    }
    Ok(options)
}

/// A number that is a whole int64 (OPA's `Number.Int64()`).
fn whole(value: &Value) -> Option<i64> {
    value.as_i64().ok()
}
