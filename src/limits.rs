//! The daemon's protective limits: admission, memory, result size, connections and streams.
//!
//! Owns: their flags (`AUTHZD_*` too), the config file's `limits:` section, their defaults and
//! their precedence (flag over file over default), resolved once into [`ServerLimits`]. The
//! evaluation limits a snapshot carries (instructions, time) stay in
//! [`crate::policy::EvalLimits`]. Enforcing a limit is the job of the part it protects: the
//! pipeline ([`crate::decide`]), the listeners ([`crate::api::conn`]).

use std::time::Duration;

use clap::Args;
use serde::Deserialize;

use crate::config_error::ConfigError;

/// Every limit, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Decisions (a batch counts as one) evaluated at once; more wait `admission_wait`, then
    /// are refused.
    pub max_concurrent_decisions: usize,
    /// How long a decision may wait for a free slot before it is refused (503,
    /// `RESOURCE_EXHAUSTED`).
    pub admission_wait: Duration,
    /// Largest result of one request (a batch's items together), in JSON bytes (estimated).
    pub max_result_bytes: usize,
    /// Memory every evaluation together may hold, in bytes (regorus' global limit); `None`: off.
    pub max_memory_bytes: Option<u64>,
    pub connections: ConnectionLimits,
}

/// Limits of every HTTP and gRPC listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From a connection's start (or its previous response) to a request's complete headers.
    pub header_read_timeout: Duration,
    /// A connection with nothing to read or write for this long is closed.
    pub idle_timeout: Duration,
    /// To receive a whole request body.
    pub body_timeout: Duration,
    /// A write that makes no progress for this long closes the connection.
    pub write_timeout: Duration,
    /// Open connections per listener; at the cap, the oldest connection is closed once idle.
    pub max_connections: usize,
    /// HTTP/2 and gRPC streams open at once on one connection.
    pub max_concurrent_streams: u32,
    /// HTTP/2 flow-control window of one stream, in bytes.
    pub stream_window_bytes: u32,
    /// HTTP/2 flow-control window of one connection, in bytes.
    pub connection_window_bytes: u32,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            body_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
            max_connections: 4096,
            max_concurrent_streams: 100,
            stream_window_bytes: 1 << 20,
            connection_window_bytes: 2 << 20,
        }
    }
}

/// Defaults that do not depend on the machine.
pub const DEFAULT_ADMISSION_WAIT: Duration = Duration::from_millis(50);
pub const DEFAULT_MAX_RESULT_BYTES: usize = 64 << 20;
/// Without a cgroup memory limit.
pub const DEFAULT_MAX_MEMORY_BYTES: u64 = 2 << 30;

impl ServerLimits {
    /// The defaults for a daemon with `threads` decision threads.
    pub fn defaults(threads: usize) -> Self {
        Self {
            max_concurrent_decisions: threads.max(1),
            admission_wait: DEFAULT_ADMISSION_WAIT,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            max_memory_bytes: Some(default_memory_limit()),
            connections: ConnectionLimits::default(),
        }
    }

    /// Nothing limited beyond the evaluation limits (embedding, tests, benchmarks).
    pub fn unlimited() -> Self {
        Self {
            max_concurrent_decisions: usize::MAX >> 1,
            admission_wait: Duration::ZERO,
            max_result_bytes: usize::MAX,
            max_memory_bytes: None,
            connections: ConnectionLimits::default(),
        }
    }
}

/// 3/4 of the container's memory limit (cgroup v2 `memory.max`, or v1), or 2 GiB without one:
/// evaluation stops before the kernel kills the pod.
pub fn default_memory_limit() -> u64 {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
    };
    read("/sys/fs/cgroup/memory.max")
        .or_else(|| read("/sys/fs/cgroup/memory/memory.limit_in_bytes"))
        // v1 reports "no limit" as a huge number.
        .filter(|bytes| *bytes < (1 << 50))
        .map_or(DEFAULT_MAX_MEMORY_BYTES, |bytes| bytes / 4 * 3)
}

