//! The platform's routes: merchants and their review, the catalogue of listings and its
//! review, closures, the registry's log and the regulator's statistics.
//!
//! Who may do what: a merchant key registers its own merchant, submits and withdraws its
//! own listings and reads its own records; the regulator reviews merchants and listings,
//! records closures and reads everything; the operator and auditors read. The approved
//! catalogue is open to all, since consumers choose from it.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Caller, Role};
use super::error::ApiError;
use super::{authorize, blocking, parse_body, Service};
use crate::alerts::AlertRules;
use crate::outcome::is_hex64;
use crate::plan::Plan;
use crate::registry::{
    Action, Actor, Approval, Industry, Listing, ListingDecision, ListingStatus, Merchant, MerchantClosure,
    MerchantDecision, Registry,
};
use crate::stats;
use crate::text::word;

/// The most registry records one read returns; read on with `?after=`.
const MAX_RECORDS: usize = 1000;

/// The registry's actor for `caller`.
fn actor(caller: &Caller) -> Actor {
    Actor {
        role: word(&caller.role),
        name: caller.name.clone(),
    }
}

/// The caller, if the request carries a key (and the key is known).
fn optional_caller(service: &Service, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    match headers.get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(_) => authorize(
            service,
            headers,
            &[
                Role::Operator,
                Role::Merchant,
                Role::Regulator,
                Role::Auditor,
                Role::Consumer,
            ],
        )
        .map(Some),
    }
}

/// A query string, or a clear error for one that does not parse.
fn query_of<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ApiError> {
    query
        .map(|Query(query)| query)
        .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
}

/// What a merchant key is told for anything of another merchant's.
fn not_yours() -> ApiError {
    ApiError::forbidden("a merchant key registers, lists and reads for its own merchant only")
}

/// Records `action` by `caller`, answering with the record.
pub(super) async fn record(service: &Service, caller: &Caller, action: Action) -> Result<Response, ApiError> {
    let ledger = service.ledger.clone();
    let by = actor(caller);
    let record = blocking(move || ledger.platform().record_change(by, action)).await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

pub(super) async fn registry(service: &Service) -> Result<Registry, ApiError> {
    let ledger = service.ledger.clone();
    blocking(move || ledger.platform().registry()).await
}

/// What `POST /v1/merchants` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Registration {
    /// The merchant's public key: a merchant key's own, which it may leave out.
    #[serde(default)]
    merchant: Option<String>,
    name: String,
    industry: Industry,
    district: String,
    licence: String,
}

pub(super) async fn register_merchant(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Merchant, Role::Operator])?;
    let registration: Registration = parse_body(body)?;
    let merchant = match (&caller.merchant, registration.merchant) {
        (Some(own), None) => own.clone(),
        (Some(own), Some(named)) if *own == named => named,
        (Some(_), Some(_)) => return Err(not_yours()),
        (None, Some(named)) => named,
        (None, None) => {
            return Err(ApiError::bad_request(
                "`merchant`: the merchant's public key is missing",
            ))
        }
    };
    let action = Action::RegisterMerchant {
        merchant,
        name: registration.name,
        industry: registration.industry,
        district: registration.district,
        licence: registration.licence,
    };
    record(&service, &caller, action).await
}

/// The filter of `GET /v1/merchants` and `GET /v1/listings`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusFilter {
    #[serde(default)]
    status: Option<String>,
}

fn status_is(value: &impl serde::Serialize, wanted: &Option<String>) -> bool {
    wanted.as_ref().is_none_or(|wanted| word(value) == *wanted)
}

pub(super) async fn merchants(
    State(service): State<Service>,
    headers: HeaderMap,
    filter: Result<Query<StatusFilter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = authorize(
        &service,
        &headers,
        &[Role::Operator, Role::Merchant, Role::Regulator, Role::Auditor],
    )?;
    let filter = query_of(filter)?;
    let registry = registry(&service).await?;
    let merchants: Vec<_> = registry
        .merchants()
        .filter(|merchant| caller.merchant.as_ref().is_none_or(|own| *own == merchant.merchant))
        .filter(|merchant| status_is(&merchant.status, &filter.status))
        .collect();
    Ok(Json(serde_json::json!({"merchants": merchants})))
}

