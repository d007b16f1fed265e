//! JWS signature algorithms: signing and verifying with the keys of [`super::keys`].
//!
//! OPA verifies with two different rule sets and both are kept here:
//! - [`verify_jws`] is `io.jwt.decode_verify`'s (jwx's `jwsbb.Verify`): the header's `alg`
//!   picks the algorithm, ECDSA signatures are exactly `r || s` of the key's size, PSS salts are
//!   as long as the hash.
//! - [`verify_family`] is `io.jwt.verify_rs256` and friends (Go's `crypto` directly): the
//!   builtin picks the algorithm, public keys only, ECDSA halves of any length, PSS salts of
//!   any length.
//!
//! Does not own which key is tried (that is [`super::jwt`]) nor key parsing.

use hmac::{Hmac, Mac};
use rsa::pkcs1v15;
use rsa::pss;
use rsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
use rsa::signature::{RandomizedSigner, SignatureEncoding as _, Signer as _, Verifier as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::keys::{EcKey, KeyMaterial, SigningKey};

/// The hash of an algorithm (`RS256` -> SHA-256).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, message: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }

    fn len(self) -> usize {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }

    /// HMAC of `message` under `key`.
    pub(super) fn hmac(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        fn mac<M: Mac + hmac::digest::KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
            // HMAC takes keys of any length; new_from_slice cannot fail for it.
            match <M as hmac::digest::KeyInit>::new_from_slice(key) {
                Ok(mut m) => {
                    m.update(message);
                    m.finalize().into_bytes().to_vec()
                }
                Err(_) => Vec::new(),
            }
        }
        match self {
            Hash::Sha256 => mac::<Hmac<Sha256>>(key, message),
            Hash::Sha384 => mac::<Hmac<Sha384>>(key, message),
            Hash::Sha512 => mac::<Hmac<Sha512>>(key, message),
        }
    }
}

/// The signature schemes of JWS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Family {
    Hmac,
    RsaPkcs1,
    RsaPss,
    Ecdsa,
    EdDsa,
}

/// A JWS `alg` value OPA's token builtins know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Algorithm {
    pub family: Family,
    pub hash: Hash,
}

impl Algorithm {
    pub(super) fn parse(alg: &str) -> Option<Self> {
        let (family, bits) = match alg {
            "EdDSA" => (Family::EdDsa, "512"),
            _ => {
                let (prefix, bits) = alg.split_at_checked(2)?;
                let family = match prefix {
                    "HS" => Family::Hmac,
                    "RS" => Family::RsaPkcs1,
                    "PS" => Family::RsaPss,
                    "ES" => Family::Ecdsa,
                    _ => return None,
                };
                (family, bits)
            }
        };
        let hash = match bits {
            "256" => Hash::Sha256,
            "384" => Hash::Sha384,
            "512" => Hash::Sha512,
            _ => return None,
        };
        Some(Self { family, hash })
    }
}

/// `io.jwt.decode_verify`'s check of one key: true when `signature` is `alg`'s signature of
/// `input` under `key`. `secret` keys are [`KeyMaterial::Oct`].
pub(super) fn verify_jws(key: &KeyMaterial, alg: &str, input: &[u8], signature: &[u8]) -> bool {
    let Some(Algorithm { family, hash }) = Algorithm::parse(alg) else {
        return false;
    };
    match (family, key) {
        (Family::Hmac, KeyMaterial::Oct(secret)) => hmac_equal(hash, secret, input, signature),
        (Family::RsaPkcs1, KeyMaterial::Rsa { key, .. }) => rsa_pkcs1(key, hash, input, signature),
        (Family::RsaPss, KeyMaterial::Rsa { key, .. }) => {
            rsa_pss(key, hash, hash.len(), input, signature)
        }
        (Family::Ecdsa, KeyMaterial::Ec { key, .. }) => {
            signature.len() == 2 * key.size() && ecdsa(key, hash, input, signature)
        }
        (Family::EdDsa, KeyMaterial::Ed25519 { key: Some(key), .. }) => {
            ed25519(key, input, signature)
        }
        _ => false,
    }
}

