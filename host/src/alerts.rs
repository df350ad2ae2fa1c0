//! Risk alerts the regulator configures, raised from the statistics as they stand: a
//! merchant's frozen total over a threshold; its refunds or requests today over a multiple
//! of its trailing daily average; disputes or requests awaiting authorization piling up;
//! sales recorded after its closure notice (which the host refuses, so one means a host
//! that does not enforce the registry wrote to the store).
//!
//! The rules are a registry record ([`crate::registry::Action::ConfigureAlerts`]), so who
//! set which threshold when is on the record. Alerts are computed on request from the
//! per-merchant, per-day figures the store keeps ([`crate::stats`]); nothing scans wallets.

use std::collections::BTreeMap;

use prepaid_contract::money::Amount;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::registry::{MerchantStatus, Registry};
use crate::stats::DayRow;
use crate::text::yuan;

pub use crate::registry::{AlertRules, DEFAULT_MIN_EVENTS, DEFAULT_TRAILING_DAYS};

/// What an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The merchant's frozen total is over the threshold.
    FrozenOver,
    /// Its refunds today are over the multiple of its trailing average.
    RefundRate,
    /// Its requests today are over the multiple of its trailing average.
    RequestRate,
    /// Its wallets with a dispute open (of the whole wallet or of a request) are over the
    /// threshold.
    OpenDisputes,
    /// Its requests awaiting authorization are over the threshold.
    PendingRequests,
    /// Sales were recorded after its closure notice.
    SalesAfterClosure,
    /// What it owes consumers by claims not yet paid is over the threshold.
    ClaimsOutstanding,
    /// Its oldest claim not yet paid is older than the threshold.
    ClaimOverdue,
}

impl AlertKind {
    /// Every kind, in order.
    pub const ALL: [AlertKind; 8] = [
        AlertKind::FrozenOver,
        AlertKind::RefundRate,
        AlertKind::RequestRate,
        AlertKind::OpenDisputes,
        AlertKind::PendingRequests,
        AlertKind::SalesAfterClosure,
        AlertKind::ClaimsOutstanding,
        AlertKind::ClaimOverdue,
    ];

    /// The kind as the API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::FrozenOver => "frozen_over",
            AlertKind::RefundRate => "refund_rate",
            AlertKind::RequestRate => "request_rate",
            AlertKind::OpenDisputes => "open_disputes",
            AlertKind::PendingRequests => "pending_requests",
            AlertKind::SalesAfterClosure => "sales_after_closure",
            AlertKind::ClaimsOutstanding => "claims_outstanding",
            AlertKind::ClaimOverdue => "claim_overdue",
        }
    }
}

/// One alert raised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// What it is about.
    pub kind: AlertKind,
    /// The merchant's key.
    pub merchant: String,
    /// The merchant's registered name, if registered.
    pub name: Option<String>,
    /// What was measured.
    pub value: String,
    /// The rule's threshold it crossed.
    pub threshold: String,
    /// For people.
    pub message: String,
}

/// A merchant's figures as the rules read them.
#[derive(Default)]
struct Standing {
    frozen: i128,
    outstanding: i128,
    pending: i64,
    disputed: i64,
    refunds_today: u64,
    requests_today: u64,
    refunds_before: u64,
    requests_before: u64,
}

/// A rule's amount threshold in fen, if the rule is set.
fn fen(threshold: &Option<String>) -> Result<Option<i128>> {
    threshold
        .as_deref()
        .map(|amount| Amount::parse(amount).map(|amount| i128::from(amount.fen())))
        .transpose()
        .map_err(|_| Error::fault("the alert rules hold an amount that is not one"))
}

