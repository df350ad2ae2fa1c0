//! Effects: the money an accepted event moves, for the payment rail to carry out, and the
//! claims it records on the merchant.

use alloc::vec;
use alloc::vec::Vec;

use crate::keys::PublicKey;
use crate::money::Amount;

/// Which way money moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectKind {
    /// From the frozen balance to the merchant.
    Release,
    /// From the frozen balance back to the consumer.
    Refund,
    /// Owed to the consumer by the merchant, outside the wallet: the terms gave the consumer
    /// more than was frozen ([`crate::claims`]). Nothing leaves the wallet.
    Claim,
}

/// A movement of money the payment rail must carry out, or a claim on the merchant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    /// Which way.
    pub kind: EffectKind,
    /// The recipient.
    pub to: PublicKey,
    /// How much.
    pub amount: Amount,
    /// Why, as a stable snake_case word.
    pub reason: &'static str,
}

/// An effect, or none for a zero amount: the rail never moves nothing.
pub fn effect(kind: EffectKind, to: PublicKey, amount: Amount, reason: &'static str) -> Vec<Effect> {
    if amount.is_zero() {
        Vec::new()
    } else {
        vec![Effect {
            kind,
            to,
            amount,
            reason,
        }]
    }
}
