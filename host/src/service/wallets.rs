//! The wallet routes: open, submit, and the reading endpoints (figures, journal, replay),
//! with the merchant's scope.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::auth::{Caller, Role};
use super::error::ApiError;
use super::{authorize, blocking, parse_body, Service};
use crate::envelope::Envelope;
use crate::ledger::{Ledger, Migrated, Submitted, WaitingMigration, Wallet};
use crate::signed::Receipt;
use crate::store::Entry;

/// What a merchant key is told whenever it asks for anything outside its scope: the same
/// answer whether the wallet is another merchant's, does not exist, or the event is not a
/// merchant's, so that a merchant learns nothing about other wallets.
fn outside_merchant_scope() -> ApiError {
    ApiError::forbidden(
        "a merchant key reads its own wallets, submits its own requests, withdrawals and disputes to \
         them, and opens new wallets naming it as the merchant; nothing else",
    )
}

/// What a consumer's token is told whenever it asks for anything outside its scope: the
/// same answer whether the wallet is another consumer's or does not exist.
fn outside_consumer_scope() -> ApiError {
    ApiError::forbidden(
        "a consumer reads their own wallets, opens wallets naming their key as the consumer and \
         awaiting funding, and submits their own signed events (authorize, refund, dispute, transfer, cancel_rekey, \
         top_up) to them; \
         nothing else",
    )
}

/// The events a consumer signs on an open wallet.
const CONSUMER_EVENTS: [&str; 6] = ["authorize", "refund", "dispute", "transfer", "cancel_rekey", "top_up"];

/// The merchant and consumer of `wallet`, as the store indexes them (see
/// [`Ledger::parties`]): no component runs to learn who may see a wallet.
async fn parties_of(service: &Service, wallet: &str) -> Result<(Option<String>, Option<String>), ApiError> {
    let ledger = service.ledger.clone();
    let owned = wallet.to_owned();
    blocking(move || ledger.parties(&owned)).await
}

/// A merchant key's caller may reach `wallet` only if it is the wallet's merchant, and a
/// consumer's only if it is the wallet's consumer; other roles pass.
async fn check_wallet_access(service: &Service, caller: &Caller, wallet: &str) -> Result<(), ApiError> {
    let (own, outside): (&Option<String>, fn() -> ApiError) = match caller.role {
        Role::Merchant => (&caller.merchant, outside_merchant_scope),
        Role::Consumer => (&caller.consumer, outside_consumer_scope),
        _ => return Ok(()),
    };
    let Some(own) = own else {
        return Err(outside());
    };
    let (merchant, consumer) = parties_of(service, wallet).await?;
    let party = if caller.role == Role::Merchant {
        merchant
    } else {
        consumer
    };
    if party.as_ref() == Some(own) {
        Ok(())
    } else {
        Err(outside())
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
    /// The platform's signed receipt for the entry (a signed note).
    receipt: String,
}

impl SubmitResponse {
    fn new(submitted: Submitted, key: &ed25519_dalek::SigningKey) -> SubmitResponse {
        SubmitResponse {
            receipt: Receipt::sign(&submitted.entry, key).note,
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
    Ok(answer(service, submitted))
}

/// The answer to an event journaled (or found journaled), counted in the metrics.
fn answer(service: &Service, submitted: Submitted) -> Response {
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
    (status, Json(SubmitResponse::new(submitted, &service.platform_key))).into_response()
}

/// `POST /v1/wallets/{wallet}/migration`: a regulator's signed `migrate`, handed in by the
/// operator or the regulator. It applies as an event would (201, the entry), or, where the
/// new rules would give the consumer less on some path and it carries no consent, it
/// waits for the consumer's (202), who is told by a notice.
pub(super) async fn hand_in_migration(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator])?;
    let raw: Envelope = parse_body(body)?;
    if raw.wallet != wallet {
        return Err(ApiError::bad_request(format!(
            "the migration is for wallet {}, not {wallet}",
            raw.wallet
        )));
    }
    let ledger = service.ledger.clone();
    match blocking(move || ledger.migrate(&raw)).await? {
        Migrated::Moved(submitted) => Ok(answer(&service, *submitted)),
        Migrated::Waiting => Ok((
            StatusCode::ACCEPTED,
            Json(json!({"wallet": wallet, "waiting_for": "consent"})),
        )
            .into_response()),
    }
}

/// `GET /v1/wallets/{wallet}/migration`: the migration waiting for the wallet's consumer's
/// consent, with what the wallet gives on each path under its code and under the new one.
pub(super) async fn waiting_migration(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<WaitingMigration>, ApiError> {
    let waiting = read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        ledger
            .head(wallet)?
            .map(|_| ledger.waiting_migration(wallet))
            .transpose()
    })
    .await?;
    waiting.map(Json).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_waiting_migration",
            format!("no migration of wallet {wallet} waits for its consumer's consent"),
        )
    })
}

