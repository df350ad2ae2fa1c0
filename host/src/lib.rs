//! The host runtime for the prepaid-funds contract: it keeps wallets of consumers' frozen
//! prepayments, runs every event through the WebAssembly component each wallet was opened
//! with, journals every outcome in a hash chain, and replays any history to the fen.
//!
//! The few types an embedder needs:
//! - [`Ledger`]: wallets over a store; `install` a component, `submit` signed events (from
//!   any number of threads) stamped with the platform's [`Clock`], with money only from
//!   the payment rail ([`Funding`]: an `open` awaits its price until `funded`), `tick_due` the wallets
//!   whose rules of time fall due, read wallets, `verify` by replay, drain the outbox of
//!   effects for the payment rail.
//! - [`StoreConfig`]: where the journal lives: a SQLite file (the default) or, with the
//!   `postgres` feature, a PostgreSQL database that several hosts share.
//! - [`ContractEngine`]: wasmtime configured for deterministic execution, optionally with
//!   an on-disk cache of compiled components.
//! - [`Envelope`]: an event as a client sends it, signed by whoever's authority it carries.
//! - [`Trust`]: the platform's trust file, naming the regulators whose approval an `open`
//!   may carry and the components wallets may open on (`Ledger::with_trust`).
//! - [`Platform`] (`ledger.platform()`): the supervision platform's duties beside the
//!   wallets: the [`registry`] of merchants, reviewed listings and closures
//!   (`Ledger::with_registry` sells only approved listings, and the journal remembers it),
//!   closures applied on their date, notices and webhook deliveries, and the regulator's
//!   figures ([`stats`]) and risk alerts ([`alerts`]).
//! - [`signed`]: what the platform signs with its key, a [`signed::Receipt`] per journaled
//!   entry and a [`signed::Checkpoint`] of every wallet's head, which `verify` holds a
//!   journal to ([`verify::Checks`]).
//! - [`Error`]: what a caller branches on (`Refused`, `Conflict`, `UnknownEffect`, `Fault`);
//!   it and [`RefusalCode`] are `#[non_exhaustive]`, so a match keeps a last arm for what a
//!   later version adds.
//!
//! The modules stand on floors, each using only those below it (docs/DESIGN.md §2): the
//! journal's rows ([`journal`]) at the bottom, what is signed, told and trusted above them,
//! the platform's registry and figures, the [`store`] that persists all of these, then
//! replay ([`verify`]), the [`Ledger`], the [`Platform`] beside its wallets, and the HTTP
//! service on top.
//!
//! Features: `postgres` (the PostgreSQL store), `service` (the HTTP API of `prepaid serve`),
//! `testkit` (the contract authors' kit: a test clock, scenario files, golden traces).
//!
//! ```
//! use prepaid_host::{keys, ContractEngine, Envelope, Ledger, StoreConfig};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let ledger = Ledger::open(StoreConfig::Sqlite(dir.path().join("journal.db")), ContractEngine::new()?)?;
//! ledger.install(&std::fs::read(prepaid_host::component_path())?)?;
//!
//! // A consumer buys ten sessions; the regulator approved the terms. The price counts once
//! // the payment rail reports it.
//! let (consumer, merchant, regulator) = (keys::generate_key()?, keys::generate_key()?, keys::generate_key()?);
//! let mut open: Envelope = serde_json::from_value(serde_json::json!({
//!     "wallet": "w1", "id": "open",
//!     "event": {"type": "open",
//!               "consumer": keys::public_key(&consumer).to_string(),
//!               "merchant": keys::public_key(&merchant).to_string(),
//!               "regulator": keys::public_key(&regulator).to_string(),
//!               "product": {"kind": "sessions", "sessions": 10, "price": "2400.00", "list_price": "300.00"},
//!               "policy": {"cooling_off_days": 7, "deemed_confirm_days": 0},
//!               "awaiting_funding": true}}))?;
//! open.approve(&regulator)?;
//! open.sign(&consumer)?;
//!
//! // The ledger stamps the event with its own clock: no caller chooses the time.
//! let submitted = ledger.submit(&open)?;
//! assert!(submitted.verdict.ok);
//! assert_eq!(ledger.view("w1")?.unwrap().frozen, "0.00");
//!
//! // The payment adapter reports the consumer's payment (unsigned: the platform's word).
//! let funded: Envelope = serde_json::from_value(serde_json::json!({
//!     "wallet": "w1", "id": "funded",
//!     "event": {"type": "funded", "reference": "RAIL-0001", "amount": "2400.00",
//!               "payer": keys::public_key(&consumer).to_string()}}))?;
//! assert!(ledger.submit(&funded)?.verdict.ok);
//! assert_eq!(ledger.view("w1")?.unwrap().frozen, "2400.00");
//! assert!(ledger.verify()?.is_clean());
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod alerts;
pub mod claims;
pub mod clock;
mod contracts;
pub mod disputes;
pub mod engine;
pub mod envelope;
mod error;
pub mod holidays;
pub mod journal;
pub mod keys;
mod ledger;
mod native;
pub mod notices;
pub mod outcome;
pub mod plan;
mod platform;
pub mod reconcile;
pub mod registry;
mod rules;
#[cfg(feature = "service")]
pub mod service;
pub mod signed;
pub mod stats;
pub mod store;
#[cfg(feature = "testkit")]
pub mod testkit;
mod text;
pub mod trust;
pub mod verify;
pub mod webhooks;

use std::path::{Path, PathBuf};

pub use clock::Clock;
pub use contracts::Contracts;
pub use engine::ContractEngine;
pub use envelope::Envelope;
pub use error::{Error, Refusal, RefusalCode, Result};
pub use ledger::{
    Claim, DryRun, Funding, Ledger, Migrated, Submitted, WaitingMigration, Wallet, DEFAULT_MAX_CONNECTIONS,
};
pub use native::NativeRules;
pub use platform::{ClosureProgress, Platform};
pub use rules::Rules;
pub use store::StoreConfig;
pub use trust::Trust;
pub use verify::Report;

/// The contract component a development checkout runs: `PREPAID_COMPONENT` when set, else
/// where `cargo xtask contract` writes it.
pub fn component_path() -> PathBuf {
    std::env::var_os("PREPAID_COMPONENT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/contract/prepaid_contract.wasm"))
}
