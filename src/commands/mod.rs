//! The one-shot subcommands (`eval`, `test`, `build`); `run` lives in [`crate::app`].
//!
//! Owns: what the subcommands share: loading bundles from the command line and reading a path
//! written either as `orders/allow` or as `data.orders.allow`.

pub mod build;
pub mod eval;
pub mod test;

use std::sync::Arc;

use crate::bundle::{Bundle, DEFAULT_MAX_BUNDLE_BYTES, parse_ref};
use crate::config::BundleSource;
use crate::policy::{CompileOptions, PathError, Snapshot, split_path};

/// Loads and compiles `sources` as `run` would.
pub fn compile(sources: &[BundleSource], options: CompileOptions) -> Result<Snapshot, String> {
    let mut bundles = Vec::with_capacity(sources.len());
    for source in sources {
        let bundle = Bundle::load(&source.name, &source.path, DEFAULT_MAX_BUNDLE_BYTES)
            .map_err(|e| format!("bundle {:?}: {e}", source.name))?;
        bundles.push(Arc::new(bundle));
    }
    Snapshot::compile(&bundles, options).map_err(|e| e.to_string())
}

/// Path segments of `orders/allow`, `/v1/data/orders/allow` or `data.orders.allow`.
pub fn query_segments(query: &str) -> Result<Vec<String>, String> {
    let trimmed = query.trim();
    if trimmed == "data" || trimmed.starts_with("data.") || trimmed.starts_with("data[") {
        return parse_ref(trimmed);
    }
    let slash = trimmed.strip_prefix("/v1/data").unwrap_or(trimmed);
    split_path(slash).map_err(|e: PathError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_paths_in_both_notations() {
        let want = vec!["orders".to_string(), "allow".to_string()];
        assert_eq!(query_segments("orders/allow").unwrap(), want);
        assert_eq!(query_segments("/v1/data/orders/allow").unwrap(), want);
        assert_eq!(query_segments("data.orders.allow").unwrap(), want);
        assert_eq!(query_segments("data").unwrap(), Vec::<String>::new());
    }
}