/// What `POST /v1/wallets/{wallet}/migration/consent` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsentRequest {
    /// The consumer's signature (hex) of the waiting migration's event, under its wallet and
    /// id: the message the regulator signed.
    consent: String,
}

/// `POST /v1/wallets/{wallet}/migration/consent`: the consumer's consent to the migration
/// that waits for it, from their page (or relayed by the operator): with it, the migration
/// applies (201, the entry).
pub(super) async fn consent(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator, Role::Consumer])?;
    check_wallet_access(&service, &caller, &wallet).await?;
    let request: ConsentRequest = parse_body(body)?;
    let ledger = service.ledger.clone();
    let submitted = blocking(move || ledger.consent(&wallet, &request.consent)).await?;
    Ok(answer(&service, submitted))
}

pub(super) async fn open_wallet(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator, Role::Merchant, Role::Consumer])?;
    let raw: Envelope = parse_body(body)?;
    if raw.kind() != Some("open") {
        return Err(ApiError::bad_request(
            "POST /v1/wallets takes an `open` event; submit other events to /v1/wallets/{wallet}/events",
        ));
    }
    // A merchant's or a consumer's own open, naming it, for a wallet id not yet used: never
    // an `open` sent to another's wallet, which would be journaled there. Whoever sends
    // it, the ledger takes only one awaiting its price from the rail (`unfunded_open`,
    // see `Funding`), so an open nobody paid for freezes and moves nothing.
    let (field, own, outside): (&str, _, fn() -> ApiError) = match caller.role {
        Role::Merchant => ("merchant", &caller.merchant, outside_merchant_scope),
        Role::Consumer => ("consumer", &caller.consumer, outside_consumer_scope),
        _ => return submit(&service, raw).await,
    };
    let names_itself = own
        .as_deref()
        .is_some_and(|own| raw.event.get(field).and_then(Value::as_str) == Some(own));
    if !names_itself {
        return Err(outside());
    }
    let ledger = service.ledger.clone();
    let wallet = raw.wallet.clone();
    if blocking(move || ledger.head(&wallet)).await?.is_some() {
        return Err(outside());
    }
    submit(&service, raw).await
}

pub(super) async fn submit_event(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, SUBMITTERS)?;
    let raw = event_for(&service, &caller, &wallet, body).await?;
    submit(&service, raw).await
}

/// Who may submit (or dry-run) an event for a wallet.
const SUBMITTERS: &[Role] = &[Role::Operator, Role::Merchant, Role::Regulator, Role::Consumer];

