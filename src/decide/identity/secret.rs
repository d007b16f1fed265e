//! Secrets and keys the verifiers hold: given inline, or read from a file at start-up and read
//! again when the file changes, so that a rotated secret needs no restart.
//!
//! Owns: the file's last-seen state and the swap. The decision path only loads the current
//! value (an atomic load, no I/O); [`Rotating::refresh`] stats the file off the request path
//! (the identity step's background task) and re-reads it when its size, modification time or
//! inode changed (a Kubernetes secret volume swaps a `..data` symlink, which changes the
//! inode). A file that becomes unreadable or unusable keeps the last good value serving, with
//! one warning until it changes again. Never logs a secret.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use arc_swap::{ArcSwap, Guard};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use tracing::{info, warn};

use super::IdentityError;

/// Parses a file's bytes into what a verifier holds; the error says why, without the content.
pub(super) type Parse<T> = fn(&[u8]) -> Result<T, String>;

/// A secret or key set, current as of the last refresh.
pub(super) struct Rotating<T> {
    current: ArcSwap<T>,
    file: Option<Watched<T>>,
}

struct Watched<T> {
    /// The setting that names the file (`identity.jwt.jwks_path`), for messages.
    setting: String,
    path: PathBuf,
    parse: Parse<T>,
    seen: Mutex<Seen>,
}

/// What the last refresh saw of the file.
struct Seen {
    stamp: Option<Stamp>,
    /// The last attempt failed (and was reported).
    failing: bool,
}

/// What changes when a file is rewritten or replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    dev: u64,
    ino: u64,
}

impl Stamp {
    fn of(path: &Path) -> std::io::Result<Self> {
        // Follows symlinks: what counts is the file the path resolves to now.
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

impl<T> Rotating<T> {
    /// A value that never changes (a secret given in the config file).
    pub(super) fn fixed(value: T) -> Self {
        Self {
            current: ArcSwap::from_pointee(value),
            file: None,
        }
    }

    /// Reads and parses `path` now: a missing, unreadable or unusable file is a start-up error
    /// naming the setting and the file.
    pub(super) fn from_file(
        setting: &str,
        path: &Path,
        parse: Parse<T>,
    ) -> Result<Self, IdentityError> {
        let stamp = Stamp::of(path).map_err(|source| IdentityError::Unreadable {
            setting: setting.to_string(),
            path: path.to_path_buf(),
            source,
        })?;
        let value = read(path, parse).map_err(|e| match e {
            ReadError::Io(source) => IdentityError::Unreadable {
                setting: setting.to_string(),
                path: path.to_path_buf(),
                source,
            },
            ReadError::Parse(reason) => IdentityError::Unusable {
                setting: setting.to_string(),
                path: path.to_path_buf(),
                reason,
            },
        })?;
        Ok(Self {
            current: ArcSwap::from_pointee(value),
            file: Some(Watched {
                setting: setting.to_string(),
                path: path.to_path_buf(),
                parse,
                seen: Mutex::new(Seen {
                    stamp: Some(stamp),
                    failing: false,
                }),
            }),
        })
    }

    /// The current value (the decision path: no I/O, no lock).
    pub(super) fn load(&self) -> Guard<Arc<T>> {
        self.current.load()
    }

    /// True when the value comes from a file that [`Self::refresh`] should look at.
    pub(super) fn is_file(&self) -> bool {
        self.file.is_some()
    }

    /// Stats the file and, when it changed, reads it again. Blocking: never call it on a
    /// request thread.
    pub(super) fn refresh(&self) {
        let Some(file) = &self.file else {
            return;
        };
        let mut seen = match file.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        };
        let stamp = match Stamp::of(&file.path) {
            Ok(stamp) => stamp,
            Err(e) => {
                if !seen.failing {
                    warn!(setting = %file.setting, path = %file.path.display(), error = %e,
                        "identity secret file unreadable; the last good one keeps serving");
                    seen.failing = true;
                }
                seen.stamp = None;
                return;
            }
        };
        if seen.stamp == Some(stamp) {
            return;
        }
        // A failed read is not retried until the file changes again.
        seen.stamp = Some(stamp);
        match read(&file.path, file.parse) {
            Ok(value) => {
                self.current.store(Arc::new(value));
                seen.failing = false;
                info!(setting = %file.setting, path = %file.path.display(), "identity secret reloaded");
            }
            Err(e) => {
                warn!(setting = %file.setting, path = %file.path.display(), error = %e,
                    "identity secret file not usable; the last good one keeps serving");
                seen.failing = true;
            }
        }
    }
}

enum ReadError {
    Io(std::io::Error),
    Parse(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Parse(reason) => f.write_str(reason),
        }
    }
}

