//! Keeping the served bundles current: the reload path, never on a request thread.
//!
//! Owns: activation (read or receive a bundle, skip it when its content is unchanged, verify,
//! assemble, compile together with the other active bundles, swap the snapshot) and its
//! bookkeeping (status, readiness, log lines). A bundle that fails leaves the previous snapshot
//! serving. The triggers live in [`watch`] (file events, periodic re-checks, SIGHUP) and in
//! [`remote`] (bundle servers).

pub mod remote;
pub mod status;
pub mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use tracing::{debug, error, info};

use crate::bundle::sign::{self, VerificationKey};
use crate::bundle::{Bundle, BundleError, BundleFiles};
use crate::config::{BundleLocation, BundleSpec, Config};
use crate::metrics::Metrics;
use crate::policy::{CompileError, CompileOptions, Demotions, Snapshot};
use crate::store::PolicyStore;
pub use status::{BundleStatus, StatusTable};

/// Why a bundle was not activated.
#[derive(Debug, thiserror::Error)]
pub enum ActivationError {
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error("no bundle named {0:?} is configured")]
    Unknown(String),
    #[error("{0:?} is not a local bundle")]
    NotLocal(String),
    #[error("the reload task failed: {0}")]
    Task(String),
}

/// What an activation attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new revision is serving.
    Activated { revision: String },
    /// The bundle's files are the same as the active ones; nothing was compiled.
    Unchanged,
}

struct State {
    specs: Vec<BundleSpec>,
    keys: HashMap<String, VerificationKey>,
    options: CompileOptions,
    max_bytes: u64,
    /// The active version of each bundle, with the digest of its files.
    active: BTreeMap<String, (Arc<Bundle>, [u8; 32])>,
    /// Each local bundle's file metadata as last read successfully (see
    /// [`BundleFiles::fingerprint`]).
    fingerprints: HashMap<String, u64>,
}

/// Activates bundles one at a time (a lock serialises reloads; requests never take it).
pub struct BundleManager {
    state: Mutex<State>,
    store: Arc<PolicyStore>,
    metrics: Arc<Metrics>,
    /// Rules the fast-path self-check demoted; applied to every new snapshot.
    demotions: Arc<Demotions>,
    pub status: StatusTable,
}

impl BundleManager {
    pub fn new(
        config: &Config,
        store: Arc<PolicyStore>,
        metrics: Arc<Metrics>,
        demotions: Arc<Demotions>,
    ) -> Self {
        let status = StatusTable::new(
            config
                .bundles
                .iter()
                .map(|b| (b.name.as_str(), b.location.describe())),
        );
        Self {
            state: Mutex::new(State {
                specs: config.bundles.clone(),
                keys: config.keys.clone(),
                options: CompileOptions {
                    limits: config.limits,
                    sources: config.sources,
                    use_rvm: config.use_rvm,
                    // The runtime's workers, plus the decision-log thread and a blocking one.
                    evaluator_slots: config.threads + 2,
                },
                max_bytes: config.max_bundle_bytes,
                active: BTreeMap::new(),
                fingerprints: HashMap::new(),
            }),
            store,
            metrics,
            demotions,
            status,
        }
    }

    /// The configured bundles.
    pub fn specs(&self) -> Vec<BundleSpec> {
        self.lock().specs.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The periodic re-check of a local bundle: when no file's metadata changed since the last
    /// successful read, nothing is read, compared or recorded. Blocks.
    pub fn recheck_local_blocking(&self, name: &str) -> Result<Outcome, ActivationError> {
        let path = self.local_path(name)?;
        if let Ok(fingerprint) = BundleFiles::fingerprint(&path)
            && self.lock().fingerprints.get(name) == Some(&fingerprint)
        {
            return Ok(Outcome::Unchanged);
        }
        self.reload_local_blocking(name, false)
    }

    /// [`Self::recheck_local_blocking`] on a blocking thread.
    pub async fn recheck_local(self: &Arc<Self>, name: &str) -> Result<Outcome, ActivationError> {
        let this = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || this.recheck_local_blocking(&name))
            .await
            .map_err(|e| ActivationError::Task(e.to_string()))?
    }

