//! `prepaid serve`: the HTTP JSON API for platforms, over a [`crate::Ledger`] on any store.
//!
//! Routes (each listed once, in [`router`], and described in `openapi.json`, which a test
//! checks against the router):
//! - `POST /v1/wallets`: open a wallet (a signed `open` event);
//! - `POST /v1/wallets/{wallet}/events`: submit a signed event, idempotent by event id;
//! - `GET /v1/wallets/{wallet}`, `.../journal`, `.../verify`, `.../proof`: figures,
//!   entries, replay, the wallet's proof in the latest checkpoint;
//! - `GET /v1/wallets/{wallet}/statement`: every movement with its receipt;
//! - `POST /v1/wallets/{wallet}/dry-run`: what a signed event would do, not journaled;
//! - `POST/GET /v1/wallets/{wallet}/migration`, `POST .../migration/consent`: a regulator's
//!   signed migration handed in, the one waiting for the consumer's consent, and their
//!   consent;
//! - `POST /v1/consumer/challenge`, `POST /v1/consumer/token`: a consumer's sign-in with
//!   the wallet key, for a short-lived token that reads and acts on their own wallets;
//! - `GET /v1/consumer/wallets`: the signed-in consumer's wallets;
//! - `GET /v1/notices`: what needs a consumer's or a merchant's attention;
//! - `POST/GET /v1/webhooks`, `POST /v1/webhooks/{webhook}/remove`,
//!   `GET /v1/webhooks/{webhook}/deliveries`: where the platform has notices delivered,
//!   signed, with the delivery log;
//! - `GET /v1/checkpoint`: the latest signed checkpoint of every wallet's head;
//! - `GET /v1/outbox`, `POST /v1/outbox/claim`, `POST /v1/outbox/ack`: the payment adapter's;
//! - `GET /health`, `GET /metrics`, `GET /openapi.json`: open to all;
//! - `GET /consumer`, `GET /regulator`: the consumer's page and the regulator's dashboard
//!   (`service/pages.rs`), which use the routes above from the browser.
//!
//! Events carry no time: the service stamps each with the host's clock, and ticks the
//! wallets whose rules of time have fallen due itself (see [`crate::clock`]). Every
//! journaled event is answered with a receipt signed by the platform's key, which also
//! signs a checkpoint every `checkpoint_every` (see [`crate::signed`]).

pub mod auth;
mod consumer;
pub mod error;
pub mod metrics;
mod outbox;
mod pages;
mod platform;
mod wallets;
mod webhooks;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, MatchedPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::ledger::Ledger;
use crate::signed::Checkpoint;
use auth::{ApiKeys, Caller, ConsumerAccess, Role, TOKEN_PREFIX};
use error::ApiError;
use metrics::Metrics;
use outbox::{ack, claim, outbox};
use platform::{
    alert_rules, alerts, calendar, claims, close_merchant, configure_alerts, configure_calendar, disputes, listing,
    listings, merchant, merchants, migration_plan, register, register_merchant, registry_log, review_listing,
    review_merchant, revoke_listing, statistics, submit_listing,
};
use wallets::{
    consent, dry_run, hand_in_migration, journal, open_wallet, proof, statement, submit_event, verify,
    waiting_migration, wallet,
};

/// The largest request body accepted: a signed event is well under 4 KiB.
pub const MAX_BODY_BYTES: usize = 64 << 10;
/// The most effects one outbox read or claim returns.
const MAX_OUTBOX_PAGE: usize = 1000;
/// The OpenAPI description of the routes.
pub const OPENAPI: &str = include_str!("openapi.json");
/// How often the service ticks the wallets that have fallen due, by default.
pub const DEFAULT_TICK_EVERY: Duration = Duration::from_secs(60);
/// The most wallets one round of ticking takes; the rest wait for the next round.
const TICKS_PER_ROUND: usize = 1000;
/// How long a failed webhook delivery waits before its second attempt, by default; each
/// further wait doubles.
pub const DEFAULT_WEBHOOK_BACKOFF: Duration = Duration::from_secs(30);
/// How often the service signs a checkpoint, by default.
pub const DEFAULT_CHECKPOINT_EVERY: Duration = Duration::from_secs(300);

/// What every handler shares.
#[derive(Clone)]
pub struct Service {
    ledger: Arc<Ledger>,
    keys: Arc<ApiKeys>,
    metrics: Metrics,
    tick_every: Duration,
    platform_key: Arc<ed25519_dalek::SigningKey>,
    checkpoint_every: Duration,
    checkpoint: Arc<RwLock<Option<Arc<Checkpoint>>>>,
    access: ConsumerAccess,
    webhook_backoff: Duration,
}

