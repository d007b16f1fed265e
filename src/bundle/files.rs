//! Reading a bundle's raw files from a directory or a `.tar.gz`, in memory and under a size cap.
//!
//! Owns: reading every regular file of a bundle (a signature covers all of them), path
//! normalisation, the Kubernetes ConfigMap `..data` layout, rejecting hostile archives (`../`
//! paths, links, gzip bombs), and saying which files carry policy or data
//! ([`is_bundle_file`]). Does not parse any file.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest, Sha256};

use super::BundleError;

/// Name of the manifest file at a bundle's root.
pub const MANIFEST_FILE: &str = ".manifest";
/// Name of the signatures file at a bundle's root.
pub const SIGNATURES_FILE: &str = ".signatures.json";
/// The symlink kubelet swaps atomically when a ConfigMap volume changes.
pub const CONFIGMAP_DATA_LINK: &str = "..data";

/// How deep a directory bundle may nest (guards against symlink loops).
const MAX_DEPTH: usize = 32;

/// The raw files of one bundle, keyed by their slash-separated path relative to the bundle root.
#[derive(Debug, Clone, Default)]
pub struct BundleFiles {
    pub files: BTreeMap<String, Vec<u8>>,
}

impl BundleFiles {
    /// Reads a directory or a `.tar.gz` file, whichever `path` is.
    pub fn read(path: &Path, max_bytes: u64) -> Result<Self, BundleError> {
        let meta = fs::metadata(path).map_err(|source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            Self::read_dir(path, max_bytes)
        } else {
            Self::read_tarball(path, max_bytes)
        }
    }

    /// Reads a bundle directory. A ConfigMap volume (a `..data` symlink at the root) is read
    /// through the directory `..data` points to right now, so one read never mixes two versions.
    ///
    /// kubelet deletes the previous directory right after the swap, so a read that started on
    /// it may see only some of its files: when `..data` no longer points where the read began,
    /// the read starts again on the new directory.
    pub fn read_dir(root: &Path, max_bytes: u64) -> Result<Self, BundleError> {
        let data_link = root.join(CONFIGMAP_DATA_LINK);
        if fs::symlink_metadata(&data_link).is_err() {
            return Self::read_tree(root, max_bytes);
        }
        let target = || {
            fs::canonicalize(&data_link).map_err(|source| BundleError::Io {
                path: data_link.clone(),
                source,
            })
        };
        let mut attempts = 0;
        loop {
            attempts += 1;
            let base = target()?;
            let read = Self::read_tree(&base, max_bytes);
            match target() {
                Ok(now) if now == base => return read,
                // Swapped while reading: what was read may be a directory being deleted.
                _ if attempts < 5 => continue,
                _ => return read,
            }
        }
    }

    /// Reads every file below `base`.
    fn read_tree(base: &Path, max_bytes: u64) -> Result<Self, BundleError> {
        let base = base.to_path_buf();
        let mut out = Self::default();
        let mut total = 0u64;
        walk(&base, "", 0, &mut |rel, path, _| {
            let remaining = max_bytes.saturating_sub(total);
            let content = read_capped(path, remaining)?;
            total += content.len() as u64;
            out.files.insert(rel, content);
            Ok(())
        })?;
        Ok(out)
    }