    fn local_path(&self, name: &str) -> Result<PathBuf, ActivationError> {
        let state = self.lock();
        let spec = state
            .specs
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| ActivationError::Unknown(name.to_string()))?;
        match &spec.location {
            BundleLocation::Local(path) => Ok(path.clone()),
            BundleLocation::Remote(_) => Err(ActivationError::NotLocal(name.to_string())),
        }
    }

    /// Re-reads a local bundle and activates it if it changed (always, with `force`). Blocks:
    /// call it from a blocking thread.
    pub fn reload_local_blocking(
        &self,
        name: &str,
        force: bool,
    ) -> Result<Outcome, ActivationError> {
        let path = self.local_path(name)?;
        // Taken before the read: a write during the read makes the next re-check read again.
        let fingerprint = BundleFiles::fingerprint(&path).ok();
        let read = BundleFiles::read(&path, self.lock().max_bytes);
        let result = read
            .map_err(ActivationError::from)
            .and_then(|files| self.activate_files(name, &path, files, force));
        if let (Ok(_), Some(fingerprint)) = (&result, fingerprint) {
            self.lock()
                .fingerprints
                .insert(name.to_string(), fingerprint);
        }
        if let Ok(Outcome::Unchanged) = result {
            debug!(bundle = name, "bundle re-read: unchanged");
        }
        self.record(name, &result);
        result
    }

    /// [`Self::reload_local_blocking`] on a blocking thread.
    pub async fn reload_local(
        self: &Arc<Self>,
        name: &str,
        force: bool,
    ) -> Result<Outcome, ActivationError> {
        let this = self.clone();
        let name = name.to_string();
        tokio::task::spawn_blocking(move || this.reload_local_blocking(&name, force))
            .await
            .map_err(|e| ActivationError::Task(e.to_string()))?
    }

    /// Activates a downloaded (or persisted) `.tar.gz`. Blocks.
    pub fn activate_tarball_blocking(
        &self,
        name: &str,
        origin: &Path,
        bytes: &[u8],
    ) -> Result<Outcome, ActivationError> {
        let max_bytes = self.lock().max_bytes;
        let result = BundleFiles::from_tarball_bytes(origin, bytes, max_bytes)
            .map_err(ActivationError::from)
            .and_then(|files| self.activate_files(name, origin, files, false));
        self.record(name, &result);
        result
    }

    /// [`Self::activate_tarball_blocking`] on a blocking thread.
    pub async fn activate_tarball(
        self: &Arc<Self>,
        name: &str,
        origin: &str,
        bytes: bytes::Bytes,
    ) -> Result<Outcome, ActivationError> {
        let this = self.clone();
        let name = name.to_string();
        let origin = origin.to_string();
        tokio::task::spawn_blocking(move || {
            this.activate_tarball_blocking(&name, Path::new(&origin), &bytes)
        })
        .await
        .map_err(|e| ActivationError::Task(e.to_string()))?
    }

    /// Activates `files` as bundle `name`: prepare (verify, compile together with the other
    /// active bundles) and commit (swap, then bookkeeping). Reloads are serialised by the
    /// state lock; requests never take it.
    fn activate_files(
        &self,
        name: &str,
        source: &Path,
        files: BundleFiles,
        force: bool,
    ) -> Result<Outcome, ActivationError> {
        let started = Instant::now();
        let mut state = self.lock();
        let Some(prepared) = prepare(&state, name, source, files, force)? else {
            return Ok(Outcome::Unchanged);
        };
        let revision = self.commit(&mut state, name, prepared);
        drop(state);
        info!(
            bundle = name,
            revision = %revision,
            duration_ms = started.elapsed().as_millis() as u64,
            "bundle activated"
        );
        Ok(Outcome::Activated { revision })
    }

    /// Swaps the prepared snapshot in and records the new revision everywhere.
    fn commit(&self, state: &mut State, name: &str, prepared: Prepared) -> String {
        self.demotions.apply(&prepared.snapshot);
        self.metrics.rules(&prepared.snapshot.rule_counts());
        for (rule, reason) in &prepared.snapshot.interpreter_rules {
            info!(bundle = name, rule = %rule, reason = %reason, "rule evaluated by the interpreter");
        }
        self.store.store(prepared.snapshot);
        let revision = prepared.bundle.manifest.revision.clone();
        let previous = state
            .active
            .insert(name.to_string(), (prepared.bundle, prepared.hash))
            .map(|(b, _)| b.manifest.revision.clone());
        self.metrics.bundle_load(name, true);
        self.metrics
            .bundle_active(name, previous.as_deref(), &revision);
        self.status.update(name, |s| {
            s.active_revision = Some(revision.clone());
            s.last_successful_activation = Some(SystemTime::now());
            s.size = prepared.size;
        });
        if self.status.all_active() {
            self.store.mark_ready();
        }
        revision
    }

    /// Records the outcome of an attempt in the status table and the log.
    fn record(&self, name: &str, result: &Result<Outcome, ActivationError>) {
        match result {
            Ok(_) => self.status.update(name, |s| {
                s.error = None;
                s.http_code = None;
            }),
            Err(e) => {
                self.metrics.bundle_load(name, false);
                let serving = self
                    .lock()
                    .active
                    .get(name)
                    .map(|(b, _)| b.manifest.revision.clone());
                error!(
                    bundle = name,
                    error = %e,
                    still_serving = serving.as_deref().unwrap_or("nothing"),
                    "bundle rejected; the previous revision keeps serving"
                );
                self.status.update(name, |s| s.error = Some(e.to_string()));
            }
        }
    }
}

