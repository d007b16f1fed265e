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

use crate::api::grpc;
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
    #[error("cannot set up gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// A daemon whose bundles are active and whose sockets are bound.
pub struct App {
    config: Config,
    store: Arc<PolicyStore>,
    http: Vec<(ListenAddr, BoundListener)>,
    grpc: Vec<(ListenAddr, BoundListener)>,
    grpc_routes: Option<(tonic::service::Routes, tokio::task::JoinHandle<()>)>,
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

        let http = bind_all(&config.http_addrs, "HTTP").await?;
        let grpc = bind_all(&config.grpc_addrs, "gRPC").await?;
        let grpc_routes = if grpc.is_empty() {
            None
        } else {
            Some(grpc::routes(store.clone(), &config.grpc)?)
        };
        info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "authzd ready"
        );
        Ok(Self {
            config,
            store,
            http,
            grpc,
            grpc_routes,
        })
    }

    /// The addresses the HTTP listeners actually bound.
    pub fn http_addrs(&self) -> Vec<ListenAddr> {
        self.http.iter().map(|(addr, _)| addr.clone()).collect()
    }

    /// The addresses the gRPC listeners actually bound.
    pub fn grpc_addrs(&self) -> Vec<ListenAddr> {
        self.grpc.iter().map(|(addr, _)| addr.clone()).collect()
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
            let stopped = stop_signal(&stop_rx);
            let router = router.clone();
            let label = format!("HTTP {addr}");
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
                        (label, result.map_err(|e| e.to_string()))
                    });
                }
                BoundListener::Unix(unix, _) => {
                    servers.spawn(async move {
                        let result = axum::serve(unix, router)
                            .with_graceful_shutdown(stopped)
                            .await;
                        (label, result.map_err(|e| e.to_string()))
                    });
                }
            }
        }
        let health_task = self
            .grpc_routes
            .as_ref()
            .map(|(_, task)| task.abort_handle());
        if let Some((routes, _)) = self.grpc_routes {
            for (addr, bound) in self.grpc {
                let stopped = stop_signal(&stop_rx);
                let server = tonic::transport::Server::builder()
                    .accept_http1(false)
                    .add_routes(routes.clone());
                let label = format!("gRPC {addr}");
                addrs.push(addr);
                match bound {
                    BoundListener::Tcp(tcp) => {
                        let incoming = tonic::transport::server::TcpIncoming::from(tcp)
                            .with_nodelay(Some(true));
                        servers.spawn(async move {
                            let result =
                                server.serve_with_incoming_shutdown(incoming, stopped).await;
                            (label, result.map_err(|e| e.to_string()))
                        });
                    }
                    BoundListener::Unix(unix, _) => {
                        let incoming = tokio_stream::wrappers::UnixListenerStream::new(unix);
                        servers.spawn(async move {
                            let result =
                                server.serve_with_incoming_shutdown(incoming, stopped).await;
                            (label, result.map_err(|e| e.to_string()))
                        });
                    }
                }
            }
        }

        tokio::select! {
            () = shutdown => info!("shutdown requested: no new connections, draining in-flight requests"),
            Some(ended) = servers.join_next() => {
                // A server only ends early on a fatal error; stop the others too.
                match ended {
                    Ok((server, Err(e))) => error!(server = %server, error = %e, "server failed"),
                    Ok((server, Ok(()))) => warn!(server = %server, "server stopped"),
                    Err(e) => error!(error = %e, "server task failed"),
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
        if let Some(task) = health_task {
            task.abort();
        }
        for addr in &addrs {
            listener::cleanup(addr);
        }
        info!("stopped");
    }
}

/// Resolves when the shutdown flag is raised.
fn stop_signal(stop: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.clone();
    async move {
        let _ = stop.wait_for(|stop| *stop).await;
    }
}

/// Binds every address in `addrs`, logging each real address (tests read it).
async fn bind_all(
    addrs: &[ListenAddr],
    kind: &str,
) -> Result<Vec<(ListenAddr, BoundListener)>, StartError> {
    let mut bound = Vec::with_capacity(addrs.len());
    for addr in addrs {
        let listener = BoundListener::bind(addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: addr.clone(),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| StartError::Bind {
            addr: addr.clone(),
            source,
        })?;
        info!(addr = %local, "{kind} listener ready");
        bound.push((local, listener));
    }
    Ok(bound)
}