impl Service {
    /// A service over `ledger` (with its component installed), admitting `keys`, signing
    /// receipts and checkpoints with `platform_key`.
    pub fn new(ledger: Ledger, keys: ApiKeys, platform_key: ed25519_dalek::SigningKey) -> Service {
        let platform_key = Arc::new(platform_key);
        Service {
            access: ConsumerAccess::new(platform_key.clone()),
            ledger: Arc::new(ledger),
            keys: Arc::new(keys),
            metrics: Metrics::new(),
            tick_every: DEFAULT_TICK_EVERY,
            platform_key,
            checkpoint_every: DEFAULT_CHECKPOINT_EVERY,
            checkpoint: Arc::default(),
            webhook_backoff: DEFAULT_WEBHOOK_BACKOFF,
        }
    }

    /// This service, signing a checkpoint every `every` (by default
    /// [`DEFAULT_CHECKPOINT_EVERY`]), the first as it starts.
    pub fn with_checkpoint_every(mut self, every: Duration) -> Service {
        self.checkpoint_every = every;
        self
    }

    /// This service, waiting `backoff` after a failed webhook delivery before trying again
    /// (by default [`DEFAULT_WEBHOOK_BACKOFF`]), twice as long after each further failure.
    pub fn with_webhook_backoff(mut self, backoff: Duration) -> Service {
        self.webhook_backoff = backoff;
        self
    }

    /// The platform's time now.
    fn now(&self) -> Result<i64, ApiError> {
        self.ledger.clock().now().map_err(ApiError::from)
    }

    /// The latest checkpoint the service signed, if it has signed one.
    pub fn checkpoint(&self) -> Option<Arc<Checkpoint>> {
        self.checkpoint
            .read()
            .expect("the checkpoint lock is never poisoned")
            .clone()
    }

