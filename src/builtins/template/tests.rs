//! Unit tests of `strings.render_template`; expected outputs are OPA v1.20.2's.

use serde_json::json;

use super::*;

fn r(template: &str, vars: Json) -> String {
    render(template, &vars).unwrap()
}

#[test]
fn renders_like_opa() {
    assert_eq!(
        r("{{.test}}", json!({"test": "hello world"})),
        "hello world"
    );
    assert_eq!(r("{{.test}}", json!({"test": 2023})), "2023");
    assert_eq!(
        r(
            "{{range $i, $name := .hellonames}}{{if $i}},{{end}}hello {{$name}}{{end}}",
            json!({"hellonames": ["rohan", "john doe"]})
        ),
        "hello rohan,hello john doe"
    );
    assert_eq!(
        r("test {{.foo}} {{.bar}} {{.baz}}", json!({"baz": 1})),
        "test <undefined> <undefined> 1"
    );
    assert_eq!(
        r(
            "{{.a}} {{.b}} {{.c}}",
            json!({"a": [1, "x", true, null], "b": {"k": 1, "j": [2]}, "c": null})
        ),
        "[1 x true <nil>] map[j:[2] k:1] <undefined>"
    );
    assert_eq!(
        r(
            "{{range $k, $v := .m}}{{$k}}={{$v}};{{end}}",
            json!({"m": {"b": 2, "a": 1}})
        ),
        "a=1;b=2;"
    );
    assert_eq!(
        r("a  {{- .a }}  b {{ .a -}}  c", json!({"a": "Y"})),
        "aY  b Yc"
    );
}

#[test]
fn numbers_are_json_numbers() {
    // Always true, compared as strings, refused by %d.
    assert_eq!(
        r("{{and .a .b}} {{not .a}}", json!({"a": 0, "b": "x"})),
        "x false"
    );
    assert_eq!(r("{{eq .a \"1\"}}", json!({"a": 1})), "true");
    assert_eq!(
        r("{{printf \"%d %x\" .n .n}}", json!({"n": 255})),
        "%!d(json.Number=255) 323535"
    );
    assert!(
        render("{{eq .n 2}}", &json!({"n": 2}))
            .unwrap_err()
            .contains("incompatible types")
    );
}

#[test]
fn errors() {
    assert!(
        render("{{", &json!({}))
            .unwrap_err()
            .contains("unclosed action")
    );
    assert!(render("{{nofunc 1}}", &json!({})).is_err());
    let strict = crate::builtins::with_strict_errors(true, || {
        render_template(vec![Value::from("{{"), Value::new_object()])
    });
    assert!(
        strict
            .unwrap_err()
            .to_string()
            .starts_with("strings.render_template: ")
    );
}
