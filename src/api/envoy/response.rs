//! Turning a policy result into Envoy's `CheckResponse`, as opa-envoy-plugin does.
//!
//! Owns: reading a boolean or an object result (`allowed`, `headers`, `response_headers_to_add`,
//! `request_headers_to_remove`, `query_parameters_to_set`, `query_parameters_to_remove`, `body`,
//! `http_status`, `dynamic_metadata`), the OK / PERMISSION_DENIED status, dry-run, and the
//! `decision_id` in `dynamic_metadata`.

use envoy_types::ext_authz::v3::pb::{
    CheckResponse, DeniedHttpResponse, HeaderValue, HeaderValueOption, HttpResponse, HttpStatus,
    HttpStatusCode, OkHttpResponse, QueryParameter,
};
use envoy_types::pb::google::protobuf::Struct;
use envoy_types::pb::google::rpc;
use regorus::Value;

use crate::api::protobuf::{retype, value_to_struct};

/// protobuf's Value holding a string (`decision_id` in `dynamic_metadata`).
fn string_value(s: &str) -> envoy_types::pb::google::protobuf::Value {
    use envoy_types::pb::google::protobuf::{Value as PbValue, value::Kind};
    PbValue {
        kind: Some(Kind::StringValue(s.to_string())),
    }
}

/// gRPC status codes carried inside `CheckResponse.status`.
const OK: i32 = 0;
const PERMISSION_DENIED: i32 = 7;

/// A result the plugin's contract does not allow (reported to Envoy as a gRPC error, so its
/// `failure_mode_allow` decides).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct IllegalResult(pub String);

/// What the policy decided.
pub struct Verdict {
    pub allowed: bool,
    pub response: CheckResponse,
}

/// Builds the response for `result`. `dry_run` turns a denial into an empty OK.
pub fn check_response(
    result: &Value,
    decision_id: &str,
    dry_run: bool,
) -> Result<Verdict, IllegalResult> {
    let (allowed, object) = match result {
        Value::Bool(allowed) => (*allowed, None),
        Value::Object(_) => match result_field(result, "allowed") {
            Some(Value::Bool(allowed)) => (*allowed, Some(result)),
            Some(other) => {
                return Err(IllegalResult(format!(
                    "the \"allowed\" key must be a boolean, not {other}"
                )));
            }
            None => {
                return Err(IllegalResult(
                    "unable to determine evaluation result due to missing \"allowed\" key".into(),
                ));
            }
        },
        other => {
            return Err(IllegalResult(format!(
                "illegal value for policy evaluation result: {other}; expected a boolean or an object with \"allowed\""
            )));
        }
    };

    let mut metadata = match object.and_then(|o| result_field(o, "dynamic_metadata")) {
        None => Struct::default(),
        Some(value) => value_to_struct(value)
            .and_then(|s| retype(&s).ok())
            .ok_or_else(|| IllegalResult("\"dynamic_metadata\" must be an object".into()))?,
    };
    metadata
        .fields
        .insert("decision_id".to_string(), string_value(decision_id));

    let http_response = match object {
        None => None,
        Some(o) if allowed => Some(HttpResponse::OkResponse(ok_response(o)?)),
        Some(o) => Some(HttpResponse::DeniedResponse(denied_response(o)?)),
    };
    let (code, http_response) = if allowed {
        (OK, http_response)
    } else if dry_run {
        (
            OK,
            Some(HttpResponse::OkResponse(OkHttpResponse::default())),
        )
    } else {
        (PERMISSION_DENIED, http_response)
    };
    Ok(Verdict {
        allowed,
        response: CheckResponse {
            status: Some(rpc::Status {
                code,
                ..Default::default()
            }),
            dynamic_metadata: Some(metadata),
            http_response,
        },
    })
}

/// The denial opa-envoy-plugin sends for a request it cannot turn into an input.
pub fn parse_error_response(message: &str) -> CheckResponse {
    let text = format!("request_parse_error: {message}");
    CheckResponse {
        status: Some(rpc::Status {
            code: PERMISSION_DENIED,
            message: text.clone(),
            ..Default::default()
        }),
        dynamic_metadata: None,
        http_response: Some(HttpResponse::DeniedResponse(DeniedHttpResponse {
            status: Some(HttpStatus {
                code: HttpStatusCode::BadRequest as i32,
            }),
            headers: Vec::new(),
            body: text,
        })),
    }
}

