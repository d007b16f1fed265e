//! Wiring: activate the bundles (and the shadow bundles), start keeping them current, bind
//! every listener, serve, drain on shutdown.
//!
//! Owns: the daemon's lifecycle. [`App::build`] does everything that can fail at start-up
//! (identity secrets, bundles, sockets, sinks) and returns an `App` that knows its real
//! addresses; [`App::run`] serves until the shutdown future resolves, then fails readiness and
//! keeps serving for the shutdown delay (lame duck), then stops accepting, lets in-flight
//! requests finish within the grace period, and flushes the decision log.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{error, info, warn};

use crate::api::conn;
use crate::api::grpc;
use crate::api::http::{self, Api};
use crate::api::listener::{self, BoundListener};
use crate::config::{BundleLocation, Config, ListenAddr};
use crate::decide::identity::{self, IdentityError, IdentityStep};
use crate::decide::self_check::FastPathCheck;
use crate::decide::{Decider, Recorder};
use crate::decision_log::DecisionLog;
use crate::limits::ConnectionLimits;
use crate::metrics::Metrics;
use crate::policy::{Demotions, Snapshot};
use crate::reload::remote::{self, Downloader};
use crate::reload::{self, ActivationError, BundleManager};
use crate::shadow::{self, Shadow};
use crate::store::PolicyStore;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("bundle {name:?}: {source}")]
    Bundle {
        name: String,
        source: ActivationError,
    },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: ListenAddr,
        source: std::io::Error,
    },
    #[error("start-up task failed: {0}")]
    Join(String),
    #[error("cannot set up gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("cannot watch the bundles: {0}")]
    Watch(#[from] notify::Error),
    #[error("cannot create the bundle server client: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error("cannot start the decision log: {0}")]
    DecisionLog(String),
    #[error("cannot start shadow evaluation: {0}")]
    Shadow(String),
    #[error("identity: {0}")]
    Identity(#[from] IdentityError),
}

/// A daemon whose local bundles are active and whose sockets are bound.
pub struct App {
    config: Config,
    store: Arc<PolicyStore>,
    manager: Arc<BundleManager>,
    decider: Arc<Decider>,
    prometheus: Option<metrics_exporter_prometheus::PrometheusHandle>,
    decision_log: Option<DecisionLog>,
    shadow: Option<Shadow>,
    http: Vec<(ListenAddr, BoundListener)>,
    diagnostic: Vec<(ListenAddr, BoundListener)>,
    grpc: Vec<(ListenAddr, BoundListener)>,
    grpc_routes: Option<tonic::service::Routes>,
    /// Watchers, pollers, health and metrics upkeep; they end when `stop` turns true.
    background: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl App {
    /// Activates the bundles, starts keeping them current, and binds every listener. A local
    /// bundle that does not load fails the start (a broken deployment should not look healthy);
    /// a bundle server that does not answer yet does not.
    pub async fn build(config: Config) -> Result<Self, StartError> {
        let started = Instant::now();
        let limits = config.server_limits;
        // One ceiling for every evaluation's memory, builtins included: beyond it an
        // evaluation fails with eval_cancel_error instead of growing until the OOM killer.
        crate::allocator::set_memory_limit(limits.max_memory_bytes);
        match crate::limits::raise_fd_limit() {
            Ok(n) => tracing::debug!(open_files = n, "file-descriptor limit"),
            Err(e) => warn!(error = %e, "cannot raise the file-descriptor limit"),
        }
        let prometheus = crate::metrics::recorder();
        let metrics = Metrics::new();
        // Always registered: even without an `identity` section, a client's own
        // `input.identity` must not reach a policy.
        let identity = Arc::new(IdentityStep::new(
            config.identity.as_ref(),
            metrics.clone(),
        )?);
        let store = Arc::new(PolicyStore::new(Snapshot::empty(config.limits)));
        // Rules the fast-path self-check demotes stay demoted across reloads of the same text.
        let demotions = Arc::new(Demotions::default());
        let manager = Arc::new(BundleManager::new(
            &config,
            store.clone(),
            metrics.clone(),
            demotions.clone(),
        ));
        let persistence_dir = config.persistence_dir.clone();
        {
            let manager = manager.clone();
            tokio::task::spawn_blocking(move || initial_load(&manager, &persistence_dir))
                .await
                .map_err(|e| StartError::Join(e.to_string()))??;
        }

        let (stop, stop_rx) = watch::channel(false);
        let wake_remote = Arc::new(tokio::sync::Notify::new());
        let mut background = reload::watch::spawn(
            manager.clone(),
            config.watch,
            wake_remote.clone(),
            stop_rx.clone(),
        )?;
        background.extend(spawn_downloaders(
            &config,
            &manager,
            &wake_remote,
            &stop_rx,
        )?);
        if let Some(handle) = prometheus.clone() {
            background.push(tokio::spawn(metrics_upkeep(handle, stop_rx.clone())));
        }

        let decision_log = if config.decision_logs.enabled() {
            Some(
                DecisionLog::start(&config.decision_logs, store.clone(), metrics.clone())
                    .map_err(StartError::DecisionLog)?,
            )
        } else {
            None
        };
        if identity.watches_files() {
            background.push(tokio::spawn(identity::keep_current(
                identity.clone(),
                stop_rx.clone(),
            )));
        }
        let metrics_for_check = metrics.clone();
        let shadow = if config.shadow.enabled() {
            let shadow = Shadow::start(
                &config,
                metrics.clone(),
                decision_log.as_ref().map(|d| d.logger.clone()),
            )
            .map_err(StartError::Shadow)?;
            let manager = shadow.manager.clone();
            let persistence_dir = config.persistence_dir.clone();
            tokio::task::spawn_blocking(move || shadow::initial_load(&manager, &persistence_dir))
                .await
                .map_err(|e| StartError::Join(e.to_string()))?;
            let wake_shadow = Arc::new(tokio::sync::Notify::new());
            background.extend(reload::watch::spawn(
                shadow.manager.clone(),
                config.watch,
                wake_shadow.clone(),
                stop_rx.clone(),
            )?);
            background.extend(spawn_downloaders(
                &shadow.config,
                &shadow.manager,
                &wake_shadow,
                &stop_rx,
            )?);
            Some(shadow)
        } else {
            None
        };
        let recorder = Recorder {
            metrics,
            log: decision_log.as_ref().map(|d| d.logger.clone()),
        };
        let mut decider = Decider::new(store.clone(), recorder)
            .with_limits(&limits)
            .with_before(identity);
        if config.verify_fast_path_rate > 0.0 {
            let check =
                FastPathCheck::start(config.verify_fast_path_rate, metrics_for_check, demotions);
            decider = decider.with_after(Arc::new(check));
        }
        if let Some(shadow) = &shadow {
            decider = decider.with_after(shadow.step.clone());
        }
        let decider = Arc::new(decider);
        crate::api::io_nudge::spawn(&decider).map_err(|e| StartError::Join(e.to_string()))?;

        let http = bind_all(&config.http_addrs, "HTTP").await?;
        let diagnostic = bind_all(&config.diagnostic_addrs, "diagnostic").await?;
        let grpc = bind_all(&config.grpc_addrs, "gRPC").await?;
        for (addr, _) in http.iter().chain(&diagnostic).chain(&grpc) {
            listener::set_mode(addr, config.unix_socket_mode).map_err(|source| {
                StartError::Bind {
                    addr: addr.clone(),
                    source,
                }
            })?;
        }
        let grpc_routes = if grpc.is_empty() {
            None
        } else {
            let (routes, health) = grpc::routes(decider.clone(), &config.grpc)?;
            background.push(health);
            Some(routes)
        };
        info!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            bundles_ready = store.is_ready(),
            "authzd ready"
        );
        Ok(Self {
            config,
            store,
            manager,
            decider,
            prometheus,
            decision_log,
            shadow,
            http,
            diagnostic,
            grpc,
            grpc_routes,
            background,
            stop,
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
            decider: self.decider.clone(),
            status: self.manager.status.clone(),
            default_decision: self.config.default_decision.clone(),
            max_request_bytes: self.config.max_request_bytes,
            prometheus: self.prometheus.clone(),
            decision_log: self.decision_log.as_ref().map(|d| d.status.clone()),
            shadow: self.shadow.as_ref().map(Shadow::view),
            log_requests: self.config.log_requests,
        });
        let stop_rx = self.stop.subscribe();
        let connections = self.config.server_limits.connections;
        let mut servers = JoinSet::new();
        let mut addrs = Vec::new();
        for (routes, listeners) in [
            (http::router(api.clone()), self.http),
            (http::diagnostic_router(api), self.diagnostic),
        ] {
            for (addr, bound) in listeners {
                let label = format!("HTTP {addr}");
                addrs.push(addr);
                servers.spawn(serve_http(
                    bound,
                    routes.clone(),
                    connections,
                    stop_signal(&stop_rx),
                    label,
                ));
            }
        }
        if let Some(routes) = self.grpc_routes {
            for (addr, bound) in self.grpc {
                let label = format!("gRPC {addr}");
                addrs.push(addr);
                servers.spawn(serve_grpc(
                    bound,
                    routes.clone(),
                    grpc::MetricsLayer::new(self.decider.metrics().clone()),
                    connections,
                    stop_signal(&stop_rx),
                    label,
                ));
            }
        }

        let requested = tokio::select! {
            () = shutdown => true,
            Some(ended) = servers.join_next() => {
                // A server only ends early on a fatal error; stop the others too.
                match ended {
                    Ok((server, Err(e))) => error!(server = %server, error = %e, "server failed"),
                    Ok((server, Ok(()))) => warn!(server = %server, "server stopped"),
                    Err(e) => error!(error = %e, "server task failed"),
                }
                false
            }
        };
        // Lame duck: readiness fails from now on, and for the delay decisions are still served,
        // so the pod leaves load balancers while the app, draining, can still ask.
        self.store.enter_lame_duck();
        let delay = self.config.shutdown_delay;
        if requested && !delay.is_zero() {
            info!(
                delay_secs = delay.as_secs(),
                "shutdown requested: readiness fails, decisions are served until the delay is over"
            );
            tokio::time::sleep(delay).await;
        }
        if requested {
            info!("shutdown requested: no new connections, draining in-flight requests");
        }
        let _ = self.stop.send(true);
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
        // Shadow events go to the decision log: finish them first.
        if let Some(shadow) = self.shadow {
            shadow.shutdown().await;
        }
        if let Some(log) = self.decision_log {
            log.shutdown(grace).await;
        }
        for task in self.background {
            task.abort();
        }
        for addr in &addrs {
            listener::cleanup(addr);
        }
        info!("stopped");
    }
}

type ServerResult = (String, Result<(), String>);

async fn serve_http(
    bound: BoundListener,
    router: axum::Router,
    limits: ConnectionLimits,
    stopped: impl Future<Output = ()> + Send + 'static,
    label: String,
) -> ServerResult {
    let result = conn::serve_http(bound, router, limits, stopped).await;
    (label, result.map_err(|e| e.to_string()))
}

async fn serve_grpc(
    bound: BoundListener,
    routes: tonic::service::Routes,
    metrics: grpc::MetricsLayer,
    limits: ConnectionLimits,
    stopped: impl Future<Output = ()> + Send + 'static,
    label: String,
) -> ServerResult {
    // Streams per connection and flow-control windows bound what open streams can hold; the
    // call timeout bounds a request that is never finished.
    let server = tonic::transport::Server::builder()
        .accept_http1(false)
        .max_concurrent_streams(limits.max_concurrent_streams)
        .initial_stream_window_size(limits.stream_window_bytes)
        .initial_connection_window_size(limits.connection_window_bytes)
        .http2_max_header_list_size(64 << 10)
        .timeout(limits.body_timeout)
        .layer(metrics)
        .add_routes(routes);
    let result = match bound {
        BoundListener::Tcp(tcp) => {
            let incoming =
                tonic::transport::server::TcpIncoming::from(tcp).with_nodelay(Some(true));
            let incoming = conn::grpc_incoming(incoming, limits);
            server.serve_with_incoming_shutdown(incoming, stopped).await
        }
        BoundListener::Unix(unix, _) => {
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(unix);
            let incoming = conn::grpc_incoming(incoming, limits);
            server.serve_with_incoming_shutdown(incoming, stopped).await
        }
    };
    (label, result.map_err(|e| e.to_string()))
}

/// Histograms keep samples until rendered; drain them even when nobody scrapes.
async fn metrics_upkeep(
    handle: metrics_exporter_prometheus::PrometheusHandle,
    mut stop: watch::Receiver<bool>,
) {
    let mut interval = tokio::time::interval(Duration::from_secs(5));
    loop {
        tokio::select! {
            _ = interval.tick() => handle.run_upkeep(),
            () = crate::shutdown::stopped(&mut stop) => return,
        }
    }
}

fn spawn_downloaders(
    config: &Config,
    manager: &Arc<BundleManager>,
    wake: &Arc<tokio::sync::Notify>,
    stop: &watch::Receiver<bool>,
) -> Result<Vec<JoinHandle<()>>, StartError> {
    let remotes: Vec<_> = config
        .bundles
        .iter()
        .filter_map(|spec| match &spec.location {
            BundleLocation::Remote(remote) => Some((spec.name.clone(), remote.clone())),
            BundleLocation::Local(_) => None,
        })
        .collect();
    if remotes.is_empty() {
        return Ok(Vec::new());
    }
    let client = remote::http_client()?;
    Ok(remotes
        .into_iter()
        .map(|(name, spec)| {
            let downloader = Downloader {
                persist_path: spec
                    .persist
                    .then(|| remote::persist_path(&config.persistence_dir, &name)),
                name,
                spec,
                client: client.clone(),
                manager: manager.clone(),
                max_bytes: config.max_bundle_bytes,
            };
            tokio::spawn(downloader.run(wake.clone(), stop.clone()))
        })
        .collect())
}

/// Resolves when the shutdown flag is raised.
fn stop_signal(stop: &watch::Receiver<bool>) -> impl Future<Output = ()> + Send + 'static {
    let mut stop = stop.clone();
    async move { crate::shutdown::stopped(&mut stop).await }
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

/// Activates every local bundle (fatal on failure) and every persisted download (not fatal).
fn initial_load(
    manager: &BundleManager,
    persistence_dir: &std::path::Path,
) -> Result<(), StartError> {
    for spec in manager.specs() {
        match &spec.location {
            BundleLocation::Local(_) => {
                manager
                    .reload_local_blocking(&spec.name, true)
                    .map_err(|source| StartError::Bundle {
                        name: spec.name.clone(),
                        source,
                    })?;
            }
            BundleLocation::Remote(remote) if remote.persist => {
                let path = remote::persist_path(persistence_dir, &spec.name);
                if let Ok(bytes) = std::fs::read(&path) {
                    match manager.activate_tarball_blocking(&spec.name, &path, &bytes) {
                        Ok(_) => {
                            info!(bundle = %spec.name, path = %path.display(), "serving the persisted bundle until the server answers")
                        }
                        Err(e) => {
                            warn!(bundle = %spec.name, error = %e, "the persisted bundle does not load; waiting for the server")
                        }
                    }
                }
            }
            BundleLocation::Remote(_) => {}
        }
    }
    Ok(())
}