/// `io.jwt.verify_<family><bits>`'s check of one key (never HMAC: those builtins take a
/// secret, see [`hmac_equal`]).
pub(super) fn verify_family(
    key: &KeyMaterial,
    algorithm: Algorithm,
    input: &[u8],
    signature: &[u8],
) -> bool {
    let hash = algorithm.hash;
    match (algorithm.family, key) {
        (
            Family::RsaPkcs1,
            KeyMaterial::Rsa {
                key,
                private: false,
            },
        ) => rsa_pkcs1(key, hash, input, signature),
        (
            Family::RsaPss,
            KeyMaterial::Rsa {
                key,
                private: false,
            },
        ) => pss_salt_len(key, hash, signature)
            .is_some_and(|salt| rsa_pss(key, hash, salt, input, signature)),
        (
            Family::Ecdsa,
            KeyMaterial::Ec {
                key,
                private: false,
            },
        ) => {
            // Go reads each half as a big integer, whatever its length.
            let size = key.size();
            let (r, s) = signature.split_at(signature.len() / 2);
            let mut fixed = vec![0u8; 2 * size];
            left_pad_into(r, &mut fixed, 0, size)
                && left_pad_into(s, &mut fixed, size, size)
                && ecdsa(key, hash, input, &fixed)
        }
        (
            Family::EdDsa,
            KeyMaterial::Ed25519 {
                key: Some(key),
                private: false,
            },
        ) => ed25519(key, input, signature),
        _ => false,
    }
}

/// Copies the big-endian integer `value` right-aligned into `out[at..at + size]`; false when
/// it does not fit (Go's check that `r` and `s` are below the group order then fails too).
fn left_pad_into(value: &[u8], out: &mut [u8], at: usize, size: usize) -> bool {
    let start = value.iter().position(|b| *b != 0).unwrap_or(value.len());
    let Some(significant) = value.get(start..) else {
        return false;
    };
    if significant.len() > size {
        return false;
    }
    let offset = at + size - significant.len();
    match out.get_mut(offset..at + size) {
        Some(slot) => {
            slot.copy_from_slice(significant);
            true
        }
        None => false,
    }
}

/// Constant-time comparison of `signature` with the HMAC of `input` under `secret`.
pub(super) fn hmac_equal(hash: Hash, secret: &[u8], input: &[u8], signature: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(hash.hmac(secret, input).ct_eq(signature))
}

fn rsa_pkcs1(key: &RsaPublicKey, hash: Hash, input: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = pkcs1v15::Signature::try_from(signature) else {
        return false;
    };
    let key = key.clone();
    match hash {
        Hash::Sha256 => pkcs1v15::VerifyingKey::<Sha256>::new(key)
            .verify(input, &signature)
            .is_ok(),
        Hash::Sha384 => pkcs1v15::VerifyingKey::<Sha384>::new(key)
            .verify(input, &signature)
            .is_ok(),
        Hash::Sha512 => pkcs1v15::VerifyingKey::<Sha512>::new(key)
            .verify(input, &signature)
            .is_ok(),
    }
}

fn rsa_pss(key: &RsaPublicKey, hash: Hash, salt_len: usize, input: &[u8], sig: &[u8]) -> bool {
    let Ok(signature) = pss::Signature::try_from(sig) else {
        return false;
    };
    let key = key.clone();
    match hash {
        Hash::Sha256 => pss::VerifyingKey::<Sha256>::new_with_salt_len(key, salt_len)
            .verify(input, &signature)
            .is_ok(),
        Hash::Sha384 => pss::VerifyingKey::<Sha384>::new_with_salt_len(key, salt_len)
            .verify(input, &signature)
            .is_ok(),
        Hash::Sha512 => pss::VerifyingKey::<Sha512>::new_with_salt_len(key, salt_len)
            .verify(input, &signature)
            .is_ok(),
    }
}

/// The salt length a PSS signature was made with (RFC 8017 9.1.2 steps 1-10, as Go's
/// `PSSSaltLengthAuto` reads it), so that the `rsa` crate can then verify it for real.
fn pss_salt_len(key: &RsaPublicKey, hash: Hash, signature: &[u8]) -> Option<usize> {
    if signature.len() != key.size() {
        return None;
    }
    let s = BigUint::from_bytes_be(signature);
    if &s >= key.n() {
        return None;
    }
    let m = rsa::hazmat::rsa_encrypt(key, &s).ok()?;
    let em_bits = key.n().bits().checked_sub(1)?;
    let em_len = em_bits.div_ceil(8);
    let raw = m.to_bytes_be();
    if raw.len() > em_len {
        return None;
    }
    let mut em = vec![0u8; em_len - raw.len()];
    em.extend_from_slice(&raw);
    let h_len = hash.len();
    if em_len < h_len + 2 || em.last() != Some(&0xbc) {
        return None;
    }
    let db_len = em_len - h_len - 1;
    let (masked_db, rest) = em.split_at(db_len);
    let h = rest.get(..h_len)?;
    let mask = mgf1(hash, h, db_len);
    let mut db: Vec<u8> = masked_db.iter().zip(&mask).map(|(a, b)| a ^ b).collect();
    if let Some(first) = db.first_mut() {
        *first &= 0xffu8
            .checked_shr((8 * em_len - em_bits) as u32)
            .unwrap_or(0);
    }
    let separator = db.iter().position(|b| *b != 0)?;
    (db.get(separator) == Some(&1)).then(|| db_len - separator - 1)
}