/// The event in `body` for `wallet`, if `caller` may submit it there. A merchant's own
/// events are its requests and withdrawals, a consumer's those they sign; anything else
/// from their keys (an unsigned `tick`, an event under the id the other party's will use)
/// is refused before it reaches the ledger.
async fn event_for(
    service: &Service,
    caller: &Caller,
    wallet: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<Envelope, ApiError> {
    let raw: Envelope = parse_body(body)?;
    if raw.wallet != wallet {
        return Err(ApiError::bad_request(format!(
            "the event is for wallet {}, not {wallet}",
            raw.wallet
        )));
    }
    let kind = raw.kind().unwrap_or_default();
    match caller.role {
        // The payment adapter's word, which the contract takes unsigned.
        Role::Operator => {}
        _ if kind == "funded" => {
            return Err(ApiError::forbidden(
                "`funded` is the payment adapter's report that the money arrived: an operator key sends it",
            ))
        }
        Role::Merchant if !["request", "withdraw", "dispute"].contains(&kind) => return Err(outside_merchant_scope()),
        Role::Consumer if !CONSUMER_EVENTS.contains(&kind) => return Err(outside_consumer_scope()),
        _ => {}
    }
    check_wallet_access(service, caller, wallet).await?;
    Ok(raw)
}

/// What `envelope` would do now, computed by the wallet's component and not journaled:
/// before a refund, what would come back.
pub(super) async fn dry_run(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<crate::ledger::DryRun>, ApiError> {
    let caller = authorize(&service, &headers, SUBMITTERS)?;
    let raw = event_for(&service, &caller, &wallet, body).await?;
    let ledger = service.ledger.clone();
    Ok(Json(blocking(move || ledger.dry_run(&raw)).await?))
}

const READERS: &[Role] = &[
    Role::Operator,
    Role::Merchant,
    Role::Regulator,
    Role::Auditor,
    Role::Consumer,
];

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
    let (Wallet { head, view }, claims) = read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        let Some(read) = ledger.wallet(wallet)? else {
            return Ok(None);
        };
        Ok(Some((read, ledger.claims_of(wallet)?)))
    })
    .await?;
    // Null for a state this host's contract crate does not read (a wallet pinned to
    // another component): the figures above are the component's own.
    let details = head
        .state
        .as_deref()
        .and_then(|state| crate::outcome::WalletDetails::of(state).ok());
    Ok(Json(json!({
        "wallet": head.wallet,
        "code_hash": head.code_hash,
        "seq": head.seq,
        "state_hash": head.state_hash,
        "head_hash": head.head_hash,
        "view": view,
        "details": details,
        "claims": claims,
        "disputes": head.state.as_deref().map(|state| crate::disputes::of_state(&head.wallet, state)),
    })))
}

/// Every entry of `wallet`, for a caller who may read it.
async fn read_entries(service: &Service, headers: &HeaderMap, wallet: &str) -> Result<Vec<Entry>, ApiError> {
    read_wallet(service, headers, wallet, |ledger, wallet| {
        let entries = ledger.entries(wallet)?;
        Ok((!entries.is_empty()).then_some(entries))
    })
    .await
}

/// Every entry of a wallet as a movement: what happened, what money it moved, and the
/// platform's signed receipt for it, which the consumer keeps.
pub(super) async fn statement(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entries = read_entries(&service, &headers, &wallet).await?;
    let mut lines = Vec::with_capacity(entries.len());
    for entry in &entries {
        let verdict: crate::outcome::Verdict = serde_json::from_str(&entry.outcome)
            .map_err(|error| ApiError::from(crate::Error::fault(format!("a recorded outcome: {error}"))))?;
        let event: Value = serde_json::from_str(&entry.event)
            .map_err(|error| ApiError::from(crate::Error::fault(format!("a recorded event: {error}"))))?;
        lines.push(json!({
            "seq": entry.seq,
            "at": entry.at,
            "event_id": entry.event_id,
            "type": event.pointer("/event/type"),
            "ok": verdict.ok,
            "error": verdict.error.map(|error| error.code),
            "effects": verdict.effects,
            "receipt": Receipt::sign(entry, &service.platform_key).note,
        }));
    }
    Ok(Json(json!({"wallet": wallet, "statement": lines})))
}

pub(super) async fn journal(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entries = read_entries(&service, &headers, &wallet).await?;
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

pub(super) async fn proof(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<crate::signed::Proof>, ApiError> {
    read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        Ok(ledger.head(wallet)?.map(|_| ()))
    })
    .await?;
    let not_yet = |why: String| ApiError::new(StatusCode::NOT_FOUND, "not_in_checkpoint", why);
    let checkpoint = service
        .checkpoint()
        .ok_or_else(|| not_yet("the service has not signed its first checkpoint yet".into()))?;
    let proof = checkpoint.proof(&wallet).ok_or_else(|| {
        not_yet(format!(
            "the wallet is not in the latest checkpoint, of {}; it will be in the next",
            checkpoint.head.time
        ))
    })?;
    Ok(Json(proof))
}