pub(super) async fn merchant(
    State(service): State<Service>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Merchant>, ApiError> {
    let caller = authorize(
        &service,
        &headers,
        &[Role::Operator, Role::Merchant, Role::Regulator, Role::Auditor],
    )?;
    if caller.merchant.as_ref().is_some_and(|own| *own != merchant) {
        return Err(not_yours());
    }
    let registry = registry(&service).await?;
    let found = registry.merchant(&merchant).cloned().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_merchant",
            format!("merchant {merchant} is not registered"),
        )
    })?;
    Ok(Json(found))
}

/// What the regulator's review of a merchant takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MerchantReview {
    decision: MerchantDecision,
    reason: String,
}

pub(super) async fn review_merchant(
    State(service): State<Service>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Regulator])?;
    let review: MerchantReview = parse_body(body)?;
    let action = Action::ReviewMerchant {
        merchant,
        decision: review.decision,
        reason: review.reason,
    };
    record(&service, &caller, action).await
}

/// What the regulator's closure of a merchant takes (`prepaid regulator close` makes it).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Closure {
    reason: String,
    closure: MerchantClosure,
}

pub(super) async fn close_merchant(
    State(service): State<Service>,
    Path(merchant): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Regulator])?;
    let closure: Closure = parse_body(body)?;
    let action = Action::CloseMerchant {
        merchant,
        reason: closure.reason,
        closure: closure.closure,
    };
    record(&service, &caller, action).await
}

/// What `POST /v1/listings` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Submission {
    name: String,
    category: String,
    product: Value,
    policy: Value,
}

pub(super) async fn submit_listing(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Merchant])?;
    let submission: Submission = parse_body(body)?;
    let merchant = caller.merchant.clone().ok_or_else(not_yours)?;
    let action = Action::SubmitListing {
        listing: String::new(),
        merchant,
        name: submission.name,
        category: submission.category,
        product: submission.product,
        policy: submission.policy,
    };
    record(&service, &caller, action).await
}

/// Whether `caller` (or an anonymous reader) may see a listing of `merchant` in `status`:
/// approved listings are the public catalogue; the rest are the merchant's own and the
/// supervisors'.
fn may_see(caller: &Option<Caller>, merchant: &str, status: ListingStatus) -> bool {
    status == ListingStatus::Approved
        || caller.as_ref().is_some_and(|caller| match caller.role {
            Role::Merchant => caller.merchant.as_deref() == Some(merchant),
            // A consumer buys from the catalogue: the approved listings, as anyone.
            Role::Consumer => false,
            Role::Operator | Role::Regulator | Role::Auditor => true,
        })
}

/// What `GET /v1/register` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RegisterQuery {
    /// A licence number, or part of a name.
    q: String,
}

/// The public register: anyone looks a merchant up by its licence number or its name
/// (2 to 200 characters), and sees whether it may sell, its trade, district, approved
/// listings and any closure recorded, before paying it. A merchant awaiting its first
/// review is not in it.
pub(super) async fn register(
    State(service): State<Service>,
    query: Result<Query<RegisterQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let RegisterQuery { q } = query_of(query)?;
    if !(2..=crate::registry::MAX_TEXT_LEN).contains(&q.trim().chars().count()) {
        return Err(ApiError::bad_request(format!(
            "`q` is a licence number or part of a name, 2 to {} characters",
            crate::registry::MAX_TEXT_LEN
        )));
    }
    let now = service.now()?;
    let merchants = registry(&service).await?.look_up(&q, now);
    Ok(Json(serde_json::json!({"merchants": merchants})))
}

