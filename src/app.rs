//! Wiring: load the bundles, bind every listener, serve, drain on shutdown.
//!
//! Owns: the daemon's lifecycle. [`App::build`] does everything that can fail at start-up
//! (bundles, sockets) and returns an `App` that knows its real addresses; [`App::run`] serves
//! until the shutdown future resolves, then stops accepting and lets in-flight requests finish
//! within the grace period.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::serve::ListenerExt;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::api::listener::{self, BoundListener};
use crate::api::{self, Api};
use crate::bundle::{Bundle, BundleError};
use crate::config::{Config, ListenAddr};
use crate::policy::{CompileError, CompileOptions, Snapshot};
use crate::store::PolicyStore;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bundle {name:?}: {source}")]
    Bundle { name: String, source: BundleError },
    #[error("cannot compile the bundles: {0}")]
    Compile(#[from] CompileError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: ListenAddr,
        source: std::io::Error,
    },
    #[error("start-up task failed: {0}")]
    Join(String),
}

/// A daemon whose bundles are active and whose sockets are bound.
pub struct App {
    config: Config,
    store: Arc<PolicyStore>,
    http: Vec<(ListenAddr, BoundListener)>,
}

impl App {
    /// Loads and compiles every bundle, then binds every listener.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let started = Instant::now();
        let sources = config.bundles.clone();
        let max_bytes = config.max_bundle_bytes;
        let options = CompileOptions {
            limits: config.limits,
            use_rvm: config.use_rvm,
        };
        let snapshot = tokio::task::spawn_blocking(move || -> Result<Snapshot, StartError> {
            let mut bundles = Vec::with_capacity(sources.len());
            for source in &sources {
                let bundle =
                    Bundle::load(&source.name, &source.path, max_bytes).map_err(|source_err| {
                        StartError::Bundle {
                            name: source.name.clone(),
                            source: source_err,
                        }
                    })?;
                bundles.push(Arc::new(bundle));
            }
            Ok(Snapshot::compile(&bundles, options)?)
        })
        .await
        .map_err(|e| StartError::Join(e.to_string()))??;
        for bundle in &snapshot.bundles {
            info!(bundle = %bundle.name, revision = %bundle.revision, "bundle activated");
        }
        for (rule, reason) in &snapshot.interpreter_rules {
            tracing::debug!(rule = %rule, reason = %reason, "rule evaluated by the interpreter");
        }
        let store = Arc::new(PolicyStore::new(snapshot));
        store.mark_ready();

        let mut http = Vec::with_capacity(config.http_addrs.len());
        for addr in &config.http_addrs {
            let bound = BoundListener::bind(addr)
                .await
                .map_err(|source| StartError::Bind {
                    addr: addr.clone(),
                    source,
                })?;
            let local = bound.local_addr().map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?;
            info!(addr = %local, "HTTP listener ready");
            http.push((local, bound));
        }
        info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "authzd ready"
        );
        Ok(Self {
            config,
            store,
            http,
        })
    }

    /// The addresses the HTTP listeners actually bound.
    pub fn http_addrs(&self) -> Vec<ListenAddr> {
        self.http.iter().map(|(addr, _)| addr.clone()).collect()
    }

    /// The store serving decisions.
    pub fn store(&self) -> Arc<PolicyStore> {
        self.store.clone()
    }

    /// Serves until `shutdown` resolves, then drains for at most the grace period.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let api = Arc::new(Api {
            store: self.store.clone(),
            default_decision: self.config.default_decision.clone(),
            max_request_bytes: self.config.max_request_bytes,
        });
        let router = api::router(api);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut servers = JoinSet::new();
        let mut addrs = Vec::new();
        for (addr, bound) in self.http {
            let mut stop = stop_rx.clone();
            let stopped = async move {
                let _ = stop.wait_for(|stop| *stop).await;
            };
            let router = router.clone();
            let label = addr.to_string();
            addrs.push(addr);
            match bound {
                BoundListener::Tcp(tcp) => {
                    let tcp = tcp.tap_io(|stream| {
                        // Without it a client waits ~40 ms for delayed ACKs on small responses.
                        let _ = stream.set_nodelay(true);
                    });
                    servers.spawn(async move {
                        let result = axum::serve(tcp, router)
                            .with_graceful_shutdown(stopped)
                            .await;
                        (label, result)
                    });
                }
                BoundListener::Unix(unix, _) => {
                    servers.spawn(async move {
                        let result = axum::serve(unix, router)
                            .with_graceful_shutdown(stopped)
                            .await;
                        (label, result)
                    });
                }
            }
        }

        tokio::select! {
            () = shutdown => info!("shutdown requested: no new connections, draining in-flight requests"),
            Some(ended) = servers.join_next() => {
                // A server only ends early on a fatal error; stop the others too.
                match ended {
                    Ok((addr, Err(e))) => error!(addr = %addr, error = %e, "HTTP server failed"),
                    Ok((addr, Ok(()))) => warn!(addr = %addr, "HTTP server stopped"),
                    Err(e) => error!(error = %e, "HTTP server task failed"),
                }
            }
        }
        let _ = stop_tx.send(true);
        let grace = self.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, async {
            while servers.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            warn!(
                grace_secs = grace.as_secs(),
                "grace period over: closing remaining connections"
            );
            servers.abort_all();
        }
        for addr in &addrs {
            listener::cleanup(addr);
        }
        info!("stopped");
    }
}
