//! Product kinds and their terms, fixed at purchase.
//!
//! Every product is counted in units, so one set of rules serves them all: stored value
//! (金额卡) counts fen of face value, a session pack (次卡) counts sessions.

use serde::{Deserialize, Serialize};

use crate::error::{reject, ContractError, ErrorCode};
use crate::event::Request;
use crate::money::Amount;

/// The terms of a product.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Product {
    /// `price` buys `face_value` >= `price` to spend (the difference is a bonus).
    StoredValue(StoredValue),
    /// `sessions` sessions for `price`; `list_price` is the undiscounted price of one.
    Sessions(Sessions),
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

impl Product {
    /// The product kind's name.
    pub fn kind(&self) -> &'static str {
        match self {
            Product::StoredValue(_) => "stored_value",
            Product::Sessions(_) => "sessions",
        }
    }

    /// What the consumer pays.
    pub fn price(&self) -> Amount {
        match self {
            Product::StoredValue(terms) => terms.price,
            Product::Sessions(terms) => terms.price,
        }
    }

    /// How many units the product holds.
    pub fn total_units(&self) -> u64 {
        match self {
            Product::StoredValue(terms) => terms.face_value.fen(),
            Product::Sessions(terms) => terms.sessions,
        }
    }

    /// Rejects terms that cannot be honoured or valued.
    pub fn validate(&self) -> Result<(), ContractError> {
        if self.price().is_zero() {
            return reject(ErrorCode::InvalidTerms, "the price must be above zero");
        }
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
            _ => Ok(()),
        }
    }

    /// The units a request asks for: the quantity that fits the product, above zero.
    pub fn requested_units(&self, request: &Request) -> Result<u64, ContractError> {
        let units = match (self, request.units, request.amount) {
            (Product::StoredValue(_), None, Some(amount)) => amount.fen(),
            (Product::Sessions(_), Some(units), None) => units,
            (Product::StoredValue(_), _, _) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a stored-value request names an `amount` of face value, and nothing else",
                )
            }
            (Product::Sessions(_), _, _) => {
                return reject(
                    ErrorCode::BadQuantity,
                    "a session request names a number of `units`, and nothing else",
                )
            }
        };
        if units == 0 {
            return reject(ErrorCode::BadQuantity, "a request must consume something");
        }
        Ok(units)
    }
}
