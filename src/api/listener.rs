//! Binding listen sockets: TCP (with `TCP_NODELAY` on every accepted connection) and Unix.
//!
//! Owns: turning a [`ListenAddr`] into a bound socket that knows its real address (port 0
//! becomes the port the kernel chose), removing a stale Unix socket file first, and naming the
//! peer of each connection ([`Peer`], the decision log's `requested_by`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, ListenerExt, TapIo};
use tokio::net::{TcpListener, TcpStream, UnixListener};

use crate::config::ListenAddr;

/// A bound socket, before anything serves on it.
#[derive(Debug)]
pub enum BoundListener {
    Tcp(TcpListener),
    Unix(UnixListener, PathBuf),
}

impl BoundListener {
    /// Binds `addr`. A leftover socket file (from a killed process) is replaced; any other file
    /// at that path is an error.
    pub async fn bind(addr: &ListenAddr) -> io::Result<Self> {
        match addr {
            ListenAddr::Tcp(socket) => Ok(Self::Tcp(TcpListener::bind(socket).await?)),
            ListenAddr::Unix(path) => {
                remove_stale_socket(path)?;
                Ok(Self::Unix(UnixListener::bind(path)?, path.clone()))
            }
        }
    }

    /// The address actually bound (with the real port).
    pub fn local_addr(&self) -> io::Result<ListenAddr> {
        match self {
            Self::Tcp(listener) => listener.local_addr().map(ListenAddr::Tcp),
            Self::Unix(_, path) => Ok(ListenAddr::Unix(path.clone())),
        }
    }
}

fn remove_stale_socket(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => std::fs::remove_file(path),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} exists and is not a socket", path.display()),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets the permission bits of a Unix listener's socket file (a client needs write permission
/// to connect); TCP listeners are left alone.
pub fn set_mode(addr: &ListenAddr, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match addr {
        ListenAddr::Unix(path) => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        }
        ListenAddr::Tcp(_) => Ok(()),
    }
}

/// Removes the socket file of a Unix listener when the server stops.
pub fn cleanup(addr: &ListenAddr) {
    if let ListenAddr::Unix(path) = addr {
        let _ = std::fs::remove_file(path);
    }
}

/// Who is on the other end of a Unix-socket connection: the peer's process and user
/// (`unix:pid=1234,uid=1000`), computed once per connection. TCP connections carry their
/// `SocketAddr` instead (axum's own connect info).
#[derive(Debug, Clone)]
pub struct Peer(pub Arc<str>);

/// A TCP listener that sets `TCP_NODELAY` on every accepted connection: without it a client
/// waits ~40 ms for delayed ACKs on small responses.
pub type NoDelayTcp = TapIo<TcpListener, fn(&mut TcpStream)>;

/// Wraps `listener` so every accepted connection has `TCP_NODELAY` set.
pub fn no_delay(listener: TcpListener) -> NoDelayTcp {
    fn set_nodelay(stream: &mut TcpStream) {
        let _ = stream.set_nodelay(true);
    }
    listener.tap_io(set_nodelay as fn(&mut TcpStream))
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        Peer(unix_peer(stream.io().peer_cred().ok()))
    }
}

/// The peer of a gRPC call (TCP address or Unix credentials), for the decision log.
pub fn grpc_peer<T>(request: &tonic::Request<T>) -> Option<Arc<str>> {
    if let Some(addr) = request.remote_addr() {
        return Some(Arc::from(addr.to_string()));
    }
    request
        .extensions()
        .get::<tonic::transport::server::UdsConnectInfo>()
        .map(|info| unix_peer(info.peer_cred))
}

/// `unix:pid=..,uid=..` from a Unix socket's credentials.
pub fn unix_peer(cred: Option<tokio::net::unix::UCred>) -> Arc<str> {
    match cred {
        Some(cred) => match cred.pid() {
            Some(pid) => Arc::from(format!("unix:pid={pid},uid={}", cred.uid())),
            None => Arc::from(format!("unix:uid={}", cred.uid())),
        },
        None => Arc::from("unix"),
    }
}
