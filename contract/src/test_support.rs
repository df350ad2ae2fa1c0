//! Builders for the rules' unit tests.

use alloc::vec::Vec;

use crate::keys::HexBytes;
use crate::money::Amount;
use crate::policy::Policy;
use crate::products::{Product, Sessions};
use crate::state::{Status, Wallet};

/// A day in seconds.
pub const DAY: i64 = 86_400;

/// A fresh session-pack wallet opened at time 0 with a 7-day cooling-off period.
pub fn sessions_wallet(sessions: u64, price: &str, list_price: &str) -> Wallet {
    Wallet {
        consumer: HexBytes([1; 32]),
        merchant: HexBytes([2; 32]),
        regulator: HexBytes([3; 32]),
        product: Product::Sessions(Sessions {
            sessions,
            price: Amount::parse(price).unwrap(),
            list_price: Amount::parse(list_price).unwrap(),
        }),
        policy: Policy {
            cooling_off_days: 7,
            deemed_confirm_days: 0,
            deemed_confirm_working_days: false,
            max_price: None,
            valid_days: None,
            supervised_share: None,
            rekey_wait_days: None,
            answer_days: None,
            ruling_days: None,
            max_sessions: None,
            max_term_days: None,
            card: None,
            max_fee_multiple: None,
        },
        opened_at: 0,
        last_at: 0,
        status: Status::Active,
        consumed: 0,
        released: Amount::ZERO,
        refunded: Amount::ZERO,
        dispute: None,
        requests: Vec::new(),
        stages_done: 0,
        share_released: false,
        refunded_at: None,
        awaiting_funding: false,
        rail_reference: None,
        top_ups: Amount::ZERO,
        pending_top_up: None,
        ruled_back: Amount::ZERO,
        ruled_units: 0,
        owed: Amount::ZERO,
        rekey: None,
    }
}
