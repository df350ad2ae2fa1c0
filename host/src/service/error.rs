//! Errors as the API returns them: `{"error": {"code", "message"}}` with a stable code and
//! the HTTP status that goes with it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::ledger::Refusal;
use crate::store::{Conflict, UnknownEffect};

/// An error response.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable snake_case code (listed in the OpenAPI description).
    pub code: &'static str,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `code`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A malformed request.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// A wallet that is not there.
    pub fn unknown_wallet(wallet: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_wallet",
            format!("wallet {wallet} does not exist"),
        )
    }

    /// A key whose role may not do this.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> ApiError {
        if let Some(refusal) = error.downcast_ref::<Refusal>() {
            let status = match refusal.code {
                "unknown_wallet" => StatusCode::NOT_FOUND,
                "event_id_reused" => StatusCode::CONFLICT,
                _ => StatusCode::BAD_REQUEST,
            };
            return ApiError::new(status, refusal.code, refusal.message.clone());
        }
        if let Some(unknown) = error.downcast_ref::<UnknownEffect>() {
            return ApiError::new(StatusCode::NOT_FOUND, "unknown_effect", unknown.to_string());
        }
        if error.downcast_ref::<Conflict>().is_some() {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!("{error}; the wallet is busy, try again"),
            );
        }
        tracing::error!(error = format!("{error:#}"), "request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("{error:#}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}
