//! Bundles: a named set of Rego modules and data, read from a directory or a `.tar.gz`.
//!
//! Owns: turning a bundle's raw files into a [`Bundle`] (modules with their packages, one merged
//! data document, the manifest), enforcing the manifest's roots, and verifying signatures
//! ([`sign`]). Every failure is a [`BundleError`] naming the file (and line, where there is
//! one). Compiling and evaluating belong to [`crate::policy`]; fetching from a bundle server to
//! [`crate::reload`].

mod big_numbers;
mod canonical;
mod data;
mod files;
mod manifest;
mod not_bodies;
mod package;
pub mod surrogates;
mod syntax_error;
mod template_strings;

pub mod sign;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use regorus::Value;
use sha2::Digest;

pub use files::{BundleFiles, MANIFEST_FILE, SIGNATURES_FILE, is_bundle_file};
pub use manifest::Manifest;
pub use not_bodies::imports_future_not;
pub use package::{package_path, parse_ref};
pub use syntax_error::SyntaxError;

/// Default cap on a bundle's total (uncompressed) size.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 128 << 20;

/// Why a bundle could not be read. Messages name the file and say what to change.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: cannot read bundle: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path}: bundle exceeds the size limit of {limit} bytes; raise --max-bundle-bytes or split the bundle"
    )]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{archive}: unsafe archive entry {entry:?}: {reason}")]
    UnsafePath {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error("{archive}: not a valid gzip-compressed tar archive: {message}")]
    Archive { archive: PathBuf, message: String },
    #[error("{file}:{line}:{column}: invalid JSON: {message}")]
    Json {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}: invalid YAML: {message}")]
    Yaml { file: String, message: String },
    #[error("{file}: invalid manifest: {message}")]
    Manifest { file: String, message: String },
    #[error("{file}:{line}: {message}")]
    Package {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "{file}: {what} at path {path:?} is outside the bundle's roots {roots:?}; add a root for it to .manifest or move it under one"
    )]
    OutsideRoots {
        file: String,
        what: &'static str,
        path: String,
        roots: Vec<String>,
    },
    #[error(
        "{file}: data at path {path:?} is already set by another data file of the bundle; each data path may be set once"
    )]
    DataConflict { file: String, path: String },
    #[error("{file}: not valid UTF-8 text")]
    NotUtf8 { file: String },
    #[error("{file}:{error}")]
    Syntax { file: String, error: SyntaxError },
    #[error("bundle signature: {message}")]
    Signature { message: String },
}

/// One Rego source file of a bundle.
#[derive(Debug, Clone)]
pub struct RegoModule {
    /// Path relative to the bundle root, as shown in errors (`orders/policy.rego`).
    pub file: String,
    pub text: String,
    /// The package as data path segments (`package orders.admin` -> `["orders", "admin"]`).
    pub package: Vec<String>,
    pub rego_v0: bool,
}

/// A bundle whose files parsed and whose contents lie inside its roots. Not yet compiled.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub name: String,
    pub source: PathBuf,
    pub manifest: Manifest,
    pub modules: Vec<RegoModule>,
    /// The merged data document (always an object), rooted at `data`.
    pub data: Value,
    /// Each data file's parsed document with the digest of its bytes: a reload reuses the
    /// documents of files that did not change, so they are neither parsed nor held twice.
    pub data_files: BTreeMap<String, ([u8; 32], Value)>,
}

impl Bundle {
    /// Reads and assembles the bundle at `source` (directory or `.tar.gz`).
    pub fn load(name: &str, source: &Path, max_bytes: u64) -> Result<Self, BundleError> {
        let files = BundleFiles::read(source, max_bytes)?;
        Self::from_files(name, source, &files)
    }

    /// Assembles a bundle from its raw files: manifest first, then data and modules, each
    /// checked against the roots.
    pub fn from_files(name: &str, source: &Path, files: &BundleFiles) -> Result<Self, BundleError> {
        Self::from_files_reusing(name, source, files, None, None)
    }