pub(super) async fn listings(
    State(service): State<Service>,
    headers: HeaderMap,
    filter: Result<Query<StatusFilter>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let caller = optional_caller(&service, &headers)?;
    let filter = query_of(filter)?;
    let registry = registry(&service).await?;
    let listings = registry
        .listings()
        .filter(|listing| may_see(&caller, &listing.merchant, listing.status))
        .filter(|listing| status_is(&listing.status, &filter.status))
        .map(listing_view)
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Json(serde_json::json!({"listings": listings})))
}

/// A listing as the API shows it: its record, and `terms`, the exact text a regulator's
/// approval signs (the regulator's page shows it and signs it in the browser).
fn listing_view(listing: &Listing) -> Result<Value, ApiError> {
    let mut view = serde_json::to_value(listing).map_err(|error| ApiError::from(crate::Error::fault(error)))?;
    // A listing whose terms no longer pass today's checks has none to approve: null, not a
    // failed list.
    view["terms"] = listing.signed_terms().map_or(Value::Null, Value::String);
    Ok(view)
}

pub(super) async fn listing(
    State(service): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = optional_caller(&service, &headers)?;
    let registry = registry(&service).await?;
    // The same answer for a listing that is not there and one the caller may not see.
    let found = registry
        .listing(&id)
        .filter(|listing| may_see(&caller, &listing.merchant, listing.status))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_listing",
                format!("there is no listing {id:?}"),
            )
        })?;
    Ok(Json(listing_view(found)?))
}

/// What the regulator's review of a listing takes (`prepaid regulator approve` makes an
/// approval's).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListingReview {
    decision: ListingDecision,
    reason: String,
    #[serde(default)]
    approval: Option<Approval>,
}

pub(super) async fn review_listing(
    State(service): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Regulator])?;
    let review: ListingReview = parse_body(body)?;
    let action = Action::ReviewListing {
        listing: id,
        decision: review.decision,
        reason: review.reason,
        approval: review.approval,
    };
    record(&service, &caller, action).await
}

/// What a revocation takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Revocation {
    reason: String,
}

pub(super) async fn revoke_listing(
    State(service): State<Service>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Regulator, Role::Merchant])?;
    if let Some(own) = &caller.merchant {
        let registry = registry(&service).await?;
        if registry.listing(&id).is_none_or(|listing| listing.merchant != *own) {
            return Err(not_yours());
        }
    }
    let revocation: Revocation = parse_body(body)?;
    let action = Action::RevokeListing {
        listing: id,
        reason: revocation.reason,
    };
    record(&service, &caller, action).await
}

/// What `GET /v1/registry` takes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Since {
    #[serde(default)]
    after: u64,
}

pub(super) async fn registry_log(
    State(service): State<Service>,
    headers: HeaderMap,
    since: Result<Query<Since>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    let since = query_of(since)?;
    let ledger = service.ledger.clone();
    let records = blocking(move || ledger.platform().registry_records(since.after, MAX_RECORDS)).await?;
    Ok(Json(serde_json::json!({"records": records})))
}

pub(super) async fn statistics(
    State(service): State<Service>,
    headers: HeaderMap,
    query: Result<Query<stats::Query>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Regulator, Role::Auditor])?;
    let query = query_of(query)?;
    let ledger = service.ledger.clone();
    let lines = blocking(move || ledger.platform().stats(&query)).await?;
    Ok(Json(serde_json::json!({"lines": lines})))
}

pub(super) async fn alerts(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Regulator, Role::Auditor])?;
    let ledger = service.ledger.clone();
    let alerts = blocking(move || ledger.platform().alerts()).await?;
    Ok(Json(serde_json::json!({"alerts": alerts})))
}