fn mgf1(hash: Hash, seed: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + hash.len());
    let mut counter: u32 = 0;
    while out.len() < len {
        let mut block = seed.to_vec();
        block.extend_from_slice(&counter.to_be_bytes());
        out.extend_from_slice(&hash.digest(&block));
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

fn ecdsa(key: &EcKey, hash: Hash, input: &[u8], signature: &[u8]) -> bool {
    let digest = hash.digest(input);
    match key {
        EcKey::P256(key) => p256::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok()),
        EcKey::P384(key) => p384::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok()),
        EcKey::P521(key) => p521::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| key.verify_prehash(&digest, &sig).is_ok()),
    }
}

fn ed25519(key: &ed25519_dalek::VerifyingKey, input: &[u8], signature: &[u8]) -> bool {
    ed25519_dalek::Signature::from_slice(signature).is_ok_and(|sig| key.verify(input, &sig).is_ok())
}

/// Signs `input` (`base64url(header).base64url(payload)`) with `alg` (already checked to be
/// one OPA knows). The key must suit the algorithm, as jwx requires.
pub(super) fn sign(key: &SigningKey, alg: &str, input: &[u8]) -> Result<Vec<u8>, String> {
    let Some(Algorithm { family, hash }) = Algorithm::parse(alg) else {
        return Err(format!("unknown JWS algorithm: {alg}"));
    };
    let mut rng = rand_core::OsRng;
    match (family, key) {
        (Family::Hmac, SigningKey::Oct(secret)) => Ok(hash.hmac(secret, input)),
        (Family::RsaPkcs1, SigningKey::Rsa(key)) => {
            let key = (**key).clone();
            Ok(match hash {
                Hash::Sha256 => pkcs1v15::SigningKey::<Sha256>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
                Hash::Sha384 => pkcs1v15::SigningKey::<Sha384>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
                Hash::Sha512 => pkcs1v15::SigningKey::<Sha512>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
            })
        }
        (Family::RsaPss, SigningKey::Rsa(key)) => {
            let key = (**key).clone();
            Ok(match hash {
                Hash::Sha256 => pss::BlindedSigningKey::<Sha256>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
                Hash::Sha384 => pss::BlindedSigningKey::<Sha384>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
                Hash::Sha512 => pss::BlindedSigningKey::<Sha512>::new(key)
                    .sign_with_rng(&mut rng, input)
                    .to_vec(),
            })
        }
        (Family::Ecdsa, SigningKey::P256(key)) => {
            let sig: p256::ecdsa::Signature = key
                .sign_prehash_with_rng(&mut rng, &hash.digest(input))
                .map_err(|e| format!("jwsbb.Sign: {e}"))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Family::Ecdsa, SigningKey::P384(key)) => {
            let sig: p384::ecdsa::Signature = key
                .sign_prehash_with_rng(&mut rng, &hash.digest(input))
                .map_err(|e| format!("jwsbb.Sign: {e}"))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Family::Ecdsa, SigningKey::P521(key)) => {
            let sig: p521::ecdsa::Signature = key
                .sign_prehash_with_rng(&mut rng, &hash.digest(input))
                .map_err(|e| format!("jwsbb.Sign: {e}"))?;
            Ok(sig.to_bytes().to_vec())
        }
        (Family::EdDsa, SigningKey::Ed25519(key)) => Ok(key.sign(input).to_bytes().to_vec()),
        (_, SigningKey::Public(kind)) => Err(format!(
            "jwsbb.Sign: invalid key type {kind}, {alg} needs a private key"
        )),
        _ => Err(format!("jwsbb.Sign: invalid key type for {alg}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_parse() {
        assert_eq!(
            Algorithm::parse("PS384"),
            Some(Algorithm {
                family: Family::RsaPss,
                hash: Hash::Sha384
            })
        );
        assert_eq!(
            Algorithm::parse("EdDSA").map(|a| a.family),
            Some(Family::EdDsa)
        );
        for bad in ["none", "HS1", "RS", "", "ES256K", "hs256"] {
            assert_eq!(Algorithm::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231 test case 2.
        assert_eq!(
            super::super::encoding::hex(
                &Hash::Sha256.hmac(b"Jefe", b"what do ya want for nothing?")
            ),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
