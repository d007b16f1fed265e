//! Every parse and compile error of a set of Rego modules, not only the first.
//!
//! Owns: recovering after an error so the next one can be found. regorus stops at the first
//! error of a file (parsing) and of a policy set (compiling). After a parse error the
//! top-level statement around it is blanked and the file parsed again; after a compile error
//! the rule that holds it is blanked and the set compiled again. Blanking keeps every line
//! and column where it was, so later positions stay right. Recovery stops at
//! [`MAX_ERRORS`], or when an error does not move past the previous one (a cascade).

use regorus::Engine;
use regorus::unstable::{Module, Ref};

use super::Diagnostic;
use crate::policy::SourceLimits;
use crate::policy::rule_graph::{is_function, package_path, rule_name};

/// At most this many errors per check, as OPA's compiler does.
pub const MAX_ERRORS: usize = 10;

/// One Rego file to check.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The name findings carry (`policies/orders/policy.rego`).
    pub id: String,
    pub text: String,
    pub rego_v0: bool,
}

/// The parse errors of each file, then the compile errors and unknown functions of the files
/// that parsed, together; in file and position order, at most [`MAX_ERRORS`].
pub fn check(files: &[SourceFile]) -> Vec<Diagnostic> {
    // As the load reads them: a too-deep literal that is plain JSON through json.unmarshal.
    let folded: Vec<SourceFile> = files.iter().map(fold_deep_json).collect();
    let files = folded.as_slice();
    let mut found = Vec::new();
    let mut parsed = Vec::new();
    for file in files {
        let errors = parse_errors(file);
        if errors.is_empty() {
            parsed.push(file.clone());
        }
        found.extend(errors);
    }
    if found.len() < MAX_ERRORS {
        let budget = MAX_ERRORS - found.len();
        found.extend(compile_errors(parsed.clone(), budget));
    }
    for diagnostic in &mut found {
        if let Some(file) = files.iter().find(|f| f.id == diagnostic.file) {
            diagnostic.fix_column(&file.text);
        }
    }
    // Operators called by name are calls the load writes as the operators.
    let package_rules = crate::policy::comprehension_scopes::package_rule_names(
        parsed.iter().map(|f| f.text.as_str()),
    );
    let modules: Vec<Ref<Module>> = parsed
        .iter()
        .zip(&package_rules)
        .filter_map(|(file, rules)| {
            let text = crate::policy::operator_calls::rewrite(&file.text, file.rego_v0, rules);
            let file = match text {
                Some(text) => &SourceFile {
                    text,
                    ..file.clone()
                },
                None => file,
            };
            parse(file).ok()
        })
        .collect();
    found.extend(super::calls::unknown_functions(&modules));
    found.sort_by(|a, b| (&a.file, a.line, a.col).cmp(&(&b.file, b.line, b.col)));
    found.dedup_by(|a, b| (&a.file, a.line, a.col) == (&b.file, b.line, b.col));
    found.truncate(MAX_ERRORS);
    found
}

fn fold_deep_json(file: &SourceFile) -> SourceFile {
    let mut file = file.clone();
    let max = SourceLimits::default().max_nesting;
    if let Ok(std::borrow::Cow::Owned(text)) = crate::policy::nesting::readable(&file.text, max) {
        file.text = text;
    }
    file
}

/// Parses `file` alone; the module on success.
pub fn parse(file: &SourceFile) -> Result<Ref<Module>, Diagnostic> {
    // Before regorus parses it, as on load: its parser is exponential in the nesting.
    if let Err(deep) =
        crate::policy::nesting::check(&file.text, SourceLimits::default().max_nesting)
    {
        return Err(Diagnostic {
            file: file.id.clone(),
            line: deep.line,
            col: deep.col,
            message: deep.message,
        });
    }
    let mut engine = Engine::new();
    SourceLimits::default().apply(&mut engine);
    engine.set_rego_v0(file.rego_v0);
    match engine.add_policy(file.id.clone(), file.text.clone()) {
        Ok(_) => engine
            .get_modules()
            .first()
            .cloned()
            .ok_or_else(|| Diagnostic::unplaced(&file.id, "no module")),
        Err(e) => Err(Diagnostic::from_regorus(&file.id, &e.to_string())),
    }
}

fn parse_errors(file: &SourceFile) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = Vec::new();
    let mut current = file.clone();
    while found.len() < MAX_ERRORS {
        let Err(error) = parse(&current) else {
            break;
        };
        if found
            .last()
            .is_some_and(|last| (error.line, error.col) <= (last.line, last.col))
        {
            break;
        }
        let (line, col) = (error.line, error.col);
        found.push(error);
        match blank_statement(&current.text, line, col) {
            Some(text) if text != current.text => current.text = text,
            _ => break,
        }
    }
    found
}

