//! What `authzd inspect` finds in a bundle, as plain data (serialised as the JSON report).
//!
//! Owns: reading the bundle once and describing it: manifest, signature (checked with the
//! given key when there is one), packages and their rules with the evaluator each gets and
//! why (from a snapshot compiled as `run` compiles it), data files and sizes. A bundle that
//! does not compile is still described; the error is part of the report.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

use regorus::unstable::{Expr, Rule, RuleHead};
use serde::Serialize;

use crate::bundle::sign::{self, SignatureClaims, Verification, VerificationKey};
use crate::bundle::{
    Bundle, BundleFiles, DEFAULT_MAX_BUNDLE_BYTES, MANIFEST_FILE, Manifest, SIGNATURES_FILE,
    is_bundle_file,
};
use crate::policy::rule_graph::{package_path, rule_name};
use crate::policy::{CompileOptions, Snapshot};

#[derive(Debug, Serialize)]
pub struct Report {
    pub source: String,
    /// `directory` or `tarball`.
    pub format: &'static str,
    pub size: Size,
    pub manifest: ManifestView,
    pub signature: SignatureView,
    pub packages: Vec<PackageView>,
    pub data: Vec<DataFile>,
    /// Why the bundle would be refused, when it would.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Size {
    pub files: usize,
    /// Uncompressed bytes of every file.
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed_bytes: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct ManifestView {
    /// False when the bundle has no `.manifest` (then it owns every path).
    pub present: bool,
    pub revision: String,
    pub roots: Vec<String>,
    pub rego_version: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Serialize)]
pub struct SignatureView {
    /// `valid`, `invalid`, `unverified` (signed, but no key was given) or `unsigned`.
    pub status: &'static str,
    /// The key that verified it (`valid`), or the one the signature names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// What the signature says about itself (its `kid` may differ from the key that verified
    /// it when `--verification-key-id` chose the key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<SignatureClaims>,
    /// Why it is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PackageView {
    /// `orders`, `lib.identity`.
    pub package: String,
    pub files: Vec<String>,
    pub rules: Vec<RuleView>,
}

