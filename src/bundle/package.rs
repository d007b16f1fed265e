//! Reading a Rego module's `package` declaration without parsing the whole module.
//!
//! Owns: finding the package path early, so roots can be checked before anything compiles.
//! The full parse (and its errors) belongs to regorus during compilation.

use super::BundleError;

/// The package of a Rego module as data path segments (`package a.b["c-d"]` -> `a`, `b`, `c-d`).
pub fn package_path(file: &str, text: &str) -> Result<Vec<String>, BundleError> {
    for (index, line) in text.lines().enumerate() {
        let code = strip_comment(line).trim();
        if code.is_empty() {
            continue;
        }
        let line_no = index + 1;
        let Some(rest) = code.strip_prefix("package") else {
            return Err(BundleError::Package {
                file: file.to_string(),
                line: line_no,
                message: "a Rego module must start with a `package` declaration".into(),
            });
        };
        if !rest.starts_with(char::is_whitespace) {
            return Err(BundleError::Package {
                file: file.to_string(),
                line: line_no,
                message: "a Rego module must start with a `package` declaration".into(),
            });
        }
        return parse_ref(leading_ref(rest.trim())).map_err(|message| BundleError::Package {
            file: file.to_string(),
            line: line_no,
            message,
        });
    }
    Err(BundleError::Package {
        file: file.to_string(),
        line: 1,
        message: "the module is empty: it needs at least a `package` declaration".into(),
    })
}

/// The reference at the start of `text`: up to the first space outside brackets (OPA reads a
/// rule on the package's own line, `package test p := 1`).
fn leading_ref(text: &str) -> &str {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => depth = depth.saturating_sub(1),
            c if c.is_whitespace() && depth == 0 && !in_string => return &text[..i],
            _ => {}
        }
    }
    text
}

fn strip_comment(line: &str) -> &str {
    // A `#` inside a string can only appear after the package keyword in a bracketed key;
    // package lines rarely have one, and regorus re-checks everything at compile time.
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match c {
            '\\' if in_string && !escaped => {
                escaped = true;
                continue;
            }
            '"' if !escaped => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
        escaped = false;
    }
    line
}

/// Parses `a.b["c"].d` (the `data.` prefix is optional) into its segments.
pub fn parse_ref(text: &str) -> Result<Vec<String>, String> {
    let mut segments = Vec::new();
    let mut rest = text;
    let bad = || format!("cannot read the package path `{text}`");
    loop {
        if let Some(after) = rest.strip_prefix('[') {
            let (key, after) = bracket_key(after).ok_or_else(bad)?;
            segments.push(key);
            rest = after;
        } else {
            let end = rest
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                return Err(bad());
            }
            segments.push(rest[..end].to_string());
            rest = &rest[end..];
        }
        if rest.is_empty() {
            break;
        }
        if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else if !rest.starts_with('[') {
            return Err(bad());
        }
    }
    if segments.first().map(String::as_str) == Some("data") {
        segments.remove(0);
    }
    Ok(segments)
}

/// The key of `["b/c"]` or `[0]` (after the `[`), and what follows the `]`. A string key is
/// read as JSON up to its closing quote, so it may itself contain `]`.
fn bracket_key(after: &str) -> Option<(String, &str)> {
    let inner = after.trim_start();
    let (key, tail) = if inner.starts_with('"') {
        let mut strings = serde_json::Deserializer::from_str(inner).into_iter::<String>();
        let key = strings.next()?.ok()?;
        (key, &inner[strings.byte_offset()..])
    } else {
        let close = inner.find(']')?;
        let index: i64 = inner[..close].trim().parse().ok()?;
        (index.to_string(), &inner[close..])
    };
    tail.trim_start().strip_prefix(']').map(|rest| (key, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_with_array_indexes_and_brackets_in_keys() {
        assert_eq!(parse_ref("data.roles[0]").unwrap(), vec!["roles", "0"]);
        assert_eq!(
            parse_ref("data.a[\"x]y\"].b").unwrap(),
            vec!["a", "x]y", "b"]
        );
        assert!(parse_ref("data.a[x]").is_err());
        assert!(parse_ref("data.a[\"x\"").is_err());
    }

    #[test]
    fn a_rule_on_the_package_line_is_not_part_of_the_path() {
        // OPA's conformance case jwtencodesignraw/EdDSA is written so (a folded YAML scalar).
        let text = "package test p := x if { x := [\"a b\"] }\n";
        assert_eq!(package_path("p.rego", text).unwrap(), vec!["test"]);
        let text = "package a[\"b c\"] p := 1\n";
        assert_eq!(package_path("p.rego", text).unwrap(), vec!["a", "b c"]);
    }

    #[test]
    fn reads_package_after_comments() {
        let text = "# METADATA\n# title: x\n\npackage orders.admin # trailing\n\nallow := true\n";
        assert_eq!(
            package_path("p.rego", text).unwrap(),
            vec!["orders", "admin"]
        );
    }

    #[test]
    fn reads_bracketed_keys() {
        assert_eq!(
            package_path("p.rego", "package a[\"b-c\"].d\n").unwrap(),
            vec!["a", "b-c", "d"]
        );
    }

    #[test]
    fn missing_package_names_the_line() {
        let err = package_path("p.rego", "\n\nallow := true\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "p.rego:3: a Rego module must start with a `package` declaration"
        );
    }
}
