//! The identity step: before every decision, whatever the API, verify the credentials the
//! request carries and put what was verified into `input.identity`, so that a policy can treat
//! `input.identity` as fact.
//!
//! Owns: what the policy sees (the contract of issue #11):
//! - `input.identity` as the client sent it is always removed first;
//! - with the config file's `identity` section present, `input.identity` is always an object
//!   (of an object input): `user` (a verified user context, else the claims of a verified
//!   JWT), `caller` (`{service, instance}` of a verified service token), `peer` (Envoy's
//!   `source_principal`, the mTLS peer's SPIFFE ID), and `errors` (`[{source, code}]` for each
//!   credential that was present and refused; nothing of it reaches `user` or `caller`);
//! - without the section, nothing is verified and `input.identity` stays absent (the example
//!   bundle's demo mode keys on that: see `policies/lib/identity.rego`);
//! - the configured credential headers are taken out of the input (`input.headers`, or the
//!   HTTP request's headers of an Envoy input), verified or not, so that no token, signature
//!   or secret reaches a policy or the decision log, which records the input as rewritten here;
//! - one `authzd_identity_verifications_total{source, result}` increment per credential present.
//!
//! A credential that is absent is not an error: the policy decides what a missing identity
//! means. An input that is undefined or not an object is left as it is.
//!
//! # Layout
//!
//! - [`user_context`], [`service_token`], [`jwt`]: one verifier each; comparisons of MACs are
//!   constant time.
//! - [`headers`]: where each API carries the headers, and taking them out.
//! - [`secret`]: secrets and keys read at start-up (a missing or unusable file is a start-up
//!   error) and re-read off the request path when their file changes ([`keep_current`]).

mod headers;
mod jwt;
pub mod outcome;
mod secret;
mod service_token;
mod user_context;

pub use outcome::{Failure, Source};

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use regorus::Value;
use tokio::sync::watch;
use tracing::{Instrument as _, debug};

use self::headers::{Header, Site};
use self::jwt::JwtVerifier;
use self::secret::{MacKey, Rotating};
use self::service_token::ServiceTokenVerifier;
use self::user_context::UserContextVerifier;
use super::{BeforeEvaluation, DecisionRequest};
use crate::builtins::TokenKeys;
use crate::config::{IdentitySettings, JwtKeySource, SecretSource};
use crate::metrics::{ApiKind, Metrics};

/// How often secret files are checked for a change (a stat each; rotation needs no restart).
pub const REFRESH_INTERVAL: Duration = Duration::from_secs(1);

/// Why the identity step cannot start.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("{setting} {}: {source}", path.display())]
    Unreadable {
        setting: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{setting} {}: {reason}", path.display())]
    Unusable {
        setting: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{setting}: {reason}")]
    Secret { setting: String, reason: String },
}

/// The step, registered once on the [`super::Decider`].
pub struct IdentityStep {
    /// `None` without an `identity` section: then the step only strips `input.identity`.
    verifiers: Option<Verifiers>,
    metrics: Arc<Metrics>,
    keys: Keys,
}

struct Verifiers {
    /// Every credential header, lowercase; the verifiers below hold their positions.
    names: Vec<String>,
    user_context: Option<(UserContextVerifier, [usize; 3])>,
    service_token: Option<(ServiceTokenVerifier, usize)>,
    jwt: Option<(JwtVerifier, usize)>,
}

/// Object keys, made once.
struct Keys {
    identity: Value,
    user: Value,
    caller: Value,
    peer: Value,
    errors: Value,
    source: Value,
    code: Value,
    source_principal: Value,
    headers: headers::Keys,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            identity: Value::from("identity"),
            user: Value::from("user"),
            caller: Value::from("caller"),
            peer: Value::from("peer"),
            errors: Value::from("errors"),
            source: Value::from("source"),
            code: Value::from("code"),
            source_principal: Value::from("source_principal"),
            headers: headers::Keys::default(),
        }
    }
}

