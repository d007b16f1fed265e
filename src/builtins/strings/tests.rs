//! Unit tests of the `strings.*` extensions; expected values are OPA v1.20.2's.

use super::*;

fn strs(v: &[&str]) -> Value {
    Value::from(v.iter().map(|s| Value::from(*s)).collect::<Vec<_>>())
}

fn split(s: &str, sep: &str, n: i64) -> Value {
    split_n(vec![Value::from(s), Value::from(sep), Value::from(n)]).unwrap()
}

#[test]
fn split_n_keeps_the_first_or_last_parts() {
    assert_eq!(split("a,b,c", ",", 2), strs(&["a", "b"]));
    assert_eq!(split("a,b,c", ",", 0), strs(&[]));
    assert_eq!(split("a,b,c", ",", 10), strs(&["a", "b", "c"]));
    assert_eq!(split("a,b,c", ",", -2), strs(&["b", "c"]));
    assert_eq!(split("abc", "", 2), strs(&["a", "b"]));
    assert_eq!(split("", "", 1), strs(&[]));
    assert_eq!(split("", ",", 1), strs(&[""]));
    let fractional = split_n(vec![Value::from("a"), Value::from(","), Value::from(1.5)]);
    assert_eq!(fractional.unwrap(), Value::Undefined);
}

fn replace(patterns: serde_json::Value, s: &str) -> Value {
    replace_n(vec![Value::from(patterns), Value::from(s)]).unwrap()
}

#[test]
fn replace_n_is_one_pass_in_key_order() {
    use serde_json::json;
    assert_eq!(
        replace(json!({"a": "b", "ab": "c"}), "ab"),
        Value::from("bb")
    );
    assert_eq!(
        replace(json!({"a": "b", "b": "a"}), "ab"),
        Value::from("ba")
    );
    assert_eq!(replace(json!({"a": "aa"}), "aaa"), Value::from("aaaaaa"));
    assert_eq!(
        replace(json!({"": "X", "a": "Y"}), "ab"),
        Value::from("XYXbX")
    );
    assert_eq!(replace(json!({"": "X"}), ""), Value::from("X"));
    assert_eq!(replace(json!({"a": 1}), "a"), Value::Undefined);
}

#[test]
fn count_is_non_overlapping_and_counts_empty_strings() {
    let n = |s: &str, sub: &str| count(vec![Value::from(s), Value::from(sub)]).unwrap();
    assert_eq!(n("aaaa", "aa"), Value::from(2));
    assert_eq!(n("aaa", "aa"), Value::from(1));
    assert_eq!(n("", ""), Value::from(1));
    assert_eq!(n("héllo", ""), Value::from(6));
}