#[derive(Debug, Serialize)]
pub struct RuleView {
    /// `data.orders.allow`.
    pub path: String,
    /// `complete`, `partial set`, `partial object`, `function`; `+ default` when it has one.
    pub kind: String,
    /// `file:line` of each definition.
    pub definitions: Vec<String>,
    /// `rvm`, `interpreter`, or `none` (functions run where they are called; tests only in
    /// `authzd test`). Absent when the bundle does not compile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluator: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DataFile {
    pub file: String,
    /// Where its content is placed (`data.payment`).
    pub path: String,
    pub bytes: u64,
    /// The top-level keys of its document (at most [`MAX_KEYS`]).
    pub keys: Vec<String>,
    /// Keys not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub more_keys: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Keys listed per data file; a large document is described, not dumped.
pub const MAX_KEYS: usize = 20;

/// Reads and describes the bundle at `path`. `keys`/`verification`: how to check its
/// signature (`None`: report what it claims without checking).
pub fn inspect(
    path: &Path,
    keys: &HashMap<String, VerificationKey>,
    verification: Option<&Verification>,
) -> Result<Report, String> {
    let files = BundleFiles::read(path, DEFAULT_MAX_BUNDLE_BYTES).map_err(|e| e.to_string())?;
    let is_dir = path.is_dir();
    let compressed_bytes = if is_dir {
        None
    } else {
        std::fs::metadata(path).ok().map(|m| m.len())
    };
    let size = Size {
        files: files.files.len(),
        bytes: files.files.values().map(|c| c.len() as u64).sum(),
        compressed_bytes,
    };
    let signature = signature(&files, keys, verification);
    let mut error = None;
    let manifest = match files.files.get(MANIFEST_FILE) {
        Some(content) => Manifest::parse(MANIFEST_FILE, content).unwrap_or_else(|e| {
            error = Some(e.to_string());
            Manifest::unrestricted()
        }),
        None => Manifest::unrestricted(),
    };
    let manifest_view = ManifestView {
        present: files.files.contains_key(MANIFEST_FILE),
        revision: manifest.revision.clone(),
        roots: manifest.roots.clone(),
        rego_version: if manifest.rego_v0 { 0 } else { 1 },
        metadata: manifest.metadata.clone(),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    let (packages, compile_error) = packages(&name, path, &files, &manifest);
    Ok(Report {
        source: path.display().to_string(),
        format: if is_dir { "directory" } else { "tarball" },
        size,
        manifest: manifest_view,
        signature,
        packages,
        data: data_files(&files),
        error: error.or(compile_error),
    })
}

fn signature(
    files: &BundleFiles,
    keys: &HashMap<String, VerificationKey>,
    verification: Option<&Verification>,
) -> SignatureView {
    let claims = match sign::unverified_claims(files) {
        Ok(None) => {
            return SignatureView {
                status: "unsigned",
                key_id: None,
                claims: None,
                reason: None,
            };
        }
        Ok(Some(claims)) => Some(claims),
        Err(e) => {
            return SignatureView {
                status: "invalid",
                key_id: None,
                claims: None,
                reason: Some(e.to_string()),
            };
        }
    };
    let named = claims.as_ref().and_then(|c| c.key_id.clone());
    let Some(verification) = verification else {
        return SignatureView {
            status: "unverified",
            key_id: named,
            claims,
            reason: Some("no verification key given (--verification-key)".into()),
        };
    };
    match sign::verify_signer(files, keys, verification) {
        Ok(signer) => SignatureView {
            status: "valid",
            key_id: Some(signer),
            claims,
            reason: None,
        },
        Err(e) => SignatureView {
            status: "invalid",
            key_id: named,
            claims,
            reason: Some(e.to_string()),
        },
    }
}

/// A rule's kinds of definition and where each definition is (`file:line`).
type Definitions = (Vec<&'static str>, Vec<String>);

/// Packages and rules from the modules' syntax trees; evaluators from a compiled snapshot.
fn packages(
    name: &str,
    path: &Path,
    files: &BundleFiles,
    manifest: &Manifest,
) -> (Vec<PackageView>, Option<String>) {
    let mut engine = regorus::Engine::new();
    crate::policy::SourceLimits::default().apply(&mut engine);
    engine.set_rego_v0(manifest.rego_v0);
    let mut error = None;
    for (file, content) in &files.files {
        if !file.ends_with(".rego") {
            continue;
        }
        let text = String::from_utf8_lossy(content).into_owned();
        if let Err(e) = engine.add_policy(file.clone(), text) {
            error.get_or_insert_with(|| e.to_string().trim().to_string());
        }
    }
    let compiled = Bundle::from_files(name, path, files)
        .map_err(|e| e.to_string())
        .and_then(|bundle| {
            Snapshot::compile(
                &[Arc::new(bundle)],
                CompileOptions {
                    evaluator_slots: 1,
                    ..CompileOptions::default()
                },
            )
            .map_err(|e| e.to_string())
        });
    let snapshot = match compiled {
        Ok(snapshot) => Some(snapshot),
        Err(e) => {
            error.get_or_insert(e);
            None
        }
    };
    let mut by_package: BTreeMap<Vec<String>, PackageView> = BTreeMap::new();
    let mut rules: BTreeMap<(Vec<String>, Vec<String>), Definitions> = BTreeMap::new();
    for module in engine.get_modules().iter() {
        let Some(package) = package_path(module) else {
            continue;
        };
        let file = module.package.span.source.file().to_string();
        let view = by_package
            .entry(package.clone())
            .or_insert_with(|| PackageView {
                package: package.join("."),
                files: Vec::new(),
                rules: Vec::new(),
            });
        if !view.files.contains(&file) {
            view.files.push(file.clone());
        }
        for rule in &module.policy {
            let Some(name) = rule_name(rule) else {
                continue;
            };
            let mut full = package.clone();
            full.extend(name);
            let entry = rules.entry((package.clone(), full)).or_default();
            let kind = kind(rule);
            if !entry.0.contains(&kind) {
                entry.0.push(kind);
            }
            entry.1.push(format!("{file}:{}", rule.span().line));
        }
    }
    for ((package, path), (kinds, definitions)) in rules {
        let (evaluator, reason) = match &snapshot {
            Some(snapshot) => evaluator(snapshot, &path),
            None => (None, None),
        };
        let kind = match kinds.as_slice() {
            ["default"] => "complete + default".to_string(),
            _ if kinds.contains(&"default") => {
                let others: Vec<&str> = kinds.iter().copied().filter(|k| *k != "default").collect();
                format!("{} + default", others.join(", "))
            }
            _ => kinds.join(", "),
        };
        if let Some(view) = by_package.get_mut(&package) {
            view.rules.push(RuleView {
                path: crate::policy::to_ref(&path),
                kind,
                definitions,
                evaluator,
                reason,
            });
        }
    }
    (by_package.into_values().collect(), error)
}

fn kind(rule: &Rule) -> &'static str {
    match rule {
        Rule::Default { args, .. } if !args.is_empty() => "function",
        Rule::Default { .. } => "default",
        Rule::Spec { head, .. } => match head {
            RuleHead::Func { .. } => "function",
            RuleHead::Set { .. } => "partial set",
            RuleHead::Compr { refr, .. } => {
                // `p[k] := v`: a bracket that is not a literal makes a partial object.
                if has_dynamic_key(refr) {
                    "partial object"
                } else {
                    "complete"
                }
            }
        },
    }
}

fn has_dynamic_key(refr: &Expr) -> bool {
    match refr {
        Expr::RefBrack { refr, index, .. } => {
            !matches!(index.as_ref(), Expr::String { .. } | Expr::RawString { .. })
                || has_dynamic_key(refr)
        }
        Expr::RefDot { refr, .. } => has_dynamic_key(refr),
        _ => false,
    }
}

/// Where the snapshot evaluates the rule at `path`, and why not on the RVM.
fn evaluator(snapshot: &Snapshot, path: &[String]) -> (Option<&'static str>, Option<String>) {
    let entry = snapshot.rules().iter().find(|r| r.segments == path);
    let full = crate::policy::to_ref(path);
    match entry {
        Some(rule) if rule.is_function => (
            Some("none"),
            Some("a function: it runs wherever it is called".into()),
        ),
        Some(rule) if rule.rvm_entry.is_some() => (Some("rvm"), None),
        Some(rule) => {
            let reason = snapshot
                .interpreter_rules
                .iter()
                .find(|(p, _)| *p == rule.path || *p == full)
                .map(|(_, why)| short_reason(why))
                .unwrap_or_else(|| "not compiled for the RVM".into());
            (Some("interpreter"), Some(reason))
        }
        None => (None, None),
    }
}

/// The RVM compiler's message, which quotes the source on one line
/// (`--> file:line:col | 21 | ... ^ error: message`), as `message (file:line:col)`.
fn short_reason(reason: &str) -> String {
    let Some((_, message)) = reason.rsplit_once("error: ") else {
        return reason.to_string();
    };
    match reason
        .split_once("--> ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
    {
        Some(location) => format!("{} ({location})", message.trim()),
        None => message.trim().to_string(),
    }
}

fn data_files(files: &BundleFiles) -> Vec<DataFile> {
    files
        .files
        .iter()
        .filter(|(name, _)| {
            is_bundle_file(name)
                && !name.ends_with(".rego")
                && name.as_str() != MANIFEST_FILE
                && name.as_str() != SIGNATURES_FILE
        })
        .map(|(name, content)| {
            let dir: Vec<String> = match name.rsplit_once('/') {
                Some((dir, _)) => dir.split('/').map(String::from).collect(),
                None => Vec::new(),
            };
            let value: Option<serde_json::Value> = if name.ends_with(".json") {
                serde_json::from_slice(content).ok()
            } else {
                yaml_serde::from_slice(content).ok()
            };
            let keys: Vec<String> = match &value {
                Some(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
                _ => Vec::new(),
            };
            DataFile {
                file: name.clone(),
                path: crate::policy::to_ref(&dir),
                bytes: content.len() as u64,
                more_keys: keys.len().saturating_sub(MAX_KEYS),
                keys: keys.into_iter().take(MAX_KEYS).collect(),
            }
        })
        .collect()
}