impl IdentityStep {
    /// The step for `settings` (the `identity` section, if any). Secret and key files are
    /// read now: a missing, unreadable or unusable one is an error naming it.
    pub fn new(
        settings: Option<&IdentitySettings>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, IdentityError> {
        let verifiers = settings.map(Verifiers::new).transpose()?;
        Ok(Self {
            verifiers,
            metrics,
            keys: Keys::default(),
        })
    }

    /// True when some secret comes from a file that [`keep_current`] must watch.
    pub fn watches_files(&self) -> bool {
        self.verifiers.as_ref().is_some_and(|v| {
            v.user_context
                .as_ref()
                .is_some_and(|(u, _)| u.secret.is_file())
                || v.service_token
                    .as_ref()
                    .is_some_and(|(s, _)| s.secret.is_file())
                || v.jwt.as_ref().is_some_and(|(j, _)| j.keys.is_file())
        })
    }

    /// Re-reads every secret file that changed since the last look. Blocking (a stat per
    /// file, a read of the changed ones): never on a request thread.
    pub fn refresh(&self) {
        let Some(v) = &self.verifiers else {
            return;
        };
        if let Some((u, _)) = &v.user_context {
            u.secret.refresh();
        }
        if let Some((s, _)) = &v.service_token {
            s.secret.refresh();
        }
        if let Some((j, _)) = &v.jwt {
            j.keys.refresh();
        }
    }

    /// One credential's outcome: counted, and its error (never its value) kept for the input.
    fn outcome(
        &self,
        source: Source,
        result: Result<Value, Failure>,
        errors: &mut Vec<Value>,
    ) -> Option<Value> {
        self.metrics
            .identity_verification(source, result.as_ref().map(|_| ()).map_err(|f| *f));
        match result {
            Ok(value) => {
                // Who, never how: the user's id or the calling service, not the credential.
                debug!(
                    source = source.as_str(),
                    who = %who(&value),
                    "credential verified"
                );
                Some(value)
            }
            Err(failure) => {
                debug!(
                    source = source.as_str(),
                    code = failure.as_str(),
                    "credential refused"
                );
                let mut error = BTreeMap::new();
                error.insert(self.keys.source.clone(), Value::from(source.as_str()));
                error.insert(self.keys.code.clone(), Value::from(failure.as_str()));
                errors.push(Value::from(error));
                None
            }
        }
    }
}

impl Verifiers {
    fn new(settings: &IdentitySettings) -> Result<Self, IdentityError> {
        let mut names = Vec::new();
        let mut slot = |name: &str| {
            names.push(name.to_ascii_lowercase());
            names.len() - 1
        };
        let user_context = match &settings.user_context {
            None => None,
            Some(s) => {
                let slots = [
                    slot(&s.header),
                    slot(&s.timestamp_header),
                    slot(&s.signature_header),
                ];
                let verifier = UserContextVerifier {
                    secret: hmac_secret("identity.user_context.secret_path", &s.secret)?,
                    max_age: s.max_age.as_secs_f64(),
                };
                Some((verifier, slots))
            }
        };
        let service_token = match &settings.service_token {
            None => None,
            Some(s) => {
                let at = slot(&s.header);
                let verifier = ServiceTokenVerifier {
                    secret: hmac_secret("identity.service_token.secret_path", &s.secret)?,
                };
                Some((verifier, at))
            }
        };
        let jwt = match &settings.jwt {
            None => None,
            Some(s) => {
                let at = slot(&s.header);
                let keys = match &s.keys {
                    JwtKeySource::Jwks(path) => {
                        Rotating::from_file("identity.jwt.jwks_path", path, jwt::parse_keys)?
                    }
                    JwtKeySource::PublicKey(path) => {
                        Rotating::from_file("identity.jwt.public_key_path", path, jwt::parse_keys)?
                    }
                    JwtKeySource::Secret(secret) => {
                        Rotating::fixed(TokenKeys::from_secret(secret.0.as_bytes()))
                    }
                };
                let verifier = JwtVerifier {
                    keys,
                    issuer: s.issuer.clone(),
                    audiences: s.audiences.clone(),
                    leeway: s.leeway.as_secs_f64(),
                };
                Some((verifier, at))
            }
        };
        Ok(Self {
            names,
            user_context,
            service_token,
            jwt,
        })
    }
}

fn hmac_secret(setting: &str, source: &SecretSource) -> Result<Rotating<MacKey>, IdentityError> {
    match source {
        SecretSource::File(path) => Rotating::from_file(setting, path, secret::hmac_secret),
        SecretSource::Inline(secret) => MacKey::new(secret.0.as_bytes())
            .map(Rotating::fixed)
            .map_err(|reason| IdentityError::Secret {
                setting: setting.replace("secret_path", "secret"),
                reason,
            }),
    }
}

impl BeforeEvaluation for IdentityStep {
    fn before(&self, request: &mut DecisionRequest<'_>) {
        let Value::Object(fields) = &request.input else {
            return;
        };
        let Some(verifiers) = &self.verifiers else {
            if fields.contains_key(&self.keys.identity)
                && let Ok(fields) = request.input.as_object_mut()
            {
                fields.remove(&self.keys.identity);
            }
            return;
        };
        let site = match request.api {
            ApiKind::Envoy => Site::Envoy,
            ApiKind::Http | ApiKind::Grpc | ApiKind::Cli => Site::Input,
        };
        let found = headers::take(
            &mut request.input,
            site,
            &verifiers.names,
            &self.keys.headers,
        );
        let header = |at: usize| found.get(at).unwrap_or(&Header::Absent);
        let now = unix_now();
        let mut errors = Vec::new();
        let mut user = None;
        let mut caller = None;

        if let Some((verifier, [context, timestamp, signature])) = &verifiers.user_context {
            let parts = [header(*context), header(*timestamp), header(*signature)];
            if parts.iter().any(|h| h.is_present()) {
                let result = match parts.map(Header::text) {
                    [Some(c), Some(t), Some(s)] => verifier.verify(c, t, s, now),
                    _ => Err(Failure::Malformed),
                };
                user = self.outcome(Source::UserContext, result, &mut errors);
            }
        }
        if let Some((verifier, at)) = &verifiers.jwt
            && let Some(result) = token(header(*at), |t| verifier.verify(t, now))
        {
            // A verified user context is the gateway's own statement and comes first.
            let claims = self.outcome(Source::Jwt, result, &mut errors);
            user = user.or(claims);
        }
        if let Some((verifier, at)) = &verifiers.service_token
            && let Some(result) = token(header(*at), |t| verifier.verify(t, now))
        {
            caller = self.outcome(Source::ServiceToken, result, &mut errors);
        }

        let mut identity = BTreeMap::new();
        if let Some(user) = user {
            identity.insert(self.keys.user.clone(), user);
        }
        if let Some(caller) = caller {
            identity.insert(self.keys.caller.clone(), caller);
        }
        if site == Site::Envoy
            && let Value::Object(fields) = &request.input
            && let Some(principal @ Value::String(_)) = fields.get(&self.keys.source_principal)
        {
            identity.insert(self.keys.peer.clone(), principal.clone());
        }
        if !errors.is_empty() {
            identity.insert(self.keys.errors.clone(), Value::from(errors));
        }
        if let Ok(fields) = request.input.as_object_mut() {
            fields.insert(self.keys.identity.clone(), Value::from(identity));
        }
    }
}

/// The id a verified credential names, for a log line: a user's `id` (or a JWT's `sub`), a
/// caller's `service`.
fn who(value: &Value) -> &str {
    let Value::Object(fields) = value else {
        return "";
    };
    ["id", "sub", "service"]
        .iter()
        .find_map(|key| match fields.get(&Value::from(*key)) {
            Some(Value::String(s)) => Some(&**s),
            _ => None,
        })
        .unwrap_or("")
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Hex (either case) as bytes; `None` for anything else.
fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().as_bytes();
    if text.is_empty() || !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let digit = |b: u8| char::from(b).to_digit(16);
            match pair {
                [hi, lo] => Some((digit(*hi)? * 16 + digit(*lo)?) as u8),
                _ => None,
            }
        })
        .collect()
}

