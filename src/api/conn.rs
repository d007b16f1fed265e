//! Connections: accepting them within limits, and the timeouts every connection lives by.
//!
//! Owns: the HTTP accept loop (hyper's HTTP/1 and HTTP/2 with a header-read timeout, stream
//! and flow-control limits, the connection cap, graceful shutdown), the gRPC listener's
//! incoming stream (the same cap and timeouts, for tonic), and [`Guarded`], the socket wrapper
//! that closes a connection idle for too long or whose writes stall (a client that never
//! reads its response). Routes and handlers are [`super::http`]'s and [`super::grpc`]'s.
//!
//! At the cap, a new HTTP connection is still accepted and the oldest one is asked to close
//! once idle (and closed after a second regardless): idle sockets can never lock out a probe.
//! A gRPC listener at its cap closes the new connection instead (clients reconnect).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::extract::connect_info::Connected;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};
use tower::{Layer, Service};
use tracing::debug;

use super::listener::{BoundListener, Peer, unix_peer};
use crate::limits::ConnectionLimits;

/// How long a connection asked to make room may take to finish its request.
const EVICTION_GRACE: Duration = Duration::from_secs(1);

/// The request-body deadline, put on every HTTP request for the body reader.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub Duration);

/// A socket that fails once it has had nothing to read for the idle timeout, or a write has
/// made no progress for the write timeout; it holds its listener's connection slot.
///
/// The idle timer costs a request nothing: each read or write that completes only records the
/// time, and the one timer of the connection, armed once, fires at most once per idle period,
/// when it checks whether the connection really was idle and otherwise moves itself on.
pub struct Guarded<T> {
    io: T,
    idle: Duration,
    write: Duration,
    /// When a read or write last completed.
    active: Instant,
    idle_timer: Option<Pin<Box<Sleep>>>,
    write_deadline: Option<Pin<Box<Sleep>>>,
    _slot: Option<OwnedSemaphorePermit>,
}

impl<T> Guarded<T> {
    pub fn new(io: T, limits: &ConnectionLimits, slot: Option<OwnedSemaphorePermit>) -> Self {
        Self {
            io,
            idle: limits.idle_timeout,
            write: limits.write_timeout,
            active: Instant::now(),
            idle_timer: None,
            write_deadline: None,
            _slot: slot,
        }
    }

    /// What a write attempt comes to: progress is activity and ends the write deadline; no
    /// progress arms it, and fails once it passes.
    fn wrote(
        &mut self,
        attempt: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match attempt {
            Poll::Ready(result) => {
                self.write_deadline = None;
                self.active = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending => {
                expired(&mut self.write_deadline, self.write, cx, "write").map(|r| r.map(|()| 0))
            }
        }
    }

    /// `Pending` until nothing completed for the idle timeout, then an error.
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let deadline = self.active + self.idle;
        let timer = self
            .idle_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        loop {
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            let deadline = self.active + self.idle;
            if Instant::now() >= deadline {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("idle timeout ({:?})", self.idle),
                )));
            }
            // The connection was active since the timer was set: move it on and wait again.
            timer.as_mut().reset(deadline);
        }
    }
}

/// `Pending` until `deadline` (armed `after` from now on first use) passes, then an error.
fn expired(
    deadline: &mut Option<Pin<Box<Sleep>>>,
    after: Duration,
    cx: &mut Context<'_>,
    what: &str,
) -> Poll<io::Result<()>> {
    let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(after)));
    match sleep.as_mut().poll(cx) {
        Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("{what} timeout ({after:?})"),
        ))),
        Poll::Pending => Poll::Pending,
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.active = Instant::now();
                Poll::Ready(result)
            }
            Poll::Pending => {
                if this.write_deadline.is_some() {
                    // A response is on its way out: the write timeout governs.
                    return Poll::Pending;
                }
                this.idle_expired(cx)
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let attempt = Pin::new(&mut this.io).poll_write(cx, buf);
        this.wrote(attempt, cx)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let attempt = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.wrote(attempt, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

impl<T: tonic::transport::server::Connected> tonic::transport::server::Connected for Guarded<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.io.connect_info()
    }
}

impl Connected<Peer> for Peer {
    fn connect_info(peer: Peer) -> Self {
        peer
    }
}

/// The HTTP/1 and HTTP/2 settings of every HTTP connection.
fn http_builder(limits: &ConnectionLimits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.max_concurrent_streams)
        .initial_stream_window_size(limits.stream_window_bytes)
        .initial_connection_window_size(limits.connection_window_bytes)
        .max_header_list_size(64 << 10);
    builder
}

/// Open connections of one listener, oldest first, each with the signal that asks it to close.
#[derive(Default)]
struct Registry {
    open: Mutex<BTreeMap<u64, Arc<Notify>>>,
}

impl Registry {
    /// Registers a connection; at the cap, asks the oldest one to close.
    fn open(&self, id: u64, cap: usize) -> Arc<Notify> {
        let notify = Arc::new(Notify::new());
        let Ok(mut open) = self.open.lock() else {
            return notify;
        };
        while open.len() >= cap {
            match open.pop_first() {
                Some((_, oldest)) => oldest.notify_one(),
                None => break,
            }
        }
        open.insert(id, notify.clone());
        notify
    }

    fn close(&self, id: u64) {
        if let Ok(mut open) = self.open.lock() {
            open.remove(&id);
        }
    }
}

