//! Internal callers' service tokens: `<base64(JSON)>.<hex(HMAC-SHA256(secret, base64 part))>`,
//! the JSON being `{"service", "instance", "issuedAt", "expiresAt"}` (unix seconds).
//!
//! Owns: checking one token: the signature over the base64 text as sent (constant time)
//! before the payload is decoded, then the payload's shape, then its validity window. The
//! caller it yields is `{"service", "instance"}`; the token's times stay out of the input.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::Mac as _;
use regorus::Value;

use super::secret::{MacKey, Rotating};
use super::{Failure, hex_decode};

/// How far in the future `issuedAt` may be: the clocks of two pods differ a little.
pub(super) const CLOCK_SKEW_SECONDS: f64 = 30.0;

/// The MAC covers the base64 text, so reading it leniently (either alphabet, padded or not)
/// accepts nothing that was not signed.
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

pub(super) struct ServiceTokenVerifier {
    pub(super) secret: Rotating<MacKey>,
}

impl ServiceTokenVerifier {
    /// The verified caller `{"service", "instance"}`, or why the token is refused.
    pub(super) fn verify(&self, token: &str, now: f64) -> Result<Value, Failure> {
        let (payload, signature) = token.trim().split_once('.').ok_or(Failure::Malformed)?;
        let signature = hex_decode(signature).ok_or(Failure::Malformed)?;
        if payload.is_empty() {
            return Err(Failure::Malformed);
        }
        let mut mac = self.secret.load().mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| Failure::SignatureMismatch)?;

        let json = STANDARD
            .decode(payload)
            .or_else(|_| URL_SAFE.decode(payload))
            .map_err(|_| Failure::Malformed)?;
        let claims: serde_json::Value =
            serde_json::from_slice(&json).map_err(|_| Failure::Malformed)?;
        let service = match claims.get("service") {
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.as_str(),
            _ => return Err(Failure::Malformed),
        };
        let instance = match claims.get("instance") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(Failure::Malformed),
        };
        let seconds = |name: &str| {
            claims
                .get(name)
                .and_then(serde_json::Value::as_f64)
                .filter(|s| s.is_finite())
                .ok_or(Failure::Malformed)
        };
        let issued_at = seconds("issuedAt")?;
        let expires_at = seconds("expiresAt")?;
        if expires_at < issued_at {
            return Err(Failure::Malformed);
        }
        if now >= expires_at {
            return Err(Failure::Expired);
        }
        if issued_at > now + CLOCK_SKEW_SECONDS {
            return Err(Failure::NotYetValid);
        }
        let mut caller = std::collections::BTreeMap::new();
        caller.insert(Value::from("service"), Value::from(service));
        if let Some(instance) = instance {
            caller.insert(Value::from("instance"), Value::from(instance));
        }
        Ok(Value::from(caller))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::identity::testing::{hex_hmac, service_token, v};

    const NOW: f64 = 1_800_000_000.0;

    fn verifier(secret: &str) -> ServiceTokenVerifier {
        ServiceTokenVerifier {
            secret: Rotating::fixed(MacKey::new(secret.as_bytes()).unwrap()),
        }
    }

    fn claims(issued: f64, expires: f64) -> String {
        format!(
            r#"{{"service": "order-service", "instance": "order-7d9f", "issuedAt": {issued}, "expiresAt": {expires}}}"#
        )
    }

    #[test]
    fn a_signed_token_is_the_caller() {
        let token = service_token("k", &claims(NOW - 60.0, NOW + 240.0));
        assert_eq!(
            verifier("k").verify(&token, NOW),
            Ok(v(
                r#"{"service": "order-service", "instance": "order-7d9f"}"#
            ))
        );
        let no_instance = service_token(
            "k",
            &format!(
                r#"{{"service": "a", "issuedAt": {NOW}, "expiresAt": {}}}"#,
                NOW + 1.0
            ),
        );
        assert_eq!(
            verifier("k").verify(&no_instance, NOW),
            Ok(v(r#"{"service": "a"}"#))
        );
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let expired = service_token("k", &claims(NOW - 600.0, NOW));
        assert_eq!(verifier("k").verify(&expired, NOW), Err(Failure::Expired));
        let future = service_token("k", &claims(NOW + 31.0, NOW + 600.0));
        assert_eq!(
            verifier("k").verify(&future, NOW),
            Err(Failure::NotYetValid)
        );
        let skewed = service_token("k", &claims(NOW + 29.0, NOW + 600.0));
        assert!(verifier("k").verify(&skewed, NOW).is_ok());
    }

    #[test]
    fn forgeries_are_signature_mismatches() {
        let token = service_token("other", &claims(NOW, NOW + 60.0));
        assert_eq!(
            verifier("k").verify(&token, NOW),
            Err(Failure::SignatureMismatch),
            "wrong secret"
        );
        let genuine = service_token("k", &claims(NOW, NOW + 60.0));
        let (_, signature) = genuine.split_once('.').unwrap();
        let forged =
            STANDARD.encode(claims(NOW, NOW + 60.0).replace("order-service", "payment-admin"));
        assert_eq!(
            verifier("k").verify(&format!("{forged}.{signature}"), NOW),
            Err(Failure::SignatureMismatch),
            "payload tampered with, signature kept"
        );
    }

    #[test]
    fn malformed_tokens() {
        let verify = |token: &str| verifier("k").verify(token, NOW);
        for token in ["", "no-dot", ".abcd", "e30.nothex"] {
            assert_eq!(verify(token), Err(Failure::Malformed), "{token:?}");
        }
        // Signed, but not what a service token holds.
        for payload in [
            "not base64!".to_string(),
            STANDARD.encode("[1]"),
            STANDARD.encode(r#"{"service": "", "issuedAt": 1, "expiresAt": 2}"#),
            STANDARD.encode(r#"{"service": "a", "issuedAt": "1", "expiresAt": 2}"#),
            STANDARD.encode(r#"{"service": "a", "instance": 7, "issuedAt": 1, "expiresAt": 2}"#),
            STANDARD.encode(format!(
                r#"{{"service": "a", "issuedAt": {}, "expiresAt": {NOW}}}"#,
                NOW + 10.0
            )),
        ] {
            let token = format!("{payload}.{}", hex_hmac("k", &payload));
            assert_eq!(verify(&token), Err(Failure::Malformed), "{payload}");
        }
    }
}
