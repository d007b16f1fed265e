//! Reading the text arguments of the certificate builtins as OPA does: PEM as written, else
//! base64 (of PEM or of DER), and every PEM block of a text in order.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::super::encoding::{PemBlock, pem_decode};
use super::super::private_keys::go_base64_error;

/// Text starting `-----BEGIN` as written; anything else decoded from base64 (of PEM or DER).
pub(super) fn pem_or_base64(text: &str) -> Result<Vec<u8>, String> {
    if text.starts_with("-----BEGIN") {
        Ok(text.as_bytes().to_vec())
    } else {
        STANDARD.decode(text).map_err(go_base64_error)
    }
}

/// Every well-formed PEM block of the text, in order (Go's `pem.Decode` in a loop).
pub(super) fn pem_blocks(text: &str) -> Vec<PemBlock> {
    let mut rest = text;
    let mut out = Vec::new();
    while let Some((block, after)) = pem_decode(rest) {
        out.push(block);
        rest = after;
    }
    out
}
