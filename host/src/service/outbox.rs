//! The outbox routes: what the payment rail has to carry out, claimed with a lease and
//! acknowledged once carried out.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Role;
use super::error::ApiError;
use super::{authorize, blocking, parse_body, Service, MAX_OUTBOX_PAGE};
use crate::claims::payouts;
use crate::store::Ack;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OutboxQuery {
    limit: Option<usize>,
}

fn page(limit: Option<usize>) -> Result<usize, ApiError> {
    match limit.unwrap_or(100) {
        0 => Err(ApiError::bad_request("`limit` must be at least 1")),
        limit if limit > MAX_OUTBOX_PAGE => Err(ApiError::bad_request(format!(
            "`limit` may be at most {MAX_OUTBOX_PAGE}"
        ))),
        limit => Ok(limit),
    }
}

pub(super) async fn outbox(
    State(service): State<Service>,
    headers: HeaderMap,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let limit = page(query.limit)?;
    let ledger = service.ledger.clone();
    let (effects, withheld) = blocking(move || {
        let effects = ledger.pending_effects(limit)?;
        let withheld = ledger.withheld(&effects)?;
        Ok((effects, withheld))
    })
    .await?;
    Ok(Json(json!({"effects": payouts(&effects, &withheld)})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    limit: Option<usize>,
    lease_seconds: Option<u64>,
}

/// The longest lease a claim may ask: an adapter that dies holds its effects this long.
const MAX_LEASE_SECONDS: u64 = 3600;

pub(super) async fn claim(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator])?;
    let request: ClaimRequest = parse_body(body)?;
    let limit = page(request.limit)?;
    let lease = request.lease_seconds.unwrap_or(60);
    if lease == 0 || lease > MAX_LEASE_SECONDS {
        return Err(ApiError::bad_request(format!(
            "`lease_seconds` must be 1 to {MAX_LEASE_SECONDS}"
        )));
    }
    let ledger = service.ledger.clone();
    let claim = blocking(move || ledger.claim_effects(limit, Duration::from_secs(lease))).await?;
    // The token is the claim's credential: it stays out of the log.
    tracing::info!(claimant = %caller.name, effects = claim.effects.len(), "claimed");
    Ok(Json(
        json!({"claim": claim.token, "effects": payouts(&claim.effects, &claim.withheld), "lease_seconds": lease}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckRequest {
    effect_ids: Vec<String>,
    /// The token of the claim that holds them.
    claim: String,
    /// The rail's reference for each payment, by effect id: one for every id of
    /// `effect_ids`, and none other.
    #[serde(default)]
    references: BTreeMap<String, String>,
}

pub(super) async fn ack(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator])?;
    let request: AckRequest = parse_body(body)?;
    if request.effect_ids.is_empty() || request.effect_ids.len() > MAX_OUTBOX_PAGE {
        return Err(ApiError::bad_request(format!(
            "`effect_ids` must list 1 to {MAX_OUTBOX_PAGE} ids"
        )));
    }
    if let Some(stray) = request.references.keys().find(|id| !request.effect_ids.contains(id)) {
        return Err(ApiError::bad_request(format!(
            "`references` names effect {stray}, which `effect_ids` does not list"
        )));
    }
    // The adapter's acknowledgement is what reconcile holds to the rail's statement: an
    // effect acknowledged without its reference could never be given one after.
    let mut acks = Vec::with_capacity(request.effect_ids.len());
    for effect_id in request.effect_ids {
        let Some(reference) = request.references.get(&effect_id) else {
            return Err(ApiError::bad_request(format!(
                "`references` gives no reference for effect {effect_id}: acknowledge each payment with the rail's \
                 reference for it"
            )));
        };
        acks.push(Ack::paid(effect_id, reference.clone()));
    }
    let ledger = service.ledger.clone();
    let counts = blocking(move || ledger.ack_effects(&acks, Some(&request.claim))).await?;
    Ok(Json(
        json!({"acknowledged": counts.newly, "already_acknowledged": counts.already}),
    ))
}
