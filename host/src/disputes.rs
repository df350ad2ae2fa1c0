//! The regulator's queue: every dispute open in a wallet, with the requests a refund holds
//! for the regulator, oldest ruling due first.
//!
//! The contract keeps each dispute in its wallet's state (who raised it, why, on what
//! evidence, when; docs/CONTRACT.md, "Disputes"). The store keeps a copy of each wallet's
//! open disputes beside its head, rewritten in the transaction that journals any entry
//! that changes them ([`crate::stats::Facts::queue`]), so the queue is one indexed read
//! however many wallets the platform holds, and can be rebuilt from the wallets' states.

use prepaid_contract::state::Wallet;
use serde::Serialize;

use crate::outcome::{rfc3339, rfc3339_option};

/// A dispute open in a wallet, as the regulator's queue lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueuedDispute {
    /// The wallet.
    pub wallet: String,
    /// The request disputed; none: the whole wallet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// The wallet's merchant (hex).
    pub merchant: String,
    /// The wallet's consumer (hex).
    pub consumer: String,
    /// Who raised it: `consumer`, `merchant` or `regulator`.
    pub by: String,
    /// Why, as the dispute's code (`refunded` for a refund's hold, `unrecorded` for a
    /// dispute an earlier component kept no reason for).
    pub reason: String,
    /// The SHA-256 of the evidence (hex), if the dispute carried one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// When it was raised.
    #[serde(serialize_with = "rfc3339")]
    pub opened_at: i64,
    /// When the regulator's ruling is due: after it the default applies (docs/CONTRACT.md,
    /// "Disputes"). None for a dispute an earlier component kept no time for.
    #[serde(skip_serializing_if = "Option::is_none", with = "rfc3339_option")]
    pub ruling_due: Option<i64>,
    /// What is at stake: what the request would release, or what the wallet holds frozen.
    pub amount: String,
}

/// The disputes open in the wallet `id`, whose state is `wallet`.
pub fn of_wallet(id: &str, wallet: &Wallet) -> Vec<QueuedDispute> {
    prepaid_contract::view::open_disputes(wallet)
        .into_iter()
        .map(|open| QueuedDispute {
            wallet: id.to_owned(),
            request: open.request,
            merchant: wallet.merchant.to_string(),
            consumer: wallet.consumer.to_string(),
            by: crate::text::word(&open.record.by),
            reason: crate::text::word(&open.record.reason),
            evidence: open.record.evidence.map(|digest| digest.to_string()),
            opened_at: open.record.opened_at,
            ruling_due: open.ruling_due,
            amount: open.amount.to_string(),
        })
        .collect()
}

/// The disputes open in the wallet `id` whose state bytes are `state`: none for state this
/// build does not read (a wallet pinned to code that writes another form).
pub fn of_state(id: &str, state: &[u8]) -> Vec<QueuedDispute> {
    Wallet::decode(state).map_or_else(|_| Vec::new(), |wallet| of_wallet(id, &wallet))
}
