//! The one HTTP error type. Argo CD quotes the `message` field of an error body in the
//! ApplicationSet's `ErrorOccurred` condition, so every error has one: precise for 4xx, generic
//! for 5xx with the detail logged once here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::snapshot::AnswerError;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Unauthorized,
    /// A bearer token that is not the plugin token.
    #[error("invalid bearer token")]
    Forbidden,
    /// A request body that is not a plugin request.
    #[error("{0}")]
    BadRequest(String),
    /// A request body over the limit.
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The snapshot cannot answer: the service is unknown (400) or not synced yet (503).
    #[error(transparent)]
    Answer(#[from] AnswerError),
    /// A bug; the detail is logged, not sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadRequest(_) | Self::Answer(AnswerError::UnknownService { .. }) => {
                StatusCode::BAD_REQUEST
            }
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Answer(AnswerError::NotSynced { .. }) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(detail) = &self {
            tracing::error!(detail = %detail, "internal error");
        }
        (status, Json(json!({ "message": self.to_string() }))).into_response()
    }
}
