//! The refund rule: how a consumer's refund splits what is still frozen.
//!
//! - Inside the cooling-off period (7 days nationally under the SPC's 法释〔2025〕4号 and in
//!   Beijing; 15 days in Jiangsu, 江苏省消费者权益保护条例 Art. 28) consumption is valued at
//!   the paid rate: what was already released stays released and everything frozen goes
//!   back, so nothing consumed means 100% back.
//! - After it, consumption is valued at the list price (SPC 2025), never more than was
//!   paid: `refund = max(0, paid - list value of consumption)`, and the merchant receives
//!   the rest of what is frozen.
//! - Only frozen money can be refunded: where the policy supervises less than the whole
//!   price, the part paid to the merchant when the cooling-off period ended is outside the
//!   wallet. What the rule gives beyond what is frozen is owed, a claim on the merchant
//!   ([`crate::claims`]). A refund never sends that part to the merchant itself: if no tick
//!   has yet, it stays frozen and goes back.

use crate::money::Amount;
use crate::state::Wallet;

/// How a refund splits the frozen balance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settlement {
    /// Paid back to the consumer.
    pub refund: Amount,
    /// Released to the merchant on top of what was released before.
    pub release: Amount,
    /// Whether the refund falls inside the cooling-off period.
    pub in_cooling_off: bool,
}

/// Splits the frozen balance of `wallet` for a consumer's refund at `timestamp`.
pub fn consumer_refund(wallet: &Wallet, frozen: Amount, timestamp: i64) -> Settlement {
    if wallet.policy.in_cooling_off(wallet.opened_at, timestamp) {
        return Settlement {
            refund: frozen,
            release: Amount::ZERO,
            in_cooling_off: true,
        };
    }
    let consumed = wallet.list_value(wallet.consumed);
    // Only what is frozen can go back: part of the price may have been paid to the merchant
    // outside supervision at open.
    let refund = wallet.paid().checked_sub(consumed).unwrap_or(Amount::ZERO).min(frozen);
    let release = frozen
        .checked_sub(refund)
        .expect("the refund is at most what is frozen");
    Settlement {
        refund,
        release,
        in_cooling_off: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{sessions_wallet, DAY};

    #[test]
    fn inside_cooling_off_everything_frozen_goes_back() {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        wallet.consumed = 1;
        wallet.released = Amount::parse("240.00").unwrap();
        let frozen = wallet.frozen().unwrap();
        let settlement = consumer_refund(&wallet, frozen, 3 * DAY);
        assert_eq!(settlement.refund, Amount::parse("2160.00").unwrap());
        assert_eq!(settlement.release, Amount::ZERO);
    }

    #[test]
    fn after_cooling_off_consumption_is_valued_at_list_price() {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        wallet.consumed = 1;
        wallet.released = Amount::parse("240.00").unwrap();
        let frozen = wallet.frozen().unwrap();
        let settlement = consumer_refund(&wallet, frozen, 30 * DAY);
        assert_eq!(settlement.refund, Amount::parse("2100.00").unwrap());
        assert_eq!(settlement.release, Amount::parse("60.00").unwrap());
    }

    #[test]
    fn list_value_above_the_price_refunds_nothing_and_never_charges() {
        let mut wallet = sessions_wallet(10, "2400.00", "300.00");
        wallet.consumed = 9;
        wallet.released = Amount::parse("2160.00").unwrap();
        let frozen = wallet.frozen().unwrap();
        let settlement = consumer_refund(&wallet, frozen, 30 * DAY);
        assert_eq!(settlement.refund, Amount::ZERO);
        assert_eq!(settlement.release, Amount::parse("240.00").unwrap());
    }
}
