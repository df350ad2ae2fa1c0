//! What merchants owe consumers, and how the platform collects it.
//!
//! A wallet whose ending gives the consumer more than is frozen records the rest as a
//! `claim` effect (docs/CONTRACT.md, "Claims"): the merchant owes it, outside the wallet.
//! The store keeps each claim as a [`ConsumerClaim`] when its entry is journaled, and pays
//! claims out of the merchant's next releases, on any of its wallets, before the merchant
//! is paid: in the same transaction as the entry whose release pays them, the merchant's
//! open claims are paid oldest first ([`allocate`]), and the release's payment to the
//! merchant is what is left. The outbox shows each release with what it pays of which
//! claim ([`Withheld`]); the payment adapter pays those to the consumers and the rest to the
//! merchant, and `reconcile` holds the rail's payments to both against it.

use prepaid_contract::money::Amount;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::journal::{Entry, OutboxEffect};
use crate::outcome::{rfc3339, rfc3339_option, EffectRecord};
use crate::text::yuan;

/// A claim a consumer holds on a merchant, and what has been paid of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsumerClaim {
    /// The claim effect's id (`wallet:seq:index`): the claim's name.
    pub claim: String,
    /// The wallet whose ending recorded it.
    pub wallet: String,
    /// Who owes it: the wallet's merchant (hex).
    pub merchant: String,
    /// Who is owed: the wallet's consumer when it ended (hex).
    pub consumer: String,
    /// What the ending owed.
    pub amount: String,
    /// What the merchant's releases have paid of it.
    pub paid: String,
    /// What remains.
    pub remaining: String,
    /// The ending that owed it (`consumer_refund`, `merchant_closed`, `expired`, ...).
    pub reason: String,
    /// When it was recorded (platform time, seconds; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub at: i64,
    /// When it was paid in full, if it is.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub settled_at: Option<i64>,
    /// Its payments, oldest first.
    pub payments: Vec<ClaimPayment>,
}

/// A payment of a claim out of one of the merchant's releases.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ClaimPayment {
    /// The release effect whose money paid it.
    pub release: String,
    /// How much.
    pub amount: String,
    /// When the release was journaled (platform time, seconds; RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub at: i64,
}

/// What a release pays of a claim instead of the merchant, as the outbox shows it: the
/// adapter pays `amount` to `to`, and the release's amount less every such payment to the
/// merchant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Withheld {
    /// The release effect.
    #[serde(skip)]
    pub release: String,
    /// The claim it pays.
    pub claim: String,
    /// The consumer the claim is owed to (hex).
    pub to: String,
    /// How much.
    pub amount: String,
    /// Who owes the claim (hex): the release's merchant, unless the books were edited.
    #[serde(skip)]
    pub merchant: String,
}

/// An outbox effect as the payment adapter carries it out: a release that pays claims
/// pays each of `claim_payments` to its consumer and `recipient_amount` to the merchant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Payout<'a> {
    /// The effect.
    #[serde(flatten)]
    pub effect: &'a OutboxEffect,
    /// What it pays of claims instead of its recipient, if anything.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub claim_payments: Vec<&'a Withheld>,
    /// What goes to its recipient: the amount less the claim payments (given with them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient_amount: Option<String>,
}

/// What `effect` leaves its recipient once `legs` (what it pays of claims) are paid.
pub(crate) fn left_for_recipient<'a>(effect: &OutboxEffect, legs: impl Iterator<Item = &'a Withheld>) -> String {
    let withheld: u64 = legs
        .filter_map(|leg| Amount::parse(&leg.amount).ok())
        .map(|amount| amount.fen())
        .sum();
    let whole = Amount::parse(&effect.amount).map_or(0, |amount| amount.fen());
    yuan(whole.saturating_sub(withheld))
}

/// `effects` as payouts, each with what `withheld` says it pays of claims.
pub fn payouts<'a>(effects: &'a [OutboxEffect], withheld: &'a [Withheld]) -> Vec<Payout<'a>> {
    effects
        .iter()
        .map(|effect| {
            let claim_payments: Vec<&Withheld> =
                withheld.iter().filter(|leg| leg.release == effect.effect_id).collect();
            let recipient_amount =
                (!claim_payments.is_empty()).then(|| left_for_recipient(effect, claim_payments.iter().copied()));
            Payout {
                effect,
                claim_payments,
                recipient_amount,
            }
        })
        .collect()
}