/// The flags; each overrides the config file's `limits.<key>`.
#[derive(Debug, Args, Default)]
pub struct LimitArgs {
    /// Decisions evaluated at once (a batch is one); more wait --admission-wait-ms, then get
    /// 503 / RESOURCE_EXHAUSTED. Default: --threads. [limits.max_concurrent_decisions]
    #[arg(long, env = "AUTHZD_MAX_CONCURRENT_DECISIONS")]
    pub max_concurrent_decisions: Option<usize>,
    /// Milliseconds a decision may wait for a free slot (default 50). [limits.admission_wait_ms]
    #[arg(long, env = "AUTHZD_ADMISSION_WAIT_MS")]
    pub admission_wait_ms: Option<u64>,
    /// Largest result of one request, a batch's items together, in JSON bytes (default 64 MiB).
    /// [limits.max_result_bytes]
    #[arg(long, env = "AUTHZD_MAX_RESULT_BYTES")]
    pub max_result_bytes: Option<usize>,
    /// Memory all evaluations may hold, in bytes; 0 turns the limit off (default: 3/4 of the
    /// cgroup memory limit, else 2 GiB). [limits.max_memory_bytes]
    #[arg(long, env = "AUTHZD_MAX_MEMORY_BYTES")]
    pub max_memory_bytes: Option<u64>,
    /// Milliseconds to receive a request's headers (default 10000). [limits.header_read_timeout_ms]
    #[arg(long, env = "AUTHZD_HEADER_READ_TIMEOUT_MS")]
    pub header_read_timeout_ms: Option<u64>,
    /// Milliseconds a connection may sit idle (default 120000). [limits.idle_timeout_ms]
    #[arg(long, env = "AUTHZD_IDLE_TIMEOUT_MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Milliseconds to receive a request body (default 30000). [limits.body_timeout_ms]
    #[arg(long, env = "AUTHZD_BODY_TIMEOUT_MS")]
    pub body_timeout_ms: Option<u64>,
    /// Milliseconds a response write may stall (default 30000). [limits.write_timeout_ms]
    #[arg(long, env = "AUTHZD_WRITE_TIMEOUT_MS")]
    pub write_timeout_ms: Option<u64>,
    /// Open connections per listener (default 4096); at the cap the oldest is closed once idle.
    /// [limits.max_connections]
    #[arg(long, env = "AUTHZD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// HTTP/2 and gRPC streams per connection (default 100). [limits.max_concurrent_streams]
    #[arg(long, env = "AUTHZD_MAX_CONCURRENT_STREAMS")]
    pub max_concurrent_streams: Option<u32>,
    /// HTTP/2 stream flow-control window, bytes (default 1 MiB). [limits.stream_window_bytes]
    #[arg(long, env = "AUTHZD_STREAM_WINDOW_BYTES")]
    pub stream_window_bytes: Option<u32>,
    /// HTTP/2 connection flow-control window, bytes (default 2 MiB).
    /// [limits.connection_window_bytes]
    #[arg(long, env = "AUTHZD_CONNECTION_WINDOW_BYTES")]
    pub connection_window_bytes: Option<u32>,
}

/// The config file's `limits:` section: the same keys as the flags, in snake case.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileLimits {
    pub max_concurrent_decisions: Option<usize>,
    pub admission_wait_ms: Option<u64>,
    pub max_result_bytes: Option<usize>,
    pub max_memory_bytes: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub idle_timeout_ms: Option<u64>,
    pub body_timeout_ms: Option<u64>,
    pub write_timeout_ms: Option<u64>,
    pub max_connections: Option<usize>,
    pub max_concurrent_streams: Option<u32>,
    pub stream_window_bytes: Option<u32>,
    pub connection_window_bytes: Option<u32>,
}

