//! What triggers a reload: file events on local bundles (debounced, trailing edge), a periodic
//! re-check, and SIGHUP.
//!
//! Owns: watching each bundle *directory* (recursively) rather than its files, because kubelet
//! updates a ConfigMap volume by swapping a `..data` symlink and a watch on the old files would
//! die after the first update; and watching a `.tar.gz` through its parent directory, because
//! tools replace it by renaming. Reading and activating is [`super::BundleManager`]'s job.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use notify::RecursiveMode;
use notify_debouncer_full::{DebounceEventResult, new_debouncer};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::BundleManager;
use crate::config::{BundleLocation, WatchSettings};

/// A local bundle being watched.
struct Target {
    name: String,
    /// Canonical path of the bundle directory or tarball.
    path: PathBuf,
    is_dir: bool,
}

impl Target {
    fn matches(&self, event_path: &std::path::Path) -> bool {
        if self.is_dir {
            return event_path.starts_with(&self.path);
        }
        if event_path.parent() != self.path.parent() {
            return false;
        }
        // The tarball itself, or kubelet swapping `..data` under a ConfigMap key that is one.
        let name = event_path.file_name();
        name == self.path.file_name() || name.is_some_and(|n| n.to_string_lossy().starts_with(".."))
    }
}

/// Starts the watcher, the periodic re-check and the SIGHUP handler. `wake_remote` wakes every
/// bundle-server poller for SIGHUP. Every task ends when `stop` turns true.
pub fn spawn(
    manager: Arc<BundleManager>,
    settings: WatchSettings,
    wake_remote: Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, notify::Error> {
    let targets = local_targets(&manager);
    let locals: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let mut tasks = Vec::new();
    if !targets.is_empty() {
        let (tx, rx) = mpsc::unbounded_channel::<String>();
        let debouncer = watch_targets(targets, settings, tx)?;
        tasks.push(tokio::spawn(reload_on_events(
            manager.clone(),
            rx,
            debouncer,
            stop.clone(),
        )));
        tasks.push(tokio::spawn(recheck_periodically(
            manager.clone(),
            locals.clone(),
            settings,
            stop.clone(),
        )));
    }
    tasks.push(tokio::spawn(reload_on_sighup(
        manager,
        locals,
        wake_remote,
        stop,
    )));
    Ok(tasks)
}

/// The local bundles, with canonical paths. A directory is canonicalised itself; a tarball
/// through its parent, because a ConfigMap key is a symlink into `..data` and events name the
/// link.
fn local_targets(manager: &BundleManager) -> Vec<Target> {
    let mut targets = Vec::new();
    for spec in manager.specs() {
        let BundleLocation::Local(path) = &spec.location else {
            continue;
        };
        let is_dir = path.is_dir();
        let path = if is_dir {
            std::fs::canonicalize(path).unwrap_or_else(|_| path.clone())
        } else {
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let parent = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
            path.file_name()
                .map(|n| parent.join(n))
                .unwrap_or_else(|| path.clone())
        };
        targets.push(Target {
            name: spec.name.clone(),
            path,
            is_dir,
        });
    }
    targets
}

/// Watches every target's directory (debounced, trailing edge) and sends the names of the
/// bundles whose files changed.
fn watch_targets(
    targets: Vec<Target>,
    settings: WatchSettings,
    tx: mpsc::UnboundedSender<String>,
) -> Result<impl Send + 'static, notify::Error> {
    let targets = Arc::new(targets);
    let matcher = targets.clone();
    let mut debouncer = new_debouncer(
        settings.debounce,
        None,
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                let mut names = BTreeSet::new();
                // Opening and reading a file is an event too (inotify's IN_OPEN, IN_ACCESS,
                // IN_CLOSE_NOWRITE): reacting to it would make every re-read of the bundle
                // trigger the next one, a loop that kept a core busy on a large bundle.
                for event in events.iter().filter(|e| !e.kind.is_access()) {
                    for path in &event.paths {
                        for target in matcher.iter().filter(|t| t.matches(path)) {
                            names.insert(target.name.clone());
                        }
                    }
                }
                for name in names {
                    let _ = tx.send(name);
                }
            }
            Err(errors) => {
                for e in errors {
                    warn!(error = %e, "file watch error; the periodic re-check still runs");
                }
            }
        },
    )?;
    for target in targets.iter() {
        let (watched, mode) = if target.is_dir {
            (target.path.clone(), RecursiveMode::Recursive)
        } else {
            let parent = target
                .path
                .parent()
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            (parent, RecursiveMode::NonRecursive)
        };
        debouncer.watch(&watched, mode)?;
        info!(bundle = %target.name, path = %watched.display(), "watching bundle");
    }
    Ok(debouncer)
}

async fn reload_on_events<D: Send + 'static>(
    manager: Arc<BundleManager>,
    mut names: mpsc::UnboundedReceiver<String>,
    debouncer: D,
    mut stop: watch::Receiver<bool>,
) {
    // The debouncer lives as long as this task.
    let _debouncer = debouncer;
    loop {
        let first = tokio::select! {
            name = names.recv() => match name {
                Some(name) => name,
                None => return,
            },
            () = crate::shutdown::stopped(&mut stop) => return,
        };
        // Coalesce whatever else arrived meanwhile.
        let mut pending = BTreeSet::from([first]);
        while let Ok(name) = names.try_recv() {
            pending.insert(name);
        }
        for name in pending {
            // Failures are logged and recorded by the manager.
            let _ = manager.reload_local(&name, false).await;
        }
    }
}

async fn recheck_periodically(
    manager: Arc<BundleManager>,
    locals: Vec<String>,
    settings: WatchSettings,
    mut stop: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(settings.recheck);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        tokio::select! {
            _ = interval.tick() => {
                // Metadata only, unless something changed: an idle daemon with a large bundle
                // must not read and hash it every interval.
                for name in &locals {
                    let _ = manager.recheck_local(name).await;
                }
            }
            () = crate::shutdown::stopped(&mut stop) => return,
        }
    }
}

async fn reload_on_sighup(
    manager: Arc<BundleManager>,
    locals: Vec<String>,
    wake_remote: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => signal,
        Err(e) => {
            warn!(error = %e, "cannot listen for SIGHUP; reload on signal is off");
            return;
        }
    };
    loop {
        tokio::select! {
            received = hangup.recv() => {
                if received.is_none() {
                    return;
                }
                info!("SIGHUP: reloading every bundle");
                for name in &locals {
                    let _ = manager.reload_local(name, true).await;
                }
                wake_remote.notify_waiters();
            }
            () = crate::shutdown::stopped(&mut stop) => return,
        }
    }
}
