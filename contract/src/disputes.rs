//! Disputes: a party contests pending requests, or the whole wallet, with a reason and the
//! evidence's hash; the regulator rules request by request, or on the wallet; and a ruling
//! not made in time is made by default.
//!
//! - **Who disputes what.** The consumer and the regulator: any pending requests, or the
//!   whole wallet. The merchant: only its own requests the consumer has neither authorized
//!   nor disputed within the policy's answer days (reason `unanswered`), since otherwise a
//!   request without deemed confirmation could wait for ever. The consumer answers a
//!   merchant's dispute by authorizing the request or by disputing it themselves (the
//!   dispute becomes theirs).
//! - **What a dispute stops.** A disputed request is never deemed confirmed; everything
//!   else in the wallet goes on. A dispute of the whole wallet freezes every release, as a
//!   refund's hold does.
//! - **Rulings on requests** (`resolve` naming them, with a reason): `release` pays the
//!   request as if the consumer had authorized it; `refund` says its service is not owed:
//!   it leaves unpaid, and what it asked stays the consumer's, frozen, to consume or take
//!   back; `split` (one request) gives the merchant part of its worth and the rest back to
//!   the consumer; `continue` lifts the dispute and the request is payable again, as if
//!   made now. A request's worth is its units at the paid rate, as if the part outside
//!   supervision had stayed frozen: a split gives the merchant at least what it already
//!   holds of it (that part), so no ruling on a request leaves a claim.
//! - **Defaults**, once the policy's ruling days have passed with no ruling, move no money:
//!   a request the consumer or the regulator disputed lapses as under `refund`; one the
//!   merchant disputed waits for the consumer again, as if made then (released only by the
//!   consumer, or by deemed confirmation where the terms have it); a dispute of the whole
//!   wallet is lifted, and the requests it held count as made then (the consumer can still
//!   refund at any time). A refund's hold ends after [`crate::state::REFUND_HOLD_DAYS`] as
//!   before: what it holds goes back.

use alloc::vec::Vec;

use crate::claims;
use crate::effects::{effect, Effect, EffectKind};
use crate::error::{reject, ContractError, ErrorCode};
use crate::event::{Dispute, Resolution, Resolve};
use crate::money::Amount;
use crate::state::{DisputeReason, DisputeRecord, Party, RequestRecord, Status, Wallet};
use crate::time;

/// Rejects a list of requests that is empty or names one twice.
fn distinct(ids: &[alloc::string::String], code: ErrorCode) -> Result<(), ContractError> {
    let twice = ids.iter().enumerate().any(|(at, id)| ids[..at].contains(id));
    match ids.is_empty() || twice {
        true => reject(code, "name each request once, and at least one"),
        false => Ok(()),
    }
}

/// `dispute`, signed by `by`: records the dispute on the requests it names, or on the
/// whole wallet, freezing its releases.
pub fn open(wallet: &mut Wallet, dispute: &Dispute, by: Party, now: i64) -> Result<(), ContractError> {
    if !dispute.reason.may_be_given() {
        return reject(
            ErrorCode::BadDispute,
            "`refunded` and `unrecorded` are the contract's own reasons; say why the request or wallet is contested",
        );
    }
    if (by == Party::Merchant) != (dispute.reason == DisputeReason::Unanswered) {
        return reject(
            ErrorCode::BadDispute,
            "`unanswered` is the merchant's reason, and the merchant's only: it disputes its own requests the consumer left unanswered",
        );
    }
    if wallet.refunded_at.is_some() || (wallet.status == Status::Disputed && dispute.requests.is_none()) {
        return reject(
            ErrorCode::AlreadyDisputed,
            "this wallet is already in dispute, or its refund's hold waits for the regulator; wait for the regulator",
        );
    }
    let record = DisputeRecord {
        by,
        reason: dispute.reason,
        evidence: Some(dispute.evidence),
        opened_at: now,
    };
    let Some(ids) = &dispute.requests else {
        if by == Party::Merchant {
            return reject(
                ErrorCode::BadDispute,
                "a merchant disputes its own requests, by name, never the whole wallet",
            );
        }
        wallet.dispute = Some(record);
        wallet.status = Status::Disputed;
        return Ok(());
    };
    distinct(ids, ErrorCode::BadDispute)?;
    for id in ids {
        let requested_at = wallet.request_mut(id)?.requested_at;
        let answer_ends = wallet.policy.answer_ends(requested_at);
        let request = wallet.request_mut(id)?;
        match (&request.dispute, by) {
            (None, Party::Merchant) if now < answer_ends => {
                return reject(
                    ErrorCode::BadDispute,
                    alloc::format!(
                        "the consumer has until {answer_ends} to authorize or dispute request \"{id}\"; dispute it after that"
                    ),
                )
            }
            (Some(_), Party::Merchant) => {
                return reject(
                    ErrorCode::AlreadyDisputed,
                    alloc::format!("request \"{id}\" is already in dispute"),
                )
            }
            (Some(held), _) if held.by != Party::Merchant => {
                return reject(
                    ErrorCode::AlreadyDisputed,
                    alloc::format!("request \"{id}\" is already in dispute"),
                )
            }
            _ => request.dispute = Some(record.clone()),
        }
    }
    Ok(())
}

