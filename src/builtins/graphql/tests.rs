//! Unit tests of the GraphQL builtins; expected values confirmed with OPA v1.20.2.

use serde_json::json;

use super::*;

fn s(text: &str) -> Value {
    Value::from(text)
}

fn json_of(v: &Value) -> Json {
    serde_json::from_str(&v.to_json_str().unwrap()).unwrap()
}

fn strict<R>(f: impl FnOnce() -> R) -> R {
    crate::builtins::with_strict_errors(true, f)
}

#[test]
fn parse_query_shape() {
    let ast = parse_query(vec![s("{ f(id: null, l: [1], s: \"\"\"long\"\"\") }")]).unwrap();
    let value =
        |kind: u8, raw: &str| json!({"ExpectedTypeHasDefault": false, "Kind": kind, "Raw": raw});
    assert_eq!(
        json_of(&ast),
        json!({"Operations": [{"Name": "", "Operation": "query", "SelectionSet": [{
        "Alias": "f", "Name": "f", "Arguments": [
            {"Name": "id", "Value": value(6, "null")},
            {"Name": "l", "Value": {"Children": [{"Name": "", "Value": value(1, "1")}],
                "ExpectedTypeHasDefault": false, "Kind": 8, "Raw": ""}},
            {"Name": "s", "Value": value(4, "long")},
        ]}]}]})
    );
}

#[test]
fn comments_attach_to_the_next_node_except_shorthand_queries() {
    let ast = json_of(&parse_query(vec![s("# a\nquery { # b\n f }")]).unwrap());
    assert_eq!(
        ast["Operations"][0]["Comment"],
        json!({"List": [{"Value": "# a"}]})
    );
    assert_eq!(
        ast["Operations"][0]["SelectionSet"][0]["Comment"],
        json!({"List": [{"Value": "# b"}]})
    );
    let ast = json_of(&parse_query(vec![s("# a\n{ f }")]).unwrap());
    assert!(ast["Operations"][0].get("Comment").is_none());
}

#[test]
fn block_strings_lose_common_indentation_and_blank_edges() {
    let ast = json_of(
        &parse_query(vec![s(
            "{ f(s: \"\"\"  \n    hello\n      world\n    \"\"\") }",
        )])
        .unwrap(),
    );
    assert_eq!(
        ast["Operations"][0]["SelectionSet"][0]["Arguments"][0]["Value"]["Raw"],
        json!("hello\n  world")
    );
}

#[test]
fn syntax_errors_in_gqlparser_words() {
    let cases = [
        (
            "{",
            "Expected Name, found <EOF> in GraphQL string at location 1:2",
        ),
        (
            "{}",
            "expected at least one definition, found } in GraphQL string at location 1:2",
        ),
        (
            "{ a ? }",
            "Expected Name, found <Invalid> in GraphQL string at location 1:5",
        ),
        (
            "{ a(x: \"unterm) }",
            "Unexpected <Invalid> in GraphQL string at location 1:18",
        ),
        (
            "{ a(x: 01) }",
            "Unexpected <Invalid> in GraphQL string at location 1:9",
        ),
        (
            "query Q { a } garbage",
            "Unexpected Name \"garbage\" in GraphQL string at location 1:15",
        ),
        (
            "\n  { ...MissingOn }\n  fragment MissingOn Type\n",
            "Expected \"on\", found Name \"Type\" in GraphQL string at location 3:22",
        ),
        (
            "query Foo($x: C = { a: [ $var ] }) { f }",
            "Unexpected $ in GraphQL string at location 1:26",
        ),
    ];
    for (query, want) in cases {
        let err = strict(|| parse_query(vec![s(query)])).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("graphql.parse_query: {want}"),
            "{query}"
        );
        assert_eq!(parse_query(vec![s(query)]).unwrap(), Value::Undefined);
    }
}

#[test]
fn schema_errors() {
    let err = strict(|| parse_schema(vec![s("\"x\" extend type Q { a: Int }")])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "graphql.parse_schema: Unexpected String \"x\" in GraphQL string at location 1:1"
    );
    let err = strict(|| parse_schema(vec![s("extend type Q")])).unwrap_err();
    assert!(err.to_string().contains("Unexpected <EOF>"), "{err}");
}

#[test]
fn validity() {
    let schema = s("type Query { a(x: Int!): Int }");
    assert_eq!(
        is_valid(vec![s("{ a(x: 1) }"), schema.clone()]).unwrap(),
        Value::from(true)
    );
    assert_eq!(
        is_valid(vec![s("{ a }"), schema.clone()]).unwrap(),
        Value::from(false)
    );
    assert_eq!(
        is_valid(vec![s("{ b(x: 1) }"), schema.clone()]).unwrap(),
        Value::from(false)
    );
    assert_eq!(
        is_valid(vec![Value::from(1), schema]).unwrap(),
        Value::from(false)
    );
    // gqlparser accepts what apollo-compiler alone would refuse.
    assert_eq!(schema_is_valid(vec![s("")]).unwrap(), Value::from(true));
    assert_eq!(
        schema_is_valid(vec![s("union U")]).unwrap(),
        Value::from(true)
    );
    assert_eq!(
        schema_is_valid(vec![s("type Mutation { a: Int }")]).unwrap(),
        Value::from(true)
    );
    assert_eq!(
        schema_is_valid(vec![s("type Query { a: B }")]).unwrap(),
        Value::from(false)
    );
}

#[test]
fn validation_errors_name_the_rule_and_place() {
    let err = strict(|| parse(vec![s("mutation { x }"), s("type Query { bar: String! }")]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "graphql.parse: Schema does not support operation type \"mutation\" in GraphQL string at location 1:1"
    );
}

#[test]
fn ast_objects_round_trip_through_text() {
    let query = "# c\nquery Q($a: [Int!]! = [1]) @d { x: f(a: $a, o: {k: \"v\\n\"}) { ... on T { g } ...F } }\nfragment F on T { h }";
    let schema = "\"d\" type T { \"fd\" f(a: Int = 1): [String!]! } enum E { A } input I { a: Int = 2 } union U = T directive @d repeatable on QUERY | FIELD";
    let q = parse_query(vec![s(query)]).unwrap();
    let sc = parse_schema(vec![s(schema)]).unwrap();
    let printed = print::query_document(&json_of(&q)).unwrap();
    assert_eq!(parse_query(vec![s(&printed)]).unwrap(), q, "{printed}");
    let printed = print::schema_document(&json_of(&sc)).unwrap();
    assert_eq!(parse_schema(vec![s(&printed)]).unwrap(), sc, "{printed}");
}

#[test]
fn parse_and_verify_answers_false_instead_of_failing() {
    let got = parse_and_verify(vec![s("{ b }"), s("type Query { a: Int }")]).unwrap();
    assert_eq!(json_of(&got), json!([false, {}, {}]));
    let got = parse_and_verify(vec![s("{ a }"), s("type Query { a: Int }")]).unwrap();
    assert_eq!(json_of(&got)[0], json!(true));
}
