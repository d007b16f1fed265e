//! Signed bundles in OPA's format: `.signatures.json` holding one JWT whose `files` claim lists
//! every file with its digest.
//!
//! Owns: verification (key lookup, JWT signature, scope, every file present, listed and
//! matching, nothing extra) and signing (for `authzd build --signing-key` and tests). Messages
//! follow OPA's so its documentation applies.

use std::collections::{BTreeMap, HashMap};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use super::BundleError;
use super::canonical::{canonical_json, canonical_value};
use super::files::{BundleFiles, SIGNATURES_FILE};

/// A key that may sign bundles.
#[derive(Clone)]
pub struct VerificationKey {
    pub algorithm: Algorithm,
    key: DecodingKey,
    /// The scope this key signs for, unless the bundle's config names one.
    pub scope: Option<String>,
}

impl std::fmt::Debug for VerificationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationKey")
            .field("algorithm", &self.algorithm)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl VerificationKey {
    /// `material` is a PEM public key (or certificate) for RS*, PS*, ES* and EdDSA, or the shared
    /// secret for HS*.
    pub fn new(
        algorithm: &str,
        material: &[u8],
        scope: Option<String>,
    ) -> Result<Self, BundleError> {
        let algorithm: Algorithm = algorithm
            .parse()
            .map_err(|_| signature_error(format!("unknown signature algorithm: {algorithm}")))?;
        let key = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                DecodingKey::from_secret(material)
            }
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => DecodingKey::from_rsa_pem(material)
                .map_err(|e| signature_error(format!("invalid RSA public key: {e}")))?,
            Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(material)
                .map_err(|e| signature_error(format!("invalid EC public key: {e}")))?,
            Algorithm::EdDSA => DecodingKey::from_ed_pem(material)
                .map_err(|e| signature_error(format!("invalid Ed25519 public key: {e}")))?,
            other => {
                return Err(signature_error(format!(
                    "unsupported signature algorithm: {other:?}"
                )));
            }
        };
        Ok(Self {
            algorithm,
            key,
            scope,
        })
    }
}

/// How one bundle must be signed.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// The key to use; when unset, the JWT's `kid` header (or its deprecated `keyid` claim).
    pub key_id: Option<String>,
    /// The scope the JWT must carry; when unset, the key's scope.
    pub scope: Option<String>,
    /// Glob patterns of files the signature need not cover.
    pub exclude_files: Vec<String>,
}

#[derive(Deserialize)]
struct SignaturesFile {
    #[serde(default)]
    signatures: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct SignedFile {
    name: String,
    hash: String,
    algorithm: String,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    files: Vec<SignedFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    keyid: Option<String>,
}

fn signature_error(message: String) -> BundleError {
    BundleError::Signature { message }
}

/// Checks that `files` carry a valid signature by one of `keys`: the JWT in
/// `.signatures.json` verifies, and it lists exactly the bundle's files with their digests.
pub fn verify(
    files: &BundleFiles,
    keys: &HashMap<String, VerificationKey>,
    verification: &Verification,
) -> Result<(), BundleError> {
    verify_signer(files, keys, verification).map(|_| ())
}

/// [`verify`], returning the id of the key that signed.
pub fn verify_signer(
    files: &BundleFiles,
    keys: &HashMap<String, VerificationKey>,
    verification: &Verification,
) -> Result<String, BundleError> {
    let (key_id, claims) = verified_claims(files, keys, verification)?;
    check_files(files, claims, verification)?;
    Ok(key_id)
}

/// What a bundle's signature says about itself, read without verifying it (for
/// `authzd inspect`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureClaims {
    pub key_id: Option<String>,
    pub algorithm: String,
    pub scope: Option<String>,
    /// Files the signature lists.
    pub files: usize,
}

/// The claims of `.signatures.json`, unverified; `None` for an unsigned bundle.
pub fn unverified_claims(files: &BundleFiles) -> Result<Option<SignatureClaims>, BundleError> {
    if !files.files.contains_key(SIGNATURES_FILE) {
        return Ok(None);
    }
    let token = signature_token(files)?;
    let header = jsonwebtoken::decode_header(&token)
        .map_err(|e| signature_error(format!("invalid JWT in .signatures.json: {e}")))?;
    let claims = jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(&token)
        .map_err(|e| signature_error(format!("invalid JWT claims in .signatures.json: {e}")))?;
    Ok(Some(SignatureClaims {
        key_id: header.kid.or(claims.keyid),
        algorithm: format!("{:?}", header.alg),
        scope: claims.scope,
        files: claims.files.len(),
    }))
}

