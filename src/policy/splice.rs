//! Editing a policy's source text in place, for the load-time rewrites (negation guards,
//! `rego.metadata` values).
//!
//! Owns: applying a set of replacements (an insertion replaces nothing) to the text they were
//! computed on, in position order, refusing edits that overlap or fall inside a character.

/// Replaces `source[start..end]` with `text` (`start == end`: an insertion).
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: String) -> Self {
        Self {
            start: at,
            end: at,
            text,
        }
    }
}

/// The byte range of a statement's `span` in `source`, widened over the quotes of a string it
/// starts or ends with: regorus' span of `v == "bar"` ends before the closing quote, and an
/// insertion there would land inside the string. Nothing else can stand right before or after
/// a statement, so a quote there is the statement's own.
pub fn statement_range(source: &str, span: &regorus::unstable::Span) -> (usize, usize) {
    let is_quote = |at: usize| matches!(source.as_bytes().get(at), Some(b'"' | b'`'));
    let mut start = span.start as usize;
    let mut end = span.end as usize;
    if start > 0 && is_quote(start - 1) {
        start -= 1;
    }
    if is_quote(end) {
        end += 1;
    }
    (start, end)
}

/// True when the statement at `start` is a body written without braces (`p if not x`).
pub fn after_if_keyword(source: &str, start: usize) -> bool {
    let before = source.get(..start).unwrap_or("").trim_end();
    before.ends_with("if")
        && !before[..before.len() - 2]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// `source` with `edits` applied, or `None` when there are none or they cannot all apply.
/// Edits at the same place apply in the order given.
pub fn apply(source: &str, mut edits: Vec<Edit>) -> Option<String> {
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| e.start);
    let extra: usize = edits.iter().map(|e| e.text.len()).sum();
    let mut out = String::with_capacity(source.len() + extra);
    let mut last = 0;
    for edit in &edits {
        let start = edit.start.min(source.len());
        let end = edit.end.clamp(start, source.len());
        if start < last || !source.is_char_boundary(start) || !source.is_char_boundary(end) {
            return None;
        }
        out.push_str(&source[last..start]);
        out.push_str(&edit.text);
        last = end;
    }
    out.push_str(&source[last..]);
    Some(out)
}

/// `source` with the edits `edits` makes of its parse (`source` as regorus reads it, with
/// `rego_v0` for a v0 module), for the tools that compile a module on their own (`authzd
/// check`); `None` when nothing changes or it does not parse.
pub fn rewrite_module(
    source: &str,
    rego_v0: bool,
    edits: impl FnOnce(&regorus::unstable::Module, &str) -> Vec<Edit>,
) -> Option<String> {
    let mut engine = regorus::Engine::new();
    super::SourceLimits::default().apply(&mut engine);
    engine.set_rego_v0(rego_v0);
    engine
        .add_policy("policy.rego".to_string(), source.to_string())
        .ok()?;
    let module = engine.get_modules().first()?.clone();
    apply(source, edits(&module, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_and_replacements_apply_in_order_and_overlaps_are_refused() {
        let edits = vec![
            Edit::insert(3, "!".into()),
            Edit {
                start: 0,
                end: 1,
                text: "A".into(),
            },
            Edit::insert(3, "?".into()),
        ];
        assert_eq!(apply("abcd", edits).as_deref(), Some("Abc!?d"));
        let overlapping = vec![
            Edit {
                start: 0,
                end: 3,
                text: String::new(),
            },
            Edit::insert(1, "x".into()),
        ];
        assert_eq!(apply("abcd", overlapping), None);
        assert_eq!(apply("abcd", Vec::new()), None);
    }
}
