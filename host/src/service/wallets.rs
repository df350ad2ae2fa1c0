//! The wallet routes: open, submit, and the reading endpoints (figures, journal, replay),
//! with the merchant's scope.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::auth::{Caller, Role};
use super::error::ApiError;
use super::{authorize, blocking, parse_body, Service};
use crate::envelope::Envelope;
use crate::ledger::{Ledger, Submitted, Wallet};
use crate::store::Entry;

/// A merchant may act only on wallets that name it as the merchant.
fn check_merchant(caller: &Caller, wallet_merchant: Option<&str>) -> Result<(), ApiError> {
    match (&caller.merchant, caller.role) {
        (Some(own), Role::Merchant) if wallet_merchant != Some(own.as_str()) => {
            Err(ApiError::forbidden("this merchant key may act only on its own wallets"))
        }
        _ => Ok(()),
    }
}

/// A merchant key's caller may see `wallet` only if it is theirs; others pass. Errors
/// with `unknown_wallet` when it does not exist.
async fn check_wallet_access(service: &Service, caller: &Caller, wallet: &str) -> Result<(), ApiError> {
    if caller.role != Role::Merchant {
        return Ok(());
    }
    let ledger = service.ledger.clone();
    let owned = wallet.to_owned();
    let merchant = blocking(move || {
        Ok(ledger
            .wallet(&owned)?
            .map(|wallet| wallet.view.map(|view| view.merchant)))
    })
    .await?;
    match merchant {
        None => Err(ApiError::unknown_wallet(wallet)),
        Some(merchant) => check_merchant(caller, merchant.as_deref()),
    }
}

/// A submission's result.
#[derive(Serialize)]
struct SubmitResponse {
    wallet: String,
    seq: u64,
    event_id: String,
    ok: bool,
    error: Option<crate::outcome::ErrorRecord>,
    effects: Vec<crate::outcome::EffectRecord>,
    replayed: bool,
    entry_hash: String,
}

impl From<Submitted> for SubmitResponse {
    fn from(submitted: Submitted) -> SubmitResponse {
        SubmitResponse {
            wallet: submitted.entry.wallet,
            seq: submitted.entry.seq,
            event_id: submitted.entry.event_id,
            ok: submitted.verdict.ok,
            error: submitted.verdict.error,
            effects: submitted.verdict.effects,
            replayed: submitted.replayed,
            entry_hash: submitted.entry.entry_hash,
        }
    }
}

async fn submit(service: &Service, raw: Envelope) -> Result<Response, ApiError> {
    let ledger = service.ledger.clone();
    let submitted = blocking(move || ledger.submit(&raw)).await?;
    let result = match (submitted.replayed, submitted.verdict.ok) {
        (true, _) => "replayed",
        (false, true) => "accepted",
        (false, false) => "rejected",
    };
    service.metrics.events.with_label_values(&[result]).inc();
    let status = if submitted.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(SubmitResponse::from(submitted))).into_response())
}

pub(super) async fn open_wallet(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator, Role::Merchant])?;
    let raw: Envelope = parse_body(body)?;
    if raw.event.get("type").and_then(Value::as_str) != Some("open") {
        return Err(ApiError::bad_request(
            "POST /v1/wallets takes an `open` event; submit other events to /v1/wallets/{wallet}/events",
        ));
    }
    check_merchant(&caller, raw.event.get("merchant").and_then(Value::as_str))?;
    submit(&service, raw).await
}

pub(super) async fn submit_event(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator, Role::Merchant, Role::Regulator])?;
    let raw: Envelope = parse_body(body)?;
    if raw.wallet != wallet {
        return Err(ApiError::bad_request(format!(
            "the event is for wallet {}, not {wallet}",
            raw.wallet
        )));
    }
    check_wallet_access(&service, &caller, &wallet).await?;
    submit(&service, raw).await
}

const READERS: &[Role] = &[Role::Operator, Role::Merchant, Role::Regulator, Role::Auditor];

/// The reading endpoints' common part: any role may read, a merchant only its own wallets;
/// `read` gives `None` for a wallet that does not exist.
async fn read_wallet<T: Send + 'static>(
    service: &Service,
    headers: &HeaderMap,
    wallet: &str,
    read: impl FnOnce(&Ledger, &str) -> crate::Result<Option<T>> + Send + 'static,
) -> Result<T, ApiError> {
    let caller = authorize(service, headers, READERS)?;
    check_wallet_access(service, &caller, wallet).await?;
    let ledger = service.ledger.clone();
    let owned = wallet.to_owned();
    blocking(move || read(&ledger, &owned))
        .await?
        .ok_or_else(|| ApiError::unknown_wallet(wallet))
}

pub(super) async fn wallet(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Wallet { head, view } =
        read_wallet(&service, &headers, &wallet, |ledger, wallet| ledger.wallet(wallet)).await?;
    Ok(Json(json!({
        "wallet": head.wallet,
        "code_hash": head.code_hash,
        "seq": head.seq,
        "state_hash": head.state_hash,
        "head_hash": head.head_hash,
        "view": view,
    })))
}

pub(super) async fn journal(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entries = read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        let entries = ledger.entries(wallet)?;
        Ok((!entries.is_empty()).then_some(entries))
    })
    .await?;
    let entries: Vec<Value> = entries.iter().map(Entry::document).collect();
    Ok(Json(json!({"wallet": wallet, "entries": entries})))
}

pub(super) async fn verify(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let report = read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        ledger.verify_wallet(wallet)
    })
    .await?;
    Ok(Json(json!({
        "wallet": wallet,
        "clean": report.is_clean(),
        "entries": report.entries,
        "divergences": report.divergences,
    })))
}
