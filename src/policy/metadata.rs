//! `rego.metadata.rule()` and `rego.metadata.chain()`, which regorus lacks, answered as OPA
//! answers them from the `# METADATA` comment blocks of the bundle's modules.
//!
//! Owns: reading the blocks (YAML after `# METADATA`, attached to the package or rule on the
//! line below, with OPA's scopes `rule`, `document`, `package` and `subpackages`), OPA's
//! normalisation of `authors` and `related_resources`, and rewriting each call into the value it
//! has in its rule: a constant, computed once at load, on one line so every other position in
//! the file stays where it was. The rewritten rule then needs no builtin at all, on either
//! evaluator.

use std::collections::BTreeMap;

use regorus::Engine;
use regorus::unstable::{Expr, Module};
use serde_json::{Map, Value as Json, json};

use super::rego_ast::{Descend, Site, static_ref, walk_rule};
use super::rule_graph::{package_path, rule_name};
use super::splice::{self, Edit};

/// The two builtins this module answers.
pub const NAMES: [&str; 2] = ["rego.metadata.rule", "rego.metadata.chain"];

/// One module as it is loaded.
pub struct Source<'a> {
    pub id: &'a str,
    pub text: &'a str,
    pub rego_v0: bool,
}

/// A `# METADATA` block and the line of the statement it annotates.
struct Block {
    target_line: u32,
    scope: Option<String>,
    annotations: Map<String, Json>,
}

/// One parsed module and its blocks.
struct Parsed {
    module: regorus::unstable::Ref<Module>,
    package: Vec<String>,
    blocks: Vec<Block>,
}

/// Package-, subpackage- and document-scope annotations of every module, by path.
#[derive(Default)]
struct Index {
    packages: BTreeMap<Vec<String>, Map<String, Json>>,
    subpackages: BTreeMap<Vec<String>, Map<String, Json>>,
    documents: BTreeMap<Vec<String>, Map<String, Json>>,
}

