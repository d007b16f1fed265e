//! OPA's `crypto.*` hash and HMAC builtins: `crypto.md5`, `crypto.sha1`, `crypto.sha256`
//! (hex digests of a string), `crypto.hmac.md5/sha1/sha256/sha512(message, key)` (hex MACs) and
//! `crypto.hmac.equal` (constant-time comparison of two MACs).
//!
//! Does not own X.509 parsing (not implemented) nor JWT signatures ([`super::jwt`]).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use md5::Md5;
use regorus::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq as _;

use super::Builtin;
use super::args::{Outcome, finish, string};
use super::encoding::hex;

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "crypto.md5",
        nargs: 1,
        eval: |args| finish("crypto.md5", digest::<Md5>(&args)),
    },
    Builtin {
        name: "crypto.sha1",
        nargs: 1,
        eval: |args| finish("crypto.sha1", digest::<Sha1>(&args)),
    },
    Builtin {
        name: "crypto.sha256",
        nargs: 1,
        eval: |args| finish("crypto.sha256", digest::<Sha256>(&args)),
    },
    Builtin {
        name: "crypto.hmac.md5",
        nargs: 2,
        eval: |args| finish("crypto.hmac.md5", mac::<Hmac<Md5>>(&args)),
    },
    Builtin {
        name: "crypto.hmac.sha1",
        nargs: 2,
        eval: |args| finish("crypto.hmac.sha1", mac::<Hmac<Sha1>>(&args)),
    },
    Builtin {
        name: "crypto.hmac.sha256",
        nargs: 2,
        eval: |args| finish("crypto.hmac.sha256", mac::<Hmac<Sha256>>(&args)),
    },
    Builtin {
        name: "crypto.hmac.sha512",
        nargs: 2,
        eval: |args| finish("crypto.hmac.sha512", mac::<Hmac<Sha512>>(&args)),
    },
    Builtin {
        name: "crypto.hmac.equal",
        nargs: 2,
        eval: |args| finish("crypto.hmac.equal", equal(&args)),
    },
];

fn digest<D: Digest>(args: &[Value]) -> Outcome {
    let text = string(args, 0)?;
    Ok(Value::from(hex(&D::digest(text.as_bytes()))))
}

fn mac<M: Mac + KeyInit>(args: &[Value]) -> Outcome {
    let message = string(args, 0)?;
    let key = string(args, 1)?;
    let mut mac = <M as KeyInit>::new_from_slice(key.as_bytes())
        .map_err(|_| "invalid HMAC key".to_string())?;
    mac.update(message.as_bytes());
    Ok(Value::from(hex(&mac.finalize().into_bytes())))
}

/// Constant time in the content (the length shows, as in Go's `hmac.Equal`).
fn equal(args: &[Value]) -> Outcome {
    let a = string(args, 0)?;
    let b = string(args, 1)?;
    Ok(Value::from(bool::from(a.as_bytes().ct_eq(b.as_bytes()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Value {
        let builtin = BUILTINS.iter().find(|b| b.name == name).unwrap();
        (builtin.eval)(args.iter().map(|a| Value::from(*a)).collect()).unwrap()
    }

    #[test]
    fn digests_and_macs_match_opa() {
        // Expected values from OPA 1.20.2 (the oracle) and its documentation.
        for (name, args, want) in [
            ("crypto.md5", &[""][..], "d41d8cd98f00b204e9800998ecf8427e"),
            (
                "crypto.sha1",
                &["abc"][..],
                "a9993e364706816aba3e25717850c26c9cd0d89d",
            ),
            (
                "crypto.sha256",
                &["abc"][..],
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
            (
                "crypto.hmac.sha256",
                &["message", "key"][..],
                "6e9ef29b75fffc5b7abae527d58fdadb2fe42e7219011976917343065f58ed4a",
            ),
            (
                "crypto.hmac.md5",
                &["message", "key"][..],
                "4e4748e62b463521f6775fbf921234b5",
            ),
            (
                "crypto.hmac.sha512",
                &["", ""][..],
                "b936cee86c9f87aa5d3c6f2e84cb5a4239a5fe50480a6ec66b70ab5b1f4ac6730c6c515421b327ec1d69402e53dfb49ad7381eb067b338fd7b0cb22247225d47",
            ),
        ] {
            assert_eq!(call(name, args), Value::from(want), "{name}{args:?}");
        }
        assert_eq!(call("crypto.hmac.equal", &["a", "a"]), Value::from(true));
        assert_eq!(call("crypto.hmac.equal", &["a", "b"]), Value::from(false));
        assert_eq!(call("crypto.hmac.equal", &["a", "ab"]), Value::from(false));
    }

    #[test]
    fn wrong_operand_types_are_builtin_errors() {
        let builtin = BUILTINS.iter().find(|b| b.name == "crypto.sha256").unwrap();
        assert_eq!(
            (builtin.eval)(vec![Value::from(5u64)]).unwrap(),
            Value::Undefined
        );
        let error = super::super::with_strict_errors(true, || {
            (builtin.eval)(vec![Value::from(5u64)]).unwrap_err()
        });
        assert_eq!(
            error.to_string(),
            "crypto.sha256: operand 1 must be string but got number"
        );
    }
}