/// The one JWT of `.signatures.json`.
fn signature_token(files: &BundleFiles) -> Result<String, BundleError> {
    let Some(raw) = files.files.get(SIGNATURES_FILE) else {
        return Err(signature_error(
            "bundle missing .signatures.json file".into(),
        ));
    };
    let parsed: SignaturesFile = serde_json::from_slice(raw)
        .map_err(|e| signature_error(format!("bundle load failed on signatures decode: {e}")))?;
    let token = match parsed.signatures.as_slice() {
        [] => {
            return Err(signature_error(
                ".signatures.json: missing JWT (expected exactly one)".into(),
            ));
        }
        [one] => one,
        _ => {
            return Err(signature_error(
                ".signatures.json: multiple JWTs not supported (expected exactly one)".into(),
            ));
        }
    };
    Ok(token.clone())
}

/// The claims of the bundle's one signature JWT, verified with the key it names, and that
/// key's id.
fn verified_claims(
    files: &BundleFiles,
    keys: &HashMap<String, VerificationKey>,
    verification: &Verification,
) -> Result<(String, Claims), BundleError> {
    let token = signature_token(files)?;
    let token = token.as_str();
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| signature_error(format!("invalid JWT in .signatures.json: {e}")))?;
    let key_id = verification
        .key_id
        .clone()
        .or(header.kid)
        .or_else(|| unverified_keyid(token))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| signature_error("verification key ID is empty".into()))?;
    let key = keys.get(&key_id).ok_or_else(|| {
        signature_error(format!(
            "verification key corresponding to ID {key_id} not found"
        ))
    })?;
    let mut validation = Validation::new(key.algorithm);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
        .map_err(|e| signature_error(format!("failed to verify the bundle signature: {e}")))?
        .claims;
    let want_scope = verification
        .scope
        .clone()
        .or_else(|| key.scope.clone())
        .unwrap_or_default();
    if claims.scope.as_deref().unwrap_or_default() != want_scope {
        return Err(signature_error("scope mismatch".into()));
    }
    Ok((key_id, claims))
}

/// Every file but the excluded ones is listed with a matching digest, and nothing else is.
fn check_files(
    files: &BundleFiles,
    claims: Claims,
    verification: &Verification,
) -> Result<(), BundleError> {
    let mut listed: BTreeMap<String, SignedFile> = claims
        .files
        .into_iter()
        .map(|f| (f.name.trim_start_matches('/').to_string(), f))
        .collect();
    for (name, content) in &files.files {
        if name == SIGNATURES_FILE {
            continue;
        }
        let excluded = verification
            .exclude_files
            .iter()
            .any(|g| glob_match(g, name));
        let entry = listed.remove(name);
        if excluded {
            continue;
        }
        let Some(entry) = entry else {
            return Err(signature_error(format!(
                "file {name} not included in bundle signature"
            )));
        };
        let got = digest(name, content, &entry.algorithm)?;
        if !got.eq_ignore_ascii_case(&entry.hash) {
            return Err(signature_error(format!(
                "{name}: digest mismatch (want: {}, got: {got})",
                entry.hash
            )));
        }
    }
    if !listed.is_empty() {
        let names: Vec<&str> = listed.keys().map(String::as_str).collect();
        return Err(signature_error(format!(
            "file(s) {names:?} specified in bundle signatures but not found in the target bundle"
        )));
    }
    Ok(())
}

/// The deprecated `keyid` claim, read before the signature is checked only to pick the key.
fn unverified_keyid(token: &str) -> Option<String> {
    jsonwebtoken::dangerous::insecure_decode_claims::<Claims>(token)
        .ok()?
        .keyid
}

