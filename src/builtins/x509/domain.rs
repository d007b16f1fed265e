//! Go's `domainToReverseLabels`, which x509 uses to read a domain in a certificate's names
//! and in name constraints: the labels last first, `None` for an empty label (a trailing dot
//! included) or a byte outside `!`..`~`.

/// Go's `domainToReverseLabels`: `None` for an empty label or a byte outside `!`..`~`.
pub(super) fn reverse_labels(domain: &str) -> Option<Vec<&str>> {
    if domain.is_empty() {
        return Some(Vec::new());
    }
    let labels: Vec<&str> = domain.rsplit('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.chars().any(|c| !('!'..='~').contains(&c)))
    {
        return None;
    }
    Some(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_as_go_splits_them() {
        assert_eq!(
            reverse_labels("a.example.com").unwrap(),
            ["com", "example", "a"]
        );
        assert!(reverse_labels("example.com.").is_none());
        assert!(reverse_labels("a..b").is_none());
        assert!(reverse_labels("a b").is_none());
        assert!(reverse_labels("").unwrap().is_empty());
    }
}
