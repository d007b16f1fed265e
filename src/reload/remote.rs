//! Downloading bundles from a bundle server with OPA's protocol.
//!
//! Owns: `GET {url}` with `If-None-Match` (a `304` keeps the current bundle), the delay between
//! polls (random between min and max), exponential backoff with jitter on errors, bearer
//! credentials, the size cap on downloads, and persisting the last good download so a
//! restarted pod serves before the server answers. Activation is
//! [`crate::reload::BundleManager`]'s job.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::{Notify, watch};
use tracing::{debug, warn};

use crate::config::RemoteSpec;
use crate::reload::{BundleManager, Outcome};
use crate::{backoff, redact};

/// Polls one bundle on a bundle server until stopped.
pub struct Downloader {
    pub name: String,
    pub spec: RemoteSpec,
    pub client: reqwest::Client,
    pub manager: Arc<BundleManager>,
    pub max_bytes: u64,
    /// Where the last good download is kept, when `persist` is on.
    pub persist_path: Option<PathBuf>,
}

/// The file a persisted bundle lives in.
pub fn persist_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name).join("bundle.tar.gz")
}

/// A client for bundle servers (rustls, the system's and Mozilla's roots).
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .user_agent(concat!("authzd/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// Why one poll failed.
#[derive(Debug)]
struct PollError {
    message: String,
    http_code: Option<u16>,
    /// The manager already recorded it (a bundle that downloaded but did not activate).
    recorded: bool,
}

impl PollError {
    fn new(message: String, http_code: Option<u16>) -> Self {
        Self {
            message,
            http_code,
            recorded: false,
        }
    }
}

impl Downloader {
    /// Polls until `stop` turns true; `wake` polls now (SIGHUP).
    pub async fn run(self, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
        // The ETag of the last bundle that activated: a failed download or activation must not
        // make the server believe we have a newer one.
        let mut etag: Option<String> = None;
        let mut retries = 0u32;
        loop {
            let delay = match self.poll_once(&mut etag).await {
                Ok(()) => {
                    retries = 0;
                    backoff::between(self.spec.polling.min_delay, self.spec.polling.max_delay)
                }
                Err(e) => {
                    retries = retries.saturating_add(1);
                    if !e.recorded {
                        warn!(bundle = %self.name, error = %e.message, "bundle download failed");
                        self.manager.status.update(&self.name, |s| {
                            s.error = Some(e.message.clone());
                            s.http_code = e.http_code;
                        });
                    }
                    backoff::backoff(retries, self.spec.polling.max_delay)
                }
            };
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = wake.notified() => {}
                () = crate::shutdown::stopped(&mut stop) => return,
            }
        }
    }

    async fn poll_once(&self, etag: &mut Option<String>) -> Result<(), PollError> {
        let now = SystemTime::now();
        self.manager
            .status
            .update(&self.name, |s| s.last_request = Some(now));
        let mut request = self.client.get(&self.spec.url);
        for (key, value) in &self.spec.headers {
            request = request.header(key, value);
        }
        if let Some(tag) = etag.as_deref() {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        if let Some(bearer) = &self.spec.credentials {
            let value = bearer.header_value().map_err(|e| PollError::new(e, None))?;
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| PollError::new(format!("request failed: {}", e.without_url()), None))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_MODIFIED {
            debug!(bundle = %self.name, "bundle not modified");
            self.manager.status.update(&self.name, |s| {
                s.last_successful_request = Some(now);
                s.error = None;
                s.http_code = None;
            });
            return Ok(());
        }
        if !status.is_success() {
            return Err(PollError::new(
                format!(
                    "server replied with {}",
                    status.canonical_reason().unwrap_or(status.as_str())
                ),
                Some(status.as_u16()),
            ));
        }
        let new_etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = self.read_capped(response).await?;
        self.manager.status.update(&self.name, |s| {
            s.last_successful_request = Some(now);
            s.last_successful_download = Some(now);
        });
        let outcome = self
            .manager
            .activate_tarball(&self.name, &redact::url(&self.spec.url), body.clone())
            .await
            .map_err(|e| PollError {
                message: e.to_string(),
                http_code: None,
                recorded: true,
            })?;
        *etag = new_etag;
        if let (Outcome::Activated { .. }, Some(path)) = (&outcome, &self.persist_path)
            && let Err(e) = persist(path, &body).await
        {
            warn!(bundle = %self.name, path = %path.display(), error = %e, "cannot persist the bundle; keeping the previous copy");
        }
        Ok(())
    }

    async fn read_capped(&self, mut response: reqwest::Response) -> Result<Bytes, PollError> {
        let too_large = || {
            PollError::new(
                format!(
                    "bundle exceeds the size limit of {} bytes; raise --max-bundle-bytes",
                    self.max_bytes
                ),
                None,
            )
        };
        if response
            .content_length()
            .is_some_and(|len| len > self.max_bytes)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| PollError::new(format!("request failed: {}", e.without_url()), None))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > self.max_bytes {
                return Err(too_large());
            }
        }
        Ok(Bytes::from(body))
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves a
/// half-written bundle behind.
async fn persist(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let tmp = dir.join(format!(".bundle.tar.gz.{}.tmp", std::process::id()));
    tokio::fs::write(&tmp, bytes).await?;
    tokio::fs::rename(&tmp, path).await
}