    /// This service, ticking the wallets that have fallen due every `every` (by default
    /// [`DEFAULT_TICK_EVERY`]).
    pub fn with_tick_every(mut self, every: Duration) -> Service {
        self.tick_every = every;
        self
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
    // The fallback before the layers: a fallback added after them would answer unlayered.
    build(&mut Vec::new())
        .merge(pages::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route; see /openapi.json") })
        .layer(middleware::map_response(harden))
        .layer(middleware::from_fn_with_state(service.clone(), observe))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

/// Every answer is never read as another type than it says, nor framed by another site:
/// the pages set a policy of their own, and an API answer's allows nothing.
async fn harden(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"));
    response
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
    add(Method::GET, "/v1/wallets/{wallet}/proof", on(MethodFilter::GET, proof));
    add(
        Method::GET,
        "/v1/wallets/{wallet}/statement",
        on(MethodFilter::GET, statement),
    );
    add(
        Method::POST,
        "/v1/wallets/{wallet}/migration",
        on(MethodFilter::POST, hand_in_migration),
    );
    add(
        Method::GET,
        "/v1/wallets/{wallet}/migration",
        on(MethodFilter::GET, waiting_migration),
    );
    add(
        Method::POST,
        "/v1/wallets/{wallet}/migration/consent",
        on(MethodFilter::POST, consent),
    );
    add(
        Method::POST,
        "/v1/wallets/{wallet}/dry-run",
        on(MethodFilter::POST, dry_run),
    );
    add(
        Method::POST,
        "/v1/consumer/challenge",
        on(MethodFilter::POST, consumer::challenge),
    );
    add(
        Method::POST,
        "/v1/consumer/token",
        on(MethodFilter::POST, consumer::token),
    );
    add(
        Method::GET,
        "/v1/consumer/wallets",
        on(MethodFilter::GET, consumer::wallets),
    );
    add(Method::GET, "/v1/notices", on(MethodFilter::GET, consumer::notices));
    add(Method::POST, "/v1/webhooks", on(MethodFilter::POST, webhooks::register));
    add(Method::GET, "/v1/webhooks", on(MethodFilter::GET, webhooks::list));
    add(
        Method::POST,
        "/v1/webhooks/{webhook}/remove",
        on(MethodFilter::POST, webhooks::remove),
    );
    add(
        Method::GET,
        "/v1/webhooks/{webhook}/deliveries",
        on(MethodFilter::GET, webhooks::deliveries),
    );
    add(Method::GET, "/v1/checkpoint", on(MethodFilter::GET, checkpoint));
    add(Method::GET, "/v1/claims", on(MethodFilter::GET, claims));
    add(Method::GET, "/v1/disputes", on(MethodFilter::GET, disputes));
    add(Method::GET, "/v1/outbox", on(MethodFilter::GET, outbox));
    add(Method::POST, "/v1/outbox/claim", on(MethodFilter::POST, claim));
    add(Method::POST, "/v1/outbox/ack", on(MethodFilter::POST, ack));
    add(Method::POST, "/v1/merchants", on(MethodFilter::POST, register_merchant));
    add(Method::GET, "/v1/merchants", on(MethodFilter::GET, merchants));
    add(Method::GET, "/v1/merchants/{merchant}", on(MethodFilter::GET, merchant));
    add(
        Method::POST,
        "/v1/merchants/{merchant}/review",
        on(MethodFilter::POST, review_merchant),
    );
    add(
        Method::POST,
        "/v1/merchants/{merchant}/closure",
        on(MethodFilter::POST, close_merchant),
    );
    add(Method::POST, "/v1/listings", on(MethodFilter::POST, submit_listing));
    add(Method::GET, "/v1/listings", on(MethodFilter::GET, listings));
    add(Method::GET, "/v1/listings/{listing}", on(MethodFilter::GET, listing));
    add(
        Method::POST,
        "/v1/listings/{listing}/review",
        on(MethodFilter::POST, review_listing),
    );
    add(
        Method::POST,
        "/v1/listings/{listing}/revoke",
        on(MethodFilter::POST, revoke_listing),
    );
    add(Method::GET, "/v1/registry", on(MethodFilter::GET, registry_log));
    add(Method::GET, "/v1/register", on(MethodFilter::GET, register));
    add(Method::GET, "/v1/stats", on(MethodFilter::GET, statistics));
    add(Method::GET, "/v1/alerts", on(MethodFilter::GET, alerts));
    add(Method::GET, "/v1/alerts/rules", on(MethodFilter::GET, alert_rules));
    add(
        Method::POST,
        "/v1/alerts/rules",
        on(MethodFilter::POST, configure_alerts),
    );
    add(
        Method::GET,
        "/v1/migrations/plan",
        on(MethodFilter::GET, migration_plan),
    );
    add(Method::GET, "/v1/calendar", on(MethodFilter::GET, calendar));
    add(Method::POST, "/v1/calendar", on(MethodFilter::POST, configure_calendar));
    router
}

/// Serves `service` on `listener`, ticking the wallets that fall due, until `shutdown`
/// completes; then answers the requests under way and returns. The caller decides what
/// stops it (a signal, a test's channel).
pub async fn serve(
    listener: tokio::net::TcpListener,
    service: Service,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Access checks read the index of wallets' parties: wallets journaled before it are
    // indexed before the first request.
    let indexing = service.ledger.clone();
    let unindexed = tokio::task::spawn_blocking(move || indexing.platform().index_parties())
        .await
        .map_err(std::io::Error::other)?
        .map_err(std::io::Error::other)?;
    for (wallet, error) in unindexed {
        tracing::warn!(wallet, error = %error, "a wallet journaled before its parties were indexed could not be: only operators, regulators and auditors reach it");
    }
    let ticker = tokio::spawn(tick_due_wallets(service.clone()));
    let checkpointer = tokio::spawn(sign_checkpoints(service.clone()));
    let deliverer = tokio::spawn(deliver_notices(service.clone()));
    let ledger = service.ledger.clone();
    let served = axum::serve(listener, router(service))
        .with_graceful_shutdown(shutdown)
        .await;
    for task in [ticker, checkpointer, deliverer] {
        task.abort();
        // Cancelled or done: either way its share of the service is dropped by now.
        let _ = task.await;
    }
    // The last share of the ledger goes on a blocking thread: a PostgreSQL connection
    // closes by blocking, which an async worker may not do.
    let _ = tokio::task::spawn_blocking(move || drop(ledger)).await;
    served
}

/// Delivers the webhooks' notices that are due every `tick_every` (see
/// [`crate::webhooks`]).
async fn deliver_notices(service: Service) {
    // Posted where the webhook says, never where an answer redirects to.
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(error = %error, "no HTTP client for webhooks; notices are not delivered");
            return;
        }
    };
    let mut rounds = tokio::time::interval(service.tick_every);
    loop {
        rounds.tick().await;
        match webhooks::deliver_round(&service, &client).await {
            Ok(0) => {}
            Ok(attempts) => tracing::info!(attempts, "delivered the webhooks' notices due"),
            Err(error) => tracing::error!(code = error.code, error = error.message, "delivering notices failed"),
        }
    }
}

/// Signs a checkpoint of every wallet's head every `checkpoint_every`, the first at once.
async fn sign_checkpoints(service: Service) {
    let mut rounds = tokio::time::interval(service.checkpoint_every);
    loop {
        rounds.tick().await;
        let (ledger, key) = (service.ledger.clone(), service.platform_key.clone());
        match blocking(move || ledger.checkpoint(&key)).await {
            Ok(checkpoint) => {
                tracing::info!(
                    wallets = checkpoint.head.size,
                    time = checkpoint.head.time,
                    "signed a checkpoint"
                );
                *service
                    .checkpoint
                    .write()
                    .expect("the checkpoint lock is never poisoned") = Some(Arc::new(checkpoint));
            }
            Err(error) => tracing::error!(code = error.code, error = error.message, "signing a checkpoint failed"),
        }
    }
}

/// Ticks the wallets whose rules of time have fallen due, and applies the merchants'
/// closures that have, every `tick_every`: the platform's clock, which no caller may send.
async fn tick_due_wallets(service: Service) {
    let mut rounds = tokio::time::interval(service.tick_every);
    loop {
        rounds.tick().await;
        let ledger = service.ledger.clone();
        let closed = blocking(move || {
            ledger.platform().close_due_merchants(|progress| {
                if progress.done % 1000 == 0 || progress.done == progress.total {
                    tracing::info!(
                        merchant = progress.merchant,
                        done = progress.done,
                        total = progress.total,
                        "applying a merchant's closure"
                    );
                }
            })
        })
        .await;
        match closed {
            Ok(reports) => {
                for (merchant, report) in reports {
                    tracing::info!(
                        merchant,
                        closed = report.closed,
                        already_closed = report.already_closed,
                        refused = report.refused.len(),
                        refunded = report.refunded,
                        "a merchant's closure is applied"
                    );
                }
            }
            Err(error) => tracing::error!(code = error.code, error = error.message, "applying closures failed"),
        }
        let ledger = service.ledger.clone();
        match blocking(move || ledger.tick_due(TICKS_PER_ROUND)).await {
            Ok(ticked) if ticked.is_empty() => {}
            Ok(ticked) => {
                for refusal in ticked.iter().filter_map(|tick| tick.as_ref().err()) {
                    tracing::warn!(error = %refusal, "a due wallet's tick was refused");
                }
                tracing::info!(wallets = ticked.len(), "ticked the wallets due");
            }
            Err(error) => tracing::error!(
                code = error.code,
                error = error.message,
                "ticking the wallets due failed"
            ),
        }
    }
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
    let caller = match key.starts_with(TOKEN_PREFIX) {
        true => service.access.caller(key, service.now()?).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the consumer token is not this platform's or has expired; sign in again",
            )
        })?,
        false => service
            .keys
            .caller(key)
            .cloned()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "unknown API key"))?,
    };
    if !roles.contains(&caller.role) {
        return Err(ApiError::forbidden(format!(
            "an API key with the role `{}` may not do this",
            crate::text::word(&caller.role)
        )));
    }
    Ok(caller)
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
    // The supervision figures as they stand: what is frozen by industry, and the alerts.
    let ledger = service.ledger.clone();
    let supervision = blocking(move || {
        let by_industry = crate::stats::Query {
            group_by: crate::stats::GroupBy::Industry,
            ..crate::stats::Query::default()
        };
        Ok((ledger.platform().stats(&by_industry)?, ledger.platform().alerts()?))
    })
    .await;
    match supervision {
        Ok((lines, alerts)) => {
            for line in lines {
                let fen = prepaid_contract::money::Amount::parse(&line.frozen).map_or(0, |amount| amount.fen());
                let fen = i64::try_from(fen).unwrap_or(i64::MAX);
                service
                    .metrics
                    .frozen
                    .with_label_values(&[line.group.as_str()])
                    .set(fen);
            }
            for kind in crate::alerts::AlertKind::ALL {
                let raised = alerts.iter().filter(|alert| alert.kind == kind).count();
                service
                    .metrics
                    .alerts
                    .with_label_values(&[kind.as_str()])
                    .set(i64::try_from(raised).unwrap_or(i64::MAX));
            }
        }
        Err(error) => tracing::warn!(
            code = error.code,
            error = error.message,
            "reading the supervision figures failed"
        ),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        service.metrics.render(),
    )
}

/// What `GET /v1/checkpoint` takes.
#[derive(serde::Deserialize)]
struct CheckpointQuery {
    /// The whole checkpoint file, every wallet's line after the note.
    #[serde(default)]
    leaves: bool,
}

/// The latest checkpoint's signed note, as text: open to all, since a checkpoint is worth
/// what its spread makes it (an auditor, a regulator, a consumer's app compare theirs).
/// With `?leaves=true`, the whole file, which lists every wallet: for the operator, the
/// regulator and auditors.
async fn checkpoint(
    State(service): State<Service>,
    headers: HeaderMap,
    Query(query): Query<CheckpointQuery>,
) -> Result<Response, ApiError> {
    if query.leaves {
        authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    }
    let checkpoint = service.checkpoint().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_checkpoint",
            "the service has not signed its first checkpoint yet; try again in a moment",
        )
    })?;
    let text = match query.leaves {
        true => checkpoint.to_file(),
        false => checkpoint.head.note.clone(),
    };
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}
