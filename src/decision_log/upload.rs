//! The HTTP decision-log sink: OPA's upload format, a gzip-compressed JSON array POSTed to the
//! collector, in batches.
//!
//! Owns: batching (up to `max_batch_events`, or whatever arrived within `flush_interval`), the
//! POST, and retrying the same batch with backoff until the collector accepts it, so a healthy
//! collector gets every event exactly once. While it retries, new events wait in a bounded
//! queue; when that is full they are dropped and counted, never blocking a decision.

use std::io::Write;

use tokio::sync::{mpsc, watch};
use tracing::warn;

use super::SinkStatus;
use crate::config::UploadSettings;

pub(super) async fn run(
    settings: UploadSettings,
    mut events: mpsc::Receiver<Vec<u8>>,
    status: SinkStatus,
    mut stop: watch::Receiver<bool>,
) {
    let client = match reqwest::Client::builder()
        .timeout(settings.timeout)
        .user_agent(concat!("authzd/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            status.update(|s| {
                s.state = "ERROR";
                s.message = Some(format!("cannot create the HTTP client: {e}"));
            });
            return;
        }
    };
    loop {
        let Some(batch) = next_batch(&mut events, &settings, &mut stop, &client).await else {
            return;
        };
        if !deliver(&client, &settings, &batch, &status, &mut stop).await {
            return;
        }
    }
}

/// Waits for the first event, then takes what else arrives within `flush_interval`, up to
/// `max_batch_events`. `None` when stopping (what was queued is then sent once) or closed.
async fn next_batch(
    events: &mut mpsc::Receiver<Vec<u8>>,
    settings: &UploadSettings,
    stop: &mut watch::Receiver<bool>,
    client: &reqwest::Client,
) -> Option<Vec<Vec<u8>>> {
    let mut batch = Vec::new();
    tokio::select! {
        event = events.recv() => batch.push(event?),
        () = crate::shutdown::stopped(stop) => {
            while let Ok(event) = events.try_recv() {
                batch.push(event);
            }
            if !batch.is_empty() {
                let _ = post(client, settings, &batch).await;
            }
            return None;
        }
    }
    let deadline = tokio::time::Instant::now() + settings.flush_interval;
    while batch.len() < settings.max_batch_events {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) => batch.push(event),
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

/// Sends `batch` until the collector accepts it, with backoff; `false` when stopping first.
async fn deliver(
    client: &reqwest::Client,
    settings: &UploadSettings,
    batch: &[Vec<u8>],
    status: &SinkStatus,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut retries = 0u32;
    loop {
        match post(client, settings, batch).await {
            Ok(()) => {
                let sent = batch.len() as u64;
                status.update(|s| {
                    s.state = "OK";
                    s.message = None;
                    s.http_code = None;
                    s.delivered += sent;
                });
                return true;
            }
            Err((message, http_code)) => {
                retries = retries.saturating_add(1);
                warn!(error = %message, events = batch.len(), "decision-log upload failed; retrying");
                status.update(|s| {
                    s.state = "ERROR";
                    s.message = Some(message);
                    s.http_code = http_code;
                });
                let delay = crate::backoff::backoff(retries, settings.max_retry_delay);
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = crate::shutdown::stopped(stop) => {
                        warn!(events = batch.len(), "stopping with decision-log events not uploaded");
                        return false;
                    }
                }
            }
        }
    }
}

/// One POST of `batch` as a gzip-compressed JSON array.
async fn post(
    client: &reqwest::Client,
    settings: &UploadSettings,
    batch: &[Vec<u8>],
) -> Result<(), (String, Option<u16>)> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let encoded = (|| {
        gz.write_all(b"[")?;
        for (i, event) in batch.iter().enumerate() {
            if i > 0 {
                gz.write_all(b",")?;
            }
            gz.write_all(event)?;
        }
        gz.write_all(b"]")?;
        gz.finish()
    })()
    .map_err(|e| (format!("cannot compress the batch: {e}"), None))?;
    let mut request = client
        .post(&settings.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::CONTENT_ENCODING, "gzip")
        .body(encoded);
    for (key, value) in &settings.headers {
        request = request.header(key, value);
    }
    if let Some(bearer) = &settings.credentials {
        let value = bearer.header_value().map_err(|e| (e, None))?;
        request = request.header(reqwest::header::AUTHORIZATION, value);
    }
    let response = request
        .send()
        .await
        .map_err(|e| (format!("log upload failed: {}", e.without_url()), None))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err((
            format!(
                "log upload failed, server replied with HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            ),
            Some(status.as_u16()),
        ))
    }
}