/// The text of every module that calls `rego.metadata.rule()` or `rego.metadata.chain()`, with
/// the calls replaced by their values (`None`: unchanged). `Err` names the file and line of a
/// block that is not valid YAML, as OPA refuses it.
pub fn inline(sources: &[Source<'_>]) -> Result<Vec<Option<String>>, String> {
    if !sources.iter().any(|s| s.text.contains("rego.metadata.")) {
        return Ok(vec![None; sources.len()]);
    }
    let mut parsed = Vec::with_capacity(sources.len());
    for source in sources {
        parsed.push(parse(source)?);
    }
    let mut index = Index::default();
    for p in parsed.iter().flatten() {
        index.add(p);
    }
    Ok(sources
        .iter()
        .zip(&parsed)
        .map(|(source, parsed)| {
            parsed
                .as_ref()
                .filter(|_| source.text.contains("rego.metadata."))
                .and_then(|p| rewrite(source.text, p, &index))
        })
        .collect())
}

/// The module and its blocks; `Ok(None)` when it does not parse (the load reports that).
fn parse(source: &Source<'_>) -> Result<Option<Parsed>, String> {
    let mut engine = Engine::new();
    engine.set_rego_v0(source.rego_v0);
    if engine
        .add_policy(source.id.to_string(), source.text.to_string())
        .is_err()
    {
        return Ok(None);
    }
    let Some(module) = engine.get_modules().first().cloned() else {
        return Ok(None);
    };
    let Some(package) = package_path(&module) else {
        return Ok(None);
    };
    let blocks = blocks(source.id, source.text)?;
    Ok(Some(Parsed {
        module,
        package,
        blocks,
    }))
}

/// Every `# METADATA` block of `text`: the comment lines after it, as YAML, up to the first
/// line that is not a comment (the statement it annotates).
fn blocks(file: &str, text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "# METADATA" {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut yaml = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with('#') {
            let comment = lines[i].trim_start().trim_start_matches('#');
            yaml.push_str(comment.strip_prefix(' ').unwrap_or(comment));
            yaml.push('\n');
            i += 1;
        }
        let parsed: Json = if yaml.trim().is_empty() {
            Json::Object(Map::new())
        } else {
            yaml_serde::from_str(&yaml).map_err(|e| {
                format!("{file}:{start}: rego_parse_error: invalid METADATA block: {e}")
            })?
        };
        let Json::Object(mut annotations) = parsed else {
            return Err(format!(
                "{file}:{start}: rego_parse_error: invalid METADATA block: expected a mapping"
            ));
        };
        let scope = match annotations.remove("scope") {
            Some(Json::String(s)) => Some(s),
            _ => None,
        };
        normalise(&mut annotations);
        found.push(Block {
            target_line: i as u32 + 1,
            scope,
            annotations,
        });
    }
    Ok(found)
}

/// OPA's shapes: an author `"Name <email>"` is `{"name", "email"}`, a related resource given as
/// a string is `{"ref": ...}`.
fn normalise(annotations: &mut Map<String, Json>) {
    if let Some(Json::Array(authors)) = annotations.get_mut("authors") {
        for author in authors.iter_mut() {
            if let Json::String(text) = author {
                *author = match text.trim().rsplit_once('<') {
                    Some((name, email)) if email.ends_with('>') => {
                        json!({"name": name.trim(), "email": email.trim_end_matches('>').trim()})
                    }
                    _ => json!({"name": text.trim()}),
                };
            }
        }
    }
    if let Some(Json::Array(resources)) = annotations.get_mut("related_resources") {
        for resource in resources.iter_mut() {
            if let Json::String(text) = resource {
                *resource = json!({"ref": text});
            }
        }
    }
}

impl Block {
    /// The scope of a block before a rule: as written, else `document` for an entrypoint
    /// (as OPA reads it), else `rule`.
    fn rule_scope(&self) -> &str {
        match self.scope.as_deref() {
            Some(scope) => scope,
            None if self.annotations.get("entrypoint") == Some(&Json::Bool(true)) => "document",
            None => "rule",
        }
    }
}

impl Index {
    fn add(&mut self, parsed: &Parsed) {
        let package_line = parsed.module.package.span.line;
        for block in &parsed.blocks {
            if block.target_line == package_line {
                match block.scope.as_deref() {
                    Some("subpackages") => self
                        .subpackages
                        .insert(parsed.package.clone(), with_scope(block, "subpackages")),
                    _ => self
                        .packages
                        .insert(parsed.package.clone(), with_scope(block, "package")),
                };
            } else if block.rule_scope() == "document"
                && let Some(rule) = parsed
                    .module
                    .policy
                    .iter()
                    .find(|r| r.span().line == block.target_line)
                && let Some(name) = rule_name(rule)
            {
                let mut path = parsed.package.clone();
                path.extend(name);
                self.documents.insert(path, with_scope(block, "document"));
            }
        }
    }

    /// `rego.metadata.chain()` for the rule at `path` whose own block is `own`.
    fn chain(&self, path: &[String], package: &[String], own: Option<Map<String, Json>>) -> Json {
        let mut chain = vec![entry(path, own)];
        if let Some(a) = self.documents.get(path) {
            chain.push(entry(path, Some(a.clone())));
        }
        if let Some(a) = self.packages.get(package) {
            chain.push(entry(package, Some(a.clone())));
        }
        for len in (0..=package.len()).rev() {
            if let Some(a) = self.subpackages.get(&package[..len]) {
                chain.push(entry(&package[..len], Some(a.clone())));
            }
        }
        Json::Array(chain)
    }
}

fn with_scope(block: &Block, scope: &str) -> Map<String, Json> {
    let mut annotations = block.annotations.clone();
    annotations.insert("scope".into(), Json::String(scope.into()));
    annotations
}

fn entry(path: &[String], annotations: Option<Map<String, Json>>) -> Json {
    let mut entry = Map::new();
    entry.insert("path".into(), json!(path));
    if let Some(a) = annotations {
        entry.insert("annotations".into(), Json::Object(a));
    }
    Json::Object(entry)
}

/// `text` with each call in `parsed` replaced by its value; `None` when there is none.
fn rewrite(text: &str, parsed: &Parsed, index: &Index) -> Option<String> {
    let mut edits: Vec<Edit> = Vec::new();
    for rule in &parsed.module.policy {
        let line = rule.span().line;
        let own = parsed
            .blocks
            .iter()
            .find(|b| b.target_line == line && b.rule_scope() == "rule")
            .map(|b| with_scope(b, "rule"));
        let mut path = parsed.package.clone();
        path.extend(rule_name(rule).unwrap_or_default());
        walk_rule(rule, &mut |site| {
            if let Site::Expr(Expr::Call {
                span, fcn, params, ..
            }) = site
                && params.is_empty()
                && let Some((root, fields)) = static_ref(fcn)
            {
                let name = std::iter::once(root.as_str())
                    .chain(fields.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(".");
                let value = match name.as_str() {
                    "rego.metadata.rule" => Json::Object(own.clone().unwrap_or_default()),
                    "rego.metadata.chain" => index.chain(&path, &parsed.package, own.clone()),
                    _ => return Descend::Yes,
                };
                edits.push(Edit {
                    start: span.start as usize,
                    end: span.end as usize,
                    text: value.to_string(),
                });
                return Descend::No;
            }
            Descend::Yes
        });
    }
    splice::apply(text, edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inlined(text: &str) -> String {
        let sources = [Source {
            id: "p.rego",
            text,
            rego_v0: false,
        }];
        inline(&sources).unwrap()[0].clone().unwrap_or_default()
    }

    #[test]
    fn calls_become_their_values_on_the_same_line() {
        let text = "# METADATA\n# title: Pkg\npackage p\n\n# METADATA\n# title: Allow\n# authors:\n# - John Doe <john@example.com>\n# related_resources:\n# - https://example.com\nallow := x if { x := rego.metadata.rule() }\n\nc := rego.metadata.chain()\n";
        let out = inlined(text);
        assert_eq!(out.lines().count(), text.lines().count());
        assert!(
            out.contains(r#"x := {"authors":[{"email":"john@example.com","name":"John Doe"}],"related_resources":[{"ref":"https://example.com"}],"scope":"rule","title":"Allow"}"#),
            "{out}"
        );
        assert!(
            out.contains(r#"c := [{"path":["p","c"]},{"annotations":{"scope":"package","title":"Pkg"},"path":["p"]}]"#),
            "{out}"
        );
    }

    #[test]
    fn invalid_yaml_is_an_error_with_its_line() {
        let sources = [Source {
            id: "p.rego",
            text: "package p\n\n# METADATA\n# title: [unclosed\nr := rego.metadata.rule()\n",
            rego_v0: false,
        }];
        let err = inline(&sources).unwrap_err();
        assert!(err.starts_with("p.rego:3: rego_parse_error"), "{err}");
    }
}
