//! The gateway's signed user context: a JSON object in one header (exactly as signed), the
//! unix time it was signed at in a second, and `hex(HMAC-SHA256(secret, "<timestamp>.<context>"))`
//! in a third.
//!
//! Owns: checking one context: the signature (constant time) before anything else is read,
//! then the timestamp (`|now - timestamp| <= max_age`, so a context signed for the future is
//! refused too), then that the context is a JSON object. Where the headers come from is
//! [`super::headers`]'s; the secret's rotation [`super::secret`]'s.

use hmac::Mac as _;
use regorus::Value;

use super::secret::{MacKey, Rotating};
use super::{Failure, hex_decode};

pub(super) struct UserContextVerifier {
    pub(super) secret: Rotating<MacKey>,
    /// Seconds the timestamp may be away from now, either way.
    pub(super) max_age: f64,
}

impl UserContextVerifier {
    /// The verified context object, or why it is refused. `now` is unix seconds.
    pub(super) fn verify(
        &self,
        context: &str,
        timestamp: &str,
        signature: &str,
        now: f64,
    ) -> Result<Value, Failure> {
        let signed_at = unix_seconds(timestamp).ok_or(Failure::Malformed)?;
        let signature = hex_decode(signature).ok_or(Failure::Malformed)?;
        let mut mac = self.secret.load().mac();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(context.as_bytes());
        // verify_slice compares in constant time.
        mac.verify_slice(&signature)
            .map_err(|_| Failure::SignatureMismatch)?;
        if signed_at + self.max_age < now {
            return Err(Failure::Expired);
        }
        if signed_at > now + self.max_age {
            return Err(Failure::NotYetValid);
        }
        match Value::from_json_str(context) {
            Ok(user @ Value::Object(_)) => Ok(user),
            _ => Err(Failure::Malformed),
        }
    }
}

/// Decimal unix seconds, digits only (what the gateway signed is the header's text).
fn unix_seconds(text: &str) -> Option<f64> {
    if text.is_empty() || text.len() > 12 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>().ok().map(|s| s as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::identity::testing::{hex_hmac, v};

    const NOW: f64 = 1_800_000_000.0;

    fn verifier(secret: &str) -> UserContextVerifier {
        UserContextVerifier {
            secret: Rotating::fixed(MacKey::new(secret.as_bytes()).unwrap()),
            max_age: 300.0,
        }
    }

    fn signed(secret: &str, context: &str, at: f64) -> (String, String) {
        let ts = format!("{}", at as u64);
        let sig = hex_hmac(secret, &format!("{ts}.{context}"));
        (ts, sig)
    }

    const CONTEXT: &str = r#"{"id": "10001", "roles": ["customer"]}"#;

    #[test]
    fn a_signed_context_is_the_user() {
        let (ts, sig) = signed("k", CONTEXT, NOW - 10.0);
        assert_eq!(
            verifier("k").verify(CONTEXT, &ts, &sig, NOW),
            Ok(v(CONTEXT))
        );
        // Hex is case-insensitive.
        let upper = sig.to_ascii_uppercase();
        assert!(verifier("k").verify(CONTEXT, &ts, &upper, NOW).is_ok());
    }

    #[test]
    fn stale_and_future_timestamps_are_refused() {
        let (ts, sig) = signed("k", CONTEXT, NOW - 301.0);
        assert_eq!(
            verifier("k").verify(CONTEXT, &ts, &sig, NOW),
            Err(Failure::Expired)
        );
        let (ts, sig) = signed("k", CONTEXT, NOW - 300.0);
        assert!(verifier("k").verify(CONTEXT, &ts, &sig, NOW).is_ok());
        let (ts, sig) = signed("k", CONTEXT, NOW + 301.0);
        assert_eq!(
            verifier("k").verify(CONTEXT, &ts, &sig, NOW),
            Err(Failure::NotYetValid)
        );
        let (ts, sig) = signed("k", CONTEXT, NOW + 60.0);
        assert!(verifier("k").verify(CONTEXT, &ts, &sig, NOW).is_ok());
    }

    #[test]
    fn forgeries_are_signature_mismatches() {
        let (ts, sig) = signed("other", CONTEXT, NOW);
        assert_eq!(
            verifier("k").verify(CONTEXT, &ts, &sig, NOW),
            Err(Failure::SignatureMismatch),
            "wrong secret"
        );
        let (ts, sig) = signed("k", CONTEXT, NOW);
        let tampered = CONTEXT.replace("10001", "30001");
        assert_eq!(
            verifier("k").verify(&tampered, &ts, &sig, NOW),
            Err(Failure::SignatureMismatch),
            "payload tampered with, signature kept"
        );
        let later = format!("{}", NOW as u64 + 1);
        assert_eq!(
            verifier("k").verify(CONTEXT, &later, &sig, NOW),
            Err(Failure::SignatureMismatch),
            "timestamp tampered with"
        );
        assert_eq!(
            verifier("k").verify(CONTEXT, &ts, &sig[..62], NOW),
            Err(Failure::SignatureMismatch),
            "truncated signature"
        );
    }

    #[test]
    fn malformed_parts() {
        let (ts, sig) = signed("k", CONTEXT, NOW);
        let verify = |c: &str, t: &str, s: &str| verifier("k").verify(c, t, s, NOW);
        assert_eq!(verify(CONTEXT, "soon", &sig), Err(Failure::Malformed));
        assert_eq!(verify(CONTEXT, "-1", &sig), Err(Failure::Malformed));
        assert_eq!(verify(CONTEXT, "", &sig), Err(Failure::Malformed));
        assert_eq!(verify(CONTEXT, &ts, "zz"), Err(Failure::Malformed));
        // Signed, but not a JSON object.
        for context in ["[1]", "not json", r#""10001""#] {
            let (ts, sig) = signed("k", context, NOW);
            assert_eq!(
                verify(context, &ts, &sig),
                Err(Failure::Malformed),
                "{context}"
            );
        }
    }
}
