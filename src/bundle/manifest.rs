//! The bundle `.manifest`: revision, roots, Rego version and metadata, and the roots rules.
//!
//! Owns: parsing the manifest and answering "is this path inside the roots?" and "do these two
//! bundles' roots overlap?". Does not know where files are read from.

use serde::Deserialize;

use super::BundleError;

/// What a bundle's `.manifest` says (OPA's format). Unknown fields are ignored, as OPA does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manifest {
    pub revision: String,
    /// Slash-separated path prefixes this bundle owns; `[""]` owns everything.
    pub roots: Vec<String>,
    /// `true` when the manifest asks for Rego v0 syntax (`"rego_version": 0`).
    pub rego_v0: bool,
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct RawManifest {
    #[serde(default)]
    revision: Option<String>,
    #[serde(default)]
    roots: Option<Vec<String>>,
    #[serde(default)]
    rego_version: Option<i64>,
    #[serde(default)]
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Manifest {
    /// The manifest of a bundle without a `.manifest` file: no revision, owns every path.
    pub fn unrestricted() -> Self {
        Self {
            roots: vec![String::new()],
            ..Self::default()
        }
    }

    /// Parses `.manifest` content; `file` names it in errors.
    pub fn parse(file: &str, content: &[u8]) -> Result<Self, BundleError> {
        let raw: RawManifest = serde_json::from_slice(content).map_err(|e| BundleError::Json {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let rego_v0 = match raw.rego_version {
            None | Some(1) => false,
            Some(0) => true,
            Some(other) => {
                return Err(BundleError::Manifest {
                    file: file.to_string(),
                    message: format!("rego_version must be 0 or 1, not {other}"),
                });
            }
        };
        let roots = match raw.roots {
            None => vec![String::new()],
            Some(roots) => roots
                .iter()
                .map(|r| r.trim_matches('/').to_string())
                .collect(),
        };
        Ok(Self {
            revision: raw.revision.unwrap_or_default(),
            roots,
            rego_v0,
            metadata: raw.metadata,
        })
    }

    /// True when `path` (data path segments) lies at or below one of the roots.
    pub fn covers(&self, path: &[String]) -> bool {
        self.roots
            .iter()
            .any(|root| is_prefix(&split_root(root), path))
    }

    /// True when `path` is a strict ancestor of some root: data placed there must be an object
    /// whose children are checked one by one.
    pub fn is_ancestor_of_root(&self, path: &[String]) -> bool {
        self.roots.iter().any(|root| {
            let root = split_root(root);
            root.len() > path.len() && is_prefix(path, &root)
        })
    }

    /// The first pair of roots, one from each manifest, where one contains the other.
    pub fn overlapping_root<'a>(&'a self, other: &'a Manifest) -> Option<(&'a str, &'a str)> {
        for a in &self.roots {
            for b in &other.roots {
                let (sa, sb) = (split_root(a), split_root(b));
                if is_prefix(&sa, &sb) || is_prefix(&sb, &sa) {
                    return Some((a, b));
                }
            }
        }
        None
    }
}

fn split_root(root: &str) -> Vec<&str> {
    if root.is_empty() {
        Vec::new()
    } else {
        root.split('/').collect()
    }
}

fn is_prefix<A: AsRef<str>, B: AsRef<str>>(prefix: &[A], path: &[B]) -> bool {
    prefix.len() <= path.len()
        && prefix
            .iter()
            .zip(path)
            .all(|(a, b)| a.as_ref() == b.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    #[test]
    fn parses_opa_manifest() {
        let m = Manifest::parse(
            ".manifest",
            br#"{"revision":"r1","roots":["/orders","lib/"],"rego_version":0,"extra":true}"#,
        )
        .unwrap();
        assert_eq!(m.revision, "r1");
        assert_eq!(m.roots, vec!["orders", "lib"]);
        assert!(m.rego_v0);
    }

    #[test]
    fn rejects_unknown_rego_version() {
        let err = Manifest::parse(".manifest", br#"{"rego_version": 2}"#).unwrap_err();
        assert!(err.to_string().contains("rego_version"), "{err}");
    }

    #[test]
    fn roots_cover_descendants_only() {
        let m = Manifest::parse(".manifest", br#"{"roots":["orders","a/b"]}"#).unwrap();
        assert!(m.covers(&path("orders")));
        assert!(m.covers(&path("orders/x/y")));
        assert!(m.covers(&path("a/b/c")));
        assert!(!m.covers(&path("a")));
        assert!(!m.covers(&path("ordersx")));
        assert!(m.is_ancestor_of_root(&path("a")));
        assert!(m.is_ancestor_of_root(&[]));
        assert!(!m.is_ancestor_of_root(&path("a/b")));
        assert!(Manifest::unrestricted().covers(&path("anything/at/all")));
    }

    #[test]
    fn overlapping_roots_are_found() {
        let a = Manifest::parse(".manifest", br#"{"roots":["orders"]}"#).unwrap();
        let b = Manifest::parse(".manifest", br#"{"roots":["orders/admin"]}"#).unwrap();
        let c = Manifest::parse(".manifest", br#"{"roots":["payment"]}"#).unwrap();
        assert_eq!(a.overlapping_root(&b), Some(("orders", "orders/admin")));
        assert_eq!(a.overlapping_root(&c), None);
        assert!(Manifest::unrestricted().overlapping_root(&c).is_some());
    }
}