/// `resolve`: the regulator's ruling, on the requests it names or on the whole wallet.
pub fn resolve(wallet: &mut Wallet, resolve: &Resolve, now: i64) -> Result<Vec<Effect>, ContractError> {
    match &resolve.requests {
        Some(ids) => rule_on_requests(wallet, resolve, ids, now),
        None => rule_on_wallet(wallet, resolve, now),
    }
}

/// Whether `reason` is a ruling's reason code: snake_case, 1 to 64 bytes.
fn is_reason_code(reason: &str) -> bool {
    (1..=64).contains(&reason.len())
        && reason
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_')
}

/// A ruling on the disputed requests `ids`, each in turn.
fn rule_on_requests(
    wallet: &mut Wallet,
    resolve: &Resolve,
    ids: &[alloc::string::String],
    now: i64,
) -> Result<Vec<Effect>, ContractError> {
    if !resolve.reason.as_deref().is_some_and(is_reason_code) {
        return reject(
            ErrorCode::BadResolution,
            "a ruling on requests gives its `reason`: a snake_case code of 1 to 64 bytes",
        );
    }
    if wallet.refunded_at.is_some() {
        return reject(
            ErrorCode::BadResolution,
            "the consumer has refunded: the requests the refund holds are ruled on together, with `split` or `refund` and no `requests`",
        );
    }
    distinct(ids, ErrorCode::BadResolution)?;
    let award = match (resolve.outcome, resolve.release) {
        (Resolution::Split, Some(_)) if ids.len() > 1 => {
            return reject(ErrorCode::BadResolution, "a split rules on one request")
        }
        (Resolution::Split, None) => {
            return reject(
                ErrorCode::BadResolution,
                "a split names what goes to the merchant as `release`; the rest goes back",
            )
        }
        (Resolution::Split, Some(release)) => Some(release),
        (_, Some(_)) => {
            return reject(
                ErrorCode::BadResolution,
                "only a split names a `release`; the other rulings move what the rules say",
            )
        }
        (_, None) => None,
    };
    for id in ids {
        if wallet.request_mut(id)?.dispute.is_none() {
            return reject(
                ErrorCode::NotDisputed,
                alloc::format!("request \"{id}\" is not in dispute; the consumer authorizes it, or disputes it first"),
            );
        }
    }
    let mut effects = Vec::new();
    for id in ids {
        match (resolve.outcome, award) {
            (Resolution::Continue, _) => {
                let request = wallet.request_mut(id)?;
                request.dispute = None;
                restart(request, now);
            }
            (Resolution::Refund, _) => lapse(wallet, id),
            (Resolution::Release, _) => effects.extend(release(wallet, id, "ruled_release")?),
            (Resolution::Split, award) => {
                let award = award.expect("a split names its release, checked above");
                effects.extend(split(wallet, id, award, "ruled_split")?)
            }
        }
    }
    Ok(effects)
}

