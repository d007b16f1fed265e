//! Shadow evaluation: candidate bundles evaluated on live traffic, never answering.
//!
//! Owns: the pipeline step ([`ShadowStep`], an [`AfterDecision`]) and the shadow bundles'
//! lifecycle. The candidates are kept by a second [`BundleManager`] over a second
//! [`PolicyStore`] (so they are read, verified, compiled and hot-reloaded exactly like the
//! served bundles, by the same code, and a broken candidate only leaves its previous revision
//! in place). On the request thread the step samples, then hands the decision (path, input,
//! options, the served outcome, the decision id) to a bounded queue without waiting; a full
//! queue drops and counts. The worker ([`worker`]) evaluates it on the shadow snapshot and
//! counts the comparison ([`status`]).
//!
//! A decision answered differently gets a second decision-log event: the same decision id,
//! the served result, and `"shadow": {"revision", "result"}`. The alternative, holding every
//! event in the log worker until its shadow answer arrives, would tie the decision log's
//! latency and queue to the shadow worker's; a separate event keeps both independent and
//! costs the log nothing for the (common) decisions that agree. `authzd replay` skips these
//! events.

mod status;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};

use metrics::Counter;
use regorus::Value;
use tracing::{info, warn};

pub use status::{Counts, ShadowOutcome, ShadowStatus};

use crate::config::{BundleLocation, Config};
use crate::decide::{
    AfterDecision, DecideOptions, Decided, DecisionRequest, ErrorCode, ResultCheck,
};
use crate::decision_id::DecisionId;
use crate::decision_log::DecisionLogger;
use crate::metrics::{ApiKind, Metrics};
use crate::policy::{OwnedDataPath, Snapshot};
use crate::reload::{BundleManager, StatusTable};
use crate::store::PolicyStore;

/// One served decision, waiting to be evaluated on the shadow bundles.
struct Job {
    /// The snapshot that served it: resolves the path's label and names the served revisions.
    live: Arc<Snapshot>,
    path: OwnedDataPath,
    input: Value,
    options: DecideOptions,
    check_result: Option<ResultCheck>,
    served: Result<Value, (ErrorCode, String)>,
    decision_id: DecisionId,
    api: ApiKind,
    peer: Option<Arc<str>>,
}

/// The pipeline step: samples and queues, never waits.
pub struct ShadowStep {
    tx: SyncSender<Job>,
    sample_rate: f64,
    status: ShadowStatus,
    dropped: Counter,
}

impl AfterDecision for ShadowStep {
    fn after(&self, snapshot: &Arc<Snapshot>, request: &DecisionRequest<'_>, decided: &Decided) {
        if self.sample_rate < 1.0 && rand::random::<f64>() >= self.sample_rate {
            return;
        }
        let job = Job {
            live: snapshot.clone(),
            path: OwnedDataPath::of(request.path),
            input: request.input.clone(),
            options: request.options,
            check_result: request.check_result,
            served: match &decided.outcome {
                Ok(decision) => Ok(decision.result.clone()),
                Err(e) => Err((e.code(), e.message())),
            },
            decision_id: decided.decision_id,
            api: request.api,
            peer: request.peer.clone(),
        };
        match self.tx.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.increment(1);
                self.status.dropped();
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// What `/v1/status` shows of shadow evaluation.
#[derive(Clone)]
pub struct ShadowView {
    status: ShadowStatus,
    bundles: StatusTable,
    sample_rate: f64,
}

impl ShadowView {
    pub fn json(&self) -> serde_json::Value {
        self.status.view(&self.bundles, self.sample_rate)
    }
}

/// Running shadow evaluation.
pub struct Shadow {
    pub step: Arc<ShadowStep>,
    /// Keeps the shadow bundles current (watched and polled like the served ones).
    pub manager: Arc<BundleManager>,
    /// The settings the shadow bundles are kept with (their specs as `bundles`).
    pub config: Config,
    view: ShadowView,
    worker: Option<std::thread::JoinHandle<()>>,
    stop: Arc<AtomicBool>,
}

impl Shadow {
    /// Sets up the shadow store and manager (nothing loaded yet: see [`initial_load`]) and
    /// starts the worker. Shadow events go to `log`.
    pub fn start(
        config: &Config,
        metrics: Arc<Metrics>,
        log: Option<DecisionLogger>,
    ) -> Result<Self, String> {
        let mut shadow_config = config.clone();
        shadow_config.bundles = config.shadow.bundles.clone();
        shadow_config.shadow = Default::default();
        // One thread evaluates on the shadow snapshot: size its evaluator pool for that.
        shadow_config.threads = 1;
        let store = Arc::new(PolicyStore::new(Snapshot::empty(config.limits)));
        let manager = Arc::new(BundleManager::new(
            &shadow_config,
            store.clone(),
            metrics,
            // The shadow bundle has no self-check of its own: nothing demotes its rules.
            Arc::new(crate::policy::Demotions::default()),
        ));
        let status = ShadowStatus::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel(config.shadow.buffer_size.max(1));
        let worker = worker::Worker {
            store,
            status: status.clone(),
            log,
            stop: stop.clone(),
            counters: HashMap::new(),
        };
        let worker = std::thread::Builder::new()
            .name("shadow".into())
            .stack_size(crate::threads::EVAL_STACK_BYTES)
            .spawn(move || worker.run(rx))
            .map_err(|e| format!("cannot start the shadow thread: {e}"))?;
        metrics::describe_counter!(
            "authzd_shadow_decisions_total",
            "Decisions evaluated again on the shadow bundles, by rule path and outcome (same, changed, error)."
        );
        metrics::describe_counter!(
            "authzd_shadow_dropped_total",
            "Decisions not evaluated on the shadow bundles because the shadow queue was full."
        );
        let step = Arc::new(ShadowStep {
            tx,
            sample_rate: config.shadow.sample_rate,
            status: status.clone(),
            dropped: metrics::counter!("authzd_shadow_dropped_total"),
        });
        Ok(Self {
            step,
            view: ShadowView {
                status,
                bundles: manager.status.clone(),
                sample_rate: config.shadow.sample_rate,
            },
            manager,
            config: shadow_config,
            worker: Some(worker),
            stop,
        })
    }

    /// For `/v1/status`.
    pub fn view(&self) -> ShadowView {
        self.view.clone()
    }

    /// Evaluates what is queued, then stops the worker.
    pub async fn shutdown(mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(worker) = self.worker.take() {
            let _ = tokio::task::spawn_blocking(move || worker.join()).await;
        }
    }
}

/// Activates the local shadow bundles (and persisted downloads) of `manager`. A shadow bundle
/// that does not load is logged, never fatal: it answers nobody. Blocks.
pub fn initial_load(manager: &BundleManager, persistence_dir: &std::path::Path) {
    for spec in manager.specs() {
        match &spec.location {
            BundleLocation::Local(_) => {
                if let Err(e) = manager.reload_local_blocking(&spec.name, true) {
                    warn!(bundle = %spec.name, error = %e, "the shadow bundle does not load; shadow evaluation waits for a good revision");
                }
            }
            BundleLocation::Remote(remote) if remote.persist => {
                let path = crate::reload::remote::persist_path(persistence_dir, &spec.name);
                if let Ok(bytes) = std::fs::read(&path)
                    && manager
                        .activate_tarball_blocking(&spec.name, &path, &bytes)
                        .is_ok()
                {
                    info!(bundle = %spec.name, "shadow bundle from its persisted download");
                }
            }
            BundleLocation::Remote(_) => {}
        }
    }
}
