//! The host runtime for the prepaid-funds contract.
//!
//! - [`engine`]: wasmtime configured for determinism; loads and runs the component.
//! - [`native`]: the same rules compiled natively, the oracle for differential tests.
//! - [`store`]: where the journal lives, behind one interface: [`journal`] (SQLite, the
//!   default) or [`postgres`] (a database several hosts share).
//! - [`journal`]: the SQLite journal of every event, hash-chained.
//! - [`ledger`]: applies events to wallets through their pinned component and journals them.
//! - [`pooled`]: a ledger many threads and processes submit to at once, over any store.
//! - [`service`]: `prepaid serve`, the HTTP API over a pooled ledger.
//! - [`verify`]: replays a journal and names the first divergence.
//! - [`raw_event`], [`keys`], [`scenario`]: events as clients send them, keys and signing,
//!   and scenario files.

pub mod bench;
pub mod engine;
pub mod journal;
pub mod keys;
pub mod ledger;
pub mod loadtest;
pub mod native;
pub mod outcome;
pub mod pooled;
pub mod postgres;
pub mod raw_event;
pub mod rules;
pub mod scenario;
pub mod service;
pub mod shared;
pub mod snapshot;
pub mod store;
pub mod testkit;
pub mod verify;
