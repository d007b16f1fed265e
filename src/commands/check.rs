//! `authzd check [PATH]...`: parse and compile bundles and `.rego` files, and report every
//! error as `file:line:col: message` (exit 1 when there is one).
//!
//! Owns: turning the paths into the files to check (a bundle's manifest, data files and
//! modules; loose `.rego` files), and the last word: a set of bundles that passes every check
//! is compiled exactly as `run` would load it, so `check` never passes what the daemon would
//! refuse. The analyses are [`crate::analysis`]'s.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::analysis::errors::{self, SourceFile};
use crate::analysis::{Diagnostic, strict};
use crate::bundle::{
    Bundle, BundleError, BundleFiles, DEFAULT_MAX_BUNDLE_BYTES, MANIFEST_FILE, Manifest,
    SIGNATURES_FILE, is_bundle_file,
};
use crate::cli::CheckArgs;
use crate::policy::{CompileOptions, Snapshot};

pub fn run(args: CheckArgs) -> ExitCode {
    let found = check(&args.paths, args.strict);
    for diagnostic in &found {
        println!("{diagnostic}");
    }
    if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        let s = if found.len() == 1 { "" } else { "s" };
        eprintln!("authzd check: {} problem{s}", found.len());
        ExitCode::FAILURE
    }
}

/// Every finding for `paths`, checked together.
pub fn check(paths: &[std::path::PathBuf], strict: bool) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    let mut sources = Vec::new();
    let mut bundles = Vec::new();
    let mut loose_files = false;
    for path in paths {
        if path.is_file() && path.extension().is_some_and(|e| e == "rego") {
            loose_files = true;
            match std::fs::read_to_string(path) {
                Ok(text) => match readable(path.display().to_string(), text, false) {
                    Ok(source) => sources.push(source),
                    Err(problem) => found.push(problem),
                },
                Err(e) => found.push(Diagnostic::unplaced(
                    path.display().to_string(),
                    e.to_string(),
                )),
            }
            continue;
        }
        match read_bundle(path) {
            Ok((files, bundle_sources, problems)) => {
                let clean = problems.is_empty();
                found.extend(problems);
                sources.extend(bundle_sources);
                if clean {
                    bundles.push((path.clone(), files));
                }
            }
            Err(problem) => found.push(problem),
        }
    }
    let errors = errors::check(&sources);
    let compiled = errors.is_empty();
    found.extend(errors);
    if strict {
        for source in &sources {
            if let Ok(module) = errors::parse(source) {
                // A deprecated builtin regorus lacks is already an error at that position.
                let lints: Vec<Diagnostic> = strict::lint(&module)
                    .into_iter()
                    .filter(|l| {
                        !found
                            .iter()
                            .any(|f| (&f.file, f.line, f.col) == (&l.file, l.line, l.col))
                    })
                    .collect();
                found.extend(lints);
            }
        }
    }
    if found.is_empty() && compiled && !loose_files {
        found.extend(as_served(&bundles));
    }
    found
}

/// A module as the checks read it: its template strings rewritten as the load rewrites them,
/// or the error that refuses it.
fn readable(id: String, text: String, rego_v0: bool) -> Result<SourceFile, Diagnostic> {
    match crate::bundle::regorus_text(&id, text) {
        Ok(text) => Ok(SourceFile { id, text, rego_v0 }),
        Err(BundleError::Syntax { error, .. }) => Err(Diagnostic {
            file: id,
            line: u32::try_from(error.line).unwrap_or(u32::MAX),
            col: u32::try_from(error.column).unwrap_or(u32::MAX),
            message: format!("rego_parse_error: {}", error.message),
        }),
        Err(other) => Err(Diagnostic::unplaced(id, other.to_string())),
    }
}