/// What merchants owe consumers and have not paid, oldest first: the regulator's queue of
/// claims, each with its age in whole days.
pub(super) async fn claims(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Regulator, Role::Auditor])?;
    let ledger = service.ledger.clone();
    let (claims, now) = blocking(move || Ok((ledger.open_claims()?, ledger.clock().now()?))).await?;
    let claims: Vec<Value> = claims
        .into_iter()
        .map(|claim| {
            let age_days = (now - claim.at).max(0) / 86_400;
            let mut value = serde_json::to_value(&claim).unwrap_or_default();
            value["age_days"] = age_days.into();
            value
        })
        .collect();
    Ok(Json(serde_json::json!({"claims": claims})))
}

/// The disputes open in wallets, with the requests refunds hold for the regulator: the
/// regulator's queue, ruling due soonest first, each with the days left before the default
/// ruling applies, a part day counted as one (0 or less once due: the next tick makes it).
pub(super) async fn disputes(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Value>, ApiError> {
    authorize(&service, &headers, &[Role::Regulator, Role::Auditor])?;
    let ledger = service.ledger.clone();
    let (disputes, now) = blocking(move || Ok((ledger.open_disputes()?, ledger.clock().now()?))).await?;
    let disputes: Vec<Value> = disputes
        .into_iter()
        .map(|dispute| {
            let days_left = dispute.ruling_due.map(|due| (due - now + 86_399).div_euclid(86_400));
            let mut value = serde_json::to_value(&dispute).unwrap_or_default();
            if let Some(days_left) = days_left {
                value["days_left"] = days_left.into();
            }
            value
        })
        .collect();
    Ok(Json(serde_json::json!({"disputes": disputes})))
}

pub(super) async fn alert_rules(
    State(service): State<Service>,
    headers: HeaderMap,
) -> Result<Json<AlertRules>, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    Ok(Json(registry(&service).await?.alert_rules().clone()))
}

pub(super) async fn configure_alerts(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Regulator])?;
    let rules: AlertRules = parse_body(body)?;
    record(&service, &caller, Action::ConfigureAlerts { rules }).await
}

/// The holiday calendar, as `GET` and `POST /v1/calendar` carry it.
#[derive(serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Calendar {
    holidays: Vec<String>,
    workdays: Vec<String>,
}

pub(super) async fn calendar(State(service): State<Service>, headers: HeaderMap) -> Result<Json<Calendar>, ApiError> {
    authorize(
        &service,
        &headers,
        &[Role::Operator, Role::Merchant, Role::Regulator, Role::Auditor],
    )?;
    let (holidays, workdays) = registry(&service).await?.calendar();
    Ok(Json(Calendar { holidays, workdays }))
}

pub(super) async fn configure_calendar(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = authorize(&service, &headers, &[Role::Operator, Role::Regulator])?;
    let Calendar { holidays, workdays } = parse_body(body)?;
    record(&service, &caller, Action::ConfigureCalendar { holidays, workdays }).await
}

/// What `GET /v1/migrations/plan` takes: the stored component the wallets would move to.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PlanQuery {
    to: String,
}

/// `GET /v1/migrations/plan?to=HASH`: what moving every live wallet onto the stored
/// component `to` would change (see [`crate::plan`]), for the regulator to read before it
/// signs the migrations. It runs every live wallet's rules several times: the regulator,
/// auditors and the operator only.
pub(super) async fn migration_plan(
    State(service): State<Service>,
    headers: HeaderMap,
    query: Result<Query<PlanQuery>, QueryRejection>,
) -> Result<Json<Plan>, ApiError> {
    authorize(&service, &headers, &[Role::Operator, Role::Regulator, Role::Auditor])?;
    let PlanQuery { to } = query_of(query)?;
    if !is_hex64(&to) {
        return Err(ApiError::bad_request("`to` is a code hash: 64 lower-case hex digits"));
    }
    let ledger = service.ledger.clone();
    let stored = {
        let (ledger, to) = (ledger.clone(), to.clone());
        blocking(move || ledger.component(&to)).await?
    };
    let Some(bytes) = stored else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no component {to} is stored: the platform installs it before a plan can run it"),
        ));
    };
    Ok(Json(blocking(move || ledger.plan_migration(&bytes)).await?))
}