/// A request ruled not owed: it leaves unpaid, and its units stay the consumer's.
fn lapse(wallet: &mut Wallet, id: &str) {
    wallet.requests.retain(|record| record.id != id);
}

/// A request ruled owed: paid as if the consumer had authorized it.
fn release(wallet: &mut Wallet, id: &str, reason: &'static str) -> Result<Vec<Effect>, ContractError> {
    let release = wallet.settle(id)?;
    Ok(effect(EffectKind::Release, wallet.merchant, release, reason))
}

/// A request ruled owed in part: its units are consumed, `award` of its worth goes to the
/// merchant, counting what it already holds of it outside supervision, and the rest of
/// what the wallet would release goes back to the consumer.
fn split(wallet: &mut Wallet, id: &str, award: Amount, reason: &'static str) -> Result<Vec<Effect>, ContractError> {
    let units = wallet.request_mut(id)?.units;
    let worth = wallet.entitlement_added(wallet.consumed, units, false);
    let held = worth
        .checked_sub(wallet.entitlement_added(wallet.consumed, units, wallet.share_released))
        .unwrap_or(Amount::ZERO);
    if award < held || award > worth {
        return reject(
            ErrorCode::BadResolution,
            alloc::format!(
                "a split of request \"{id}\" gives the merchant from {held} (what it already holds of it, outside supervision) to {worth} (its worth), not {award}"
            ),
        );
    }
    let frozen_part = wallet.settle(id)?;
    let paid = award.checked_sub(held).expect("the award is at least what is held");
    let back = frozen_part.checked_sub(paid).unwrap_or(Amount::ZERO);
    wallet.give_back(back, units)?;
    let mut effects = effect(EffectKind::Release, wallet.merchant, paid, reason);
    effects.extend(effect(EffectKind::Refund, wallet.consumer, back, reason));
    Ok(effects)
}

/// A ruling on the whole wallet: of its dispute, or of the requests a refund holds.
fn rule_on_wallet(wallet: &mut Wallet, resolve: &Resolve, now: i64) -> Result<Vec<Effect>, ContractError> {
    if wallet.status != Status::Disputed {
        return reject(
            ErrorCode::NotDisputed,
            "there is no dispute of the whole wallet to resolve; name the disputed `requests`",
        );
    }
    if resolve.reason.as_deref().is_some_and(|reason| !is_reason_code(reason)) {
        return reject(
            ErrorCode::BadResolution,
            "a ruling's `reason` is a snake_case code of 1 to 64 bytes",
        );
    }
    match (resolve.outcome, resolve.release) {
        (Resolution::Continue, None) if wallet.refunded_at.is_some() => reject(
            ErrorCode::BadResolution,
            "the consumer has refunded; settle the requests left pending with `split` or `refund`",
        ),
        (Resolution::Continue, None) => {
            wallet.status = Status::Active;
            wallet.dispute = None;
            Ok(Vec::new())
        }
        (Resolution::Release, _) => reject(
            ErrorCode::BadResolution,
            "`release` rules on requests: name them as `requests`",
        ),
        (Resolution::Refund, None) => time::return_everything_frozen(wallet, now, "dispute_refund"),
        (Resolution::Split, Some(value)) => {
            // Days of a membership run on in a dispute, as they do at a refund; nothing else
            // is released before the regulator's figure.
            let mut effects = time::accrue_days(wallet, now)?;
            let frozen = wallet.frozen()?;
            // The regulator's figure is what the requests in dispute are worth to the
            // merchant: paid out of what is frozen first, the rest out of what the merchant
            // would owe (it holds the part outside supervision).
            let entitled = claims::entitled(wallet, wallet.refunded_at);
            let beyond =
                claims::owing(wallet, entitled, Amount::ZERO).min(claims::in_dispute(wallet, wallet.refunded_at));
            let most = frozen.max(beyond);
            if value > most {
                return reject(
                    ErrorCode::BadResolution,
                    alloc::format!(
                        "a split may give the merchant at most {most}: what is frozen, or what the requests in dispute are worth and the merchant would owe, not {value}"
                    ),
                );
            }
            let release = value.min(frozen);
            let refund = frozen
                .checked_sub(release)
                .expect("the release is at most what is frozen");
            wallet.close(release, refund)?;
            effects.extend(effect(EffectKind::Release, wallet.merchant, release, "dispute_split"));
            effects.extend(effect(EffectKind::Refund, wallet.consumer, refund, "dispute_split"));
            effects.extend(claims::owe(wallet, entitled, value, "dispute_split")?);
            Ok(effects)
        }
        (Resolution::Split, None) => reject(
            ErrorCode::BadResolution,
            "a split names what goes to the merchant as `release`; the rest is refunded",
        ),
        (_, Some(_)) => reject(
            ErrorCode::BadResolution,
            "only a split names a `release`; `continue` and `refund` move what the rules say",
        ),
    }
}