fn result_field<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    match object {
        Value::Object(fields) => fields.get(&Value::from(key)),
        _ => None,
    }
}

fn ok_response(o: &Value) -> Result<OkHttpResponse, IllegalResult> {
    Ok(OkHttpResponse {
        headers: headers(o, "headers")?,
        headers_to_remove: strings(o, "request_headers_to_remove")?,
        response_headers_to_add: headers(o, "response_headers_to_add")?,
        query_parameters_to_set: query_parameters(o)?,
        query_parameters_to_remove: strings(o, "query_parameters_to_remove")?,
        ..Default::default()
    })
}

fn denied_response(o: &Value) -> Result<DeniedHttpResponse, IllegalResult> {
    let status = match result_field(o, "http_status") {
        None => HttpStatusCode::Forbidden as i32,
        Some(value) => value
            .as_i64()
            .ok()
            .and_then(|c| i32::try_from(c).ok())
            .filter(|c| HttpStatusCode::try_from(*c).is_ok() && *c != 0)
            .ok_or_else(|| {
                IllegalResult(format!(
                    "\"http_status\" must be an HTTP status code, not {value}"
                ))
            })?,
    };
    let body = match result_field(o, "body") {
        None => String::new(),
        Some(Value::String(s)) => s.to_string(),
        Some(other) => {
            return Err(IllegalResult(format!(
                "\"body\" must be a string, not {other}"
            )));
        }
    };
    Ok(DeniedHttpResponse {
        status: Some(HttpStatus { code: status }),
        headers: headers(o, "headers")?,
        body,
    })
}

/// `{"name": "value" | ["v1", "v2"]}`, or an array of such objects.
fn headers(o: &Value, key: &str) -> Result<Vec<HeaderValueOption>, IllegalResult> {
    let mut out = Vec::new();
    let Some(value) = result_field(o, key) else {
        return Ok(out);
    };
    let objects: Vec<&Value> = match value {
        Value::Object(_) => vec![value],
        Value::Array(items) => items.iter().collect(),
        Value::Set(items) => items.iter().collect(),
        other => {
            return Err(IllegalResult(format!(
                "{key:?} must be an object or an array of objects, not {other}"
            )));
        }
    };
    for object in objects {
        let Value::Object(fields) = object else {
            return Err(IllegalResult(format!(
                "{key:?} items must be objects, not {object}"
            )));
        };
        for (name, values) in fields.iter() {
            let name = text(name, key)?;
            for value in string_or_list(values, key)? {
                out.push(HeaderValueOption {
                    header: Some(HeaderValue {
                        key: name.clone(),
                        value,
                        ..Default::default()
                    }),
                    ..Default::default()
                });
            }
        }
    }
    Ok(out)
}

fn query_parameters(o: &Value) -> Result<Vec<QueryParameter>, IllegalResult> {
    let key = "query_parameters_to_set";
    let mut out = Vec::new();
    match result_field(o, key) {
        None => {}
        Some(Value::Object(fields)) => {
            for (name, values) in fields.iter() {
                let name = text(name, key)?;
                for value in string_or_list(values, key)? {
                    out.push(QueryParameter {
                        key: name.clone(),
                        value,
                    });
                }
            }
        }
        Some(other) => {
            return Err(IllegalResult(format!(
                "{key:?} must be an object, not {other}"
            )));
        }
    }
    Ok(out)
}

fn strings(o: &Value, key: &str) -> Result<Vec<String>, IllegalResult> {
    match result_field(o, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| text(v, key)).collect(),
        Some(Value::Set(items)) => items.iter().map(|v| text(v, key)).collect(),
        Some(other) => Err(IllegalResult(format!(
            "{key:?} must be an array of strings, not {other}"
        ))),
    }
}

