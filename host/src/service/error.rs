//! Errors as the API returns them: `{"error": {"code", "message"}}` with a stable code and
//! the HTTP status that goes with it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::{Error, RefusalCode};

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

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        match error {
            Error::Refused(refusal) => {
                let status = match refusal.code {
                    RefusalCode::UnknownWallet => StatusCode::NOT_FOUND,
                    RefusalCode::EventIdReused => StatusCode::CONFLICT,
                    RefusalCode::BadEnvelope | RefusalCode::ClientTime => StatusCode::BAD_REQUEST,
                    RefusalCode::UntrustedRegulator
                    | RefusalCode::UntrustedComponent
                    | RefusalCode::PlatformOnly
                    | RefusalCode::UnfundedOpen
                    | RefusalCode::ComponentRevoked => StatusCode::FORBIDDEN,
                    RefusalCode::UnknownMerchant | RefusalCode::UnknownListing | RefusalCode::UnknownWebhook => {
                        StatusCode::NOT_FOUND
                    }
                    RefusalCode::AlreadyRegistered | RefusalCode::WrongStatus | RefusalCode::AwaitsConsent => {
                        StatusCode::CONFLICT
                    }
                    RefusalCode::BadRegistryEntry => StatusCode::BAD_REQUEST,
                    RefusalCode::Unattributed(_)
                    | RefusalCode::Unlisted
                    | RefusalCode::ListingNotForSale
                    | RefusalCode::ListingMismatch
                    | RefusalCode::MerchantNotSelling
                    | RefusalCode::ShortNotice
                    | RefusalCode::MigrationRefused => StatusCode::UNPROCESSABLE_ENTITY,
                };
                ApiError::new(status, refusal.code.as_str(), refusal.message)
            }
            Error::UnknownEffect(_) => ApiError::new(StatusCode::NOT_FOUND, "unknown_effect", error.to_string()),
            Error::StaleClaim(_) => ApiError::new(StatusCode::CONFLICT, "stale_claim", error.to_string()),
            Error::BadReference(_) => ApiError::new(StatusCode::BAD_REQUEST, "bad_reference", error.to_string()),
            Error::ReferenceDiffers { .. } => {
                ApiError::new(StatusCode::CONFLICT, "reference_differs", error.to_string())
            }
            Error::Conflict { .. } => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                format!("{error}; the wallet is busy, try again"),
            ),
            Error::Busy(_) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", format!("{error}; try again")),
            Error::Fault(fault) => {
                // The detail (paths, SQL, connection strings) is for the operator's log,
                // not for whoever holds an API key.
                tracing::error!(error = format!("{fault:#}"), "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the service failed to answer; the operator's log has the detail",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whoever holds an API key learns that the service failed, not how: a fault's text can
    /// carry a connection string with its password, or the journal's path.
    #[test]
    fn a_fault_reaches_the_caller_without_its_detail() {
        let fault = anyhow::anyhow!("timed out")
            .context("connecting to PostgreSQL at postgres://app:s3cret@db.internal:5432/prepaid")
            .context("reading wallet w1 from /var/lib/prepaid/journal.db");
        let error = ApiError::from(Error::Fault(fault));
        assert_eq!(
            (error.status, error.code),
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        );
        for secret in ["s3cret", "db.internal", "/var/lib/prepaid", "postgres://"] {
            assert!(!error.message.contains(secret), "{secret} leaked: {}", error.message);
        }
    }
}