    /// [`Self::from_files`], taking the parsed document of every data file whose bytes are the
    /// same as in `previous` (the bundle's active version) instead of parsing it again.
    /// `digests` are the files' ([`BundleFiles::digests`]) when the caller has them already.
    pub fn from_files_reusing(
        name: &str,
        source: &Path,
        files: &BundleFiles,
        previous: Option<&Bundle>,
        digests: Option<&BTreeMap<String, [u8; 32]>>,
    ) -> Result<Self, BundleError> {
        let manifest = match files.files.get(MANIFEST_FILE) {
            Some(content) => Manifest::parse(MANIFEST_FILE, content)?,
            None => Manifest::unrestricted(),
        };
        let mut data = Value::new_object();
        let mut data_files = BTreeMap::new();
        let mut modules = Vec::new();
        for (rel, content) in &files.files {
            if rel == MANIFEST_FILE || rel == SIGNATURES_FILE {
                continue;
            }
            let (dir, file_name) = match rel.rsplit_once('/') {
                Some((dir, name)) => (dir, name),
                None => ("", rel.as_str()),
            };
            let dir_path: Vec<String> = dir
                .split('/')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            if file_name.ends_with(".rego") {
                let text = String::from_utf8(content.clone())
                    .map_err(|_| BundleError::NotUtf8 { file: rel.clone() })?;
                let package = package_path(rel, &text)?;
                let text = regorus_text(rel, text)?;
                if !manifest.covers(&package) {
                    return Err(BundleError::OutsideRoots {
                        file: rel.clone(),
                        what: "package",
                        path: package.join("."),
                        roots: manifest.roots.clone(),
                    });
                }
                modules.push(RegoModule {
                    file: rel.clone(),
                    text,
                    package,
                    rego_v0: manifest.rego_v0,
                });
            } else if is_bundle_file(rel) {
                let digest: [u8; 32] = match digests.and_then(|d| d.get(rel)) {
                    Some(digest) => *digest,
                    None => sha2::Sha256::digest(content).into(),
                };
                let reused = previous
                    .and_then(|p| p.data_files.get(rel))
                    .filter(|(previous_digest, _)| *previous_digest == digest)
                    .map(|(_, value)| value.clone());
                let value = match reused {
                    Some(value) => value,
                    None => data::parse(rel, file_name, content)?,
                };
                data::check_roots(&manifest, rel, &dir_path, &value)?;
                data::place(&mut data, &dir_path, value.clone(), rel)?;
                data_files.insert(rel.clone(), (digest, value));
            }
        }
        Ok(Self {
            name: name.to_string(),
            source: source.to_path_buf(),
            manifest,
            modules,
            data,
            data_files,
        })
    }
}

/// A module's text as regorus reads it: template strings (`$"..."`) become the
/// `internal.template_string` calls OPA compiles them into, and negated bodies
/// (`not { ... }`, with `future.keywords.not` or `rego.v2`) comprehensions, and a lone
/// surrogate escape in a string `\ufffd` ([`surrogates`]), and an integer literal beyond f64
/// an exact product ([`big_numbers`]), on the same lines.
pub fn regorus_text(file: &str, text: String) -> Result<String, BundleError> {
    let text = surrogates::rewrite(&text).unwrap_or(text);
    let text = big_numbers::rewrite(&text).unwrap_or(text);
    let text = match template_strings::rewrite(&text) {
        Ok(Some(rewritten)) => rewritten,
        Ok(None) => text,
        Err(error) => {
            return Err(BundleError::Syntax {
                file: file.to_string(),
                error,
            });
        }
    };
    let text = not_bodies::rego_v2_as_future_not(&text).unwrap_or(text);
    match not_bodies::rewrite(&text) {
        Ok(Some(rewritten)) => Ok(rewritten),
        Ok(None) => Ok(text),
        Err(error) => Err(BundleError::Syntax {
            file: file.to_string(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> BundleFiles {
        BundleFiles {
            files: list
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn data_is_placed_by_directory() {
        let b = Bundle::from_files(
            "b",
            Path::new("b"),
            &files(&[
                ("data.json", r#"{"top": 1}"#),
                ("rbac/data.json", r#"{"bindings": {"u": ["admin"]}}"#),
                (
                    "payment/config/data.yaml",
                    "initiators:\n  - order-service\n",
                ),
            ]),
        )
        .unwrap();
        let want = serde_json::json!({
            "top": 1,
            "rbac": {"bindings": {"u": ["admin"]}},
            "payment": {"config": {"initiators": ["order-service"]}}
        });
        assert_eq!(b.data, Value::from_json_str(&want.to_string()).unwrap());
    }

    #[test]
    fn data_outside_roots_is_rejected_with_its_file() {
        let err = Bundle::from_files(
            "b",
            Path::new("b"),
            &files(&[
                (".manifest", r#"{"roots": ["orders"]}"#),
                ("data.json", r#"{"orders": {"x": 1}, "payment": {"y": 2}}"#),
            ]),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("data.json"), "{msg}");
        assert!(msg.contains("\"payment\""), "{msg}");
    }

    #[test]
    fn package_outside_roots_is_rejected() {
        let err = Bundle::from_files(
            "b",
            Path::new("b"),
            &files(&[
                (".manifest", r#"{"roots": ["orders"]}"#),
                ("p.rego", "package payment\nallow := true\n"),
            ]),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            BundleError::OutsideRoots {
                what: "package",
                ..
            }
        ));
    }

    #[test]
    fn conflicting_data_files_are_rejected() {
        let err = Bundle::from_files(
            "b",
            Path::new("b"),
            &files(&[
                ("data.json", r#"{"a": {"b": 1}}"#),
                ("a/data.json", r#"{"b": 2}"#),
            ]),
        )
        .unwrap_err();
        assert!(matches!(err, BundleError::DataConflict { .. }), "{err}");
    }

    #[test]
    fn malformed_json_names_file_and_line() {
        let err = Bundle::from_files(
            "b",
            Path::new("b"),
            &files(&[("rbac/data.json", "{\n  \"a\": 1,\n  oops\n}")]),
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("rbac/data.json:3:"), "{err}");
    }
}
