//! Bearer JWTs (`authorization: Bearer <jwt>`), verified with the keys of a JWK set, a PEM
//! public key or certificate, or an HMAC secret.
//!
//! Owns: the identity rules for a token: it must be signed by one of the keys (the signature
//! check is `io.jwt.decode_verify`'s, [`crate::builtins::verify_signatures`], so authzd
//! verifies tokens one way; a key's type decides its algorithm family, so an `HS256` token is
//! never checked against an RSA key's bytes and `none` never verifies), it must expire
//! (`exp`), and `exp`, `nbf` and `iat` are checked with the leeway; then `iss` and `aud`. The
//! claims become the user.

use regorus::Value;

use super::Failure;
use super::secret::Rotating;
use crate::builtins::{Signatures, TokenKeys, verify_signatures};

pub(super) struct JwtVerifier {
    pub(super) keys: Rotating<TokenKeys>,
    pub(super) issuer: Option<String>,
    pub(super) audiences: Vec<String>,
    /// Seconds of clock skew allowed.
    pub(super) leeway: f64,
}

impl JwtVerifier {
    /// The verified claims, or why the token is refused. `header` is the header's value
    /// (`Bearer <jwt>`).
    pub(super) fn verify(&self, header: &str, now: f64) -> Result<Value, Failure> {
        let token = bearer(header).ok_or(Failure::Malformed)?;
        let keys = self.keys.load();
        let payload = match verify_signatures(&Value::from(token), &keys, "") {
            Ok(Signatures::Verified { payload, .. }) => payload,
            Ok(Signatures::Refused) => return Err(Failure::SignatureMismatch),
            Err(_) => return Err(Failure::Malformed),
        };
        let claims: Value = serde_json::from_slice(&payload).map_err(|_| Failure::Malformed)?;
        let Value::Object(fields) = &claims else {
            return Err(Failure::Malformed);
        };
        let time = |name: &str| match fields.get(&Value::from(name)) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_f64()
                .filter(|f| f.is_finite())
                .map(Some)
                .ok_or(Failure::Malformed),
            Some(_) => Err(Failure::Malformed),
        };
        // A token that never expires is not a credential to accept.
        let expires = time("exp")?.ok_or(Failure::Malformed)?;
        if now >= expires + self.leeway {
            return Err(Failure::Expired);
        }
        for not_before in [time("nbf")?, time("iat")?].into_iter().flatten() {
            if not_before > now + self.leeway {
                return Err(Failure::NotYetValid);
            }
        }
        if let Some(issuer) = &self.issuer {
            match fields.get(&Value::from("iss")) {
                Some(Value::String(iss)) if **iss == **issuer => {}
                _ => return Err(Failure::IssuerMismatch),
            }
        }
        if !self.audiences.is_empty() {
            let named = |aud: &Value| matches!(aud, Value::String(a) if self.audiences.iter().any(|want| **a == **want));
            let ok = match fields.get(&Value::from("aud")) {
                Some(Value::Array(items)) => items.iter().any(named),
                Some(aud) => named(aud),
                None => false,
            };
            if !ok {
                return Err(Failure::AudienceMismatch);
            }
        }
        Ok(claims)
    }
}

