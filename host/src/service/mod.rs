//! `prepaid serve`: the HTTP JSON API for platforms, over a [`crate::Ledger`] on any store.
//!
//! Routes (each listed once, in [`router`], and described in `openapi.json`, which a test
//! checks against the router):
//! - `POST /v1/wallets`: open a wallet (a signed `open` event);
//! - `POST /v1/wallets/{wallet}/events`: submit a signed event, idempotent by event id;
//! - `GET /v1/wallets/{wallet}`, `.../journal`, `.../verify`: figures, entries, replay;
//! - `GET /v1/outbox`, `POST /v1/outbox/claim`, `POST /v1/outbox/ack`: the payment adapter's;
//! - `GET /health`, `GET /metrics`, `GET /openapi.json`: open to all.

pub mod auth;
pub mod error;
pub mod metrics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::envelope::Envelope;
use crate::ledger::{Ledger, Submitted, Wallet};
use auth::{ApiKeys, Caller, Role};
use error::ApiError;
use metrics::Metrics;

/// The largest request body accepted: a signed event is well under 4 KiB.
pub const MAX_BODY_BYTES: usize = 64 << 10;
/// The most effects one outbox read or claim returns.
const MAX_OUTBOX_PAGE: usize = 1000;
/// The OpenAPI description of the routes.
pub const OPENAPI: &str = include_str!("openapi.json");

/// What every handler shares.
#[derive(Clone)]
pub struct Service {
    ledger: Arc<Ledger>,
    keys: Arc<ApiKeys>,
    metrics: Metrics,
}

impl Service {
    /// A service over `ledger` (with its component installed), admitting `keys`.
    pub fn new(ledger: Ledger, keys: ApiKeys) -> Service {
        Service {
            ledger: Arc::new(ledger),
            keys: Arc::new(keys),
            metrics: Metrics::new(),
        }
    }
}

/// Every route, as (method, path): the router is built from the same calls that list
/// them, so the list cannot drift from what is served.
pub fn routes() -> Vec<(Method, &'static str)> {
    let mut listed = Vec::new();
    drop(build(&mut listed));
    listed
}

/// The service's router.
pub fn router(service: Service) -> Router {
    build(&mut Vec::new())
        .layer(middleware::from_fn_with_state(service.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route; see /openapi.json") })
        .with_state(service)
}

fn build(listed: &mut Vec<(Method, &'static str)>) -> Router<Service> {
    let mut router = Router::new();
    let mut add = |method: Method, path: &'static str, handler: MethodRouter<Service>| {
        listed.push((method, path));
        router = std::mem::take(&mut router).route(path, handler);
    };
    add(Method::GET, "/health", on(MethodFilter::GET, health));
    add(Method::GET, "/metrics", on(MethodFilter::GET, metrics));
    add(Method::GET, "/openapi.json", on(MethodFilter::GET, openapi));
    add(Method::POST, "/v1/wallets", on(MethodFilter::POST, open_wallet));
    add(Method::GET, "/v1/wallets/{wallet}", on(MethodFilter::GET, wallet));
    add(
        Method::POST,
        "/v1/wallets/{wallet}/events",
        on(MethodFilter::POST, submit_event),
    );
    add(
        Method::GET,
        "/v1/wallets/{wallet}/journal",
        on(MethodFilter::GET, journal),
    );
    add(
        Method::GET,
        "/v1/wallets/{wallet}/verify",
        on(MethodFilter::GET, verify),
    );
    add(Method::GET, "/v1/outbox", on(MethodFilter::GET, outbox));
    add(Method::POST, "/v1/outbox/claim", on(MethodFilter::POST, claim));
    add(Method::POST, "/v1/outbox/ack", on(MethodFilter::POST, ack));
    router
}

/// Serves `service` on `listener` until `shutdown` completes, then answers the requests
/// under way and returns. The caller decides what stops it (a signal, a test's channel).
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Counts, times and logs every request.
async fn observe(State(service): State<Service>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let method = request.method().clone();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    service
        .metrics
        .requests
        .with_label_values(&[route.as_str(), method.as_str(), status.as_str()])
        .inc();
    service
        .metrics
        .latency
        .with_label_values(&[route.as_str()])
        .observe(elapsed.as_secs_f64());
    tracing::info!(
        method = %method,
        route = %route,
        status = status.as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    response
}

/// The caller of a request, if its key admits one of `roles`.
fn authorize(service: &Service, headers: &HeaderMap, roles: &[Role]) -> Result<Caller, ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send an API key as `Authorization: Bearer <key>`",
            )
        })?;
    let caller = service
        .keys
        .caller(key)
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown API key"))?;
    if !roles.contains(&caller.role) {
        return Err(ApiError::forbidden(format!("a {:?} key may not do this", caller.role)));
    }
    Ok(caller.clone())
}

/// Runs blocking ledger work off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> crate::Result<T> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| ApiError::from(crate::Error::fault(format!("a worker failed: {error}"))))?
        .map_err(ApiError::from)
}

/// Parses a JSON body, turning an oversized or malformed one into a clear error.
fn parse_body<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("request bodies are limited to {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|error| ApiError::bad_request(format!("invalid JSON body: {error}")))
}

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

async fn health(State(service): State<Service>) -> Result<Json<Value>, ApiError> {
    let ledger = service.ledger.clone();
    // A read through the store proves it answers.
    blocking(move || ledger.head("")).await?;
    Ok(Json(
        json!({"status": "ok", "store": service.ledger.config().kind(), "code_hash": service.ledger.current()}),
    ))
}

async fn metrics(State(service): State<Service>) -> impl IntoResponse {
    let conflicts = i64::try_from(service.ledger.conflicts()).unwrap_or(i64::MAX);
    service.metrics.conflicts.set(conflicts);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics.render(),
    )
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn open_wallet(
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

async fn submit_event(
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

async fn wallet(
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

async fn journal(
    State(service): State<Service>,
    Path(wallet): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let entries = read_wallet(&service, &headers, &wallet, |ledger, wallet| {
        let entries = ledger.entries(wallet)?;
        Ok((!entries.is_empty()).then_some(entries))
    })
    .await?;
    Ok(Json(json!({"wallet": wallet, "entries": entries})))
}

async fn verify(
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OutboxQuery {
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

async fn outbox(
    State(service): State<Service>,
    headers: HeaderMap,
    query: Result<Query<OutboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    let Query(query) = query.map_err(|rejection| ApiError::bad_request(rejection.body_text()))?;
    let limit = page(query.limit)?;
    let ledger = service.ledger.clone();
    let effects = blocking(move || ledger.pending_effects(limit)).await?;
    Ok(Json(json!({"effects": effects})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    limit: Option<usize>,
    lease_seconds: Option<u64>,
}

/// The longest lease a claim may ask: an adapter that dies holds its effects this long.
const MAX_LEASE_SECONDS: u64 = 3600;

async fn claim(
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
    let effects = blocking(move || ledger.claim_effects(&caller.name, limit, Duration::from_secs(lease))).await?;
    Ok(Json(json!({"effects": effects, "lease_seconds": lease})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AckRequest {
    effect_ids: Vec<String>,
}

async fn ack(
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
    let ledger = service.ledger.clone();
    let count = request.effect_ids.len();
    blocking(move || ledger.ack_effects(&request.effect_ids)).await?;
    Ok(Json(json!({"acknowledged": count})))
}
