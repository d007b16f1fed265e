//! OPA's AST objects (the gqlparser shape [`super::syntax`] produces) back to GraphQL text.
//!
//! Owns: printing a query or schema AST object, as `graphql.parse`, `graphql.is_valid` and
//! friends accept them in place of strings, so that they go through the same parser and
//! validator as text. Comments are printed where the AST keeps them, so they survive.
//! Does not own: parsing or validating the text.

use std::fmt::Write;

use serde_json::{Map, Value as Json};

/// Why an AST object cannot be printed: a field of the wrong type (Go's JSON decoding
/// into gqlparser's structs fails on those too).
#[derive(Debug)]
pub struct ShapeError(pub String);

type Result<T> = std::result::Result<T, ShapeError>;

fn fields(value: &Json, what: &str) -> Result<Map<String, Json>> {
    match value {
        Json::Object(map) => Ok(map.clone()),
        Json::Null => Ok(Map::new()),
        _ => Err(ShapeError(format!("{what}: not an object"))),
    }
}

fn list<'a>(map: &'a Map<String, Json>, key: &str) -> Result<&'a [Json]> {
    match map.get(key) {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Array(items)) => Ok(items),
        Some(_) => Err(ShapeError(format!("{key}: not an array"))),
    }
}

fn string<'a>(map: &'a Map<String, Json>, key: &str) -> Result<&'a str> {
    match map.get(key) {
        None | Some(Json::Null) => Ok(""),
        Some(Json::String(s)) => Ok(s),
        Some(_) => Err(ShapeError(format!("{key}: not a string"))),
    }
}

fn boolean(map: &Map<String, Json>, key: &str) -> Result<bool> {
    match map.get(key) {
        None | Some(Json::Null) => Ok(false),
        Some(Json::Bool(b)) => Ok(*b),
        Some(_) => Err(ShapeError(format!("{key}: not a boolean"))),
    }
}

