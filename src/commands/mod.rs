//! The one-shot subcommands (`eval`, `test`, `build`, `check`, `inspect`, `replay`); `run`
//! lives in [`crate::app`].
//!
//! Owns: what the subcommands share: loading bundles from the command line and the decision
//! pipeline they decide through (the command line is one more transport).

pub mod build;
pub mod capabilities;
pub mod check;
pub mod eval;
pub mod inspect;
pub mod replay;
pub mod test;

use std::sync::Arc;

use crate::bundle::{Bundle, DEFAULT_MAX_BUNDLE_BYTES};
use crate::config::BundleSource;
use crate::decide::{Decider, Recorder};
use crate::metrics::Metrics;
use crate::policy::{CompileOptions, Snapshot};
use crate::store::PolicyStore;

/// Loads and compiles `sources` as `run` would.
pub fn compile(sources: &[BundleSource], options: CompileOptions) -> Result<Snapshot, String> {
    Snapshot::compile(&load(sources)?, options).map_err(|e| e.to_string())
}

/// Loads `sources` as `run` would (to compile them more than once).
pub fn load(sources: &[BundleSource]) -> Result<Vec<Arc<Bundle>>, String> {
    let mut bundles = Vec::with_capacity(sources.len());
    for source in sources {
        let bundle = Bundle::load(&source.name, &source.path, DEFAULT_MAX_BUNDLE_BYTES)
            .map_err(|e| format!("bundle {:?}: {e}", source.name))?;
        bundles.push(Arc::new(bundle));
    }
    Ok(bundles)
}

/// The decision pipeline over one compiled snapshot, recording nowhere (no metrics recorder
/// is installed in a one-shot command, no decision log is configured).
pub fn decider(snapshot: Snapshot) -> Decider {
    let recorder = Recorder {
        metrics: Metrics::new(),
        log: None,
    };
    Decider::new(Arc::new(PolicyStore::new(snapshot)), recorder)
}
