//! Identifiers: a UUIDv4 per decision, formatted without touching the heap, and this process's
//! instance id.
//!
//! Owns: the identifier that ties a response to its decision-log event, and `labels.id` of
//! status reports and decision logs.

use std::sync::OnceLock;

/// This process's identity (OPA's `labels.id`), fixed for its lifetime.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| uuid::Uuid::new_v4().to_string())
}

/// A hyphenated lower-case UUIDv4, stored inline.
#[derive(Clone, Copy)]
pub struct DecisionId([u8; uuid::fmt::Hyphenated::LENGTH]);

impl DecisionId {
    pub fn new() -> Self {
        let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
        uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        Self(buf)
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: written by `encode_lower` above.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl Default for DecisionId {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Display for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for DecisionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DecisionId({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_uuids() {
        let (a, b) = (DecisionId::new(), DecisionId::new());
        assert_ne!(a.as_str(), b.as_str());
        assert!(uuid::Uuid::parse_str(a.as_str()).is_ok());
    }
}
