//! Validating a GraphQL schema, and a query against it, with `apollo-compiler`.
//!
//! Owns: building the schema as gqlparser does for OPA (the built-in scalars, directives and
//! introspection types merged in; extensions of undefined types accepted) and running the
//! spec's validation rules on the query. Messages are the graphql-js wording both libraries
//! follow, with the first error's line and column, in OPA's frame. Does not own parsing into
//! OPA's AST shape ([`super::syntax`]).

use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};

/// Why a schema or a query is not valid, in OPA's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// apollo-compiler's words for a schema without a query root, which gqlparser accepts (a
/// query against it then fails validation instead).
const NO_QUERY_ROOT: &str = "missing query root operation type in schema definition";

/// True for the diagnostics of things gqlparser accepts.
fn tolerated(message: &str) -> bool {
    message == NO_QUERY_ROOT || message.ends_with("has no member types")
}

/// The first diagnostic of a list that gqlparser would also report, as `message` and
/// `line:column`; `None` when there is none.
fn first_error(errors: &apollo_compiler::validation::DiagnosticList) -> Option<(String, String)> {
    let diagnostic = errors.iter().find(|d| !tolerated(&d.error.to_string()))?;
    {
        {
            let message = diagnostic.unstable_to_json_compat().message;
            let message = gqlparser_wording(message.trim_end_matches('.'));
            let at = diagnostic
                .line_column_range()
                .map(|r| format!("{}:{}", r.start.line, r.start.column))
                .unwrap_or_else(|| "0:0".to_string());
            Some((message, at))
        }
    }
}

/// gqlparser's words where they differ from apollo-compiler's for the same rule.
fn gqlparser_wording(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("The schema has no ")
        && let Some(operation) = rest.strip_suffix(" root type defined")
    {
        return format!("Schema does not support operation type {operation}");
    }
    message.to_string()
}

/// Builds and validates a schema from SDL text (`empty`: it defines nothing, which
/// apollo-compiler's parser refuses and gqlparser accepts).
pub fn schema(sdl: &str, empty: bool) -> Result<Valid<Schema>, Invalid> {
    let mut builder = Schema::builder().adopt_orphan_extensions();
    if !empty {
        builder = builder.parse(sdl, "schema.graphql");
    }
    let built = builder.build().and_then(Schema::validate);
    match built {
        Ok(valid) => Ok(valid),
        Err(with_errors) => match first_error(&with_errors.errors) {
            // Only what gqlparser accepts.
            None => Ok(Valid::assume_valid(with_errors.partial)),
            Some((message, at)) => Err(Invalid(format!(
                "Error in gqlparser SchemaDocument to Schema conversion: {message} at location {at}"
            ))),
        },
    }
}

/// Validates an executable document against `schema`.
pub fn query(schema: &Valid<Schema>, text: &str) -> Result<(), Invalid> {
    ExecutableDocument::parse_and_validate(schema, text, "query.graphql")
        .map(|_| ())
        .map_err(|with_errors| {
            let (message, at) = first_error(&with_errors.errors)
                .unwrap_or_else(|| (NO_QUERY_ROOT.to_string(), "0:0".to_string()));
            Invalid(format!("{message} in GraphQL string at location {at}"))
        })
}
