//! gRPC errors and the one place they become gRPC statuses (for `Decide`) or `Error` messages
//! (for a `DecideBatch` item).
//!
//! Owns: the status code of every failure (`INVALID_ARGUMENT` for what the client must fix,
//! `INTERNAL` for an evaluation error, `RESOURCE_EXHAUSTED` when admission refused the request),
//! with OPA's code first in the message.

use tonic::{Code, Status};

use super::pb;
use crate::decide::{DecisionError, ErrorCode};

/// Everything a gRPC decision can fail with.
#[derive(Debug, thiserror::Error)]
pub enum GrpcError {
    /// The request cannot be read (malformed input JSON, a non-finite number).
    #[error("{0}")]
    Decode(String),
    /// The pipeline failed the decision.
    #[error(transparent)]
    Decision(#[from] DecisionError),
    /// The result could not be encoded.
    #[error("cannot encode the result: {0}")]
    Encode(String),
}

impl GrpcError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Decode(_) => ErrorCode::InvalidParameter,
            Self::Decision(e) => e.code(),
            Self::Encode(_) => ErrorCode::InternalError,
        }
    }

    fn status_code(&self) -> Code {
        match self {
            Self::Decode(_) | Self::Decision(DecisionError::InvalidPath(_)) => {
                Code::InvalidArgument
            }
            Self::Decision(DecisionError::Eval(_)) | Self::Encode(_) => Code::Internal,
            Self::Decision(DecisionError::Overloaded(_)) => Code::ResourceExhausted,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Decision(e) => e.message(),
            other => other.to_string(),
        }
    }

    fn location(&self) -> Option<pb::Location> {
        match self {
            Self::Decision(DecisionError::Eval(e)) => e.location.as_ref().map(|l| pb::Location {
                file: l.file.clone(),
                row: l.row,
                col: l.col,
            }),
            _ => None,
        }
    }

    /// The status `Decide` answers with: `eval_conflict_error: ... (policy.rego:6:1)`.
    pub fn into_status(self) -> Status {
        let location = self
            .location()
            .map(|l| format!(" ({}:{}:{})", l.file, l.row, l.col))
            .unwrap_or_default();
        Status::new(
            self.status_code(),
            format!("{}: {}{location}", self.code(), self.message()),
        )
    }

    /// The `Error` a failed batch item carries.
    pub fn into_message(self) -> pb::Error {
        pb::Error {
            code: self.code().to_string(),
            message: self.message(),
            location: self.location(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decide::{EvalError, Location};
    use crate::policy::PathError;

    #[test]
    fn statuses_carry_opa_codes() {
        let eval = GrpcError::from(DecisionError::Eval(EvalError {
            code: ErrorCode::EvalConflict,
            message: "complete rules must not produce multiple outputs".into(),
            location: Some(Location {
                file: "p.rego".into(),
                row: 6,
                col: 1,
            }),
        }));
        let status = eval.into_status();
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(
            status.message(),
            "eval_conflict_error: complete rules must not produce multiple outputs (p.rego:6:1)"
        );
        let path = GrpcError::from(DecisionError::InvalidPath(PathError::TooLong));
        let message = path.into_message();
        assert_eq!(message.code, "invalid_parameter");
        let decode = GrpcError::Decode("input_json is not valid JSON".into()).into_status();
        assert_eq!(decode.code(), Code::InvalidArgument);
        assert_eq!(
            decode.message(),
            "invalid_parameter: input_json is not valid JSON"
        );
    }
}
