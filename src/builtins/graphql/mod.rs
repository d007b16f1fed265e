//! OPA's `graphql.*` builtins: parse GraphQL queries and schemas into OPA's AST objects and
//! validate a query against a schema.
//!
//! Owns: the six builtins and their error behaviour (`parse*` fail as builtin errors;
//! `is_valid`, `schema_is_valid` and `parse_and_verify` answer `false` instead). Queries and
//! schemas are strings or AST objects; an object is printed back to text ([`print`]) so both
//! forms take the same path. Parsing is [`syntax`], validation [`validate`].

mod print;
mod syntax;
mod validate;

use crate::builtins::args::type_name;
use regorus::Value;
use serde_json::Value as Json;

use super::{Builtin, builtin_error};

pub(super) const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "graphql.parse_query",
        nargs: 1,
        eval: parse_query,
    },
    Builtin {
        name: "graphql.parse_schema",
        nargs: 1,
        eval: parse_schema,
    },
    Builtin {
        name: "graphql.parse",
        nargs: 2,
        eval: parse,
    },
    Builtin {
        name: "graphql.parse_and_verify",
        nargs: 2,
        eval: parse_and_verify,
    },
    Builtin {
        name: "graphql.is_valid",
        nargs: 2,
        eval: is_valid,
    },
    Builtin {
        name: "graphql.schema_is_valid",
        nargs: 1,
        eval: schema_is_valid,
    },
];

/// A query or schema as given: its text and OPA's AST of it.
struct Doc {
    text: String,
    ast: Json,
}

enum Which {
    Query,
    Schema,
}

/// Reads argument `index` (0-based) of `name` as a query or schema, string or object.
fn document(name: &str, index: usize, arg: &Value, which: Which) -> Result<Doc, String> {
    let text = match arg {
        Value::String(s) => s.to_string(),
        Value::Object(_) => {
            let json = serde_json::to_value(arg).map_err(|e| format!("{name}: {e}"))?;
            let printed = match which {
                Which::Query => print::query_document(&json),
                Which::Schema => print::schema_document(&json),
            };
            printed.map_err(|e| format!("{name}: {}", e.0))?
        }
        other => {
            return Err(format!(
                "{name}: operand {} must be one of {{object, string}} but got {}",
                index + 1,
                type_name(other)
            ));
        }
    };
    let parsed = match which {
        Which::Query => syntax::parse_query(&text),
        Which::Schema => syntax::parse_schema(&text),
    };
    let ast = parsed.map_err(|e| format!("{name}: {e}"))?;
    Ok(Doc { text, ast })
}

fn to_value(json: Json) -> Value {
    Value::from(json)
}

/// Parses and validates both documents: `(query, schema)` or OPA's error message.
fn verified(name: &str, args: &[Value]) -> Result<(Doc, Doc), String> {
    let (Some(q), Some(s)) = (args.first(), args.get(1)) else {
        return Err(format!("{name}: expects 2 arguments"));
    };
    let query = document(name, 0, q, Which::Query)?;
    let schema = document(name, 1, s, Which::Schema)?;
    let valid_schema = validate::schema(&schema.text, defines_nothing(&schema.ast))
        .map_err(|e| format!("{name}: {}", e.0))?;
    if !is_empty_document(&query.ast) {
        validate::query(&valid_schema, &query.text).map_err(|e| format!("{name}: {}", e.0))?;
    }
    Ok((query, schema))
}

/// gqlparser accepts a document without definitions; apollo-compiler does not.
fn is_empty_document(ast: &Json) -> bool {
    ast.as_object()
        .is_some_and(|o| !o.contains_key("Operations") && !o.contains_key("Fragments"))
}

fn defines_nothing(schema_ast: &Json) -> bool {
    schema_ast.as_object().is_some_and(|o| {
        [
            "Schema",
            "SchemaExtension",
            "Directives",
            "Definitions",
            "Extensions",
        ]
        .iter()
        .all(|k| !o.contains_key(*k))
    })
}

fn single(name: &str, args: &[Value], which: Which) -> anyhow::Result<Value> {
    let arg = match args.first() {
        Some(arg @ Value::String(_)) => arg,
        Some(other) => {
            return builtin_error(format!(
                "{name}: operand 1 must be string but got {}",
                type_name(other)
            ));
        }
        None => return builtin_error(format!("{name}: expects 1 argument")),
    };
    match document(name, 0, arg, which) {
        Ok(doc) => Ok(to_value(doc.ast)),
        Err(message) => builtin_error(message),
    }
}

fn parse_query(args: Vec<Value>) -> anyhow::Result<Value> {
    single("graphql.parse_query", &args, Which::Query)
}

fn parse_schema(args: Vec<Value>) -> anyhow::Result<Value> {
    single("graphql.parse_schema", &args, Which::Schema)
}

fn parse(args: Vec<Value>) -> anyhow::Result<Value> {
    match verified("graphql.parse", &args) {
        Ok((query, schema)) => Ok(Value::from(vec![to_value(query.ast), to_value(schema.ast)])),
        Err(message) => builtin_error(message),
    }
}

fn parse_and_verify(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(match verified("graphql.parse_and_verify", &args) {
        Ok((query, schema)) => Value::from(vec![
            Value::from(true),
            to_value(query.ast),
            to_value(schema.ast),
        ]),
        Err(_) => Value::from(vec![
            Value::from(false),
            Value::new_object(),
            Value::new_object(),
        ]),
    })
}

fn is_valid(args: Vec<Value>) -> anyhow::Result<Value> {
    Ok(Value::from(verified("graphql.is_valid", &args).is_ok()))
}

fn schema_is_valid(args: Vec<Value>) -> anyhow::Result<Value> {
    let valid = args
        .first()
        .and_then(|s| document("graphql.schema_is_valid", 0, s, Which::Schema).ok())
        .is_some_and(|schema| validate::schema(&schema.text, defines_nothing(&schema.ast)).is_ok());
    Ok(Value::from(valid))
}

#[cfg(test)]
mod tests;
