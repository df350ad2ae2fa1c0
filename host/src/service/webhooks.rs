//! Webhooks through the API: the platform registers and removes them
//! (`POST /v1/webhooks`, `POST /v1/webhooks/{webhook}/remove`), lists them and reads each
//! one's delivery log; and the delivery round `serve` runs (see [`crate::webhooks`]).

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Role;
use super::error::ApiError;
use super::platform::{record, registry};
use super::{authorize, blocking, parse_body, Service};
use crate::notices::Notice;
use crate::registry::{Action, Webhook};
use crate::webhooks::{payload, sign, Delivery, DELIVERY_HEADER, SIGNATURE_HEADER};

/// How long one delivery attempt may take.
const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// The most entries of a delivery log one read returns.
const MAX_LOG_PAGE: usize = 1000;

/// What `POST /v1/webhooks` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Registration {
    url: String,
    #[serde(default)]
    consumer: Option<String>,
    #[serde(default)]
    merchant: Option<String>,
    #[serde(default = "default_within_days")]
    within_days: u32,
}

fn default_within_days() -> u32 {
    7
}

pub(super) async fn register(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator])?;
    let registration: Registration = parse_body(body)?;
    let action = Action::RegisterWebhook {
        webhook: String::new(),
        url: registration.url,
        consumer: registration.consumer,
        merchant: registration.merchant,
        within_days: registration.within_days,
    };
    record(&service, &caller, action).await
}

pub(super) async fn remove(
    State(service): State<Service>,
    Path(webhook): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator])?;
    record(&service, &caller, Action::RemoveWebhook { webhook }).await
}

pub(super) async fn list(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator])?;
    let webhooks: Vec<Webhook> = registry(&service).await?.webhooks().cloned().collect();
    Ok(Json(json!({"webhooks": webhooks})))
}

pub(super) async fn deliveries(
    State(service): State<Service>,
    Path(webhook): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator])?;
    let ledger = service.ledger.clone();
    let id = webhook.clone();
    let log = blocking(move || ledger.platform().deliveries(&id, MAX_LOG_PAGE)).await?;
    Ok(Json(json!({"webhook": webhook, "deliveries": log})))
}

/// One round of deliveries: every notice of every webhook that is due is posted once.
/// Returns how many attempts were made.
pub(super) async fn deliver_round(service: &Service, client: &reqwest::Client) -> Result<usize, ApiError> {
    let now = service.now()?;
    let at = super::consumer::rfc3339(now)?;
    let mut attempts = 0;
    for hook in registry(service).await?.webhooks().cloned().collect::<Vec<_>>() {
        let ledger = service.ledger.clone();
        let audience = hook.audience.clone();
        let (within_days, id) = (hook.within_days, hook.webhook.clone());
        // The notices due, with what was recorded of each one's delivery.
        let due: Vec<(Notice, Option<Delivery>)> = blocking(move || {
            let mut due = Vec::new();
            for notice in ledger.platform().notices_at(&audience, now, within_days)? {
                let delivery = ledger.platform().delivery(&id, &notice.id)?;
                if Delivery::due(delivery.as_ref(), now) {
                    due.push((notice, delivery));
                }
            }
            Ok(due)
        })
        .await?;
        for (notice, before) in due {
            let body = payload(&hook, &notice);
            let sent = client
                .post(&hook.url)
                .timeout(ATTEMPT_TIMEOUT)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, sign(&service.platform_key, &body))
                .header(DELIVERY_HEADER, &notice.id)
                .body(body)
                .send()
                .await;
            let (result, delivered) = match sent {
                Ok(response) => (response.status().as_str().to_owned(), response.status().is_success()),
                Err(error) => (format!("no answer: {error}"), false),
            };
            let backoff = i64::try_from(service.webhook_backoff.as_secs()).unwrap_or(i64::MAX);
            let delivery = Delivery::attempted(
                before,
                &hook.webhook,
                &notice.id,
                (now, &at),
                result,
                delivered,
                backoff,
            );
            let ledger = service.ledger.clone();
            blocking(move || ledger.platform().record_delivery(&delivery)).await?;
            attempts += 1;
        }
    }
    Ok(attempts)
}
