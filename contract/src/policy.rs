//! The per-wallet policy: the rules of the region the sale falls under, fixed at open.
//!
//! Known regional values (sources in docs/REGULATIONS.md): cooling-off 7 days nationally
//! (SPC interpretation 法释〔2025〕4号) and in Beijing (北京市单用途预付卡管理条例), 15 days
//! in Jiangsu (江苏省消费者权益保护条例 Art. 28); a 5,000 yuan cap on a named card
//! (商务部《单用途商业预付卡管理办法(试行)》).

use serde::{Deserialize, Serialize};

use crate::error::{reject, ContractError, ErrorCode};
use crate::money::Amount;
use crate::products::Product;

/// The cap on a named card's price (MOFCOM's measures): 5,000.00 yuan.
pub const NAMED_CARD_CAP_FEN: u64 = 500_000;
/// The cap on an anonymous card's price (MOFCOM's measures): 1,000.00 yuan.
pub const ANONYMOUS_CARD_CAP_FEN: u64 = 100_000;
/// The fewest days an anonymous card may be valid for: three years, whichever they are.
pub const ANONYMOUS_MIN_VALID_DAYS: u32 = 3 * 365 + 1;

/// The most working days a deemed confirmation may wait: a count of days, not a loop
/// without end.
pub const MAX_WORKING_DAYS: u32 = 366;

fn is_false(value: &bool) -> bool {
    !*value
}

/// The kind of card a sale is under MOFCOM's measures for single-purpose prepaid cards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Card {
    /// Registered to the consumer: at most 5,000 yuan.
    Named,
    /// Bearer: at most 1,000 yuan, and valid at least three years.
    Anonymous,
}

/// Seconds in a day: policy periods are whole days of platform time.
pub const DAY_SECONDS: i64 = 86_400;
/// Days a re-key of the consumer's key waits before it takes effect, when the policy does
/// not say: long enough for the holder of the old key to see it and cancel it.
pub const DEFAULT_REKEY_WAIT_DAYS: u32 = 7;

/// Days a consumer has to authorize or dispute a request before its merchant may take it
/// to the regulator (`dispute`, reason `unanswered`), when the policy does not say.
pub const DEFAULT_ANSWER_DAYS: u32 = 7;
/// Days the regulator has to rule on a dispute before the default ruling applies
/// (docs/CONTRACT.md, "Disputes"), when the policy does not say: the 30 days in which a
/// market regulator is to settle a consumer's complaint.
pub const DEFAULT_RULING_DAYS: u32 = 30;

/// The policy of one wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Days after open during which a refund values consumption at the paid rate.
    pub cooling_off_days: u32,
    /// Days of silence after which a request is deemed confirmed (0: never).
    pub deemed_confirm_days: u32,
    /// Counts `deemed_confirm_days` in working days (Zhejiang education: 7 working days),
    /// in China Standard Time: weekends and the platform calendar's holidays off, its
    /// make-up days worked. At most [`MAX_WORKING_DAYS`].
    #[serde(default, skip_serializing_if = "is_false")]
    pub deemed_confirm_working_days: bool,
    /// The highest price a product may have (e.g. 5,000 yuan for a named card).
    #[serde(default)]
    pub max_price: Option<Amount>,
    /// Days the wallet is valid for (none: no expiry).
    #[serde(default)]
    pub valid_days: Option<u32>,
    /// The percentage of the price kept frozen under supervision (1 to 100; none: 100).
    /// Below 100, the rest is released to the merchant when the cooling-off period ends (at
    /// open, without one) and the share in proportion to consumption: Nantong's model, and
    /// Shenzhen's 20% under e-CNY supervision with the rest insured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervised_share: Option<u8>,
    /// Days a re-key of the consumer's key waits before it takes effect (at least 1;
    /// none: [`DEFAULT_REKEY_WAIT_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekey_wait_days: Option<u32>,
    /// Days a consumer has to authorize or dispute a request before its merchant may
    /// dispute it (at least 1; none: [`DEFAULT_ANSWER_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer_days: Option<u32>,
    /// Days the regulator has to rule on a dispute before the default ruling applies (at
    /// least 1; none: [`DEFAULT_RULING_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruling_days: Option<u32>,
    /// The most sessions a pack may hold (Shanghai fitness: 60; education: 60 lessons).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_sessions: Option<u64>,
    /// The most days a membership may run (Shanghai fitness: 24 months; education: 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_term_days: Option<u32>,
    /// The card the sale is, with its cap (named 5,000 yuan, anonymous 1,000 yuan and
    /// valid at least three years).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<Card>,
    /// A session pack costs at most this many times one session's list price (Beijing's
    /// medical-aesthetics model contract: 5 times the single-treatment fee).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_fee_multiple: Option<u32>,
}

