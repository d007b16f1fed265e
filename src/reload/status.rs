//! What each bundle is doing: its active revision, when it last activated, downloaded or
//! failed, and why. Served by `GET /v1/status` (OPA's bundle status shape) and `/health`.
//!
//! Owns: the status table. Written by the reload loop and the downloaders, read by the API;
//! never touched on the decision path.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use serde::Serialize;

/// OPA's zero time, for events that never happened.
const NEVER: &str = "0001-01-01T00:00:00Z";

/// One bundle's status, in OPA's field names.
#[derive(Debug, Clone, Default)]
pub struct BundleStatus {
    pub name: String,
    /// Where it comes from: a path or a URL.
    pub source: String,
    pub active_revision: Option<String>,
    pub last_successful_activation: Option<SystemTime>,
    pub last_successful_download: Option<SystemTime>,
    pub last_request: Option<SystemTime>,
    pub last_successful_request: Option<SystemTime>,
    /// Why the last attempt failed; cleared by the next success.
    pub error: Option<String>,
    pub http_code: Option<u16>,
    /// Size in bytes of the active bundle's files.
    pub size: u64,
}

impl BundleStatus {
    pub fn is_active(&self) -> bool {
        self.last_successful_activation.is_some()
    }
}

/// JSON view of a [`BundleStatus`].
#[derive(Serialize)]
pub struct BundleStatusView<'a> {
    name: &'a str,
    source: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    active_revision: Option<&'a str>,
    last_successful_activation: String,
    last_successful_download: String,
    last_request: String,
    last_successful_request: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    http_code: Option<u16>,
    #[serde(skip_serializing_if = "is_zero")]
    size: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn time(t: Option<SystemTime>) -> String {
    t.map(|t| {
        chrono::DateTime::<chrono::Utc>::from(t)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    })
    .unwrap_or_else(|| NEVER.to_string())
}

impl BundleStatus {
    pub fn view(&self) -> BundleStatusView<'_> {
        BundleStatusView {
            name: &self.name,
            source: &self.source,
            kind: "snapshot",
            active_revision: self.active_revision.as_deref(),
            last_successful_activation: time(self.last_successful_activation),
            last_successful_download: time(self.last_successful_download),
            last_request: time(self.last_request),
            last_successful_request: time(self.last_successful_request),
            code: self.error.as_ref().map(|_| "bundle_error"),
            message: self.error.as_deref(),
            http_code: self.http_code,
            size: self.size,
        }
    }
}

/// Every configured bundle's status, shared between the reload loop and the API.
#[derive(Debug, Clone, Default)]
pub struct StatusTable {
    inner: Arc<RwLock<BTreeMap<String, BundleStatus>>>,
}

impl StatusTable {
    /// A table with one (never activated) entry per configured bundle.
    pub fn new<'a>(bundles: impl IntoIterator<Item = (&'a str, String)>) -> Self {
        let map = bundles
            .into_iter()
            .map(|(name, source)| {
                (
                    name.to_string(),
                    BundleStatus {
                        name: name.to_string(),
                        source,
                        ..BundleStatus::default()
                    },
                )
            })
            .collect();
        Self {
            inner: Arc::new(RwLock::new(map)),
        }
    }

    /// Changes one bundle's status.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut BundleStatus)) {
        let mut map = match self.inner.write() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(status) = map.get_mut(name) {
            change(status);
        }
    }

    /// A copy of every status.
    pub fn snapshot(&self) -> Vec<BundleStatus> {
        let map = match self.inner.read() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.values().cloned().collect()
    }

    /// True once every configured bundle has been activated.
    pub fn all_active(&self) -> bool {
        self.snapshot().iter().all(BundleStatus::is_active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_happened_is_opas_zero_time() {
        let table = StatusTable::new([("a", "policies".to_string())]);
        let status = &table.snapshot()[0];
        let json = serde_json::to_value(status.view()).unwrap();
        assert_eq!(json["last_successful_activation"], NEVER);
        assert!(json.get("code").is_none());
        assert!(!table.all_active());
        table.update("a", |s| {
            s.last_successful_activation = Some(SystemTime::UNIX_EPOCH);
            s.error = Some("boom".into());
        });
        let json = serde_json::to_value(table.snapshot()[0].view()).unwrap();
        assert_eq!(json["code"], "bundle_error");
        assert_eq!(json["last_successful_activation"], "1970-01-01T00:00:00Z");
        assert!(table.all_active());
    }
}
