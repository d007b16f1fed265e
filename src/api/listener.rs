//! Binding listen sockets: TCP (with `TCP_NODELAY` on every accepted connection) and Unix.
//!
//! Owns: turning a [`ListenAddr`] into a bound socket that knows its real address (port 0
//! becomes the port the kernel chose), removing a stale Unix socket file first, and naming the
//! peer of each connection ([`Peer`], the decision log's `requested_by`).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
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

/// Who is on the other end of a connection: `127.0.0.1:41234`, or for a Unix socket the
/// peer's process and user (`unix:pid=1234,uid=1000`). Computed once per connection.
#[derive(Debug, Clone)]
pub struct Peer(pub Arc<str>);

/// A TCP listener that sets `TCP_NODELAY` on every accepted connection: without it a client
/// waits ~40 ms for delayed ACKs on small responses.
#[derive(Debug)]
pub struct NoDelayTcp(pub TcpListener);

impl Listener for NoDelayTcp {
    type Io = TcpStream;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.0.accept().await {
                Ok((stream, addr)) => {
                    let _ = stream.set_nodelay(true);
                    return (stream, addr);
                }
                Err(e) => {
                    // Out of file descriptors and the like: back off briefly, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.0.local_addr()
    }
}

impl Connected<IncomingStream<'_, NoDelayTcp>> for Peer {
    fn connect_info(stream: IncomingStream<'_, NoDelayTcp>) -> Self {
        Peer(Arc::from(stream.remote_addr().to_string()))
    }
}

impl Connected<IncomingStream<'_, UnixListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, UnixListener>) -> Self {
        Peer(unix_peer(stream.io().peer_cred().ok()))
    }
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
