//! Decision logs: the audit trail of who asked, what was decided, and under which bundle
//! revisions, in OPA's event format.
//!
//! Owns: the hand-off from the decision path (a bounded queue: when it is full the event is
//! dropped and counted, a decision never waits), the log worker thread (drop and mask policies,
//! JSON encoding, console and file output), and the HTTP uploader (gzipped JSON arrays in
//! batches, retried with backoff). Sampling is decided before anything is queued.

mod event;
mod mask;
mod upload;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tracing::warn;

pub use event::{DecisionEvent, ShadowAnswer};

use crate::config::DecisionLogSettings;
use crate::metrics::{DropReason, Metrics};
use crate::store::PolicyStore;

/// The state of the sinks, for `/v1/status`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SinkState {
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_code: Option<u16>,
    /// Events written to the console or file, or accepted by the collector.
    pub delivered: u64,
    /// Events lost (see `authzd_decision_logs_dropped_total` for the reasons).
    pub dropped: u64,
}

/// Shared view of [`SinkState`].
#[derive(Debug, Clone)]
pub struct SinkStatus(Arc<Mutex<SinkState>>);

impl SinkStatus {
    fn new() -> Self {
        Self(Arc::new(Mutex::new(SinkState {
            state: "OK",
            ..SinkState::default()
        })))
    }

    fn update(&self, change: impl FnOnce(&mut SinkState)) {
        let mut state = match self.0.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        change(&mut state);
    }

    pub fn snapshot(&self) -> SinkState {
        match self.0.lock() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The decision path's handle: hands events to the worker without waiting.
#[derive(Clone)]
pub struct DecisionLogger {
    tx: SyncSender<DecisionEvent>,
    sample_rate: f64,
    metrics: Arc<Metrics>,
    status: SinkStatus,
}

impl DecisionLogger {
    /// Queues `event`, or drops and counts it when the queue is full.
    pub fn log(&self, event: DecisionEvent) {
        if self.sample_rate < 1.0 && rand::random::<f64>() >= self.sample_rate {
            return;
        }
        self.log_unsampled(event);
    }

    /// Queues `event` whatever the sample rate (shadow events: already sampled, and rare).
    pub fn log_unsampled(&self, event: DecisionEvent) {
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.metrics.dropped(DropReason::BufferFull);
                self.status.update(|s| s.dropped += 1);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A running decision log.
pub struct DecisionLog {
    pub logger: DecisionLogger,
    pub status: SinkStatus,
    worker: Option<std::thread::JoinHandle<()>>,
    uploader: Option<tokio::task::JoinHandle<()>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    upload_stop: tokio::sync::watch::Sender<bool>,
}

impl DecisionLog {
    /// Starts the worker thread (and the uploader task, inside a tokio runtime).
    pub fn start(
        settings: &DecisionLogSettings,
        store: Arc<PolicyStore>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, String> {
        let status = SinkStatus::new();
        let (tx, rx) = sync_channel(settings.buffer_size.max(1));
        let file = match &settings.file {
            None => None,
            Some(path) => Some(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| format!("decision log file {}: {e}", path.display()))?,
            ),
        };
        let (upload_stop, upload_stop_rx) = tokio::sync::watch::channel(false);
        let (upload_tx, uploader) = match &settings.upload {
            None => (None, None),
            Some(upload) => {
                let (tx, rx) = tokio::sync::mpsc::channel(upload.buffer_size.max(1));
                let task = tokio::spawn(upload::run(
                    upload.clone(),
                    rx,
                    status.clone(),
                    upload_stop_rx,
                ));
                (Some(tx), Some(task))
            }
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let worker = Worker {
            settings: settings.clone(),
            labels: labels(&settings.labels),
            store,
            metrics: metrics.clone(),
            status: status.clone(),
            file: file.map(std::io::BufWriter::new),
            upload: upload_tx,
            stop: stop.clone(),
        };
        let worker = std::thread::Builder::new()
            .name("decision-log".into())
            .spawn(move || worker.run(rx))
            .map_err(|e| format!("cannot start the decision-log thread: {e}"))?;
        Ok(Self {
            logger: DecisionLogger {
                tx,
                sample_rate: settings.sample_rate,
                metrics,
                status: status.clone(),
            },
            status,
            worker: Some(worker),
            uploader,
            stop,
            upload_stop,
        })
    }

    /// Writes out what is queued, flushes the uploader (for at most `grace`), and stops.
    pub async fn shutdown(mut self, grace: Duration) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(worker) = self.worker.take() {
            let _ = tokio::task::spawn_blocking(move || worker.join()).await;
        }
        let _ = self.upload_stop.send(true);
        if let Some(uploader) = self.uploader.take() {
            let abort = uploader.abort_handle();
            if tokio::time::timeout(grace, uploader).await.is_err() {
                warn!("decision-log upload did not finish within the grace period");
                abort.abort();
            }
        }
    }
}

/// OPA's labels: `id` and `version` always, plus the configured ones.
fn labels(configured: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut labels = configured.clone();
    labels.insert("id".into(), crate::decision_id::instance_id().to_string());
    labels.insert("version".into(), crate::build_info::VERSION.into());
    labels
}

struct Worker {
    settings: DecisionLogSettings,
    labels: BTreeMap<String, String>,
    store: Arc<PolicyStore>,
    metrics: Arc<Metrics>,
    status: SinkStatus,
    file: Option<std::io::BufWriter<std::fs::File>>,
    upload: Option<tokio::sync::mpsc::Sender<Vec<u8>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Worker {
    fn run(mut self, rx: Receiver<DecisionEvent>) {
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => self.handle(&event),
                Err(RecvTimeoutError::Timeout) => {
                    self.flush();
                    if self.stop.load(std::sync::atomic::Ordering::Acquire) {
                        // Drain what was queued before the stop.
                        while let Ok(event) = rx.try_recv() {
                            self.handle(&event);
                        }
                        self.flush();
                        return;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush();
                    return;
                }
            }
        }
    }

    fn flush(&mut self) {
        if let Some(file) = &mut self.file
            && let Err(e) = file.flush()
        {
            warn!(error = %e, "cannot write the decision log file");
        }
    }

    fn handle(&mut self, event: &DecisionEvent) {
        let snapshot = self.store.load_full();
        let mut json = event.base_json(&self.labels);
        if mask::should_drop(&snapshot, &self.settings.drop_path, &json) {
            self.metrics.dropped(DropReason::DropPolicy);
            return;
        }
        if let Err(e) = mask::apply_mask(&snapshot, &self.settings.mask_path, &mut json) {
            warn!(decision_id = %event.decision_id, error = %e, "decision-log event dropped");
            self.metrics.dropped(DropReason::MaskError);
            self.status.update(|s| s.dropped += 1);
            return;
        }
        event.finish(&mut json);
        let Ok(mut line) = serde_json::to_vec(&json) else {
            self.metrics.dropped(DropReason::EncodeError);
            self.status.update(|s| s.dropped += 1);
            return;
        };
        let mut delivered = false;
        if let Some(upload) = &self.upload {
            match upload.try_send(line.clone()) {
                Ok(()) => {}
                Err(_) => {
                    self.metrics.dropped(DropReason::UploadBufferFull);
                    self.status.update(|s| s.dropped += 1);
                }
            }
        }
        line.push(b'\n');
        if self.settings.console {
            let mut out = std::io::stdout().lock();
            delivered |= out.write_all(&line).is_ok();
        }
        if let Some(file) = &mut self.file {
            delivered |= file.write_all(&line).is_ok();
        }
        if delivered {
            self.status.update(|s| s.delivered += 1);
        }
    }
}