fn string_or_list(value: &Value, key: &str) -> Result<Vec<String>, IllegalResult> {
    match value {
        Value::String(s) => Ok(vec![s.to_string()]),
        Value::Array(items) => items.iter().map(|v| text(v, key)).collect(),
        other => Err(IllegalResult(format!(
            "{key:?} values must be strings or arrays of strings, not {other}"
        ))),
    }
}

fn text(value: &Value, key: &str) -> Result<String, IllegalResult> {
    match value {
        Value::String(s) => Ok(s.to_string()),
        other => Err(IllegalResult(format!(
            "{key:?} expects strings, not {other}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn boolean_results() {
        let allow = check_response(&Value::from(true), "id-1", false).unwrap();
        assert!(allow.allowed);
        assert_eq!(allow.response.status.unwrap().code, OK);
        assert!(allow.response.http_response.is_none());
        let meta = allow.response.dynamic_metadata.unwrap();
        assert_eq!(meta.fields["decision_id"], string_value("id-1"));

        let deny = check_response(&Value::from(false), "id-2", false).unwrap();
        assert_eq!(deny.response.status.unwrap().code, PERMISSION_DENIED);
    }

    #[test]
    fn object_denial_with_status_body_and_headers() {
        let result = v(
            r#"{"allowed": false, "http_status": 401, "body": "who are you?", "headers": {"www-authenticate": "Bearer"}, "dynamic_metadata": {"reason": "no token"}}"#,
        );
        let verdict = check_response(&result, "id", false).unwrap();
        let Some(HttpResponse::DeniedResponse(denied)) = verdict.response.http_response else {
            panic!("not a denial");
        };
        assert_eq!(denied.status.unwrap().code, 401);
        assert_eq!(denied.body, "who are you?");
        assert_eq!(
            denied.headers[0].header.as_ref().unwrap().key,
            "www-authenticate"
        );
        let meta = verdict.response.dynamic_metadata.unwrap();
        assert!(meta.fields.contains_key("reason") && meta.fields.contains_key("decision_id"));
    }

    #[test]
    fn object_allow_with_headers_and_removals() {
        let result = v(
            r#"{"allowed": true, "headers": [{"x-subject": "10001"}, {"x-roles": ["a", "b"]}], "request_headers_to_remove": ["authorization"], "response_headers_to_add": {"x-authz": "ok"}, "query_parameters_to_set": {"v": "2"}}"#,
        );
        let verdict = check_response(&result, "id", false).unwrap();
        let Some(HttpResponse::OkResponse(ok)) = verdict.response.http_response else {
            panic!("not an allow");
        };
        assert_eq!(ok.headers.len(), 3);
        assert_eq!(ok.headers_to_remove, vec!["authorization"]);
        assert_eq!(ok.response_headers_to_add.len(), 1);
        assert_eq!(ok.query_parameters_to_set[0].key, "v");
    }

    #[test]
    fn dry_run_allows_but_keeps_metadata() {
        let verdict =
            check_response(&v(r#"{"allowed": false, "http_status": 403}"#), "id", true).unwrap();
        assert!(!verdict.allowed);
        assert_eq!(verdict.response.status.unwrap().code, OK);
        assert!(matches!(
            verdict.response.http_response,
            Some(HttpResponse::OkResponse(_))
        ));
    }

    #[test]
    fn illegal_results_are_errors() {
        assert!(check_response(&Value::from(1), "id", false).is_err());
        assert!(check_response(&v(r#"{"headers": {}}"#), "id", false).is_err());
        assert!(
            check_response(&v(r#"{"allowed": false, "http_status": 999}"#), "id", false).is_err()
        );
        assert!(
            check_response(
                &v(r#"{"allowed": true, "request_headers_to_remove": "x"}"#),
                "id",
                false
            )
            .is_err()
        );
    }

    #[test]
    fn parse_errors_are_400_denials() {
        let response = parse_error_response("invalid JSON request body: eof");
        assert_eq!(response.status.unwrap().code, PERMISSION_DENIED);
        let Some(HttpResponse::DeniedResponse(denied)) = response.http_response else {
            panic!("not a denial");
        };
        assert_eq!(denied.status.unwrap().code, 400);
        assert!(denied.body.starts_with("request_parse_error: "));
    }
}