/// The files of the bundle at `path`, its Rego sources, and what is wrong with its manifest
/// and data files.
fn read_bundle(path: &Path) -> Result<(BundleFiles, Vec<SourceFile>, Vec<Diagnostic>), Diagnostic> {
    let shown = path.display().to_string();
    let files = BundleFiles::read(path, DEFAULT_MAX_BUNDLE_BYTES)
        .map_err(|e| Diagnostic::unplaced(&shown, e.to_string()))?;
    let mut problems = Vec::new();
    let manifest = match files.files.get(MANIFEST_FILE) {
        None => Manifest::unrestricted(),
        Some(content) => Manifest::parse(MANIFEST_FILE, content).unwrap_or_else(|e| {
            problems.push(placed(path, e));
            Manifest::unrestricted()
        }),
    };
    let mut sources = Vec::new();
    for (name, content) in &files.files {
        if name == MANIFEST_FILE || name == SIGNATURES_FILE {
            continue;
        }
        if name.ends_with(".rego") {
            match String::from_utf8(content.clone()) {
                Ok(text) => match readable(module_id(path, name), text, manifest.rego_v0) {
                    Ok(source) => sources.push(source),
                    Err(problem) => problems.push(problem),
                },
                Err(_) => problems.push(Diagnostic::unplaced(
                    module_id(path, name),
                    "not valid UTF-8 text",
                )),
            }
        } else if is_bundle_file(name) {
            let parsed = if name.ends_with(".json") {
                serde_json::from_slice::<serde_json::Value>(content)
                    .err()
                    .map(|e| Diagnostic {
                        file: module_id(path, name),
                        line: e.line() as u32,
                        col: e.column() as u32,
                        message: format!("invalid JSON: {e}"),
                    })
            } else {
                yaml_serde::from_slice::<serde_json::Value>(content)
                    .err()
                    .map(|e| {
                        Diagnostic::unplaced(module_id(path, name), format!("invalid YAML: {e}"))
                    })
            };
            problems.extend(parsed);
        }
    }
    Ok((files, sources, problems))
}

/// A bundle error, at its file (and line) inside the bundle at `path`.
fn placed(path: &Path, error: BundleError) -> Diagnostic {
    match error {
        BundleError::Json {
            file,
            line,
            column,
            message,
        } => Diagnostic {
            file: module_id(path, &file),
            line: line as u32,
            col: column as u32,
            message: format!("invalid JSON: {message}"),
        },
        other => Diagnostic::unplaced(path.display().to_string(), other.to_string()),
    }
}

/// How the daemon names a module in its errors (`policies/orders/policy.rego`, or
/// `bundle.tar.gz:orders/policy.rego`), so `check` and `run` point at the same place.
fn module_id(bundle: &Path, file: &str) -> String {
    let source = bundle.display().to_string();
    if bundle.is_dir() {
        format!("{}/{file}", source.trim_end_matches('/'))
    } else {
        format!("{source}:{file}")
    }
}

/// Loads and compiles the bundles as `run` does; what it refuses.
fn as_served(bundles: &[(std::path::PathBuf, BundleFiles)]) -> Vec<Diagnostic> {
    let mut assembled = Vec::new();
    for (path, files) in bundles {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "bundle".into());
        match Bundle::from_files(&name, path, files) {
            Ok(bundle) => assembled.push(Arc::new(bundle)),
            Err(e) => return vec![placed_bundle_error(path, e)],
        }
    }
    let options = CompileOptions {
        evaluator_slots: 1,
        ..CompileOptions::default()
    };
    match Snapshot::compile(&assembled, options) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let first = bundles
                .first()
                .map(|(p, _)| p.display().to_string())
                .unwrap_or_default();
            vec![Diagnostic::from_regorus(&first, &e.to_string())]
        }
    }
}

/// A bundle error from assembling: a package or data placement names its file.
fn placed_bundle_error(path: &Path, error: BundleError) -> Diagnostic {
    match error {
        BundleError::Package {
            file,
            line,
            message,
        } => Diagnostic {
            file: module_id(path, &file),
            line: line as u32,
            col: 1,
            message,
        },
        BundleError::OutsideRoots { ref file, .. } | BundleError::DataConflict { ref file, .. } => {
            let text = error.to_string();
            let message = text.strip_prefix(&format!("{file}: ")).unwrap_or(&text);
            Diagnostic::unplaced(module_id(path, file), message)
        }
        other => placed(path, other),
    }
}
