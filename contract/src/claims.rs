//! Claims: what the terms give the consumer beyond what is frozen, owed by the merchant.
//!
//! A wallet pays out only what is frozen in it. Where the policy supervises less than the
//! whole price (Nantong's `supervised_share`), the part outside supervision goes to the
//! merchant when the cooling-off period ends, so an ending that gives the consumer the
//! unconsumed value can find less frozen than that. The difference is not lost: the wallet
//! records it as owed by the merchant ([`Wallet::owed`]) and emits a `claim` effect, which
//! the platform collects from the merchant (docs/CONTRACT.md, "Claims").
//!
//! What the terms give the consumer at each ending:
//! - a refund after the cooling-off period: the price less consumption at the list price,
//!   never below nothing ([`crate::refunds`]);
//! - every other ending that returns what is frozen (the merchant's closure, expiry, the
//!   regulator's ruling, the end of a refund's hold): the price less consumption at the
//!   paid rate, as if the part outside supervision had stayed frozen; a split gives the
//!   merchant the regulator's figure out of it.
//!
//! Inside the cooling-off period nothing outside supervision has gone, so no claim arises.
//! A wallet owes at most once: its ending is the only time the terms are settled, and a
//! refund that leaves requests to the regulator settled the rest then.

use alloc::vec::Vec;

use crate::effects::{effect, Effect, EffectKind};
use crate::error::ContractError;
use crate::money::Amount;
use crate::state::Wallet;

/// What the consumer is entitled to beyond what is frozen: `entitled - frozen`, or
/// nothing.
pub fn beyond_frozen(entitled: Amount, frozen: Amount) -> Amount {
    entitled.checked_sub(frozen).unwrap_or(Amount::ZERO)
}

/// What the merchant holds of the part outside supervision that consumption has not
/// earned: released beyond consumption at the paid rate. What an ending that returns
/// everything frozen owes the consumer on top.
pub fn unearned_share(wallet: &Wallet) -> Amount {
    let earned = wallet.entitlement_as(wallet.consumed, false);
    wallet.released.checked_sub(earned).unwrap_or(Amount::ZERO)
}

/// Records that the merchant owes the consumer `owed` for the wallet's ending `reason`,
/// as the claim effect the platform collects (none for nothing).
pub fn owe(wallet: &mut Wallet, owed: Amount, reason: &'static str) -> Result<Vec<Effect>, ContractError> {
    wallet.owed = wallet
        .owed
        .checked_add(owed)
        .ok_or_else(|| ContractError::new(crate::error::ErrorCode::BadState, "the claims add up beyond any amount"))?;
    Ok(effect(EffectKind::Claim, wallet.consumer, owed, reason))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;
    use crate::test_support::sessions_wallet;

    fn nantong(mut wallet: Wallet) -> Wallet {
        wallet.policy = Policy {
            supervised_share: Some(20),
            ..wallet.policy
        };
        wallet
    }

    #[test]
    fn the_share_released_beyond_consumption_is_unearned() {
        // Ten sessions for 2,400.00, 20% supervised: 1,920.00 went at the end of the
        // cooling-off period and two sessions released 96.00 of the supervised part. At
        // the paid rate two sessions earn 480.00: the merchant holds 1,536.00 unearned.
        let mut wallet = nantong(sessions_wallet(10, "2400.00", "300.00"));
        wallet.share_released = true;
        wallet.consumed = 2;
        wallet.released = Amount::parse("2016.00").unwrap();
        assert_eq!(unearned_share(&wallet), Amount::parse("1536.00").unwrap());
    }

    #[test]
    fn nothing_is_unearned_without_a_share_released() {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        wallet.consumed = 2;
        wallet.released = Amount::parse("480.00").unwrap();
        assert_eq!(unearned_share(&wallet), Amount::ZERO);
    }

    #[test]
    fn a_claim_adds_to_what_is_owed_and_is_an_effect_only_when_something_is_owed() {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        assert!(owe(&mut wallet, Amount::ZERO, "expired").unwrap().is_empty());
        let effects = owe(&mut wallet, Amount::parse("12.34").unwrap(), "expired").unwrap();
        assert_eq!(effects.len(), 1);
        assert_eq!(effects[0].kind, EffectKind::Claim);
        assert_eq!(effects[0].to, wallet.consumer);
        assert_eq!(wallet.owed, Amount::parse("12.34").unwrap());
    }
}