    /// What a directory or a tarball looks like from its metadata alone: every file's path,
    /// size, modification time and inode, through the ConfigMap `..data` link as [`Self::read`]
    /// goes. Equal fingerprints mean nothing was written since: a periodic re-check compares
    /// them and reads nothing (rewriting a file in place changes its modification time; kubelet
    /// swaps `..data` to a new directory).
    pub fn fingerprint(path: &Path) -> Result<u64, BundleError> {
        use std::hash::{Hash, Hasher};
        use std::os::unix::fs::MetadataExt;
        let io_err = |source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        };
        fn add(hasher: &mut impl Hasher, rel: &str, meta: &fs::Metadata) {
            rel.hash(hasher);
            (
                meta.len(),
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ino(),
                meta.dev(),
            )
                .hash(hasher);
        }
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let meta = fs::metadata(path).map_err(io_err)?;
        if !meta.is_dir() {
            add(&mut hasher, "", &meta);
            return Ok(hasher.finish());
        }
        let data_link = path.join(CONFIGMAP_DATA_LINK);
        let base = if fs::symlink_metadata(&data_link).is_ok() {
            let target = fs::canonicalize(&data_link).map_err(io_err)?;
            target.hash(&mut hasher);
            target
        } else {
            path.to_path_buf()
        };
        walk(&base, "", 0, &mut |rel, _, meta| {
            add(&mut hasher, &rel, meta);
            Ok(())
        })?;
        Ok(hasher.finish())
    }

    /// Reads a gzip-compressed tarball fully into memory, never unpacking to disk.
    pub fn read_tarball(archive: &Path, max_bytes: u64) -> Result<Self, BundleError> {
        let compressed = read_capped(archive, max_bytes)?;
        Self::from_tarball_bytes(archive, &compressed, max_bytes)
    }

    /// Decodes a gzip-compressed tarball held in memory (`origin` names it in errors).
    pub fn from_tarball_bytes(
        origin: &Path,
        compressed: &[u8],
        max_bytes: u64,
    ) -> Result<Self, BundleError> {
        let archive_err = |message: String| BundleError::Archive {
            archive: origin.to_path_buf(),
            message,
        };
        let decoder = flate2::read::GzDecoder::new(compressed);
        let mut tar = tar::Archive::new(decoder);
        let entries = tar.entries().map_err(|e| archive_err(e.to_string()))?;
        let mut out = Self::default();
        let mut total = 0u64;
        for entry in entries {
            let mut entry = entry.map_err(|e| archive_err(e.to_string()))?;
            let kind = entry.header().entry_type();
            let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if kind.is_dir() || kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
                continue;
            }
            if !kind.is_file() {
                return Err(BundleError::UnsafePath {
                    archive: origin.to_path_buf(),
                    entry: raw_path,
                    reason: "links and special files are not allowed in bundles",
                });
            }
            let rel = normalise_archive_path(&raw_path).ok_or_else(|| BundleError::UnsafePath {
                archive: origin.to_path_buf(),
                entry: raw_path.clone(),
                reason: "paths must stay inside the bundle (no '..')",
            })?;
            let remaining = max_bytes.saturating_sub(total);
            let mut content = Vec::new();
            (&mut entry)
                .take(remaining.saturating_add(1))
                .read_to_end(&mut content)
                .map_err(|e| archive_err(format!("{rel}: {e}")))?;
            total += content.len() as u64;
            if total > max_bytes {
                return Err(BundleError::TooLarge {
                    path: origin.to_path_buf(),
                    limit: max_bytes,
                });
            }
            if out.files.insert(rel.clone(), content).is_some() {
                return Err(archive_err(format!("{rel} appears twice in the archive")));
            }
        }
        Ok(out)
    }

    /// The files as a deterministic gzip-compressed tarball (relative entry names, which OPA
    /// reads too; entries sorted; no times or owners), as `authzd build` writes it.
    pub fn to_tarball(&self) -> std::io::Result<Vec<u8>> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let mut builder = tar::Builder::new(gz);
        builder.mode(tar::HeaderMode::Deterministic);
        for (name, content) in &self.files {
            let mut header = tar::Header::new_gnu();
            header.set_size(content.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_uid(0);
            header.set_gid(0);
            header.set_entry_type(tar::EntryType::Regular);
            builder.append_data(&mut header, name, content.as_slice())?;
        }
        builder.into_inner()?.finish()
    }

    /// The SHA-256 of each file's content, by path: read once, used both to tell whether the
    /// bundle changed ([`Self::content_hash_of`]) and which data files a reload may keep.
    pub fn digests(&self) -> BTreeMap<String, [u8; 32]> {
        self.files
            .iter()
            .map(|(path, content)| (path.clone(), Sha256::digest(content).into()))
            .collect()
    }

    /// A digest of every path and content, from the files' [`Self::digests`], to tell whether
    /// a re-read bundle changed.
    pub fn content_hash_of(digests: &BTreeMap<String, [u8; 32]>) -> [u8; 32] {
        let mut hasher = Sha256::new();
        for (path, digest) in digests {
            hasher.update((path.len() as u64).to_le_bytes());
            hasher.update(path.as_bytes());
            hasher.update(digest);
        }
        hasher.finalize().into()
    }
}

/// True for the files that carry policy or data; the others (READMEs, ...) are read only so a
/// signature can cover them.
pub fn is_bundle_file(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if rel == MANIFEST_FILE || rel == SIGNATURES_FILE {
        return true;
    }
    name.ends_with(".rego") || matches!(name, "data.json" | "data.yaml" | "data.yml")
}