/// The alerts `rules` raise over `rows` (every day up to `today`, a business day), with
/// merchants from `registry`; `sales_after` counts a merchant's wallets opened after a
/// time (RFC 3339); `overdue` gives each merchant's oldest claim not yet paid, its id and
/// age in days.
pub fn evaluate(
    rules: &AlertRules,
    rows: &[DayRow],
    registry: &Registry,
    today: &str,
    first_trailing_day: &str,
    mut sales_after: impl FnMut(&str, &str) -> Result<u64>,
    overdue: &BTreeMap<String, (String, i64)>,
) -> Result<Vec<Alert>> {
    let mut standings: BTreeMap<&str, Standing> = BTreeMap::new();
    for row in rows.iter().filter(|row| row.day.as_str() <= today) {
        let standing = standings.entry(row.merchant.as_str()).or_default();
        standing.frozen += row.figures.frozen();
        standing.outstanding += row.figures.outstanding();
        standing.pending += row.figures.pending;
        standing.disputed += row.figures.disputed;
        if row.day == today {
            standing.refunds_today += row.figures.refunds;
            standing.requests_today += row.figures.requests;
        } else if row.day.as_str() >= first_trailing_day {
            standing.refunds_before += row.figures.refunds;
            standing.requests_before += row.figures.requests;
        }
    }
    let mut alerts = Vec::new();
    let name = |merchant: &str| registry.merchant(merchant).map(|merchant| merchant.name.clone());
    let mut raise = |kind: AlertKind, merchant: &str, value: String, threshold: String, message: String| {
        alerts.push(Alert {
            kind,
            merchant: merchant.to_owned(),
            name: name(merchant),
            value,
            threshold,
            message,
        })
    };
    let (frozen_over, claims_over) = (fen(&rules.frozen_over)?, fen(&rules.claims_outstanding_over)?);
    let days = u64::from(rules.trailing_days);
    for (merchant, standing) in &standings {
        if let Some(limit) = claims_over.filter(|limit| standing.outstanding > *limit) {
            raise(
                AlertKind::ClaimsOutstanding,
                merchant,
                yuan(standing.outstanding),
                yuan(limit),
                format!(
                    "{} owed to consumers by claims not yet paid, over the threshold of {}",
                    yuan(standing.outstanding),
                    yuan(limit)
                ),
            );
        }
        if let Some(limit) = frozen_over.filter(|limit| standing.frozen > *limit) {
            raise(
                AlertKind::FrozenOver,
                merchant,
                yuan(standing.frozen),
                yuan(limit),
                format!(
                    "{} frozen, over the threshold of {}",
                    yuan(standing.frozen),
                    yuan(limit)
                ),
            );
        }
        for (kind, multiple, today_count, before, what) in [
            (
                AlertKind::RefundRate,
                rules.refund_rate_multiple,
                standing.refunds_today,
                standing.refunds_before,
                "refunds",
            ),
            (
                AlertKind::RequestRate,
                rules.request_rate_multiple,
                standing.requests_today,
                standing.requests_before,
                "requests",
            ),
        ] {
            let Some(multiple) = multiple else { continue };
            // today > multiple × (before / days), in integers.
            if today_count >= rules.min_events && today_count * days > u64::from(multiple) * before {
                raise(
                    kind,
                    merchant,
                    today_count.to_string(),
                    format!("{multiple} × {before}/{days} a day"),
                    format!(
                        "{today_count} {what} today, over {multiple} times the daily average of the {days} days before ({before} in all)"
                    ),
                );
            }
        }
        for (kind, limit, value, what) in [
            (
                AlertKind::OpenDisputes,
                rules.open_disputes_over,
                standing.disputed,
                "wallets in dispute",
            ),
            (
                AlertKind::PendingRequests,
                rules.pending_requests_over,
                standing.pending,
                "requests awaiting authorization",
            ),
        ] {
            if let Some(limit) = limit.filter(|limit| value > *limit) {
                raise(
                    kind,
                    merchant,
                    value.to_string(),
                    limit.to_string(),
                    format!("{value} {what}, over the threshold of {limit}"),
                );
            }
        }
    }
    if let Some(limit) = rules.claim_older_than_days {
        for (merchant, (claim, age)) in overdue {
            if *age > i64::from(limit) {
                raise(
                    AlertKind::ClaimOverdue,
                    merchant,
                    age.to_string(),
                    limit.to_string(),
                    format!("claim {claim} has waited {age} days for the merchant's releases, over {limit}"),
                );
            }
        }
    }
    if rules.sales_after_closure {
        for merchant in registry
            .merchants()
            .filter(|merchant| matches!(merchant.status, MerchantStatus::Closing | MerchantStatus::Closed))
        {
            let Some(noticed) = &merchant.closure_recorded_at else {
                continue;
            };
            let sold = sales_after(&merchant.merchant, noticed)?;
            if sold > 0 {
                raise(
                    AlertKind::SalesAfterClosure,
                    &merchant.merchant,
                    sold.to_string(),
                    "0".into(),
                    format!("{sold} wallets opened after the closure notice of {noticed}"),
                );
            }
        }
    }
    alerts.sort_by(|a, b| (a.kind, &a.merchant).cmp(&(b.kind, &b.merchant)));
    Ok(alerts)
}
