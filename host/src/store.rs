//! The store interface: where the journal, the wallets' heads, the components and the
//! outbox live. [`crate::journal::Journal`] keeps them in one SQLite file (the default);
//! [`crate::postgres::PgStore`] in a PostgreSQL database that several hosts share.
//!
//! Per-wallet order is the store's job, not the caller's: an entry is written only as the
//! next seq of its wallet, and a second writer racing for the same seq (or the same event
//! id) gets a [`Conflict`], re-reads the head and tries again. No lock outside the database
//! is needed for correctness, so any number of processes may write to one store.

use std::time::Duration;

use anyhow::Result;
use serde::Serialize;

use crate::outcome::{sha256_hex, EffectRecord};

/// The `prev_hash` of a wallet's first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One journal entry: an event and what it did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// The wallet.
    pub wallet: String,
    /// The entry's position in the wallet's journal, from 1.
    pub seq: u64,
    /// The event's id.
    pub event_id: String,
    /// The event as received (raw event JSON).
    pub event: String,
    /// The platform's timestamp (RFC 3339).
    pub at: String,
    /// The code hash of the component that ran it.
    pub code_hash: String,
    /// The verdict (JSON: ok, error, effects).
    pub outcome: String,
    /// Fuel used.
    pub fuel: u64,
    /// The version of the execution limits (fuel, memory, output) it ran under.
    pub limits: u32,
    /// The hash of the wallet's state after the event.
    pub state_hash: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// The hash of all of the above.
    pub entry_hash: String,
}

impl Entry {
    /// The hash of every field but `entry_hash` itself, chaining to `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let fields = (
            &self.wallet,
            self.seq,
            &self.event_id,
            &self.event,
            &self.at,
            &self.code_hash,
            &self.outcome,
            self.fuel,
            self.limits,
            &self.state_hash,
            &self.prev_hash,
        );
        sha256_hex(&serde_json::to_vec(&fields).expect("entries always serialize"))
    }

    /// The stable id of the entry's `index`-th effect in the outbox.
    pub fn effect_id(&self, index: usize) -> String {
        format!("{}:{}:{index}", self.wallet, self.seq)
    }
}

/// A wallet's current head: its pinned code, latest state and latest entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletHead {
    /// The wallet.
    pub wallet: String,
    /// The code hash the wallet was opened with, which it runs forever.
    pub code_hash: String,
    /// The seq of its latest entry.
    pub seq: u64,
    /// Its state (none until an `open` is accepted).
    pub state: Option<Vec<u8>>,
    /// The hash of its state.
    pub state_hash: String,
    /// The hash of its latest entry.
    pub head_hash: String,
}

/// An effect waiting in the outbox for the payment rail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OutboxEffect {
    /// A stable id: `wallet:seq:index`. Acknowledging it twice is harmless.
    pub effect_id: String,
    /// The wallet.
    pub wallet: String,
    /// The journal entry that produced it.
    pub seq: u64,
    /// `release` or `refund`.
    pub kind: String,
    /// The recipient's public key (hex).
    pub to: String,
    /// The amount, two decimals.
    pub amount: String,
    /// Why.
    pub reason: String,
}

/// Another writer recorded the wallet's next entry (or the same event id) first. Nothing
/// was written; read the head again and retry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The wallet raced for.
    pub wallet: String,
    /// The seq this writer tried to record.
    pub seq: u64,
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "another writer recorded entry {} of wallet {} first",
            self.seq, self.wallet
        )
    }
}

impl std::error::Error for Conflict {}

/// An acknowledgement named an effect the outbox does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownEffect(pub String);

impl std::fmt::Display for UnknownEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no effect {} in the outbox", self.0)
    }
}

impl std::error::Error for UnknownEffect {}

/// Where a ledger keeps everything. Reads take `&self`; writes take `&mut self` and are
/// each one transaction (or part of an open batch, where the store has them).
pub trait Store: Send {
    /// Stores a component under its code hash (once).
    fn put_component(&mut self, code_hash: &str, bytes: &[u8]) -> Result<()>;

    /// The component stored under `code_hash`.
    fn component(&self, code_hash: &str) -> Result<Option<Vec<u8>>>;

    /// Every stored component: code hash and bytes, by code hash.
    fn components(&self) -> Result<Vec<(String, Vec<u8>)>>;

    /// The head of `wallet`, if it has any entry.
    fn wallet(&self, wallet: &str) -> Result<Option<WalletHead>>;

    /// The ids of every wallet, in order.
    fn wallets(&self) -> Result<Vec<String>>;

    /// The entry of `wallet` for `event_id`, if one was recorded.
    fn entry_by_event_id(&self, wallet: &str, event_id: &str) -> Result<Option<Entry>>;

    /// Every entry of `wallet`, in order.
    fn entries(&self, wallet: &str) -> Result<Vec<Entry>>;

    /// Appends `entry` as the next of its wallet, moves the wallet's head to it and puts
    /// `effects` in the outbox, all at once. `state` is the wallet's state after the entry.
    /// Fails with [`Conflict`] (writing nothing) when the entry's seq or event id is
    /// already taken.
    fn append(&mut self, entry: &Entry, state: Option<&[u8]>, effects: &[EffectRecord]) -> Result<()>;

    /// Up to `limit` effects not yet acknowledged, oldest entry first, claimed or not.
    fn pending_effects(&self, limit: usize) -> Result<Vec<OutboxEffect>>;

    /// Claims up to `limit` unacknowledged effects that no one else holds a live claim on,
    /// for `lease`: several payment adapters can claim at once and never get the same
    /// effect while its lease runs. An adapter that dies lets its claims lapse.
    fn claim_effects(&mut self, claimant: &str, limit: usize, lease: Duration) -> Result<Vec<OutboxEffect>>;

    /// Marks effects as carried out by the payment rail. An unknown id is an
    /// [`UnknownEffect`] and acknowledges nothing; acknowledging an effect again is harmless.
    fn ack_effects(&mut self, effect_ids: &[String]) -> Result<()>;

    /// Whether the store takes one write at a time whatever the number of connections
    /// (SQLite): a pool then lets its connections write one after another instead of
    /// having them poll the store's lock, whose waits are long and unfair.
    fn one_writer_at_a_time(&self) -> bool {
        false
    }

    /// Whether the connection is gone for good (a pool then opens a new one).
    fn is_broken(&self) -> bool {
        false
    }
}

/// Seconds since the Unix epoch, for claim leases (the host's clock: leases are not part
/// of any wallet's history).
pub(crate) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX))
}