/// When the regulator's ruling on `record` is due.
pub fn ruling_due(wallet: &Wallet, record: &DisputeRecord) -> i64 {
    wallet.policy.ruling_due(record.opened_at)
}

/// The rulings due by `now` and not made, made by default, none of which moves money: the
/// dispute of the whole wallet lifted, its pending requests then counted as made now (a
/// request the freeze held is not released by the same tick that lifts it); then (while
/// releases may run) each disputed request lapsed if the consumer or the regulator
/// disputed it, or back to waiting for the consumer, as if made now, if its merchant did:
/// the regulator's silence never pays a request the terms would not.
pub fn overdue(wallet: &mut Wallet, now: i64) {
    if wallet.refunded_at.is_none()
        && wallet
            .dispute
            .as_ref()
            .is_some_and(|record| now >= ruling_due(wallet, record))
    {
        wallet.dispute = None;
        wallet.status = Status::Active;
        for request in wallet.requests.iter_mut().filter(|request| request.dispute.is_none()) {
            restart(request, now);
        }
    }
    if !time::releasing(wallet) {
        return;
    }
    let due: Vec<(alloc::string::String, Party)> = wallet
        .requests
        .iter()
        .filter_map(|record| {
            let dispute = record.dispute.as_ref()?;
            (now >= ruling_due(wallet, dispute)).then(|| (record.id.clone(), dispute.by))
        })
        .collect();
    for (id, by) in due {
        match by {
            Party::Merchant => {
                if let Ok(request) = wallet.request_mut(&id) {
                    request.dispute = None;
                    restart(request, now);
                }
            }
            Party::Consumer | Party::Regulator => lapse(wallet, &id),
        }
    }
}

/// A request counted as made at `now`: its deemed confirmation and its answer days run
/// from then.
fn restart(request: &mut RequestRecord, now: i64) {
    request.requested_at = now;
    request.deemed_at = None;
}