/// How a release of `release` fen pays the merchant's open claims, each `(claim, fen
/// remaining)` in the order they are paid (oldest first): what it pays of each, until
/// the release or the claims run out. The release's payment to the merchant is the rest.
pub fn allocate(release: u64, open: &[(String, u64)]) -> Vec<(String, u64)> {
    let mut left = release;
    let mut paid = Vec::new();
    for (claim, remaining) in open {
        if left == 0 {
            break;
        }
        let take = left.min(*remaining);
        if take > 0 {
            paid.push((claim.clone(), take));
            left -= take;
        }
    }
    paid
}

/// A claim an entry records, as the store keeps it.
pub(crate) struct Recorded {
    /// The claim effect's id.
    pub(crate) claim: String,
    /// The consumer owed.
    pub(crate) to: String,
    /// How much, in fen.
    pub(crate) fen: u64,
    /// The ending's reason.
    pub(crate) reason: String,
}

/// A release an entry makes, which pays its merchant's open claims first.
pub(crate) struct Release {
    /// The release effect's id.
    pub(crate) release: String,
    /// The merchant (hex).
    pub(crate) to: String,
    /// How much, in fen.
    pub(crate) fen: u64,
}

/// The claims `effects` of `entry` record and the releases they make, each named by its
/// effect id.
pub(crate) fn of_entry(entry: &Entry, effects: &[EffectRecord]) -> Result<(Vec<Recorded>, Vec<Release>)> {
    let (mut recorded, mut releases) = (Vec::new(), Vec::new());
    for (index, effect) in effects.iter().enumerate() {
        let fen = Amount::parse(&effect.amount)
            .map_err(|error| Error::fault(format!("an effect's amount {:?}: {error:?}", effect.amount)))?
            .fen();
        match effect.kind.as_str() {
            "claim" => recorded.push(Recorded {
                claim: entry.effect_id(index),
                to: effect.to.clone(),
                fen,
                reason: effect.reason.clone(),
            }),
            "release" => releases.push(Release {
                release: entry.effect_id(index),
                to: effect.to.clone(),
                fen,
            }),
            _ => {}
        }
    }
    Ok((recorded, releases))
}

/// A claim as a store's row holds it, amounts in fen.
pub(crate) struct ClaimRow {
    pub(crate) claim: String,
    pub(crate) wallet: String,
    pub(crate) merchant: String,
    pub(crate) consumer: String,
    pub(crate) amount: u64,
    pub(crate) paid: u64,
    pub(crate) reason: String,
    pub(crate) at: i64,
}

/// A payment as a store's row holds it: the claim, the release, fen, time.
pub(crate) type PaymentRow = (String, String, u64, i64);

/// The claims of `rows`, in their order, each with its payments from `payments`.
pub(crate) fn assemble(rows: Vec<ClaimRow>, payments: Vec<PaymentRow>) -> Vec<ConsumerClaim> {
    let mut by_claim: std::collections::HashMap<String, Vec<ClaimPayment>> = std::collections::HashMap::new();
    let mut payments = payments;
    payments.sort_by(|a, b| (a.3, &a.1).cmp(&(b.3, &b.1)));
    for (claim, release, fen, at) in payments {
        by_claim.entry(claim).or_default().push(ClaimPayment {
            release,
            amount: yuan(fen),
            at,
        });
    }
    rows.into_iter()
        .map(|row| {
            let payments = by_claim.remove(&row.claim).unwrap_or_default();
            let remaining = row.amount.saturating_sub(row.paid);
            ConsumerClaim {
                settled_at: (remaining == 0).then(|| payments.last().map_or(row.at, |payment| payment.at)),
                amount: yuan(row.amount),
                paid: yuan(row.paid),
                remaining: yuan(remaining),
                claim: row.claim,
                wallet: row.wallet,
                merchant: row.merchant,
                consumer: row.consumer,
                reason: row.reason,
                at: row.at,
                payments,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::allocate;

    #[test]
    fn a_release_pays_the_oldest_claims_first_and_the_merchant_only_what_is_left() {
        let open = [("a".to_string(), 100), ("b".to_string(), 50), ("c".to_string(), 70)];
        assert_eq!(allocate(120, &open), [("a".to_string(), 100), ("b".to_string(), 20)]);
        assert_eq!(
            allocate(500, &open),
            [("a".to_string(), 100), ("b".to_string(), 50), ("c".to_string(), 70)]
        );
        assert!(allocate(0, &open).is_empty());
        assert!(allocate(10, &[]).is_empty());
    }
}
