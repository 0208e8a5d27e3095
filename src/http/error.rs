//! The one HTTP error type. Argo CD quotes the `message` field of an error body in the
//! ApplicationSet's `ErrorOccurred` condition, so every error has one: precise for 4xx, generic
//! for 5xx with the detail logged once here.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::github::webhook::SignatureError;
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
    /// A webhook delivery whose `X-Hub-Signature-256` is missing, malformed or wrong.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// A request body that is not a plugin request, or a webhook delivery preview-tower cannot
    /// read.
    #[error("{0}")]
    BadRequest(String),
    /// No such route.
    #[error("{0}")]
    NotFound(String),
    /// A POST-only path with another method; says what is POSTed there. Answered with
    /// `Allow: POST`.
    #[error("method not allowed; {0}")]
    MethodNotAllowed(&'static str),
    /// A request body over the limit.
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The snapshot cannot answer: the service is unknown (400), not synced yet or holding
    /// previews it cannot read (503).
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
            Self::Unauthorized | Self::Signature(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::BadRequest(_)
            | Self::Answer(
                AnswerError::UnknownService { .. } | AnswerError::MatrixMismatch { .. },
            ) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Answer(AnswerError::NotSynced { .. } | AnswerError::Held { .. }) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ApiError {
    /// A short, bounded label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::Signature(_) => "bad_signature",
            Self::BadRequest(_) => "bad_request",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed(_) => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Answer(AnswerError::UnknownService { .. }) => "unknown_service",
            Self::Answer(AnswerError::MatrixMismatch { .. }) => "matrix_mismatch",
            Self::Answer(AnswerError::NotSynced { .. }) => "not_synced",
            Self::Answer(AnswerError::Held { .. }) => "held",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(detail) = &self {
            tracing::error!(detail = %detail, "internal error");
        }
        let mut response = (status, Json(json!({ "message": self.to_string() }))).into_response();
        if matches!(self, Self::MethodNotAllowed(_)) {
            response.headers_mut().insert(
                axum::http::header::ALLOW,
                axum::http::HeaderValue::from_static("POST"),
            );
        }
        response
    }
}
