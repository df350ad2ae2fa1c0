//! The per-wallet policy: the rules of the region the sale falls under, fixed at open.
//!
//! Known regional values (sources in docs/REGULATIONS.md): cooling-off 7 days nationally
//! (SPC interpretation 法释〔2025〕4号) and in Beijing (北京市单用途预付卡管理条例), 15 days
//! in Jiangsu (江苏省消费者权益保护条例 Art. 28); a 5,000 yuan cap on a named card
//! (商务部《单用途商业预付卡管理办法(试行)》).

use serde::{Deserialize, Serialize};

use crate::error::{reject, ContractError, ErrorCode};
use crate::money::Amount;

/// Seconds in a day: policy periods are whole days of platform time.
pub const DAY_SECONDS: i64 = 86_400;
/// Days a re-key of the consumer's key waits before it takes effect, when the policy does
/// not say: long enough for the holder of the old key to see it and cancel it.
pub const DEFAULT_REKEY_WAIT_DAYS: u32 = 7;

/// The policy of one wallet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Days after open during which a refund values consumption at the paid rate.
    pub cooling_off_days: u32,
    /// Days of silence after which a request is deemed confirmed (0: never).
    pub deemed_confirm_days: u32,
    /// The highest price a product may have (e.g. 5,000 yuan for a named card).
    #[serde(default)]
    pub max_price: Option<Amount>,
    /// Days the wallet is valid for (none: no expiry).
    #[serde(default)]
    pub valid_days: Option<u32>,
    /// The percentage of the price kept frozen under supervision (1 to 100; none: 100).
    /// Below 100, the rest is released to the merchant at open, as in Shenzhen's model
    /// (20% under e-CNY supervision, the rest insured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervised_share: Option<u8>,
    /// Days a re-key of the consumer's key waits before it takes effect (at least 1;
    /// none: [`DEFAULT_REKEY_WAIT_DAYS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rekey_wait_days: Option<u32>,
}

impl Policy {
    /// Rejects a policy the rules cannot apply.
    pub fn validate(&self) -> Result<(), ContractError> {
        match self.supervised_share {
            Some(share) if !(1..=100).contains(&share) => reject(
                ErrorCode::InvalidTerms,
                "`supervised_share` is a percentage from 1 to 100",
            ),
            _ if self.rekey_wait_days == Some(0) => reject(
                ErrorCode::InvalidTerms,
                "`rekey_wait_days` is at least 1: the old key must have time to cancel a re-key",
            ),
            _ => Ok(()),
        }
    }

    /// Seconds a re-key waits before it takes effect.
    pub fn rekey_wait(&self) -> i64 {
        i64::from(self.rekey_wait_days.unwrap_or(DEFAULT_REKEY_WAIT_DAYS)) * DAY_SECONDS
    }

    /// Whether `timestamp` falls inside the cooling-off period of a wallet opened at
    /// `opened_at`.
    pub fn in_cooling_off(&self, opened_at: i64, timestamp: i64) -> bool {
        timestamp < opened_at.saturating_add(i64::from(self.cooling_off_days) * DAY_SECONDS)
    }
}