/// Serves `router` on `bound` until `stopped` resolves, then lets open connections finish
/// their requests (the caller bounds that wait).
pub async fn serve_http(
    bound: BoundListener,
    router: axum::Router,
    limits: ConnectionLimits,
    stopped: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let registry = Arc::new(Registry::default());
    let builder = Arc::new(http_builder(&limits));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut stopped = std::pin::pin!(stopped);
    let mut next_id = 0u64;
    loop {
        let accepted = tokio::select! {
            () = &mut stopped => break,
            accepted = accept(&bound) => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let (io, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, or a connection reset before accept: keep serving.
                debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        let evict = registry.open(id, limits.max_connections);
        let body_timeout = BodyTimeout(limits.body_timeout);
        let io = Guarded::new(io, &limits, None);
        match peer {
            AcceptedPeer::Tcp(addr) => connections.spawn(serve_connection(
                io,
                per_connection(&router, addr, body_timeout),
                builder.clone(),
                (registry.clone(), id, evict),
                stop_rx.clone(),
            )),
            AcceptedPeer::Unix(peer) => connections.spawn(serve_connection(
                io,
                per_connection(&router, peer, body_timeout),
                builder.clone(),
                (registry.clone(), id, evict),
                stop_rx.clone(),
            )),
        };
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// One connection, until it closes, is evicted (closed once idle, or after a grace), or the
/// listener stops (closed once idle).
async fn serve_connection<S>(
    io: Guarded<Stream>,
    service: S,
    builder: Arc<auto::Builder<TokioExecutor>>,
    (registry, id, evict): (Arc<Registry>, u64, Arc<Notify>),
    mut stop: tokio::sync::watch::Receiver<bool>,
) where
    S: Service<
            axum::http::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
            Future: Send,
        > + Clone
        + Send
        + 'static,
{
    let mut failed = false;
    {
        let conn = builder
            .serve_connection_with_upgrades(TokioIo::new(io), TowerToHyperService::new(service));
        let mut conn = std::pin::pin!(conn);
        let mut deadline: Option<Pin<Box<Sleep>>> = None;
        loop {
            let asked = tokio::select! {
                result = conn.as_mut() => {
                    failed = result.is_err();
                    break;
                }
                () = evict.notified(), if deadline.is_none() => true,
                () = crate::shutdown::stopped(&mut stop), if deadline.is_none() => false,
                () = async { if let Some(d) = deadline.as_mut() { d.as_mut().await } }, if deadline.is_some() => break,
            };
            conn.as_mut().graceful_shutdown();
            if asked {
                deadline = Some(Box::pin(tokio::time::sleep_until(
                    Instant::now() + EVICTION_GRACE,
                )));
            } else {
                // Shutdown: the drain's grace period bounds the wait (the task is aborted).
                let _ = conn.as_mut().await;
                break;
            }
        }
        registry.close(id);
    }
    // The connection is dropped: one cut off (a stalled write, a reset) may have held a large
    // answer, freed just now on this thread. Give its pages back, or mimalloc keeps them until
    // this thread allocates enough again (six never-reading clients held 1 GB).
    if failed {
        crate::allocator::give_back();
    }
}

/// The router as one connection's service: that connection's peer as `ConnectInfo`, and the
/// body deadline for the body reader.
fn per_connection<C>(
    router: &axum::Router,
    peer: C,
    body_timeout: BodyTimeout,
) -> impl Service<
    axum::http::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send,
> + Clone
+ Send
+ 'static
where
    C: Clone + Send + Sync + 'static,
{
    let with_peer = Layer::layer(&axum::Extension(ConnectInfo(peer)), router.clone());
    Layer::layer(&axum::Extension(body_timeout), with_peer)
}

enum AcceptedPeer {
    Tcp(std::net::SocketAddr),
    Unix(Peer),
}

/// Either kind of accepted socket.
pub enum Stream {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(bound: &BoundListener) -> io::Result<(Stream, AcceptedPeer)> {
    match bound {
        BoundListener::Tcp(listener) => {
            let (stream, addr) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            Ok((Stream::Tcp(stream), AcceptedPeer::Tcp(addr)))
        }
        BoundListener::Unix(listener, _) => {
            let (stream, _) = listener.accept().await?;
            let peer = Peer(unix_peer(stream.peer_cred().ok()));
            Ok((Stream::Unix(stream), AcceptedPeer::Unix(peer)))
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Tcp(s) => s.is_write_vectored(),
            Stream::Unix(s) => s.is_write_vectored(),
        }
    }
}

/// Accepted gRPC connections: capped (a connection beyond the cap is closed at once) and
/// guarded by the idle and write timeouts.
pub fn grpc_incoming<S, T>(
    incoming: S,
    limits: ConnectionLimits,
) -> impl tokio_stream::Stream<Item = io::Result<Guarded<T>>>
where
    S: tokio_stream::Stream<Item = io::Result<T>>,
{
    use tokio_stream::StreamExt;
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    incoming.filter_map(move |accepted| match accepted {
        Ok(io) => match slots.clone().try_acquire_owned() {
            Ok(slot) => Some(Ok(Guarded::new(io, &limits, Some(slot)))),
            Err(_) => {
                debug!("gRPC connection refused: at --max-connections");
                None
            }
        },
        Err(e) => Some(Err(e)),
    })
}
