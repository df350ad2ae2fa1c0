//! Reconciliation: a payment rail's statement held against the journal and the outbox.
//!
//! The statement is JSON lines, one movement a line, as the rail reports it:
//!
//! ```text
//! {"kind": "funding", "wallet": "w1", "reference": "RAIL-0001", "amount": "2400.00"}
//! {"kind": "release", "effect_id": "w1:3:0", "to": "<merchant key>", "amount": "480.00", "reference": "RAIL-0002"}
//! {"kind": "refund", "effect_id": "w1:5:0", "to": "<consumer key>", "amount": "1920.00", "reference": "RAIL-0003"}
//! {"kind": "claim_payment", "effect_id": "w2:3:0", "claim": "w1:5:1", "to": "<consumer key>", "amount": "240.00", "reference": "RAIL-0004"}
//! ```
//!
//! A release that pays a claim (docs/CONTRACT.md, "Claims") is paid in parts: each claim it
//! pays, to the claim's consumer, as a `claim_payment` line naming the release and the claim,
//! and what is left to the merchant as its `release` line (none when nothing is left). Every
//! part carries the reference the release was acknowledged under.
//!
//! A funding is the consumer's payment into a wallet, which the journal records as the
//! accepted `funded` carrying the same reference; its amount is the wallet's price (for a
//! wallet opened awaiting funding) or the top-up's. A
//! release or refund is a payment the rail made for an effect, named by the effect's id,
//! which the platform gives the rail as its idempotency key, and its reference is the one
//! the payment adapter gave when it acknowledged the effect. Every difference is named:
//! money the rail moved that the journal does not show, money the journal says moved that
//! the rail does not, an acknowledgement with no payment behind it, or the reverse, and an
//! acknowledgement recording another payment's reference. (Acknowledgements made before
//! they carried references, or without one, are held to the payment by effect id alone.)
//!
//! And every wallet is held whole: what its journal counts paid must have come in by the
//! fundings it journals (an `open` that said it was paid, or an edited state, is named),
//! and what its effects pay out, to its merchant, to claims and back to its consumer, must
//! not exceed what the rail's statement says came into it: money out with no money in is
//! named, whichever key or hand put it there.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use prepaid_contract::money::Amount;
use prepaid_contract::Event;
use serde::{Deserialize, Serialize};

use crate::claims::{left_for_recipient, Withheld};
use crate::envelope::Envelope;
use crate::error::Result;
use crate::outcome::Verdict;
use crate::store::{OutboxEffect, Store};
use crate::text::{fen, yuan};

/// One line of a rail statement.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StatementLine {
    /// The consumer's payment reached a wallet.
    Funding {
        /// The wallet.
        wallet: String,
        /// The rail's reference.
        reference: String,
        /// The amount.
        amount: String,
    },
    /// A payment to the merchant, for an effect.
    Release {
        /// The effect's id (`wallet:seq:index`).
        effect_id: String,
        /// The recipient's key.
        to: String,
        /// The amount.
        amount: String,
        /// The rail's reference.
        reference: String,
    },
    /// A payment of a claim out of a merchant's release, to the consumer the claim is owed.
    ClaimPayment {
        /// The release effect's id.
        effect_id: String,
        /// The claim's id.
        claim: String,
        /// The consumer's key.
        to: String,
        /// The amount.
        amount: String,
        /// The rail's reference.
        reference: String,
    },
    /// A payment back to the consumer, for an effect.
    Refund {
        /// The effect's id.
        effect_id: String,
        /// The recipient's key.
        to: String,
        /// The amount.
        amount: String,
        /// The rail's reference.
        reference: String,
    },
}

/// What kind of difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The rail took a payment into a wallet that the journal does not show funded under
    /// that reference.
    FundingNotJournaled,
    /// The journal shows a wallet funded that the rail's statement does not.
    FundingNotOnRail,
    /// The rail moved another amount than the journal says.
    AmountDiffers,
    /// The rail paid for an effect the outbox does not hold.
    PaymentNotInOutbox,
    /// The rail's payment is of another kind or to another recipient than the effect.
    PaymentDiffers,
    /// The rail paid one effect, or funded one wallet, more than once.
    PaidTwice,
    /// The outbox marks an effect acknowledged that the rail did not pay.
    AcknowledgedNotPaid,
    /// The rail paid an effect that the outbox has not been told of (not acknowledged).
    PaidNotAcknowledged,
    /// The rail paid an effect under another reference than its acknowledgement records,
    /// or two acknowledgements record one reference: an acknowledgement was of another
    /// payment, or one side is wrong.
    ReferenceDiffers,
    /// A wallet's journal counts more paid into it than the fundings it journals: money
    /// said to be in that no rail reported (an `open` that said it was paid, or a state
    /// edited).
    PaidNotFunded,
    /// A wallet's effects pay out (to its merchant, to claims, back to its consumer) more
    /// than the rail's statement says came into it: money out with no money in.
    OutWithoutIn,
}

