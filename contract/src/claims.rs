//! Claims: what the terms give the consumer beyond what is frozen, owed by the merchant.
//!
//! A wallet pays out only what is frozen in it. Where the policy supervises less than the
//! whole price (Nantong's `supervised_share`), the part outside supervision goes to the
//! merchant when the cooling-off period ends, so an ending that gives the consumer the
//! unconsumed value can find less frozen than that. The difference is not lost: when the
//! wallet closes, it records what it owes as owed by the merchant ([`Wallet::owed`]) and
//! emits a `claim` effect, which the platform collects from the merchant
//! (docs/CONTRACT.md, "Claims").
//!
//! What the terms give the consumer in all ([`entitled`]):
//! - at a refund after the cooling-off period (or the close of a wallet refunded so, its
//!   held requests settled): the price less consumption at the list price, never below
//!   nothing ([`crate::refunds`]);
//! - at every other ending that returns what is frozen (the merchant's closure, expiry, the
//!   regulator's ruling, a refund inside the cooling-off period): the price less
//!   consumption at the paid rate, as if the part outside supervision had stayed frozen.
//!
//! A split is the regulator's valuation of the requests in dispute, at most what they are
//! worth under the ending's terms ([`in_dispute`]): it goes to the merchant out of what is
//! frozen first, and the rest of it out of what the merchant would owe. What the consumer
//! was refunded and the valuation leave of the entitlement is owed when the wallet closes;
//! a refund that leaves requests to the regulator owes at once all but what they could be
//! worth, and the rest once they are settled.

use alloc::vec::Vec;

use crate::effects::{effect, Effect, EffectKind};
use crate::error::ContractError;
use crate::money::Amount;
use crate::state::Wallet;

/// What `units` consumed are worth under the terms of the wallet's ending: at the list
/// price after a refund outside the cooling-off period (`refund_at`), at the paid rate
/// otherwise, as if the part outside supervision had stayed frozen.
fn worth(wallet: &Wallet, refund_at: Option<i64>, units: u64) -> Amount {
    match refund_at {
        Some(at) if !wallet.policy.in_cooling_off(wallet.opened_at, at) => wallet.list_value(units),
        _ => wallet.entitlement_as(units, false),
    }
}

/// What the terms give the consumer in all at the wallet's ending, before the regulator
/// values any request in dispute: `refund_at` is when the consumer refunded, if they did.
pub fn entitled(wallet: &Wallet, refund_at: Option<i64>) -> Amount {
    let consumed = worth(wallet, refund_at, wallet.consumed);
    // A ruling's split gave back part of some consumed units' worth: theirs too.
    let due = wallet
        .paid()
        .checked_add(wallet.ruled_back)
        .expect("given back out of what was paid");
    due.checked_sub(consumed).unwrap_or(Amount::ZERO)
}

/// What the requests awaiting authorization are worth under the same terms: the most the
/// regulator's valuation of them (a split) may give the merchant beyond what is frozen.
pub fn in_dispute(wallet: &Wallet, refund_at: Option<i64>) -> Amount {
    let asked = wallet.consumed + wallet.pending_units();
    worth(wallet, refund_at, asked)
        .checked_sub(worth(wallet, refund_at, wallet.consumed))
        .unwrap_or(Amount::ZERO)
}

/// What the merchant holds of the part outside supervision that consumption has not
/// earned: released beyond consumption at the paid rate. What an ending that returns
/// everything frozen would owe the consumer on top.
pub fn unearned_share(wallet: &Wallet) -> Amount {
    let earned = wallet
        .entitlement_as(wallet.consumed, false)
        .checked_sub(wallet.ruled_back)
        .unwrap_or(Amount::ZERO);
    wallet.released.checked_sub(earned).unwrap_or(Amount::ZERO)
}

/// What the merchant owes the consumer beyond what is recorded: what the terms give them
/// (`entitled`), less the regulator's valuation of the requests in dispute for the merchant
/// (`awarded`), less what was refunded to them and what the wallet already records owed.
pub fn owing(wallet: &Wallet, entitled: Amount, awarded: Amount) -> Amount {
    entitled
        .checked_sub(awarded)
        .and_then(|due| due.checked_sub(wallet.refunded))
        .and_then(|due| due.checked_sub(wallet.owed))
        .unwrap_or(Amount::ZERO)
}

/// Records what the merchant owes the consumer for the ending `reason` ([`owing`]), as the
/// claim effect the platform collects (none for nothing): at the close, and at a refund
/// that leaves requests to the regulator, for all but what they could be worth.
pub fn owe(
    wallet: &mut Wallet,
    entitled: Amount,
    awarded: Amount,
    reason: &'static str,
) -> Result<Vec<Effect>, ContractError> {
    let owed = owing(wallet, entitled, awarded);
    wallet.owed = wallet
        .owed
        .checked_add(owed)
        .ok_or_else(|| ContractError::new(crate::error::ErrorCode::BadState, "the claims add up beyond any amount"))?;
    Ok(effect(EffectKind::Claim, wallet.consumer, owed, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sessions_wallet, DAY};

    /// Ten sessions for 2,400.00, 20% supervised: 1,920.00 went at the end of the
    /// cooling-off period and two sessions released 96.00 of the supervised part.
    fn nantong_two_used() -> Wallet {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        wallet.policy.supervised_share = Some(20);
        wallet.share_released = true;
        wallet.consumed = 2;
        wallet.released = Amount::parse("2016.00").unwrap();
        wallet
    }

    #[test]
    fn the_share_released_beyond_consumption_is_unearned() {
        // At the paid rate two sessions earn 480.00: the merchant holds 1,536.00 unearned.
        assert_eq!(unearned_share(&nantong_two_used()), Amount::parse("1536.00").unwrap());
        let mut plain = sessions_wallet(10, "2400.00", "300.00");
        plain.consumed = 2;
        plain.released = Amount::parse("480.00").unwrap();
        assert_eq!(unearned_share(&plain), Amount::ZERO);
    }

    #[test]
    fn a_refund_after_cooling_off_is_entitled_to_the_price_less_list_value() {
        let wallet = nantong_two_used();
        assert_eq!(entitled(&wallet, Some(10 * DAY)), Amount::parse("1800.00").unwrap());
        // Inside the period, and at every other ending, consumption at the paid rate.
        assert_eq!(entitled(&wallet, Some(3 * DAY)), Amount::parse("1920.00").unwrap());
        assert_eq!(entitled(&wallet, None), Amount::parse("1920.00").unwrap());
    }

    #[test]
    fn what_closes_owes_the_entitlement_less_the_valuation_and_the_refunds() {
        let mut wallet = nantong_two_used();
        // 384.00 refunded of 1,800.00: 1,416.00 owed.
        wallet.refunded = Amount::parse("384.00").unwrap();
        let effects = owe(
            &mut wallet,
            Amount::parse("1800.00").unwrap(),
            Amount::ZERO,
            "consumer_refund",
        )
        .unwrap();
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].kind, EffectKind::Claim);
        assert_eq!(effects[0].to, wallet.consumer);
        assert_eq!(effects[0].amount, Amount::parse("1416.00").unwrap());
        assert_eq!(wallet.owed, Amount::parse("1416.00").unwrap());
        // A valuation for the merchant beyond what is left owes nothing, and no effect.
        let mut valued = nantong_two_used();
        let none = owe(
            &mut valued,
            Amount::parse("1800.00").unwrap(),
            Amount::parse("1800.00").unwrap(),
            "dispute_split",
        );
        assert!(none.unwrap().is_empty());
        assert_eq!(valued.owed, Amount::ZERO);
    }
}