impl LimitArgs {
    /// Flags over `file` over the defaults for `threads` decision threads.
    pub fn resolve(
        &self,
        file: Option<&FileLimits>,
        threads: usize,
    ) -> Result<ServerLimits, ConfigError> {
        let empty = FileLimits::default();
        let f = file.unwrap_or(&empty);
        let d = ServerLimits::defaults(threads);
        let c = d.connections;
        let ms = |flag: Option<u64>, key: Option<u64>, default: Duration| {
            flag.or(key).map_or(default, Duration::from_millis)
        };
        let positive = |name: &str, value: usize| {
            if value == 0 {
                Err(ConfigError(format!(
                    "--{name} (limits.{}) must be at least 1",
                    name.replace('-', "_")
                )))
            } else {
                Ok(value)
            }
        };
        let timeout = |name: &str, value: Duration| {
            if value.is_zero() {
                Err(ConfigError(format!(
                    "--{name} (limits.{}) must be more than 0",
                    name.replace('-', "_")
                )))
            } else {
                Ok(value)
            }
        };
        let max_memory = match self.max_memory_bytes.or(f.max_memory_bytes) {
            Some(0) => None,
            Some(bytes) => Some(bytes),
            None => d.max_memory_bytes,
        };
        Ok(ServerLimits {
            max_concurrent_decisions: positive(
                "max-concurrent-decisions",
                self.max_concurrent_decisions
                    .or(f.max_concurrent_decisions)
                    .unwrap_or(d.max_concurrent_decisions),
            )?,
            admission_wait: ms(
                self.admission_wait_ms,
                f.admission_wait_ms,
                d.admission_wait,
            ),
            max_result_bytes: positive(
                "max-result-bytes",
                self.max_result_bytes
                    .or(f.max_result_bytes)
                    .unwrap_or(d.max_result_bytes),
            )?,
            max_memory_bytes: max_memory,
            connections: ConnectionLimits {
                header_read_timeout: timeout(
                    "header-read-timeout-ms",
                    ms(
                        self.header_read_timeout_ms,
                        f.header_read_timeout_ms,
                        c.header_read_timeout,
                    ),
                )?,
                idle_timeout: timeout(
                    "idle-timeout-ms",
                    ms(self.idle_timeout_ms, f.idle_timeout_ms, c.idle_timeout),
                )?,
                body_timeout: timeout(
                    "body-timeout-ms",
                    ms(self.body_timeout_ms, f.body_timeout_ms, c.body_timeout),
                )?,
                write_timeout: timeout(
                    "write-timeout-ms",
                    ms(self.write_timeout_ms, f.write_timeout_ms, c.write_timeout),
                )?,
                max_connections: positive(
                    "max-connections",
                    self.max_connections
                        .or(f.max_connections)
                        .unwrap_or(c.max_connections),
                )?,
                max_concurrent_streams: positive(
                    "max-concurrent-streams",
                    self.max_concurrent_streams
                        .or(f.max_concurrent_streams)
                        .unwrap_or(c.max_concurrent_streams) as usize,
                )? as u32,
                // h2 refuses windows below its default (65,535) or above 2^31-1.
                stream_window_bytes: self
                    .stream_window_bytes
                    .or(f.stream_window_bytes)
                    .unwrap_or(c.stream_window_bytes)
                    .clamp(65_535, i32::MAX as u32),
                connection_window_bytes: self
                    .connection_window_bytes
                    .or(f.connection_window_bytes)
                    .unwrap_or(c.connection_window_bytes)
                    .clamp(65_535, i32::MAX as u32),
            },
        })
    }
}

/// Raises the soft file-descriptor limit to the hard limit, so idle sockets cannot exhaust
/// the default 1024 and lock out probes; returns the new soft limit.
pub fn raise_fd_limit() -> std::io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            limit = raised;
        }
    }
    Ok(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_and_defaults_fill_the_rest() {
        let args = LimitArgs {
            max_connections: Some(10),
            max_memory_bytes: Some(0),
            ..LimitArgs::default()
        };
        let file = FileLimits {
            max_connections: Some(20),
            header_read_timeout_ms: Some(1500),
            ..FileLimits::default()
        };
        let limits = args.resolve(Some(&file), 3).unwrap();
        assert_eq!(limits.connections.max_connections, 10);
        assert_eq!(
            limits.connections.header_read_timeout,
            Duration::from_millis(1500)
        );
        assert_eq!(limits.max_concurrent_decisions, 3);
        assert_eq!(limits.max_memory_bytes, None);
        let err = LimitArgs {
            max_concurrent_decisions: Some(0),
            ..LimitArgs::default()
        }
        .resolve(None, 2)
        .unwrap_err();
        assert!(
            err.0.contains("limits.max_concurrent_decisions"),
            "{}",
            err.0
        );
    }

    #[test]
    fn the_fd_limit_is_raised_to_the_hard_limit() {
        assert!(raise_fd_limit().unwrap() > 0);
    }
}