/// Secret files are small; anything larger is a mistake (a wrong path), not a secret.
const MAX_SECRET_FILE_BYTES: u64 = 1 << 20;

fn read<T>(path: &Path, parse: Parse<T>) -> Result<T, ReadError> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(ReadError::Parse(format!(
            "larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    parse(&bytes).map_err(ReadError::Parse)
}

/// An HMAC-SHA256 key, keyed once: a verification starts from a copy of the keyed state
/// instead of hashing the secret again (two of the four SHA-256 blocks a short message
/// costs), and the secret's bytes are not kept.
#[derive(Clone)]
pub(super) struct MacKey(Hmac<Sha256>);

impl MacKey {
    pub(super) fn new(secret: &[u8]) -> Result<Self, String> {
        if secret.is_empty() {
            return Err("the secret is empty".to_string());
        }
        // HMAC takes keys of any length; this cannot fail.
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Self)
            .map_err(|e| e.to_string())
    }

    /// A MAC to feed the message to, then `verify_slice` (constant time).
    pub(super) fn mac(&self) -> Hmac<Sha256> {
        self.0.clone()
    }
}

/// An HMAC secret file: its bytes without trailing whitespace (`echo secret > file` adds a
/// newline that is not part of the secret). An empty secret is refused.
pub(super) fn hmac_secret(bytes: &[u8]) -> Result<MacKey, String> {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    MacKey::new(bytes.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MAC of `message` under `key`, as hex.
    fn mac_hex(key: &MacKey, message: &str) -> String {
        let mut mac = key.mac();
        mac.update(message.as_bytes());
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn same_key(key: &MacKey, secret: &str) -> bool {
        mac_hex(key, "m") == crate::decide::identity::testing::hex_hmac(secret, "m")
    }

    #[test]
    fn secrets_lose_trailing_whitespace_and_must_not_be_empty() {
        assert!(same_key(&hmac_secret(b"s3cret\n").unwrap(), "s3cret"));
        assert!(same_key(&hmac_secret(b" a b\r\n").unwrap(), " a b"));
        assert!(hmac_secret(b"\n").is_err());
        assert!(hmac_secret(b"").is_err());
        // A keyed state is reused: every MAC from it is the same as from the secret.
        let key = MacKey::new(b"k").unwrap();
        assert_eq!(mac_hex(&key, "a"), mac_hex(&key, "a"));
        assert!(same_key(&key, "k"));
    }

    #[test]
    fn a_missing_file_is_a_start_up_error_naming_it() {
        let err = Rotating::from_file(
            "identity.service_token.secret_path",
            Path::new("/nonexistent/secret"),
            hmac_secret,
        )
        .err()
        .unwrap()
        .to_string();
        assert!(
            err.contains("identity.service_token.secret_path")
                && err.contains("/nonexistent/secret"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let err = Rotating::from_file("s", &empty, hmac_secret)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn a_changed_file_is_read_again_and_a_broken_one_keeps_the_last_good() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "one\n").unwrap();
        let secret = Rotating::from_file("s", &path, hmac_secret).unwrap();
        assert!(same_key(&secret.load(), "one"));
        secret.refresh();
        assert!(same_key(&secret.load(), "one"));

        // Replaced the way Kubernetes does it: a new file renamed over the path.
        let next = dir.path().join("next");
        std::fs::write(&next, "two").unwrap();
        std::fs::rename(&next, &path).unwrap();
        secret.refresh();
        assert!(same_key(&secret.load(), "two"));

        std::fs::write(&next, "").unwrap();
        std::fs::rename(&next, &path).unwrap();
        secret.refresh();
        assert!(
            same_key(&secret.load(), "two"),
            "an empty secret is refused"
        );
        std::fs::remove_file(&path).unwrap();
        secret.refresh();
        assert!(
            same_key(&secret.load(), "two"),
            "a missing file keeps the last good"
        );
        std::fs::write(&path, "three").unwrap();
        secret.refresh();
        assert!(same_key(&secret.load(), "three"));
    }
}