fn comments(out: &mut String, map: &Map<String, Json>, key: &str) -> Result<()> {
    let group = fields(map.get(key).unwrap_or(&Json::Null), key)?;
    for c in list(&group, "List")? {
        let c = fields(c, key)?;
        let text = string(&c, "Value")?;
        // A comment is one line; anything after a line break would become syntax.
        let line = text.lines().next().unwrap_or("");
        let line = if line.starts_with('#') {
            line.to_string()
        } else {
            format!("#{line}")
        };
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A query document object as GraphQL text.
pub fn query_document(doc: &Json) -> Result<String> {
    let doc = fields(doc, "query document")?;
    let mut out = String::new();
    for op in list(&doc, "Operations")? {
        let op = fields(op, "operation")?;
        comments(&mut out, &op, "Comment")?;
        let kind = match string(&op, "Operation")? {
            "" => "query",
            k => k,
        };
        let _ = write!(out, "{kind} {}", string(&op, "Name")?);
        variable_definitions(&mut out, list(&op, "VariableDefinitions")?)?;
        directives(&mut out, list(&op, "Directives")?)?;
        selection_set(&mut out, list(&op, "SelectionSet")?)?;
        out.push('\n');
    }
    for frag in list(&doc, "Fragments")? {
        let frag = fields(frag, "fragment")?;
        comments(&mut out, &frag, "Comment")?;
        let _ = write!(out, "fragment {}", string(&frag, "Name")?);
        variable_definitions(&mut out, list(&frag, "VariableDefinition")?)?;
        let _ = write!(out, " on {}", string(&frag, "TypeCondition")?);
        directives(&mut out, list(&frag, "Directives")?)?;
        selection_set(&mut out, list(&frag, "SelectionSet")?)?;
        out.push('\n');
    }
    Ok(out)
}

fn variable_definitions(out: &mut String, defs: &[Json]) -> Result<()> {
    if defs.is_empty() {
        return Ok(());
    }
    out.push('(');
    for def in defs {
        let def = fields(def, "variable definition")?;
        out.push('\n');
        comments(out, &def, "Comment")?;
        let _ = write!(out, "${}: ", string(&def, "Variable")?);
        type_ref(out, def.get("Type").unwrap_or(&Json::Null))?;
        if let Some(v) = def.get("DefaultValue").filter(|v| !v.is_null()) {
            out.push_str(" = ");
            value(out, v)?;
        }
        directives(out, list(&def, "Directives")?)?;
    }
    out.push_str("\n)");
    Ok(())
}

fn selection_set(out: &mut String, selections: &[Json]) -> Result<()> {
    if selections.is_empty() {
        return Ok(());
    }
    out.push_str(" {");
    for sel in selections {
        let sel = fields(sel, "selection")?;
        out.push('\n');
        comments(out, &sel, "Comment")?;
        // gqlparser's selections carry no type tag: a field has an alias, a spread has only
        // a name, an inline fragment has neither.
        if sel.contains_key("Alias") || sel.contains_key("Arguments") {
            let alias = string(&sel, "Alias")?;
            let name = string(&sel, "Name")?;
            if !alias.is_empty() && alias != name {
                let _ = write!(out, "{alias}: ");
            }
            out.push_str(name);
            arguments(out, list(&sel, "Arguments")?)?;
            directives(out, list(&sel, "Directives")?)?;
            selection_set(out, list(&sel, "SelectionSet")?)?;
        } else if sel.contains_key("Name") && !sel.contains_key("SelectionSet") {
            let _ = write!(out, "...{}", string(&sel, "Name")?);
            directives(out, list(&sel, "Directives")?)?;
        } else {
            out.push_str("...");
            let on = string(&sel, "TypeCondition")?;
            if !on.is_empty() {
                let _ = write!(out, " on {on}");
            }
            directives(out, list(&sel, "Directives")?)?;
            selection_set(out, list(&sel, "SelectionSet")?)?;
        }
    }
    out.push_str("\n}");
    Ok(())
}

fn arguments(out: &mut String, args: &[Json]) -> Result<()> {
    if args.is_empty() {
        return Ok(());
    }
    out.push('(');
    for arg in args {
        let arg = fields(arg, "argument")?;
        out.push('\n');
        comments(out, &arg, "Comment")?;
        let _ = write!(out, "{}: ", string(&arg, "Name")?);
        value(out, arg.get("Value").unwrap_or(&Json::Null))?;
    }
    out.push_str("\n)");
    Ok(())
}

fn directives(out: &mut String, dirs: &[Json]) -> Result<()> {
    for dir in dirs {
        let dir = fields(dir, "directive")?;
        let _ = write!(out, " @{}", string(&dir, "Name")?);
        arguments(out, list(&dir, "Arguments")?)?;
    }
    Ok(())
}

fn value(out: &mut String, v: &Json) -> Result<()> {
    let v = fields(v, "value")?;
    let kind = match v.get("Kind") {
        None | Some(Json::Null) => 0,
        Some(k) => k
            .as_u64()
            .ok_or_else(|| ShapeError("Kind: not an integer".to_string()))?,
    };
    let raw = string(&v, "Raw")?;
    match kind {
        0 => {
            let _ = write!(out, "${raw}");
        }
        3 => out.push_str(&quote(raw)),
        4 => {
            let _ = write!(out, "\"\"\"\n{}\n\"\"\"", raw.replace("\"\"\"", "\\\"\"\""));
        }
        8 => {
            out.push('[');
            for child in list(&v, "Children")? {
                let child = fields(child, "list item")?;
                value(out, child.get("Value").unwrap_or(&Json::Null))?;
                out.push(' ');
            }
            out.push(']');
        }
        9 => {
            out.push('{');
            for child in list(&v, "Children")? {
                let child = fields(child, "object field")?;
                out.push('\n');
                comments(out, &child, "Comment")?;
                let _ = write!(out, "{}: ", string(&child, "Name")?);
                value(out, child.get("Value").unwrap_or(&Json::Null))?;
            }
            out.push_str("\n}");
        }
        1 | 2 | 5 | 6 | 7 => out.push_str(raw),
        _ => return Err(ShapeError(format!("Kind: unknown value kind {kind}"))),
    }
    Ok(())
}

fn type_ref(out: &mut String, t: &Json) -> Result<()> {
    let t = fields(t, "type")?;
    match t.get("Elem").filter(|e| !e.is_null()) {
        Some(elem) => {
            out.push('[');
            type_ref(out, elem)?;
            out.push(']');
        }
        None => out.push_str(string(&t, "NamedType")?),
    }
    if boolean(&t, "NonNull")? {
        out.push('!');
    }
    Ok(())
}

/// A schema document object as GraphQL text.
pub fn schema_document(doc: &Json) -> Result<String> {
    let doc = fields(doc, "schema document")?;
    let mut out = String::new();
    for (key, extend) in [("Schema", ""), ("SchemaExtension", "extend ")] {
        for def in list(&doc, key)? {
            let def = fields(def, "schema definition")?;
            description(&mut out, &def)?;
            let _ = write!(out, "{extend}schema");
            directives(&mut out, list(&def, "Directives")?)?;
            let ops = list(&def, "OperationTypes")?;
            if !ops.is_empty() {
                out.push_str(" {");
                for op in ops {
                    let op = fields(op, "operation type")?;
                    out.push('\n');
                    comments(&mut out, &op, "Comment")?;
                    let _ = write!(
                        out,
                        "{}: {}",
                        string(&op, "Operation")?,
                        string(&op, "Type")?
                    );
                }
                out.push('\n');
                comments(&mut out, &def, "EndOfDefinitionComment")?;
                out.push('}');
            }
            out.push('\n');
        }
    }
    for def in list(&doc, "Directives")? {
        let def = fields(def, "directive definition")?;
        description(&mut out, &def)?;
        let _ = write!(out, "directive @{}", string(&def, "Name")?);
        argument_definitions(&mut out, list(&def, "Arguments")?)?;
        if boolean(&def, "IsRepeatable")? {
            out.push_str(" repeatable");
        }
        out.push_str(" on");
        for (i, loc) in list(&def, "Locations")?.iter().enumerate() {
            let loc = loc
                .as_str()
                .ok_or_else(|| ShapeError("Locations: not a string".to_string()))?;
            let _ = write!(out, "{} {loc}", if i == 0 { "" } else { " |" });
        }
        out.push('\n');
    }
    for (key, extend) in [("Definitions", ""), ("Extensions", "extend ")] {
        for def in list(&doc, key)? {
            type_definition(&mut out, def, extend)?;
        }
    }
    Ok(out)
}

fn description(out: &mut String, def: &Map<String, Json>) -> Result<()> {
    comments(out, def, "BeforeDescriptionComment")?;
    let text = string(def, "Description")?;
    if !text.is_empty() {
        let _ = writeln!(out, "{}", quote(text));
    }
    comments(out, def, "AfterDescriptionComment")
}

fn type_definition(out: &mut String, def: &Json, extend: &str) -> Result<()> {
    let def = fields(def, "definition")?;
    description(out, &def)?;
    let keyword = match string(&def, "Kind")? {
        "SCALAR" => "scalar",
        "OBJECT" => "type",
        "INTERFACE" => "interface",
        "UNION" => "union",
        "ENUM" => "enum",
        "INPUT_OBJECT" => "input",
        other => {
            return Err(ShapeError(format!(
                "Kind: unknown definition kind {other:?}"
            )));
        }
    };
    let _ = write!(out, "{extend}{keyword} {}", string(&def, "Name")?);
    let interfaces = list(&def, "Interfaces")?;
    for (i, name) in interfaces.iter().enumerate() {
        let name = name
            .as_str()
            .ok_or_else(|| ShapeError("Interfaces: not a string".to_string()))?;
        let _ = write!(out, "{} {name}", if i == 0 { " implements" } else { " &" });
    }
    directives(out, list(&def, "Directives")?)?;
    let types = list(&def, "Types")?;
    for (i, name) in types.iter().enumerate() {
        let name = name
            .as_str()
            .ok_or_else(|| ShapeError("Types: not a string".to_string()))?;
        let _ = write!(out, " {} {name}", if i == 0 { "=" } else { "|" });
    }
    let fields_list = list(&def, "Fields")?;
    if !fields_list.is_empty() {
        out.push_str(" {");
        for f in fields_list {
            let f = fields(f, "field definition")?;
            out.push('\n');
            description(out, &f)?;
            out.push_str(string(&f, "Name")?);
            argument_definitions(out, list(&f, "Arguments")?)?;
            out.push_str(": ");
            type_ref(out, f.get("Type").unwrap_or(&Json::Null))?;
            if let Some(v) = f.get("DefaultValue").filter(|v| !v.is_null()) {
                out.push_str(" = ");
                value(out, v)?;
            }
            directives(out, list(&f, "Directives")?)?;
        }
        out.push('\n');
        comments(out, &def, "EndOfDefinitionComment")?;
        out.push('}');
    }
    let values = list(&def, "EnumValues")?;
    if !values.is_empty() {
        out.push_str(" {");
        for v in values {
            let v = fields(v, "enum value")?;
            out.push('\n');
            description(out, &v)?;
            out.push_str(string(&v, "Name")?);
            directives(out, list(&v, "Directives")?)?;
        }
        out.push('\n');
        comments(out, &def, "EndOfDefinitionComment")?;
        out.push('}');
    }
    out.push('\n');
    Ok(())
}

fn argument_definitions(out: &mut String, args: &[Json]) -> Result<()> {
    if args.is_empty() {
        return Ok(());
    }
    out.push('(');
    for arg in args {
        let arg = fields(arg, "argument definition")?;
        out.push('\n');
        description(out, &arg)?;
        let _ = write!(out, "{}: ", string(&arg, "Name")?);
        type_ref(out, arg.get("Type").unwrap_or(&Json::Null))?;
        if let Some(v) = arg.get("DefaultValue").filter(|v| !v.is_null()) {
            out.push_str(" = ");
            value(out, v)?;
        }
        directives(out, list(&arg, "Directives")?)?;
    }
    out.push_str("\n)");
    Ok(())
}