/// Signs every file of `files` (but the signatures file) and returns `.signatures.json`.
pub fn sign(
    files: &BundleFiles,
    key: &EncodingKey,
    algorithm: Algorithm,
    key_id: Option<&str>,
    scope: Option<&str>,
) -> Result<Vec<u8>, BundleError> {
    let mut signed = Vec::new();
    for (name, content) in &files.files {
        if name != SIGNATURES_FILE {
            signed.push(SignedFile {
                name: name.clone(),
                hash: digest(name, content, "SHA-256")?,
                algorithm: "SHA-256".into(),
            });
        }
    }
    let claims = Claims {
        files: signed,
        scope: scope.map(str::to_string),
        keyid: None,
    };
    let mut header = Header::new(algorithm);
    header.kid = key_id.map(str::to_string);
    let token = jsonwebtoken::encode(&header, &claims, key)
        .map_err(|e| signature_error(format!("cannot sign the bundle: {e}")))?;
    let mut out = serde_json::to_vec_pretty(&serde_json::json!({ "signatures": [token] }))
        .map_err(|e| signature_error(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// The hex digest of one file: structured files (`data.json`, `data.yaml`, `.manifest`) in
/// canonical JSON form, everything else as raw bytes.
pub fn digest(name: &str, content: &[u8], algorithm: &str) -> Result<String, BundleError> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let bytes: Vec<u8> = match base {
        "data.json" | ".manifest" => {
            canonical_json(content).map_err(|e| signature_error(format!("{name}: {e}")))?
        }
        "data.yaml" => {
            let value: serde_json::Value = yaml_serde::from_slice(content)
                .map_err(|e| signature_error(format!("{name}: {e}")))?;
            canonical_value(&value)
        }
        _ => content.to_vec(),
    };
    Ok(match algorithm {
        "SHA-256" => format!("{:x}", sha2::Sha256::digest(&bytes)),
        "SHA-224" => format!("{:x}", sha2::Sha224::digest(&bytes)),
        "SHA-384" => format!("{:x}", sha2::Sha384::digest(&bytes)),
        "SHA-512" => format!("{:x}", sha2::Sha512::digest(&bytes)),
        "SHA-512-224" => format!("{:x}", sha2::Sha512_224::digest(&bytes)),
        "SHA-512-256" => format!("{:x}", sha2::Sha512_256::digest(&bytes)),
        "" => {
            return Err(signature_error(format!(
                "no hashing algorithm provided for file {name}"
            )));
        }
        other => {
            return Err(signature_error(format!(
                "unsupported hashing algorithm: {other}"
            )));
        }
    })
}

/// Go's `filepath.Match`: `*` and `?` within a path segment, `[...]` classes.
fn glob_match(pattern: &str, name: &str) -> bool {
    globset::GlobBuilder::new(pattern.trim_start_matches('/'))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .is_ok_and(|glob| glob.compile_matcher().is_match(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle() -> BundleFiles {
        BundleFiles {
            files: [
                ("p.rego", "package p\nallow := true\n"),
                ("data.json", "{\"b\": 1, \"a\": [1.0]}"),
                (".manifest", "{\"revision\": \"r1\"}"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect(),
        }
    }

    fn signed(files: &BundleFiles, secret: &[u8], scope: Option<&str>) -> BundleFiles {
        let sig = sign(
            files,
            &EncodingKey::from_secret(secret),
            Algorithm::HS256,
            Some("k1"),
            scope,
        )
        .unwrap();
        let mut out = files.clone();
        out.files.insert(SIGNATURES_FILE.into(), sig);
        out
    }

    fn keys(secret: &[u8], scope: Option<&str>) -> HashMap<String, VerificationKey> {
        HashMap::from([(
            "k1".to_string(),
            VerificationKey::new("HS256", secret, scope.map(String::from)).unwrap(),
        )])
    }

    #[test]
    fn signed_bundle_verifies() {
        let files = signed(&bundle(), b"secret", None);
        verify(&files, &keys(b"secret", None), &Verification::default()).unwrap();
    }

    #[test]
    fn the_signer_and_the_unverified_claims() {
        let files = signed(&bundle(), b"secret", Some("write"));
        let claims = unverified_claims(&files).unwrap().unwrap();
        assert_eq!(claims.key_id.as_deref(), Some("k1"));
        assert_eq!(claims.algorithm, "HS256");
        assert_eq!(claims.scope.as_deref(), Some("write"));
        assert_eq!(claims.files, 3);
        let signer = verify_signer(
            &files,
            &keys(b"secret", Some("write")),
            &Verification::default(),
        )
        .unwrap();
        assert_eq!(signer, "k1");
        assert_eq!(unverified_claims(&bundle()).unwrap(), None);
    }

    #[test]
    fn data_digest_ignores_formatting() {
        let mut files = signed(&bundle(), b"secret", None);
        files.files.insert(
            "data.json".into(),
            b"{\n  \"a\": [1.0],\n  \"b\": 1\n}\n".to_vec(),
        );
        verify(&files, &keys(b"secret", None), &Verification::default()).unwrap();
    }

    #[test]
    fn tampering_is_caught() {
        let mut files = signed(&bundle(), b"secret", None);
        files
            .files
            .insert("p.rego".into(), b"package p\nallow := false\n".to_vec());
        let err = verify(&files, &keys(b"secret", None), &Verification::default()).unwrap_err();
        assert!(err.to_string().contains("p.rego: digest mismatch"), "{err}");
    }

    #[test]
    fn extra_and_missing_files_are_caught() {
        let mut files = signed(&bundle(), b"secret", None);
        files
            .files
            .insert("extra.rego".into(), b"package extra\n".to_vec());
        let err = verify(&files, &keys(b"secret", None), &Verification::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("file extra.rego not included in bundle signature"),
            "{err}"
        );

        let mut files = signed(&bundle(), b"secret", None);
        files.files.remove("p.rego");
        let err = verify(&files, &keys(b"secret", None), &Verification::default()).unwrap_err();
        assert!(
            err.to_string().contains("not found in the target bundle"),
            "{err}"
        );
    }

    #[test]
    fn wrong_key_scope_and_missing_signature() {
        let files = signed(&bundle(), b"secret", Some("write"));
        assert!(verify(&files, &keys(b"other", None), &Verification::default()).is_err());
        let err = verify(
            &files,
            &keys(b"secret", Some("read")),
            &Verification::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("scope mismatch"), "{err}");
        verify(
            &files,
            &keys(b"secret", Some("write")),
            &Verification::default(),
        )
        .unwrap();
        let err = verify(&bundle(), &keys(b"secret", None), &Verification::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("bundle missing .signatures.json file"),
            "{err}"
        );
    }

    #[test]
    fn excluded_files_need_no_signature() {
        let mut files = signed(&bundle(), b"secret", None);
        files.files.insert("docs/README.md".into(), b"hi".to_vec());
        let verification = Verification {
            exclude_files: vec!["docs/*".into()],
            ..Verification::default()
        };
        verify(&files, &keys(b"secret", None), &verification).unwrap();
    }

    #[test]
    fn rsa_and_ec_keys_from_pem() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys");
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        for (alg, private, public, encoding) in [
            (
                Algorithm::RS256,
                "rsa_private.pem",
                "rsa_public.pem",
                EncodingKey::from_rsa_pem as fn(&[u8]) -> jsonwebtoken::errors::Result<EncodingKey>,
            ),
            (
                Algorithm::ES256,
                "ec_private.pem",
                "ec_public.pem",
                EncodingKey::from_ec_pem as fn(&[u8]) -> jsonwebtoken::errors::Result<EncodingKey>,
            ),
        ] {
            let key = encoding(&read(private)).unwrap();
            let sig = sign(&bundle(), &key, alg, Some("k1"), None).unwrap();
            let mut files = bundle();
            files.files.insert(SIGNATURES_FILE.into(), sig);
            let name = format!("{alg:?}");
            let keys = HashMap::from([(
                "k1".to_string(),
                VerificationKey::new(&name, &read(public), None).unwrap(),
            )]);
            verify(&files, &keys, &Verification::default()).unwrap();
        }
    }

    #[test]
    fn globs_match_like_filepath_match() {
        assert!(glob_match("docs/*", "docs/a.md"));
        assert!(!glob_match("docs/*", "docs/x/a.md"));
        assert!(glob_match("*.md", "README.md"));
        assert!(glob_match("/a?c", "abc"));
        assert!(glob_match("data[0-9].json", "data7.json"));
        assert!(!glob_match("data[!0-9].json", "data7.json"));
    }
}
