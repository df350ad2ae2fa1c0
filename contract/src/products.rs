//! Product kinds and their terms, fixed at purchase.
//!
//! Every product is counted in units, so one set of rules serves them all:
//! - stored value (金额卡) counts fen of face value;
//! - a session pack (次卡) counts sessions;
//! - a staged plan (orthodontics, implants: billed by stage, as dental practice does)
//!   counts fen of its price, each stage being its amount's worth;
//! - a membership counts days of its term, accruing with time.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::{reject, ContractError, ErrorCode};
use crate::money::Amount;

/// The most stages a plan may have (a wallet marks completed stages in one 64-bit word).
pub const MAX_STAGES: usize = 64;
/// The longest stage name, in bytes: the terms live in every state.
pub const MAX_STAGE_NAME_LEN: usize = 32;

/// The terms of a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Product {
    /// `price` buys `face_value` >= `price` to spend (the difference is a bonus).
    StoredValue(StoredValue),
    /// `sessions` sessions for `price`; `list_price` is the undiscounted price of one.
    Sessions(Sessions),
    /// Named stages, each with its amount; the price is their sum.
    Plan(Plan),
    /// `term_days` days for `price`, released as the days pass.
    Membership(Membership),
}

/// Terms of a stored-value card.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredValue {
    /// What the consumer pays.
    pub price: Amount,
    /// What the consumer may spend.
    pub face_value: Amount,
}

/// Terms of a session pack.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// How many sessions the pack holds.
    pub sessions: u64,
    /// What the consumer pays for the pack.
    pub price: Amount,
    /// The list price of one session.
    pub list_price: Amount,
}

/// Terms of a staged plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The stages, in the order they are usually delivered.
    pub stages: Vec<Stage>,
}

/// One stage of a plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// What the stage is ("assessment", "appliance", …).
    pub name: String,
    /// What completing it releases.
    pub amount: Amount,
}

/// Terms of a membership.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// What the consumer pays.
    pub price: Amount,
    /// How many days it runs.
    pub term_days: u32,
}

impl Product {
    /// The product kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Product::StoredValue(_) => "stored_value",
            Product::Sessions(_) => "sessions",
            Product::Plan(_) => "plan",
            Product::Membership(_) => "membership",
        }
    }

    /// What the consumer pays. Terms are validated at open, and a state read back is checked
    /// ([`crate::state::Wallet::decode`]), so a plan's sum fits.
    pub fn price(&self) -> Amount {
        self.checked_price().expect("validated plans have a price in range")
    }

    /// What the consumer pays, or `None` for a plan whose stages add up beyond any amount.
    pub fn checked_price(&self) -> Option<Amount> {
        match self {
            Product::StoredValue(terms) => Some(terms.price),
            Product::Sessions(terms) => Some(terms.price),
            Product::Plan(terms) => terms.total(),
            Product::Membership(terms) => Some(terms.price),
        }
    }

    /// How many units the product holds.
    pub fn total_units(&self) -> u64 {
        match self {
            Product::StoredValue(terms) => terms.face_value.fen(),
            Product::Sessions(terms) => terms.sessions,
            Product::Plan(_) => self.price().fen(),
            Product::Membership(terms) => u64::from(terms.term_days),
        }
    }

    /// Whether consumption accrues with time rather than by request.
    pub fn accrues_with_time(&self) -> bool {
        matches!(self, Product::Membership(_))
    }

    /// Rejects terms that cannot be honoured or valued.
    pub fn validate(&self) -> Result<(), ContractError> {
        match self {
            Product::StoredValue(terms) if terms.face_value < terms.price => reject(
                ErrorCode::InvalidTerms,
                "the face value must be at least the price (a bonus may be added, never taken)",
            ),
            Product::Sessions(terms) if terms.sessions == 0 => {
                reject(ErrorCode::InvalidTerms, "a session pack must hold at least one session")
            }
            // A list price below the paid rate would make a refund after the cooling-off
            // period pay back more than is still frozen.
            Product::Sessions(terms)
                if terms
                    .list_price
                    .checked_mul_count(terms.sessions)
                    .is_none_or(|list| list < terms.price) =>
            {
                reject(
                    ErrorCode::InvalidTerms,
                    "the list price of all sessions must be at least the pack's price",
                )
            }
            Product::Plan(terms) if terms.stages.is_empty() || terms.stages.len() > MAX_STAGES => reject(
                ErrorCode::InvalidTerms,
                alloc::format!("a plan has 1 to {MAX_STAGES} stages"),
            ),
            Product::Plan(terms)
                if terms
                    .stages
                    .iter()
                    .any(|stage| stage.amount.is_zero() || !plain_name(&stage.name)) =>
            {
                reject(
                    ErrorCode::InvalidTerms,
                    alloc::format!(
                        "every stage needs a name of 1 to {MAX_STAGE_NAME_LEN} bytes, without quotes, backslashes or control characters, and an amount above zero"
                    ),
                )
            }
            Product::Plan(terms) if terms.total().is_none() => reject(
                ErrorCode::InvalidTerms,
                "the stages add up to more than any product may cost",
            ),
            Product::Membership(terms) if terms.term_days == 0 => {
                reject(ErrorCode::InvalidTerms, "a membership must run at least one day")
            }
            _ if self.price().is_zero() => reject(ErrorCode::InvalidTerms, "the price must be above zero"),
            _ => Ok(()),
        }
    }

    /// The units `quantity` asks for: the one quantity that fits the product, above zero.
    pub fn requested_units(&self, quantity: Quantity) -> Result<u64, ContractError> {
        let units = match (self, quantity.units, quantity.amount, quantity.stage) {
            (Product::StoredValue(_), None, Some(amount), None) => amount.fen(),
            (Product::Sessions(_), Some(units), None, None) => units,
            (Product::Plan(terms), None, None, Some(stage)) => match terms.stages.get(stage as usize) {
                Some(stage) => stage.amount.fen(),
                None => {
                    return reject(
                        ErrorCode::BadQuantity,
                        alloc::format!("the plan has no stage {stage}; stages count from 0"),
                    )
                }
            },
            (Product::StoredValue(_), ..) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a stored-value request names an `amount` of face value, and nothing else",
                )
            }
            (Product::Sessions(_), ..) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a session request names a number of `units`, and nothing else",
                )
            }
            (Product::Plan(_), ..) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a plan request names a `stage` (its index), and nothing else",
                )
            }
            (Product::Membership(_), ..) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a membership accrues with time; the merchant makes no requests",
                )
            }
        };
        if units == 0 {
            return reject(ErrorCode::BadQuantity, "a request must consume something");
        }
        Ok(units)
    }
}

/// What a request asks of a product: exactly one of these fits it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// Sessions (`sessions` products).
    pub units: Option<u64>,
    /// Face amount (`stored_value` products).
    pub amount: Option<Amount>,
    /// A stage, by index from 0 (`plan` products).
    pub stage: Option<u32>,
}

/// Whether `name` is a stage name the state can hold at its stated size: 1 to
/// [`MAX_STAGE_NAME_LEN`] bytes, nothing JSON must escape (an escaped character takes up to
/// six bytes, and decoding one costs far more fuel).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_STAGE_NAME_LEN
        && !name.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

impl Plan {
    /// The sum of the stage amounts, if in range.
    fn total(&self) -> Option<Amount> {
        self.stages
            .iter()
            .try_fold(Amount::ZERO, |total, stage| total.checked_add(stage.amount))
    }
}
