//! The freeze-release-refund contract for prepaid consumer funds.
//!
//! A consumer prepays a merchant; the money stays frozen in the consumer's wallet, each
//! consumption the consumer authorizes releases its share to the merchant, and the consumer
//! can take the unconsumed balance back at any time. These are the rules, as plain Rust
//! with no I/O, clock, randomness or floats, so they compile natively (the oracle for
//! differential tests) and to a WebAssembly component (what hosts run and auditors replay).
//!
//! Where the rules are, one module per family:
//! - [`products`]: product kinds and their terms;
//! - [`valuation`]: what consumption is worth, at the paid rate and at the list price;
//! - [`refunds`]: the refund rule, inside and after the cooling-off period;
//! - [`claims`]: what an ending gives the consumer beyond what is frozen, owed by the
//!   merchant;
//! - [`authorization`]: who signs what, and the canonical signed messages;
//! - [`policy`]: the per-wallet regional policy (cooling-off, price cap);
//! - [`time`]: deemed confirmation, membership accrual, expiry;
//! - [`disputes`]: disputes of requests or a wallet, rulings, and the default ruling;
//! - [`rules`]: the transitions event by event;
//! - [`migration`]: a wallet moving onto this component under its regulator's signature.
//!
//! ```
//! # #[cfg(feature = "native")] {
//! use prepaid_contract::{money::Amount, products::{Product, StoredValue}, valuation::paid_rate_value};
//! let card = Product::StoredValue(StoredValue {
//!     price: Amount::parse("1000.00").unwrap(),
//!     face_value: Amount::parse("1200.00").unwrap(),
//! });
//! // Spending 100.00 of face value releases 100 * 1000 / 1200 = 83.33 to the merchant.
//! assert_eq!(paid_rate_value(&card, Amount::parse("100.00").unwrap().fen()).to_string(), "83.33");
//! # }
//! ```

#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod authorization;
pub mod claims;
pub mod crypto;
pub mod disputes;
pub mod effects;
pub mod error;
pub mod event;
pub mod keys;
pub mod migration;
pub mod money;
pub mod policy;
pub mod products;
pub mod refunds;
pub mod rules;
pub mod state;
pub mod time;
pub mod valuation;
pub mod view;

#[cfg(target_arch = "wasm32")]
mod arena;
#[cfg(target_arch = "wasm32")]
mod component;
#[cfg(test)]
mod test_support;

pub use crypto::Crypto;
#[cfg(feature = "native")]
pub use crypto::NativeCrypto;
pub use effects::{Effect, EffectKind};
pub use error::{ContractError, ErrorCode};
pub use event::{Context, Event};
pub use migration::migrate;
pub use rules::{apply, Applied};
pub use view::{details, view, Details, View};
