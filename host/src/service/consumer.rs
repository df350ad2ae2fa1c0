//! A consumer's sign-in with the wallet key: `POST /v1/consumer/challenge` and
//! `POST /v1/consumer/token` (see [`super::auth::ConsumerAccess`]), open to all, since what
//! they hand out is worth nothing without the wallet key's signature; and
//! `GET /v1/consumer/wallets`, the signed-in consumer's own wallets; and `GET /v1/notices`,
//! what needs a consumer's or a merchant's attention (see [`crate::notices`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{AccessError, Role};
use super::error::ApiError;
use super::{authorize, blocking, parse_body, Service};
use crate::notices::{Audience, MAX_WITHIN_DAYS};
use crate::outcome::WalletDetails;

/// What `POST /v1/consumer/challenge` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeRequest {
    /// The wallet key (hex) the consumer will sign with.
    consumer: String,
}

/// What `POST /v1/consumer/token` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenRequest {
    /// The challenge, as it was handed out.
    challenge: String,
    /// The wallet key's signature (hex) of `prepaid-login/v1`, a line feed and the challenge.
    signature: String,
}

fn refused(error: AccessError) -> ApiError {
    let status = match error {
        AccessError::BadKey => StatusCode::BAD_REQUEST,
        AccessError::ForeignChallenge | AccessError::ExpiredChallenge | AccessError::BadSignature => {
            StatusCode::UNAUTHORIZED
        }
    };
    ApiError::new(status, "sign_in_refused", error.to_string())
}

/// `at` (seconds since the Unix epoch) as RFC 3339, as every time in the API.
pub(super) fn rfc3339(at: i64) -> Result<String, ApiError> {
    crate::envelope::rfc3339(at).map_err(|error| ApiError::from(crate::Error::from(error)))
}

pub(super) async fn challenge(
    State(service): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: ChallengeRequest = parse_body(body)?;
    let now = service.now()?;
    let challenge = service.access.challenge(&request.consumer, now).map_err(refused)?;
    Ok(Json(json!({
        "challenge": challenge,
        "sign": "prepaid-login/v1\n<challenge>",
        "expires_at": rfc3339(now + super::auth::CHALLENGE_SECONDS)?,
    })))
}

pub(super) async fn token(
    State(service): State<Service>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let request: TokenRequest = parse_body(body)?;
    let (token, expires) = service
        .access
        .token(&request.challenge, &request.signature, service.now()?)
        .map_err(refused)?;
    Ok(Json(json!({"token": token, "expires_at": rfc3339(expires)?})))
}

/// The consumer's wallets, each with its figures and details: what the app's first screen
/// shows. A wallet leaves the list when a transfer or a re-key gives it to another key.
pub(super) async fn wallets(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Consumer])?;
    let consumer = caller.consumer.unwrap_or_default();
    let ledger = service.ledger.clone();
    let wallets = blocking(move || {
        // Whom the consumer pays, by name, as the register has it.
        let registry = ledger.platform().registry()?;
        let mut wallets = Vec::new();
        for id in ledger.wallets_of(&consumer)? {
            let Some(wallet) = ledger.wallet(&id)? else { continue };
            // The index and the head are read apart: a wallet given away in between is
            // left out, never shown to its former consumer.
            if wallet.view.as_ref().is_none_or(|view| view.consumer != consumer) {
                continue;
            }
            let details = wallet
                .head
                .state
                .as_deref()
                .and_then(|state| WalletDetails::of(state).ok());
            // A migration waiting for their consent, with old and new terms side by side.
            let migration = ledger.waiting_migration(&id)?;
            // What the merchant owes them, and what its releases have paid of it.
            let claims = ledger.claims_of(&id)?;
            // The disputes open in it, theirs or the merchant's, and when each is ruled.
            let disputes = wallet
                .head
                .state
                .as_deref()
                .map(|state| crate::disputes::of_state(&id, state));
            let merchant_name = wallet
                .view
                .as_ref()
                .and_then(|view| registry.merchant(&view.merchant))
                .map(|merchant| merchant.name.clone());
            wallets.push(
                json!({"wallet": id, "view": wallet.view, "details": details, "migration": migration,
                                "claims": claims, "disputes": disputes, "merchant_name": merchant_name}),
            );
        }
        Ok(wallets)
    })
    .await?;
    Ok(Json(json!({"wallets": wallets})))
}

/// What `GET /v1/notices` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NoticesQuery {
    /// How many days ahead to look (7 by default, at most [`MAX_WITHIN_DAYS`]).
    within_days: Option<u32>,
}

/// The notices for the caller: a consumer's over their wallets, a merchant's over its own.
pub(super) async fn notices(
    State(service): State<Service>,
    headers: HeaderMap,
    Query(query): Query<NoticesQuery>,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Consumer, Role::Merchant])?;
    let within_days = query.within_days.unwrap_or(7);
    if within_days > MAX_WITHIN_DAYS {
        return Err(ApiError::bad_request(format!(
            "within_days is at most {MAX_WITHIN_DAYS}"
        )));
    }
    let audience = match (caller.consumer, caller.merchant) {
        (Some(consumer), _) => Audience::Consumer(consumer),
        (None, Some(merchant)) => Audience::Merchant(merchant),
        (None, None) => return Err(ApiError::forbidden("notices are for consumers and merchants")),
    };
    let now = service.now()?;
    let ledger = service.ledger.clone();
    let notices = blocking(move || ledger.platform().notices_at(&audience, now, within_days)).await?;
    Ok(Json(json!({"notices": notices})))
}