/// `text` with the top-level statement holding `line` (1-based) turned into spaces. A
/// top-level statement starts at a line whose first character is not blank, a comment or a
/// closing bracket, and runs to the next such line. An error inside the first line of a
/// statement but not at its start is often the previous statement running on (`x := 1 +`
/// continues onto the next line): the previous statement is blanked too.
fn blank_statement(text: &str, line: u32, col: u32) -> Option<String> {
    let lines: Vec<&str> = text.split('\n').collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            l.chars()
                .next()
                .is_some_and(|c| !c.is_whitespace() && !matches!(c, '#' | '}' | ']' | ')'))
        })
        .map(|(i, _)| i)
        .collect();
    let target = (line as usize)
        .saturating_sub(1)
        .min(lines.len().saturating_sub(1));
    let holder = starts.iter().rposition(|s| *s <= target)?;
    let start = match starts.get(holder) {
        Some(&first) if first == target && col > 1 && holder > 0 => {
            let previous = starts.get(holder - 1).copied()?;
            if runs_on(lines.get(previous..first).unwrap_or_default()) {
                previous
            } else {
                first
            }
        }
        Some(&first) => first,
        None => return None,
    };
    let end = starts
        .iter()
        .find(|s| **s > target)
        .copied()
        .unwrap_or(lines.len());
    let blanked: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if (start..end).contains(&i) {
                " ".repeat(l.chars().count())
            } else {
                (*l).to_string()
            }
        })
        .collect();
    Some(blanked.join("\n"))
}

/// True when a statement's last line leaves it unfinished (an operator, a comma, an opening
/// bracket or a keyword that needs more), so the next line continues it.
fn runs_on(statement: &[&str]) -> bool {
    let Some(last) = statement
        .iter()
        .rev()
        .map(|l| l.split('#').next().unwrap_or_default().trim_end())
        .find(|l| !l.is_empty())
    else {
        return false;
    };
    if last.starts_with("package ") || last.starts_with("import ") {
        return false;
    }
    let ends_with_keyword = ["if", "in", "with", "as", "else", "contains", "not", "some"]
        .iter()
        .any(|k| {
            last == *k || last.ends_with(&format!(" {k}")) || last.ends_with(&format!("\t{k}"))
        });
    ends_with_keyword || last.ends_with(|c: char| "+-*/%|&=,([{:<>!".contains(c))
}

/// Compiles the files together, blanking the rule of each error to find the next.
fn compile_errors(mut files: Vec<SourceFile>, budget: usize) -> Vec<Diagnostic> {
    let mut found: Vec<Diagnostic> = Vec::new();
    while found.len() < budget {
        let Some(error) = compile_once(&files) else {
            break;
        };
        if found.contains(&error) {
            break;
        }
        let blanked = blank_rule(&mut files, &error);
        found.push(error);
        if !blanked {
            break;
        }
    }
    found
}

/// The first compile error of `files`, if any.
fn compile_once(files: &[SourceFile]) -> Option<Diagnostic> {
    let mut engine = Engine::new();
    SourceLimits::default().apply(&mut engine);
    if let Err(e) = crate::builtins::register(&mut engine) {
        return Some(Diagnostic::unplaced("authzd", e.to_string()));
    }
    let package_rules = crate::policy::comprehension_scopes::package_rule_names(
        files.iter().map(|f| f.text.as_str()),
    );
    for (file, rules) in files.iter().zip(&package_rules) {
        engine.set_rego_v0(file.rego_v0);
        // As the load compiles it: a comprehension's own `some` variables renamed, operators
        // called by name written as operators, an extension's output argument a unification, and `with f as <builtin>` naming a
        // wrapper regorus accepts.
        let text = crate::policy::comprehension_scopes::rewrite(&file.text, file.rego_v0, rules)
            .unwrap_or_else(|| file.text.clone());
        let text =
            crate::policy::operator_calls::rewrite(&text, file.rego_v0, rules).unwrap_or(text);
        let text = crate::policy::output_arguments::rewrite(&text, file.rego_v0).unwrap_or(text);
        let text = crate::policy::with_builtins::rewrite(&text, file.rego_v0).unwrap_or(text);
        if let Err(e) = engine.add_policy(file.id.clone(), text) {
            return Some(Diagnostic::from_regorus(&file.id, &e.to_string()));
        }
    }
    engine.set_rego_v0(false);
    let first_file = files.first().map(|f| f.id.as_str()).unwrap_or("policy");
    let parsed = engine.get_modules().clone();
    let modules = || parsed.iter().map(|m| m.as_ref());
    if let Err(message) = crate::policy::calls::check_arity(modules())
        .and_then(|()| crate::policy::unary_minus::check(modules()))
    {
        return Some(Diagnostic::from_regorus(first_file, &message));
    }
    let entry = engine.get_modules().iter().find_map(|m| entry_point(m));
    let result = match entry {
        Some(entry) => engine
            .compile_with_entrypoint(&entry.as_str().into())
            .map(|_| ()),
        // No rule to start from: a query still runs regorus's checks over every module.
        None => engine.eval_query("true".into(), false).map(|_| ()),
    };
    result
        .err()
        .map(|e| Diagnostic::from_regorus(first_file, &e.to_string()))
}

