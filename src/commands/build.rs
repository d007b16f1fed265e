//! `authzd build`: a bundle directory into a deterministic `.tar.gz`, optionally signed.
//!
//! Owns: checking that the bundle compiles, signing it (OPA's `.signatures.json`, so OPA can
//! verify it too) and writing the tarball byte-for-byte the same for the same input (sorted
//! entries, zero timestamps and owners).

use std::process::ExitCode;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey};

use crate::bundle::{Bundle, BundleFiles, DEFAULT_MAX_BUNDLE_BYTES, SIGNATURES_FILE, sign};
use crate::cli::BuildArgs;
use crate::policy::{CompileOptions, Snapshot};

pub fn run(args: BuildArgs) -> ExitCode {
    match build(&args) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("authzd build: {message}");
            ExitCode::FAILURE
        }
    }
}

fn build(args: &BuildArgs) -> Result<String, String> {
    let mut files =
        BundleFiles::read_dir(&args.path, DEFAULT_MAX_BUNDLE_BYTES).map_err(|e| e.to_string())?;
    files.files.remove(SIGNATURES_FILE);
    let name = args
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "bundle".into());
    // Refuse to package a bundle that would be rejected when served.
    let bundle = Bundle::from_files(&name, &args.path, &files).map_err(|e| e.to_string())?;
    Snapshot::compile(
        &[Arc::new(bundle)],
        CompileOptions {
            use_rvm: false,
            ..CompileOptions::default()
        },
    )
    .map_err(|e| e.to_string())?;

    let mut signed = false;
    if let Some(key) = &args.signing_key {
        let algorithm: Algorithm = args
            .signing_alg
            .parse()
            .map_err(|_| format!("unknown signing algorithm {}", args.signing_alg))?;
        let material = std::fs::read(key).unwrap_or_else(|_| key.clone().into_bytes());
        let encoding = match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                EncodingKey::from_secret(&material)
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                EncodingKey::from_ec_pem(&material).map_err(|e| format!("--signing-key: {e}"))?
            }
            Algorithm::EdDSA => {
                EncodingKey::from_ed_pem(&material).map_err(|e| format!("--signing-key: {e}"))?
            }
            _ => EncodingKey::from_rsa_pem(&material).map_err(|e| format!("--signing-key: {e}"))?,
        };
        let signatures = sign::sign(
            &files,
            &encoding,
            algorithm,
            args.signing_key_id.as_deref(),
            args.scope.as_deref(),
        )
        .map_err(|e| e.to_string())?;
        files.files.insert(SIGNATURES_FILE.to_string(), signatures);
        signed = true;
    }

    let bytes = files
        .to_tarball()
        .map_err(|e| format!("cannot write the tarball: {e}"))?;
    std::fs::write(&args.output, &bytes).map_err(|e| format!("{}: {e}", args.output.display()))?;
    Ok(format!(
        "{}: {} files, {} bytes{}",
        args.output.display(),
        files.files.len(),
        bytes.len(),
        if signed { ", signed" } else { "" }
    ))
}