/// One difference between the rail and the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// The wallet or the effect it is about.
    pub subject: String,
    /// What each side says.
    pub detail: String,
}

/// What a reconciliation found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// Fundings the journal records.
    pub fundings: usize,
    /// Effects the outbox holds.
    pub effects: usize,
    /// Payments of claims the outbox's releases make.
    pub claim_payments: usize,
    /// Lines of the statement.
    pub lines: usize,
    /// Every difference, by kind and subject.
    pub differences: Vec<Difference>,
}

/// Reads a statement: JSON lines, blank lines skipped; a bad line is named by its number.
/// Amounts must be canonical (`2400.00`), as the journal writes them, so that they compare
/// as written.
pub fn parse_statement(text: &str) -> Result<Vec<StatementLine>> {
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed: StatementLine =
            serde_json::from_str(line).with_context(|| format!("statement line {}", index + 1))?;
        let amount = match &parsed {
            StatementLine::Funding { amount, .. }
            | StatementLine::Release { amount, .. }
            | StatementLine::ClaimPayment { amount, .. }
            | StatementLine::Refund { amount, .. } => amount,
        };
        Amount::parse(amount)
            .map_err(|error| anyhow::anyhow!("statement line {}: amount {amount:?}: {error:?}", index + 1))?;
        let reference = match &parsed {
            StatementLine::Funding { reference, .. }
            | StatementLine::Release { reference, .. }
            | StatementLine::ClaimPayment { reference, .. }
            | StatementLine::Refund { reference, .. } => reference,
        };
        if !prepaid_contract::event::is_rail_reference(reference) {
            return Err(anyhow::anyhow!(
                "statement line {}: reference {reference:?} is not 1 to 64 letters, digits or - _ . : / #",
                index + 1
            )
            .into());
        }
        lines.push(parsed);
    }
    Ok(lines)
}

/// The fundings the journal of `wallet` records, by the rail's reference: each accepted
/// `funded`, of the price of a wallet opened awaiting funding or of the top-up asked for.
fn fundings_of(store: &dyn Store, wallet: &str) -> Result<Vec<(String, String)>> {
    let mut awaited = None;
    let mut fundings = Vec::new();
    for entry in store.entries(wallet)? {
        let verdict: Verdict = serde_json::from_str(&entry.outcome).context("reading an entry's outcome")?;
        if !verdict.ok {
            continue;
        }
        let envelope = Envelope::parse(&entry.event)?;
        // A `funded` is read by its reference alone: one journaled before it named its
        // payer is a funding all the same.
        if envelope.kind() == Some("funded") {
            let reference = envelope.event["reference"]
                .as_str()
                .context("an accepted funded without a reference")?;
            let amount = awaited.take().context("a wallet funded with nothing awaited")?;
            fundings.push((reference.to_owned(), amount));
            continue;
        }
        match Event::parse(&envelope.body()) {
            Ok(Event::Open(open)) if open.awaiting_funding => awaited = Some(open.product.price().to_string()),
            Ok(Event::TopUp(top_up)) => awaited = Some(top_up.amount.to_string()),
            _ => {}
        }
    }
    Ok(fundings)
}

