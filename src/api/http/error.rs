//! HTTP errors and the one place they become HTTP responses.
//!
//! Owns: OPA's error body (`{"code", "message", "errors": [...]}`, always pretty-printed, as
//! OPA writes it), the status code of every failure, and the one-line form a failed batch item
//! carries. Handlers return [`ApiError`]; nothing else in the crate knows HTTP status codes.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::decide::{DecisionError, ErrorCode, EvalError};

/// Everything a data request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed JSON, a bad parameter, an unusable path: the client must change the request.
    #[error("{0}")]
    InvalidParameter(String),
    /// The body (or its gzip-decoded form) exceeds `--max-request-bytes`.
    #[error("{message}")]
    BodyTooLarge { message: String },
    /// v0 API: the document is undefined.
    #[error("{0}")]
    UndefinedDocument(String),
    /// The body did not arrive within `--body-timeout-ms`.
    #[error("{0}")]
    RequestTimeout(String),
    /// The decision failed: a path that names nothing, or an evaluation error.
    #[error(transparent)]
    Decision(#[from] DecisionError),
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<ErrorItem<'a>>,
}

#[derive(Serialize)]
struct ErrorItem<'a> {
    code: ErrorCode,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<ErrorLocation<'a>>,
}

#[derive(Serialize)]
struct ErrorLocation<'a> {
    file: &'a str,
    row: u32,
    col: u32,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidParameter(_) | Self::Decision(DecisionError::InvalidPath(_)) => {
                StatusCode::BAD_REQUEST
            }
            Self::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::UndefinedDocument(_) => StatusCode::NOT_FOUND,
            Self::Decision(DecisionError::Eval(_)) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Decision(DecisionError::Overloaded(_)) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The OPA error code of this error (the body's top-level `code`).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidParameter(_)
            | Self::BodyTooLarge { .. }
            | Self::RequestTimeout(_)
            | Self::Decision(DecisionError::InvalidPath(_)) => ErrorCode::InvalidParameter,
            Self::UndefinedDocument(_) => ErrorCode::UndefinedDocument,
            Self::Decision(DecisionError::Eval(_)) => ErrorCode::InternalError,
            Self::Decision(DecisionError::Overloaded(_)) => ErrorCode::ResourceExhausted,
        }
    }

    /// OPA's one-line form, as a failed batch item carries it: `file:row: code: message`.
    pub fn flat_message(&self) -> String {
        self.to_string()
    }

    /// The error as OPA's JSON body (pretty-printed, trailing newline).
    pub fn body(&self) -> Vec<u8> {
        let (message, errors) = match self {
            Self::Decision(DecisionError::Eval(EvalError {
                code,
                message,
                location,
            })) => (
                "error(s) occurred while evaluating query".to_string(),
                vec![ErrorItem {
                    code: *code,
                    message,
                    location: location.as_ref().map(|l| ErrorLocation {
                        file: &l.file,
                        row: l.row,
                        col: l.col,
                    }),
                }],
            ),
            other => (other.to_string(), Vec::new()),
        };
        let body = ErrorBody {
            code: self.code(),
            message: &message,
            errors,
        };
        let mut out = serde_json::to_vec_pretty(&body).unwrap_or_else(|_| b"{}".to_vec());
        out.push(b'\n');
        out
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body()));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Self::Decision(DecisionError::Overloaded(_)) = self {
            // A slot frees up within milliseconds; a second is the smallest the header says.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::Location;

    #[test]
    fn eval_errors_carry_opa_shape() {
        let err = ApiError::from(DecisionError::Eval(EvalError {
            code: ErrorCode::EvalConflict,
            message: "complete rules must not produce multiple outputs".into(),
            location: Some(Location {
                file: "test".into(),
                row: 5,
                col: 1,
            }),
        }));
        assert_eq!(
            err.flat_message(),
            "test:5: eval_conflict_error: complete rules must not produce multiple outputs"
        );
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body: serde_json::Value = serde_json::from_slice(&err.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": "internal_error",
                "message": "error(s) occurred while evaluating query",
                "errors": [{
                    "code": "eval_conflict_error",
                    "message": "complete rules must not produce multiple outputs",
                    "location": {"file": "test", "row": 5, "col": 1}
                }]
            })
        );
    }

    #[test]
    fn undefined_document_is_404_without_errors_array() {
        let err = ApiError::UndefinedDocument("document missing: data.x".into());
        assert_eq!(err.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            String::from_utf8(err.body()).unwrap(),
            "{\n  \"code\": \"undefined_document\",\n  \"message\": \"document missing: data.x\"\n}\n"
        );
    }
}
