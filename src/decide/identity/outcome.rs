//! What one verification can come to: the kinds of credential and the reasons one is refused,
//! as `input.identity.errors` and the verification metric name them. Apart from the verifiers
//! so that the metrics can label by them without importing the identity step.

/// A kind of credential (`source` in `input.identity.errors` and in the metric).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    UserContext,
    ServiceToken,
    Jwt,
}

impl Source {
    pub const ALL: [Source; 3] = [Source::UserContext, Source::ServiceToken, Source::Jwt];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserContext => "user_context",
            Self::ServiceToken => "service_token",
            Self::Jwt => "jwt",
        }
    }
}

/// Why a credential that was present is refused (`code` in `input.identity.errors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Not what the credential's format says: a missing part, bad encoding, a wrong type, a
    /// header given twice, a JWT without `exp`.
    Malformed,
    /// Not signed with the configured secret or keys (forged, tampered with, or a wrong key).
    SignatureMismatch,
    /// Older than allowed: past `expiresAt` or `exp`, or signed more than `max_age` ago.
    Expired,
    /// Signed for the future: a timestamp more than `max_age` ahead, an `issuedAt` or `iat`
    /// ahead of the clock skew allowed, or before `nbf`.
    NotYetValid,
    /// A JWT from another issuer.
    IssuerMismatch,
    /// A JWT for another audience.
    AudienceMismatch,
}

impl Failure {
    pub const ALL: [Failure; 6] = [
        Failure::Malformed,
        Failure::SignatureMismatch,
        Failure::Expired,
        Failure::NotYetValid,
        Failure::IssuerMismatch,
        Failure::AudienceMismatch,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::SignatureMismatch => "signature_mismatch",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::AudienceMismatch => "audience_mismatch",
        }
    }
}
