//! `authzd test --coverage`: which lines of the policies the tests evaluated, per file, from
//! regorus's coverage support.
//!
//! Owns: running the tests once more on a copy of the interpreter with coverage on (a file no
//! test touched is listed with every line uncovered, which regorus leaves out), and the
//! report in text (a percentage and the uncovered line ranges per file) and JSON (OPA's
//! shape: `files.{path}.{covered, not_covered}` as row ranges, `coverage` in percent).

use std::collections::BTreeSet;

use regorus::Engine;
use regorus::unstable::{Rule, RuleHead};
use serde_json::{Value as Json, json};

use crate::policy::rego_ast::{Descend, Site, walk_expr, walk_query};

/// Coverage of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCoverage {
    pub path: String,
    pub covered: Vec<u32>,
    pub not_covered: Vec<u32>,
}

impl FileCoverage {
    fn percent(&self) -> f64 {
        percent(self.covered.len(), self.not_covered.len())
    }
}

fn percent(covered: usize, not_covered: usize) -> f64 {
    let total = covered + not_covered;
    if total == 0 {
        100.0
    } else {
        (covered as f64 * 1000.0 / total as f64).round() / 10.0
    }
}

/// Runs `tests` (rule paths) with coverage on a copy of `engine`.
pub fn collect(engine: &Engine, tests: &[String]) -> Result<Vec<FileCoverage>, String> {
    let mut engine = engine.clone();
    engine.set_enable_coverage(true);
    for test in tests {
        // Pass or fail, what ran is covered; failures are reported by the test run itself.
        let _ = engine.eval_rule(test.clone());
    }
    let report = engine.get_coverage_report().map_err(|e| e.to_string())?;
    let mut files: Vec<FileCoverage> = report
        .files
        .into_iter()
        .map(|f| FileCoverage {
            path: f.path,
            covered: f.covered.into_iter().collect(),
            not_covered: f.not_covered.into_iter().collect(),
        })
        .collect();
    // regorus leaves out the files no test touched: every line of theirs is uncovered.
    for module in engine.get_modules().iter() {
        let path = module.package.span.source.file().to_string();
        if files.iter().any(|f| f.path == path) {
            continue;
        }
        // The lines of the expressions regorus's coverage counts.
        let mut lines = BTreeSet::new();
        let mut line_of = |site: Site<'_>| {
            let (Site::Expr(e) | Site::Head(e) | Site::WithTarget(e)) = site;
            lines.insert(e.span().line);
            Descend::Yes
        };
        for rule in &module.policy {
            match rule.as_ref() {
                Rule::Spec { head, bodies, .. } => {
                    match head {
                        RuleHead::Compr { assign, .. } | RuleHead::Func { assign, .. } => {
                            if let Some(a) = assign {
                                walk_expr(&a.value, &mut line_of);
                            }
                        }
                        RuleHead::Set { key, .. } => {
                            if let Some(k) = key {
                                walk_expr(k, &mut line_of);
                            }
                        }
                    }
                    for body in bodies {
                        walk_query(&body.query, &mut line_of);
                    }
                }
                Rule::Default { value, .. } => walk_expr(value, &mut line_of),
            }
        }
        files.push(FileCoverage {
            path,
            covered: Vec::new(),
            not_covered: lines.into_iter().collect(),
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Consecutive lines as `(first, last)` ranges.
fn ranges(lines: &[u32]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &line in lines {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == line => *last = line,
            _ => out.push((line, line)),
        }
    }
    out
}

fn totals(files: &[FileCoverage]) -> (usize, usize) {
    files.iter().fold((0, 0), |(c, n), f| {
        (c + f.covered.len(), n + f.not_covered.len())
    })
}

/// The report as text.
pub fn text(files: &[FileCoverage]) -> String {
    let (covered, not_covered) = totals(files);
    let mut out = format!(
        "coverage: {:.1}% ({covered} of {} lines)\n",
        percent(covered, not_covered),
        covered + not_covered
    );
    let width = files.iter().map(|f| f.path.len()).max().unwrap_or(0);
    for file in files {
        let missing: Vec<String> = ranges(&file.not_covered)
            .into_iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        let missing = if missing.is_empty() {
            String::new()
        } else {
            format!("  not covered: {}", missing.join(", "))
        };
        out.push_str(&format!(
            "  {:<width$}  {:>5.1}%  ({}/{}){missing}\n",
            file.path,
            file.percent(),
            file.covered.len(),
            file.covered.len() + file.not_covered.len()
        ));
    }
    out
}

/// The report as JSON.
pub fn json(files: &[FileCoverage]) -> Json {
    let as_ranges = |lines: &[u32]| -> Vec<Json> {
        ranges(lines)
            .into_iter()
            .map(|(a, b)| json!({"start": {"row": a}, "end": {"row": b}}))
            .collect()
    };
    let by_file: serde_json::Map<String, Json> = files
        .iter()
        .map(|f| {
            (
                f.path.clone(),
                json!({
                    "covered": as_ranges(&f.covered),
                    "not_covered": as_ranges(&f.not_covered),
                    "covered_lines": f.covered.len(),
                    "not_covered_lines": f.not_covered.len(),
                    "coverage": f.percent(),
                }),
            )
        })
        .collect();
    let (covered, not_covered) = totals(files);
    json!({
        "files": by_file,
        "covered_lines": covered,
        "not_covered_lines": not_covered,
        "coverage": percent(covered, not_covered),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_run_by_tests_are_covered() {
        let mut engine = Engine::new();
        engine
            .add_policy(
                "p.rego".into(),
                "package p\n\nallow if {\n\tinput.x == 1\n}\n\ndeny if {\n\tinput.x == 2\n}\n\ntest_allow if allow with input as {\"x\": 1}\n"
                    .into(),
            )
            .unwrap();
        let files = collect(&engine, &["data.p.test_allow".into()]).unwrap();
        assert_eq!(files.len(), 1);
        let f = &files[0];
        assert!(f.covered.contains(&4), "{f:?}");
        assert!(f.not_covered.contains(&8), "{f:?}");
        assert!(text(&files).contains("not covered: "), "{}", text(&files));
        let j = json(&files);
        assert_eq!(j["files"]["p.rego"]["not_covered"][0]["start"]["row"], 8);
    }

    #[test]
    fn ranges_join_consecutive_lines() {
        assert_eq!(ranges(&[1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
    }
}
