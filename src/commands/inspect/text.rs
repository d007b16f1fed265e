//! The text form of an `authzd inspect` report.
//!
//! Owns: layout and wording for people; scripts use the JSON form (the report serialised).

use super::report::Report;

/// The report as text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let line = |out: &mut String, label: &str, value: String| {
        out.push_str(&format!("{label:<11}{value}\n"));
    };
    line(
        &mut out,
        "bundle",
        format!("{} ({})", report.source, report.format),
    );
    let size = match report.size.compressed_bytes {
        Some(c) => format!(
            "{} files, {} bytes ({} compressed)",
            report.size.files, report.size.bytes, c
        ),
        None => format!("{} files, {} bytes", report.size.files, report.size.bytes),
    };
    line(&mut out, "size", size);
    let m = &report.manifest;
    line(
        &mut out,
        "revision",
        if m.revision.is_empty() {
            "(none)".to_string()
        } else {
            m.revision.clone()
        },
    );
    let roots: Vec<String> = m
        .roots
        .iter()
        .map(|r| {
            if r.is_empty() {
                "(everything)".to_string()
            } else {
                r.clone()
            }
        })
        .collect();
    line(&mut out, "roots", roots.join(", "));
    line(&mut out, "rego", format!("v{}", m.rego_version));
    if !m.present {
        line(
            &mut out,
            "manifest",
            "none (the bundle owns every path)".to_string(),
        );
    }
    if let Some(metadata) = &m.metadata {
        line(
            &mut out,
            "metadata",
            serde_json::Value::Object(metadata.clone()).to_string(),
        );
    }
    let s = &report.signature;
    let mut signature = s.status.to_string();
    if let Some(key) = &s.key_id {
        signature.push_str(&format!(", key {key:?}"));
    }
    if let Some(claims) = &s.claims {
        signature.push_str(&format!(", {}, {} files", claims.algorithm, claims.files));
        if let Some(scope) = &claims.scope {
            signature.push_str(&format!(", scope {scope:?}"));
        }
    }
    if let Some(reason) = &s.reason {
        signature.push_str(&format!(": {reason}"));
    }
    line(&mut out, "signature", signature);
    if let Some(error) = &report.error {
        line(&mut out, "error", error.replace('\n', "\n           "));
    }

    out.push_str("\npackages\n");
    for package in &report.packages {
        out.push_str(&format!(
            "  {}  ({})\n",
            package.package,
            package.files.join(", ")
        ));
        let width = package
            .rules
            .iter()
            .map(|r| r.path.len())
            .max()
            .unwrap_or(0);
        for rule in &package.rules {
            let mut evaluator = rule.evaluator.unwrap_or("?").to_string();
            if let Some(reason) = &rule.reason {
                evaluator.push_str(&format!(" ({reason})"));
            }
            out.push_str(&format!(
                "    {:<width$}  {:<24} {:>2} def  {}\n",
                rule.path,
                rule.kind,
                rule.definitions.len(),
                evaluator
            ));
        }
    }
    if !report.data.is_empty() {
        out.push_str("\ndata\n");
        for file in &report.data {
            let mut keys = file.keys.join(", ");
            if file.more_keys > 0 {
                keys.push_str(&format!(", ... {} more", file.more_keys));
            }
            out.push_str(&format!(
                "  {}  {} ({} bytes): {}\n",
                file.path, file.file, file.bytes, keys
            ));
        }
    }
    out
}
