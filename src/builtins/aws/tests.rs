//! Unit tests of `providers.aws.sign_req`; expected signatures are OPA v1.20.2's.

use super::*;

fn config() -> Value {
    Value::from(serde_json::json!({
        "aws_access_key": "MYAWSACCESSKEYGOESHERE",
        "aws_secret_access_key": "MYAWSSECRETACCESSKEYGOESHERE",
        "aws_service": "s3",
        "aws_region": "us-east-1",
    }))
}

const TIME_NS: i64 = 1_647_444_000_000_000_000;

fn signed_headers(request: serde_json::Value, config: Value) -> serde_json::Value {
    let out = sign_req(vec![Value::from(request), config, Value::from(TIME_NS)]).unwrap();
    let json: serde_json::Value = serde_json::from_str(&out.to_json_str().unwrap()).unwrap();
    json["headers"].clone()
}

#[test]
fn signs_an_s3_request_like_opa() {
    let headers = signed_headers(
        serde_json::json!({"method": "get", "url": "https://example.com/_search",
            "headers": {"foo": "bar", "abc": "def", "User-Agent": "x"}}),
        config(),
    );
    assert_eq!(
        headers,
        serde_json::json!({
            "Authorization": "AWS4-HMAC-SHA256 Credential=MYAWSACCESSKEYGOESHERE/20220316/us-east-1/s3/aws4_request,SignedHeaders=abc;foo;host;x-amz-content-sha256;x-amz-date,Signature=65f7b551398373f1542e73ac22b30f00f463e6ca23ed507aebbaa66d5f4bf6cd",
            "User-Agent": "x", "abc": "def", "foo": "bar", "host": "example.com",
            "x-amz-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "x-amz-date": "20220316T152000Z",
        })
    );
}

#[test]
fn dates_are_utc_calendar_days() {
    assert_eq!(
        amz_dates(TIME_NS),
        ("20220316".to_string(), "20220316T152000Z".to_string())
    );
    assert_eq!(
        amz_dates(-1_000_000_000),
        ("19691231".to_string(), "19691231T235959Z".to_string())
    );
    assert_eq!(amz_dates(951_782_400 * 1_000_000_000).0, "20000229");
}

#[test]
fn go_json_sorts_keys_and_escapes_html() {
    let v = Value::from(serde_json::json!({"b": 1, "a": "<&>"}));
    assert_eq!(go_json(&v), r#"{"a":"\u003c\u0026\u003e","b":1}"#);
}

#[test]
fn bad_requests_are_builtin_errors() {
    let strict = |request: serde_json::Value, config: Value| {
        crate::builtins::with_strict_errors(true, || {
            sign_req(vec![Value::from(request), config, Value::from(TIME_NS)])
        })
        .unwrap_err()
        .to_string()
    };
    let url = serde_json::json!({"method": "get", "url": "https://example.com/%zz"});
    assert_eq!(
        strict(url, config()),
        r#"providers.aws.sign_req: parse "https://example.com/%zz": invalid URL escape "%zz""#
    );
    let missing = Value::from(serde_json::json!({"aws_access_key": "a"}));
    let request = serde_json::json!({"method": "get", "url": "https://example.com/"});
    assert!(strict(request, missing).contains("missing required AWS config parameters(s)"));
}