/// The first document rule of `module`, as a ref (`data.orders.allow`).
fn entry_point(module: &Module) -> Option<String> {
    let package = package_path(module)?;
    module.policy.iter().find_map(|rule| {
        if is_function(rule) {
            return None;
        }
        let mut path = package.clone();
        path.extend(rule_name(rule)?);
        // Only names regorus can take as an entry point.
        path.iter()
            .all(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .then(|| crate::policy::to_ref(&path))
    })
}

/// Blanks the rule that holds `error` in its file; false when none does.
fn blank_rule(files: &mut [SourceFile], error: &Diagnostic) -> bool {
    let Some(file) = files.iter_mut().find(|f| f.id == error.file) else {
        return false;
    };
    let Ok(module) = parse(file) else {
        return false;
    };
    let offsets = line_offsets(&file.text);
    let Some(at) = offsets
        .get(error.line.saturating_sub(1) as usize)
        .map(|start| start + error.col.saturating_sub(1) as usize)
    else {
        return false;
    };
    let holder = module.policy.iter().find(|rule| {
        let span = rule.span();
        (span.start as usize..=span.end as usize).contains(&at)
    });
    let Some(rule) = holder else {
        return false;
    };
    let span = rule.span();
    let (start, end) = (span.start as usize, span.end as usize);
    let Some(section) = file.text.get(start..end) else {
        return false;
    };
    let spaces: String = section
        .chars()
        .map(|c| if c == '\n' { '\n' } else { ' ' })
        .collect();
    file.text.replace_range(start..end, &spaces);
    true
}

/// The byte offset at which each line starts.
fn line_offsets(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(id: &str, text: &str) -> SourceFile {
        SourceFile {
            id: id.into(),
            text: text.into(),
            rego_v0: false,
        }
    }

    fn positions(found: &[Diagnostic]) -> Vec<(String, u32, u32)> {
        found
            .iter()
            .map(|d| (d.file.clone(), d.line, d.col))
            .collect()
    }

    #[test]
    fn two_parse_errors_in_one_file_and_one_in_another() {
        let found = check(&[
            file(
                "a.rego",
                "package a\n\nx := [1, 2,, 3]\n\ny := 2\n\nallow if {\n\tinput.a == == 1\n}\n",
            ),
            file("b.rego", "package b\nz := {\"a\" 1}\n"),
        ]);
        let got = positions(&found);
        assert_eq!(
            got,
            vec![
                ("a.rego".into(), 3, 12),
                ("a.rego".into(), 8, 13),
                ("b.rego".into(), 2, 11),
            ],
            "{found:?}"
        );
    }

    #[test]
    fn a_statement_running_on_is_blanked_with_the_next() {
        // `x := 1 +` continues onto `y`: the parser stops at `:=` on line 5.
        let found = check(&[file(
            "a.rego",
            "package a\n\nx := 1 +\n\ny := 2\n\nz := [1,, 2]\n",
        )]);
        assert_eq!(
            positions(&found),
            vec![("a.rego".into(), 5, 3), ("a.rego".into(), 7, 9)],
            "{found:?}"
        );
    }

    #[test]
    fn two_compile_errors_in_one_file() {
        let found = check(&[file(
            "p.rego",
            "package p\n\nallow if {\n\tx > 1\n}\n\nok := 1\n\ndeny if {\n\tno_such_function(1)\n}\n",
        )]);
        let got = positions(&found);
        assert_eq!(
            got,
            vec![("p.rego".into(), 4, 2), ("p.rego".into(), 10, 2)],
            "{found:?}"
        );
    }

    #[test]
    fn blanking_keeps_lines() {
        let text = "package a\nx := 1 +\n  2 +\ny := 2\n";
        let blanked = blank_statement(text, 3, 3).unwrap();
        assert_eq!(blanked.lines().count(), text.lines().count());
        assert!(blanked.contains("y := 2"));
        assert!(!blanked.contains("x :="));
    }
}
