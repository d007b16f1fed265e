//! The encodings OPA's builtins write, byte for byte as OPA (Go) writes them.

use std::fmt::Write as _;

/// Lowercase hex.
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}
