//! What a decision can fail with, and OPA's error codes.
//!
//! Owns: [`DecisionError`] (the pipeline's one error type), [`ErrorCode`] (OPA's codes as an
//! enum, so no transport spells one by hand) and [`Location`]. Turning an error into a wire
//! form (HTTP status and body, gRPC status, Envoy's answer) is each transport's one mapper in
//! `api/`; turning regorus's errors into this type is [`super::regorus_error`].

use super::admission::Overloaded;
use crate::policy::PathError;

/// OPA's error codes: the API's and the evaluator's (topdown's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is malformed: bad JSON, a bad parameter, a path that names nothing.
    InvalidParameter,
    /// Evaluation failed (the HTTP body's top-level code for every evaluation error).
    InternalError,
    /// v0 API: the document is undefined.
    UndefinedDocument,
    /// Complete rules or functions produced more than one value.
    EvalConflict,
    /// A builtin failed under `strict-builtin-errors`.
    EvalBuiltin,
    /// A limit was exceeded (instructions, time, memory, depth, result size).
    EvalCancel,
    /// A value had the wrong type for where it was used (e.g. an Envoy result).
    EvalType,
    /// Anything else the evaluator reported.
    EvalInternal,
    /// Admission refused the request: every evaluation slot stayed busy.
    ResourceExhausted,
}

impl ErrorCode {
    /// OPA's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidParameter => "invalid_parameter",
            Self::InternalError => "internal_error",
            Self::UndefinedDocument => "undefined_document",
            Self::EvalConflict => "eval_conflict_error",
            Self::EvalBuiltin => "eval_builtin_error",
            Self::EvalCancel => "eval_cancel_error",
            Self::EvalType => "eval_type_error",
            Self::EvalInternal => "eval_internal_error",
            Self::ResourceExhausted => "resource_exhausted",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Where in a policy an evaluation error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub row: u32,
    pub col: u32,
}

/// An evaluation error, in OPA's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{code}: {message}", location.as_ref().map(|l| format!("{}:{}: ", l.file, l.row)).unwrap_or_default())]
pub struct EvalError {
    /// One of the `Eval*` codes.
    pub code: ErrorCode,
    pub message: String,
    pub location: Option<Location>,
}

impl EvalError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            location: None,
        }
    }
}

/// Why a decision could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    /// The request path cannot name a document.
    #[error(transparent)]
    InvalidPath(#[from] PathError),
    /// The policy failed while evaluating.
    #[error(transparent)]
    Eval(#[from] EvalError),
    /// Admission refused the request: retry shortly.
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

impl DecisionError {
    /// The most specific OPA code: the evaluator's code for an evaluation error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidPath(_) => ErrorCode::InvalidParameter,
            Self::Eval(e) => e.code,
            Self::Overloaded(_) => ErrorCode::ResourceExhausted,
        }
    }

    /// The message without the code and location.
    pub fn message(&self) -> String {
        match self {
            Self::InvalidPath(e) => e.to_string(),
            Self::Eval(e) => e.message.clone(),
            Self::Overloaded(e) => e.to_string(),
        }
    }
}