/// Visits every file of a bundle directory in path order (following symlinks, skipping
/// kubelet's internals and hidden files other than the two bundle files), with its relative
/// path, full path and metadata.
fn walk(
    dir: &Path,
    prefix: &str,
    depth: usize,
    visit: &mut dyn FnMut(String, &Path, &fs::Metadata) -> Result<(), BundleError>,
) -> Result<(), BundleError> {
    if depth > MAX_DEPTH {
        return Err(BundleError::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::other(format!(
                "directory nesting deeper than {MAX_DEPTH} levels (a symlink loop?)"
            )),
        });
    }
    let io_err = |path: &Path, source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io_err(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().into_owned();
        let rel = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        // kubelet's internals (`..data`, `..2024_..`) and hidden files other than the two
        // bundle files are never part of the bundle.
        let keep_hidden = prefix.is_empty() && (name == MANIFEST_FILE || name == SIGNATURES_FILE);
        if name.starts_with('.') && !keep_hidden {
            continue;
        }
        let path = entry.path();
        // Follow symlinks: ConfigMap keys are symlinks into `..data`.
        let meta = fs::metadata(&path).map_err(|e| io_err(&path, e))?;
        if meta.is_dir() {
            walk(&path, &rel, depth + 1, visit)?;
        } else if meta.is_file() {
            visit(rel, &path, &meta)?;
        }
    }
    Ok(())
}

/// Reads a whole file, failing with [`BundleError::TooLarge`] beyond `max_bytes`.
fn read_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, BundleError> {
    let file = fs::File::open(path).map_err(|source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Sized from the file's length (`take` hides it from `read_to_end`, which would grow the
    // buffer by doubling: a 10 MB file cost 16 MiB and 15 MB of copying).
    let expected = file.metadata().map_or(0, |m| m.len()).min(max_bytes);
    let mut content = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|source| BundleError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if content.len() as u64 > max_bytes {
        return Err(BundleError::TooLarge {
            path: path.to_path_buf(),
            limit: max_bytes,
        });
    }
    Ok(content)
}

/// Turns an archive entry path into a clean relative path, or `None` when it would escape.
/// OPA writes entries as `/orders/policy.rego`; leading `/` and `./` are dropped.
fn normalise_archive_path(raw: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for component in PathBuf::from(raw).components() {
        match component {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_normalised_or_rejected() {
        assert_eq!(
            normalise_archive_path("/orders/policy.rego").as_deref(),
            Some("orders/policy.rego")
        );
        assert_eq!(
            normalise_archive_path("./data.json").as_deref(),
            Some("data.json")
        );
        assert_eq!(normalise_archive_path("../etc/passwd"), None);
        assert_eq!(normalise_archive_path("a/../../b.rego"), None);
        assert_eq!(normalise_archive_path("/"), None);
    }

    #[test]
    fn only_bundle_files_are_kept() {
        assert!(is_bundle_file("orders/policy.rego"));
        assert!(is_bundle_file("rbac/data.json"));
        assert!(is_bundle_file("data.yaml"));
        assert!(is_bundle_file(".manifest"));
        assert!(!is_bundle_file("sub/.manifest"));
        assert!(!is_bundle_file("README.md"));
        assert!(!is_bundle_file("orders/input.json"));
    }

    #[test]
    fn configmap_layout_is_read_through_data_link() {
        let dir = tempfile::tempdir().unwrap();
        let v1 = dir.path().join("..2026_11_23_10_00_00.1");
        fs::create_dir(&v1).unwrap();
        fs::write(v1.join("p.rego"), "package p\nx := 1\n").unwrap();
        std::os::unix::fs::symlink("..2026_11_23_10_00_00.1", dir.path().join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/p.rego", dir.path().join("p.rego")).unwrap();
        let files = BundleFiles::read(dir.path(), 1 << 20).unwrap();
        assert_eq!(files.files.keys().collect::<Vec<_>>(), vec!["p.rego"]);
    }

    #[test]
    fn tarball_with_parent_path_is_rejected() {
        let mut builder = tar::Builder::new(Vec::new());
        let body = b"package evil\n";
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        // `set_path` refuses `..`, so write the name bytes directly as a hostile tool would.
        header.as_old_mut().name[..13].copy_from_slice(b"../evil.rego\0");
        header.set_cksum();
        builder.append(&header, &body[..]).unwrap();
        let tar_bytes = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
        let bytes = gz.finish().unwrap();
        let err =
            BundleFiles::from_tarball_bytes(Path::new("b.tar.gz"), &bytes, 1 << 20).unwrap_err();
        assert!(matches!(err, BundleError::UnsafePath { .. }), "{err}");
    }

    #[test]
    fn gzip_bomb_hits_the_cap() {
        let mut builder = tar::Builder::new(Vec::new());
        let body = vec![b' '; 4 << 20];
        let mut header = tar::Header::new_gnu();
        header.set_path("data.json").unwrap();
        header.set_size(body.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append(&header, &body[..]).unwrap();
        let tar_bytes = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &tar_bytes).unwrap();
        let bytes = gz.finish().unwrap();
        assert!(bytes.len() < 64 << 10);
        let err =
            BundleFiles::from_tarball_bytes(Path::new("b.tar.gz"), &bytes, 1 << 20).unwrap_err();
        assert!(matches!(err, BundleError::TooLarge { .. }), "{err}");
    }
}
