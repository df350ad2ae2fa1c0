//! The rules of time, applied by `tick` (the platform's clock) and before any settlement:
//!
//! - **Membership accrual**: a membership releases its price as its term passes, day by day
//!   (cumulative, rounded down to the fen; the last day releases what is left). Refunds of
//!   time-based cards are in proportion to the remaining term (SPC draft on prepaid
//!   consumption).
//! - **Deemed confirmation**: where the policy sets `deemed_confirm_days`, a request the
//!   consumer neither authorized nor disputed within that many days is released: calendar
//!   days of platform time, or, where the policy says so, working days (Zhejiang
//!   education: 7 working days) in China Standard Time, against the holiday calendar the
//!   platform's tick carries and the journal records. A request's working-day deadline is
//!   counted once, by the first tick after the earliest it could fall.
//! - **The part outside supervision**: where the policy supervises only a share of the
//!   price, the rest goes to the merchant when the cooling-off period ends (Nantong: inside
//!   it, everything unconsumed comes back); the supervised share is then released in
//!   proportion to consumption. Not once the wallet has expired.
//! - **Expiry**: at the end of `valid_days`, everything still frozen goes back to the
//!   consumer, and what the merchant holds of the part outside supervision beyond
//!   consumption is owed to them (a claim). "Expired means forfeited" is an invalid clause
//!   (SPC; Jinan refunds automatically at expiry), so nothing is ever forfeited.
//!
//! A dispute of the whole wallet freezes releases: no accrual or deemed confirmation
//! happens while it is open, and a disputed request is never deemed confirmed. A ruling
//! not made in time is made by default ([`crate::disputes`]). Neither happens while a re-key of the consumer's key waits to take effect:
//! then only the old key's authorization releases anything. Elapsed time is still counted
//! at the final settlement, since the consumer had the service.
//!
//! [`next_due`] says when a `tick` would next change anything, so the platform ticks a
//! wallet when it is due rather than on a schedule of its own.

use alloc::vec::Vec;

use crate::claims::{entitled, owe};
use crate::effects::{effect, Effect, EffectKind};
use crate::error::ContractError;
use crate::event::Calendar;
use crate::money::Amount;
use crate::policy::DAY_SECONDS;
use crate::products::Product;
use crate::state::{RequestRecord, Status, Wallet, REFUND_HOLD_DAYS};
use crate::valuation::unsupervised_part;

/// Whole days from `since` to `now`.
fn days_between(since: i64, now: i64) -> u64 {
    u64::try_from(now.saturating_sub(since) / DAY_SECONDS).unwrap_or(0)
}

/// The latest time whose releases count at `now`: the wallet's expiry, if it is past.
/// A tick that comes late (or a settlement after expiry) releases what was due by expiry,
/// and nothing after it.
fn horizon(wallet: &Wallet, now: i64) -> i64 {
    expires_at(wallet).map_or(now, |at| now.min(at))
}

/// Releases the part of the price outside supervision once the cooling-off period is over
/// by `now` (see [`crate::valuation::merchant_entitlement`]).
fn release_unsupervised(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    // Not once the wallet has expired: expiry would only owe it back.
    if wallet.share_released
        || expired(wallet, now)
        || wallet.status == Status::Closed
        || unsupervised_part(&wallet.product, &wallet.policy).is_zero()
        || wallet.policy.in_cooling_off(wallet.opened_at, now)
    {
        return Ok(Vec::new());
    }
    let release = wallet.release_unsupervised()?;
    Ok(effect(
        EffectKind::Release,
        wallet.merchant,
        release,
        "unsupervised_share",
    ))
}

/// Brings the time-based releases up to `now` (or to expiry, if past): the part of the
/// price outside supervision once the cooling-off period is over, then a membership's
/// days. Nothing before the price has reached the wallet.
pub fn accrue(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    if wallet.awaiting_funding {
        return Ok(Vec::new());
    }
    let mut effects = release_unsupervised(wallet, horizon(wallet, now))?;
    effects.extend(accrue_days(wallet, now)?);
    Ok(effects)
}