/// A bundle ready to be swapped in: verified, assembled and compiled with the others.
struct Prepared {
    bundle: Arc<Bundle>,
    hash: [u8; 32],
    size: u64,
    snapshot: Snapshot,
}

/// Everything that can fail, off the request path; `None` when the files are the active ones.
fn prepare(
    state: &State,
    name: &str,
    source: &Path,
    files: BundleFiles,
    force: bool,
) -> Result<Option<Prepared>, ActivationError> {
    // Each file is hashed once: for the whole bundle's hash and for each data file's reuse.
    let digests = files.digests();
    let hash = BundleFiles::content_hash_of(&digests);
    if !force
        && state
            .active
            .get(name)
            .is_some_and(|(_, active)| *active == hash)
    {
        return Ok(None);
    }
    let spec = state
        .specs
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ActivationError::Unknown(name.to_string()))?;
    if let Some(verification) = &spec.verification {
        sign::verify(&files, &state.keys, verification)?;
    }
    let size = files.files.values().map(|c| c.len() as u64).sum();
    // Data files whose bytes did not change keep their parsed documents: a reload of a large,
    // unchanged data file neither parses it nor holds it twice.
    let previous = state.active.get(name).map(|(b, _)| b.as_ref());
    let bundle = Arc::new(Bundle::from_files_reusing(
        name,
        source,
        &files,
        previous,
        Some(&digests),
    )?);
    // Compile the new bundle together with every other active one, in configured order.
    let candidate: Vec<Arc<Bundle>> = state
        .specs
        .iter()
        .filter_map(|s| {
            if s.name == name {
                Some(bundle.clone())
            } else {
                state.active.get(&s.name).map(|(b, _)| b.clone())
            }
        })
        .collect();
    let snapshot = Snapshot::compile(&candidate, state.options)?;
    Ok(Some(Prepared {
        bundle,
        hash,
        size,
        snapshot,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn manager(dir: &Path) -> Arc<BundleManager> {
        let cli =
            Cli::try_parse_from(["authzd", "run", "--bundle", &format!("b={}", dir.display())])
                .unwrap();
        let Some(Command::Run(args)) = cli.command else {
            panic!("not run")
        };
        let config = args.into_config().unwrap();
        let store = Arc::new(PolicyStore::new(Snapshot::empty(config.limits)));
        Arc::new(BundleManager::new(
            &config,
            store,
            Metrics::new(),
            Arc::default(),
        ))
    }

    #[test]
    fn a_reload_keeps_the_parsed_documents_of_unchanged_data_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.rego"), "package p\nx := 1\n").unwrap();
        std::fs::create_dir(dir.path().join("big")).unwrap();
        std::fs::write(dir.path().join("big/data.json"), r#"{"users": {"u1": {}}}"#).unwrap();
        let m = manager(dir.path());
        let users = |m: &BundleManager| match &m.store.load_full().data {
            regorus::Value::Object(data) => match data.get(&regorus::Value::from("big")) {
                Some(regorus::Value::Object(big)) => Arc::as_ptr(big),
                other => panic!("{other:?}"),
            },
            other => panic!("{other}"),
        };
        m.reload_local_blocking("b", true).unwrap();
        let first = users(&m);
        // A forced reload with a changed policy and the same data: the document is shared.
        std::fs::write(dir.path().join("p.rego"), "package p\nx := 2\n").unwrap();
        m.reload_local_blocking("b", true).unwrap();
        assert_eq!(users(&m), first, "the unchanged data file was parsed again");
        std::fs::write(dir.path().join("big/data.json"), r#"{"users": {"u2": {}}}"#).unwrap();
        m.reload_local_blocking("b", true).unwrap();
        assert_ne!(users(&m), first);
    }

    #[test]
    fn a_recheck_reads_nothing_while_the_metadata_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("p.rego");
        std::fs::write(&file, "package p\nx := 1\n").unwrap();
        let m = manager(dir.path());
        m.reload_local_blocking("b", false).unwrap();
        let x = |m: &BundleManager| {
            let snapshot = m.store.load_full();
            crate::decide::evaluate_path(
                &snapshot,
                crate::policy::DataPath::Text("p/x"),
                &regorus::Value::Undefined,
                Default::default(),
            )
            .unwrap()
            .result
        };
        // Same size, same inode, modification time put back: the re-check does not read it.
        let mtime =
            filetime::FileTime::from_last_modification_time(&std::fs::metadata(&file).unwrap());
        std::fs::write(&file, "package p\nx := 2\n").unwrap();
        filetime::set_file_mtime(&file, mtime).unwrap();
        assert_eq!(m.recheck_local_blocking("b").unwrap(), Outcome::Unchanged);
        assert_eq!(x(&m), regorus::Value::from(1));
        // A new modification time: it reads, and activates what changed.
        filetime::set_file_mtime(&file, filetime::FileTime::from_unix_time(1, 0)).unwrap();
        assert!(matches!(
            m.recheck_local_blocking("b").unwrap(),
            Outcome::Activated { .. }
        ));
        assert_eq!(x(&m), regorus::Value::from(2));
    }

    #[test]
    fn unchanged_bundles_are_not_recompiled_and_broken_ones_keep_the_old() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.rego"), "package p\nx := 1\n").unwrap();
        let m = manager(dir.path());
        assert!(matches!(
            m.reload_local_blocking("b", false).unwrap(),
            Outcome::Activated { .. }
        ));
        assert_eq!(
            m.reload_local_blocking("b", false).unwrap(),
            Outcome::Unchanged
        );
        assert!(m.store.is_ready());

        std::fs::write(dir.path().join("p.rego"), "package p\nx := \n").unwrap();
        let err = m.reload_local_blocking("b", false).unwrap_err();
        assert!(err.to_string().contains("p.rego"), "{err}");
        let status = &m.status.snapshot()[0];
        assert!(status.error.is_some() && status.is_active());
        let snapshot = m.store.load_full();
        let d = crate::decide::evaluate_path(
            &snapshot,
            crate::policy::DataPath::Text("p/x"),
            &regorus::Value::Undefined,
            Default::default(),
        )
        .unwrap();
        assert_eq!(d.result, regorus::Value::from(1));
    }
}
