//! Successful data API responses: OPA's `DataResponseV1` shape, provenance and metrics.
//!
//! Owns: serialising a response body once, into one buffer, with the right content type.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use regorus::Value;
use serde::Serialize;

use crate::build_info as build;
use crate::policy::Snapshot;
use crate::value_json::exact;

/// `?provenance`: which build and which bundle revisions produced a decision.
#[derive(Serialize)]
pub struct Provenance<'a> {
    pub version: &'static str,
    pub build_commit: &'static str,
    pub build_timestamp: &'static str,
    pub build_hostname: &'static str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub bundles: BTreeMap<&'a str, BundleProvenance<'a>>,
}

#[derive(Serialize)]
pub struct BundleProvenance<'a> {
    pub revision: &'a str,
}

impl<'a> Provenance<'a> {
    pub fn of(snapshot: &'a Snapshot) -> Self {
        Self {
            version: build::VERSION,
            build_commit: build::COMMIT,
            build_timestamp: build::TIMESTAMP,
            build_hostname: build::HOSTNAME,
            bundles: snapshot
                .bundles
                .iter()
                .map(|b| {
                    (
                        b.name.as_str(),
                        BundleProvenance {
                            revision: &b.revision,
                        },
                    )
                })
                .collect(),
        }
    }
}

/// OPA's `api_usage_warning`.
#[derive(Serialize)]
pub struct Warning {
    pub code: &'static str,
    pub message: &'static str,
}

impl Warning {
    pub const INPUT_MISSING: Warning = Warning {
        code: "api_usage_warning",
        message: "'input' key missing from the request",
    };
}

/// `?metrics`: OPA's timer names, in nanoseconds.
#[derive(Serialize, Default)]
pub struct Timers {
    pub timer_rego_input_parse_ns: u64,
    pub timer_rego_query_eval_ns: u64,
    pub timer_server_handler_ns: u64,
}

/// The body of a `/v1/data` response. `result` is omitted when the document is undefined.
#[derive(Serialize)]
pub struct DataResponse<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Timers>,
    #[serde(skip_serializing_if = "is_undefined", serialize_with = "exact")]
    pub result: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<&'a Warning>,
    pub decision_id: &'a str,
}

fn is_undefined(value: &&Value) -> bool {
    **value == Value::Undefined
}

/// A 200 JSON response written in one piece (compact, or indented by two spaces).
pub fn json_ok<T: Serialize>(body: &T, pretty: bool) -> Response {
    json_response(StatusCode::OK, body, pretty)
}

/// A JSON response with `status`, ending in a newline as OPA's encoder writes it.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T, pretty: bool) -> Response {
    let mut bytes = Vec::with_capacity(128);
    let written = if pretty {
        serde_json::to_writer_pretty(&mut bytes, body)
    } else {
        serde_json::to_writer(&mut bytes, body)
    };
    if written.is_err() {
        bytes.clear();
        bytes.extend_from_slice(
            br#"{"code":"internal_error","message":"cannot encode the response"}"#,
        );
    }
    bytes.push(b'\n');
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