impl Policy {
    /// Rejects a policy the rules cannot apply.
    pub fn validate(&self) -> Result<(), ContractError> {
        match self.supervised_share {
            Some(share) if !(1..=100).contains(&share) => reject(
                ErrorCode::InvalidTerms,
                "`supervised_share` is a percentage from 1 to 100",
            ),
            _ if self.deemed_confirm_working_days && !(1..=MAX_WORKING_DAYS).contains(&self.deemed_confirm_days) => {
                reject(
                    ErrorCode::InvalidTerms,
                    alloc::format!(
                        "working days of deemed confirmation need `deemed_confirm_days` from 1 to {MAX_WORKING_DAYS}"
                    ),
                )
            }
            _ if self.answer_days == Some(0) || self.ruling_days == Some(0) => reject(
                ErrorCode::InvalidTerms,
                "`answer_days` and `ruling_days` are at least 1: a party must have time to act",
            ),
            _ if self.rekey_wait_days == Some(0) => reject(
                ErrorCode::InvalidTerms,
                "`rekey_wait_days` is at least 1: the old key must have time to cancel a re-key",
            ),
            _ => Ok(()),
        }
    }

    /// Rejects `product` if it is over one of this policy's caps: the price, the card's
    /// cap, the sessions of a pack, the term of a membership, or the multiple of a single
    /// session's fee. A cap that cannot apply to the product kind is an error in the terms,
    /// not a cap that passes.
    pub fn check_caps(&self, product: &Product) -> Result<(), ContractError> {
        let price = product.price();
        let card_cap = match self.card {
            Some(Card::Named) => Some(NAMED_CARD_CAP_FEN),
            Some(Card::Anonymous) => Some(ANONYMOUS_CARD_CAP_FEN),
            None => None,
        };
        let caps = [self.max_price, card_cap.and_then(Amount::from_fen)];
        if let Some(cap) = caps.into_iter().flatten().filter(|cap| price > *cap).min() {
            return reject(
                ErrorCode::OverPriceCap,
                alloc::format!("the price {price} is over the policy's cap of {cap}; sell a smaller product"),
            );
        }
        if self.card == Some(Card::Anonymous) && self.valid_days.is_some_and(|days| days < ANONYMOUS_MIN_VALID_DAYS) {
            return reject(
                ErrorCode::InvalidTerms,
                alloc::format!("an anonymous card is valid at least {ANONYMOUS_MIN_VALID_DAYS} days (three years)"),
            );
        }
        let (sessions, membership) = (
            matches!(product, Product::Sessions(_)),
            matches!(product, Product::Membership(_)),
        );
        for (set, applies, field, kind) in [
            (self.max_sessions.is_some(), sessions, "max_sessions", "session pack"),
            (
                self.max_fee_multiple.is_some(),
                sessions,
                "max_fee_multiple",
                "session pack",
            ),
            (self.max_term_days.is_some(), membership, "max_term_days", "membership"),
        ] {
            if set && !applies {
                return reject(
                    ErrorCode::InvalidTerms,
                    alloc::format!("`{field}` caps a {kind}, not a {} product", product.kind()),
                );
            }
        }
        let over = |what: alloc::string::String| reject(ErrorCode::OverPolicyCap, what);
        match product {
            Product::Sessions(terms) => {
                if let Some(max) = self.max_sessions.filter(|max| terms.sessions > *max) {
                    return over(alloc::format!(
                        "the pack holds {} sessions and the policy allows at most {max}",
                        terms.sessions
                    ));
                }
                if let Some(multiple) = self.max_fee_multiple {
                    let cap = terms.list_price.checked_mul_count(u64::from(multiple));
                    if cap.is_none_or(|cap| price > cap) {
                        return over(alloc::format!(
                            "the price {price} is over {multiple} times one session's list price of {}",
                            terms.list_price
                        ));
                    }
                }
                Ok(())
            }
            Product::Membership(terms) => match self.max_term_days.filter(|max| terms.term_days > *max) {
                Some(max) => over(alloc::format!(
                    "the membership runs {} days and the policy allows at most {max}",
                    terms.term_days
                )),
                None => Ok(()),
            },
            Product::StoredValue(_) | Product::Plan(_) => Ok(()),
        }
    }

    /// Seconds a re-key waits before it takes effect.
    pub fn rekey_wait(&self) -> i64 {
        i64::from(self.rekey_wait_days.unwrap_or(DEFAULT_REKEY_WAIT_DAYS)) * DAY_SECONDS
    }

    /// When a request made at `requested_at`, left unanswered, may be disputed by its
    /// merchant.
    pub fn answer_ends(&self, requested_at: i64) -> i64 {
        let days = self.answer_days.unwrap_or(DEFAULT_ANSWER_DAYS);
        requested_at.saturating_add(i64::from(days) * DAY_SECONDS)
    }

    /// When the regulator's ruling on a dispute raised at `opened_at` is due: after it the
    /// default ruling applies.
    pub fn ruling_due(&self, opened_at: i64) -> i64 {
        let days = self.ruling_days.unwrap_or(DEFAULT_RULING_DAYS);
        opened_at.saturating_add(i64::from(days) * DAY_SECONDS)
    }

    /// Whether `timestamp` falls inside the cooling-off period of a wallet opened at
    /// `opened_at`.
    pub fn in_cooling_off(&self, opened_at: i64, timestamp: i64) -> bool {
        timestamp < self.cooling_off_ends(opened_at)
    }

    /// When the cooling-off period of a wallet opened at `opened_at` ends.
    pub fn cooling_off_ends(&self, opened_at: i64) -> i64 {
        opened_at.saturating_add(i64::from(self.cooling_off_days) * DAY_SECONDS)
    }
}