/// The token of `Bearer <token>` (the scheme is case-insensitive, RFC 7235).
fn bearer(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// The key file of `jwks_path` or `public_key_path`: a JWK set, or a PEM public key or
/// certificate, with at least one key a JWS can be verified with.
pub(super) fn parse_keys(bytes: &[u8]) -> Result<TokenKeys, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())?;
    let keys = TokenKeys::from_cert(text)?;
    if keys.is_empty() {
        return Err("holds no key a JWS can be verified with".to_string());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::identity::testing::{hs256, key_file, sign_with_jwk};

    const NOW: f64 = 1_800_000_000.0;

    fn verifier(keys: TokenKeys) -> JwtVerifier {
        JwtVerifier {
            keys: Rotating::fixed(keys),
            issuer: Some("https://gateway.example.com".into()),
            audiences: vec!["orders".into(), "payments".into()],
            leeway: 30.0,
        }
    }

    fn claims(extra: &str) -> String {
        format!(
            r#"{{"sub": "10001", "iss": "https://gateway.example.com", "aud": "orders", "exp": {}{extra}}}"#,
            NOW + 300.0
        )
    }

    #[test]
    fn signed_tokens_are_the_user() {
        let hs = verifier(TokenKeys::from_secret(b"k"));
        let token = hs256("k", &claims(r#", "roles": ["customer"]"#));
        let user = hs.verify(&format!("Bearer {token}"), NOW).unwrap();
        assert_eq!(user["sub"], Value::from("10001"));
        assert_eq!(user["roles"][0], Value::from("customer"));
        assert!(hs.verify(&format!("bearer  {token} "), NOW).is_ok());

        // Asymmetric keys from a JWK set and from a PEM file.
        let jwks = verifier(parse_keys(key_file("jwks.json").as_bytes()).unwrap());
        let pem = verifier(parse_keys(key_file("ec_public.pem").as_bytes()).unwrap());
        let rs = sign_with_jwk("rsa", r#"{"alg": "RS256", "kid": "rsa-1"}"#, &claims(""));
        assert!(jwks.verify(&format!("Bearer {rs}"), NOW).is_ok());
        let es = sign_with_jwk("ec", r#"{"alg": "ES256"}"#, &claims(""));
        assert!(pem.verify(&format!("Bearer {es}"), NOW).is_ok());
        assert_eq!(
            pem.verify(&format!("Bearer {rs}"), NOW),
            Err(Failure::SignatureMismatch)
        );
    }

    #[test]
    fn times_are_checked_with_the_leeway() {
        let hs = verifier(TokenKeys::from_secret(b"k"));
        let at = |exp: f64, extra: &str| {
            let claims = format!(
                r#"{{"iss": "https://gateway.example.com", "aud": ["x", "payments"], "exp": {exp}{extra}}}"#
            );
            hs.verify(&format!("Bearer {}", hs256("k", &claims)), NOW)
        };
        assert!(at(NOW - 29.0, "").is_ok());
        assert_eq!(at(NOW - 30.0, ""), Err(Failure::Expired));
        assert_eq!(
            at(NOW + 60.0, &format!(r#", "nbf": {}"#, NOW + 31.0)),
            Err(Failure::NotYetValid)
        );
        assert_eq!(
            at(NOW + 60.0, &format!(r#", "iat": {}"#, NOW + 3600.0)),
            Err(Failure::NotYetValid)
        );
        assert!(
            at(
                NOW + 60.0,
                &format!(r#", "nbf": {}, "iat": {NOW}"#, NOW + 29.0)
            )
            .is_ok()
        );
    }

    #[test]
    fn claims_must_match() {
        let hs = verifier(TokenKeys::from_secret(b"k"));
        let verify = |claims: &str| hs.verify(&format!("Bearer {}", hs256("k", claims)), NOW);
        let exp = NOW + 60.0;
        assert_eq!(
            verify(&format!(
                r#"{{"iss": "https://evil.example.com", "aud": "orders", "exp": {exp}}}"#
            )),
            Err(Failure::IssuerMismatch)
        );
        assert_eq!(
            verify(&format!(r#"{{"aud": "orders", "exp": {exp}}}"#)),
            Err(Failure::IssuerMismatch)
        );
        assert_eq!(
            verify(&format!(
                r#"{{"iss": "https://gateway.example.com", "aud": ["inventory"], "exp": {exp}}}"#
            )),
            Err(Failure::AudienceMismatch)
        );
        assert_eq!(
            verify(r#"{"iss": "https://gateway.example.com", "aud": "orders"}"#),
            Err(Failure::Malformed),
            "no exp"
        );
        assert_eq!(
            verify(&format!(
                r#"{{"iss": "https://gateway.example.com", "aud": "orders", "exp": "{exp}"}}"#
            )),
            Err(Failure::Malformed)
        );
    }

    #[test]
    fn forgeries_and_malformed_tokens() {
        let hs = verifier(TokenKeys::from_secret(b"k"));
        let token = hs256("other", &claims(""));
        assert_eq!(
            hs.verify(&format!("Bearer {token}"), NOW),
            Err(Failure::SignatureMismatch),
            "wrong secret"
        );
        let genuine = hs256("k", &claims(""));
        let parts: Vec<&str> = genuine.split('.').collect();
        let forged_claims =
            crate::decide::identity::testing::base64url(&claims("").replace("10001", "30001"));
        let tampered = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
        assert_eq!(
            hs.verify(&format!("Bearer {tampered}"), NOW),
            Err(Failure::SignatureMismatch),
            "payload tampered with, signature kept"
        );
        // alg none.
        let none = format!(
            "{}.{}.",
            crate::decide::identity::testing::base64url(r#"{"alg": "none"}"#),
            crate::decide::identity::testing::base64url(&claims(""))
        );
        assert_eq!(
            hs.verify(&format!("Bearer {none}"), NOW),
            Err(Failure::SignatureMismatch)
        );
        for header in [
            genuine.as_str(),
            "Basic dXNlcjpwYXNz",
            "Bearer ",
            "Bearer a.b",
            "Bearer a b",
        ] {
            assert_eq!(hs.verify(header, NOW), Err(Failure::Malformed), "{header}");
        }
    }

    #[test]
    fn key_files_must_hold_a_usable_key() {
        assert!(parse_keys(b"{\"keys\": []}").is_err());
        assert!(parse_keys(b"not a key").is_err());
        assert!(parse_keys(&[0xff, 0xfe]).is_err());
    }
}