/// Holds `statement` against the journal and outbox in `store`.
pub fn reconcile(store: &dyn Store, statement: &[StatementLine]) -> Result<Reconciliation> {
    let mut found = Reconciliation {
        lines: statement.len(),
        ..Reconciliation::default()
    };
    let mut differ = |kind: DifferenceKind, subject: &str, detail: String| {
        found.differences.push(Difference {
            kind,
            subject: subject.to_owned(),
            detail,
        })
    };
    let mut fundings = BTreeMap::new();
    let mut effects = BTreeMap::new();
    // Per wallet: what its journal counts paid, and what the rail's statement brings in.
    let mut paid: BTreeMap<String, u64> = BTreeMap::new();
    let mut rail_in: BTreeMap<String, u64> = BTreeMap::new();
    // A rail reference funds one payment once: journaled twice, in one wallet or two, the
    // same money was counted twice.
    let mut references: BTreeMap<String, String> = BTreeMap::new();
    // The reference each acknowledgement recorded, by effect, and the reverse.
    let mut acked_under = BTreeMap::new();
    let mut reference_of: BTreeMap<String, String> = BTreeMap::new();
    for wallet in store.wallets()? {
        // A state this build cannot read (another component's) says nothing of what was paid.
        if let Some(state) = store.wallet(&wallet)?.and_then(|head| head.state) {
            if let Ok(state) = prepaid_contract::state::Wallet::decode(&state) {
                paid.insert(wallet.clone(), state.paid().fen());
            }
        }
        for (reference, amount) in fundings_of(store, &wallet)? {
            if let Some(first) = references.insert(reference.clone(), wallet.clone()) {
                differ(
                    DifferenceKind::PaidTwice,
                    &wallet,
                    format!("the journal funds it under {reference}, which already funded {first}"),
                );
            }
            fundings.insert((wallet.clone(), reference), amount);
        }
        for row in store.outbox(&wallet)? {
            effects.insert(row.effect.effect_id.clone(), row);
        }
        for record in store.acks(&wallet)? {
            if let Some(reference) = record.reference {
                // One payment pays one effect: a reference acknowledging two is one of
                // them acknowledged without its own payment.
                if let Some(first) = reference_of.insert(reference.clone(), record.effect_id.clone()) {
                    differ(
                        DifferenceKind::ReferenceDiffers,
                        &record.effect_id,
                        format!("its acknowledgement records {reference}, which also acknowledges {first}"),
                    );
                }
                acked_under.insert(record.effect_id, reference);
            }
        }
    }
    let releases: Vec<String> = effects
        .values()
        .filter(|row| row.effect.kind == "release")
        .map(|row| row.effect.effect_id.clone())
        .collect();
    // What each release pays of which claim, and to its merchant what is left.
    let legs: BTreeMap<(String, String), Withheld> = store
        .withheld(&releases)?
        .into_iter()
        .map(|leg| ((leg.release.clone(), leg.claim.clone()), leg))
        .collect();
    let to_recipient = |effect: &OutboxEffect| -> String {
        let of_effect = legs
            .range((effect.effect_id.clone(), String::new())..)
            .take_while(|((release, _), _)| *release == effect.effect_id)
            .map(|(_, leg)| leg);
        left_for_recipient(effect, of_effect)
    };
    let (journal_fundings, outbox_effects) = (fundings.len(), effects.len());
    let mut legs_on_rail = BTreeSet::new();
    let mut funded_on_rail = BTreeSet::new();
    let mut paid_on_rail = BTreeSet::new();
    for line in statement {
        match line {
            // Held against the releases' claims below, once every effect is known.
            StatementLine::ClaimPayment { .. } => {}
            StatementLine::Funding {
                wallet,
                reference,
                amount,
            } => {
                let key = (wallet.clone(), reference.clone());
                if !funded_on_rail.insert(key.clone()) {
                    differ(
                        DifferenceKind::PaidTwice,
                        wallet,
                        format!("funded twice under {reference}"),
                    );
                    continue;
                }
                *rail_in.entry(wallet.clone()).or_default() += fen(amount)?;
                match fundings.get(&key) {
                    Some(journaled) if journaled != amount => differ(
                        DifferenceKind::AmountDiffers,
                        wallet,
                        format!("the rail took {amount} under {reference}; the journal's funding is {journaled}"),
                    ),
                    Some(_) => {}
                    None => differ(
                        DifferenceKind::FundingNotJournaled,
                        wallet,
                        format!("the rail took {amount} under {reference}; the journal has no such funding"),
                    ),
                }
            }
            StatementLine::Release {
                effect_id,
                to,
                amount,
                reference,
            }
            | StatementLine::Refund {
                effect_id,
                to,
                amount,
                reference,
            } => {
                let kind = match line {
                    StatementLine::Release { .. } => "release",
                    _ => "refund",
                };
                if !paid_on_rail.insert(effect_id.clone()) {
                    differ(
                        DifferenceKind::PaidTwice,
                        effect_id,
                        format!("paid again under {reference}"),
                    );
                    continue;
                }
                let Some(row) = effects.get(effect_id) else {
                    differ(
                        DifferenceKind::PaymentNotInOutbox,
                        effect_id,
                        format!("the rail paid a {kind} of {amount} to {to} under {reference}"),
                    );
                    continue;
                };
                let effect = &row.effect;
                let expected = to_recipient(effect);
                if effect.kind != kind || effect.to != *to {
                    differ(
                        DifferenceKind::PaymentDiffers,
                        effect_id,
                        format!(
                            "the rail paid a {kind} to {to}; the effect is a {} to {}",
                            effect.kind, effect.to
                        ),
                    );
                } else if expected != *amount {
                    let of_which = match expected == effect.amount {
                        true => String::new(),
                        false => format!(", of which {expected} to {to} and the rest to the claims it pays"),
                    };
                    differ(
                        DifferenceKind::AmountDiffers,
                        effect_id,
                        format!("the rail paid {amount}; the effect is {}{of_which}", effect.amount),
                    );
                }
                match acked_under.get(effect_id) {
                    _ if !row.acked => differ(
                        DifferenceKind::PaidNotAcknowledged,
                        effect_id,
                        format!("paid under {reference}, not acknowledged in the outbox"),
                    ),
                    Some(recorded) if recorded != reference => differ(
                        DifferenceKind::ReferenceDiffers,
                        effect_id,
                        format!("the rail paid it under {reference}; its acknowledgement records {recorded}"),
                    ),
                    _ => {}
                }
            }
        }
    }
    for line in statement {
        let StatementLine::ClaimPayment {
            effect_id,
            claim,
            to,
            amount,
            reference,
        } = line
        else {
            continue;
        };
        if !legs_on_rail.insert((effect_id.clone(), claim.clone())) {
            differ(
                DifferenceKind::PaidTwice,
                effect_id,
                format!("claim {claim} paid again under {reference}"),
            );
            continue;
        }
        let Some(leg) = legs.get(&(effect_id.clone(), claim.clone())) else {
            differ(
                DifferenceKind::PaymentNotInOutbox,
                effect_id,
                format!(
                    "the rail paid {amount} of claim {claim} to {to} under {reference}; the release pays no such claim"
                ),
            );
            continue;
        };
        if leg.to != *to {
            differ(
                DifferenceKind::PaymentDiffers,
                effect_id,
                format!("the rail paid claim {claim} to {to}; it is owed to {}", leg.to),
            );
        } else if leg.amount != *amount {
            differ(
                DifferenceKind::AmountDiffers,
                effect_id,
                format!(
                    "the rail paid {amount} of claim {claim}; the release pays {}",
                    leg.amount
                ),
            );
        }
        match (effects.get(effect_id), acked_under.get(effect_id)) {
            (Some(row), _) if !row.acked => differ(
                DifferenceKind::PaidNotAcknowledged,
                effect_id,
                format!("claim {claim} paid under {reference}, the release not acknowledged in the outbox"),
            ),
            (_, Some(recorded)) if recorded != reference => differ(
                DifferenceKind::ReferenceDiffers,
                effect_id,
                format!(
                    "the rail paid claim {claim} under {reference}; the release's acknowledgement records {recorded}"
                ),
            ),
            _ => {}
        }
    }
    for ((release, claim), leg) in &legs {
        let acked = effects.get(release).is_some_and(|row| row.acked);
        if acked && !legs_on_rail.contains(&(release.clone(), claim.clone())) {
            differ(
                DifferenceKind::AcknowledgedNotPaid,
                release,
                format!("a payment of {} of claim {claim} to {}", leg.amount, leg.to),
            );
        }
    }
    for ((wallet, reference), amount) in &fundings {
        if !funded_on_rail.contains(&(wallet.clone(), reference.clone())) {
            differ(
                DifferenceKind::FundingNotOnRail,
                wallet,
                format!("the journal records {amount} funded under {reference}"),
            );
        }
    }
    for (effect_id, row) in &effects {
        // A release whose every fen pays claims has no payment to its merchant.
        let nothing_left = to_recipient(&row.effect) == "0.00";
        if row.acked && !nothing_left && !paid_on_rail.contains(effect_id) {
            differ(
                DifferenceKind::AcknowledgedNotPaid,
                effect_id,
                format!("a {} of {} to {}", row.effect.kind, row.effect.amount, row.effect.to),
            );
        }
    }
    // Every wallet's money held whole: what its journal counts paid came in by the rail's
    // fundings it journals, and what it pays out the rail's statement brought in.
    let mut journal_in: BTreeMap<&str, u64> = BTreeMap::new();
    for ((wallet, _), amount) in &fundings {
        *journal_in.entry(wallet).or_default() += fen(amount)?;
    }
    let mut out: BTreeMap<&str, u64> = BTreeMap::new();
    for row in effects.values() {
        *out.entry(&row.effect.wallet).or_default() += fen(&row.effect.amount)?;
    }
    for (wallet, paid) in &paid {
        let funded = journal_in.get(wallet.as_str()).copied().unwrap_or(0);
        if *paid > funded {
            differ(
                DifferenceKind::PaidNotFunded,
                wallet,
                format!(
                    "the journal counts {} paid; the rail's fundings it journals come to {}",
                    yuan(*paid),
                    yuan(funded)
                ),
            );
        }
    }
    for (wallet, out) in out {
        let came_in = rail_in.get(wallet).copied().unwrap_or(0);
        if out > came_in {
            differ(
                DifferenceKind::OutWithoutIn,
                wallet,
                format!(
                    "its effects pay out {}; the rail's statement brings {} in",
                    yuan(out),
                    yuan(came_in)
                ),
            );
        }
    }
    found.fundings = journal_fundings;
    found.effects = outbox_effects;
    found.claim_payments = legs.len();
    found
        .differences
        .sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
    Ok(found)
}