/// Keeps the secret files current until `stop` turns true: every [`REFRESH_INTERVAL`], a stat
/// of each file on the blocking pool, and a read of those that changed.
pub async fn keep_current(step: Arc<IdentityStep>, mut stop: watch::Receiver<bool>) {
    let task = async move {
        let mut interval = tokio::time::interval(REFRESH_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    let step = step.clone();
                    let _ = tokio::task::spawn_blocking(move || step.refresh()).await;
                }
                () = crate::shutdown::stopped(&mut stop) => return,
            }
        }
    };
    task.instrument(tracing::info_span!("identity_secrets"))
        .await;
}

/// What `verify` makes of a one-header credential (a token), when the request carries one.
fn token<T>(
    header: &Header,
    verify: impl FnOnce(&str) -> Result<T, Failure>,
) -> Option<Result<T, Failure>> {
    header
        .is_present()
        .then(|| header.text().ok_or(Failure::Malformed).and_then(verify))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Signing what the verifiers check, for tests.

    use base64::Engine as _;
    use hmac::{Hmac, Mac as _};
    use regorus::Value;
    use sha2::Sha256;

    pub(crate) fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    pub(crate) fn hex_hmac(secret: &str, message: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    pub(crate) fn base64url(text: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// `<base64(claims)>.<hex hmac>`.
    pub(crate) fn service_token(secret: &str, claims: &str) -> String {
        let payload = base64::engine::general_purpose::STANDARD.encode(claims);
        let signature = hex_hmac(secret, &payload);
        format!("{payload}.{signature}")
    }

    pub(crate) fn key_file(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/keys/{name}", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
    }

    fn encode_sign_raw(header: &str, claims: &str, jwk: &str) -> String {
        let builtin = crate::builtins::all()
            .find(|b| b.name == "io.jwt.encode_sign_raw")
            .unwrap();
        match (builtin.eval)(vec![
            Value::from(header),
            Value::from(claims),
            Value::from(jwk),
        ])
        .unwrap()
        {
            Value::String(token) => token.to_string(),
            other => panic!("{other}"),
        }
    }

    pub(crate) fn hs256(secret: &str, claims: &str) -> String {
        let jwk = format!(r#"{{"kty": "oct", "k": "{}"}}"#, base64url(secret));
        encode_sign_raw(r#"{"alg": "HS256", "typ": "JWT"}"#, claims, &jwk)
    }

    /// Signed with the private JWK `name` of `tests/keys/private_jwks.json`.
    pub(crate) fn sign_with_jwk(name: &str, header: &str, claims: &str) -> String {
        let keys: serde_json::Value = serde_json::from_str(&key_file("private_jwks.json")).unwrap();
        encode_sign_raw(header, claims, &keys[name].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::config::{Secret, ServiceTokenSettings, UserContextSettings};
    use crate::policy::DataPath;

    fn settings() -> IdentitySettings {
        IdentitySettings {
            user_context: Some(UserContextSettings {
                header: "x-user-context".into(),
                timestamp_header: "x-user-context-timestamp".into(),
                signature_header: "x-user-context-signature".into(),
                secret: SecretSource::Inline(Secret("gateway-secret".into())),
                max_age: Duration::from_secs(300),
            }),
            service_token: Some(ServiceTokenSettings {
                header: "x-service-auth".into(),
                secret: SecretSource::Inline(Secret("service-secret".into())),
            }),
            jwt: None,
        }
    }

    fn step(settings: Option<&IdentitySettings>) -> IdentityStep {
        IdentityStep::new(settings, Metrics::new()).unwrap()
    }

    fn run(step: &IdentityStep, api: ApiKind, input: Value) -> Value {
        let mut request = DecisionRequest::new(api, DataPath::Url("x"), input);
        step.before(&mut request);
        request.input
    }

    fn now() -> u64 {
        unix_now() as u64
    }

    fn user_context_headers(secret: &str, context: &str, at: u64) -> serde_json::Value {
        serde_json::json!({
            "x-user-context": context,
            "X-User-Context-Timestamp": at.to_string(),
            "x-user-context-signature": [hex_hmac(secret, &format!("{at}.{context}"))],
            "accept": "application/json",
        })
    }

    fn input(headers: serde_json::Value) -> Value {
        v(&serde_json::json!({
            "headers": headers,
            "identity": {"user": {"id": "30001", "roles": ["admin"]}, "caller": {"service": "order-service"}},
            "action": "view",
        })
        .to_string())
    }

    #[test]
    fn without_a_section_the_client_identity_is_only_removed() {
        let got = run(
            &step(None),
            ApiKind::Http,
            input(serde_json::json!({"x-user-context": "{}"})),
        );
        assert_eq!(
            got,
            v(r#"{"headers": {"x-user-context": "{}"}, "action": "view"}"#)
        );
        for untouched in ["[1]", "\"x\""] {
            assert_eq!(run(&step(None), ApiKind::Http, v(untouched)), v(untouched));
        }
        assert_eq!(
            run(&step(None), ApiKind::Http, Value::Undefined),
            Value::Undefined
        );
    }

    #[test]
    fn verified_credentials_replace_the_client_identity() {
        let step = step(Some(&settings()));
        let mut headers = user_context_headers("gateway-secret", r#"{"id": "10001"}"#, now());
        headers["x-service-auth"] = serde_json::Value::String(service_token(
            "service-secret",
            &format!(
                r#"{{"service": "order-service", "instance": "o-1", "issuedAt": {}, "expiresAt": {}}}"#,
                now(),
                now() + 60
            ),
        ));
        let got = run(&step, ApiKind::Grpc, input(headers));
        assert_eq!(
            got,
            v(
                r#"{"headers": {"accept": "application/json"}, "action": "view",
                  "identity": {"user": {"id": "10001"}, "caller": {"service": "order-service", "instance": "o-1"}}}"#
            )
        );
    }

    #[test]
    fn refused_credentials_are_errors_and_never_identity() {
        let step = step(Some(&settings()));
        let mut headers = user_context_headers("not-the-secret", r#"{"id": "30001"}"#, now());
        headers["x-service-auth"] = serde_json::Value::String("garbage".into());
        let got = run(&step, ApiKind::Http, input(headers));
        assert_eq!(
            got,
            v(
                r#"{"headers": {"accept": "application/json"}, "action": "view",
                  "identity": {"errors": [{"source": "user_context", "code": "signature_mismatch"},
                                          {"source": "service_token", "code": "malformed"}]}}"#
            )
        );
        // A context without its signature is malformed, not missing.
        let got = run(
            &step,
            ApiKind::Http,
            input(serde_json::json!({"x-user-context": r#"{"id": "1"}"#})),
        );
        assert_eq!(
            got,
            v(
                r#"{"headers": {}, "action": "view", "identity": {"errors": [{"source": "user_context", "code": "malformed"}]}}"#
            )
        );
    }

    #[test]
    fn missing_credentials_leave_an_empty_identity() {
        let step = step(Some(&settings()));
        let got = run(
            &step,
            ApiKind::Http,
            input(serde_json::json!({"accept": "*/*"})),
        );
        assert_eq!(
            got,
            v(r#"{"headers": {"accept": "*/*"}, "action": "view", "identity": {}}"#)
        );
        let got = run(&step, ApiKind::Http, v(r#"{"action": "view"}"#));
        assert_eq!(got, v(r#"{"action": "view", "identity": {}}"#));
    }

    #[test]
    fn envoy_reads_the_http_headers_and_exposes_the_peer() {
        let step = step(Some(&settings()));
        let context = r#"{"id": "10001"}"#;
        let at = now();
        let input = v(&serde_json::json!({
            "attributes": {"request": {"http": {"headers": {
                "x-user-context": context,
                "x-user-context-timestamp": at.to_string(),
                "x-user-context-signature": hex_hmac("gateway-secret", &format!("{at}.{context}")),
                ":path": "/orders/42",
            }}}},
            "source_principal": "spiffe://cluster.local/ns/shop/sa/orders",
            "headers": {"x-service-auth": "ignored: Envoy's credentials are the HTTP request's"},
        })
        .to_string());
        let got = run(&step, ApiKind::Envoy, input);
        assert_eq!(
            got,
            v(
                r#"{"attributes": {"request": {"http": {"headers": {":path": "/orders/42"}}}},
                  "source_principal": "spiffe://cluster.local/ns/shop/sa/orders",
                  "headers": {"x-service-auth": "ignored: Envoy's credentials are the HTTP request's"},
                  "identity": {"user": {"id": "10001"}, "peer": "spiffe://cluster.local/ns/shop/sa/orders"}}"#
            )
        );
    }

    #[test]
    fn a_user_context_comes_before_a_jwt() {
        let mut settings = settings();
        settings.jwt = Some(crate::config::JwtSettings {
            header: "authorization".into(),
            issuer: None,
            audiences: Vec::new(),
            keys: JwtKeySource::Secret(Secret("jwt-secret".into())),
            leeway: Duration::from_secs(30),
        });
        let step = step(Some(&settings));
        let jwt = hs256(
            "jwt-secret",
            &format!(r#"{{"sub": "jwt-user", "exp": {}}}"#, now() + 60),
        );
        let only_jwt = run(
            &step,
            ApiKind::Http,
            input(serde_json::json!({"Authorization": format!("Bearer {jwt}")})),
        );
        assert_eq!(only_jwt["identity"]["user"]["sub"], Value::from("jwt-user"));
        let mut headers = user_context_headers("gateway-secret", r#"{"id": "10001"}"#, now());
        headers["authorization"] = serde_json::Value::String(format!("Bearer {jwt}"));
        let both = run(&step, ApiKind::Http, input(headers));
        assert_eq!(both["identity"], v(r#"{"user": {"id": "10001"}}"#));
        assert_eq!(both["headers"], v(r#"{"accept": "application/json"}"#));
    }

    #[test]
    fn hex() {
        assert_eq!(hex_decode("00fF10"), Some(vec![0, 255, 16]));
        assert_eq!(hex_decode("0"), None);
        assert_eq!(hex_decode("0g"), None);
        assert_eq!(hex_decode(""), None);
    }
}