/// The earliest ruling due in the wallet, for [`time::next_due`]: of the whole wallet's
/// dispute, and (while releases run) of its disputed requests.
pub fn next_ruling_due(wallet: &Wallet) -> Option<i64> {
    let of_wallet = wallet
        .dispute
        .as_ref()
        .filter(|_| wallet.refunded_at.is_none())
        .map(|record| ruling_due(wallet, record));
    let of_requests = wallet
        .requests
        .iter()
        .filter(|_| time::releasing(wallet))
        .filter_map(|record| record.dispute.as_ref().map(|dispute| ruling_due(wallet, dispute)))
        .min();
    [of_wallet, of_requests].into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::products::{Product, StoredValue};
    use crate::refunds::consumer_refund;
    use crate::state::RequestRecord;
    use crate::test_support::{sessions_wallet, DAY};

    fn amount(text: &str) -> Amount {
        Amount::parse(text).unwrap()
    }

    /// A card of 1,200.00 face value sold for 1,000.00, with 600.00 of it asked for and
    /// disputed by the consumer.
    fn card_with_a_disputed_request() -> Wallet {
        let mut wallet = sessions_wallet(10, "1000.00", "120.00");
        wallet.product = Product::StoredValue(StoredValue {
            price: amount("1000.00"),
            face_value: amount("1200.00"),
        });
        wallet.requests.push(RequestRecord {
            id: "r1".into(),
            units: 60_000,
            stage: None,
            requested_at: DAY,
            dispute: Some(DisputeRecord {
                by: Party::Consumer,
                reason: DisputeReason::NotDelivered,
                evidence: None,
                opened_at: DAY,
            }),
            deemed_at: None,
        });
        wallet
    }

    fn split_of(release: &str) -> Resolve {
        Resolve {
            outcome: Resolution::Split,
            requests: Some(alloc::vec!["r1".into()]),
            reason: Some("partly_delivered".into()),
            release: Some(amount(release)),
        }
    }

    /// What a split gives back stays the consumer's at a later refund after the cooling-off
    /// period: the list price does not value the units the regulator valued, so a request
    /// ruled worth nothing costs the consumer nothing, and one ruled worth 250.00 costs
    /// them 250.00.
    #[test]
    fn a_refund_after_a_split_does_not_charge_the_list_price_on_the_split_units() {
        for (award, back) in [("0.00", "1000.00"), ("250.00", "750.00")] {
            let mut wallet = card_with_a_disputed_request();
            resolve(&mut wallet, &split_of(award), 2 * DAY).unwrap();
            let frozen = wallet.frozen().unwrap();
            let settlement = consumer_refund(&wallet, frozen, 30 * DAY);
            let received = wallet.refunded.checked_add(settlement.refund).unwrap();
            assert_eq!(received, amount(back), "award {award}");
            assert_eq!(settlement.release, Amount::ZERO, "award {award}");
            // What the terms give is all of it: nothing more is owed.
            wallet.pay_out(settlement.release, settlement.refund).unwrap();
            let entitled = crate::claims::entitled(&wallet, Some(30 * DAY));
            assert_eq!(crate::claims::owing(&wallet, entitled, Amount::ZERO), Amount::ZERO);
        }
    }

    /// A split gives the merchant at most the request's worth.
    #[test]
    fn a_split_gives_at_most_the_requests_worth() {
        let mut wallet = card_with_a_disputed_request();
        let error = resolve(&mut wallet, &split_of("500.01"), 2 * DAY).unwrap_err();
        assert_eq!(error.code, ErrorCode::BadResolution);
    }

    /// The regulator's silence moves no money: the consumer's disputed request lapses,
    /// the merchant's goes back to waiting as if made then, and a dispute of the whole
    /// wallet is lifted with the requests it held counted from then.
    #[test]
    fn a_default_ruling_moves_no_money() {
        let due = |wallet: &Wallet| wallet.policy.ruling_due(DAY);
        let mut consumers = card_with_a_disputed_request();
        let now = due(&consumers);
        overdue(&mut consumers, now);
        assert!(consumers.requests.is_empty());
        assert_eq!(consumers.released, Amount::ZERO);

        let mut merchants = card_with_a_disputed_request();
        merchants.requests[0].dispute.as_mut().unwrap().by = Party::Merchant;
        let now = due(&merchants);
        overdue(&mut merchants, now);
        assert_eq!(merchants.requests[0].dispute, None);
        assert_eq!(merchants.requests[0].requested_at, now);
        assert_eq!(merchants.released, Amount::ZERO);

        let mut frozen = card_with_a_disputed_request();
        frozen.requests[0].dispute = None;
        frozen.status = Status::Disputed;
        frozen.dispute = Some(DisputeRecord {
            by: Party::Consumer,
            reason: DisputeReason::MerchantGone,
            evidence: None,
            opened_at: DAY,
        });
        let now = due(&frozen);
        overdue(&mut frozen, now);
        assert_eq!((frozen.status, frozen.dispute.as_ref()), (Status::Active, None));
        assert_eq!(frozen.requests[0].requested_at, now);
    }
}
