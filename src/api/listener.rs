//! Binding listen sockets: TCP (with `TCP_NODELAY` on every accepted connection) and Unix.
//!
//! Owns: turning a [`ListenAddr`] into a bound socket that knows its real address (port 0
//! becomes the port the kernel chose), and removing a stale Unix socket file first.

use std::io;
use std::path::{Path, PathBuf};

use tokio::net::{TcpListener, UnixListener};

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

/// Removes the socket file of a Unix listener when the server stops.
pub fn cleanup(addr: &ListenAddr) {
    if let ListenAddr::Unix(path) = addr {
        let _ = std::fs::remove_file(path);
    }
}
