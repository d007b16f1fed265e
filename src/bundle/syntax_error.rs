//! A parse error authzd finds itself, in syntax it rewrites before regorus reads a module
//! (template strings, negated bodies): OPA's `rego_parse_error` with line and column.

use std::fmt;

/// Syntax OPA's parser would refuse, at a 1-based line and column (in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SyntaxError {
    /// The error at byte `at` of `source`.
    pub fn at(source: &str, at: usize, message: &str) -> Self {
        let before = source.get(..at.min(source.len())).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        SyntaxError {
            line,
            column,
            message: message.to_string(),
        }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: rego_parse_error: {}",
            self.line, self.column, self.message
        )
    }
}
