//! The host runtime for the prepaid-funds contract.
//!
//! - [`engine`]: wasmtime configured for determinism; loads and runs the component.
//! - [`native`]: the same rules compiled natively, the oracle for differential tests.
//! - [`journal`]: the SQLite journal of every event, hash-chained.
//! - [`ledger`]: applies events to wallets through their pinned component and journals them.
//! - [`verify`]: replays a journal and names the first divergence.
//! - [`raw_event`], [`keys`], [`scenario`]: events as clients send them, keys and signing,
//!   and scenario files.

pub mod bench;
pub mod engine;
pub mod journal;
pub mod keys;
pub mod ledger;
pub mod native;
pub mod outcome;
pub mod raw_event;
pub mod rules;
pub mod scenario;
pub mod shared;
pub mod snapshot;
pub mod testkit;
pub mod verify;
