//! Errors as the API server answers them: a `Status` object (`kind: Status`, `apiVersion:
//! v1`, `status: Failure`, `reason`, `code`, `message`, `details`) with the same HTTP code.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::kind::Kind;

/// A failed request, answered as a `Status`.
#[derive(Clone, Debug)]
pub struct Failure {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Value,
}

/// What a handler answers: an HTTP code and a JSON body, or a failure.
pub type Outcome = Result<(StatusCode, Value), Failure>;

impl Failure {
    fn new(code: u16, reason: &'static str, message: String, details: Value) -> Self {
        Self {
            code,
            reason,
            message,
            details,
        }
    }

    fn about(kind: Kind, name: &str) -> Value {
        json!({"name": name, "group": kind.group(), "kind": kind.plural()})
    }

    /// `404 NotFound` for a missing object.
    pub fn not_found(kind: Kind, name: &str) -> Self {
        let message = format!("{} \"{name}\" not found", kind.resource());
        Self::new(404, "NotFound", message, Self::about(kind, name))
    }

    /// `404 NotFound` for a path the server does not serve.
    pub fn no_such_resource() -> Self {
        let message = "the server could not find the requested resource".to_owned();
        Self::new(404, "NotFound", message, json!({}))
    }

    /// `405 MethodNotAllowed`.
    pub fn method_not_allowed() -> Self {
        let message = "the server does not allow this method on the requested resource";
        Self::new(405, "MethodNotAllowed", message.to_owned(), json!({}))
    }

    /// `409 AlreadyExists` for a create of an existing name.
    pub fn already_exists(kind: Kind, name: &str) -> Self {
        let message = format!("{} \"{name}\" already exists", kind.resource());
        Self::new(409, "AlreadyExists", message, Self::about(kind, name))
    }

    /// `409 Conflict` for a write with a stale `resourceVersion` or failed precondition.
    pub fn conflict(kind: Kind, name: &str, why: &str) -> Self {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {why}",
            kind.resource()
        );
        Self::new(409, "Conflict", message, Self::about(kind, name))
    }

    /// The `409 Conflict` of an update based on an old `resourceVersion`.
    pub fn stale(kind: Kind, name: &str) -> Self {
        Self::conflict(
            kind,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// `400 BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), json!({}))
    }

    /// `422 Invalid`, one cause per problem (`field: message`).
    pub fn invalid(kind: Kind, name: &str, problems: &[String]) -> Self {
        let message = format!(
            "{}.{} \"{name}\" is invalid: {}",
            kind.name(),
            kind.group(),
            problems.join(", ")
        );
        let causes: Vec<Value> = problems
            .iter()
            .map(|p| json!({"reason": "FieldValueInvalid", "message": p}))
            .collect();
        let mut details = Self::about(kind, name);
        details["kind"] = json!(kind.name());
        details["causes"] = json!(causes);
        Self::new(422, "Invalid", message, details)
    }

    /// `410 Expired`: a resource version or continue token older than the compaction.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message.into(), json!({}))
    }

    /// `415 UnsupportedMediaType` for a patch type the resource does not take.
    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        let message = format!(
            "the body of the request was in an unknown format ({content_type}) - accepted media types include: {}",
            accepted.join(", ")
        );
        Self::new(415, "UnsupportedMediaType", message, json!({}))
    }

    /// `500 InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into(), json!({}))
    }

    /// The HTTP status code.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The `Status` object.
    pub fn to_json(&self) -> Value {
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "details": self.details,
            "code": self.code,
        })
    }
}

/// The `Status` a DELETE answers for kinds that do not return the deleted object.
pub fn deleted(kind: Kind, name: &str, uid: &Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": kind.group(), "kind": kind.plural(), "uid": uid},
    })
}
