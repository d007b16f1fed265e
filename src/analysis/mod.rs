//! Static analysis of Rego modules, without evaluating anything: what `authzd check` reports
//! and what `authzd test` needs to know about a test before running it.
//!
//! Owns: [`Diagnostic`] (one finding at `file:line:col`, columns counted in characters as
//! editors do; regorus counts a tab as four), collecting every parse and compile error of a
//! set of modules ([`errors`]), calls to functions that do not exist ([`calls`]), OPA's
//! strict-mode findings ([`strict`]). The traversal of regorus's syntax tree, the rule graph
//! and the resolution of calls are the load's ([`crate::policy::rego_ast`],
//! [`crate::policy::rule_graph`], [`crate::policy::calls`]), so `check` and `test` see what
//! the daemon sees. Loading bundles is [`crate::bundle`]'s.

pub mod calls;
pub mod errors;
pub mod strict;

/// One finding, at a position in a file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based; 0 when the finding has no position (a whole-file or whole-bundle error).
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl Diagnostic {
    /// A finding about a whole file or bundle.
    pub fn unplaced(file: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            line: 0,
            col: 0,
            message: message.into(),
        }
    }

    /// Reads regorus's error text (`--> file:line:col` ... `error: message`); `file` names
    /// the finding when the text has no location.
    pub fn from_regorus(file: &str, text: &str) -> Self {
        let (location, message) = crate::decide::split_regorus_error(text);
        match location {
            Some(l) => Self {
                file: l.file,
                line: l.row,
                col: l.col,
                message,
            },
            None => Self::unplaced(file, message),
        }
    }
}

impl Diagnostic {
    /// Turns regorus's column (a tab counts as four) into a character column, given the
    /// text of the file the finding is in.
    pub fn fix_column(&mut self, text: &str) {
        if self.line == 0 {
            return;
        }
        let Some(line) = text.split('\n').nth(self.line as usize - 1) else {
            return;
        };
        let mut width = 0u32;
        for (index, c) in line.chars().enumerate() {
            if width + 1 >= self.col {
                self.col = index as u32 + 1;
                return;
            }
            width += if c == '\t' { 4 } else { 1 };
        }
        self.col = line.chars().count() as u32 + 1;
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}