/// Brings a membership's release up to the days elapsed by `now` (or by expiry, if past).
pub fn accrue_days(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    // No time has run on a wallet the money has not reached: nothing is owed for it.
    if wallet.awaiting_funding {
        return Ok(Vec::new());
    }
    let now = horizon(wallet, now);
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

/// The offset of China Standard Time from UTC: working days are its days.
const CST: i64 = 8 * 3600;

/// The day of `at`, as days since 1970-01-01, in China Standard Time.
fn cst_day(at: i64) -> i64 {
    at.saturating_add(CST).div_euclid(DAY_SECONDS)
}

/// Whether `day` is worked: a weekday not a holiday, or a weekend day made a working day.
/// The calendar's lists are sorted.
fn is_working(day: i64, calendar: &Calendar) -> bool {
    // 1970-01-01 was a Thursday: day 0 is weekday 3, counting Monday as 0.
    match day.saturating_add(3).rem_euclid(7) >= 5 {
        true => calendar.workdays.binary_search(&day).is_ok(),
        false => calendar.holidays.binary_search(&day).is_err(),
    }
}

/// The end (midnight, China Standard Time) of the `days`th working day after the day of
/// `requested_at`. The count ends: past the calendar's last holiday every weekday works.
fn working_deadline(requested_at: i64, days: u32, calendar: &Calendar) -> i64 {
    let mut day = cst_day(requested_at);
    let mut left = days;
    while left > 0 {
        day = day.saturating_add(1);
        if is_working(day, calendar) {
            left -= 1;
        }
    }
    day.saturating_add(1).saturating_mul(DAY_SECONDS).saturating_sub(CST)
}

/// When the pending request `record` is deemed confirmed, if the policy deems requests
/// confirmed at all. Counted in working days, it is the deadline a tick computed with the
/// calendar; before one has, the earliest it could be (that many calendar days), when a
/// tick computes it.
pub fn deemed_at(wallet: &Wallet, record: &RequestRecord) -> Option<i64> {
    match wallet.policy.deemed_confirm_days {
        0 => None,
        days => Some(
            record
                .deemed_at
                .unwrap_or_else(|| record.requested_at.saturating_add(i64::from(days) * DAY_SECONDS)),
        ),
    }
}

/// Counts the working days of every pending request whose earliest deadline has come, with
/// the tick's `calendar` (none: weekends off only), once.
fn count_working_days(wallet: &mut Wallet, now: i64, calendar: Option<&Calendar>) {
    if !wallet.policy.deemed_confirm_working_days {
        return;
    }
    let days = wallet.policy.deemed_confirm_days;
    // Sorted once here, so that each day is looked up by bisection: a tick's calendar is
    // the platform's, and however long, it costs a request a logarithm per day counted.
    let mut calendar = calendar.cloned().unwrap_or_default();
    calendar.holidays.sort_unstable();
    calendar.workdays.sort_unstable();
    let calendar = &calendar;
    for record in wallet.requests.iter_mut().filter(|record| record.deemed_at.is_none()) {
        if now >= record.requested_at.saturating_add(i64::from(days) * DAY_SECONDS) {
            record.deemed_at = Some(working_deadline(record.requested_at, days, calendar));
        }
    }
}

/// Releases every undisputed pending request older than the deemed-confirmation period
/// (by expiry, if past), oldest first.
fn deemed_confirmations(wallet: &mut Wallet, now: i64) -> Result<Vec<Effect>, ContractError> {
    let now = horizon(wallet, now);
    let due: Vec<alloc::string::String> = wallet
        .requests
        .iter()
        .filter(|record| record.dispute.is_none() && deemed_at(wallet, record).is_some_and(|at| now >= at))
        .map(|record| record.id.clone())
        .collect();
    let mut effects = Vec::new();
    for id in due {
        let release = wallet.settle(&id)?;
        effects.extend(effect(
            EffectKind::Release,
            wallet.merchant,
            release,
            "deemed_confirmed",
        ));
    }
    Ok(effects)
}

/// When the wallet's validity ends, if it does.
pub fn expires_at(wallet: &Wallet) -> Option<i64> {
    wallet
        .policy
        .valid_days
        .map(|days| wallet.opened_at.saturating_add(i64::from(days) * DAY_SECONDS))
}

/// Whether time-driven releases run: not while disputed, while a re-key waits, or before
/// the price has reached the wallet.
pub(crate) fn releasing(wallet: &Wallet) -> bool {
    wallet.status == Status::Active && wallet.rekey.is_none() && !wallet.awaiting_funding
}

/// The earliest platform time at which a `tick` would change the wallet: the next day of
/// a membership, a request's deemed confirmation, a re-key taking effect, expiry. None
/// when nothing will happen by time alone (a closed wallet, or no such rule).
pub fn next_due(wallet: &Wallet) -> Option<i64> {
    if wallet.status == Status::Closed {
        return None;
    }
    let mut due = alloc::vec![
        expires_at(wallet),
        wallet.rekey.as_ref().map(|rekey| rekey.effective_at),
        refund_hold_ends(wallet),
        crate::disputes::next_ruling_due(wallet),
    ];
    if releasing(wallet) {
        if !wallet.share_released && !unsupervised_part(&wallet.product, &wallet.policy).is_zero() {
            let days = i64::from(wallet.policy.cooling_off_days);
            due.push(Some(wallet.opened_at.saturating_add(days.saturating_mul(DAY_SECONDS))));
        }
        if let Product::Membership(terms) = &wallet.product {
            if wallet.consumed < u64::from(terms.term_days) {
                let days = i64::try_from(wallet.consumed + 1).unwrap_or(i64::MAX);
                due.push(Some(wallet.opened_at.saturating_add(days.saturating_mul(DAY_SECONDS))));
            }
        }
        due.extend(
            wallet
                .requests
                .iter()
                .filter(|record| record.dispute.is_none())
                .map(|record| deemed_at(wallet, record)),
        );
    }
    due.into_iter().flatten().min()
}

/// When the money a refund left to the regulator goes back to the consumer, if a refund
/// left any.
pub fn refund_hold_ends(wallet: &Wallet) -> Option<i64> {
    let hold = REFUND_HOLD_DAYS.saturating_mul(DAY_SECONDS);
    wallet.refunded_at.map(|at| at.saturating_add(hold))
}

/// Whether the wallet has reached the end of its validity at `now`.
pub fn expired(wallet: &Wallet, now: i64) -> bool {
    expires_at(wallet).is_some_and(|at| now >= at)
}

/// `tick`: accrual and deemed confirmations (unless disputed or a re-key waits), then
/// expiry. `calendar` is the platform's, for working days.
pub fn tick(wallet: &mut Wallet, now: i64, calendar: Option<&Calendar>) -> Result<Vec<Effect>, ContractError> {
    // Rulings overdue are made first, moving nothing: a dispute of the whole wallet lifted
    // lets the rest run, from now for the requests it held.
    crate::disputes::overdue(wallet, horizon(wallet, now));
    let mut effects = Vec::new();
    if releasing(wallet) {
        count_working_days(wallet, horizon(wallet, now), calendar);
        effects.extend(accrue(wallet, now)?);
        effects.extend(deemed_confirmations(wallet, now)?);
    }
    if wallet.status != Status::Closed && refund_hold_ends(wallet).is_some_and(|at| now >= at) {
        effects.extend(return_everything_frozen(wallet, now, "refund_hold_ended")?);
    }
    if wallet.status != Status::Closed && expired(wallet, now) {
        effects.extend(return_everything_frozen(wallet, now, "expired")?);
    }
    Ok(effects)
}

/// Ends the wallet with everything still frozen going back to the consumer: merchant
/// fault, a ruling for the consumer, expiry, the end of a refund's hold. A membership's
/// days are brought up to date first; consumption is valued at the paid rate (at the list
/// price for a wallet the consumer refunded after the cooling-off period, its held
/// requests now settled). The part outside supervision, if it has not gone to the
/// merchant, stays frozen and goes back; what the terms give beyond what is frozen is
/// owed (a claim, [`crate::claims`]).
pub fn return_everything_frozen(
    wallet: &mut Wallet,
    now: i64,
    reason: &'static str,
) -> Result<Vec<Effect>, ContractError> {
    let mut effects = accrue_days(wallet, now)?;
    let entitled = entitled(wallet, wallet.refunded_at);
    let frozen = wallet.frozen()?;
    wallet.close(Amount::ZERO, frozen)?;
    effects.extend(effect(EffectKind::Refund, wallet.consumer, frozen, reason));
    effects.extend(owe(wallet, entitled, Amount::ZERO, reason)?);
    Ok(effects)
}
