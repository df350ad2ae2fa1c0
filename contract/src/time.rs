//! The rules of time, applied by `tick` (the platform's clock) and before any settlement:
//!
//! - **Membership accrual**: a membership releases its price as its term passes, day by day
//!   (cumulative, rounded down to the fen; the last day releases what is left). Refunds of
//!   time-based cards are in proportion to the remaining term (SPC draft on prepaid
//!   consumption).
//! - **Deemed confirmation**: where the policy sets `deemed_confirm_days`, a request the
//!   consumer neither authorized nor disputed within that many days is released (Zhejiang
//!   education: 7 working days; this contract counts calendar days of platform time).
//! - **Expiry**: at the end of `valid_days`, everything still frozen goes back to the
//!   consumer. "Expired means forfeited" is an invalid clause (SPC; Jinan refunds
//!   automatically at expiry), so nothing is ever forfeited.
//!
//! A dispute freezes releases: no accrual or deemed confirmation happens while a wallet is
//! disputed. Elapsed time is still counted at the final settlement, since the consumer had
//! the service.

use alloc::vec::Vec;

use crate::effects::{effect, Effect, EffectKind};
use crate::error::ContractError;
use crate::money::Amount;
use crate::policy::DAY_SECONDS;
use crate::products::Product;
use crate::state::{RequestStatus, Status, Wallet};

/// Whole days from `since` to `now`.
fn days_between(since: i64, now: i64) -> u64 {
    u64::try_from(now.saturating_sub(since) / DAY_SECONDS).unwrap_or(0)
}

/// Brings a membership's release up to the days elapsed by `now`.
pub fn accrue(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    let Product::Membership(terms) = &wallet.product else {
        return Ok(Vec::new());
    };
    let elapsed = days_between(wallet.opened_at, now).min(u64::from(terms.term_days));
    if elapsed <= wallet.consumed {
        return Ok(Vec::new());
    }
    let release = wallet.consume(elapsed - wallet.consumed)?;
    Ok(effect(EffectKind::Release, wallet.merchant, release, "accrued"))
}

/// Releases every undisputed pending request older than the deemed-confirmation period,
/// in request-id order.
fn deemed_confirmations(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    let days = u64::from(wallet.policy.deemed_confirm_days);
    if days == 0 {
        return Ok(Vec::new());
    }
    let due: Vec<(alloc::string::String, u64)> = wallet
        .requests
        .iter()
        .filter(|(_, record)| {
            record.status == RequestStatus::Pending
                && !record.disputed
                && days_between(record.requested_at, now) >= days
        })
        .map(|(id, record)| (id.clone(), record.units))
        .collect();
    let mut effects = Vec::new();
    for (id, units) in due {
        if let Some(record) = wallet.requests.get_mut(&id) {
            record.status = RequestStatus::Authorized;
        }
        let release = wallet.consume(units)?;
        effects.extend(effect(
            EffectKind::Release,
            wallet.merchant,
            release,
            "deemed_confirmed",
        ));
    }
    Ok(effects)
}

/// Whether the wallet has reached the end of its validity at `now`.
fn expired(wallet: &Wallet, now: i64) -> bool {
    wallet
        .policy
        .valid_days
        .is_some_and(|days| now >= wallet.opened_at.saturating_add(i64::from(days) * DAY_SECONDS))
}

/// `tick`: accrual and deemed confirmations (unless disputed), then expiry.
pub fn tick(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    let mut effects = Vec::new();
    if wallet.status == Status::Active {
        effects.extend(accrue(wallet, now)?);
        effects.extend(deemed_confirmations(wallet, now)?);
    }
    if wallet.status != Status::Closed && expired(wallet, now) {
        effects.extend(accrue(wallet, now)?);
        let frozen = wallet.frozen()?;
        wallet.close(Amount::ZERO, frozen)?;
        effects.extend(effect(EffectKind::Refund, wallet.consumer, frozen, "expired"));
    }
    Ok(effects)
}
